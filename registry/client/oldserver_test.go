package client_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/registry/client"
	"github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/node/nodetest"
)

// absenceProof proves key at the node's latest height with a signed
// header: what a registry sends for a key it proves absent.
func absenceProof(t *testing.T, s *nodetest.Stack, key []byte) string {
	t.Helper()
	ctx := context.Background()
	h := s.Node.Height() - 1
	res, err := s.Node.Query(ctx, ledger.QueryKey, key, h, true)
	if err != nil {
		t.Fatal(err)
	}
	if res.Code != ledger.CodeNotFound || res.ProofOps == nil {
		t.Fatalf("query of %s: code %d, want it proven absent", key, res.Code)
	}
	sh, vals, err := s.Node.SignedHeader(ctx, res.Height+1)
	if err != nil {
		t.Fatal(err)
	}
	ops, err := res.ProofOps.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	shB, err := sh.ToProto().Marshal()
	if err != nil {
		t.Fatal(err)
	}
	vp, err := vals.ToProto()
	if err != nil {
		t.Fatal(err)
	}
	vB, err := vp.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	enc, err := (&ledger.Proof{Height: res.Height, Key: key, ProofOps: ops, SignedHeader: shB, ValidatorSet: vB}).Encode()
	if err != nil {
		t.Fatal(err)
	}
	return enc
}

// answersVersionsByDIDV serves s's API, except that every versionId read
// is answered as registries before issue 18 did for a version past the
// current one: "not found" with a proof that didv/<did>/<n> is absent.
// In layout 1 that is what an old registry sends; in layout 2 it is a
// lie by omission whenever version n is the current one (the current
// record is not under didv/ there).
func answersVersionsByDIDV(t *testing.T, s *nodetest.Stack) string {
	u, err := url.Parse(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, isDID := strings.CutPrefix(r.URL.Path, "/1.0/identifiers/")
		v := r.URL.Query().Get("versionId")
		n, err := strconv.ParseInt(v, 10, 64)
		if !isDID || err != nil || n < 1 {
			proxy.ServeHTTP(w, r)
			return
		}
		w.Header().Set(ledger.ProofHeader, absenceProof(t, s, ledger.DIDVersionKey(id, n)))
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprintf(w, `{"type":"about:blank","title":"not found","status":404,"detail":"version %d of %s"}`, n, id)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestVersionProvenAbsentUnderDIDV: a proven absence of didv/<did>/<n>
// alone shows nothing (layout 2 keeps the current version elsewhere), so
// the client decides version n from the proven current record: a version
// past the current one is "not found" (what registries of before meant),
// the current version is returned even from a registry that denies it.
func TestVersionProvenAbsentUnderDIDV(t *testing.T) {
	for _, l := range []ledger.StateLayout{ledger.LayoutEveryVersion, ledger.LayoutRecordsOnce} {
		t.Run(fmt.Sprintf("layout %d", l), func(t *testing.T) {
			s := nodetest.Start(t, nodetest.Options{StateLayout: l})
			ctx := context.Background()
			plain, _ := newClients(t, s)
			alice, bob := nodetest.NewIdentity(t, "alice"), nodetest.NewIdentity(t, "bob")
			for _, tx := range [][]byte{alice.CreateTx(t), bob.CreateTx(t), bob.DeactivateTx(t, "1")} {
				if _, err := plain.Submit(ctx, tx); err != nil {
					t.Fatal(err)
				}
			}
			// One more block, so the last state change has a signed header.
			if _, err := plain.Submit(ctx, nodetest.NewIdentity(t, "carol").CreateTx(t)); err != nil {
				t.Fatal(err)
			}
			chainID, vals, err := client.TrustFromGenesis(s.Genesis)
			if err != nil {
				t.Fatal(err)
			}
			old, err := client.New(client.Config{URL: answersVersionsByDIDV(t, s), VerifyProofs: true, ChainID: chainID, TrustedValidators: vals})
			if err != nil {
				t.Fatal(err)
			}
			unknown := nodetest.NewIdentity(t, "nobody").DID
			for _, c := range []struct {
				name, id, version string
				wantErr           error // nil: the record of that version
				wantDeactivated   bool
			}{
				{"past the current version", alice.DID, "2", did.ErrNotFound, false},
				{"far past the current version", alice.DID, "9", did.ErrNotFound, false},
				{"past a deactivation", bob.DID, "3", did.ErrNotFound, false},
				{"a DID that does not exist", unknown, "1", did.ErrNotFound, false},
				{"the current version", alice.DID, "1", nil, false},
				{"the current, deactivated version", bob.DID, "2", did.ErrDeactivated, true},
			} {
				// Layout 1 holds every version under didv/: the current
				// one cannot be proven absent there.
				present := l == ledger.LayoutEveryVersion && c.wantErr != did.ErrNotFound
				if present {
					continue
				}
				res, err := old.ResolveWith(ctx, c.id, ledger.ResolveOptions{VersionID: c.version})
				switch {
				case c.wantErr == nil && err != nil:
					t.Errorf("%s: %v", c.name, err)
				case c.wantErr != nil && !errors.Is(err, c.wantErr):
					t.Errorf("%s: err = %v, want %v", c.name, err, c.wantErr)
				case errors.Is(err, ledger.ErrProof):
					t.Errorf("%s: a proof error: %v", c.name, err)
				case c.wantErr == did.ErrNotFound && res != nil:
					t.Errorf("%s: a resolution with not found", c.name)
				case c.wantErr != did.ErrNotFound && (res == nil || res.Metadata.VersionID != c.version || res.Metadata.Deactivated != c.wantDeactivated):
					t.Errorf("%s: resolution %+v", c.name, res)
				}
			}
		})
	}
}
