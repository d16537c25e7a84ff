package statuslist

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/credentials/vc"
)

const listID = "https://registry.example/1.0/status-lists/3"

func entry(purpose, index string) vc.Status {
	return vc.Status{
		ID:                   listID + "#" + index,
		Type:                 TypeEntry,
		StatusPurpose:        purpose,
		StatusListIndex:      index,
		StatusListCredential: listID,
	}
}

// signedList issues a status list credential with the given entries set,
// signs it, and returns what vc.Verify gives back after a JSON round trip.
func signedList(t *testing.T, purpose Purpose, ttl time.Duration, set ...int) *vc.Credential {
	t.Helper()
	k, err := key.Generate(key.Ed25519)
	if err != nil {
		t.Fatal(err)
	}
	issuer := did.KeyDID(k.Public())
	kid := issuer + "#" + k.Public().Multikey()
	l := mustNew(t, MinEntries)
	for _, i := range set {
		if err := l.Set(i, true); err != nil {
			t.Fatal(err)
		}
	}
	c, err := NewCredential(listID, issuer, purpose, l, ttl)
	if err != nil {
		t.Fatalf("NewCredential: %v", err)
	}
	tok, err := vc.Issue(c, k, kid)
	if err != nil {
		t.Fatalf("vc.Issue: %v", err)
	}
	keys := func(ctx context.Context, got string) (key.PublicKey, error) {
		if got != kid {
			return key.PublicKey{}, errors.New("unknown kid")
		}
		return k.Public(), nil
	}
	v, err := vc.Verify(context.Background(), tok, keys, vc.VerifyOptions{})
	if err != nil {
		t.Fatalf("vc.Verify of the status list credential: %v", err)
	}
	return v
}

func TestCredentialShape(t *testing.T) {
	c := signedList(t, Revocation, 5*time.Minute, 42)
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Context []string `json:"@context"`
		ID      string   `json:"id"`
		Type    []string `json:"type"`
		Issuer  string   `json:"issuer"`
		From    string   `json:"validFrom"`
		Subject struct {
			ID          string `json:"id"`
			Type        string `json:"type"`
			Purpose     string `json:"statusPurpose"`
			EncodedList string `json:"encodedList"`
			TTL         int64  `json:"ttl"`
		} `json:"credentialSubject"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	checks := []struct{ name, got, want string }{
		{"context", m.Context[0], vc.ContextV2},
		{"id", m.ID, listID},
		{"type[0]", m.Type[0], "VerifiableCredential"},
		{"type[1]", m.Type[1], "BitstringStatusListCredential"},
		{"subject.id", m.Subject.ID, listID + "#list"},
		{"subject.type", m.Subject.Type, "BitstringStatusList"},
		{"statusPurpose", m.Subject.Purpose, "revocation"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	if m.Subject.TTL != 300000 {
		t.Errorf("ttl = %d, want 300000 (ms)", m.Subject.TTL)
	}
	if m.From == "" {
		t.Errorf("validFrom missing")
	}
	if m.Subject.EncodedList[0] != 'u' {
		t.Errorf("encodedList %q lacks the multibase prefix", m.Subject.EncodedList[:10])
	}

	d, err := FromCredential(c)
	if err != nil {
		t.Fatalf("FromCredential: %v", err)
	}
	if d.TTL != 5*time.Minute || d.Purpose != Revocation || d.ID != listID || d.Issuer != c.Issuer || d.List.Len() != MinEntries {
		t.Errorf("FromCredential = {TTL %s, Purpose %s, ID %s, Issuer %s, Len %d}, want {5m, revocation, %s, %s, %d}",
			d.TTL, d.Purpose, d.ID, d.Issuer, d.List.Len(), listID, c.Issuer, MinEntries)
	}
	noTTL, err := FromCredential(signedList(t, Suspension, 0))
	if err != nil {
		t.Fatal(err)
	}
	if noTTL.TTL != 0 {
		t.Errorf("TTL without ttl = %s, want 0", noTTL.TTL)
	}
}

func TestCheck(t *testing.T) {
	revocation := signedList(t, Revocation, 0, 7, 1000)
	suspension := signedList(t, Suspension, 0, 8)
	refresh := signedList(t, Refresh, 0, 7)
	otherList := entry("revocation", "7")
	otherList.StatusListCredential = "https://registry.example/1.0/status-lists/4"
	wrongType := entry("revocation", "7")
	wrongType.Type = "StatusList2021Entry"
	noList := entry("revocation", "7")
	noList.StatusListCredential = ""
	size2 := entry("revocation", "7")
	size2.Extra = map[string]any{"statusSize": json.Number("2")}
	size1 := entry("revocation", "7")
	size1.Extra = map[string]any{"statusSize": json.Number("1")}

	tests := []struct {
		name    string
		entry   vc.Status
		list    *vc.Credential
		want    bool
		wantErr error
	}{
		{"revoked", entry("revocation", "7"), revocation, true, nil},
		{"revoked high index", entry("revocation", "1000"), revocation, true, nil},
		{"not revoked", entry("revocation", "6"), revocation, false, nil},
		{"leading zeros", entry("revocation", "0007"), revocation, true, nil},
		{"suspended", entry("suspension", "8"), suspension, true, nil},
		{"not suspended", entry("suspension", "7"), suspension, false, nil},
		{"statusSize 1", size1, revocation, true, nil},
		{"purpose mismatch", entry("suspension", "7"), revocation, false, ErrPurposeMismatch},
		{"refresh not checkable", entry("refresh", "7"), refresh, false, ErrUnsupportedPurpose},
		{"statusSize 2", size2, revocation, false, ErrUnsupportedPurpose},
		{"index out of range", entry("revocation", "131072"), revocation, false, ErrRange},
		{"index overflows int", entry("revocation", "99999999999999999999999"), revocation, false, ErrRange},
		{"negative index", entry("revocation", "-1"), revocation, false, ErrMalformed},
		{"plus sign", entry("revocation", "+7"), revocation, false, ErrMalformed},
		{"hex index", entry("revocation", "0x7"), revocation, false, ErrMalformed},
		{"empty index", entry("revocation", ""), revocation, false, ErrMalformed},
		{"other list", otherList, revocation, false, ErrListMismatch},
		{"wrong entry type", wrongType, revocation, false, ErrMalformed},
		{"no statusListCredential", noList, revocation, false, ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Check(tt.entry, tt.list)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Check error = %v, want %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("Check = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestFromCredentialErrors(t *testing.T) {
	good := signedList(t, Revocation, time.Second)
	mutate := func(f func(c *vc.Credential)) *vc.Credential {
		b, _ := json.Marshal(good)
		c := new(vc.Credential)
		if err := json.Unmarshal(b, c); err != nil {
			t.Fatal(err)
		}
		f(c)
		return c
	}
	short := encodeRaw(t, make([]byte, 100))
	tests := []struct {
		name    string
		cred    *vc.Credential
		wantErr error
	}{
		{"nil", nil, ErrMalformed},
		{"not a status list credential", mutate(func(c *vc.Credential) { c.Type = []string{"VerifiableCredential"} }), ErrMalformed},
		{"subject type", mutate(func(c *vc.Credential) { c.Subject["type"] = "StatusList2021" }), ErrMalformed},
		{"unknown purpose", mutate(func(c *vc.Credential) { c.Subject["statusPurpose"] = "deletion" }), ErrMalformed},
		{"purpose array", mutate(func(c *vc.Credential) { c.Subject["statusPurpose"] = []any{"revocation"} }), ErrMalformed},
		{"no encodedList", mutate(func(c *vc.Credential) { delete(c.Subject, "encodedList") }), ErrMalformed},
		{"bad encodedList", mutate(func(c *vc.Credential) { c.Subject["encodedList"] = "H4sI" }), ErrMalformed},
		{"short list", mutate(func(c *vc.Credential) { c.Subject["encodedList"] = short }), ErrListLength},
		{"ttl string", mutate(func(c *vc.Credential) { c.Subject["ttl"] = "300" }), ErrMalformed},
		{"ttl negative", mutate(func(c *vc.Credential) { c.Subject["ttl"] = json.Number("-1") }), ErrMalformed},
		{"ttl fraction", mutate(func(c *vc.Credential) { c.Subject["ttl"] = json.Number("1.5") }), ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := FromCredential(tt.cred)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("FromCredential error = %v, want %v", err, tt.wantErr)
			}
			if d != nil {
				t.Errorf("FromCredential returned a value with an error")
			}
		})
	}
	huge := mutate(func(c *vc.Credential) { c.Subject["ttl"] = json.Number("1e30") })
	if d, err := FromCredential(huge); err != nil || d.TTL != maxTTL {
		t.Errorf("huge ttl: got %v, %v; want it capped at %s", d, err, maxTTL)
	}
}

func TestNewCredentialErrors(t *testing.T) {
	l := mustNew(t, MinEntries)
	tests := []struct {
		name       string
		id, issuer string
		purpose    Purpose
		list       *List
		ttl        time.Duration
	}{
		{"no id", "", "did:example:1", Revocation, l, 0},
		{"no issuer", listID, "", Revocation, l, 0},
		{"issuer not a URL", listID, "hospital", Revocation, l, 0},
		{"unknown purpose", listID, "did:example:1", "deletion", l, 0},
		{"nil list", listID, "did:example:1", Revocation, nil, 0},
		{"short list", listID, "did:example:1", Revocation, &List{bits: make([]byte, 8)}, 0},
		{"negative ttl", listID, "did:example:1", Revocation, l, -time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if c, err := NewCredential(tt.id, tt.issuer, tt.purpose, tt.list, tt.ttl); err == nil {
				t.Errorf("NewCredential = %v, want an error", c)
			}
		})
	}
}
