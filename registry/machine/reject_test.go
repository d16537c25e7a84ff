package machine

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/credentials/statuslist"
	"github.com/medid/medid/credentials/vc"
	"github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/tx"
)

// rawJWS signs arbitrary header and payload bytes, for malformed inputs.
func rawJWS(tb testing.TB, k *key.PrivateKey, header, payload string) []byte {
	tb.Helper()
	enc := base64.RawURLEncoding
	input := enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString([]byte(payload))
	sig, err := k.Sign([]byte(input))
	if err != nil {
		tb.Fatal(err)
	}
	return []byte(input + "." + enc.EncodeToString(sig))
}

// registerWith commits a did:medid identity with keys (seeds) whose
// authentication lists only auth.
func (h *harness) registerWith(seeds []byte, auth []int) *identity {
	h.tb.Helper()
	var keys []*key.PrivateKey
	for _, s := range seeds {
		keys = append(keys, testKey(h.tb, s))
	}
	p := h.must(tx.NewDIDCreate(docTemplate(tx.Placeholder, keys, auth)))
	id := &identity{keys: keys, did: p.DID, doc: p.Document, version: "1"}
	h.mustBlock(h.sign(p, keys[auth[0]], id.kid(auth[0])))
	return id
}

// TestRejections checks every rejection rule through CheckTx and through
// FinalizeBlock: a non-zero code, and the app hash unchanged.
func TestRejections(t *testing.T) {
	cases := []struct {
		name string
		// setup commits any state the case needs and returns the bad tx.
		setup func(h *harness) []byte
		want  uint32
	}{
		{"malformed JSON", func(h *harness) []byte {
			k := testKey(h.tb, 1)
			return rawJWS(h.tb, k, `{"alg":"EdDSA","typ":"medid-tx+jwt","kid":"did:key:x#y"}`, `{"type": "did.create",`)
		}, ledger.CodeMalformed},
		{"bad JWS", func(h *harness) []byte { return []byte("this is not a JWS") }, ledger.CodeMalformed},
		{"bad base64", func(h *harness) []byte { return []byte("e30=.e30.AAAA") }, ledger.CodeMalformed},
		{"unsigned", func(h *harness) []byte {
			raw := h.createTx(newIdentity(h.tb, 1))
			return raw[:bytes.LastIndexByte(raw, '.')+1]
		}, ledger.CodeMalformed},
		{"alg none", func(h *harness) []byte {
			id := newIdentity(h.tb, 1)
			raw := string(h.createTx(id))
			parts := strings.Split(raw, ".")
			hdr := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"medid-tx+jwt","kid":"` + id.kid(0) + `"}`))
			return []byte(hdr + "." + parts[1] + "." + parts[2])
		}, ledger.CodeBadSignature},
		{"unknown payload field", func(h *harness) []byte {
			k := testKey(h.tb, 1)
			d := did.KeyDID(k.Public())
			return rawJWS(h.tb, k, `{"alg":"EdDSA","typ":"medid-tx+jwt","kid":"`+d+`#`+k.Public().Multikey()+`"}`,
				`{"type":"did.deactivate","did":"`+d+`","nonce":"1","prevVersionId":"1","health":"x"}`)
		}, ledger.CodeMalformed},
		{"signed by a key not in the DID's authentication", func(h *harness) []byte {
			id := h.registerWith([]byte{1, 2}, []int{0}) // key-2 is assertionMethod only
			return h.updateTx(id, id.keys, []int{0, 1}, "1", id.keys[1], id.kid(1))
		}, ledger.CodeUnauthorized},
		{"signature by another key under a valid kid", func(h *harness) []byte {
			id := h.register(1)
			return h.updateTx(id, id.keys, []int{0}, "1", testKey(h.tb, 99), id.kid(0))
		}, ledger.CodeBadSignature},
		{"ES256 header on an Ed25519 key", func(h *harness) []byte {
			id := newIdentity(h.tb, 1)
			p256, err := key.Generate(key.P256)
			if err != nil {
				h.tb.Fatal(err)
			}
			return h.sign(h.must(tx.NewDIDCreate(id.tmpl)), p256, id.kid(0))
		}, ledger.CodeBadSignature},
		{"wrong self-certifying id", func(h *harness) []byte {
			victim := newIdentity(h.tb, 2) // the identifier the attacker wants
			mine := newIdentity(h.tb, 1)
			doc := bytes.ReplaceAll(mine.doc, []byte(mine.did), []byte(victim.did))
			return h.sign(&tx.Payload{Type: tx.DIDCreate, DID: victim.did, Document: doc}, mine.keys[0], victim.kid(0))
		}, ledger.CodeInvalid},
		{"document id is not the DID", func(h *harness) []byte {
			a, b := newIdentity(h.tb, 1), newIdentity(h.tb, 2)
			return h.sign(&tx.Payload{Type: tx.DIDCreate, DID: a.did, Document: b.doc}, a.keys[0], a.kid(0))
		}, ledger.CodeInvalid},
		{"DID registered twice", func(h *harness) []byte {
			id := h.register(1)
			return h.createTx(id) // new nonce: not a replay, but the DID exists
		}, ledger.CodeExists},
		{"replayed tx", func(h *harness) []byte {
			id := h.register(1)
			raw := h.updateTx(id, id.keys, []int{0}, "1", id.keys[0], id.kid(0))
			h.mustBlock(raw)
			return raw
		}, ledger.CodeReplay},
		{"replayed did.create", func(h *harness) []byte {
			id := newIdentity(h.tb, 1)
			raw := h.createTx(id)
			h.mustBlock(raw)
			return raw // no replay record: the DID record refuses it
		}, ledger.CodeExists},
		{"stale prevVersionId", func(h *harness) []byte {
			id := h.register(1)
			h.mustBlock(h.updateTx(id, id.keys, []int{0}, "1", id.keys[0], id.kid(0)))
			return h.updateTx(id, id.keys, []int{0}, "1", id.keys[0], id.kid(0))
		}, ledger.CodeStaleVersion},
		{"update after deactivate", func(h *harness) []byte {
			id := h.register(1)
			h.mustBlock(h.sign(h.must(tx.NewDIDDeactivate(id.did, "1")), id.keys[0], id.kid(0)))
			return h.updateTx(id, id.keys, []int{0}, "2", id.keys[0], id.kid(0))
		}, ledger.CodeDeactivated},
		{"update of an unknown DID", func(h *harness) []byte {
			id := newIdentity(h.tb, 1)
			return h.updateTx(id, id.keys, []int{0}, "1", id.keys[0], id.kid(0))
		}, ledger.CodeNotFound},
		{"update removing every authentication key", func(h *harness) []byte {
			id := h.register(1)
			return h.updateTx(id, id.keys, nil, "1", id.keys[0], id.kid(0))
		}, ledger.CodeInvalid},
		{"accredit signed by a non-governance key", func(h *harness) []byte {
			k := testKey(h.tb, 7)
			d := did.KeyDID(k.Public())
			return h.sign(h.must(tx.NewIssuerAccredit(d, tx.Accreditation{Issuer: d, ID: "a1", Types: []string{"X"},
				From: h.time("2026-01-01T00:00:00Z")})), k, d+"#"+k.Public().Multikey())
		}, ledger.CodeUnauthorized},
		{"accredit with the governance kid but another key", func(h *harness) []byte {
			return h.sign(h.must(tx.NewIssuerAccredit(h.govDID, tx.Accreditation{Issuer: h.govDID, ID: "a1", Types: []string{"X"},
				From: h.time("2026-01-01T00:00:00Z")})), testKey(h.tb, 7), h.govDID+"#"+h.gov.Public().Multikey())
		}, ledger.CodeBadSignature},
		{"accredit an unregistered did:medid", func(h *harness) []byte {
			return h.accreditTx(newIdentity(h.tb, 1).did, "a1", []string{"X"}, "2026-01-01T00:00:00Z", "")
		}, ledger.CodeNotFound},
		{"revoke an unknown accreditation", func(h *harness) []byte {
			id := h.register(1)
			h.mustBlock(h.accreditTx(id.did, "a1", []string{"X"}, "2026-01-01T00:00:00Z", ""))
			return h.revokeTx(id.did, "a2", "")
		}, ledger.CodeNotFound},
		{"status list signed by someone else", func(h *harness) []byte {
			owner, other := h.register(1), h.register(2)
			tok := statusListToken(h.tb, "list-1", other.did, other.keys[0], other.kid(0), -1)
			return h.publishTx(owner, owner.did+":list-1", 1, tok)
		}, ledger.CodeUnauthorized},
		{"status list naming the owner, signed by another key", func(h *harness) []byte {
			owner := h.register(1)
			tok := statusListToken(h.tb, "list-1", owner.did, testKey(h.tb, 9), owner.kid(0), -1)
			return h.publishTx(owner, owner.did+":list-1", 1, tok)
		}, ledger.CodeBadSignature},
		{"status list of another owner", func(h *harness) []byte {
			owner, other := h.register(1), h.register(2)
			h.mustBlock(h.publishTx(owner, owner.did+":list-1", 1, statusListToken(h.tb, "list-1", owner.did, owner.keys[0], owner.kid(0), -1)))
			return h.publishTx(other, owner.did+":list-1", 2, statusListToken(h.tb, "list-1", other.did, other.keys[0], other.kid(0), 3))
		}, ledger.CodeUnauthorized},
		{"status list id in another DID's namespace (squatting a hospital's list id)", func(h *harness) []byte {
			hospital, squatter := h.register(1), h.register(2)
			id := hospital.did + ":st-mary-1"
			return h.publishTx(squatter, id, 1, statusListToken(h.tb, id, squatter.did, squatter.keys[0], squatter.kid(0), -1))
		}, ledger.CodeUnauthorized},
		{"new status list id outside any namespace", func(h *harness) []byte {
			owner := h.register(1)
			return h.publishTx(owner, "st-mary-1", 1, statusListToken(h.tb, "st-mary-1", owner.did, owner.keys[0], owner.kid(0), -1))
		}, ledger.CodeInvalid},
		{"status list version not increasing", func(h *harness) []byte {
			owner := h.register(1)
			h.mustBlock(h.publishTx(owner, owner.did+":list-1", 1, statusListToken(h.tb, "list-1", owner.did, owner.keys[0], owner.kid(0), -1)))
			return h.publishTx(owner, owner.did+":list-1", 1, statusListToken(h.tb, "list-1", owner.did, owner.keys[0], owner.kid(0), 5))
		}, ledger.CodeInvalid},
		{"status list first version not 1", func(h *harness) []byte {
			owner := h.register(1)
			return h.publishTx(owner, owner.did+":list-1", 2, statusListToken(h.tb, "list-1", owner.did, owner.keys[0], owner.kid(0), -1))
		}, ledger.CodeInvalid},
		{"status list credential that is not a status list", func(h *harness) []byte {
			owner := h.register(1)
			// A well-signed credential of another kind.
			return h.publishTx(owner, owner.did+":list-1", 1, plainCredential(h.tb, owner))
		}, ledger.CodeInvalid},
		{"status list credential expired at block time", func(h *harness) []byte {
			owner := h.register(1)
			return h.publishTx(owner, owner.did+":list-1", 1, expiredStatusList(h.tb, owner))
		}, ledger.CodeInvalid},
		{"consent grant anchored twice", func(h *harness) []byte {
			pat := newKeyParty(h.tb, 40)
			h.mustBlock(h.anchorTx(pat, grantHash("g"), "2026-03-01T00:00:00Z", ""))
			return h.anchorTx(pat, grantHash("g"), "2026-03-01T00:00:00Z", "2027-01-01T00:00:00Z")
		}, ledger.CodeExists},
		{"consent revoke by someone else (it has no anchor of that hash)", func(h *harness) []byte {
			h.mustBlock(h.anchorTx(newKeyParty(h.tb, 40), grantHash("g"), "2026-03-01T00:00:00Z", ""))
			return h.consentRevokeTx(newKeyParty(h.tb, 41), grantHash("g"))
		}, ledger.CodeNotFound},
		{"consent revoke of an unknown grant", func(h *harness) []byte {
			return h.consentRevokeTx(newKeyParty(h.tb, 40), grantHash("g"))
		}, ledger.CodeNotFound},
		{"consent revoked twice", func(h *harness) []byte {
			pat := newKeyParty(h.tb, 40)
			h.mustBlock(h.anchorTx(pat, grantHash("g"), "2026-03-01T00:00:00Z", ""))
			h.mustBlock(h.consentRevokeTx(pat, grantHash("g")))
			return h.consentRevokeTx(pat, grantHash("g"))
		}, ledger.CodeExists},
		{"consent anchor replayed", func(h *harness) []byte {
			raw := h.anchorTx(newKeyParty(h.tb, 40), grantHash("g"), "2026-03-01T00:00:00Z", "")
			h.mustBlock(raw)
			return raw
		}, ledger.CodeReplay},
		{"consent anchor signed by another key", func(h *harness) []byte {
			pat := newKeyParty(h.tb, 40)
			return h.sign(h.must(tx.NewConsentAnchorHash(pat.DID, grantHash("g"), h.time("2026-03-01T00:00:00Z"), time.Time{})),
				testKey(h.tb, 41), pat.Kid)
		}, ledger.CodeBadSignature},
		{"consent anchor by a did:medid (a registered identity links the patient's consents)", func(h *harness) []byte {
			id := h.register(40)
			return rawJWS(h.tb, id.keys[0], `{"alg":"EdDSA","typ":"medid-tx+jwt","kid":"`+id.kid(0)+`"}`,
				`{"type":"consent.anchor","did":"`+id.did+`","nonce":"1","grantHash":"`+grantHash("g")+`","validFrom":"2026-03-01T00:00:00Z"}`)
		}, ledger.CodeMalformed},
		{"consent anchor with a malformed grant hash", func(h *harness) []byte {
			pat := newKeyParty(h.tb, 40)
			return rawJWS(h.tb, pat.Key, `{"alg":"EdDSA","typ":"medid-tx+jwt","kid":"`+pat.Kid+`"}`,
				`{"type":"consent.anchor","did":"`+pat.DID+`","nonce":"1","grantHash":"ABC","validFrom":"2026-03-01T00:00:00Z"}`)
		}, ledger.CodeMalformed},
		{"consent anchor with a period ending before it starts", func(h *harness) []byte {
			pat := newKeyParty(h.tb, 40)
			return rawJWS(h.tb, pat.Key, `{"alg":"EdDSA","typ":"medid-tx+jwt","kid":"`+pat.Kid+`"}`,
				`{"type":"consent.anchor","did":"`+pat.DID+`","nonce":"1","grantHash":"`+grantHash("g")+`","validFrom":"2026-03-01T00:00:00Z","validUntil":"2026-02-01T00:00:00Z"}`)
		}, ledger.CodeMalformed},
		{"oversized tx", func(h *harness) []byte { return bytes.Repeat([]byte("a"), tx.MaxSize+1) }, ledger.CodeTooLarge},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.mustBlock() // the state has a committed height
			bad := tc.setup(h)
			before, beforeHeight := h.hash(), h.height()

			if got := h.checkTx(bad); got.Code != tc.want {
				t.Errorf("CheckTx code = %d (%s), want %d", got.Code, got.Log, tc.want)
			} else if got.Log == "" {
				t.Errorf("CheckTx rejected with an empty log")
			}

			resp := h.finalize(bad)
			if got := resp.TxResults[0]; got.Code != tc.want {
				t.Errorf("FinalizeBlock code = %d (%s), want %d", got.Code, got.Log, tc.want)
			}
			if !sameBytes(resp.AppHash, before) {
				t.Errorf("FinalizeBlock changed the app hash: %X -> %X", before, resp.AppHash)
			}
			h.commit()
			if h.height() != beforeHeight+1 || !sameBytes(h.hash(), before) {
				t.Errorf("after commit: height %d hash %X, want %d %X", h.height(), h.hash(), beforeHeight+1, before)
			}
		})
	}
}

// plainCredential is a valid vc+jwt by owner that is not a status list.
func plainCredential(tb testing.TB, owner *identity) string {
	tb.Helper()
	vf := t0
	c := &vc.Credential{Context: []string{vc.ContextV2}, ID: "https://registry.example/credentials/1",
		Type: []string{vc.TypeCredential}, Issuer: owner.did, ValidFrom: &vf,
		Subject: map[string]any{"id": "did:example:subject"}}
	tok, err := vc.Issue(c, owner.keys[0], owner.kid(0))
	if err != nil {
		tb.Fatal(err)
	}
	return tok
}

// expiredStatusList is a status list credential by owner that expired
// before the test chain's blocks.
func expiredStatusList(tb testing.TB, owner *identity) string {
	tb.Helper()
	l, _ := statuslist.New(statuslist.MinEntries)
	c, err := statuslist.NewCredential("https://registry.example/1.0/status-lists/list-1", owner.did, statuslist.Revocation, l, 0)
	if err != nil {
		tb.Fatal(err)
	}
	from, until := t0.Add(-48*time.Hour), t0.Add(-24*time.Hour)
	c.ValidFrom, c.ValidUntil = &from, &until
	tok, err := vc.Issue(c, owner.keys[0], owner.kid(0))
	if err != nil {
		tb.Fatal(err)
	}
	return tok
}

// TestStatusListSignedAfterBlockTime covers an idle chain: the block time
// lags the wall clock (BFT time comes from the previous commit's votes), so a
// list whose validFrom is after the block time is accepted, in CheckTx and in
// FinalizeBlock.
func TestStatusListSignedAfterBlockTime(t *testing.T) {
	h := newHarness(t)
	owner := h.register(1)
	l, err := statuslist.New(statuslist.MinEntries)
	if err != nil {
		t.Fatal(err)
	}
	c, err := statuslist.NewCredential("https://registry.example/1.0/status-lists/idle", owner.did, statuslist.Revocation, l, 0)
	if err != nil {
		t.Fatal(err)
	}
	future := blockTime(h.height() + 1).Add(30 * time.Minute)
	c.ValidFrom = &future
	tok, err := vc.Issue(c, owner.keys[0], owner.kid(0))
	if err != nil {
		t.Fatal(err)
	}
	raw := h.publishTx(owner, owner.did+":idle", 1, tok)
	if r := h.checkTx(raw); r.Code != 0 {
		t.Fatalf("CheckTx: code %d: %s", r.Code, r.Log)
	}
	h.mustBlock(raw)
	if _, err := h.app.StatusList(owner.did+":idle", 1); err != nil {
		t.Fatalf("StatusList after publish: %v", err)
	}
}

// TestStatusListIDSquatting is issue 11 item 12: a status list id is the
// last segment of the URL a hospital's credentials name, so whoever takes it
// first decides what verifiers fetch. Before ids were bound to their owner's
// namespace, a squatter who published the hospital's id first made the
// hospital's own publication fail and its credentials status_unavailable.
func TestStatusListIDSquatting(t *testing.T) {
	h := newHarness(t)
	hospital, squatter := h.register(1), h.register(2)
	id, err := tx.StatusListID(hospital.did, "st-mary-1")
	if err != nil {
		t.Fatal(err)
	}
	squat := h.publishTx(squatter, id, 1, statusListToken(t, id, squatter.did, squatter.keys[0], squatter.kid(0), -1))
	if got := h.block(squat)[0]; got.Code != ledger.CodeUnauthorized {
		t.Fatalf("squatter's publication of %s: code %d (%s), want %d", id, got.Code, got.Log, ledger.CodeUnauthorized)
	}
	h.mustBlock(h.publishTx(hospital, id, 1, statusListToken(t, id, hospital.did, hospital.keys[0], hospital.kid(0), -1)))
	rec, err := h.app.StatusList(id, 0)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Owner != hospital.did {
		t.Fatalf("list %s is owned by %s, want the hospital %s", id, rec.Owner, hospital.did)
	}
}

// TestStatusListLegacyID: a list published before namespaced ids (written
// into the state directly here) keeps its id, and its owner, and only its
// owner, can still publish new versions of it.
func TestStatusListLegacyID(t *testing.T) {
	h := newHarness(t)
	owner, other := h.register(1), h.register(2)
	tok := statusListToken(t, "legacy", owner.did, owner.keys[0], owner.kid(0), -1)
	v, err := marshal(ledger.StatusListRecord{ID: "legacy", Version: 1, Owner: owner.did,
		CredentialID: "https://registry.example/1.0/status-lists/legacy", Purpose: "revocation", Credential: tok,
		Published: blockTime(h.height()), Height: h.height()})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range [][]byte{ledger.StatusListKey("legacy"), ledger.StatusListVersionKey("legacy", 1)} {
		if _, err := h.app.tree.Set(k, v); err != nil {
			t.Fatal(err)
		}
	}
	h.mustBlock()
	if got := h.block(h.publishTx(other, "legacy", 2, statusListToken(t, "legacy", other.did, other.keys[0], other.kid(0), 3)))[0]; got.Code != ledger.CodeUnauthorized {
		t.Errorf("another DID's version 2 of a legacy list: code %d (%s), want %d", got.Code, got.Log, ledger.CodeUnauthorized)
	}
	h.mustBlock(h.publishTx(owner, "legacy", 2, statusListToken(t, "legacy", owner.did, owner.keys[0], owner.kid(0), 3)))
}
