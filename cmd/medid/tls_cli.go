package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/medid/medid/internal/httpserver"
	"github.com/medid/medid/internal/tlsfiles"
)

// medid tls: TLS material for running medid's services over https.
//
//	medid tls dev-cert --out DIR [--host NAME]... [--client NAME]
//
// Every command that talks to a service (registry, vault, issuer,
// verifier) trusts the system's CAs and, in addition, the CA of --ca FILE
// (or $MEDID_CA); with --client-cert FILE --client-key FILE (or
// $MEDID_CLIENT_CERT, $MEDID_CLIENT_KEY) it presents a client certificate
// for services that run with mutual TLS.
func init() {
	commands["tls"] = command{summary: "make a throwaway CA and certificates for running over https locally", run: runTLS}
}

func runTLS(ctx context.Context, e *env, args []string) error {
	return subcommand(e, "tls", map[string]func([]string) error{
		"dev-cert": func(a []string) error { return tlsDevCert(e, a) },
	}, []string{"dev-cert"}, args)
}

func tlsDevCert(e *env, args []string) error {
	fs := newFlagSet(e, "tls dev-cert", "medid tls dev-cert --out DIR [--host NAME]... [--client NAME] [--valid-for 720h]")
	out := fs.String("out", "", "folder for ca.pem, ca.key, server.pem, server.key, client.pem, client.key (created 0700)")
	var hosts stringList
	fs.Var(&hosts, "host", "DNS name or IP address of the server (repeatable; default: localhost, 127.0.0.1, ::1)")
	clientName := fs.String("client", "", "common name of the client certificate (default: medid dev client)")
	validFor := fs.Duration("valid-for", 30*24*time.Hour, "lifetime of the certificates")
	if err := fs.parseNone(args); err != nil {
		return err
	}
	if err := fs.required("out"); err != nil {
		return err
	}
	files, err := tlsfiles.DevCerts(tlsfiles.DevCertConfig{Dir: *out, Hosts: hosts, Client: *clientName, ValidFor: *validFor})
	if err != nil {
		return usagef("%v", err)
	}
	fmt.Fprintln(e.stdout, "wrote a throwaway CA and certificates (for tests and local runs only):")
	for _, f := range files {
		fmt.Fprintf(e.stdout, "  %s\n", f)
	}
	n := tlsfiles.DevCertNames
	fmt.Fprintf(e.stdout, "serve with:  --tls-cert %s/%s --tls-key %s/%s [--tls-client-ca %s/%s]\n", *out, n.Cert, *out, n.Key, *out, n.CA)
	fmt.Fprintf(e.stdout, "clients:     MEDID_CA=%s/%s [MEDID_CLIENT_CERT=%s/%s MEDID_CLIENT_KEY=%s/%s]\n", *out, n.CA, *out, n.ClientCert, *out, n.ClientKey)
	return nil
}

// tlsClientFlags are the flags every command accepts for reaching
// services over https with a private CA or a client certificate; empty
// flags fall back to $MEDID_CA, $MEDID_CLIENT_CERT, $MEDID_CLIENT_KEY.
type tlsClientFlags struct {
	ca, cert, key string
}

// register adds --ca, --client-cert and --client-key to fs.
func (t *tlsClientFlags) register(fs *flagSet) {
	fs.StringVar(&t.ca, "ca", "", "PEM CA to trust for https services besides the system's (default: $MEDID_CA)")
	fs.StringVar(&t.cert, "client-cert", "", "PEM client certificate for services with mutual TLS (default: $MEDID_CLIENT_CERT)")
	fs.StringVar(&t.key, "client-key", "", "its private key, mode 0600 (default: $MEDID_CLIENT_KEY)")
}

// httpClient returns the client every request of this command goes
// through: a 30 s timeout, the system's roots plus --ca, and the client
// certificate when one is given. A bad CA or key file is a usage error.
func (e *env) httpClient() (*http.Client, error) {
	if e.hc != nil {
		return e.hc, nil
	}
	pick := func(flag, envVar string) string {
		if flag != "" {
			return flag
		}
		return strings.TrimSpace(e.getenv(envVar))
	}
	c := tlsfiles.Client{CA: pick(e.tls.ca, "MEDID_CA"), Cert: pick(e.tls.cert, "MEDID_CLIENT_CERT"), Key: pick(e.tls.key, "MEDID_CLIENT_KEY")}
	cfg, err := c.Config()
	if err != nil {
		return nil, usagef("TLS client: %v (see --ca, --client-cert, --client-key)", err)
	}
	e.hc = httpserver.NewClient(30*time.Second, cfg)
	return e.hc, nil
}
