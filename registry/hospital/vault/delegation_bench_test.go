package vault

import (
	"context"
	"crypto/rand"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/medid/medid/credentials/consent"
	"github.com/medid/medid/credentials/delegation"
	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/credentials/statuslist"
	"github.com/medid/medid/credentials/verify"
	"github.com/medid/medid/internal/benchbase"
	"github.com/medid/medid/internal/randid"
	"github.com/medid/medid/registry/hospital/trail"
	"github.com/medid/medid/registry/hospital/vaultapi"
)

// notAccredited is a Trust for delegations the patient issued (no
// GuardianshipCredential in this benchmark).
type notAccredited struct{}

func (notAccredited) Accredited(context.Context, string, string, time.Time) (bool, error) {
	return false, nil
}

// withDelegations gives h's vault a delegation checker over an in-memory
// status list of the patient's (published under a did:key of its own, as
// a wallet does), cached as registryd caches it, and returns a delegation
// from the patient to rep: view and consent, Immunization, TREAT, 30 days.
func (h *harness) withDelegations(rep, listKey *key.PrivateKey) (token string, d *delegation.Delegation) {
	h.t.Helper()
	owner := did.KeyDID(listKey.Public())
	url := "https://registry.example/1.0/status-lists/" + owner + ":delegations"
	bits, _ := statuslist.New(statuslist.MinEntries)
	lc, err := statuslist.NewCredential(url, owner, statuslist.Revocation, bits, 0)
	if err != nil {
		h.t.Fatal(err)
	}
	ltok, err := statuslist.Sign(lc, listKey, owner+"#"+listKey.Public().Multikey())
	if err != nil {
		h.t.Fatal(err)
	}
	chk, err := delegation.NewChecker(delegation.CheckerConfig{Resolver: did.KeyResolver{}, Trust: notAccredited{}, Now: h.clock.Now,
		Status: verify.StatusFetcherFunc(func(_ context.Context, u string) (string, error) {
			if u != url {
				return "", fmt.Errorf("no list %s", u)
			}
			return ltok, nil
		})})
	if err != nil {
		h.t.Fatal(err)
	}
	h.v.cfg.Delegations = chk
	repDID := did.KeyDID(rep.Public())
	now := h.clock.Now()
	d = &delegation.Delegation{ID: randid.URN(), Type: delegation.TypeDelegation, Issuer: h.patient.DID, Representative: repDID,
		RepresentativeName: "Carl Carer", Patient: h.patient.DID, Basis: delegation.BasisAuthorisation,
		Actions: []delegation.Action{delegation.ActionView, delegation.ActionConsent}, Classes: []string{"Immunization"},
		Purposes: []string{"TREAT"}, ValidFrom: now.Add(-time.Hour), ValidUntil: now.Add(30 * 24 * time.Hour),
		Status: statuslist.Entry(url, statuslist.Revocation, 7)}
	if token, err = delegation.Issue(d, h.patient.Key, h.patient.Kid); err != nil {
		h.t.Fatal(err)
	}
	d.Token = token
	return token, d
}

// BenchmarkDecideDelegated compares access decisions through a delegation
// with a direct one (BenchmarkDecide's) in the same run, each op
// authenticating a fresh signed request and deciding it with everything
// verified before cached (as a vault serving the same people sees them):
//
//   - direct: a provider under the patient's own consent grant;
//   - representative: a carer reading under the patient's delegation
//     (delegation cached by its hash, its status list cached for 5 s);
//   - grant-by-representative: a provider under a consent grant the carer
//     made in the patient's name (the grant's check, its registration here,
//     and the delegation it was made under, all at every read).
//
// The baseline is bare ed25519.Verify on all cores, in the same run.
//
//	go test ./registry/hospital/vault -run '^$' -bench DecideDelegated -benchtime 2s
func BenchmarkDecideDelegated(b *testing.B) {
	h := newHarness(b)
	ctx := context.Background()
	prov := newParty(b, 10)
	carer := newParty(b, 11)
	listKey := newParty(b, 12).Key
	rec := h.put(h.patient, "Immunization", `{"resourceType":"Immunization","vaccineCode":{"text":"MMR"}}`)
	m, _ := h.v.Meta(rec.ID)
	dtok, d := h.withDelegations(carer.Key, listKey)

	direct := h.grant(h.patient, prov.DID, []string{"Immunization"}, "TREAT", 30, false, true)

	// The carer's grant in the patient's name, anchored and registered.
	var secret [32]byte
	_, _ = rand.Read(secret[:])
	ak, _ := key.NewEd25519FromSeed(secret[:])
	now := h.clock.Now()
	g := &consent.Grant{ID: randid.URN(), Patient: carer.DID, OnBehalfOf: h.patient.DID, Delegation: d.Hash(), Anchor: did.KeyDID(ak.Public()),
		Provider: prov.DID, Actions: []consent.Action{consent.ActionAccess}, Purposes: []string{"TREAT"}, Classes: []string{"Immunization"},
		ValidFrom: now.Add(-time.Minute), ValidUntil: now.Add(90 * 24 * time.Hour)}
	byRep, err := consent.Issue(g, carer.Key, carer.Kid)
	if err != nil {
		b.Fatal(err)
	}
	h.ledger.anchorGrant(byRep)
	pub, _ := did.ParseKeyDID(h.patient.DID)
	rk, _ := trail.RecipientKey(pub)
	seal, err := trail.SealSecret(secret[:], rk)
	if err != nil {
		b.Fatal(err)
	}
	if err := h.v.RegisterConsent(ctx, h.sign(carer, &vaultapi.Request{Op: vaultapi.OpConsent, Consent: byRep, Delegation: dtok, AnchorSeal: seal})); err != nil {
		b.Fatal(err)
	}

	kinds := []struct {
		name string
		who  func() string
	}{
		{"direct", func() string {
			return h.sign(prov, &vaultapi.Request{Op: vaultapi.OpRead, Record: rec.ID, Purpose: "TREAT", Consent: direct})
		}},
		{"representative", func() string {
			return h.sign(carer, &vaultapi.Request{Op: vaultapi.OpRead, Record: rec.ID, Purpose: "TREAT", Delegation: dtok})
		}},
		{"grant-by-representative", func() string {
			return h.sign(prov, &vaultapi.Request{Op: vaultapi.OpRead, Record: rec.ID, Purpose: "TREAT", Consent: byRep})
		}},
	}
	baseline := benchbase.Ed25519VerifyRate(time.Second)
	var directRate float64
	for _, k := range kinds {
		b.Run(k.name, func(b *testing.B) {
			// Each signed request is used once (the vault refuses a replay):
			// sign them all before timing.
			toks := make([]string, b.N)
			for i := range toks {
				toks[i] = k.who()
			}
			now := h.clock.Now()
			next := make(chan int, 1024)
			go func() {
				for i := range toks {
					next <- i
				}
				close(next)
			}()
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					r, err := h.v.auth.authenticate(ctx, toks[<-next], now)
					if err != nil {
						b.Fatal(err)
					}
					if err := h.v.decide(ctx, r, m, now); err != nil {
						b.Fatal(err)
					}
				}
			})
			rate := float64(b.N) / time.Since(start).Seconds()
			b.ReportMetric(rate, "decisions/s")
			b.ReportMetric(rate/baseline, "x-ed25519-verify")
			if k.name == "direct" {
				directRate = rate
			} else if directRate > 0 {
				b.ReportMetric(rate/directRate, "x-direct")
			}
		})
	}
	b.Logf("baseline: bare ed25519.Verify %.0f/s on %d cores in this run", baseline, runtime.GOMAXPROCS(0))
}
