package machine

import (
	"errors"

	"github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/tx"
)

// CodeOf returns the ABCI code for a transaction's rejection err: 0 for nil,
// the code of a registry/tx decoding error, else [ledger.CodeOf].
func CodeOf(err error) uint32 {
	if err == nil {
		return ledger.CodeOK
	}
	switch {
	case errors.Is(err, tx.ErrTooLarge):
		return ledger.CodeTooLarge
	case errors.Is(err, tx.ErrUnsupportedAlg), errors.Is(err, tx.ErrBadSignature):
		return ledger.CodeBadSignature
	case errors.Is(err, tx.ErrWrongDID):
		return ledger.CodeInvalid
	case errors.Is(err, tx.ErrMalformed):
		return ledger.CodeMalformed
	}
	return ledger.CodeOf(err)
}

func isNotFound(err error) bool { return errors.Is(err, ledger.ErrNotFound) }
