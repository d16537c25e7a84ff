package tlsfiles

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/medid/medid/internal/atomicfile"
)

// DevCertNames are the files [DevCerts] writes into its folder.
var DevCertNames = struct{ CA, CAKey, Cert, Key, ClientCert, ClientKey string }{
	CA: "ca.pem", CAKey: "ca.key", Cert: "server.pem", Key: "server.key", ClientCert: "client.pem", ClientKey: "client.key",
}

// DevCertConfig configures [DevCerts].
type DevCertConfig struct {
	// Dir receives the files (created 0700 if missing). Existing files are
	// never overwritten: DevCerts fails naming the first one.
	Dir string
	// Hosts are the DNS names and IP addresses the server certificate is
	// valid for; empty means localhost, 127.0.0.1 and ::1.
	Hosts []string
	// Client is the subject common name of the client certificate (for
	// mutual TLS); "" = "medid dev client".
	Client string
	// ValidFor is the lifetime of every certificate; 0 = 30 days.
	ValidFor time.Duration
	// Now is the clock (nil = time.Now); certificates start a minute
	// before it to tolerate clock skew.
	Now func() time.Time
}

// DevCerts writes a throwaway certificate authority and a server and a
// client certificate it issued, for tests and local runs: never for
// production, where the hospital's PKI issues certificates. Keys are ECDSA
// P-256, written mode 0600 with O_EXCL. It returns the paths written.
func DevCerts(c DevCertConfig) ([]string, error) {
	if c.Dir == "" {
		return nil, errors.New("DevCertConfig.Dir is required")
	}
	hosts := c.Hosts
	if len(hosts) == 0 {
		hosts = []string{"localhost", "127.0.0.1", "::1"}
	}
	client := c.Client
	if client == "" {
		client = "medid dev client"
	}
	life := c.ValidFor
	if life <= 0 {
		life = 30 * 24 * time.Hour
	}
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	if err := os.MkdirAll(c.Dir, 0o700); err != nil {
		return nil, err
	}
	n := DevCertNames
	all := []string{n.CA, n.CAKey, n.Cert, n.Key, n.ClientCert, n.ClientKey}
	for _, f := range all {
		if _, err := os.Lstat(filepath.Join(c.Dir, f)); err == nil {
			return nil, fmt.Errorf("%s already exists: choose another folder or remove the old files", filepath.Join(c.Dir, f))
		}
	}
	start := now().Add(-time.Minute)
	tmpl := func(cn string) (*x509.Certificate, error) {
		serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
		if err != nil {
			return nil, err
		}
		return &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: cn, Organization: []string{"medid development"}},
			NotBefore: start, NotAfter: start.Add(life)}, nil
	}

	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	caT, err := tmpl("medid dev CA")
	if err != nil {
		return nil, err
	}
	caT.IsCA, caT.BasicConstraintsValid, caT.MaxPathLenZero = true, true, true
	caT.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	caDER, err := x509.CreateCertificate(rand.Reader, caT, caT, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, err
	}

	leaf := func(cn string, usage x509.ExtKeyUsage, hosts []string) ([]byte, *ecdsa.PrivateKey, error) {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, nil, err
		}
		t, err := tmpl(cn)
		if err != nil {
			return nil, nil, err
		}
		t.KeyUsage = x509.KeyUsageDigitalSignature
		t.ExtKeyUsage = []x509.ExtKeyUsage{usage}
		for _, h := range hosts {
			if ip := net.ParseIP(h); ip != nil {
				t.IPAddresses = append(t.IPAddresses, ip)
			} else {
				t.DNSNames = append(t.DNSNames, h)
			}
		}
		der, err := x509.CreateCertificate(rand.Reader, t, caCert, &k.PublicKey, caKey)
		return der, k, err
	}
	srvDER, srvKey, err := leaf(hosts[0], x509.ExtKeyUsageServerAuth, hosts)
	if err != nil {
		return nil, err
	}
	cliDER, cliKey, err := leaf(client, x509.ExtKeyUsageClientAuth, nil)
	if err != nil {
		return nil, err
	}

	var written []string
	write := func(name, typ string, der []byte, mode os.FileMode) error {
		p := filepath.Join(c.Dir, name)
		b := pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
		defer clear(b) // a private key's PEM
		if err := atomicfile.Create(p, b, mode); err != nil {
			return err
		}
		written = append(written, p)
		return nil
	}
	writeKey := func(name string, k crypto.Signer) error {
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			return err
		}
		return write(name, "PRIVATE KEY", der, 0o600)
	}
	steps := []func() error{
		func() error { return write(n.CA, "CERTIFICATE", caDER, 0o644) },
		func() error { return writeKey(n.CAKey, caKey) },
		func() error { return write(n.Cert, "CERTIFICATE", srvDER, 0o644) },
		func() error { return writeKey(n.Key, srvKey) },
		func() error { return write(n.ClientCert, "CERTIFICATE", cliDER, 0o644) },
		func() error { return writeKey(n.ClientKey, cliKey) },
	}
	for _, s := range steps {
		if err := s(); err != nil {
			return written, err
		}
	}
	return written, nil
}
