package statuslist_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/credentials/statuslist"
	"github.com/medid/medid/credentials/vc"
)

const listID = "https://hospital.example/status/1"

func ownerKey(tb testing.TB) (*key.PrivateKey, string, string) {
	tb.Helper()
	seed := sha256.Sum256([]byte("list owner"))
	k, err := key.NewEd25519FromSeed(seed[:])
	if err != nil {
		tb.Fatal(err)
	}
	id := did.KeyDID(k.Public())
	return k, id, id + "#" + k.Public().Multikey()
}

// signed returns a signed list of purpose p with bit set[i] set.
func signed(tb testing.TB, p statuslist.Purpose, set ...int) (string, *statuslist.Decoded) {
	tb.Helper()
	k, issuer, kid := ownerKey(tb)
	l, err := statuslist.New(statuslist.MinEntries)
	if err != nil {
		tb.Fatal(err)
	}
	for _, i := range set {
		l.Set(i, true)
	}
	c, err := statuslist.NewCredential(listID, issuer, p, l, 5*time.Minute)
	if err != nil {
		tb.Fatal(err)
	}
	tok, err := statuslist.Sign(c, k, kid)
	if err != nil {
		tb.Fatal(err)
	}
	d, err := statuslist.ParseToken(tok)
	if err != nil {
		tb.Fatal(err)
	}
	return tok, d
}

func TestSignBackdates(t *testing.T) {
	k, issuer, kid := ownerKey(t)
	l, _ := statuslist.New(statuslist.MinEntries)
	c, err := statuslist.NewCredential(listID, issuer, statuslist.Revocation, l, 0)
	if err != nil {
		t.Fatal(err)
	}
	built := *c.ValidFrom
	tok, err := statuslist.Sign(c, k, kid)
	if err != nil {
		t.Fatal(err)
	}
	got, err := vc.Verify(context.Background(), tok, func(context.Context, string) (key.PublicKey, error) { return k.Public(), nil }, vc.VerifyOptions{})
	if err != nil {
		t.Fatalf("the signed list does not verify: %v", err)
	}
	if want := built.Add(-statuslist.ClockSkew); !got.ValidFrom.Equal(want) {
		t.Errorf("validFrom %v, want %v (backdated by %v)", got.ValidFrom, want, statuslist.ClockSkew)
	}
	if _, err := statuslist.Sign(c, k, "did:key:other#x"); err == nil {
		t.Error("signed with a kid of another DID")
	}
	if _, err := statuslist.Sign(nil, k, kid); err == nil {
		t.Error("signed nothing")
	}
}

func TestParseToken(t *testing.T) {
	tok, _ := signed(t, statuslist.Suspension, 7)
	_, issuer, _ := ownerKey(t)
	d, err := statuslist.ParseToken(tok)
	if err != nil {
		t.Fatal(err)
	}
	if set, _ := d.List.Get(7); !set || d.ID != listID || d.Issuer != issuer || d.Purpose != statuslist.Suspension || d.TTL != 5*time.Minute {
		t.Errorf("decoded %+v", d)
	}
	for _, bad := range []string{"", "a.b.c", tok[:len(tok)/2]} {
		if _, err := statuslist.ParseToken(bad); err == nil {
			t.Errorf("ParseToken(%.20q…) = nil error", bad)
		}
	}
}

func TestEntryFor(t *testing.T) {
	_, d := signed(t, statuslist.Revocation)
	_, issuer, _ := ownerKey(t)
	cases := []struct {
		name    string
		issuer  string
		index   int
		wantErr error
	}{
		{"first", issuer, 0, nil},
		{"last", issuer, statuslist.MinEntries - 1, nil},
		{"past the end", issuer, statuslist.MinEntries, statuslist.ErrRange},
		{"negative", issuer, -1, statuslist.ErrRange},
		{"another issuer", "did:key:z6MkoddHvQGZEbSCJcFfdWfEUDnj5b5AtqXWpQhEjFyZuES6", 0, statuslist.ErrNotOwner},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e, err := d.EntryFor(tc.issuer, tc.index)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("EntryFor = %v, want %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			i := strconv.Itoa(tc.index)
			want := vc.Status{ID: listID + "#" + i, Type: "BitstringStatusListEntry", StatusPurpose: "revocation", StatusListIndex: i, StatusListCredential: listID}
			if e.ID != want.ID || e.Type != want.Type || e.StatusPurpose != want.StatusPurpose || e.StatusListIndex != want.StatusListIndex || e.StatusListCredential != want.StatusListCredential {
				t.Errorf("entry %+v, want %+v", e, want)
			}
			if set, err := d.Check(e); err != nil || set {
				t.Errorf("the entry does not check against its own list: %v, %v", set, err)
			}
		})
	}
	var oe *statuslist.OwnerError
	if _, err := d.EntryFor("did:key:x", 0); !errors.As(err, &oe) || oe.Owner != issuer || oe.List != listID {
		t.Errorf("OwnerError = %+v", oe)
	}
}

func TestApply(t *testing.T) {
	cases := []struct {
		name    string
		purpose statuslist.Purpose
		set     []int
		op      statuslist.Op
		index   int
		wantWas bool
		wantNow bool
		wantErr string // "" = applied
	}{
		{"revoke", statuslist.Revocation, nil, statuslist.Revoke, 9, false, true, ""},
		{"revoke again", statuslist.Revocation, []int{9}, statuslist.Revoke, 9, true, true, ""},
		{"suspend", statuslist.Suspension, nil, statuslist.Suspend, 0, false, true, ""},
		{"reinstate", statuslist.Suspension, []int{5}, statuslist.Reinstate, 5, true, false, ""},
		{"reinstate a revocation", statuslist.Revocation, []int{5}, statuslist.Reinstate, 5, false, false, "revocation is final"},
		{"revoke on a suspension list", statuslist.Suspension, nil, statuslist.Revoke, 1, false, false, "revoke needs a revocation list"},
		{"suspend on a revocation list", statuslist.Revocation, nil, statuslist.Suspend, 1, false, false, "suspend needs a suspension list"},
		{"unknown change", statuslist.Revocation, nil, statuslist.Op("delete"), 1, false, false, "unknown status change"},
		{"out of range", statuslist.Revocation, nil, statuslist.Revoke, statuslist.MinEntries, false, false, "out of range"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, d := signed(t, tc.purpose, tc.set...)
			before := d.List.Bytes()
			was, err := d.Apply(tc.op, tc.index)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Apply = %v, want an error containing %q", err, tc.wantErr)
				}
				if string(d.List.Bytes()) != string(before) {
					t.Error("a refused change changed the list")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			now, _ := d.List.Get(tc.index)
			if was != tc.wantWas || now != tc.wantNow {
				t.Errorf("was %v now %v, want %v %v", was, now, tc.wantWas, tc.wantNow)
			}
		})
	}
}

func TestFileAllocator(t *testing.T) {
	ctx := context.Background()
	_, issuer, _ := ownerKey(t)
	_, d := signed(t, statuslist.Revocation)
	state := filepath.Join(t.TempDir(), "list.jwt.next")

	a, err := statuslist.NewFileAllocator(state, d, issuer)
	if err != nil {
		t.Fatal(err)
	}
	for want := range 3 {
		e, err := a.Allocate(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if e.StatusListIndex != strconv.Itoa(want) || e.StatusListCredential != listID || e.StatusPurpose != "revocation" {
			t.Fatalf("entry %d: %+v", want, e)
		}
	}
	if b, _ := os.ReadFile(state); strings.TrimSpace(string(b)) != strconv.Itoa(statuslist.AllocBlock) {
		t.Errorf("state %q, want the reserved block end %d", b, statuslist.AllocBlock)
	}

	// A crash (a new allocator on the same state) resumes after the
	// reserved block: no index is handed out twice.
	b, err := statuslist.NewFileAllocator(state, d, issuer)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	seen := map[string]bool{}
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 200 {
				e, err := b.Allocate(ctx)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				if seen[e.StatusListIndex] {
					t.Errorf("index %s handed out twice", e.StatusListIndex)
				}
				seen[e.StatusListIndex] = true
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	for i := range statuslist.AllocBlock {
		if seen[strconv.Itoa(i)] {
			t.Fatalf("index %d of the block reserved before the crash was handed out again", i)
		}
	}
	if !seen[strconv.Itoa(statuslist.AllocBlock)] || len(seen) != 800 {
		t.Errorf("%d distinct indices, want 800 from %d on", len(seen), statuslist.AllocBlock)
	}
}

func TestFileAllocatorErrors(t *testing.T) {
	ctx := context.Background()
	_, issuer, _ := ownerKey(t)
	_, d := signed(t, statuslist.Revocation)
	dir := t.TempDir()

	if _, err := statuslist.NewFileAllocator(filepath.Join(dir, "a"), d, "did:key:someone-else"); !errors.Is(err, statuslist.ErrNotOwner) {
		t.Errorf("another issuer's list: %v, want ErrNotOwner", err)
	}
	for _, content := range []string{"", "x\n", "-5\n", "12 13"} {
		bad := filepath.Join(dir, "bad")
		os.WriteFile(bad, []byte(content), 0o644)
		if _, err := statuslist.NewFileAllocator(bad, d, issuer); !errors.Is(err, statuslist.ErrAllocatorState) || !strings.Contains(err.Error(), "fix or delete it") {
			t.Errorf("state %q: %v, want ErrAllocatorState", content, err)
		}
	}
	if _, err := statuslist.NewFileAllocator(filepath.Join(dir, "a"), nil, issuer); err == nil {
		t.Error("nil list: no error")
	}

	// A full list refuses, and says what to do.
	full := filepath.Join(dir, "full")
	os.WriteFile(full, []byte(strconv.Itoa(statuslist.MinEntries-1)+"\n"), 0o644)
	a, err := statuslist.NewFileAllocator(full, d, issuer)
	if err != nil {
		t.Fatal(err)
	}
	if e, err := a.Allocate(ctx); err != nil || e.StatusListIndex != strconv.Itoa(statuslist.MinEntries-1) {
		t.Fatalf("last entry: %+v, %v", e, err)
	}
	if _, err := a.Allocate(ctx); !errors.Is(err, statuslist.ErrListFull) || !strings.Contains(err.Error(), "new list") {
		t.Errorf("full list: %v, want ErrListFull", err)
	}

	// A state file that cannot be written: nothing is handed out.
	ro := filepath.Join(dir, "ro")
	os.Mkdir(ro, 0o500)
	a, err = statuslist.NewFileAllocator(filepath.Join(ro, "state"), d, issuer)
	if err != nil {
		t.Fatal(err)
	}
	if os.Getuid() != 0 { // root writes anywhere
		if _, err := a.Allocate(ctx); err == nil {
			t.Error("allocated without recording the reservation")
		}
	}
}

func TestSameList(t *testing.T) {
	_, rev := signed(t, statuslist.Revocation)
	_, rev2 := signed(t, statuslist.Revocation, 1, 2)
	_, sus := signed(t, statuslist.Suspension)
	other := *rev2
	other.ID = "https://hospital.example/status/2"
	stranger := *rev2
	stranger.Issuer = "did:key:z6MkoddHvQGZEbSCJcFfdWfEUDnj5b5AtqXWpQhEjFyZuES6"
	cases := []struct {
		name string
		a, b *statuslist.Decoded
		want bool
	}{
		{"another version", rev, rev2, true},
		{"another purpose", rev, sus, false},
		{"another id", rev, &other, false},
		{"another issuer", rev, &stranger, false},
		{"nil", rev, nil, false},
	}
	for _, tc := range cases {
		if got := tc.a.SameList(tc.b); got != tc.want {
			t.Errorf("%s: SameList = %v, want %v", tc.name, got, tc.want)
		}
	}
}
