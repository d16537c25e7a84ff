package wallet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/sdjwt"
	"github.com/medid/medid/credentials/verify"
)

// TestShareSDJWTByHand: the patient lists an SD-JWT VC's details, previews
// a share of two of them, and shares them bound to a receiver they name
// (the verifier accepts it for that audience and the wallet's nonce, and
// sees exactly the preview) or unbound (no KB-JWT, and the history says
// so); nothing chosen, no receiver without unbound, both, an unknown path
// or a vc+jwt are refused, and nothing is recorded for them.
func TestShareSDJWTByHand(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	cfg := testConfig(t, clk)
	vv, err := verify.New(verify.Config{Resolver: did.KeyResolver{}, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Verifier = VerifyWith(vv)
	w, me, meKey := newSDJWTHolder(t, cfg)
	is := newIssuer(t, "Hospital")
	c, err := w.Receive(ctx, is.IssueSDJWT(t, me.DID, meKey, "AllergyIntoleranceCredential", clk.Now(), map[string]any{
		"criticality": "high", "code": map[string]any{"system": "http://snomed.info/sct", "display": "Penicillin"},
		"reaction": []any{map[string]any{"manifestation": "anaphylaxis"}}}))
	if err != nil {
		t.Fatal(err)
	}
	fields, err := w.SDJWTFields(c.ID)
	if err != nil {
		t.Fatal(err)
	}
	var listed []string
	for _, f := range fields {
		listed = append(listed, fmt.Sprintf("%s=%v", f.Path, f.Value))
	}
	want := []string{"code.display=Penicillin", "code.system=http://snomed.info/sct", "criticality=high", "reaction.0.manifestation=anaphylaxis", "sub=" + me.DID}
	if !slices.Equal(listed, want) {
		t.Errorf("fields = %q\nwant %q", listed, want)
	}

	choose := []sdjwt.Path{{"code", "display"}, {"reaction", 0, "manifestation"}}
	pre, err := w.PreviewShare(ShareSDJWTRequest{CredentialID: c.ID, Disclose: choose, Audience: "Dr Amal Haddad"})
	if err != nil {
		t.Fatal(err)
	}
	seen, _ := json.Marshal(pre.Seen)
	for _, leaked := range []string{"criticality", "snomed", `"sub"`} {
		if strings.Contains(string(seen), leaked) {
			t.Errorf("the preview shows %s: %s", leaked, seen)
		}
	}
	if pre.Token != "" || !strings.Contains(string(seen), `"code":{"display":"Penicillin"}`) || !strings.Contains(string(seen), `"iss":"`+is.DID+`"`) {
		t.Errorf("preview %s (token %q)", seen, pre.Token)
	}
	before, _ := w.History()

	bound, err := w.ShareSDJWT(ctx, ShareSDJWTRequest{CredentialID: c.ID, Disclose: choose, Audience: "Dr Amal Haddad"})
	if err != nil {
		t.Fatal(err)
	}
	if !bound.Bound() || len(bound.Nonce) < 16 {
		t.Fatalf("bound share %+v", bound)
	}
	r := vv.Presentation(ctx, bound.Token, "Dr Amal Haddad", bound.Nonce)
	if !r.Valid {
		b, _ := json.Marshal(r)
		t.Fatalf("verifier: %s", b)
	}
	got, _ := json.Marshal(r.Credentials[0].SDJWT.Credential.Claims)
	if string(got) != `{"code":{"display":"Penicillin"},"reaction":[{"manifestation":"anaphylaxis"}]}` {
		t.Errorf("the verifier got %s", got)
	}
	if again, _ := json.Marshal(bound.Seen); string(again) != string(seen) {
		t.Errorf("shared %s, previewed %s", again, seen)
	}
	if r := vv.Presentation(ctx, bound.Token, "someone else", bound.Nonce); r.Valid {
		t.Error("a share bound to Dr Haddad verified for someone else")
	}

	unbound, err := w.ShareSDJWT(ctx, ShareSDJWTRequest{CredentialID: c.ID, Disclose: choose[:1], Unbound: true})
	if err != nil {
		t.Fatal(err)
	}
	if unbound.Bound() || unbound.Nonce != "" || !strings.HasSuffix(unbound.Token, "~") {
		t.Errorf("unbound share %+v", unbound)
	}
	h, _ := w.History()
	if len(h) != len(before)+2 || h[len(h)-2].Audience != "Dr Amal Haddad" || h[len(h)-1].Audience != UnboundAudience ||
		!slices.Equal(h[len(h)-1].Credentials[0].Attributes, []string{"code", "code.display"}) {
		t.Errorf("history %+v", h[len(before):])
	}
	if b, _ := json.Marshal(h); strings.Contains(string(b), "Penicillin") {
		t.Error("the history holds a claim value")
	}

	vcID, err := w.Receive(ctx, is.Issue(t, me.DID, []string{"AllergyIntoleranceCredential"}, map[string]any{"allergy": "latex"}))
	if err != nil {
		t.Fatal(err)
	}
	h, _ = w.History()
	for name, tc := range map[string]struct {
		req  ShareSDJWTRequest
		want string
	}{
		"nothing chosen":     {ShareSDJWTRequest{CredentialID: c.ID, Audience: "x"}, ErrNothingChosen.Error()},
		"nobody named":       {ShareSDJWTRequest{CredentialID: c.ID, Disclose: choose}, "name who receives it"},
		"named and unbound":  {ShareSDJWTRequest{CredentialID: c.ID, Disclose: choose, Audience: "x", Unbound: true}, "contradict"},
		"control characters": {ShareSDJWTRequest{CredentialID: c.ID, Disclose: choose, Audience: "x\ny"}, "control characters"},
		"unknown detail":     {ShareSDJWTRequest{CredentialID: c.ID, Disclose: []sdjwt.Path{{"bloodType"}}, Audience: "x"}, "not in this credential"},
		"vc+jwt":             {ShareSDJWTRequest{CredentialID: vcID.ID, Disclose: choose, Audience: "x"}, "shared whole"},
	} {
		if _, err := w.PreviewShare(tc.req); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: PreviewShare = %v, want %q", name, err, tc.want)
		}
		if _, err := w.ShareSDJWT(ctx, tc.req); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: ShareSDJWT = %v, want %q", name, err, tc.want)
		}
	}
	if _, err := w.ShareSDJWT(ctx, ShareSDJWTRequest{CredentialID: c.ID, Audience: "x"}); !errors.Is(err, ErrNothingChosen) {
		t.Errorf("nothing chosen: %v, want ErrNothingChosen", err)
	}
	if after, _ := w.History(); len(after) != len(h) {
		t.Errorf("refused shares were recorded: %d events, want %d", len(after), len(h))
	}
}
