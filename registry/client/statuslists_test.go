package client_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/credentials/statuslist"
	"github.com/medid/medid/registry/client"
	"github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/node/nodetest"
)

// signList signs a revocation list credentialID owned by id with the bits
// in set set.
func signList(t *testing.T, id *nodetest.Identity, credentialID string, set ...int) string {
	t.Helper()
	l, err := statuslist.New(statuslist.MinEntries)
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range set {
		l.Set(i, true)
	}
	c, err := statuslist.NewCredential(credentialID, id.DID, statuslist.Revocation, l, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := statuslist.Sign(c, id.Key, id.KID())
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestStatusListID(t *testing.T) {
	c, err := client.New(client.Config{URL: "http://registry.example:8080/"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.StatusListURL("l-1"), "http://registry.example:8080/1.0/status-lists/l-1"; got != want {
		t.Errorf("StatusListURL = %s, want %s", got, want)
	}
	cases := []struct {
		credID string
		want   string // "" = ErrStatusListID
	}{
		{"http://registry.example:8080/1.0/status-lists/hosp-1", "hosp-1"},
		{"urn:uuid:5b0e6f5e-2d1c-4b7a-9d55-000000000001", "urn:uuid:5b0e6f5e-2d1c-4b7a-9d55-000000000001"},
		{"http://registry.example:8080/1.0/status-lists/", ""},
		{"http://registry.example:8080/1.0/status-lists/a/b", ""},
		{"http://registry.example:8080/1.0/status-lists/a?x=1", ""},
		{"http://registry.example:8080/1.0/status-lists/a%20b", ""},
		{"https://elsewhere.example/list", ""},
		{"", ""},
	}
	for _, tc := range cases {
		got, err := c.StatusListID(tc.credID)
		var se *client.StatusListError
		switch {
		case tc.want == "" && (!errors.Is(err, client.ErrStatusListID) || !errors.As(err, &se) || se.CredentialID != tc.credID):
			t.Errorf("StatusListID(%q) = %q, %v; want ErrStatusListID", tc.credID, got, err)
		case tc.want != "" && (err != nil || got != tc.want):
			t.Errorf("StatusListID(%q) = %q, %v; want %q", tc.credID, got, err, tc.want)
		}
	}
}

// TestStatusListPublishing drives a list's life on a real registry: plan
// and publish version 1, refuse a second new list with the same id, plan
// and publish a change to the latest version, refuse a change to a stale
// copy, and read each version back with its number.
func TestStatusListPublishing(t *testing.T) {
	s := nodetest.Start(t, nodetest.Options{})
	plain, proving := newClients(t, s)
	ctx := context.Background()
	hosp := nodetest.NewIdentity(t, "list publisher")
	if _, err := plain.Submit(ctx, hosp.CreateTx(t)); err != nil {
		t.Fatal(err)
	}
	lid := hosp.DID + ":pub-1" // in the owner's namespace
	credID := plain.StatusListURL(lid)

	if v, tok, err := plain.StatusListVersion(ctx, lid); v != 0 || tok != "" || err != nil {
		t.Fatalf("never published: %d, %q, %v", v, tok, err)
	}
	if _, _, err := plain.StatusList(ctx, lid, 0); !errors.Is(err, ledger.ErrNotFound) {
		t.Errorf("StatusList of a list never published: %v, want ErrNotFound", err)
	}

	v1 := signList(t, hosp, credID)
	plan, err := plain.PlanStatusListPublish(ctx, hosp.DID, credID, "")
	if err != nil || plan.ID != lid || plan.Version != 1 {
		t.Fatalf("plan a new list: %+v, %v", plan, err)
	}
	if _, err := plan.Publish(ctx, hosp.Key, hosp.DID, hosp.KID(), v1); err != nil {
		t.Fatalf("publish version 1: %v", err)
	}

	refusals := []struct {
		name        string
		owner, prev string
		credID      string
		want        error
		wantVersion int64
	}{
		{"a new list over an existing one", hosp.DID, "", credID, client.ErrStatusListExists, 1},
		{"a change to another version", hosp.DID, signList(t, hosp, credID, 3), credID, client.ErrStatusListStale, 1},
		{"an owner that is a did:key", did.KeyDID(hosp.Key.Public()), "", credID, client.ErrStatusListOwner, 0},
		{"an id of another server", hosp.DID, "", "https://elsewhere.example/list", client.ErrStatusListID, 0},
		{"a new list outside the owner's namespace", hosp.DID, "", plain.StatusListURL("st-mary-1"), client.ErrStatusListNamespace, 0},
		{"a new list in another DID's namespace", hosp.DID, "", plain.StatusListURL("did:medid:2yqQkJBPyqgZ3Zz5oAhNqc:st-mary-1"), client.ErrStatusListNamespace, 0},
	}
	for _, tc := range refusals {
		_, err := plain.PlanStatusListPublish(ctx, tc.owner, tc.credID, tc.prev)
		var se *client.StatusListError
		if !errors.Is(err, tc.want) || !errors.As(err, &se) || se.Version != tc.wantVersion {
			t.Errorf("%s: %v, want %v at version %d", tc.name, err, tc.want, tc.wantVersion)
		}
	}

	v2 := signList(t, hosp, credID, 9)
	plan, err = plain.PlanStatusListPublish(ctx, hosp.DID, credID, v1)
	if err != nil || plan.Version != 2 {
		t.Fatalf("plan a change: %+v, %v", plan, err)
	}
	if _, err := plan.Publish(ctx, hosp.Key, hosp.DID, hosp.KID(), v2); err != nil {
		t.Fatalf("publish version 2: %v", err)
	}

	for name, c := range map[string]*client.Client{"plain": plain, "proving": proving} {
		for _, tc := range []struct {
			ask, want int64
			tok       string
		}{{0, 2, v2}, {1, 1, v1}, {2, 2, v2}} {
			tok, v, err := c.StatusList(ctx, lid, tc.ask)
			if err != nil || v != tc.want || tok != tc.tok {
				t.Errorf("%s: StatusList(version %d) = version %d, %v; want version %d", name, tc.ask, v, err, tc.want)
			}
		}
		if _, _, err := c.StatusList(ctx, lid, 3); !errors.Is(err, ledger.ErrNotFound) {
			t.Errorf("%s: a version never published: %v, want ErrNotFound", name, err)
		}
	}
}

func TestEnsureStatusListPublished(t *testing.T) {
	s := nodetest.Start(t, nodetest.Options{})
	plain, _ := newClients(t, s)
	ctx := context.Background()
	hosp := nodetest.NewIdentity(t, "issuer service")
	if _, err := plain.Submit(ctx, hosp.CreateTx(t)); err != nil {
		t.Fatal(err)
	}
	lid := hosp.DID + ":issuer-svc"
	credID := plain.StatusListURL(lid)
	tok := signList(t, hosp, credID)

	// A list outside the owner's namespace is refused before anything is
	// signed.
	if _, _, _, err := plain.EnsureStatusListPublished(ctx, hosp.Key, hosp.DID, hosp.KID(), plain.StatusListURL("issuer-svc"), tok); !errors.Is(err, client.ErrStatusListNamespace) {
		t.Errorf("a list outside the owner's namespace: %v, want ErrStatusListNamespace", err)
	}
	id, v, res, err := plain.EnsureStatusListPublished(ctx, hosp.Key, hosp.DID, hosp.KID(), credID, tok)
	if err != nil || id != lid || v != 1 || res == nil || res.Height == 0 {
		t.Fatalf("first start: %s %d %+v %v; want version 1 published", id, v, res, err)
	}
	// A restart finds it on the ledger and publishes nothing.
	id, v, res, err = plain.EnsureStatusListPublished(ctx, hosp.Key, hosp.DID, hosp.KID(), credID, tok)
	if err != nil || id != lid || v != 1 || res != nil {
		t.Fatalf("restart: %s %d %+v %v; want version 1, nothing published", id, v, res, err)
	}

	k, err := key.Generate(key.Ed25519)
	if err != nil {
		t.Fatal(err)
	}
	keyOwner := did.KeyDID(k.Public())
	if _, _, _, err := plain.EnsureStatusListPublished(ctx, k, keyOwner, keyOwner+"#"+k.Public().Multikey(), plain.StatusListURL("k-list"), tok); !errors.Is(err, client.ErrStatusListOwner) {
		t.Errorf("a did:key owner: %v, want ErrStatusListOwner", err)
	}
	// A list the ledger refuses (signed by another DID than its owner):
	// the error comes from publishing, and says which version was tried.
	other := nodetest.NewIdentity(t, "someone else")
	badID := plain.StatusListURL(hosp.DID + ":bad")
	_, v, _, err = plain.EnsureStatusListPublished(ctx, hosp.Key, hosp.DID, hosp.KID(), badID, signList(t, other, badID))
	var pe *client.ProblemError
	if !errors.As(err, &pe) || v != 1 {
		t.Errorf("a list the ledger refuses: version %d, %v; want a ProblemError for version 1", v, err)
	}
}
