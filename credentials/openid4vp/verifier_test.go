package openid4vp

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/medid/medid/credentials/credtest"
	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/credentials/vc"
	"github.com/medid/medid/credentials/verify"
)

const allergyType = "AllergyIntoleranceCredential"

func issue(t testing.TB, iss, holder credtest.Party, typ string, claims map[string]any) string {
	now := time.Now().Add(-time.Minute).UTC().Truncate(time.Second)
	subj := map[string]any{"id": holder.DID}
	for k, v := range claims {
		subj[k] = v
	}
	tok, err := vc.Issue(&vc.Credential{Context: []string{vc.ContextV2}, Type: []string{vc.TypeCredential, typ},
		Issuer: iss.DID, ValidFrom: &now, Subject: subj}, iss.Key, iss.Kid)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func present(t testing.TB, holder credtest.Party, aud, nonce string, creds ...string) string {
	vp, err := vc.SignPresentation(&vc.Presentation{Context: []string{vc.ContextV2}, Type: []string{vc.TypePresentation},
		Holder: holder.DID, Credentials: creds}, holder.Key, holder.Kid, aud, nonce)
	if err != nil {
		t.Fatal(err)
	}
	return vp
}

func newVerifier(t testing.TB) (*Verifier, *httptest.Server) {
	vv, err := verify.New(verify.Config{Resolver: did.KeyResolver{}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(nil)
	srv.Start()
	t.Cleanup(srv.Close)
	v, err := New(Config{URL: srv.URL, Verify: vv, Name: "ER", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = v
	return v, srv
}

func query() DCQLQuery {
	return DCQLQuery{Credentials: []CredentialQuery{NewQuery("allergies", allergyType, "allergy")}}
}

func TestFlow(t *testing.T) {
	ctx := context.Background()
	iss, holder := credtest.NewParty(t, key.Ed25519, "issuer"), credtest.NewParty(t, key.Ed25519, "holder")
	cred := issue(t, iss, holder, allergyType, map[string]any{"allergy": "penicillin"})
	other := issue(t, iss, holder, "ImmunizationCredential", map[string]any{"vaccine": "MMR"})
	v, _ := newVerifier(t)
	v2, _ := newVerifier(t)
	var c Client

	start := func(t *testing.T, v *Verifier) (*Started, *Request) {
		st, err := v.CreateRequest(query())
		if err != nil {
			t.Fatal(err)
		}
		req, err := c.FetchRequest(ctx, st.URI)
		if err != nil {
			t.Fatal(err)
		}
		if req.ClientID != v.ClientID() || req.State != st.State {
			t.Fatalf("fetched request %+v does not match %+v", req, st)
		}
		return st, req
	}

	t.Run("valid", func(t *testing.T) {
		st, req := start(t, v)
		vp := present(t, holder, req.ClientID, req.Nonce, cred)
		if _, err := c.Respond(ctx, req, map[string][]string{"allergies": {vp}}); err != nil {
			t.Fatal(err)
		}
		res, _ := v.Result(st.State)
		if res.Status != StatusValid || res.Claims["allergies"]["credentialSubject.allergy"] != "penicillin" {
			t.Errorf("got %+v, want valid with the allergy claim", res)
		}
		// The same response again: refused, the state is answered.
		_, err := c.Respond(ctx, req, map[string][]string{"allergies": {vp}})
		if code(err) != ErrCodeInvalidRequest {
			t.Errorf("replayed response: got %v, want invalid_request", err)
		}
		// The same presentation replayed to another verifier: wrong audience and nonce.
		st2, req2 := start(t, v2)
		_, err = c.Respond(ctx, req2, map[string][]string{"allergies": {vp}})
		var pe *ProtocolError
		if !errors.As(err, &pe) || pe.Code != ErrCodeInvalidRequest || pe.Reason != verify.ReasonAudienceMismatch {
			t.Errorf("presentation replayed to another verifier: got %v, want invalid_request (audience_mismatch)", err)
		}
		if res, _ := v2.Result(st2.State); res.Status != StatusInvalid {
			t.Errorf("result of the replay: %s, want invalid", res.Status)
		}
	})

	cases := []struct {
		name   string
		vp     func(req *Request) map[string][]string
		reason string
	}{
		{"wrong nonce", func(req *Request) map[string][]string {
			return map[string][]string{"allergies": {present(t, holder, req.ClientID, "other", cred)}}
		}, verify.ReasonNonceMismatch},
		{"wrong type", func(req *Request) map[string][]string {
			return map[string][]string{"allergies": {present(t, holder, req.ClientID, req.Nonce, other)}}
		}, ""},
		{"missing query", func(req *Request) map[string][]string { return map[string][]string{} }, ""},
		{"someone else's credential", func(req *Request) map[string][]string {
			thief := credtest.NewParty(t, key.Ed25519, "thief")
			return map[string][]string{"allergies": {present(t, thief, req.ClientID, req.Nonce, cred)}}
		}, verify.ReasonHolderMismatch},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st, req := start(t, v)
			_, err := c.Respond(ctx, req, tc.vp(req))
			var pe *ProtocolError
			if !errors.As(err, &pe) || pe.Code != ErrCodeInvalidRequest || pe.Reason != tc.reason {
				t.Errorf("got %v, want invalid_request with reason %q", err, tc.reason)
			}
			if res, _ := v.Result(st.State); res.Status != StatusInvalid {
				t.Errorf("result %s, want invalid", res.Status)
			}
		})
	}

	t.Run("declined", func(t *testing.T) {
		st, req := start(t, v)
		if err := c.Decline(ctx, req); err != nil {
			t.Fatal(err)
		}
		res, _ := v.Result(st.State)
		if res.Status != StatusDeclined || res.Error != ErrCodeAccessDenied {
			t.Errorf("got %+v, want declined with access_denied", res)
		}
		if _, err := c.FetchRequest(ctx, URI(st.ClientID, st.RequestURI)); code(err) != ErrCodeInvalidRequest {
			t.Errorf("fetching an answered request: got %v, want invalid_request", err)
		}
	})
}

func code(err error) string {
	var pe *ProtocolError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

func TestParseRequestObjectRefuses(t *testing.T) {
	for _, tc := range []struct{ name, obj string }{
		{"signed", "eyJhbGciOiJFUzI1NiJ9.e30.c2ln"},
		{"not a JWT", "hello"},
		{"wrong response mode", `{"response_type":"vp_token","client_id":"redirect_uri:https://v/r","response_mode":"fragment","response_uri":"https://v/r","nonce":"n","dcql_query":{"credentials":[{"id":"a","format":"vc+jwt","meta":{"type_values":[["X"]]}}]}}`},
		{"client id not the response uri", `{"response_type":"vp_token","client_id":"redirect_uri:https://evil/r","response_mode":"direct_post","response_uri":"https://v/r","nonce":"n","dcql_query":{"credentials":[{"id":"a","format":"vc+jwt","meta":{"type_values":[["X"]]}}]}}`},
		{"no nonce", `{"response_type":"vp_token","client_id":"redirect_uri:https://v/r","response_mode":"direct_post","response_uri":"https://v/r","dcql_query":{"credentials":[{"id":"a","format":"vc+jwt","meta":{"type_values":[["X"]]}}]}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := ParseRequestObject([]byte(tc.obj)); !errors.Is(err, ErrProtocol) {
				t.Errorf("got %v, want a protocol error", err)
			}
		})
	}
}

func FuzzParseRequestObject(f *testing.F) {
	f.Add([]byte(`{"response_type":"vp_token","client_id":"redirect_uri:https://v/r","response_mode":"direct_post","response_uri":"https://v/r","nonce":"n","dcql_query":{"credentials":[{"id":"a","format":"vc+jwt","meta":{"type_values":[["X"]]},"claims":[{"path":["credentialSubject",0,null]}]}]}}`))
	f.Add([]byte(`{"response_type":"vp_token","client_id":"redirect_uri:https://v/r","response_mode":"direct_post","response_uri":"https://v/r","nonce":"n","dcql_query":{"credentials":[{"id":"a","format":"vc+jwt","meta":{"type_values":[["X"]]}},{"id":"b","format":"vc+jwt","meta":{"type_values":[["Y"]]}}],"credential_sets":[{"options":[["a"],["b"]]},{"options":[["b"]],"required":false}]}}`))
	f.Add([]byte("eyJhbGciOiJub25lIn0.e30."))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ParseRequestObject(data)
		if err == nil && r.Validate() != nil {
			t.Fatal("accepted a request that does not validate")
		}
	})
}

func FuzzParseURI(f *testing.F) {
	f.Add("openid4vp://?client_id=redirect_uri%3Ahttps%3A%2F%2Fv%2Fr&request_uri=https%3A%2F%2Fv%2Frequest%2F1")
	f.Add("openid4vp://?client_id=x&response_type=vp_token&dcql_query=%7B%7D")
	f.Fuzz(func(t *testing.T, s string) {
		ParseURI(s) // must not panic
	})
}

func TestInsecureURLsRefused(t *testing.T) {
	for _, u := range []string{
		"openid4vp://?client_id=redirect_uri%3Ahttp%3A%2F%2Fer.example%2Fr&request_uri=http%3A%2F%2Fer.example%2Frequest%2F1",
		"openid4vp://?client_id=x&request_uri=ftp%3A%2F%2F127.0.0.1%2F1",
	} {
		if _, _, _, err := ParseURI(u); code(err) != ErrCodeInvalidRequest {
			t.Errorf("ParseURI(%s): got %v, want invalid_request", u, err)
		}
	}
}
