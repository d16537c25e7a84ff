package openid4vci

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/jose"
	"github.com/medid/medid/credentials/key"
)

// TestCredentialRetry: a wallet whose credential response was lost repeats
// the request with the same access token and proof, and gets the same
// credential (not a second one); other reuses of the token are refused,
// and so is a retry after the window.
func TestCredentialRetry(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	var c Client
	tokenURL, credURL, nonceURL := f.srv.URL+"/token", f.srv.URL+"/credential", f.srv.URL+"/nonce"
	start := func(t *testing.T) (string, string) {
		o := f.offer(t, false)
		tok, err := c.Token(ctx, tokenURL, o.Offer.Grants.PreAuthorized.Code, "")
		if err != nil {
			t.Fatal(err)
		}
		n, err := c.Nonce(ctx, nonceURL)
		if err != nil {
			t.Fatal(err)
		}
		p, err := MakeProof(f.holder, f.hKid, f.srv.URL, n, f.now)
		if err != nil {
			t.Fatal(err)
		}
		return tok.AccessToken, p
	}
	st := f.is.cfg.Status.(*counterStatus)

	t.Run("same request again", func(t *testing.T) {
		at, p := start(t)
		first, err := c.Credential(ctx, credURL, at, testType, p)
		if err != nil {
			t.Fatal(err)
		}
		allocated := st.n.Load()
		f.advance(30 * time.Second)
		again, err := c.Credential(ctx, credURL, at, testType, p)
		if err != nil {
			t.Fatalf("retry within the window: %v", err)
		}
		if again != first {
			t.Error("the retry got a different credential")
		}
		if st.n.Load() != allocated {
			t.Error("the retry allocated a second status entry: a second credential was issued")
		}
	})
	t.Run("new proof nonce on a used token", func(t *testing.T) {
		at, p := start(t)
		if _, err := c.Credential(ctx, credURL, at, testType, p); err != nil {
			t.Fatal(err)
		}
		n, _ := c.Nonce(ctx, nonceURL)
		p2, _ := MakeProof(f.holder, f.hKid, f.srv.URL, n, f.now)
		if _, err := c.Credential(ctx, credURL, at, testType, p2); protoCode(err) != ErrCodeInvalidToken {
			t.Errorf("err = %v, want invalid_token", err)
		}
	})
	t.Run("same nonce, another key", func(t *testing.T) {
		at, p := start(t)
		if _, err := c.Credential(ctx, credURL, at, testType, p); err != nil {
			t.Fatal(err)
		}
		other, _ := key.Generate(key.Ed25519)
		_, claims, _ := strings.Cut(p, ".")
		var pc ProofClaims
		b, _ := jose.Decode(claims[:strings.IndexByte(claims, '.')])
		json.Unmarshal(b, &pc)
		p2, err := MakeProof(other, did.KeyDID(other.Public())+"#"+other.Public().Multikey(), f.srv.URL, pc.Nonce, f.now)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Credential(ctx, credURL, at, testType, p2); protoCode(err) != ErrCodeInvalidToken {
			t.Errorf("err = %v, want invalid_token", err)
		}
	})
	t.Run("after the window", func(t *testing.T) {
		at, p := start(t)
		if _, err := c.Credential(ctx, credURL, at, testType, p); err != nil {
			t.Fatal(err)
		}
		f.advance(DefaultRetryWindow + time.Second)
		if _, err := c.Credential(ctx, credURL, at, testType, p); protoCode(err) != ErrCodeInvalidToken {
			t.Errorf("err = %v, want invalid_token", err)
		}
	})
}

// TestASMetadataAdvertisesWhatIsServed: no authorization endpoint, so no
// response type (in particular not the implicit grant's "token").
func TestASMetadataAdvertisesWhatIsServed(t *testing.T) {
	f := newFixture(t)
	resp, err := http.Get(f.srv.URL + WellKnownAS)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	rt, ok := m["response_types_supported"].([]any)
	if !ok || len(rt) != 0 {
		t.Errorf("response_types_supported = %v, want [] (no authorization endpoint is served)", m["response_types_supported"])
	}
	if _, ok := m["authorization_endpoint"]; ok {
		t.Error("an authorization endpoint is advertised but not served")
	}
	if gt, _ := m["grant_types_supported"].([]any); len(gt) != 1 || gt[0] != GrantPreAuthorized {
		t.Errorf("grant_types_supported = %v", gt)
	}
}

// TestVC11FormatRefused: a draft-13 request for jwt_vc_json (VC 1.1) is
// refused rather than answered with a VC 2.0 token a 1.1 processor would
// misread; the metadata labels the credentials vc+jwt.
func TestVC11FormatRefused(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	var c Client
	o := f.offer(t, false)
	tok, err := c.Token(ctx, f.srv.URL+"/token", o.Offer.Grants.PreAuthorized.Code, "")
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/credential", strings.NewReader(`{"format":"jwt_vc_json","credential_definition":{"type":["VerifiableCredential","`+testType+`"]},"proof":{"proof_type":"jwt","jwt":"a.b.c"}}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	if err := c.do(req, new(any)); protoCode(err) != ErrCodeUnsupportedFormat {
		t.Errorf("err = %v, want %s", err, ErrCodeUnsupportedFormat)
	}
	if got := f.is.Metadata().Configurations[testType].Format; got != FormatVCJWT {
		t.Errorf("format %q, want %q", got, FormatVCJWT)
	}
}
