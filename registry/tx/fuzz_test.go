package tx

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// FuzzDecode checks that Decode never panics, that whatever it accepts is
// within the size limit, passes Payload.Validate, and keeps Raw, and that
// the canonical form of an accepted payload document is stable.
func FuzzDecode(f *testing.F) {
	k := testKey(f, 1)
	for _, raw := range builtTokens(f) {
		f.Add(raw)
	}
	f.Add([]byte("a.b.c"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, data []byte) {
		tx, err := Decode(data)
		if err != nil {
			return
		}
		if len(data) > MaxSize {
			t.Fatalf("accepted %d bytes", len(data))
		}
		if !bytes.Equal(tx.Raw, data) {
			t.Fatal("Raw differs from input")
		}
		if err := tx.Payload.Validate(); err != nil {
			t.Fatalf("accepted payload fails Validate: %v", err)
		}
		if len(tx.Payload.Document) > 0 {
			c1, err := Canonical(tx.Payload.Document)
			if err != nil {
				t.Fatalf("accepted document is not canonicalisable: %v", err)
			}
			c2, err := Canonical(c1)
			if err != nil || !bytes.Equal(c1, c2) {
				t.Fatalf("canonical form not stable: %s vs %s (%v)", c1, c2, err)
			}
		}
		_ = tx.Verify(k.Public()) // must not panic
	})
}

// FuzzProposal: a network.propose proposal (the layout.* actions among
// them) is read with the payload's strict JSON policy; whatever validates
// re-encodes to JSON that reads back to the same proposal and validates
// again, and a layout.* proposal carries exactly a move to layout 2 at a
// height of at least 1.
func FuzzProposal(f *testing.F) {
	for _, s := range []string{
		`{"id":"m","action":"layout.schedule","layout":{"layout":2,"height":5000}}`,
		`{"id":"m","action":"layout.cancel","layout":{"layout":2,"height":1}}`,
		`{"id":"m","action":"layout.schedule","layout":{"layout":3,"height":5000}}`,
		`{"id":"m","action":"layout.schedule","layout":null}`,
		`{"id":"u","action":"protocol.schedule","protocol":{"version":3,"height":5000}}`,
		`{"id":"u","action":"protocol.cancel","protocol":{"version":18446744073709551615,"height":1}}`,
		`{"id":"u","action":"protocol.schedule","protocol":{"version":3,"height":5000},"layout":{"layout":2,"height":5000}}`,
		`{"id":"p","action":"governance.add","governance":"did:key:z"}`,
		`{"id":"v","action":"validator.remove","validator":{"pubKey":"` + strings.Repeat("A", 43) + `="},"allowBelowMinimum":true}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var p Proposal
		if strictUnmarshal(string(data), &p) != nil || validProposal(&p) != "" {
			return
		}
		b, err := json.Marshal(&p)
		if err != nil {
			t.Fatal(err)
		}
		var q Proposal
		if err := strictUnmarshal(string(b), &q); err != nil {
			t.Fatalf("re-encoded %s does not read back: %v", b, err)
		}
		if msg := validProposal(&q); msg != "" {
			t.Fatalf("re-encoded %s does not validate: %s", b, msg)
		}
		if !reflect.DeepEqual(p, q) {
			t.Fatalf("round trip: %+v, then %+v", p, q)
		}
		// The content's id (what protocol 3 requires and medid files
		// under) is an id, names the content whatever the id it was given,
		// and the proposal under it is well formed.
		id := ProposalID(&p)
		c := p
		c.ID = id
		if !validID(id) || ProposalID(&c) != id || ProposalID(&q) != id {
			t.Fatalf("content id %q of %s", id, data)
		}
		if msg := validProposal(&c); msg != "" {
			t.Fatalf("%s under its content's id %s: %s", data, id, msg)
		}
		isLayout := p.Action == ActionLayoutSchedule || p.Action == ActionLayoutCancel
		if isLayout != (p.Layout != nil) {
			t.Fatalf("action %s with layout %+v", p.Action, p.Layout)
		}
		if isLayout && (p.Layout.Layout != MoveToLayout || p.Layout.Height < 1 || p.Validator != nil || p.Governance != "" || p.AllowBelowMinimum) {
			t.Fatalf("accepted %s", data)
		}
		isProtocol := p.Action == ActionProtocolSchedule || p.Action == ActionProtocolCancel
		if isProtocol != (p.Protocol != nil) {
			t.Fatalf("action %s with protocol %+v", p.Action, p.Protocol)
		}
		if isProtocol && (p.Protocol.Version < 1 || p.Protocol.Version > MaxProtocolVersion || p.Protocol.Height < 1 ||
			p.Layout != nil || p.Validator != nil || p.Governance != "" || p.AllowBelowMinimum || p.Directory != nil || p.Accreditation != nil) {
			t.Fatalf("accepted %s", data)
		}
	})
}

// FuzzApproval: a network.approve payload is read with the strict
// policy; the filing and filingBlock members are seen whenever the
// payload names them, whatever their value (a chain below protocol 4,
// resp. 5, refuses every payload that carries one, null and 0 too, as the
// decoder of before did), what validates names a filing from 1 to
// MaxFilingHeight written one way only and a block hash as the one
// spelling of 64 lowercase hex digits (and only with a filing), and it
// re-encodes to JSON that reads back to the same payload.
func FuzzApproval(f *testing.F) {
	for _, s := range []string{
		`{"type":"network.approve","did":"did:key:z6Mk","nonce":"n","proposalId":"p"}`,
		`{"type":"network.approve","did":"did:key:z6Mk","nonce":"n","proposalId":"p","filing":12}`,
		`{"type":"network.approve","did":"did:key:z6Mk","nonce":"n","proposalId":"p","filing":null}`,
		`{"type":"network.approve","did":"did:key:z6Mk","nonce":"n","proposalId":"p","filing":0}`,
		`{"type":"network.approve","did":"did:key:z6Mk","nonce":"n","proposalId":"p","filing":9007199254740991}`,
		`{"type":"network.approve","did":"did:key:z6Mk","nonce":"n","proposalId":"p","filing": 7 }`,
		`{"type":"network.approve","did":"did:key:z6Mk","nonce":"n","proposalId":"p","filing":"7"}`,
		`{"type":"network.propose","did":"did:key:z6Mk","nonce":"n","filing":3,"proposal":{"id":"p","action":"governance.add","governance":"did:key:z"}}`,
		`{"type":"network.approve","did":"did:key:z6Mk","nonce":"n","proposalId":"p","filing":12,"filingBlock":"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}`,
		`{"type":"network.approve","did":"did:key:z6Mk","nonce":"n","proposalId":"p","filing":12,"filingBlock":"0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF"}`,
		`{"type":"network.approve","did":"did:key:z6Mk","nonce":"n","proposalId":"p","filing":12,"filingBlock":null}`,
		`{"type":"network.approve","did":"did:key:z6Mk","nonce":"n","proposalId":"p","filing":12,"filingBlock":"\u0030123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}`,
		`{"type":"network.approve","did":"did:key:z6Mk","nonce":"n","proposalId":"p","filingBlock":"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}`,
		`{"type":"network.approve","did":"did:key:z6Mk","nonce":"n","proposalId":"p","filing":12, "filingBlock" : "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" }`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var p Payload
		if strictUnmarshal(string(data), &p) != nil {
			return
		}
		var members map[string]json.RawMessage
		if err := json.Unmarshal(data, &members); err != nil {
			t.Fatalf("strict decoder took %q, encoding/json does not: %v", data, err)
		}
		_, named := members["filing"]
		if _, has := p.FilingHeight(); has != named {
			t.Fatalf("%s: filing member %v, FilingHeight says %v", data, named, has)
		}
		_, namedBlock := members["filingBlock"]
		if _, has := p.FilingBlockHash(); has != namedBlock {
			t.Fatalf("%s: filingBlock member %v, FilingBlockHash says %v", data, namedBlock, has)
		}
		if p.Validate() != nil {
			return
		}
		if b, has := p.FilingBlockHash(); has {
			_, hasFiling := p.FilingHeight()
			if p.Type != NetworkApprove || !hasFiling || !ValidFilingBlock(b) || string(p.FilingBlock) != `"`+b+`"` {
				t.Fatalf("accepted %s: filingBlock %q read as %q", data, p.FilingBlock, b)
			}
			if d, err := hex.DecodeString(b); err != nil || len(d) != FilingBlockSize || hex.EncodeToString(d) != b {
				t.Fatalf("accepted %s: filingBlock %q is not one spelling of %d bytes", data, b, FilingBlockSize)
			}
		}
		if h, has := p.FilingHeight(); has {
			if p.Type != NetworkApprove || h < 1 || h > MaxFilingHeight || string(p.Filing) != strconv.FormatInt(h, 10) {
				t.Fatalf("accepted %s: filing %q read as %d", data, p.Filing, h)
			}
		}
		b, err := json.Marshal(&p)
		if err != nil {
			t.Fatal(err)
		}
		var q Payload
		if err := strictUnmarshal(string(b), &q); err != nil {
			t.Fatalf("re-encoded %s does not read back: %v", b, err)
		}
		if err := q.Validate(); err != nil {
			t.Fatalf("re-encoded %s does not validate: %v", b, err)
		}
		if !reflect.DeepEqual(p, q) {
			t.Fatalf("round trip: %+v, then %+v", p, q)
		}
	})
}
