package client_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/node/nodetest"
	"github.com/medid/medid/registry/tx"
)

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
	through := throughNode(t, s)
	gov1 := s.Governance
	waitFirstBlock(t, s) // the genesis state is committed with the first block
	two := fileWithTwoKeys(t, ctx, plain, s)
	gov2, did3, add3, open := two.gov2, two.did3, two.add3, two.open
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
