package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/tx"
)

// ConsentState is the read side of consent anchors ([*machine.App] implements
// it). When Config.State does not, GET /1.0/consents/{controller}/{hash}
// reads through the ledger's key query instead.
type ConsentState interface {
	ConsentStatus(controller, hash string) (*ledger.ConsentRecord, error)
}

// consentByHashOnly answers GET /1.0/consents/{hash}, the path of anchors
// keyed by hash alone (they named the patient): 410 Gone, saying where the
// anchor is read now.
func (s *Server) consentByHashOnly(w http.ResponseWriter, r *http.Request) {
	s.problem(w, r, &problem{Type: problemBase + "gone", Title: "Consent anchors are read by controller and hash", Status: http.StatusGone,
		Detail: "a consent anchor is keyed by the grant's anchor DID (its controller) and the grant hash: GET /1.0/consents/{controller}/{hash}, the controller being the did:key the grant names in its anchor property"})
}

// consentStatus serves GET /1.0/consents/{controller}/{hash}[?at=TIME][&proof=true]:
// the ledger's record of controller's anchor of a consent grant hash and
// whether it is in force at TIME (default: the latest block time).
func (s *Server) consentStatus(w http.ResponseWriter, r *http.Request) {
	controller, hash := r.PathValue("controller"), r.PathValue("hash")
	if !tx.ValidGrantHash(hash) {
		s.problem(w, r, &problem{Type: problemBase + "invalid-options", Title: "Invalid grant hash", Status: http.StatusBadRequest,
			Detail: "a grant hash is 64 lowercase hex digits: the SHA-256 of the grant token"})
		return
	}
	if _, err := did.ParseKeyDID(controller); err != nil {
		s.problem(w, r, &problem{Type: problemBase + "invalid-options", Title: "Invalid controller", Status: http.StatusBadRequest,
			Detail: "a consent anchor's controller is the did:key the grant names as its anchor"})
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
		p, perr := s.prove(r.Context(), ledger.ConsentKey(controller, hash))
		if perr == nil {
			perr = setProof(w, p)
		}
		if perr != nil {
			s.proofProblem(w, r, perr)
			return
		}
		rec, err = decodeConsent(p.Value)
	case ok:
		rec, err = cs.ConsentStatus(controller, hash)
	default:
		res, qerr := s.ledger.Query(r.Context(), ledger.QueryKey, ledger.ConsentKey(controller, hash), 0, false)
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
			Detail: "this controller has anchored no consent grant with this hash"})
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
