package client_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/registry/client"
	"github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/node/nodetest"
	"github.com/medid/medid/registry/tx"
)

// The tools of the lying-node tests (red teams 4 and 5, protocol 5): a
// node's API as a malicious node, or anything between it and the client,
// answers it.

// lyingTransport is an http.RoundTripper made of a function.
type lyingTransport func(*http.Request) (*http.Response, error)

func (f lyingTransport) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// readsProposal reports whether r reads a proposal record.
func readsProposal(r *http.Request) bool {
	return r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/1.0/network/proposals/")
}

// withMember returns the JSON object rec with member name set to the JSON
// text v, or removed when v is nil.
func withMember(t *testing.T, rec []byte, name string, v json.RawMessage) []byte {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(rec, &m); err != nil {
		t.Errorf("record: %v", err)
		return rec
	}
	if v == nil {
		delete(m, name)
	} else {
		m[name] = v
	}
	b, _ := json.Marshal(m)
	return b
}

// rewriteAnswers passes every request through to the node and rewrites
// the JSON body of the answers match selects with edit (and the value in
// the proof header too, when the client asked for one, as a node that
// lies with care would), counting the requests that are not GETs in posts
// (if not nil).
func rewriteAnswers(match func(*http.Request) bool, edit func([]byte) []byte, posts *atomic.Int32) lyingTransport {
	return func(r *http.Request) (*http.Response, error) {
		if r.Method != http.MethodGet && posts != nil {
			posts.Add(1)
		}
		resp, err := http.DefaultTransport.RoundTrip(r)
		if err != nil || !match(r) || resp.StatusCode != http.StatusOK {
			return resp, err
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return nil, err
		}
		body = edit(body)
		resp.Body = io.NopCloser(bytes.NewReader(body))
		resp.ContentLength = int64(len(body))
		resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
		if ph := resp.Header.Get(ledger.ProofHeader); ph != "" {
			b, _ := base64.RawURLEncoding.DecodeString(ph)
			var p map[string]any
			_ = json.Unmarshal(b, &p)
			v, _ := base64.StdEncoding.DecodeString(p["value"].(string))
			p["value"] = base64.StdEncoding.EncodeToString(edit(v))
			b, _ = json.Marshal(p)
			resp.Header.Set(ledger.ProofHeader, base64.RawURLEncoding.EncodeToString(b))
		}
		return resp, nil
	}
}

// showFilingHeight answers every proposal read with the record's filing
// height (its member "height") changed to h.
func showFilingHeight(t *testing.T, h int64) lyingTransport {
	return rewriteAnswers(readsProposal, func(b []byte) []byte {
		return withMember(t, b, "height", json.RawMessage(strconv.FormatInt(h, 10)))
	}, nil)
}

// showFilingBlock answers every proposal read with the record's filing
// block changed to b ("" none: a filing made before protocol 5).
func showFilingBlock(t *testing.T, b string) lyingTransport {
	var v json.RawMessage
	if b != "" {
		v = json.RawMessage(strconv.Quote(b))
	}
	return rewriteAnswers(readsProposal, func(rec []byte) []byte { return withMember(t, rec, "filingBlock", v) }, nil)
}

// throughNode returns a function that makes a client of s's API whose
// requests go through rt, checking proofs against s's genesis when
// verify is set (medid network approve with --genesis).
func throughNode(t *testing.T, s *nodetest.Stack) func(verify bool, rt http.RoundTripper) *client.Client {
	chainID, vals, err := client.TrustFromGenesis(s.Genesis)
	if err != nil {
		t.Fatal(err)
	}
	return func(verify bool, rt http.RoundTripper) *client.Client {
		cfg := client.Config{URL: s.URL, HTTPClient: &http.Client{Transport: rt}}
		if verify {
			cfg.VerifyProofs, cfg.ChainID, cfg.TrustedValidators = true, chainID, vals
		}
		c, err := client.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
}

// newGovKey returns a new Ed25519 key and its did:key.
func newGovKey(t *testing.T) (*key.PrivateKey, string) {
	k, err := key.Generate(key.Ed25519)
	if err != nil {
		t.Fatal(err)
	}
	return k, did.KeyDID(k.Public())
}

// twoKeys is a network's governance after fileWithTwoKeys.
type twoKeys struct {
	gov2  *key.PrivateKey        // the second key
	did3  string                 // the third key, whose addition is open
	add3  tx.Proposal            // its addition, as filed
	added *ledger.ProposalRecord // the second key's addition, carried
	open  *ledger.ProposalRecord // the third key's addition, open
}

// fileWithTwoKeys has s's genesis key alone add a second key (a quorum of
// one), then file the addition of a third, which from then on needs both
// keys: it stays open for the second key's approval.
func fileWithTwoKeys(t *testing.T, ctx context.Context, plain *client.Client, s *nodetest.Stack) twoKeys {
	t.Helper()
	var k twoKeys
	var did2 string
	k.gov2, did2 = newGovKey(t)
	_, k.did3 = newGovKey(t)
	var err error
	k.added, _, err = plain.Propose(ctx, s.Governance, byContent(tx.Proposal{Action: tx.ActionGovernanceAdd, Governance: did2}))
	if err != nil || k.added.Status != ledger.ProposalExecuted {
		t.Fatalf("add the second key: %+v, %v", k.added, err)
	}
	k.add3 = byContent(tx.Proposal{Action: tx.ActionGovernanceAdd, Governance: k.did3})
	k.open, _, err = plain.Propose(ctx, s.Governance, k.add3)
	if err != nil || k.open.Status != ledger.ProposalOpen {
		t.Fatalf("file the addition of a third key: %+v, %v", k.open, err)
	}
	return k
}

// byContent returns p with its id, the hash of its content.
func byContent(p tx.Proposal) tx.Proposal { p.ID = tx.ProposalID(&p); return p }

// waitFirstBlock waits until s has committed its first block.
func waitFirstBlock(t *testing.T, s *nodetest.Stack) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if h, _ := s.App.LastCommit(); h >= 1 {
			return
		} else if time.Now().After(deadline) {
			t.Fatal("no first block in 10 s")
		}
	}
}
