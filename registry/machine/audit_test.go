package machine

import (
	"errors"
	"strings"
	"testing"

	"github.com/medid/medid/credentials/credtest"
	"github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/tx"
)

func TestAuditAnchor(t *testing.T) {
	h := newHarness(t)
	vault := newKeyParty(t, 60)
	other := newKeyParty(t, 61)
	root := strings.Repeat("ab", 32)
	var rootBytes [32]byte
	for i := range rootBytes {
		rootBytes[i] = 0xab
	}
	anchor := func(p credtest.Party, signer credtest.Party, batch string) []byte {
		return h.sign(h.must(tx.NewAuditAnchor(p.DID, batch, rootBytes, 3)), signer.Key, p.DID+"#"+signer.Key.Public().Multikey())
	}
	if _, err := h.app.AuditAnchor(vault.DID, "b1"); !errors.Is(err, ledger.ErrNotFound) {
		t.Fatalf("before anchoring: %v, want ledger.ErrNotFound", err)
	}
	h.mustBlock(anchor(vault, vault, "b1"))
	rec, err := h.app.AuditAnchor(vault.DID, "b1")
	if err != nil {
		t.Fatal(err)
	}
	if rec.Root != root || rec.Count != 3 || rec.Vault != vault.DID || rec.Height != h.height() {
		t.Errorf("record = %+v", rec)
	}
	cases := []struct {
		name string
		raw  []byte
		want uint32
	}{
		{"same batch again", anchor(vault, vault, "b1"), ledger.CodeExists},
		{"signed by another key", anchor(vault, other, "b2"), ledger.CodeUnauthorized},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := h.block(c.raw)
			if res[0].Code != c.want {
				t.Errorf("code = %d (%s), want %d", res[0].Code, res[0].Log, c.want)
			}
		})
	}
}
