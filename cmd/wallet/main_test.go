package main

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/medid/medid/internal/tlsfiles"
)

func TestConfig(t *testing.T) {
	env := map[string]string{"MEDID_WALLET": "/env/wallet", "MEDID_REGISTRY": "http://env:8080", "MEDID_VAULT": "http://vault:8080", "MEDID_WALLET_SCREEN": "consent"}
	noEnv := func(string) string { return "" }
	home := func() (string, error) { return "/home/p", nil }
	tests := []struct {
		name                        string
		args                        []string
		getenv                      func(string) string
		home                        func() (string, error)
		wantDir, wantReg, wantVault string
		wantErr                     bool
	}{
		{name: "defaults", getenv: noEnv, home: home, wantDir: "/home/p/.medid/wallet"},
		{name: "environment", getenv: func(k string) string { return env[k] }, home: home,
			wantDir: "/env/wallet", wantReg: "http://env:8080", wantVault: "http://vault:8080"},
		{name: "flags win over environment", args: []string{"--dir", "/flag", "--registry", "http://flag:1"},
			getenv: func(k string) string { return env[k] }, home: home,
			wantDir: "/flag", wantReg: "http://flag:1", wantVault: "http://vault:8080"},
		{name: "no home folder", getenv: noEnv, home: func() (string, error) { return "", errors.New("none") }, wantErr: true},
		{name: "unknown flag", args: []string{"--passphrase", "x"}, getenv: noEnv, home: home, wantErr: true},
		{name: "stray argument", args: []string{"extra"}, getenv: noEnv, home: home, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := config(tt.args, tt.getenv, tt.home)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if cfg.WalletDir != tt.wantDir || cfg.RegistryURL != tt.wantReg || cfg.VaultURL != tt.wantVault {
				t.Errorf("got dir %q registry %q vault %q, want %q %q %q", cfg.WalletDir, cfg.RegistryURL, cfg.VaultURL, tt.wantDir, tt.wantReg, tt.wantVault)
			}
		})
	}
}

// TestConfigCA: --ca (or $MEDID_CA) makes the app trust a private CA; a
// file that holds no certificate is refused.
func TestConfigCA(t *testing.T) {
	dir := t.TempDir()
	if _, err := tlsfiles.DevCerts(tlsfiles.DevCertConfig{Dir: dir}); err != nil {
		t.Fatal(err)
	}
	home := func() (string, error) { return "/home/p", nil }
	ca := filepath.Join(dir, tlsfiles.DevCertNames.CA)
	cfg, err := config([]string{"--ca", ca}, func(string) string { return "" }, home)
	if err != nil || cfg.HTTPClient == nil {
		t.Fatalf("--ca: %v, client %v", err, cfg.HTTPClient)
	}
	cfg, err = config(nil, func(k string) string { return map[string]string{"MEDID_CA": ca}[k] }, home)
	if err != nil || cfg.HTTPClient == nil {
		t.Fatalf("MEDID_CA: %v, client %v", err, cfg.HTTPClient)
	}
	if cfg, _ := config(nil, func(string) string { return "" }, home); cfg.HTTPClient != nil {
		t.Error("a client without --ca")
	}
	if _, err := config([]string{"--ca", filepath.Join(dir, tlsfiles.DevCertNames.Key)}, func(string) string { return "" }, home); err == nil {
		t.Error("a key file accepted as a CA")
	}
}
