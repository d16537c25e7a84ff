package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/registry/ledger"
)

// AccreditationAnswer is the body of GET /1.0/issuers/{did}?type=T[&at=TIME].
type AccreditationAnswer struct {
	Issuer     string    `json:"issuer"`
	Type       string    `json:"type"`
	At         time.Time `json:"at"`
	Accredited bool      `json:"accredited"`
	// Record is the issuer's full history (absent if never accredited).
	Record *ledger.IssuerRecord `json:"record,omitempty"`
}

func (s *Server) issuer(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("did")
	if _, err := did.Parse(id); err != nil {
		s.problem(w, r, didProblem("INVALID_DID", http.StatusBadRequest, "Invalid DID", err.Error()))
		return
	}
	q := r.URL.Query()
	credType := q.Get("type")
	at := time.Now().UTC()
	if v := q.Get("at"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			s.problem(w, r, &problem{Type: problemBase + "invalid-options", Title: "Invalid options", Status: http.StatusBadRequest,
				Detail: "at must be an RFC 3339 date-time"})
			return
		}
		at = t.UTC()
	}
	var rec *ledger.IssuerRecord
	var err error
	if wantProof(r) {
		p, perr := s.prove(r.Context(), ledger.IssuerKey(id))
		if perr == nil {
			perr = setProof(w, p)
		}
		if perr != nil {
			s.proofProblem(w, r, perr)
			return
		}
		if p.Value == nil {
			err = ledger.ErrNotFound
		} else {
			rec = new(ledger.IssuerRecord)
			if jerr := json.Unmarshal(p.Value, rec); jerr != nil {
				err = fmt.Errorf("%w: %v", ledger.ErrInternal, jerr)
			}
		}
	} else {
		rec, err = s.state.Accreditations(id)
	}
	if err != nil && !errors.Is(err, ledger.ErrNotFound) {
		s.problem(w, r, &problem{Type: problemBase + "internal", Title: "Internal error", Status: http.StatusInternalServerError, Detail: err.Error()})
		return
	}
	if credType != "" {
		ans := AccreditationAnswer{Issuer: id, Type: credType, At: at, Record: rec}
		if rec != nil {
			ans.Accredited = rec.AccreditedAt(credType, at)
		}
		writeJSON(w, http.StatusOK, "application/json", ans)
		return
	}
	if rec == nil {
		s.problem(w, r, &problem{Type: problemBase + "not-found", Title: "Issuer not found", Status: http.StatusNotFound,
			Detail: "this DID was never accredited"})
		return
	}
	writeJSON(w, http.StatusOK, "application/json", rec)
}
