package vault

import (
	"time"

	"github.com/medid/medid/credentials/credtest"
	"github.com/medid/medid/registry/hospital/vaultapi"
)

// Names BenchmarkDecideCPU uses that differ from the tree before issue 12
// (registry/vault), where the same benchmark file runs with its own shim.
func benchDID(p credtest.Party) string { return p.DID }

func benchReadRequest(record, grant string) *vaultapi.Request {
	return &vaultapi.Request{Op: vaultapi.OpRead, Record: record, Purpose: "TREAT", Consent: grant}
}

func benchNow(h *harness) time.Time { return h.clock.Now() }
