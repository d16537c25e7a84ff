package wallet

import (
	"errors"
	"testing"
	"time"

	"github.com/medid/medid/credentials/credtest"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/credentials/sdjwt"
)

// TestInspect: a vc+jwt and an SD-JWT VC are read without verifying or
// storing (what a preview shows); anything else is malformed.
func TestInspect(t *testing.T) {
	clk := credtest.NewClock(time.Date(2026, 3, 14, 10, 0, 0, 0, time.UTC))
	is := newIssuer(t, "Hospital")
	holder := credtest.NewParty(t, key.Ed25519, "patient")
	jwt := is.Issue(t, holder.DID, []string{"AllergyIntoleranceCredential"}, map[string]any{"criticality": "high"})
	exp := clk.Now().Add(24 * time.Hour)
	sd, err := sdjwt.IssueVC(&sdjwt.Credential{Issuer: is.DID, VCT: sdjwt.VCT("AllergyIntoleranceCredential"), Subject: holder.DID,
		IssuedAt: clk.Now(), Expires: &exp, Holder: holder.Key.Public(), Claims: map[string]any{"criticality": "high"}},
		is.Key, is.Kid, sdjwt.IssueOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ name, token string }{{"vc+jwt", jwt}, {"SD-JWT VC", sd}} {
		t.Run(c.name, func(t *testing.T) {
			o, err := Inspect(" " + c.token + "\n")
			if err != nil {
				t.Fatal(err)
			}
			if o.Issuer != is.DID || o.Subject != holder.DID || o.Claims["criticality"] != "high" || len(o.Claims) != 1 {
				t.Errorf("got issuer %s subject %s claims %v", o.Issuer, o.Subject, o.Claims)
			}
			found := false
			for _, ty := range o.Types {
				found = found || ty == "AllergyIntoleranceCredential"
			}
			if !found {
				t.Errorf("types %v", o.Types)
			}
		})
	}
	for _, bad := range []string{"", "hello", "eyJhbGciOiJFZERTQSJ9.e30.AA", sd[:len(sd)/2]} {
		var rej *RejectedError
		if _, err := Inspect(bad); !errors.As(err, &rej) || rej.Reason != "malformed" {
			t.Errorf("Inspect(%.20q) = %v, want malformed", bad, err)
		}
	}
}
