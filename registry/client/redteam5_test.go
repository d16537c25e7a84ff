package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/medid/medid/registry/client"
	"github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/node/nodetest"
	"github.com/medid/medid/registry/tx"
)

// TestRedteam5ApproveFilingBlockFromALyingNode (red team 5, issue 18;
// docs/design/0013): on a protocol-5 network, medid network approve signs
// the filing block's hash it read. A node that serves another filingBlock
// than the record's:
//   - with --genesis: the proof does not verify (ErrProof), nothing is
//     signed, whatever the lie;
//   - without: a well-formed false hash (another block's, one digit off,
//     zeros) is signed and the network refuses the approval (it counts for
//     nothing); a value that is not 64 lowercase hex digits (upper case,
//     63 or 65 digits, a non-hex digit, 0x, space, empty) is refused by the
//     client before anything is signed or sent (tx.ErrMalformed); the name
//     left out makes the client sign by height alone, which the network
//     refuses ("names none").
//
// And a node that says the network runs protocol 4 (no upgrade) while
// serving a record that names a block gets nothing signed (an answer no
// registry gives). The proposal stays open with its proposer's approval
// throughout; the true name, signed after, carries it.
func TestRedteam5ApproveFilingBlockFromALyingNode(t *testing.T) {
	s := nodetest.Start(t, nodetest.Options{})
	plain, _ := newClients(t, s)
	ctx := context.Background()
	var posts atomic.Int32
	through := throughNode(t, s)
	waitFirstBlock(t, s) // the genesis state is committed with the first block
	if p := s.App.Protocol().Version; p < ledger.FilingBlockProtocol {
		t.Fatalf("the node runs protocol %d", p)
	}
	two := fileWithTwoKeys(t, ctx, plain, s)
	gov2, add3, added, open := two.gov2, two.add3, two.added, two.open
	if !tx.ValidFilingBlock(added.FilingBlock) || !tx.ValidFilingBlock(open.FilingBlock) || open.FilingBlock == added.FilingBlock {
		t.Fatalf("the filings' blocks: %q and %q", added.FilingBlock, open.FilingBlock)
	}
	stillOpen := func(name string) {
		t.Helper()
		rec, err := plain.Proposal(ctx, add3.ID)
		if err != nil || rec.Status != ledger.ProposalOpen || len(rec.Approvals) != 1 || rec.FilingBlock != open.FilingBlock {
			t.Fatalf("%s: the proposal changed: %+v, %v", name, rec, err)
		}
	}
	fb := open.FilingBlock
	flip := "0"
	if fb[63] == '0' {
		flip = "1"
	}
	str := func(s string) json.RawMessage { return json.RawMessage(strconv.Quote(s)) }
	for _, c := range []struct {
		name string
		lie  json.RawMessage // nil: the member left out
		// want is how the plain client's approval ends: "signed" (the
		// network refuses it with wantLog), "refused" (the client signs
		// nothing, tx.ErrMalformed).
		want, wantLog string
	}{
		{"another filing's block", str(added.FilingBlock), "signed", "an approval counts only for the filing it names"},
		{"one digit off", str(fb[:63] + flip), "signed", "an approval counts only for the filing it names"},
		{"zeros", str(strings.Repeat("0", 64)), "signed", "an approval counts only for the filing it names"},
		{"left out", nil, "signed", "and this one names none"},
		{"upper case", str(strings.ToUpper(fb)), "refused", ""},
		{"63 digits", str(fb[:63]), "refused", ""},
		{"65 digits", str(fb + "0"), "refused", ""},
		{"a non-hex digit", str(fb[:63] + "g"), "refused", ""},
		{"0x prefix", str("0x" + fb), "refused", ""},
		{"a space", str(" " + fb), "refused", ""},
		{"empty", str(""), "signed", "and this one names none"}, // (omitempty: reads as left out)
	} {
		t.Run(c.name, func(t *testing.T) {
			lie := rewriteAnswers(readsProposal, func(b []byte) []byte { return withMember(t, b, "filingBlock", c.lie) }, &posts)
			// --genesis: the changed record does not verify.
			if rec, err := through(true, lie).Proposal(ctx, add3.ID); !errors.Is(err, ledger.ErrProof) {
				t.Fatalf("proving client: %+v, %v, want ledger.ErrProof", rec, err)
			}
			liar := through(false, lie)
			rec, err := liar.Proposal(ctx, add3.ID)
			if err != nil {
				t.Fatal(err)
			}
			posts.Store(0)
			_, _, err = liar.ApproveFiling(ctx, gov2, rec)
			switch c.want {
			case "signed":
				if !errors.Is(err, ledger.ErrInvalid) || !strings.Contains(err.Error(), c.wantLog) || posts.Load() != 1 {
					t.Fatalf("approval: %v (%d sent), want refused by the network with %q", err, posts.Load(), c.wantLog)
				}
			case "refused":
				if !errors.Is(err, tx.ErrMalformed) || posts.Load() != 0 {
					t.Fatalf("approval: %v (%d sent), want refused by the client, nothing sent", err, posts.Load())
				}
			}
			stillOpen(c.name)
		})
	}

	// A node that says the network runs protocol 4, serving the record
	// (which names a block) as it is.
	readsNetwork := func(r *http.Request) bool { return r.Method == http.MethodGet && r.URL.Path == "/1.0/network" }
	at4 := rewriteAnswers(readsNetwork, func(b []byte) []byte {
		return withMember(t, b, "protocol", json.RawMessage(`{"version":4,"nodeMax":5}`))
	}, &posts)
	liar := through(false, at4)
	if ni, err := liar.Network(ctx); err != nil || ni.Protocol == nil || ni.Protocol.Version != 4 {
		t.Fatalf("the lie about the protocol: %+v, %v", ni, err)
	}
	posts.Store(0)
	if _, _, err := liar.ApproveFiling(ctx, gov2, open); !errors.Is(err, client.ErrUnexpected) || !strings.Contains(err.Error(), "nothing signed") || posts.Load() != 0 {
		t.Fatalf("a record naming a block on a network said to run protocol 4: %v (%d sent)", err, posts.Load())
	}
	stillOpen("a network said to run protocol 4")

	// The true name carries it.
	if rec, _, err := plain.ApproveFiling(ctx, gov2, open); err != nil || rec.Status != ledger.ProposalExecuted {
		t.Fatalf("carry the addition: %+v, %v", rec, err)
	}
}
