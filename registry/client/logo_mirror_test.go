package client_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/medid/medid/registry/client"
	"github.com/medid/medid/registry/node/nodetest"
	"github.com/medid/medid/registry/tx"
)

// TestLogoFromMirror: a registry that did not receive an organisation's
// logo upload fetches it from its mirrors (other registries), keeps it
// only when it is the image the ledger names, and otherwise says why it
// has none.
func TestLogoFromMirror(t *testing.T) {
	ctx := context.Background()
	logo := testPNG(t)
	sum := sha256.Sum256(logo)
	var serve atomic.Value // what the mirror serves
	serve.Store(append(bytes.Clone(logo), 0))
	var asked atomic.Int32
	mirror := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked.Add(1)
		if !strings.HasSuffix(r.URL.Path, "/logo") {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "image/png")
		w.Write(serve.Load().([]byte))
	}))
	defer mirror.Close()
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close() // a mirror that does not answer

	for _, tc := range []struct {
		name    string
		mirrors []string
	}{{"no mirrors", nil}, {"mirrors", []string{down.URL, mirror.URL}}} {
		t.Run(tc.name, func(t *testing.T) {
			s := nodetest.Start(t, nodetest.Options{LogoMirrors: tc.mirrors})
			plain, _ := newClients(t, s)
			org := nodetest.NewIdentity(t, "logo-org")
			if _, err := plain.Submit(ctx, org.CreateTx(t)); err != nil {
				t.Fatal(err)
			}
			entry := &tx.DirectoryEntry{LegalName: "Riverside Clinic Ltd", DisplayName: "Riverside Clinic", Kind: tx.KindClinic, Country: "GB",
				Logo: &tx.Logo{SHA256: hex.EncodeToString(sum[:]), MediaType: "image/png"}}
			if _, err := plain.Submit(ctx, nodetest.Sign(t, &tx.Payload{Type: tx.DirectoryAdd, DID: s.GovernanceDID, Org: org.DID, Entry: entry}, s.Governance, s.GovernanceKID())); err != nil {
				t.Fatal(err)
			}
			var pe *client.ProblemError
			_, err := plain.Logo(ctx, org.DID, entry.Logo)
			if tc.mirrors == nil {
				if !errors.As(err, &pe) || pe.Status != http.StatusNotFound || !strings.Contains(pe.Detail, "--logo-mirrors") {
					t.Fatalf("without mirrors: %v, want a 404 saying how to get it", err)
				}
				return
			}
			// The mirror serves another image: refused, and said.
			if !errors.As(err, &pe) || pe.Status != http.StatusNotFound || !strings.Contains(pe.Detail, "served another image") || !strings.Contains(pe.Detail, "unreachable") {
				t.Fatalf("a wrong image from the mirror: %v", err)
			}
			// Not asked again at once.
			n := asked.Load()
			if _, err := plain.Logo(ctx, org.DID, entry.Logo); err == nil || asked.Load() != n {
				t.Fatalf("asked the mirrors again at once (%v)", err)
			}
			// The right image: fetched, checked, kept and served.
			serve.Store(logo)
			s2 := nodetest.Start(t, nodetest.Options{LogoMirrors: tc.mirrors})
			plain2, _ := newClients(t, s2)
			if _, err := plain2.Submit(ctx, org.CreateTx(t)); err != nil {
				t.Fatal(err)
			}
			if _, err := plain2.Submit(ctx, nodetest.Sign(t, &tx.Payload{Type: tx.DirectoryAdd, DID: s2.GovernanceDID, Org: org.DID, Entry: entry}, s2.Governance, s2.GovernanceKID())); err != nil {
				t.Fatal(err)
			}
			got, err := plain2.Logo(ctx, org.DID, entry.Logo)
			if err != nil || !bytes.Equal(got, logo) {
				t.Fatalf("from the mirror: %d bytes, %v", len(got), err)
			}
			n = asked.Load()
			if got, err := plain2.Logo(ctx, org.DID, entry.Logo); err != nil || !bytes.Equal(got, logo) || asked.Load() != n {
				t.Errorf("kept copy: %v, mirror asked again %v", err, asked.Load() != n)
			}
		})
	}
}
