package app

import (
	"fmt"

	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/registry/tx"
)

// check validates t against state r and returns the writes that apply it.
// It writes nothing itself.
func (a *App) check(r reader, t *tx.Tx, env *execEnv) ([]write, *receipt, error) {
	return nil, nil, fmt.Errorf("%w: %s is not implemented yet", ErrInternal, t.Payload.Type)
}

// signingKey returns the public key t must verify under according to state r.
func (a *App) signingKey(r reader, t *tx.Tx) (key.PublicKey, error) {
	return key.PublicKey{}, fmt.Errorf("%w: not implemented yet", ErrInternal)
}
