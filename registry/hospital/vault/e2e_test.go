package vault_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	dbm "github.com/cometbft/cometbft-db"
	"github.com/cometbft/cometbft/store"
	"github.com/cosmos/iavl"
	iavldb "github.com/cosmos/iavl/db"

	"github.com/medid/medid/credentials/consent"
	"github.com/medid/medid/credentials/credtest"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/registry/hospital/trail"
	"github.com/medid/medid/registry/hospital/vault/vaulttest"
	"github.com/medid/medid/registry/hospital/vaultapi"
	"github.com/medid/medid/registry/hospital/vaultclient"
	"github.com/medid/medid/registry/node/nodetest"
	"github.com/medid/medid/registry/tx"
)

// The clinical content of the test record: none of it may reach the ledger.
const (
	patientName = "Alice Q. Example"
	substance   = "Peanut (Arachis hypogaea) anaphylaxis"
	record      = `{"resourceType":"AllergyIntolerance","id":"a1","code":{"text":"` + substance + `"},"patient":{"display":"` + patientName + `"}}`
)

// TestEndToEnd is the issue's "done when" against a real in-process registry
// (CometBFT + IAVL) with the vault mounted in its HTTP server: a patient
// grants a provider access to allergies for 30 days; the provider reads the
// allergy record; a second provider is denied; an ER doctor uses
// break-glass; the patient sees all three in the verified access log,
// revokes the grant, and the first provider is then denied; the patient
// erases the record and it is gone. Then a scan of the whole ledger (every
// block's transactions and every IAVL key and value) finds no clinical
// content, name or record bytes.
func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a registry node")
	}
	ctx := context.Background()
	hosp, patient, prov, second, er := credtest.NewParty(t, key.Ed25519, "hospital"), credtest.NewParty(t, key.Ed25519, "patient"),
		credtest.NewParty(t, key.Ed25519, "provider"), credtest.NewParty(t, key.Ed25519, "second provider"), credtest.NewParty(t, key.Ed25519, "ER doctor")
	vs := vaulttest.Start(t, vaulttest.Options{Key: hosp.Key, BatchInterval: 50 * time.Millisecond, Staff: []string{er.DID}})
	s, reg, v, srv := vs.Registry, vs.Client, vs.Vault, vs

	submit := func(p *tx.Payload, err error, a credtest.Party) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := reg.Submit(ctx, nodetest.Sign(t, p, a.Key, a.Kid)); err != nil {
			t.Fatal(err)
		}
	}
	// Each grant names its own anchor did:key, which anchors and revokes it
	// (a wallet derives it from its seed and the grant's ID): the ledger
	// never sees the patient's DID.
	anchors := map[string]credtest.Party{}
	issue := func(provider string, classes []string, purpose string, days int, breakGlass bool) string {
		t.Helper()
		now := time.Now().UTC().Truncate(time.Second)
		anchor := credtest.NewParty(t, key.Ed25519, "anchor "+nodetest.Nonce())
		g := &consent.Grant{ID: "urn:uuid:" + nodetest.Nonce(), Patient: patient.DID, Anchor: anchor.DID, Provider: provider, Actions: []consent.Action{consent.ActionAccess},
			Purposes: []string{purpose}, Classes: classes, ValidFrom: now.Add(-time.Minute), ValidUntil: now.AddDate(0, 0, days), BreakGlass: breakGlass}
		tok, err := consent.Issue(g, patient.Key, patient.Kid)
		if err != nil {
			t.Fatal(err)
		}
		parsed, err := consent.Parse(tok)
		if err != nil {
			t.Fatal(err)
		}
		p, err := tx.NewConsentAnchor(parsed)
		submit(p, err, anchor)
		anchors[tok] = anchor
		return tok
	}

	// The hospital stores the allergy record.
	m, err := srv.As(hosp).Put(ctx, patient.DID, "AllergyIntolerance", []byte(record))
	if err != nil {
		t.Fatal(err)
	}
	grant := issue(prov.DID, []string{"AllergyIntolerance"}, "TREAT", 30, false)
	standing := issue(hosp.DID, []string{"AllergyIntolerance"}, "ETREAT", 365, true)
	if err := srv.As(patient).AllowBreakGlass(ctx, standing); err != nil {
		t.Fatal(err)
	}

	got, err := srv.As(prov).Get(ctx, m.ID, "TREAT", grant, "")
	if err != nil || string(got) != record {
		t.Fatalf("provider read: %q, %v", got, err)
	}
	if _, err := srv.As(second).Get(ctx, m.ID, "TREAT", grant, ""); !errors.Is(err, vaultapi.ErrDenied) {
		t.Fatalf("second provider: %v, want denied", err)
	}
	if got, err := srv.As(er).Get(ctx, m.ID, "ETREAT", "", "unresponsive, suspected anaphylaxis"); err != nil || string(got) != record {
		t.Fatalf("break-glass read: %q, %v", got, err)
	}

	trailOf := func() []vaultclient.VerifiedEntry {
		t.Helper()
		if err := v.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		resp, err := srv.As(patient).AccessLog(ctx)
		if err != nil {
			t.Fatal(err)
		}
		priv, err := trail.DecryptionKey(patient.Key)
		if err != nil {
			t.Fatal(err)
		}
		es, err := vaultclient.VerifyTrail(ctx, resp, patient.DID, reg, priv)
		if err != nil {
			t.Fatal(err)
		}
		return es
	}
	seen := map[string]string{}
	for _, e := range trailOf() {
		if e.Action == trail.ActionRead {
			kind := e.Outcome
			if e.BreakGlass {
				kind += "+break-glass " + e.Type
			}
			seen[e.Provider] = kind
			// The emergency read names the permission that let it in: the
			// patient's standing grant, by its hash (not an empty grant
			// field the wallet would have to interpret); the provider's
			// read names the grant it presented.
			switch {
			case e.BreakGlass && e.Outcome == trail.OutcomeGranted:
				if !e.Standing || e.Consent != consent.Hash(standing) {
					t.Errorf("break-glass entry: standing %v, grant %q; want the standing grant %q", e.Standing, e.Consent, consent.Hash(standing))
				}
			case e.Provider == prov.DID:
				if e.Standing || e.Consent != consent.Hash(grant) {
					t.Errorf("provider's entry: standing %v, grant %q; want the grant presented", e.Standing, e.Consent)
				}
			}
		}
	}
	want := map[string]string{prov.DID: "granted", second.DID: "denied", er.DID: "granted+break-glass " + trail.DCMEmergencyOverride}
	for d, k := range want {
		if seen[d] != k {
			t.Errorf("trail for %s = %q, want %q", d, seen[d], k)
		}
	}

	// Revoke; the provider is denied from then on.
	p, err := tx.NewConsentRevoke(anchors[grant].DID, consent.Hash(grant))
	submit(p, err, anchors[grant])
	if _, err := srv.As(prov).Get(ctx, m.ID, "TREAT", grant, ""); !errors.Is(err, vaultapi.ErrDenied) {
		t.Fatalf("after revocation: %v, want denied", err)
	}
	// Erasure on the patient's request.
	if _, err := srv.As(patient).Erase(ctx, m.ID); err != nil {
		t.Fatal(err)
	}
	fresh := issue(prov.DID, []string{"AllergyIntolerance"}, "TREAT", 30, false)
	if _, err := srv.As(prov).Get(ctx, m.ID, "TREAT", fresh, ""); !errors.Is(err, vaultapi.ErrErased) {
		t.Fatalf("after erasure: %v, want vaultapi.ErrErased", err)
	}
	es := trailOf()
	if last := es[len(es)-1]; last.Outcome != trail.OutcomeDenied {
		t.Errorf("last entry after erasure = %+v, want the denied read", last.Entry)
	}
	var erased bool
	for _, e := range es {
		erased = erased || (e.Action == trail.ActionErase && e.Outcome == trail.OutcomeGranted)
	}
	if !erased {
		t.Error("the erasure is not in the trail")
	}

	// The record's existence and erasure are anchored: the vault's public
	// events carry its hash, and each is proven against the ledger's root.
	// Only the owner (or the hospital) may see them; without a signed
	// request the answer says nothing about the record (issue 11 item 12).
	resp, err := http.Get(srv.URL + "/1.0/vault/records/" + m.ID + "/events")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	missing, err := http.Get(srv.URL + "/1.0/vault/records/no-such-record/events")
	if err != nil {
		t.Fatal(err)
	}
	missing.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || missing.StatusCode != resp.StatusCode {
		t.Errorf("unsigned events of an existing record: %d, of a missing one: %d; want 401 for both", resp.StatusCode, missing.StatusCode)
	}
	if _, err := srv.As(prov).Events(ctx, m.ID); !errors.Is(err, vaultapi.ErrNotFound) {
		t.Errorf("events for a provider: %v, want not found", err)
	}
	evs, err := srv.As(patient).Events(ctx, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, e := range evs {
		rec, err := reg.AuditAnchor(ctx, hosp.DID, e.Batch)
		if err != nil {
			t.Fatal(err)
		}
		var root trail.Hash
		rb, _ := hex.DecodeString(rec.Root)
		copy(root[:], rb)
		if err := e.Verify(root, int(rec.Count)); err != nil {
			t.Errorf("record event %s/%d: %v", e.Batch, e.Index, err)
		}
		var ev struct{ Type, Hash string }
		_ = json.Unmarshal([]byte(e.Data), &ev)
		if ev.Hash != m.Hash {
			t.Errorf("record event hash %s, want %s", ev.Hash, m.Hash)
		}
		kinds = append(kinds, ev.Type)
	}
	if strings.Join(kinds, ",") != "record.put,record.erase" {
		t.Errorf("record events = %v, want put then erase", kinds)
	}

	// Consent anchors name their own anchor DIDs, never the patient
	// (issue 11 item 13): the patient's DID is one more needle.
	scanLedger(t, s.Home, s, anchors[grant].DID, []string{patientName, substance, "Peanut", "AllergyIntolerance\",\"id", record, patient.DID})
}

// scanLedger stops the node and reads everything it stored: every
// transaction of every block (the JWS payloads decoded) and every key and
// value of the IAVL state. It fails if any needle is found, and checks that
// the scan can find things by expecting expect (a consent anchor's DID).
func scanLedger(t *testing.T, home string, s *nodetest.Stack, expect string, needles []string) {
	t.Helper()
	_ = s.Node.Stop()
	_ = s.App.Close()
	var hay [][]byte
	bdb, err := dbm.NewGoLevelDB("blockstore", filepath.Join(home, "data"))
	if err != nil {
		t.Fatal(err)
	}
	bs := store.NewBlockStore(bdb)
	blocks, txs := 0, 0
	for h := bs.Base(); h <= bs.Height(); h++ {
		b := bs.LoadBlock(h)
		if b == nil {
			continue
		}
		blocks++
		for _, raw := range b.Data.Txs {
			txs++
			hay = append(hay, raw)
			for _, part := range bytes.Split(raw, []byte{'.'}) {
				if dec, err := base64.RawURLEncoding.DecodeString(string(part)); err == nil {
					hay = append(hay, dec)
				}
			}
		}
	}
	_ = bdb.Close()
	sdb, err := iavldb.NewGoLevelDB("state", filepath.Join(home, "data", "registry"))
	if err != nil {
		t.Fatal(err)
	}
	tree := iavl.NewMutableTree(sdb, 0, true, iavl.NewNopLogger())
	if _, err := tree.Load(); err != nil {
		t.Fatal(err)
	}
	keys := 0
	if _, err := tree.Iterate(func(k, v []byte) bool {
		keys++
		hay = append(hay, k, v)
		return false
	}); err != nil {
		t.Fatal(err)
	}
	_ = sdb.Close()
	all := bytes.Join(hay, []byte{0})
	if !bytes.Contains(all, []byte(expect)) {
		t.Fatalf("the scan of %d blocks, %d transactions and %d state keys did not find %s: the scan is broken", blocks, txs, keys, expect)
	}
	for _, n := range needles {
		if bytes.Contains(all, []byte(n)) || bytes.Contains(bytes.ToLower(all), []byte(strings.ToLower(n))) {
			t.Errorf("the ledger contains %q", n)
		}
	}
	t.Logf("scanned %d blocks, %d transactions, %d state keys: no clinical content (%d bytes)", blocks, txs, keys, len(all))
}
