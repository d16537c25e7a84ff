package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/registry/ledger"
)

// Media types of DID resolution.
const (
	MediaDIDResolution   = "application/did-resolution"
	MediaDIDJSON         = "application/did+json"
	MediaDIDLDJSON       = "application/did+ld+json"
	MediaLDJSON          = "application/ld+json"
	ProfileDIDResolution = "https://w3id.org/did-resolution"
	// ContextDIDResolution is the JSON-LD context of a resolution result.
	ContextDIDResolution = "https://w3id.org/did-resolution/v1"
)

// representation is what a resolution request negotiated.
type representation struct {
	contentType string // response Content-Type
	full        bool   // resolution result (true) or the document only
}

// negotiate picks the representation for an Accept header: the supported
// media range with the highest q, the resolution result by default. ok is
// false when nothing acceptable is supported (406).
func negotiate(accept string) (representation, bool) {
	def := representation{contentType: MediaDIDResolution, full: true}
	if strings.TrimSpace(accept) == "" {
		return def, true
	}
	best, bestQ := representation{}, -1.0
	for _, part := range strings.Split(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		q := 1.0
		if qs, ok := params["q"]; ok {
			if v, err := strconv.ParseFloat(qs, 64); err == nil {
				q = v
			}
		}
		if q <= 0 {
			continue
		}
		var rep representation
		switch mt {
		case MediaDIDResolution, "*/*", "application/*":
			rep = def
		case MediaLDJSON:
			if params["profile"] != ProfileDIDResolution {
				continue
			}
			rep = representation{contentType: MediaLDJSON + `;profile="` + ProfileDIDResolution + `"`, full: true}
		case MediaDIDJSON:
			rep = representation{contentType: MediaDIDJSON}
		case MediaDIDLDJSON:
			rep = representation{contentType: MediaDIDLDJSON}
		default:
			continue
		}
		if q > bestQ {
			best, bestQ = rep, q
		}
	}
	return best, bestQ > 0
}

// resolutionResult is the DID Resolution result body.
type resolutionResult struct {
	Context               string               `json:"@context"`
	DIDDocument           json.RawMessage      `json:"didDocument"`
	DIDResolutionMetadata resolutionMetadata   `json:"didResolutionMetadata"`
	DIDDocumentMetadata   did.DocumentMetadata `json:"didDocumentMetadata"`
}

type resolutionMetadata struct {
	ContentType string `json:"contentType,omitempty"`
	Retrieved   string `json:"retrieved,omitempty"`
	// Error is set when resolution failed: a problem details object
	// (RFC 9457) as DID Resolution defines didResolutionMetadata.error.
	Error *problem `json:"error,omitempty"`
}

// didFail answers a failed resolution. A client that negotiated the DID
// Resolution result (application/did-resolution, the default, or
// ld+json with the did-resolution profile) and did not ask for
// application/problem+json gets a resolution result whose
// didResolutionMetadata.error is the problem, with the same HTTP status, as
// Universal-Resolver-style clients expect; everyone else gets the RFC 9457
// problem object.
func (s *Server) didFail(w http.ResponseWriter, r *http.Request, rep representation, p *problem) {
	if !rep.full || acceptsProblem(r.Header.Get("Accept")) {
		s.problem(w, r, p)
		return
	}
	if p.Status >= 500 && p.Status != http.StatusNotImplemented {
		s.log.Warn("registry api error", "method", r.Method, "path", r.URL.Path, "status", p.Status, "detail", p.Detail)
	}
	writeJSON(w, p.Status, rep.contentType, resolutionResult{Context: ContextDIDResolution, DIDDocument: json.RawMessage("null"),
		DIDResolutionMetadata: resolutionMetadata{Error: p}, DIDDocumentMetadata: did.DocumentMetadata{}})
}

// acceptsProblem reports whether an Accept header lists
// application/problem+json with a non-zero q.
func acceptsProblem(accept string) bool {
	for _, part := range strings.Split(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil || mt != "application/problem+json" {
			continue
		}
		if q, ok := params["q"]; ok {
			if v, err := strconv.ParseFloat(q, 64); err == nil && v <= 0 {
				continue
			}
		}
		return true
	}
	return false
}

func didProblem(code string, status int, title, detail string) *problem {
	return &problem{Type: didErrorBase + code, Title: title, Status: status, Detail: detail}
}

// didFromPath extracts the DID from the request path without unescaping
// it (pct-encoded characters are part of a DID), unless the whole DID was
// escaped ("did%3A…").
func didFromPath(r *http.Request) string {
	raw := strings.TrimPrefix(r.URL.EscapedPath(), "/1.0/identifiers/")
	if strings.HasPrefix(strings.ToLower(raw), "did%3a") {
		if u, err := url.PathUnescape(raw); err == nil {
			return u
		}
	}
	return raw
}

func (s *Server) resolve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Vary", "Accept")
	rep, ok := negotiate(r.Header.Get("Accept"))
	if !ok {
		s.problem(w, r, didProblem("REPRESENTATION_NOT_SUPPORTED", http.StatusNotAcceptable, "Representation not supported",
			"accept one of "+MediaDIDResolution+", "+MediaDIDJSON+", "+MediaDIDLDJSON))
		return
	}
	raw := didFromPath(r)
	d, err := did.Parse(raw)
	if err != nil {
		s.didFail(w, r, rep, didProblem("INVALID_DID", http.StatusBadRequest, "Invalid DID", err.Error()))
		return
	}
	q := r.URL.Query()
	var opts ledger.ResolveOptions
	opts.VersionID = q.Get("versionId")
	if vt := q.Get("versionTime"); vt != "" {
		t, err := time.Parse(time.RFC3339, vt)
		if err != nil {
			s.didFail(w, r, rep, didProblem("INVALID_OPTIONS", http.StatusBadRequest, "Invalid options", "versionTime must be an RFC 3339 date-time"))
			return
		}
		opts.VersionTime = &t
	}
	if opts.VersionID != "" && opts.VersionTime != nil {
		s.didFail(w, r, rep, didProblem("INVALID_OPTIONS", http.StatusBadRequest, "Invalid options", "versionId and versionTime are exclusive"))
		return
	}
	switch d.Method {
	case "medid":
		s.resolveMedid(w, r, d.String(), opts, rep)
	case "key":
		res, err := s.keys.Resolve(r.Context(), d.String())
		if err != nil {
			s.didFail(w, r, rep, didProblem("INVALID_DID", http.StatusBadRequest, "Invalid DID", err.Error()))
			return
		}
		doc, err := res.Document.MarshalJSON()
		if err != nil {
			s.didFail(w, r, rep, didProblem("INTERNAL_ERROR", http.StatusInternalServerError, "Internal error", err.Error()))
			return
		}
		writeResolution(w, http.StatusOK, rep, doc, res.Metadata)
	default:
		s.didFail(w, r, rep, didProblem("METHOD_NOT_SUPPORTED", http.StatusNotImplemented, "Method not supported",
			"this registry resolves did:medid and did:key, not did:"+d.Method))
	}
}

func (s *Server) resolveMedid(w http.ResponseWriter, r *http.Request, id string, opts ledger.ResolveOptions, rep representation) {
	var rec *ledger.DIDRecord
	var err error
	if wantProof(r) {
		rec, err = s.provenDID(w, r, id, opts)
		if rec == nil && err == nil {
			return // problem written
		}
	} else {
		rec, err = s.state.ResolveDID(id, opts)
	}
	switch {
	case errors.Is(err, ledger.ErrDeactivated) && rec != nil:
		writeResolution(w, http.StatusGone, rep, rec.Document, did.DocumentMetadata(rec.Metadata))
	case errors.Is(err, ledger.ErrNotFound):
		s.didFail(w, r, rep, didProblem("NOT_FOUND", http.StatusNotFound, "DID not found", err.Error()))
	case err != nil:
		s.didFail(w, r, rep, didProblem("INTERNAL_ERROR", http.StatusInternalServerError, "Internal error", err.Error()))
	default:
		writeResolution(w, http.StatusOK, rep, rec.Document, did.DocumentMetadata(rec.Metadata))
	}
}

// provenDID resolves from a proven state value. For the current version the
// proven key is the DID's current record (so the proof also shows it is
// current). For versionId / versionTime it is the key that holds that
// version, in either state layout (ledger.DIDVersionProof, which clients
// check): the current record when the version is the current one (or
// does not exist: the current record shows that), else the superseded
// version under didv/. It returns (nil, nil) after writing a problem itself.
func (s *Server) provenDID(w http.ResponseWriter, r *http.Request, id string, opts ledger.ResolveOptions) (*ledger.DIDRecord, error) {
	k := ledger.DIDKey(id)
	var n int64
	switch {
	case opts.VersionID != "":
		var err error
		n, err = strconv.ParseInt(opts.VersionID, 10, 64)
		if err != nil || n < 1 || strconv.FormatInt(n, 10) != opts.VersionID {
			return nil, ledger.ErrNotFound
		}
		// A superseded version never changes: prove it by its own key.
		if rec, _ := s.state.ResolveDID(id, opts); rec != nil && rec.Metadata.NextVersionID != "" {
			k = ledger.DIDVersionKey(id, n)
		}
	case opts.VersionTime != nil:
		rec, err := s.state.ResolveDID(id, opts)
		if rec == nil {
			return nil, err
		}
		var perr error
		if n, perr = strconv.ParseInt(rec.Metadata.VersionID, 10, 64); perr != nil {
			return nil, ledger.ErrInternal
		}
		if rec.Metadata.NextVersionID != "" {
			k = ledger.DIDVersionKey(id, n)
		}
	}
	p, err := s.prove(r.Context(), k)
	if err == nil && n > 0 && p.Value != nil && bytes.Equal(k, ledger.DIDKey(id)) {
		// Proven at a later height than the read above, the current
		// record may be newer than version n by now: then n is
		// superseded and proven under didv/.
		if _, verr := ledger.DIDVersionProof(id, n, k, p.Value); errors.Is(verr, ledger.ErrProof) {
			p, err = s.prove(r.Context(), ledger.DIDVersionKey(id, n))
		}
	}
	if err != nil {
		s.proofProblem(w, r, err)
		return nil, nil
	}
	if err := setProof(w, p); err != nil {
		s.proofProblem(w, r, err)
		return nil, nil
	}
	if p.Value == nil {
		return nil, ledger.ErrNotFound
	}
	var rec ledger.DIDRecord
	if n > 0 {
		// What the proof shows about version n (as a client checks it).
		v, err := ledger.DIDVersionProof(id, n, p.Key, p.Value)
		if errors.Is(err, ledger.ErrNotFound) {
			return nil, err
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ledger.ErrInternal, err)
		}
		rec = *v
	} else if err := json.Unmarshal(p.Value, &rec); err != nil {
		return nil, ledger.ErrInternal
	}
	if rec.Metadata.Deactivated {
		return &rec, ledger.ErrDeactivated
	}
	return &rec, nil
}

func writeResolution(w http.ResponseWriter, status int, rep representation, doc json.RawMessage, md did.DocumentMetadata) {
	if !rep.full {
		writeBody(w, status, rep.contentType, doc)
		return
	}
	body, err := resolutionBody(doc, md)
	if err != nil {
		http.Error(w, "encoding response: "+err.Error(), http.StatusInternalServerError)
		return
	}
	writeBody(w, status, rep.contentType, body)
}

// resolutionHead is the start of every resolution result, up to the
// document.
var resolutionHead = []byte(`{"@context":` + strconv.Quote(ContextDIDResolution) + `,"didDocument":`)

// resolutionBody is the JSON of resolutionResult{ContextDIDResolution, doc,
// {contentType: did+ld+json}, md}, with doc spliced in as it is: documents
// come from the ledger state (compact JSON, validated when written) or from
// our own serialisation, and encoding/json would scan and compact them
// again on every request (TestResolutionBody compares the two).
func resolutionBody(doc json.RawMessage, md did.DocumentMetadata) ([]byte, error) {
	tail, err := json.Marshal(struct {
		DIDResolutionMetadata resolutionMetadata   `json:"didResolutionMetadata"`
		DIDDocumentMetadata   did.DocumentMetadata `json:"didDocumentMetadata"`
	}{resolutionMetadata{ContentType: MediaDIDLDJSON}, md})
	if err != nil {
		return nil, err
	}
	body := make([]byte, 0, len(resolutionHead)+len(doc)+len(tail))
	body = append(body, resolutionHead...)
	body = append(body, doc...)
	body = append(body, ',')
	return append(body, tail[1:]...), nil // tail without its '{'
}
