package api

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/medid/medid/registry/ledger"
)

// auditAnchor serves GET /1.0/audit/{vault}/{batch}: the anchored root and
// count of one batch of a vault's access trail (an ledger.AuditRecord), with a
// Registry-Proof header when asked.
func (s *Server) auditAnchor(w http.ResponseWriter, r *http.Request) {
	vault, batch := r.PathValue("vault"), r.PathValue("batch")
	k := ledger.AuditKey(vault, batch)
	var value []byte
	if wantProof(r) {
		p, err := s.prove(r.Context(), k)
		if err == nil {
			err = setProof(w, p)
		}
		if err != nil {
			s.proofProblem(w, r, err)
			return
		}
		value = p.Value
	} else {
		res, err := s.ledger.Query(r.Context(), ledger.QueryKey, k, 0, false)
		if err != nil {
			s.problem(w, r, &problem{Type: problemBase + "internal", Title: "Internal error", Status: http.StatusInternalServerError, Detail: err.Error()})
			return
		}
		value = res.Value
	}
	if value == nil {
		s.problem(w, r, &problem{Type: problemBase + "not-found", Title: "Audit batch not found", Status: http.StatusNotFound,
			Detail: fmt.Sprintf("no anchored batch %.128q of vault %.128q", batch, vault)})
		return
	}
	var rec ledger.AuditRecord
	if err := json.Unmarshal(value, &rec); err != nil {
		s.problem(w, r, &problem{Type: problemBase + "internal", Title: "Internal error", Status: http.StatusInternalServerError, Detail: "stored audit record does not decode"})
		return
	}
	writeJSON(w, http.StatusOK, "application/json", &rec)
}
