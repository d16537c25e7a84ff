package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/cometbft/cometbft/types"

	"github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/node"
)

// fakeLedger answers Submit with a fixed outcome.
type fakeLedger struct {
	res    *node.TxResult
	err    error
	status node.Status
}

func (f *fakeLedger) Submit(context.Context, []byte) (*node.TxResult, error) { return f.res, f.err }
func (f *fakeLedger) Query(context.Context, string, []byte, int64, bool) (*abci.ResponseQuery, error) {
	return nil, errors.New("no queries in this fake")
}
func (f *fakeLedger) SignedHeader(context.Context, int64) (*types.SignedHeader, *types.ValidatorSet, error) {
	return nil, nil, errors.New("no headers in this fake")
}
func (f *fakeLedger) Status(context.Context) (node.Status, error) { return f.status, nil }
func (f *fakeLedger) Height() int64                               { return f.status.Height }
func (f *fakeLedger) Header(int64) *types.Header                  { return nil }

type emptyState struct{}

func (emptyState) ResolveDID(string, ledger.ResolveOptions) (*ledger.DIDRecord, error) {
	return nil, ledger.ErrNotFound
}
func (emptyState) Accreditations(string) (*ledger.IssuerRecord, error) {
	return nil, ledger.ErrNotFound
}
func (emptyState) StatusList(string, int64) (*ledger.StatusListRecord, error) {
	return nil, ledger.ErrNotFound
}
func (emptyState) LastCommit() (int64, []byte) { return 0, nil }

func newTestServer(t *testing.T, l *fakeLedger) *Server {
	t.Helper()
	s, err := New(Config{State: emptyState{}, Ledger: l, Logger: nil})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSubmitErrorMapping(t *testing.T) {
	for _, tc := range []struct {
		name       string
		err        error
		body       string
		ctype      string
		wantStatus int
		wantType   string
		retryAfter bool
	}{
		{"mempool full", fmt.Errorf("%w: x", node.ErrMempoolFull), "a.b.c", "application/jose", 503, "mempool-full", true},
		{"duplicate", node.ErrDuplicate, "a.b.c", "application/jose", 409, "duplicate", false},
		{"bad signature", &node.RejectedError{Stage: "check", Code: ledger.CodeBadSignature, Codespace: ledger.Codespace, Log: "sig"}, "a.b.c", "application/jose", 400, "bad-signature", false},
		{"unauthorized", &node.RejectedError{Stage: "deliver", Code: ledger.CodeUnauthorized, Log: "no"}, "a.b.c", "", 403, "unauthorized", false},
		{"replay", &node.RejectedError{Code: ledger.CodeReplay}, "a.b.c", "", 409, "replay", false},
		{"invalid", &node.RejectedError{Code: ledger.CodeInvalid}, "a.b.c", "", 422, "invalid", false},
		{"timeout", fmt.Errorf("waiting: %w", context.DeadlineExceeded), "a.b.c", "", 504, "commit-timeout", false},
		{"oversized body", nil, strings.Repeat("x", 70<<10), "application/jose", 413, "too-large", false},
		{"empty body", nil, "  ", "application/jose", 400, "malformed", false},
		{"wrong media type", nil, "{}", "application/json", 415, "unsupported-media-type", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newTestServer(t, &fakeLedger{err: tc.err})
			req := httptest.NewRequest(http.MethodPost, "/1.0/transactions", strings.NewReader(tc.body))
			if tc.ctype != "" {
				req.Header.Set("Content-Type", tc.ctype)
			}
			w := httptest.NewRecorder()
			s.ServeHTTP(w, req)
			if w.Code != tc.wantStatus || !strings.Contains(w.Body.String(), `"type":"https://medid.dev/problems/`+tc.wantType+`"`) {
				t.Errorf("got %d %s, want %d %s", w.Code, w.Body, tc.wantStatus, tc.wantType)
			}
			if got := w.Header().Get("Content-Type"); got != "application/problem+json" {
				t.Errorf("Content-Type = %q, want application/problem+json", got)
			}
			if got := w.Header().Get("Retry-After") != ""; got != tc.retryAfter {
				t.Errorf("Retry-After present = %v, want %v", got, tc.retryAfter)
			}
		})
	}
}

// TestHealthAndReadiness: /healthz is liveness (200 whatever the node's
// state); /readyz is 200 only when every check passes, else 503 with a
// JSON body naming each failing check.
func TestHealthAndReadiness(t *testing.T) {
	failing := func(msg string) func(context.Context) error {
		return func(context.Context) error { return errors.New(msg) }
	}
	hang := func(ctx context.Context) error { <-ctx.Done(); time.Sleep(3 * time.Second); return nil }
	for _, tc := range []struct {
		name        string
		st          node.Status
		checks      []Check
		want        int
		wantFailing []string
	}{
		{"caught up", node.Status{Height: 5}, nil, 200, nil},
		{"catching up", node.Status{Height: 5, CatchingUp: true}, nil, 503, []string{"node"}},
		{"no block yet", node.Status{}, nil, 503, []string{"node"}},
		{"all checks pass", node.Status{Height: 5}, []Check{{"consensus", func(context.Context) error { return nil }}, {"state", func(context.Context) error { return nil }}}, 200, nil},
		{"halted and corrupt", node.Status{Height: 5}, []Check{{"consensus", failing("engine stopped")}, {"state", failing("corrupt table")}, {"peers", func(context.Context) error { return nil }}}, 503, []string{"consensus", "state"}},
		{"a check that hangs", node.Status{Height: 5}, []Check{{"state", hang}}, 503, []string{"state"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := New(Config{State: emptyState{}, Ledger: &fakeLedger{status: tc.st}, Checks: tc.checks})
			if err != nil {
				t.Fatal(err)
			}
			w := httptest.NewRecorder()
			s.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/healthz", nil))
			if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"status":"ok"`) {
				t.Errorf("/healthz = %d %s, want 200 ok", w.Code, w.Body)
			}
			w = httptest.NewRecorder()
			s.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/readyz", nil))
			var got Readiness
			if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
				t.Fatalf("/readyz body %s: %v", w.Body, err)
			}
			if w.Code != tc.want || !slices.Equal(got.Failing, tc.wantFailing) {
				t.Errorf("/readyz = %d failing %v, want %d failing %v (%s)", w.Code, got.Failing, tc.want, tc.wantFailing, w.Body)
			}
			for _, c := range got.Checks {
				if !c.OK && c.Detail == "" {
					t.Errorf("failing check %s has no detail", c.Name)
				}
			}
			if got.Node == nil || got.Node.Height != tc.st.Height {
				t.Errorf("/readyz node = %+v, want height %d", got.Node, tc.st.Height)
			}
		})
	}
}

// TestMethodNotAllowed: every route answers a wrong method with 405, an
// Allow header and a problem object; unknown paths stay 404.
func TestMethodNotAllowed(t *testing.T) {
	s := newTestServer(t, &fakeLedger{status: node.Status{Height: 1}})
	for _, tc := range []struct {
		method, path string
		status       int
		allow        string
	}{
		{"POST", "/1.0/identifiers/did:example:123", 405, "GET, HEAD, OPTIONS"},
		{"DELETE", "/1.0/status-lists/abc", 405, "GET, HEAD, OPTIONS"},
		{"PUT", "/1.0/issuers/did:example:1", 405, "GET, HEAD, OPTIONS"},
		{"POST", "/1.0/consents/abc", 405, "GET, HEAD, OPTIONS"},
		{"GET", "/1.0/transactions", 405, "POST, OPTIONS"},
		{"POST", "/1.0/audit/v/b", 405, "GET, HEAD, OPTIONS"},
		{"POST", "/healthz", 405, "GET, HEAD, OPTIONS"},
		{"POST", "/readyz", 405, "GET, HEAD, OPTIONS"},
		{"DELETE", "/metrics", 405, "GET, HEAD, OPTIONS"},
		{"GET", "/1.0/nothing", 404, ""},
		{"POST", "/", 404, ""},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			w := httptest.NewRecorder()
			s.ServeHTTP(w, httptest.NewRequest(tc.method, tc.path, strings.NewReader("x")))
			if w.Code != tc.status || w.Header().Get("Allow") != tc.allow {
				t.Errorf("got %d Allow %q, want %d Allow %q", w.Code, w.Header().Get("Allow"), tc.status, tc.allow)
			}
			if w.Header().Get("Content-Type") != "application/problem+json" || !strings.Contains(w.Body.String(), `"status":`+strconv.Itoa(tc.status)) {
				t.Errorf("body %s (%s), want a problem object", w.Body, w.Header().Get("Content-Type"))
			}
		})
	}
}

func TestNegotiate(t *testing.T) {
	for _, tc := range []struct {
		accept string
		want   string // "" = 406
		full   bool
	}{
		{"", MediaDIDResolution, true},
		{"*/*", MediaDIDResolution, true},
		{"application/did-resolution", MediaDIDResolution, true},
		{`application/ld+json;profile="https://w3id.org/did-resolution"`, `application/ld+json;profile="https://w3id.org/did-resolution"`, true},
		{"application/ld+json", "", false},
		{"application/did+json", MediaDIDJSON, false},
		{"application/did+ld+json", MediaDIDLDJSON, false},
		{"application/did+json;q=0.2, application/did+ld+json;q=0.9", MediaDIDLDJSON, false},
		{"application/did+json;q=0", "", false},
		{"text/html", "", false},
		{"text/html, */*;q=0.1", MediaDIDResolution, true},
		{";;;,", "", false},
	} {
		t.Run(tc.accept, func(t *testing.T) {
			rep, ok := negotiate(tc.accept)
			if got := map[bool]string{true: rep.contentType, false: ""}[ok]; got != tc.want || (ok && rep.full != tc.full) {
				t.Errorf("negotiate(%q) = %q full=%v, want %q full=%v", tc.accept, got, rep.full, tc.want, tc.full)
			}
		})
	}
}

func TestStatusListAndIssuerNotFound(t *testing.T) {
	s := newTestServer(t, &fakeLedger{})
	for _, tc := range []struct {
		path string
		want int
	}{
		{"/1.0/status-lists/nope", 404},
		{"/1.0/status-lists/nope?version=0", 400},
		{"/1.0/issuers/did:medid:x", 404},
		{"/1.0/issuers/did:medid:x?type=T&at=" + time.Now().UTC().Format(time.RFC3339), 200},
		{"/1.0/issuers/did:medid:x?type=T&at=yesterday", 400},
		{"/1.0/issuers/notadid", 400},
		{"/1.0/identifiers/did:medid:x?versionTime=never", 400},
		{"/1.0/identifiers/did:medid:x?versionId=1&versionTime=2024-01-01T00:00:00Z", 400},
		{"/2.0/whatever", 404},
	} {
		t.Run(tc.path, func(t *testing.T) {
			w := httptest.NewRecorder()
			s.ServeHTTP(w, httptest.NewRequest(http.MethodGet, tc.path, nil))
			if w.Code != tc.want {
				t.Errorf("GET %s: %d %s, want %d", tc.path, w.Code, w.Body, tc.want)
			}
		})
	}
}

// FuzzNegotiate: any Accept header yields a supported representation or a
// 406, never a panic.
func FuzzNegotiate(f *testing.F) {
	for _, s := range []string{"", "*/*", `application/ld+json;profile="https://w3id.org/did-resolution"`, "application/did+json;q=0.5,text/html", "a/b;q=NaN", ";q=1e999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, accept string) {
		rep, ok := negotiate(accept)
		if ok && rep.contentType == "" {
			t.Fatalf("negotiate(%q) accepted with no content type", accept)
		}
	})
}

// FuzzResolvePath: any identifier path is answered with a well-formed
// status and never panics.
func FuzzResolvePath(f *testing.F) {
	s, err := New(Config{State: emptyState{}, Ledger: &fakeLedger{}})
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range []string{"did:medid:abc", "did%3Amedid%3Aabc", "did:key:z6Mk", "not-a-did", "did:web:a%2Fb", "did:medid:a/b/c"} {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, p string) {
		req, err := http.NewRequest(http.MethodGet, "http://x/1.0/identifiers/"+p, nil)
		if err != nil {
			return
		}
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		if w.Code < 200 || w.Code > 599 {
			t.Fatalf("status %d", w.Code)
		}
	})
}
