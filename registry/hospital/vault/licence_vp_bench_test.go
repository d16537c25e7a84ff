package vault

import (
	"context"
	"testing"
	"time"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/openid4vp"
	"github.com/medid/medid/credentials/vc"
	"github.com/medid/medid/internal/benchbase"
	"github.com/medid/medid/registry/hospital/vaultapi"
	"github.com/medid/medid/registry/hospital/vaultclient"
)

// BenchmarkLicenceOverOpenID4VP is one practitioner presenting a licence
// to the vault over HTTP, end to end: start the request, fetch and check
// the vault-signed request object, sign the presentation, post it; the
// vault verifies it (holder and licence signatures), checks the licence
// (here against a did:key body, standing in for the directory) and keeps
// it (an fsync'd file). Reported against bare ed25519.Verify measured in
// the same run (x-ed25519-verify: presentations per verification).
func BenchmarkLicenceOverOpenID4VP(b *testing.B) {
	ctx := context.Background()
	body, jane := newParty(b, 10), newParty(b, 12)
	h, srv := licenceVault(b, body)
	now := h.clock.Now()
	lic := issueLicence(b, body, jane, now.Add(-time.Hour), now.Add(365*24*time.Hour))
	c := openid4vp.Client{HTTP: srv.Client(), Resolver: did.KeyResolver{}}
	baseline := benchbase.Ed25519VerifyRate(time.Second)
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		lr, err := vaultclient.StartLicenceRequest(ctx, srv.Client(), srv.URL)
		if err != nil {
			b.Fatal(err)
		}
		req, err := c.FetchRequest(ctx, lr.URI)
		if err != nil {
			b.Fatal(err)
		}
		vp, err := vc.SignPresentation(&vc.Presentation{Context: []string{vc.ContextV2}, Type: []string{vc.TypePresentation},
			Holder: jane.DID, Credentials: []string{lic}}, jane.Key, jane.Kid, req.ClientID, req.Nonce)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := c.Respond(ctx, req, map[string][]string{vaultapi.LicenceQueryID: {vp}}); err != nil {
			b.Fatal(err)
		}
	}
	rate := float64(b.N) / time.Since(start).Seconds()
	b.ReportMetric(rate, "presentations/s")
	b.ReportMetric(rate/baseline, "x-ed25519-verify")
}
