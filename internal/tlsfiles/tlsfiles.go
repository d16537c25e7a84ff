// Package tlsfiles turns certificate and key files into TLS configurations
// for medid's servers and clients, with one policy for both:
//
//   - TLS 1.2 at least; TLS 1.2 only with ECDHE key exchange and AEAD
//     ciphers (TLS 1.3 suites are all modern and not configurable).
//   - A private key file must not be readable by group or others (mode
//     0600 or stricter): a key anyone on the machine can read is refused,
//     with the chmod that fixes it.
//   - A server reloads its certificate, key and client CA when their files
//     change (checked at most once a second, on a handshake), so a renewed
//     certificate takes effect without a restart. A reload that fails (a
//     half-written file, a key that no longer matches) keeps the previous,
//     valid material and reports the error to the logger.
//
// # Mutual TLS
//
// With [Server.ClientCA] set, the server asks every client for a
// certificate and verifies any it is given against that CA, but does not
// demand one at the TLS layer: patients' wallets have no certificate.
// Which HTTP routes require a verified client certificate is decided per
// route (see internal/httpserver.RequireClientCert).
//
// [DevCerts] writes a throwaway CA, a server certificate and a client
// certificate for tests and local runs ("medid tls dev-cert").
package tlsfiles

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// MinVersion is the oldest protocol version medid speaks.
const MinVersion = tls.VersionTLS12

// CipherSuites are the TLS 1.2 suites medid accepts: forward-secret key
// exchange (ECDHE) and authenticated encryption only. TLS 1.3 suites are
// fixed by crypto/tls and all qualify.
var CipherSuites = []uint16{
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
}

// nextProtos is what a server offers in ALPN: medid's servers speak
// HTTP/1.1 only (internal/httpserver explains why), so a client that would
// prefer HTTP/2 falls back instead of being cut off.
var nextProtos = []string{"http/1.1"}

// ErrKeyMode is returned (wrapped) for a private key file that group or
// others may read.
var ErrKeyMode = errors.New("private key file is readable by others")

// reloadEvery bounds how often a server looks at its files' modification
// times (one stat per file per interval, on a handshake).
const reloadEvery = time.Second

// CheckKeyFile refuses a private key file whose mode lets group or others
// read or write it. It returns ErrKeyMode (wrapped, naming the file, its
// mode and the fix) or the stat error.
func CheckKeyFile(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("key file: %w", err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("%w: %s has mode %v; run: chmod 600 %s", ErrKeyMode, path, st.Mode().Perm(), path)
	}
	return nil
}

// LoadKeyPair loads a PEM certificate chain and its private key, refusing
// a key file others may read ([CheckKeyFile]).
func LoadKeyPair(certFile, keyFile string) (tls.Certificate, error) {
	if err := CheckKeyFile(keyFile); err != nil {
		return tls.Certificate{}, err
	}
	c, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("certificate %s and key %s: %w", certFile, keyFile, err)
	}
	if c.Leaf == nil && len(c.Certificate) > 0 {
		c.Leaf, _ = x509.ParseCertificate(c.Certificate[0])
	}
	return c, nil
}

// LoadPool reads one or more PEM CA certificates into a new pool. A file
// with no certificate is an error, so a wrong path or a key file given by
// mistake is reported rather than trusting nothing.
func LoadPool(path string) (*x509.CertPool, error) {
	pool := x509.NewCertPool()
	if err := appendPEM(pool, path); err != nil {
		return nil, err
	}
	return pool, nil
}

// appendPEM adds the certificates of a PEM file to pool.
func appendPEM(pool *x509.CertPool, path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("CA file: %w", err)
	}
	n := 0
	for rest := b; ; {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil {
			break
		}
		if blk.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return fmt.Errorf("CA file %s: %w", path, err)
		}
		pool.AddCert(c)
		n++
	}
	if n == 0 {
		return fmt.Errorf("CA file %s holds no PEM certificate", path)
	}
	return nil
}

// Server names a server's TLS files. Cert and Key are required; ClientCA
// turns on mutual TLS (see the package documentation).
type Server struct {
	Cert     string // PEM certificate chain, leaf first
	Key      string // PEM private key, mode 0600
	ClientCA string // PEM CA certificates that issue client certificates; "" = no mutual TLS
	// Logger receives reloads and failed reloads; nil = slog.Default().
	Logger *slog.Logger
}

// Enabled reports whether TLS was asked for (a certificate or a key
// named). A half-given pair is reported by [Server.Config].
func (s Server) Enabled() bool { return s.Cert != "" || s.Key != "" || s.ClientCA != "" }

// Config loads the files and returns a server TLS configuration that
// reloads them on change. It fails, naming the file and the fix, when a
// file is missing or unreadable, the key is readable by others, the key
// does not match the certificate, or the CA file holds no certificate.
func (s Server) Config() (*tls.Config, error) {
	if s.Cert == "" || s.Key == "" {
		return nil, errors.New("TLS needs both a certificate file and a key file (--tls-cert FILE --tls-key FILE)")
	}
	r := &reloader{files: s, log: s.Logger}
	if r.log == nil {
		r.log = slog.Default()
	}
	snap, err := r.load()
	if err != nil {
		return nil, err
	}
	r.snap = snap
	r.checked = time.Now()
	// The outer configuration only dispatches to the current snapshot; the
	// snapshot carries the certificate and the client CA pool, so both
	// change together on a reload.
	return &tls.Config{
		MinVersion:         MinVersion,
		CipherSuites:       CipherSuites,
		NextProtos:         nextProtos,
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) { return r.current(), nil },
	}, nil
}

// reloader holds the current TLS material of a server.
type reloader struct {
	files Server
	log   *slog.Logger

	mu      sync.Mutex // guards snap, stamps, checked
	snap    *tls.Config
	stamps  []stamp
	checked time.Time
}

// stamp identifies a version of a file.
type stamp struct {
	mod  time.Time
	size int64
	ok   bool
}

func (r *reloader) paths() []string {
	p := []string{r.files.Cert, r.files.Key}
	if r.files.ClientCA != "" {
		p = append(p, r.files.ClientCA)
	}
	return p
}

func (r *reloader) stampsNow() []stamp {
	var out []stamp
	for _, p := range r.paths() {
		st, err := os.Stat(p)
		if err != nil {
			out = append(out, stamp{})
			continue
		}
		out = append(out, stamp{mod: st.ModTime(), size: st.Size(), ok: true})
	}
	return out
}

// load reads the files into a snapshot configuration.
func (r *reloader) load() (*tls.Config, error) {
	stamps := r.stampsNow()
	cert, err := LoadKeyPair(r.files.Cert, r.files.Key)
	if err != nil {
		return nil, err
	}
	c := &tls.Config{
		MinVersion:   MinVersion,
		CipherSuites: CipherSuites,
		NextProtos:   nextProtos,
		Certificates: []tls.Certificate{cert},
	}
	if r.files.ClientCA != "" {
		pool, err := LoadPool(r.files.ClientCA)
		if err != nil {
			return nil, err
		}
		c.ClientCAs = pool
		c.ClientAuth = tls.VerifyClientCertIfGiven
	}
	r.stamps = stamps
	return c, nil
}

// current returns the snapshot, reloading it first when a file changed
// since the last look (at most once per reloadEvery).
func (r *reloader) current() *tls.Config {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := time.Now()
	if now.Sub(r.checked) < reloadEvery {
		return r.snap
	}
	r.checked = now
	if equalStamps(r.stampsNow(), r.stamps) {
		return r.snap
	}
	snap, err := r.load()
	if err != nil {
		// Keep serving with the previous, valid material; try again once
		// the files change again.
		r.stamps = r.stampsNow()
		r.log.Error("TLS files changed but cannot be loaded; still serving the previous certificate", "err", err)
		return r.snap
	}
	r.snap = snap
	r.log.Info("TLS certificate reloaded", "cert", r.files.Cert, "not_after", notAfter(snap))
	return r.snap
}

func equalStamps(a, b []stamp) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].ok != b[i].ok || a[i].size != b[i].size || !a[i].mod.Equal(b[i].mod) {
			return false
		}
	}
	return true
}

func notAfter(c *tls.Config) time.Time {
	if len(c.Certificates) == 0 || c.Certificates[0].Leaf == nil {
		return time.Time{}
	}
	return c.Certificates[0].Leaf.NotAfter
}

// Client names a client's TLS files: a CA to trust besides the system's
// roots and, for mutual TLS, a client certificate and key. The zero value
// is a client of public https servers only.
type Client struct {
	CA   string // PEM CA certificates to trust, in addition to the system roots
	Cert string // PEM client certificate chain (mutual TLS)
	Key  string // its private key, mode 0600
}

// Config returns the client TLS configuration, or nil for the zero
// Client (the Go defaults: system roots). Errors name the file and the fix.
func (c Client) Config() (*tls.Config, error) {
	if c == (Client{}) {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: MinVersion, CipherSuites: CipherSuites}
	if c.CA != "" {
		// A private CA is trusted in addition to the system roots, so one
		// client can talk to a hospital's node and to public services.
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if err := appendPEM(pool, c.CA); err != nil {
			return nil, err
		}
		cfg.RootCAs = pool
	}
	if c.Cert != "" || c.Key != "" {
		if c.Cert == "" || c.Key == "" {
			return nil, errors.New("a client certificate needs both the certificate file and its key file")
		}
		kp, err := LoadKeyPair(c.Cert, c.Key)
		if err != nil {
			return nil, err
		}
		cfg.Certificates = []tls.Certificate{kp}
	}
	return cfg, nil
}
