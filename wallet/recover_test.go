package wallet

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/registry/hospital/vault/vaulttest"
)

// TestRestoreIdentities: recovery from the words alone brings back every
// identity that left a trace (registered did:medid ones, did:keys with
// records at a vault) and every did:key handed out before the last such
// trace; it says what does not come back.
func TestRestoreIdentities(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a registry node")
	}
	ctx := context.Background()
	vs := vaulttest.Start(t, vaulttest.Options{BatchInterval: 50 * time.Millisecond})
	rc := vs.Client
	clk := newClock()
	w, phrase := newTestWallet(t, clk)
	// Ed25519 indices: 0 primary, 1-2 did:keys (no trace), 3 a did:medid,
	// 4 a did:key with a record at the vault, 5 a did:key never used.
	var want []string
	p, _ := w.PrimaryDID()
	want = append(want, p.DID)
	for range 2 {
		d, err := w.NewDID(NewDIDOptions{})
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, d.DID)
	}
	m, err := w.RegisterDID(ctx, rc, NewDIDOptions{})
	if err != nil || m.Index != 3 {
		t.Fatalf("RegisterDID: %+v, %v", m, err)
	}
	want = append(want, m.DID)
	withRecord, err := w.NewDID(NewDIDOptions{})
	if err != nil || withRecord.Index != 4 {
		t.Fatalf("NewDID: %+v, %v", withRecord, err)
	}
	want = append(want, withRecord.DID)
	unused, err := w.NewDID(NewDIDOptions{})
	if err != nil {
		t.Fatal(err)
	}
	hosp := vs.Hospital()
	if _, err := hosp.Put(ctx, withRecord.DID, "AllergyIntolerance", []byte(`{"resourceType":"AllergyIntolerance","code":{"text":"latex"}}`)); err != nil {
		t.Fatal(err)
	}
	flushCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := vs.Vault.Flush(flushCtx); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name     string
		src      RecoverySources
		want     []string
		used     uint32
		notFound string
	}{
		{"registry and vault", RecoverySources{Registry: rc, Vaults: []string{vs.URL}, Gap: 3}, want, 5, "the registry or the vaults searched"},
		// Without the vault, index 4 left no trace: the did:keys up to the
		// did:medid come back, not the one after it.
		{"registry only", RecoverySources{Registry: rc, Gap: 3}, want[:4], 4, "name the hospitals' vaults too"},
		{"nothing to search", RecoverySources{Gap: 3}, want[:1], 1, "only the primary identity came back"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Recover(testConfig(t, clk), pass, phrase, RecoverOptions{})
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			rep, err := r.RestoreIdentities(ctx, tt.src)
			if err != nil {
				t.Fatalf("RestoreIdentities: %v", err)
			}
			ds, _ := r.DIDs()
			var got []string
			for _, d := range ds {
				got = append(got, d.DID)
			}
			slices.Sort(got)
			w := slices.Clone(tt.want)
			slices.Sort(w)
			if !slices.Equal(got, w) {
				t.Errorf("identities after recovery:\n got %q\nwant %q", got, w)
			}
			if slices.Contains(got, unused.DID) {
				t.Errorf("the never-used did:key %s came back", unused.DID)
			}
			if rep.Used[key.Ed25519] != tt.used {
				t.Errorf("Used = %d, want %d", rep.Used[key.Ed25519], tt.used)
			}
			all := strings.Join(rep.NotRestored, "\n")
			for _, s := range []string{"credentials, consent grants", "names given to identities", "settings", tt.notFound} {
				if !strings.Contains(all, s) {
					t.Errorf("NotRestored does not say %q:\n%s", s, all)
				}
			}
			// Idempotent: a second search adds nothing.
			if again, err := r.RestoreIdentities(ctx, tt.src); err != nil || len(again.Added) != 0 {
				t.Errorf("second RestoreIdentities added %v (%v)", again.Added, err)
			}
		})
	}

	// A vault that does not answer is an error, not "unused".
	r, err := Recover(testConfig(t, clk), pass, phrase, RecoverOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := r.RestoreIdentities(ctx, RecoverySources{Vaults: []string{"http://127.0.0.1:1"}, Gap: 2}); err == nil || !strings.Contains(err.Error(), "ask the vault") {
		t.Errorf("unreachable vault: %v", err)
	}
}
