package machine

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/tx"
)

func stMarys() *tx.DirectoryEntry {
	return &tx.DirectoryEntry{LegalName: "St Mary's Hospital NHS Trust", DisplayName: "St Mary's Hospital", Kind: tx.KindHospital,
		Country: "GB", Website: "https://stmarys.example", Roles: []tx.Role{{Role: tx.RoleIssuer}}}
}

func (h *harness) govKID() string { return h.govDID + "#" + h.gov.Public().Multikey() }

func (h *harness) dirTx(typ tx.Type, org string, e *tx.DirectoryEntry, version int64, reason string) []byte {
	return h.sign(&tx.Payload{Type: typ, DID: h.govDID, Org: org, Entry: e, Version: version, Reason: reason}, h.gov, h.govKID())
}

// code commits raw alone and returns its result code and log.
func (h *harness) code(raw []byte) (uint32, string) {
	h.tb.Helper()
	r := h.block(raw)[0]
	return r.Code, r.Log
}

func TestDirectoryLifecycle(t *testing.T) {
	h := newHarness(t)
	org := h.register(1)
	h.mustBlock(h.dirTx(tx.DirectoryAdd, org.did, stMarys(), 0, ""))
	added := blockTime(h.height())

	rec, err := h.app.Directory(org.did)
	if err != nil {
		t.Fatal(err)
	}
	if c := rec.Current(); c.Version != 1 || c.Status != ledger.DirectoryActive || c.Entry.DisplayName != "St Mary's Hospital" || c.By != h.govDID {
		t.Fatalf("after add: %+v", c)
	}
	e := stMarys()
	e.DisplayName = "St Mary's"
	h.mustBlock(h.dirTx(tx.DirectoryUpdate, org.did, e, 2, ""))
	renamed := blockTime(h.height())
	h.mustBlock(h.dirTx(tx.DirectorySuspend, org.did, nil, 3, "licence under review"))
	h.mustBlock(h.dirTx(tx.DirectoryUpdate, org.did, e, 4, "")) // reinstates
	h.mustBlock(h.dirTx(tx.DirectoryRemove, org.did, nil, 5, "closed"))
	rec, _ = h.app.Directory(org.did)
	wantStatus := []string{"active", "active", "suspended", "active", "removed"}
	if len(rec.Versions) != len(wantStatus) {
		t.Fatalf("%d versions, want %d", len(rec.Versions), len(wantStatus))
	}
	for i, v := range rec.Versions {
		if v.Status != wantStatus[i] || v.Version != int64(i+1) {
			t.Errorf("version %d: status %s, want %s", v.Version, v.Status, wantStatus[i])
		}
	}
	// What was it called, and was it in force, at a time?
	for _, tc := range []struct {
		at     string
		name   string
		active bool
	}{
		{"at add", "St Mary's Hospital", true},
		{"after rename", "St Mary's", true},
	} {
		at := added
		if tc.at == "after rename" {
			at = renamed
		}
		v := rec.At(at)
		if v == nil || v.Entry.DisplayName != tc.name || v.Active() != tc.active {
			t.Errorf("%s: %+v", tc.at, v)
		}
	}
	if v := rec.At(added.Add(-1)); v != nil {
		t.Errorf("before it was added: %+v, want nil", v)
	}
	// Removal is final.
	if code, log := h.code(h.dirTx(tx.DirectoryUpdate, org.did, e, 6, "")); code != ledger.CodeInvalid {
		t.Errorf("update after removal: code %d (%s), want %d", code, log, ledger.CodeInvalid)
	}
	if code, _ := h.code(h.dirTx(tx.DirectoryAdd, org.did, e, 0, "")); code != ledger.CodeExists {
		t.Errorf("re-add after removal: code %d, want %d", code, ledger.CodeExists)
	}
	// Its name is free again.
	other := h.register(2)
	h.mustBlock(h.dirTx(tx.DirectoryAdd, other.did, e, 0, ""))
}

func TestDirectoryRejects(t *testing.T) {
	h := newHarness(t)
	org := h.register(1)
	other := h.register(2)
	named := func(display string) *tx.DirectoryEntry {
		e := stMarys()
		e.DisplayName, e.LegalName = display, display+" Ltd"
		return e
	}
	h.mustBlock(h.dirTx(tx.DirectoryAdd, org.did, stMarys(), 0, ""), h.dirTx(tx.DirectoryAdd, h.register(3).did, named("Coop Pharmacy"), 0, ""))
	for _, tc := range []struct {
		name string
		raw  func() []byte
		code uint32
		want string
	}{
		{"self-naming: the organisation signs its own entry", func() []byte {
			return h.sign(&tx.Payload{Type: tx.DirectoryAdd, DID: other.did, Org: other.did, Entry: named("Other Clinic")}, other.keys[0], other.kid(0))
		}, ledger.CodeUnauthorized, "not a governance DID"},
		{"a key that is not governance", func() []byte {
			k := testKey(t, 99)
			kd := did.KeyDID(k.Public())
			return h.sign(&tx.Payload{Type: tx.DirectoryAdd, DID: kd, Org: other.did, Entry: named("Other Clinic")}, k, kd+"#"+k.Public().Multikey())
		}, ledger.CodeUnauthorized, "not a governance DID"},
		{"same display name", func() []byte { return h.dirTx(tx.DirectoryAdd, other.did, named("St Mary's Hospital"), 0, "") }, ledger.CodeExists, "imitation"},
		{"same name, other case and punctuation", func() []byte { return h.dirTx(tx.DirectoryAdd, other.did, named("ST. MARYS HOSPITAL"), 0, "") }, ledger.CodeExists, "imitation"},
		{"confusable: digit one for l", func() []byte { return h.dirTx(tx.DirectoryAdd, other.did, named("St Mary's Hospita1"), 0, "") }, ledger.CodeExists, "imitation"},
		{"confusable: a word written in Cyrillic letters that look Latin", func() []byte {
			return h.dirTx(tx.DirectoryAdd, other.did, named("СООР Pharmacy"), 0, "")
		}, ledger.CodeExists, "imitation"},
		{"legal name imitates the display name", func() []byte {
			e := named("Other Clinic")
			e.LegalName = "St Marys Hospital"
			return h.dirTx(tx.DirectoryAdd, other.did, e, 0, "")
		}, ledger.CodeExists, "imitation"},
		{"unregistered did:medid", func() []byte { return h.dirTx(tx.DirectoryAdd, "did:medid:unknown", named("Nowhere"), 0, "") }, ledger.CodeNotFound, ""},
		{"stale version", func() []byte { return h.dirTx(tx.DirectoryUpdate, org.did, stMarys(), 3, "") }, ledger.CodeStaleVersion, "must be version 2"},
		{"update of an unknown entry", func() []byte { return h.dirTx(tx.DirectoryUpdate, other.did, named("X Y"), 2, "") }, ledger.CodeNotFound, "not in the directory"},
		{"role DID that is an organisation", func() []byte {
			e := named("Other Clinic")
			e.Roles = []tx.Role{{Role: tx.RoleVaultOperator, DID: org.did}}
			return h.dirTx(tx.DirectoryAdd, other.did, e, 0, "")
		}, ledger.CodeExists, "organisation of its own"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := h.hash()
			code, log := h.code(tc.raw())
			if code != tc.code {
				t.Fatalf("code %d (%s), want %d", code, log, tc.code)
			}
			if tc.want != "" && !contains(log, tc.want) {
				t.Errorf("log %q does not say %q", log, tc.want)
			}
			if !sameBytes(before, h.hash()) {
				t.Error("a rejected directory transaction changed the state")
			}
		})
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

func TestDirectoryDistinctFromAndAliases(t *testing.T) {
	h := newHarness(t)
	london, wight := h.register(1), h.register(2)
	h.mustBlock(h.dirTx(tx.DirectoryAdd, london.did, stMarys(), 0, ""))
	e := stMarys()
	e.Country, e.LegalName = "GB", "St Mary's Hospital Isle of Wight"
	if code, _ := h.code(h.dirTx(tx.DirectoryAdd, wight.did, e, 0, "")); code != ledger.CodeExists {
		t.Fatalf("same name without distinctFrom: code %d, want %d", code, ledger.CodeExists)
	}
	e.DistinctFrom = []string{london.did}
	h.mustBlock(h.dirTx(tx.DirectoryAdd, wight.did, e, 0, ""))
	// The first one can still be updated: the second told them apart.
	l := stMarys()
	l.Website = "https://london.example"
	h.mustBlock(h.dirTx(tx.DirectoryUpdate, london.did, l, 2, ""))

	// A vault's did:key stands for the organisation; another cannot take it.
	vault := did.KeyDID(testKey(t, 50).Public())
	l.Roles = append(l.Roles, tx.Role{Role: tx.RoleVaultOperator, DID: vault})
	h.mustBlock(h.dirTx(tx.DirectoryUpdate, london.did, l, 3, ""))
	al, err := h.app.DirectoryAlias(vault)
	if err != nil || al.Org != london.did {
		t.Fatalf("alias: %+v, %v", al, err)
	}
	w := *e
	w.Roles = []tx.Role{{Role: tx.RoleVaultOperator, DID: vault}}
	if code, log := h.code(h.dirTx(tx.DirectoryUpdate, wight.did, &w, 2, "")); code != ledger.CodeExists {
		t.Fatalf("taking another's vault DID: code %d (%s)", code, log)
	}
	// Once the first no longer lists it, the DID is free.
	l.Roles = l.Roles[:1]
	h.mustBlock(h.dirTx(tx.DirectoryUpdate, london.did, l, 4, ""))
	h.mustBlock(h.dirTx(tx.DirectoryUpdate, wight.did, &w, 2, ""))
}

func TestDirectorySearch(t *testing.T) {
	h := newHarness(t)
	var txs [][]byte
	names := []struct{ name, kind string }{
		{"St Mary's Hospital", tx.KindHospital}, {"Saint Thomas Clinic", tx.KindClinic}, {"Mary Smith Pharmacy", tx.KindPharmacy},
		{"City ER", tx.KindEmergencyService}, {"General Medical Council", tx.KindLicensingBody}, {"Hôpital Sainte-Marie", tx.KindHospital},
	}
	dids := map[string]string{}
	for i, n := range names {
		id := h.register(byte(10 + i))
		dids[n.name] = id.did
		e := stMarys()
		e.DisplayName, e.LegalName, e.Kind = n.name, n.name, n.kind
		txs = append(txs, h.dirTx(tx.DirectoryAdd, id.did, e, 0, ""))
	}
	h.mustBlock(txs...)
	search := func(q ledger.DirectorySearch) []string {
		t.Helper()
		p, err := h.app.SearchDirectory(q)
		if err != nil {
			t.Fatalf("search %+v: %v", q, err)
		}
		out := []string{}
		for _, r := range p.Results {
			out = append(out, r.DisplayName)
		}
		return out
	}
	for _, tc := range []struct {
		q    ledger.DirectorySearch
		want string
	}{
		{ledger.DirectorySearch{Query: "mary"}, "[Mary Smith Pharmacy St Mary's Hospital]"},
		{ledger.DirectorySearch{Query: "MARY'S"}, "[St Mary's Hospital]"},
		{ledger.DirectorySearch{Query: "st mar"}, "[St Mary's Hospital]"},
		{ledger.DirectorySearch{Query: "hopital"}, "[Hôpital Sainte-Marie]"},
		{ledger.DirectorySearch{Query: "sa"}, "[Saint Thomas Clinic Hôpital Sainte-Marie]"},
		{ledger.DirectorySearch{Query: "mary", Kind: tx.KindHospital}, "[St Mary's Hospital]"},
		{ledger.DirectorySearch{Kind: tx.KindLicensingBody}, "[General Medical Council]"},
		{ledger.DirectorySearch{Query: "nobody"}, "[]"},
		{ledger.DirectorySearch{}, "[City ER General Medical Council Hôpital Sainte-Marie Mary Smith Pharmacy Saint Thomas Clinic St Mary's Hospital]"},
	} {
		if got := fmt.Sprint(search(tc.q)); got != tc.want {
			t.Errorf("search %+v = %s, want %s", tc.q, got, tc.want)
		}
	}
	// Pages of one cover everything once.
	var all []string
	q := ledger.DirectorySearch{Limit: 1}
	for range 10 {
		p, err := h.app.SearchDirectory(q)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range p.Results {
			all = append(all, r.DisplayName)
		}
		if p.Next == "" {
			break
		}
		q.Cursor = p.Next
	}
	if len(all) != len(names) {
		t.Errorf("paging found %v", all)
	}
	// Removed entries are found only with status=all.
	h.mustBlock(h.dirTx(tx.DirectoryRemove, dids["City ER"], nil, 2, "closed"))
	if got := fmt.Sprint(search(ledger.DirectorySearch{Query: "city"})); got != "[]" {
		t.Errorf("removed entry found: %s", got)
	}
	if got := fmt.Sprint(search(ledger.DirectorySearch{Query: "city", Status: ledger.SearchAll})); got != "[City ER]" {
		t.Errorf("status=all: %s", got)
	}
	// The index is rebuilt from the state after a restart.
	h.app.Close()
	h.open()
	if got := fmt.Sprint(search(ledger.DirectorySearch{Query: "mary"})); got != "[Mary Smith Pharmacy St Mary's Hospital]" {
		t.Errorf("after restart: %s", got)
	}
	for _, bad := range []ledger.DirectorySearch{{Kind: "spa"}, {Cursor: "!!"}, {Limit: 1000}, {Status: "gone"}, {Query: string(make([]byte, 300))}} {
		if _, err := h.app.SearchDirectory(bad); !errors.Is(err, ledger.ErrInvalid) {
			t.Errorf("search %+v: %v, want ErrInvalid", bad, err)
		}
	}
}
