package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/medid/medid/credentials/consent"
	"github.com/medid/medid/credentials/delegation"
	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/credentials/verify"
	"github.com/medid/medid/registry/client"
	"github.com/medid/medid/registry/directory"
	"github.com/medid/medid/registry/hospital/vault"
	"github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/machine"
	"github.com/medid/medid/registry/node"
)

// VaultKeyFile is the vault's signing key in its folder: its did:key is the
// vault's DID (the audience of requests, the signer of trail anchors, the
// provider of patients' standing break-glass grants).
const VaultKeyFile = "vault.key"

// openVault opens the record vault in dir for the node n, reading ledger
// state (DIDs, consent anchors) through the node's own registry API
// handler, in process.
func openVault(dir, writers, staff, publicURL string, registryAPI http.Handler, n *node.Node, a *machine.App, logger *slog.Logger) (*vault.Vault, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	kp := filepath.Join(dir, VaultKeyFile)
	k, err := key.LoadFile(kp)
	if errors.Is(err, os.ErrNotExist) {
		if k, err = key.Generate(key.Ed25519); err == nil {
			err = key.WriteFile(kp, k)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("vault key %s: %w", kp, err)
	}
	// The vault reads through the API handler without a connection: it
	// takes nothing from the HTTP connection budget and needs no TLS to
	// talk to its own process.
	c, err := client.New(client.Config{URL: "http://registryd.in-process", HTTPClient: &http.Client{Transport: inProcess{registryAPI}, Timeout: 30 * time.Second}})
	if err != nil {
		return nil, err
	}
	// The vault runs beside the node, so it reads consent status straight
	// from the committed state on every decision (a local tree lookup, no
	// network): a patient's revocation takes effect at the next block.
	checker, err := consent.NewChecker(consent.CheckerConfig{Keys: consent.ResolverKeys(c), Ledger: appLedger{a}, StatusTTL: -1})
	if err != nil {
		return nil, err
	}
	// Delegations (representatives acting for patients) are checked
	// against the ledger's accreditations and status lists; a status list
	// is reused for delegation.DefaultStatusTTL, so a revoked delegation
	// stops working here within 5 s of its list's publication.
	delegations, err := delegation.NewChecker(delegation.CheckerConfig{Resolver: c, Status: c, Trust: c})
	if err != nil {
		return nil, err
	}
	ws, err := didList("--vault-writers", writers)
	if err != nil {
		return nil, err
	}
	ss, err := didList("--vault-staff", staff)
	if err != nil {
		return nil, err
	}
	id := did.KeyDID(k.Public())
	licences, presentations, err := licenceChecker(c)
	if err != nil {
		return nil, err
	}
	return vault.New(vault.Config{Dir: dir, DID: id, Key: k, KeyID: id + "#" + k.Public().Multikey(), Resolver: c,
		Consent: checker, Submit: nodeSubmit(n), Anchors: appAnchors{a}, Writers: ws, Staff: ss, Logger: logger,
		AfterTrailStep: trailFault(), TrailCompactAbove: trailCompactAbove(), Licences: licences, Delegations: delegations,
		PublicURL: publicURL, Presentations: presentations})
}

// inProcess is an http.RoundTripper that answers requests by calling a
// handler directly.
type inProcess struct{ h http.Handler }

// RoundTrip serves r with the handler and returns its complete response.
func (t inProcess) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := &recorder{header: http.Header{}}
	t.h.ServeHTTP(rec, r)
	if r.Body != nil {
		_ = r.Body.Close()
	}
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	return &http.Response{
		Status: fmt.Sprintf("%d %s", rec.status, http.StatusText(rec.status)), StatusCode: rec.status,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: rec.header, Body: io.NopCloser(&rec.body), ContentLength: int64(rec.body.Len()), Request: r,
	}, nil
}

// recorder collects a handler's response for inProcess.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
}
func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(b)
}

// appLedger answers consent status questions from the node's own committed
// state.
type appLedger struct{ app *machine.App }

// ConsentStatus implements consent.Ledger.
func (l appLedger) ConsentStatus(_ context.Context, controller, hash string) (*consent.Status, error) {
	rec, err := l.app.ConsentStatus(controller, hash)
	if err != nil {
		if errors.Is(err, ledger.ErrNotFound) {
			return nil, fmt.Errorf("%w: %s by %s", consent.ErrNotAnchored, hash, controller)
		}
		return nil, err
	}
	return rec.Status(time.Now()), nil
}

// didList parses a comma-separated list of DIDs given to flag.
func didList(flag, list string) ([]string, error) {
	var out []string
	for _, w := range strings.Split(list, ",") {
		if w = strings.TrimSpace(w); w == "" {
			continue
		}
		if _, err := did.Parse(w); err != nil {
			return nil, fmt.Errorf("%s: %.128q is not a DID: %w", flag, w, err)
		}
		out = append(out, w)
	}
	return out, nil
}

// appAnchors reads the vault's anchored trail batches from the node's own
// committed state.
type appAnchors struct{ app *machine.App }

// AuditAnchor implements vault.AnchorReader.
func (a appAnchors) AuditAnchor(_ context.Context, v, batchID string) (*ledger.AuditRecord, error) {
	return a.app.AuditAnchor(v, batchID)
}

// runVault anchors the vault's trail until ctx ends.
func runVault(ctx context.Context, v *vault.Vault) chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		v.Run(ctx)
		_ = v.Close()
	}()
	return done
}

// nodeSubmit adapts the node's Submit (which reports a rejected transaction
// as a result code) to vault.Config.Submit.
func nodeSubmit(n *node.Node) func(context.Context, []byte) error {
	return func(ctx context.Context, raw []byte) error {
		res, err := n.Submit(ctx, raw)
		if err != nil {
			return err
		}
		if res.Code != 0 {
			return fmt.Errorf("ledger rejected the audit anchor: %w (code %d: %s)", ledger.ErrorOf(res.Code), res.Code, res.Log)
		}
		return nil
	}
}

// licenceChecker checks practitioner licences presented to the vault
// against the registry: the credential verifies (signature, validity,
// revocation, the body's accreditation for licences) and its issuer is an
// active licensing body of the directory (registry/directory). The
// verifier it returns checks presentations of licences (OpenID4VP).
func licenceChecker(c *client.Client) (func(context.Context, string) (string, error), *verify.Verifier, error) {
	v, err := verify.New(verify.Config{Resolver: did.NewRouter(map[string]did.Resolver{"key": did.KeyResolver{}, "medid": c}), Status: c, Trust: c})
	if err != nil {
		return nil, nil, err
	}
	d := directory.New(directory.Config{Source: c, Licences: v})
	return func(ctx context.Context, token string) (string, error) {
		id, err := d.AddLicence(ctx, token)
		if err != nil {
			return "", err
		}
		return id.DID, nil
	}, v, nil
}

// openFHIR serves v's FHIR API at base to the clients registered in the
// JSON file clientsFile.
func openFHIR(v *vault.Vault, clientsFile, base string) (*vault.FHIR, error) {
	b, err := os.ReadFile(clientsFile)
	if err != nil {
		return nil, fmt.Errorf("--fhir-clients: %w", err)
	}
	var clients map[string]vault.FHIRClient
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&clients); err != nil {
		return nil, fmt.Errorf("--fhir-clients %s: want {\"did:…\": {\"scopes\": [\"system/*.rs\", …], \"purpose\": \"TREAT\", \"name\": \"…\"}}: %v", clientsFile, err)
	}
	f, err := v.FHIR(vault.FHIRConfig{Base: base, Clients: clients, Name: "registryd"})
	if err != nil {
		return nil, fmt.Errorf("--fhir-clients %s: %w", clientsFile, err)
	}
	return f, nil
}
