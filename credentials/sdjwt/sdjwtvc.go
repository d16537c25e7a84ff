package sdjwt

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/credentials/tokenstatus"
	"github.com/medid/medid/credentials/vc"
)

// VCTPrefix starts the vct of medid's own credential types: the vct of
// an AllergyIntoleranceCredential is "urn:medid:vct:AllergyIntoleranceCredential".
const VCTPrefix = "urn:medid:vct:"

// VCT returns the vct for a medid credential type name.
func VCT(credType string) string { return VCTPrefix + credType }

// CredentialType returns the medid credential type a vct names, or the
// vct itself when it is not a medid vct (an accreditation is then looked
// up under the full vct).
func CredentialType(vct string) string {
	if t, ok := strings.CutPrefix(vct, VCTPrefix); ok && t != "" {
		return t
	}
	return vct
}

// notDisclosable are the claims SD-JWT VC forbids to be selectively
// disclosable (draft-ietf-oauth-sd-jwt-vc §3.2.2): a verifier needs them
// to process the credential at all.
var notDisclosable = []string{"iss", "nbf", "exp", "cnf", "vct", "vct#integrity", "status"}

// Credential is an SD-JWT VC (typ dc+sd-jwt) before issuance, or after
// verification with the claims that were disclosed.
type Credential struct {
	// Issuer is iss: the issuer's DID. The issuer-signed JWT's kid is a
	// DID URL of it.
	Issuer string
	// VCT is the credential type (see [VCT]).
	VCT string
	// Subject is sub, the subject's DID. It is selectively disclosable:
	// "" after verification when the holder did not disclose it.
	Subject string
	// IssuedAt is iat (always in the clear); zero leaves it out.
	IssuedAt time.Time
	// NotBefore and Expires are nbf and exp, when set.
	NotBefore, Expires *time.Time
	// Holder is cnf.jwk, the key the holder proves possession of in a
	// Key Binding JWT (HAIP requires it).
	Holder key.PublicKey
	// Status is status.status_list, the credential's entry in a Token
	// Status List; nil when it has none.
	Status *tokenstatus.Reference
	// Claims are the credential's own claims (the clinical data), every
	// one selectively disclosable at every depth. They must not use the
	// names above nor SD-JWT's reserved names.
	Claims map[string]any
}

// IssueVC signs c as an SD-JWT VC with k and returns it with all its
// Disclosures (what the holder stores). kid MUST be a DID URL of
// c.Issuer's key. Visible in the clear: iss, iat, nbf, exp, vct, cnf,
// status. Everything else (sub and every clinical claim, recursively) is
// selectively disclosable, with decoys. opts.Typ, Kid and Visible are
// ignored.
func IssueVC(c *Credential, k *key.PrivateKey, kid string, opts IssueOptions) (string, error) {
	if c == nil {
		return "", fmt.Errorf("sd-jwt: nil credential")
	}
	did, _, ok := strings.Cut(kid, "#")
	if !ok || did != c.Issuer || !strings.HasPrefix(did, "did:") {
		return "", fmt.Errorf("sd-jwt: kid %q is not a DID URL of the issuer %s", kid, c.Issuer)
	}
	if c.VCT == "" {
		return "", fmt.Errorf("sd-jwt: an SD-JWT VC needs a vct (its type)")
	}
	if c.Holder.IsZero() {
		return "", fmt.Errorf("sd-jwt: an SD-JWT VC needs the holder's key (cnf.jwk) so that it can be presented with key binding")
	}
	claims := make(map[string]any, len(c.Claims)+8)
	for name, v := range c.Claims {
		switch name {
		case "iss", "iat", "nbf", "exp", "vct", "vct#integrity", "cnf", "status", "sub":
			return "", fmt.Errorf("sd-jwt: claim %q is set from the Credential's fields, not from Claims", name)
		}
		claims[name] = v
	}
	claims["iss"] = c.Issuer
	claims["vct"] = c.VCT
	if c.Subject != "" {
		claims["sub"] = c.Subject
	}
	if !c.IssuedAt.IsZero() {
		claims["iat"] = c.IssuedAt.Unix()
	}
	if c.NotBefore != nil {
		claims["nbf"] = c.NotBefore.Unix()
	}
	if c.Expires != nil {
		claims["exp"] = c.Expires.Unix()
	}
	jwk, err := c.Holder.JWK()
	if err != nil {
		return "", err
	}
	claims["cnf"] = map[string]any{"jwk": jwk}
	if c.Status != nil {
		claims["status"] = c.Status.Claim()
	}
	opts.Typ, opts.Kid = MediaType, kid
	opts.Visible = append([]string{"iat"}, notDisclosable...)
	return Issue(claims, k, opts)
}

// VerifiedVC is a verified SD-JWT VC.
type VerifiedVC struct {
	Verified
	// Credential holds the SD-JWT VC's fields; Claims are the disclosed
	// claims other than those fields.
	Credential *Credential
}

// VerifyVC verifies an SD-JWT VC or its presentation: everything [Verify]
// checks, with typ dc+sd-jwt (or the legacy vc+sd-jwt), plus the SD-JWT VC
// rules: iss and vct are strings; iss, nbf, exp, cnf, vct, vct#integrity
// and status are not selectively disclosed ([ReasonNotDisclosable]); the
// kid is a DID URL whose DID is iss, checked before any key is fetched
// ([ReasonIssuerMismatch]); a status claim, if present, is a valid
// status_list reference. Key binding is required when opts.Audience or
// opts.Nonce is set. It does not check status or accreditation
// (credentials/verify does).
func VerifyVC(ctx context.Context, sdjwt string, keys vc.KeyFunc, opts VerifyOptions) (*VerifiedVC, error) {
	t, err := parse(sdjwt, "")
	if err != nil {
		return nil, err
	}
	if typ := t.jws.Header.Typ; !vc.MediaTypeIs(typ, MediaType) && !vc.MediaTypeIs(typ, LegacyMediaType) {
		return nil, refuse(ReasonWrongType, "typ is %q, want %q", clip(typ), MediaType)
	}
	var issuer string
	v, err := t.verify(ctx, keys, &opts, func(t *token) error {
		iss, ok := t.payload["iss"].(string)
		if !ok || iss == "" {
			return refuse(ReasonMalformed, "an SD-JWT VC must have an iss string in the clear")
		}
		did, frag, ok := strings.Cut(t.jws.Header.Kid, "#")
		if !ok || frag == "" || !strings.HasPrefix(did, "did:") {
			return refuse(ReasonIssuerMismatch, "kid %q is not a DID URL (did:method:id#key)", clip(t.jws.Header.Kid))
		}
		if did != iss {
			return refuse(ReasonIssuerMismatch, "signed with a key of %s, but iss is %s", clip(did), clip(iss))
		}
		issuer = iss
		for _, d := range t.discs {
			for _, n := range notDisclosable {
				if !d.ArrayElement && d.Name == n && t.disclosesTopLevel(d) {
					return refuse(ReasonNotDisclosable, "claim %s must not be selectively disclosable in an SD-JWT VC", n)
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	c := &Credential{Issuer: issuer, Holder: v.Holder}
	claims := v.Claims
	if c.VCT, _ = claims["vct"].(string); c.VCT == "" {
		return nil, refuse(ReasonMalformed, "an SD-JWT VC must have a vct string")
	}
	if s, ok := claims["sub"]; ok {
		if c.Subject, ok = s.(string); !ok {
			return nil, refuse(ReasonMalformed, "sub must be a string")
		}
	}
	for _, f := range [...]struct {
		name string
		set  func(time.Time)
	}{
		{"iat", func(t time.Time) { c.IssuedAt = t }},
		{"nbf", func(t time.Time) { c.NotBefore = &t }},
		{"exp", func(t time.Time) { c.Expires = &t }},
	} {
		if tm, ok, _ := vc.NumericDate(claims, f.name); ok { // Verify checked the form
			f.set(tm)
		}
	}
	if st, ok := claims["status"]; ok {
		ref, isList, err := tokenstatus.ParseReference(st)
		if err != nil {
			return nil, refuseErr(ReasonMalformed, err, "status claim")
		}
		if isList {
			c.Status = &ref
		}
	}
	c.Claims = make(map[string]any, len(claims))
	for k, x := range claims {
		switch k {
		case "iss", "iat", "nbf", "exp", "vct", "vct#integrity", "cnf", "status", "sub":
			continue
		}
		c.Claims[k] = x
	}
	return &VerifiedVC{Verified: *v, Credential: c}, nil
}

// disclosesTopLevel reports whether d is referenced from the payload's
// own _sd array (not from a nested object).
func (t *token) disclosesTopLevel(d *Disclosure) bool {
	sd, _ := t.payload[sdKey].([]any)
	for _, x := range sd {
		if s, _ := x.(string); s == d.Digest {
			return true
		}
	}
	return false
}

// Evidence is what verifying an SD-JWT VC needs fetched besides the
// token: its issuer's DID and its Token Status List reference.
type Evidence struct {
	Issuer string
	// Status is nil when the credential has no status_list reference.
	Status *tokenstatus.Reference
}

// Peek reads the in-the-clear iss and status of an SD-JWT VC, as issued or
// presented (with a Key Binding JWT), so that a cache can fetch what its
// verification will need. It checks no signature and no Disclosure
// digest: nothing it returns may be trusted, only fetched and verified.
// Errors: a [*RefusalError] for a token that does not parse.
func Peek(sdjwt string) (*Evidence, error) {
	t, err := parse(sdjwt, "")
	if err != nil {
		return nil, err
	}
	ev := &Evidence{}
	ev.Issuer, _ = t.payload["iss"].(string)
	if ev.Issuer == "" {
		return nil, refuse(ReasonMalformed, "the issuer-signed JWT has no iss")
	}
	if st, ok := t.payload["status"]; ok {
		ref, present, err := tokenstatus.ParseReference(st)
		if err != nil {
			return nil, refuseErr(ReasonMalformed, err, "status")
		}
		if present {
			ev.Status = &ref
		}
	}
	return ev, nil
}
