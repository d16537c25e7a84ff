package vault

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/medid/medid/credentials/consent"
	"github.com/medid/medid/internal/httpserver"
	"github.com/medid/medid/registry/hospital/vaultapi"
)

// Handler serves the vault API:
//
//	GET    /1.0/vault                          Info
//	POST   /1.0/vault/records                  put (body: the FHIR JSON) -> Meta
//	GET    /1.0/vault/records/{id}             read -> the FHIR JSON
//	DELETE /1.0/vault/records/{id}             erase (owner) -> Meta
//	GET    /1.0/vault/records/{id}/events      anchored put/erase events (owner, vault, writers)
//	PUT    /1.0/vault/break-glass              deposit a standing break-glass grant
//	PUT    /1.0/vault/licence                  a practitioner presents their licence (signed request)
//	POST   /1.0/vault/licence/requests         start an OpenID4VP request for a licence (no auth)
//	GET    /1.0/vault/openid4vp/request/{state} its signed request object (the wallet fetches it)
//	POST   /1.0/vault/openid4vp/response       the wallet's direct_post answer
//	GET    /1.0/vault/access-log?patient=DID   the patient's trail (or a representative's copy)
//	GET    /1.0/vault/represented/records/{id} read by a representative (with a delegation)
//	PUT    /1.0/vault/consents                 register a consent a representative made
//	DELETE /1.0/vault/consents/{hash}          withdraw it here
//
// Every call but the first and the OpenID4VP ones carries a signed [Request] in
// "Authorization: MedID-Request <jws>". Errors are RFC 9457 problem objects
// whose detail never includes record content.
func (v *Vault) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /1.0/vault", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, vaultapi.Info{DID: v.cfg.DID})
	})
	mux.HandleFunc("POST /1.0/vault/records", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, vaultapi.MaxRecordSize+1))
		if err != nil {
			v.problem(w, fmt.Errorf("%w: read body: %v", vaultapi.ErrBadRequest, err))
			return
		}
		m, err := v.Put(r.Context(), authToken(r), body)
		if err != nil {
			v.problem(w, err)
			return
		}
		writeJSON(w, http.StatusCreated, m)
	})
	read := func(represented bool) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			tok := authToken(r)
			if req, err := vaultapi.ParseRequest(tok); err == nil && req.Record != r.PathValue("id") {
				v.problem(w, fmt.Errorf("%w: the signed request is for another record", vaultapi.ErrBadRequest))
				return
			} else if err == nil && represented != (req.Delegation != "") {
				v.problem(w, fmt.Errorf("%w: representatives read under a delegation at /1.0/vault/represented/records, providers at /1.0/vault/records", vaultapi.ErrBadRequest))
				return
			}
			body, _, err := v.Read(WithOrigin(r.Context(), requestOrigin(r)), tok)
			if err != nil {
				v.problem(w, err)
				return
			}
			w.Header().Set("Content-Type", "application/fhir+json")
			w.Header().Set("Cache-Control", "no-store")
			_, _ = w.Write(body)
		}
	}
	mux.HandleFunc("GET /1.0/vault/records/{id}", read(false))
	// A representative's wallet holds no client certificate: this route
	// stays open under mutual TLS, like the patient's own (policy.go).
	mux.HandleFunc("GET /1.0/vault/represented/records/{id}", read(true))
	mux.HandleFunc("PUT /1.0/vault/consents", func(w http.ResponseWriter, r *http.Request) {
		if err := v.RegisterConsent(r.Context(), authToken(r)); err != nil {
			v.problem(w, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("DELETE /1.0/vault/consents/{hash}", func(w http.ResponseWriter, r *http.Request) {
		tok := authToken(r)
		if req, err := vaultapi.ParseRequest(tok); err == nil && consent.Hash(req.Consent) != r.PathValue("hash") {
			v.problem(w, fmt.Errorf("%w: the signed request is for another consent grant", vaultapi.ErrBadRequest))
			return
		}
		if err := v.WithdrawConsent(r.Context(), tok); err != nil {
			v.problem(w, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("DELETE /1.0/vault/records/{id}", func(w http.ResponseWriter, r *http.Request) {
		tok := authToken(r)
		if req, err := vaultapi.ParseRequest(tok); err == nil && req.Record != r.PathValue("id") {
			v.problem(w, fmt.Errorf("%w: the signed request is for another record", vaultapi.ErrBadRequest))
			return
		}
		m, err := v.Erase(r.Context(), tok)
		if err != nil {
			v.problem(w, err)
			return
		}
		writeJSON(w, http.StatusOK, m)
	})
	mux.HandleFunc("GET /1.0/vault/records/{id}/events", func(w http.ResponseWriter, r *http.Request) {
		tok := authToken(r)
		if req, err := vaultapi.ParseRequest(tok); err == nil && req.Record != r.PathValue("id") {
			v.problem(w, fmt.Errorf("%w: the signed request is for another record", vaultapi.ErrBadRequest))
			return
		}
		evs, err := v.Events(r.Context(), tok)
		if err != nil {
			v.problem(w, err)
			return
		}
		writeJSON(w, http.StatusOK, evs)
	})
	mux.HandleFunc("PUT /1.0/vault/break-glass", func(w http.ResponseWriter, r *http.Request) {
		if err := v.AllowBreakGlass(r.Context(), authToken(r)); err != nil {
			v.problem(w, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("PUT /1.0/vault/licence", func(w http.ResponseWriter, r *http.Request) {
		if err := v.PresentLicence(r.Context(), authToken(r)); err != nil {
			v.problem(w, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /1.0/vault/licence/requests", func(w http.ResponseWriter, r *http.Request) {
		lr, err := v.StartLicenceRequest()
		if err != nil {
			v.problem(w, err)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		writeJSON(w, http.StatusCreated, lr)
	})
	if v.vp != nil {
		// The OpenID4VP verifier's wallet routes (request objects and
		// direct_post responses), under the vault's path.
		vp := http.StripPrefix(openid4vpPath, v.vp)
		mux.Handle("GET "+openid4vpPath+"/request/{state}", vp)
		mux.Handle("POST "+openid4vpPath+"/response", vp)
	}
	mux.HandleFunc("GET /1.0/vault/access-log", func(w http.ResponseWriter, r *http.Request) {
		tok := authToken(r)
		if req, err := vaultapi.ParseRequest(tok); err == nil && req.Patient != r.URL.Query().Get("patient") {
			v.problem(w, fmt.Errorf("%w: the signed request is for another patient", vaultapi.ErrBadRequest))
			return
		}
		es, err := v.AccessLog(r.Context(), tok)
		if err != nil {
			v.problem(w, err)
			return
		}
		writeJSON(w, http.StatusOK, vaultapi.AccessLogResponse{Vault: v.cfg.DID, Entries: es})
	})
	httpserver.Fallback(mux, v.routeError)
	return withRoutePolicy(mux)
}

func authToken(r *http.Request) string {
	s, ok := strings.CutPrefix(r.Header.Get("Authorization"), vaultapi.AuthScheme+" ")
	if !ok {
		return ""
	}
	return strings.TrimSpace(s)
}

type problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
}

func (v *Vault) problem(w http.ResponseWriter, err error) {
	st := vaultapi.StatusOf(err)
	detail := err.Error()
	if st == http.StatusInternalServerError {
		v.cfg.Logger.Error("vault: request failed", "err", err)
		detail = "internal error (see the vault's log)"
	}
	w.Header().Set("Content-Type", "application/problem+json")
	if st == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", vaultapi.AuthScheme)
	}
	w.WriteHeader(st)
	_ = json.NewEncoder(w).Encode(problem{Type: "https://medid.dev/problems/vault", Title: http.StatusText(st), Status: st, Detail: detail})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
