package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
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

func TestHealthz(t *testing.T) {
	for _, tc := range []struct {
		name string
		st   node.Status
		want int
	}{
		{"caught up", node.Status{Height: 5}, 200},
		{"catching up", node.Status{Height: 5, CatchingUp: true}, 503},
		{"no block yet", node.Status{}, 503},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newTestServer(t, &fakeLedger{status: tc.st})
			w := httptest.NewRecorder()
			s.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/healthz", nil))
			if w.Code != tc.want {
				t.Errorf("status %d, want %d", w.Code, tc.want)
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
