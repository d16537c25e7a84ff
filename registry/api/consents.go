package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/tx"
)

// ConsentState is the read side of consent anchors ([*machine.App] implements
// it). When Config.State does not, GET /1.0/consents/{hash} reads through
// the ledger's /consent query instead.
type ConsentState interface {
	ConsentStatus(hash string) (*ledger.ConsentRecord, error)
}

// consentStatus serves GET /1.0/consents/{hash}[?at=TIME][&proof=true]: the
// ledger's record of a consent grant hash and whether it is in force at
// TIME (default: the latest block time).
func (s *Server) consentStatus(w http.ResponseWriter, r *http.Request) {
	hash := r.PathValue("hash")
	if !tx.ValidGrantHash(hash) {
		s.problem(w, r, &problem{Type: problemBase + "invalid-options", Title: "Invalid grant hash", Status: http.StatusBadRequest,
			Detail: "a grant hash is 64 lowercase hex digits: the SHA-256 of the grant token"})
		return
	}
	var at time.Time
	if v := r.URL.Query().Get("at"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			s.problem(w, r, &problem{Type: problemBase + "invalid-options", Title: "Invalid options", Status: http.StatusBadRequest,
				Detail: "at must be an RFC 3339 date-time"})
			return
		}
		at = t.UTC()
	} else if hd := s.ledger.Header(s.ledger.Height()); hd != nil {
		at = hd.Time.UTC()
	} else {
		at = time.Now().UTC()
	}
	var rec *ledger.ConsentRecord
	var err error
	switch cs, ok := s.state.(ConsentState); {
	case wantProof(r):
		p, perr := s.prove(r.Context(), ledger.ConsentKey(hash))
		if perr == nil {
			perr = setProof(w, p)
		}
		if perr != nil {
			s.proofProblem(w, r, perr)
			return
		}
		rec, err = decodeConsent(p.Value)
	case ok:
		rec, err = cs.ConsentStatus(hash)
	default:
		res, qerr := s.ledger.Query(r.Context(), ledger.QueryConsent, []byte(hash), 0, false)
		switch {
		case qerr != nil:
			err = fmt.Errorf("%w: %v", ledger.ErrInternal, qerr)
		case res.Code == ledger.CodeNotFound:
			err = ledger.ErrNotFound
		case res.Code != 0:
			err = fmt.Errorf("%w: query code %d: %s", ledger.ErrInternal, res.Code, res.Log)
		default:
			rec, err = decodeConsent(res.Value)
		}
	}
	switch {
	case errors.Is(err, ledger.ErrNotFound):
		s.problem(w, r, &problem{Type: problemBase + "not-found", Title: "Consent grant not anchored", Status: http.StatusNotFound,
			Detail: "no consent grant with this hash is anchored on the ledger"})
		return
	case err != nil:
		s.problem(w, r, &problem{Type: problemBase + "internal", Title: "Internal error", Status: http.StatusInternalServerError, Detail: err.Error()})
		return
	}
	w.Header().Set("Cache-Control", "no-cache")
	writeJSON(w, http.StatusOK, "application/json", rec.Status(at))
}

func decodeConsent(v []byte) (*ledger.ConsentRecord, error) {
	if v == nil {
		return nil, ledger.ErrNotFound
	}
	rec := new(ledger.ConsentRecord)
	if err := json.Unmarshal(v, rec); err != nil {
		return nil, fmt.Errorf("%w: %v", ledger.ErrInternal, err)
	}
	return rec, nil
}
