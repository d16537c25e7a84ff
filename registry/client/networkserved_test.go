package client

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/registry/ledger"
)

// TestNetworkIfServed: a registry without GET /1.0/network (404, one
// that predates the network's policy and protocols) reads as no network
// information and no error, so approvals name no filing and changes are
// submitted with one signature; any other failure is an error.
func TestNetworkIfServed(t *testing.T) {
	for _, tc := range []struct {
		name    string
		status  int
		body    string
		wantNil bool
		wantErr bool
		named   bool
		block   bool
	}{
		{"not served", http.StatusNotFound, `{"type":"about:blank","title":"Not Found","status":404}`, true, false, false, false},
		{"server error", http.StatusInternalServerError, `{"type":"about:blank","title":"Internal Server Error","status":500}`, true, true, false, false},
		{"protocol 5", http.StatusOK, `{"chainId":"x","height":10,"protocol":{"version":5}}`, false, false, true, true},
		{"protocol 4, upgrade to 5 at the next block", http.StatusOK, `{"chainId":"x","height":10,"protocol":{"version":4,"upgrade":{"version":5,"height":11}}}`, false, false, true, true},
		{"protocol 4", http.StatusOK, `{"chainId":"x","height":10,"protocol":{"version":4}}`, false, false, true, false},
		{"protocol 3", http.StatusOK, `{"chainId":"x","height":10,"protocol":{"version":3}}`, false, false, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/1.0/network" {
					http.NotFound(w, r)
					return
				}
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tc.status)
				_, _ = w.Write([]byte(tc.body))
			}))
			defer srv.Close()
			c, err := New(Config{URL: srv.URL})
			if err != nil {
				t.Fatal(err)
			}
			ni, err := c.networkIfServed(context.Background())
			if (ni == nil) != tc.wantNil || (err != nil) != tc.wantErr {
				t.Fatalf("networkIfServed = %+v, %v", ni, err)
			}
			named, block, err := c.approvalsNameFiling(context.Background())
			if (err != nil) != tc.wantErr || named != tc.named || block != tc.block {
				t.Fatalf("approvalsNameFiling = %v, %v, %v; want %v, %v (error %v)", named, block, err, tc.named, tc.block, tc.wantErr)
			}
		})
	}
}

// TestApproveFilingBlockBelow5: a record naming its filing's block, read
// from a network whose next block runs below protocol 5 (which has no
// such name), is an answer no registry gives: ApproveFiling signs and
// submits nothing.
func TestApproveFilingBlockBelow5(t *testing.T) {
	posts := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			posts++
		}
		if r.URL.Path != "/1.0/network" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"chainId":"x","height":10,"protocol":{"version":4}}`))
	}))
	defer srv.Close()
	c, err := New(Config{URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	gov, err := key.Generate(key.Ed25519)
	if err != nil {
		t.Fatal(err)
	}
	rec := &ledger.ProposalRecord{ID: "gov-1", Height: 9, FilingBlock: strings.Repeat("ab", 32)}
	if _, _, err := c.ApproveFiling(context.Background(), gov, rec); !errors.Is(err, ErrUnexpected) {
		t.Fatalf("ApproveFiling: %v, want ErrUnexpected", err)
	}
	if posts != 0 {
		t.Fatalf("%d requests other than reads", posts)
	}
}
