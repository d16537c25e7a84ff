package tlsfiles

import (
	"crypto/x509"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDevCerts(t *testing.T) {
	dir := t.TempDir()
	files, err := DevCerts(DevCertConfig{Dir: dir, Hosts: []string{"node.example", "127.0.0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 6 {
		t.Fatalf("wrote %d files, want 6", len(files))
	}
	n := DevCertNames
	for _, f := range []string{n.CAKey, n.Key, n.ClientKey} {
		st, err := os.Stat(filepath.Join(dir, f))
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v mode %v, want 0600", f, err, st.Mode().Perm())
		}
	}
	pool, err := LoadPool(filepath.Join(dir, n.CA))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := LoadKeyPair(filepath.Join(dir, n.Cert), filepath.Join(dir, n.Key))
	if err != nil {
		t.Fatal(err)
	}
	for _, host := range []string{"node.example", "127.0.0.1"} {
		if _, err := srv.Leaf.Verify(x509.VerifyOptions{Roots: pool, DNSName: host}); err != nil {
			t.Errorf("server certificate for %s: %v", host, err)
		}
	}
	cli, err := LoadKeyPair(filepath.Join(dir, n.ClientCert), filepath.Join(dir, n.ClientKey))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cli.Leaf.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("client certificate: %v", err)
	}
	if _, err := DevCerts(DevCertConfig{Dir: dir}); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("second DevCerts into the same folder: %v, want 'already exists'", err)
	}
}

func TestFileErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := DevCerts(DevCertConfig{Dir: dir}); err != nil {
		t.Fatal(err)
	}
	n := DevCertNames
	p := func(f string) string { return filepath.Join(dir, f) }
	loose := p("loose.key")
	b, _ := os.ReadFile(p(n.Key))
	if err := os.WriteFile(loose, b, 0o640); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"key readable by group", func() error { _, err := LoadKeyPair(p(n.Cert), loose); return err }(), "chmod 600"},
		{"missing key", func() error { _, err := LoadKeyPair(p(n.Cert), p("nope.key")); return err }(), "no such file"},
		{"key of another certificate", func() error { _, err := LoadKeyPair(p(n.Cert), p(n.ClientKey)); return err }(), "private key does not match"},
		{"CA file without certificate", func() error { _, err := LoadPool(p(n.Key)); return err }(), "holds no PEM certificate"},
		{"client cert without key", func() error { _, err := Client{Cert: p(n.ClientCert)}.Config(); return err }(), "needs both"},
		{"server without key", func() error { _, err := Server{Cert: p(n.Cert)}.Config(); return err }(), "--tls-key"},
		{"server with a bad client CA", func() error {
			_, err := Server{Cert: p(n.Cert), Key: p(n.Key), ClientCA: p(n.Key)}.Config()
			return err
		}(), "holds no PEM certificate"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.err == nil || !strings.Contains(tc.err.Error(), tc.want) {
				t.Errorf("err = %v, want one containing %q", tc.err, tc.want)
			}
		})
	}
	if _, err := LoadKeyPair(p(n.Cert), loose); !errors.Is(err, ErrKeyMode) {
		t.Errorf("loose key: %v, want ErrKeyMode", err)
	}
	if c, err := (Client{}).Config(); c != nil || err != nil {
		t.Errorf("zero Client: %v %v, want nil nil", c, err)
	}
}
