package client_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/registry/client"
	"github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/node/nodetest"
	"github.com/medid/medid/registry/tx"
)

// lyingTransport is an http.RoundTripper made of a function: a node's API as
// a malicious node (or anything between it and the client) answers.
type lyingTransport func(*http.Request) (*http.Response, error)

func (f lyingTransport) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// readsProposal reports whether r reads a proposal record.
func readsProposal(r *http.Request) bool {
	return r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/1.0/network/proposals/")
}

// withFilingHeight returns the JSON proposal record rec with its filing height
// (the member "height") set to h.
func withFilingHeight(t *testing.T, rec []byte, h int64) []byte {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(rec, &m); err != nil {
		t.Errorf("proposal record: %v", err)
		return rec
	}
	m["height"] = json.RawMessage(strconv.FormatInt(h, 10))
	b, _ := json.Marshal(m)
	return b
}

// showFilingHeight answers every proposal read with the record's filing height
// changed to h: in the body, and in the value of the proof header when
// the client asked for one. Everything else passes through.
func showFilingHeight(t *testing.T, h int64) lyingTransport {
	return func(r *http.Request) (*http.Response, error) {
		resp, err := http.DefaultTransport.RoundTrip(r)
		if err != nil || !readsProposal(r) || resp.StatusCode != http.StatusOK {
			return resp, err
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return nil, err
		}
		body = withFilingHeight(t, body, h)
		resp.Body = io.NopCloser(bytes.NewReader(body))
		resp.ContentLength = int64(len(body))
		resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
		if ph := resp.Header.Get(ledger.ProofHeader); ph != "" {
			b, _ := base64.RawURLEncoding.DecodeString(ph)
			var p map[string]any
			_ = json.Unmarshal(b, &p)
			v, _ := base64.StdEncoding.DecodeString(p["value"].(string))
			p["value"] = base64.StdEncoding.EncodeToString(withFilingHeight(t, v, h))
			b, _ = json.Marshal(p)
			resp.Header.Set(ledger.ProofHeader, base64.RawURLEncoding.EncodeToString(b))
		}
		return resp, nil
	}
}

// recordedAnswer is one HTTP answer kept to be served again later.
type recordedAnswer struct {
	status int
	header http.Header
	body   []byte
}

// recordAnswer GETs url from the node as it answers now.
func recordAnswer(t *testing.T, url string) *recordedAnswer {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return &recordedAnswer{resp.StatusCode, resp.Header.Clone(), body}
}

// replayAnswer answers every proposal read with old (a node serving an answer,
// proof and all, it gave some blocks ago).
func replayAnswer(old *recordedAnswer) lyingTransport {
	return func(r *http.Request) (*http.Response, error) {
		if !readsProposal(r) {
			return http.DefaultTransport.RoundTrip(r)
		}
		return &http.Response{StatusCode: old.status, Header: old.header.Clone(), Body: io.NopCloser(bytes.NewReader(old.body)),
			ContentLength: int64(len(old.body)), Request: r, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1}, nil
	}
}

// TestApproveFilingFromALyingNode (red team 4, issue 18; docs/design/0013):
// medid network approve signs the filing it read. A node that shows a
// filing height other than the open filing's is caught by the proving
// client (--genesis: the proof does not verify, nothing is signed); the
// plain client signs the false height and the network refuses the
// approval (it counts for nothing). A node that replays an answer from
// before the content was carried, removed and filed again (proof and all:
// it verifies, it was true then) makes the approval name the earlier
// filing, which the network refuses too: an approval counts only for the
// filing it names, and no later filing has that name.
func TestApproveFilingFromALyingNode(t *testing.T) {
	s := nodetest.Start(t, nodetest.Options{})
	plain, _ := newClients(t, s)
	ctx := context.Background()
	chainID, vals, err := client.TrustFromGenesis(s.Genesis)
	if err != nil {
		t.Fatal(err)
	}
	through := func(verify bool, rt http.RoundTripper) *client.Client {
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
	newKey := func() (*key.PrivateKey, string) {
		k, err := key.Generate(key.Ed25519)
		if err != nil {
			t.Fatal(err)
		}
		return k, did.KeyDID(k.Public())
	}
	byContent := func(p tx.Proposal) tx.Proposal { p.ID = tx.ProposalID(&p); return p }
	gov1 := s.Governance
	// The genesis state is committed with the first block.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if h, _ := s.App.LastCommit(); h >= 1 {
			break
		} else if time.Now().After(deadline) {
			t.Fatal("no first block in 10 s")
		}
	}
	gov2, did2 := newKey()
	_, did3 := newKey()
	// The genesis key alone adds a second key (a quorum of one); from
	// then on a proposal needs both.
	if rec, _, err := plain.Propose(ctx, gov1, byContent(tx.Proposal{Action: tx.ActionGovernanceAdd, Governance: did2})); err != nil || rec.Status != ledger.ProposalExecuted {
		t.Fatalf("add the second key: %+v, %v", rec, err)
	}
	add3 := byContent(tx.Proposal{Action: tx.ActionGovernanceAdd, Governance: did3})
	open, _, err := plain.Propose(ctx, gov1, add3)
	if err != nil || open.Status != ledger.ProposalOpen {
		t.Fatalf("file the addition of a third key: %+v, %v", open, err)
	}
	stale := recordAnswer(t, s.URL+"/1.0/network/proposals/"+add3.ID+"?proof=true")
	stillOpen := func(name string) {
		t.Helper()
		rec, err := plain.Proposal(ctx, add3.ID)
		if err != nil || rec.Status != ledger.ProposalOpen || len(rec.Approvals) != 1 {
			t.Fatalf("%s: the proposal changed: %+v, %v", name, rec, err)
		}
	}

	for _, lie := range []int64{open.Height - 1, open.Height + 1, open.Height + 1000} {
		// --genesis: the false height does not verify; nothing is signed.
		if rec, err := through(true, showFilingHeight(t, lie)).Proposal(ctx, add3.ID); !errors.Is(err, ledger.ErrProof) {
			t.Fatalf("proving client shown filing %d (open: %d): %+v, %v, want ledger.ErrProof", lie, open.Height, rec, err)
		}
		// Without --genesis: the false height is signed, and refused.
		rec, err := through(false, showFilingHeight(t, lie)).Proposal(ctx, add3.ID)
		if err != nil || rec.Height != lie {
			t.Fatalf("plain client shown filing %d: %+v, %v", lie, rec, err)
		}
		if _, _, err := plain.ApproveFiling(ctx, gov2, rec); !errors.Is(err, ledger.ErrInvalid) || !strings.Contains(err.Error(), "counts only for the filing it names") {
			t.Fatalf("approval naming filing %d (open: %d): %v, want refused", lie, open.Height, err)
		}
		stillOpen("a false filing height")
	}

	// Carried, the key removed, the addition filed again.
	if rec, _, err := plain.ApproveFiling(ctx, gov2, open); err != nil || rec.Status != ledger.ProposalExecuted {
		t.Fatalf("carry the addition: %+v, %v", rec, err)
	}
	remove3 := byContent(tx.Proposal{Action: tx.ActionGovernanceRemove, Governance: did3})
	rm, _, err := plain.Propose(ctx, gov1, remove3)
	if err != nil {
		t.Fatal(err)
	}
	if rec, _, err := plain.ApproveFiling(ctx, gov2, rm); err != nil || rec.Status != ledger.ProposalExecuted {
		t.Fatalf("carry the removal: %+v, %v", rec, err)
	}
	again, _, err := plain.Propose(ctx, gov1, add3)
	if err != nil || again.Status != ledger.ProposalOpen || again.Height <= open.Height {
		t.Fatalf("file the addition again: %+v, %v", again, err)
	}
	// The replayed answer verifies (it was true at its height) and shows
	// the first filing, open: the approval names it and is refused.
	rec, err := through(true, replayAnswer(stale)).Proposal(ctx, add3.ID)
	if err != nil || rec.Height != open.Height || rec.Status != ledger.ProposalOpen {
		t.Fatalf("the replayed proven answer: %+v, %v", rec, err)
	}
	if _, _, err := plain.ApproveFiling(ctx, gov2, rec); !errors.Is(err, ledger.ErrInvalid) || !strings.Contains(err.Error(), "counts only for the filing it names") {
		t.Fatalf("approval of the replayed filing: %v, want refused", err)
	}
	stillOpen("a replayed filing")
}
