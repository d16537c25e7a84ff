package openid4vp

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/medid/medid/credentials/credtest"
	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/credentials/verify"
)

// TestAccept: a response that passed every check is still refused when
// Config.Accept says no, with access_denied and Accept's reason; Accept
// sees the verified holder and presentation.
func TestAccept(t *testing.T) {
	ctx := context.Background()
	iss, holder := credtest.NewParty(t, key.Ed25519, "issuer"), credtest.NewParty(t, key.Ed25519, "holder")
	cred := issue(t, iss, holder, allergyType, map[string]any{"allergy": "penicillin"})
	vv, err := verify.New(verify.Config{Resolver: did.KeyResolver{}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(nil)
	t.Cleanup(srv.Close)
	refuse := true
	var seen string
	v, err := New(Config{URL: srv.URL, Verify: vv, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Accept: func(_ context.Context, res *Result) error {
			seen = res.Holder
			if p := res.Presentations["allergies"]; p == nil || p.Presentation == nil || len(p.Presentation.Credentials) != 1 {
				return errors.New("no presentation")
			}
			if refuse {
				return errors.New("the licensing body is not in the directory")
			}
			return nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = v
	var c Client
	for _, tc := range []struct {
		refuse bool
		status string
	}{{true, StatusInvalid}, {false, StatusValid}} {
		refuse = tc.refuse
		st, err := v.CreateRequest(query())
		if err != nil {
			t.Fatal(err)
		}
		req, err := c.FetchRequest(ctx, st.URI)
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Respond(ctx, req, map[string][]string{"allergies": {present(t, holder, req.ClientID, req.Nonce, cred)}})
		var pe *ProtocolError
		if tc.refuse && (!errors.As(err, &pe) || pe.Code != ErrCodeAccessDenied || !strings.Contains(pe.Description, "not in the directory")) {
			t.Errorf("refused by Accept: got %v, want access_denied with its reason", err)
		}
		if !tc.refuse && err != nil {
			t.Errorf("accepted: %v", err)
		}
		if res, _ := v.Result(st.State); res.Status != tc.status || seen != holder.DID {
			t.Errorf("result %s (Accept saw %q), want %s (Accept sees %s)", res.Status, seen, tc.status, holder.DID)
		}
	}
}

// TestUnansweredRequestsDoNotBlock: requests made and left unanswered
// stop counting against MaxPending once they expire.
func TestUnansweredRequestsDoNotBlock(t *testing.T) {
	vv, err := verify.New(verify.Config{Resolver: did.KeyResolver{}})
	if err != nil {
		t.Fatal(err)
	}
	clk := credtest.NewClock(time.Now())
	v, err := New(Config{URL: "https://vault.example", Verify: vv, MaxPending: 3, RequestTTL: time.Minute, Now: clk.Now,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := v.CreateRequest(query()); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := v.CreateRequest(query()); code(err) != ErrCodeInvalidRequest {
		t.Fatalf("a fourth pending request: got %v, want refused", err)
	}
	clk.Advance(2 * time.Minute)
	if _, err := v.CreateRequest(query()); err != nil {
		t.Errorf("after the three expired: %v", err)
	}
}
