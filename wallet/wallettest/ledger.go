package wallettest

import (
	"context"
	"errors"
	"sync"

	"github.com/medid/medid/credentials/consent"
	"github.com/medid/medid/registry/client"
	"github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/tx"
)

// Ledger is a consent ledger (wallet.ConsentLedger) that accepts every
// well-signed transaction and remembers which grants were anchored and
// revoked, keyed "controller hash". It checks each transaction's signature
// against its did:key, so a wallet that lost or mixed up its anchor keys
// is caught. It is safe for concurrent use.
type Ledger struct {
	mu                sync.Mutex // guards the maps
	anchored, revoked map[string]bool
}

// NewLedger returns an empty ledger.
func NewLedger() *Ledger {
	return &Ledger{anchored: map[string]bool{}, revoked: map[string]bool{}}
}

// Submit verifies and applies a consent.anchor or consent.revoke (other
// types are accepted and ignored); a revoke of a grant not anchored, or
// already revoked, is refused.
func (l *Ledger) Submit(ctx context.Context, raw []byte) (*client.TxResult, error) {
	t, err := tx.Decode(raw)
	if err != nil {
		return nil, err
	}
	pub, err := DIDKeyFunc(ctx, t.KeyID())
	if err != nil {
		return nil, err
	}
	if err := t.Verify(pub); err != nil {
		return nil, err
	}
	p := t.Payload
	k := p.DID + " " + p.GrantHash // anchors are keyed by controller and hash
	l.mu.Lock()
	defer l.mu.Unlock()
	switch p.Type {
	case tx.ConsentAnchor:
		l.anchored[k] = true
	case tx.ConsentRevoke:
		if !l.anchored[k] || l.revoked[k] {
			return nil, errors.New("fake ledger: revoke of an unknown or revoked grant")
		}
		l.revoked[k] = true
	}
	return &client.TxResult{Height: 1}, nil
}

// ConsentStatus answers from what was submitted; ledger.ErrNotFound for a
// grant never anchored.
func (l *Ledger) ConsentStatus(ctx context.Context, controller, hash string) (*consent.Status, error) {
	k := controller + " " + hash
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.anchored[k] {
		return nil, ledger.ErrNotFound
	}
	return &consent.Status{Hash: hash, Controller: controller, Revoked: l.revoked[k]}, nil
}

// Anchored reports whether the grant hash was anchored by controller.
func (l *Ledger) Anchored(controller, hash string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.anchored[controller+" "+hash]
}

// Anchors is how many grants were anchored.
func (l *Ledger) Anchors() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.anchored)
}
