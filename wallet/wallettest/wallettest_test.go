package wallettest_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/medid/medid/credentials/credtest"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/credentials/vc"
	"github.com/medid/medid/wallet/wallettest"
)

func TestIssuerAndVerifier(t *testing.T) {
	ctx := context.Background()
	clk := credtest.NewClock(wallettest.IssuedAt.Add(time.Hour))
	v := wallettest.NewVerifier(clk.Now)
	hosp := wallettest.NewIssuer(t, "St Mary's Hospital")
	if again := wallettest.NewIssuer(t, "St Mary's Hospital"); again.DID != hosp.DID {
		t.Errorf("the same name gave %s and %s", hosp.DID, again.DID)
	}
	holder := credtest.NewParty(t, key.Ed25519, "holder")
	good := hosp.Issue(t, holder.DID, []string{"AllergyIntoleranceCredential"}, map[string]any{"allergy": "penicillin"})
	tk, err := vc.Parse(good)
	if err != nil {
		t.Fatal(err)
	}
	if c := tk.Credential; c.Issuer != hosp.DID || c.IssuerProperties["name"] != "St Mary's Hospital" || c.SubjectID() != holder.DID ||
		!c.ValidFrom.Equal(wallettest.IssuedAt) || c.Type[0] != vc.TypeCredential || c.Type[1] != "AllergyIntoleranceCredential" {
		t.Errorf("issued %+v", c)
	}
	expired := hosp.Issue(t, holder.DID, []string{"X"}, nil, func(c *vc.Credential) {
		until := wallettest.IssuedAt.Add(time.Minute)
		c.ValidUntil = &until
	})
	forged := good[:strings.LastIndexByte(good, '.')+1] + strings.Repeat("A", 86)
	revoked := hosp.Issue(t, holder.DID, []string{"Y"}, nil)
	v.Set(revoked, "revoked")
	for _, tc := range []struct {
		name, token, reason string
	}{
		{"valid", good, ""},
		{"expired", expired, "expired"},
		{"forged", forged, "bad_signature"},
		{"malformed", "not a token", "malformed"},
		{"revoked by the test", revoked, "revoked"},
	} {
		if got, _ := v.Check(ctx, tc.token); got != tc.reason {
			t.Errorf("%s: Check = %q, want %q", tc.name, got, tc.reason)
		}
	}
	anon := wallettest.Issuer{Party: hosp.Party}
	if tk, err := vc.Parse(anon.Issue(t, holder.DID, nil, nil)); err != nil {
		t.Error(err)
	} else if name, ok := tk.Credential.IssuerProperties["name"]; ok {
		t.Errorf("an issuer without a name wrote issuer.name %v", name)
	}
}
