package openid4vci

import (
	"context"
	"testing"
	"time"

	"github.com/medid/medid/credentials/did"
)

func FuzzParseOfferURI(f *testing.F) {
	f.Add(`openid-credential-offer://?credential_offer=%7B%22credential_issuer%22%3A%22https%3A%2F%2Fh.example%22%2C%22credential_configuration_ids%22%3A%5B%22A%22%5D%2C%22grants%22%3A%7B%22urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Apre-authorized_code%22%3A%7B%22pre-authorized_code%22%3A%22c%22%7D%7D%7D`)
	f.Add("openid-credential-offer://?credential_offer_uri=https%3A%2F%2Fh.example%2Fo%2F1")
	f.Fuzz(func(t *testing.T, s string) {
		o, ref, err := ParseOfferURI(s)
		if err == nil && o == nil && ref == "" {
			t.Fatal("no offer, no reference and no error")
		}
		if o != nil {
			if _, err := o.URI(); err != nil {
				t.Fatalf("a parsed offer does not serialise: %v", err)
			}
		}
	})
}

func FuzzVerifyProof(f *testing.F) {
	f.Add("eyJhbGciOiJFZERTQSIsInR5cCI6Im9wZW5pZDR2Y2ktcHJvb2Yrand0In0.e30.AA")
	f.Add("a.b.c")
	now := time.Unix(1_800_000_000, 0)
	f.Fuzz(func(t *testing.T, jwt string) {
		p, err := verifyProof(context.Background(), jwt, "https://h.example", did.KeyResolver{}, now, time.Minute)
		if err == nil && p.holder == "" {
			t.Fatal("accepted a proof without a holder")
		}
	})
}
