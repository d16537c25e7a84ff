package tx

import (
	"errors"
	"strings"
	"testing"
)

func TestConsentPayloadValidate(t *testing.T) {
	const d = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
	h := strings.Repeat("0f", 32)
	cases := []struct {
		name string
		p    Payload
		want string // "" = valid
	}{
		{"anchor", Payload{Type: ConsentAnchor, DID: d, Nonce: "1", GrantHash: h, ValidFrom: "2026-03-01T00:00:00Z", ValidUntil: "2027-03-01T00:00:00Z"}, ""},
		{"anchor open-ended", Payload{Type: ConsentAnchor, DID: d, Nonce: "1", GrantHash: h, ValidFrom: "2026-03-01T00:00:00Z"}, ""},
		{"revoke", Payload{Type: ConsentRevoke, DID: d, Nonce: "1", GrantHash: h}, ""},
		{"anchor without validFrom", Payload{Type: ConsentAnchor, DID: d, Nonce: "1", GrantHash: h}, "validFrom is required"},
		{"anchor without hash", Payload{Type: ConsentAnchor, DID: d, Nonce: "1", ValidFrom: "2026-03-01T00:00:00Z"}, "grantHash is required"},
		{"uppercase hash", Payload{Type: ConsentRevoke, DID: d, Nonce: "1", GrantHash: strings.ToUpper(h)}, "64 lowercase hex"},
		{"short hash", Payload{Type: ConsentRevoke, DID: d, Nonce: "1", GrantHash: h[:62]}, "64 lowercase hex"},
		{"reversed period", Payload{Type: ConsentAnchor, DID: d, Nonce: "1", GrantHash: h, ValidFrom: "2026-03-01T00:00:00Z", ValidUntil: "2026-01-01T00:00:00Z"}, "validUntil must be after"},
		{"revoke with a period", Payload{Type: ConsentRevoke, DID: d, Nonce: "1", GrantHash: h, ValidFrom: "2026-03-01T00:00:00Z"}, "validFrom is not allowed"},
		{"anchor with an issuer", Payload{Type: ConsentAnchor, DID: d, Nonce: "1", GrantHash: h, ValidFrom: "2026-03-01T00:00:00Z", Issuer: d}, "issuer is not allowed"},
		{"grantHash on another type", Payload{Type: DIDDeactivate, DID: d, Nonce: "1", PrevVersionID: "1", GrantHash: h}, "grantHash is not allowed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.p.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("Validate = %v, want nil", err)
			case tc.want != "" && (!errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("Validate = %v, want ErrMalformed containing %q", err, tc.want)
			}
		})
	}
}
