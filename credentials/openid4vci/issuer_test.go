package openid4vci

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/credentials/vc"
)

const testType = "AllergyIntoleranceCredential"

type counterStatus struct{ n atomic.Int64 }

func (c *counterStatus) Allocate(context.Context) (vc.Status, error) {
	idx := strconv.FormatInt(c.n.Add(1), 10)
	return vc.Status{ID: "urn:list:1#" + idx, Type: "BitstringStatusListEntry", StatusPurpose: "revocation", StatusListIndex: idx, StatusListCredential: "urn:list:1"}, nil
}

type fixture struct {
	is      *Issuer
	srv     *httptest.Server
	now     time.Time
	issKey  *key.PrivateKey
	holder  *key.PrivateKey
	hDID    string
	hKid    string
	clockMu sync.Mutex
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	f := &fixture{now: time.Now()}
	var err error
	if f.issKey, err = key.Generate(key.Ed25519); err != nil {
		t.Fatal(err)
	}
	if f.holder, err = key.Generate(key.P256); err != nil {
		t.Fatal(err)
	}
	f.hDID = did.KeyDID(f.holder.Public())
	f.hKid = f.hDID + "#" + f.holder.Public().Multikey()
	f.srv = httptest.NewUnstartedServer(nil)
	f.srv.Start()
	issDID := did.KeyDID(f.issKey.Public())
	f.is, err = New(Config{
		URL: f.srv.URL, Key: f.issKey, DID: issDID, Kid: issDID + "#" + f.issKey.Public().Multikey(),
		Configurations: map[string]Configuration{testType: NewConfiguration(testType, Display{Name: "Allergies", BackgroundColor: "#12107c"})},
		Resolver:       did.KeyResolver{},
		Status:         &counterStatus{},
		AdminToken:     []byte("admintoken"),
		Now:            func() time.Time { f.clockMu.Lock(); defer f.clockMu.Unlock(); return f.now },
		Logger:         slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	f.srv.Config.Handler = f.is
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fixture) advance(d time.Duration) {
	f.clockMu.Lock()
	f.now = f.now.Add(d)
	f.clockMu.Unlock()
}

func (f *fixture) offer(t testing.TB, pin bool) *OfferResult {
	t.Helper()
	res, err := f.is.CreateOffer(OfferRequest{ConfigurationID: testType, Claims: map[string]any{"allergy": "penicillin"}, TxCode: pin})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestAcceptOffer(t *testing.T) {
	f := newFixture(t)
	for _, pin := range []bool{false, true} {
		res := f.offer(t, pin)
		o, ref, err := ParseOfferURI(res.URI)
		if err != nil || ref != "" {
			t.Fatalf("ParseOfferURI: %v %q", err, ref)
		}
		var c Client
		acc, err := c.Accept(context.Background(), AcceptRequest{
			Offer: o, Key: f.holder, Kid: f.hKid,
			TxCode: func(*TxCode) (string, error) { return res.TxCode, nil },
		})
		if err != nil {
			t.Fatalf("pin=%v: %v", pin, err)
		}
		cred, err := vc.Verify(context.Background(), acc.Credentials[0], func(ctx context.Context, kid string) (key.PublicKey, error) {
			return f.issKey.Public(), nil
		}, vc.VerifyOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got := cred.SubjectID(); got != f.hDID {
			t.Errorf("subject = %s, want the holder %s", got, f.hDID)
		}
		if got := cred.Subject["allergy"]; got != "penicillin" {
			t.Errorf("allergy = %v, want penicillin", got)
		}
		if !cred.HasType(testType) || len(cred.Status) != 1 {
			t.Errorf("types %v, status %v: want %s with a status entry", cred.Type, cred.Status, testType)
		}
	}
}

// protoCode returns the error code of err, or "" when it is not a protocol error.
func protoCode(err error) string {
	var pe *ProtocolError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

func TestBadInput(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	var c Client
	tokenURL, credURL, nonceURL := f.srv.URL+"/token", f.srv.URL+"/credential", f.srv.URL+"/nonce"
	good := func(t *testing.T, pin bool) (*OfferResult, *TokenResponse) {
		o := f.offer(t, pin)
		tok, err := c.Token(ctx, tokenURL, o.Offer.Grants.PreAuthorized.Code, o.TxCode)
		if err != nil {
			t.Fatal(err)
		}
		return o, tok
	}
	other, _ := key.Generate(key.Ed25519)
	otherKid := did.KeyDID(other.Public()) + "#" + other.Public().Multikey()
	cases := []struct {
		name string
		run  func(t *testing.T) error
		want string
	}{
		{"wrong pre-authorized code", func(t *testing.T) error {
			_, err := c.Token(ctx, tokenURL, "nope", "")
			return err
		}, ErrCodeInvalidGrant},
		{"reused pre-authorized code", func(t *testing.T) error {
			o, _ := good(t, false)
			_, err := c.Token(ctx, tokenURL, o.Offer.Grants.PreAuthorized.Code, "")
			return err
		}, ErrCodeInvalidGrant},
		{"wrong PIN", func(t *testing.T) error {
			o := f.offer(t, true)
			wrong := "000000"
			if o.TxCode == wrong {
				wrong = "111111"
			}
			_, err := c.Token(ctx, tokenURL, o.Offer.Grants.PreAuthorized.Code, wrong)
			return err
		}, ErrCodeInvalidGrant},
		{"missing PIN", func(t *testing.T) error {
			o := f.offer(t, true)
			_, err := c.Token(ctx, tokenURL, o.Offer.Grants.PreAuthorized.Code, "")
			return err
		}, ErrCodeInvalidRequest},
		{"expired offer", func(t *testing.T) error {
			o := f.offer(t, false)
			f.advance(DefaultOfferTTL + time.Second)
			_, err := c.Token(ctx, tokenURL, o.Offer.Grants.PreAuthorized.Code, "")
			return err
		}, ErrCodeInvalidGrant},
		{"proof with the wrong nonce", func(t *testing.T) error {
			_, tok := good(t, false)
			p, _ := MakeProof(f.holder, f.hKid, f.srv.URL, "not-a-nonce", f.now)
			_, err := c.Credential(ctx, credURL, tok.AccessToken, testType, p)
			return err
		}, ErrCodeInvalidNonce},
		{"proof nonce used twice", func(t *testing.T) error {
			_, tok := good(t, false)
			n, _ := c.Nonce(ctx, nonceURL)
			p, _ := MakeProof(f.holder, f.hKid, f.srv.URL, n, f.now)
			if _, err := c.Credential(ctx, credURL, tok.AccessToken, testType, p); err != nil {
				t.Fatal(err)
			}
			_, tok2 := good(t, false)
			_, err := c.Credential(ctx, credURL, tok2.AccessToken, testType, p)
			return err
		}, ErrCodeInvalidNonce},
		{"proof signed by another key than kid", func(t *testing.T) error {
			_, tok := good(t, false)
			n, _ := c.Nonce(ctx, nonceURL)
			p, _ := MakeProof(other, f.hKid, f.srv.URL, n, f.now)
			_, err := c.Credential(ctx, credURL, tok.AccessToken, testType, p)
			return err
		}, ErrCodeInvalidProof},
		{"proof for another issuer", func(t *testing.T) error {
			_, tok := good(t, false)
			n, _ := c.Nonce(ctx, nonceURL)
			p, _ := MakeProof(other, otherKid, "https://other.example", n, f.now)
			_, err := c.Credential(ctx, credURL, tok.AccessToken, testType, p)
			return err
		}, ErrCodeInvalidProof},
		{"stale proof iat", func(t *testing.T) error {
			_, tok := good(t, false)
			n, _ := c.Nonce(ctx, nonceURL)
			p, _ := MakeProof(f.holder, f.hKid, f.srv.URL, n, f.now.Add(-time.Hour))
			_, err := c.Credential(ctx, credURL, tok.AccessToken, testType, p)
			return err
		}, ErrCodeInvalidProof},
		{"unknown configuration", func(t *testing.T) error {
			_, tok := good(t, false)
			n, _ := c.Nonce(ctx, nonceURL)
			p, _ := MakeProof(f.holder, f.hKid, f.srv.URL, n, f.now)
			_, err := c.Credential(ctx, credURL, tok.AccessToken, "LicenceCredential", p)
			return err
		}, ErrCodeUnknownConfiguration},
		{"no access token", func(t *testing.T) error {
			_, err := c.Credential(ctx, credURL, "", testType, "x.y.z")
			return err
		}, ErrCodeInvalidToken},
		{"access token used twice", func(t *testing.T) error {
			_, tok := good(t, false)
			for i := 0; i < 2; i++ {
				n, _ := c.Nonce(ctx, nonceURL)
				p, _ := MakeProof(f.holder, f.hKid, f.srv.URL, n, f.now)
				if _, err := c.Credential(ctx, credURL, tok.AccessToken, testType, p); err != nil {
					return err
				}
			}
			return nil
		}, ErrCodeInvalidToken},
		{"no proof", func(t *testing.T) error {
			_, tok := good(t, false)
			req, _ := http.NewRequest(http.MethodPost, credURL, strings.NewReader(`{"credential_configuration_id":"`+testType+`"}`))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
			return c.do(req, new(any))
		}, ErrCodeInvalidProof},
		{"draft 13 request for an unsupported type", func(t *testing.T) error {
			_, tok := good(t, false)
			req, _ := http.NewRequest(http.MethodPost, credURL, strings.NewReader(`{"format":"vc+jwt","credential_definition":{"type":["VerifiableCredential","X"]},"proof":{"proof_type":"jwt","jwt":"a.b.c"}}`))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
			return c.do(req, new(any))
		}, ErrCodeUnsupportedType},
		{"malformed credential request", func(t *testing.T) error {
			_, tok := good(t, false)
			req, _ := http.NewRequest(http.MethodPost, credURL, strings.NewReader(`[1,2`))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
			return c.do(req, new(any))
		}, ErrCodeInvalidCredentialRequest},
		{"admin without token", func(t *testing.T) error {
			req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/admin/offers", strings.NewReader(`{"credential_configuration_id":"`+testType+`"}`))
			return c.do(req, new(any))
		}, ErrCodeInvalidToken},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run(t)
			if got := protoCode(err); got != tc.want {
				t.Errorf("got error %v (code %q), want code %q", err, got, tc.want)
			}
		})
	}
	t.Run("wrong grant type", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, tokenURL, strings.NewReader("grant_type=authorization_code&code=x"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		err := c.do(req, new(any))
		if got := protoCode(err); got != ErrCodeUnsupportedGrantType {
			t.Errorf("got %v, want %s", err, ErrCodeUnsupportedGrantType)
		}
	})
	t.Run("PIN brute force withdraws the offer", func(t *testing.T) {
		o := f.offer(t, true)
		wrong := "000000"
		if o.TxCode == wrong {
			wrong = "111111"
		}
		for range MaxTxCodeAttempts {
			c.Token(ctx, tokenURL, o.Offer.Grants.PreAuthorized.Code, wrong)
		}
		_, err := c.Token(ctx, tokenURL, o.Offer.Grants.PreAuthorized.Code, o.TxCode)
		if got := protoCode(err); got != ErrCodeInvalidGrant {
			t.Errorf("the right PIN after %d wrong ones: got %v, want invalid_grant", MaxTxCodeAttempts, err)
		}
	})
}

func TestMetadata(t *testing.T) {
	f := newFixture(t)
	var c Client
	m, err := c.Metadata(context.Background(), f.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	conf := m.Configurations[testType]
	if conf.Format != FormatVCJWT || m.NonceEndpoint != f.srv.URL+"/nonce" {
		t.Errorf("got %+v", m)
	}
	got := append([]string(nil), conf.BindingMethods...)
	sort.Strings(got)
	if strings.Join(got, ",") != "did:key,did:medid" {
		t.Errorf("binding methods %v", got)
	}
}

func TestOfferOverPlainHTTPRefused(t *testing.T) {
	uri := "openid-credential-offer://?credential_offer=" + url.QueryEscape(`{"credential_issuer":"http://hospital.example","credential_configuration_ids":["A"],"grants":{"urn:ietf:params:oauth:grant-type:pre-authorized_code":{"pre-authorized_code":"c"}}}`)
	if _, _, err := ParseOfferURI(uri); protoCode(err) != ErrCodeInvalidRequest {
		t.Errorf("got %v, want invalid_request for an http issuer off loopback", err)
	}
}
