package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/internal/atomicfile"
	"github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/tx"
)

// DirectoryState is the read side of the directory ([*machine.App]
// implements it). When Config.State does not, the directory endpoints
// answer 501.
type DirectoryState interface {
	Directory(did string) (*ledger.DirectoryRecord, error)
	DirectoryAlias(did string) (*ledger.DirectoryAlias, error)
	SearchDirectory(q ledger.DirectorySearch) (*ledger.DirectoryPage, error)
	// LogoDir is the folder the registry keeps logo images in.
	LogoDir() string
}

// Logo bounds: the bytes of an image and its width and height in pixels.
const (
	MaxLogoBytes  = tx.MaxLogoBytes
	MaxLogoPixels = tx.MaxLogoPixels
)

// DirectoryAnswer is the body of GET /1.0/directory/{did}[?at=TIME]: an
// organisation's entry as it is now, as it was at TIME when asked, and its
// whole history (oldest first). With ?proof=true the proof is of the
// record ([ledger.DirectoryKey]) and the body is built from it.
type DirectoryAnswer struct {
	DID     string                    `json:"did"`
	Status  string                    `json:"status"`
	Current *ledger.DirectoryVersion  `json:"current"`
	At      *time.Time                `json:"at,omitempty"`
	AtEntry *ledger.DirectoryVersion  `json:"atVersion,omitempty"`
	History []ledger.DirectoryVersion `json:"history"`
}

// RoleAnswer is the body of GET /1.0/directory/{did}/role: the
// organisation that lists did as the DID of one of its roles. With
// ?proof=true the proof is of the alias record ([ledger.DirectoryAliasKey]);
// the organisation's own entry is proven by its own read.
type RoleAnswer struct {
	DID string `json:"did"`
	Org string `json:"org"`
}

func (s *Server) directoryRoutes() {
	s.handle("GET /1.0/directory", "directory-search", s.directorySearch)
	s.handle("GET /1.0/directory/{did}", "directory", s.directoryEntry)
	s.handle("GET /1.0/directory/{did}/role", "directory-role", s.directoryRole)
	s.handle("GET /1.0/directory/{did}/logo", "directory-logo", s.directoryLogo)
	s.handle("PUT /1.0/directory/{did}/logo", "directory-logo", s.directoryLogoPut)
}

// dirState returns the directory, or answers 501.
func (s *Server) dirState(w http.ResponseWriter, r *http.Request) (DirectoryState, bool) {
	ds, ok := s.state.(DirectoryState)
	if !ok {
		s.problem(w, r, &problem{Type: problemBase + "not-implemented", Title: "No directory", Status: http.StatusNotImplemented,
			Detail: "this registry serves no directory"})
	}
	return ds, ok
}

func invalidOption(detail string) *problem {
	return &problem{Type: problemBase + "invalid-options", Title: "Invalid options", Status: http.StatusBadRequest, Detail: detail}
}

// pathDID reads and checks the {did} path value.
func (s *Server) pathDID(w http.ResponseWriter, r *http.Request) (string, bool) {
	id := r.PathValue("did")
	if _, err := did.Parse(id); err != nil {
		s.problem(w, r, didProblem("INVALID_DID", http.StatusBadRequest, "Invalid DID", err.Error()))
		return "", false
	}
	return id, true
}

// directoryEntry serves GET /1.0/directory/{did}[?at=TIME][&proof=true].
func (s *Server) directoryEntry(w http.ResponseWriter, r *http.Request) {
	ds, ok := s.dirState(w, r)
	if !ok {
		return
	}
	id, ok := s.pathDID(w, r)
	if !ok {
		return
	}
	var at *time.Time
	if v := r.URL.Query().Get("at"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			s.problem(w, r, invalidOption("at must be an RFC 3339 date-time"))
			return
		}
		t = t.UTC()
		at = &t
	}
	rec, ok := readRecord(s, w, r, ledger.DirectoryKey(id), func() (*ledger.DirectoryRecord, error) { return ds.Directory(id) },
		"Not in the directory", "no organisation with this DID is in the directory (GET /1.0/directory/{did}/role says whether an organisation lists it as one of its DIDs)")
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, "application/json", NewDirectoryAnswer(rec, at))
}

// NewDirectoryAnswer builds the answer for rec (as of at, when not nil).
func NewDirectoryAnswer(rec *ledger.DirectoryRecord, at *time.Time) *DirectoryAnswer {
	ans := &DirectoryAnswer{DID: rec.DID, Current: rec.Current(), History: rec.Versions}
	if ans.Current != nil {
		ans.Status = ans.Current.Status
	}
	if at != nil {
		ans.At, ans.AtEntry = at, rec.At(*at)
	}
	return ans
}

// readRecord reads the record at key: proven (with the proof header set)
// when the request asks for ?proof=true, else from state. It answers 404
// (title, detail) when there is none, and the error itself otherwise; ok
// is false when it answered.
func readRecord[T any](s *Server, w http.ResponseWriter, r *http.Request, key []byte, fromState func() (*T, error), title, detail string) (*T, bool) {
	var rec *T
	var err error
	if wantProof(r) {
		p, perr := s.prove(r.Context(), key)
		if perr == nil {
			perr = setProof(w, p)
		}
		if perr != nil {
			s.proofProblem(w, r, perr)
			return nil, false
		}
		rec, err = decodeRecord[T](p.Value)
	} else {
		rec, err = fromState()
	}
	switch {
	case errors.Is(err, ledger.ErrNotFound):
		s.problem(w, r, &problem{Type: problemBase + "not-found", Title: title, Status: http.StatusNotFound, Detail: detail})
		return nil, false
	case err != nil:
		s.problem(w, r, &problem{Type: problemBase + "internal", Title: "Internal error", Status: http.StatusInternalServerError, Detail: err.Error()})
		return nil, false
	}
	return rec, true
}

// decodeRecord decodes a proven value (nil = absent: ErrNotFound).
func decodeRecord[T any](v []byte) (*T, error) {
	if v == nil {
		return nil, ledger.ErrNotFound
	}
	out := new(T)
	if err := json.Unmarshal(v, out); err != nil {
		return nil, fmt.Errorf("%w: %v", ledger.ErrInternal, err)
	}
	return out, nil
}

// directoryRole serves GET /1.0/directory/{did}/role[?proof=true].
func (s *Server) directoryRole(w http.ResponseWriter, r *http.Request) {
	ds, ok := s.dirState(w, r)
	if !ok {
		return
	}
	id, ok := s.pathDID(w, r)
	if !ok {
		return
	}
	al, ok := readRecord(s, w, r, ledger.DirectoryAliasKey(id), func() (*ledger.DirectoryAlias, error) { return ds.DirectoryAlias(id) },
		"Not listed", "no organisation in the directory lists this DID as one of its DIDs")
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, "application/json", RoleAnswer{DID: al.DID, Org: al.Org})
}

// directorySearch serves GET /1.0/directory?q=&kind=&status=&cursor=&limit=.
func (s *Server) directorySearch(w http.ResponseWriter, r *http.Request) {
	ds, ok := s.dirState(w, r)
	if !ok {
		return
	}
	qv := r.URL.Query()
	if wantProof(r) {
		s.problem(w, r, invalidOption("search results are not proven: read each entry with GET /1.0/directory/{did}?proof=true"))
		return
	}
	q := ledger.DirectorySearch{Query: qv.Get("q"), Kind: qv.Get("kind"), Status: qv.Get("status"), Cursor: qv.Get("cursor")}
	if v := qv.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			s.problem(w, r, invalidOption(fmt.Sprintf("limit must be a number from 1 to %d", ledger.MaxSearchLimit)))
			return
		}
		q.Limit = n
	}
	page, err := ds.SearchDirectory(q)
	switch {
	case errors.Is(err, ledger.ErrInvalid):
		s.problem(w, r, invalidOption(err.Error()))
		return
	case err != nil:
		s.problem(w, r, &problem{Type: problemBase + "internal", Title: "Internal error", Status: http.StatusInternalServerError, Detail: err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, "application/json", page)
}

// currentLogo returns the logo the organisation's current entry names.
func (s *Server) currentLogo(w http.ResponseWriter, r *http.Request) (DirectoryState, *tx.Logo, bool) {
	ds, ok := s.dirState(w, r)
	if !ok {
		return nil, nil, false
	}
	id, ok := s.pathDID(w, r)
	if !ok {
		return nil, nil, false
	}
	rec, err := ds.Directory(id)
	if err != nil && !errors.Is(err, ledger.ErrNotFound) {
		s.problem(w, r, &problem{Type: problemBase + "internal", Title: "Internal error", Status: http.StatusInternalServerError, Detail: err.Error()})
		return nil, nil, false
	}
	var logo *tx.Logo
	if rec != nil && rec.Current() != nil {
		logo = rec.Current().Entry.Logo
	}
	if logo == nil {
		s.problem(w, r, &problem{Type: problemBase + "not-found", Title: "No logo", Status: http.StatusNotFound,
			Detail: "the directory names no logo for this DID"})
		return nil, nil, false
	}
	return ds, logo, true
}

// directoryLogo serves GET /1.0/directory/{did}/logo: the image whose
// SHA-256 the current entry names, once someone uploaded it.
func (s *Server) directoryLogo(w http.ResponseWriter, r *http.Request) {
	ds, logo, ok := s.currentLogo(w, r)
	if !ok {
		return
	}
	b, err := os.ReadFile(filepath.Join(ds.LogoDir(), logo.SHA256))
	if errors.Is(err, os.ErrNotExist) {
		// Logos are uploaded to one node: ask the mirrors (other
		// registries of the network) for it; the hash decides.
		b, err = s.mirrorLogo(r.Context(), ds, r.PathValue("did"), logo)
		if err != nil {
			s.problem(w, r, &problem{Type: problemBase + "not-found", Title: "Logo not uploaded", Status: http.StatusNotFound, Detail: err.Error()})
			return
		}
	}
	if err != nil {
		s.problem(w, r, &problem{Type: problemBase + "internal", Title: "Internal error", Status: http.StatusInternalServerError, Detail: err.Error()})
		return
	}
	// An image only, never run as anything else.
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Security-Policy", "default-src 'none'")
	w.Header().Set("ETag", `"`+logo.SHA256+`"`)
	w.Header().Set("Cache-Control", "public, max-age=300")
	writeBody(w, http.StatusOK, logo.MediaType, b)
}

// directoryLogoPut serves PUT /1.0/directory/{did}/logo: anyone may upload
// the image, since the ledger fixes which one (by hash) is accepted.
func (s *Server) directoryLogoPut(w http.ResponseWriter, r *http.Request) {
	ds, logo, ok := s.currentLogo(w, r)
	if !ok {
		return
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, MaxLogoBytes+1))
	if err != nil {
		s.problem(w, r, invalidOption("read the image: "+err.Error()))
		return
	}
	if err := CheckLogo(b, logo); err != nil {
		s.problem(w, r, &problem{Type: problemBase + "invalid", Title: "Not the logo the directory names", Status: http.StatusUnprocessableEntity, Detail: err.Error()})
		return
	}
	if err := os.MkdirAll(ds.LogoDir(), 0o755); err != nil {
		s.problem(w, r, &problem{Type: problemBase + "internal", Title: "Internal error", Status: http.StatusInternalServerError, Detail: err.Error()})
		return
	}
	if err := atomicfile.WriteFile(filepath.Join(ds.LogoDir(), logo.SHA256), b, 0o644); err != nil {
		s.problem(w, r, &problem{Type: problemBase + "internal", Title: "Internal error", Status: http.StatusInternalServerError, Detail: err.Error()})
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// Logo mirroring: an organisation uploads its logo to one registry; the
// others fetch it from their mirrors (Config.LogoMirrors) the first time
// they are asked, check it against the hash the ledger names and keep it.
const (
	// logoFetchTimeout bounds one mirror's answer.
	logoFetchTimeout = 5 * time.Second
	// logoRetry is how long a logo no mirror had is not asked for again.
	logoRetry = time.Minute
)

// mirrorLogo fetches logo (of organisation did) from the mirrors, checks
// it, stores it in the node's logo folder and returns it. The error says
// why there is none, for the requester.
func (s *Server) mirrorLogo(ctx context.Context, ds DirectoryState, did string, logo *tx.Logo) ([]byte, error) {
	if len(s.logoMirrors) == 0 {
		return nil, errors.New("the directory names a logo for this DID, but nobody has uploaded the image to this registry " +
			"(PUT it here, or run this registry with --logo-mirrors naming registries that have it)")
	}
	s.logoMu.Lock()
	last, tried := s.logoMissed[logo.SHA256]
	s.logoMu.Unlock()
	if tried && time.Since(last) < logoRetry {
		return nil, fmt.Errorf("the directory names a logo for this DID; it was not uploaded to this registry and none of its %d mirrors had it a moment ago (PUT it here)", len(s.logoMirrors))
	}
	var why []string
	for _, m := range s.logoMirrors {
		b, err := fetchLogo(ctx, s.logoClient, m, did, logo)
		if err != nil {
			why = append(why, m+": "+err.Error())
			continue
		}
		if err := os.MkdirAll(ds.LogoDir(), 0o755); err == nil {
			if err := atomicfile.WriteFile(filepath.Join(ds.LogoDir(), logo.SHA256), b, 0o644); err != nil {
				s.log.Warn("logo: keeping a mirrored copy", "err", err)
			}
		}
		return b, nil
	}
	s.logoMu.Lock()
	if len(s.logoMissed) > 10_000 {
		clear(s.logoMissed)
	}
	s.logoMissed[logo.SHA256] = time.Now()
	s.logoMu.Unlock()
	return nil, fmt.Errorf("the directory names a logo for this DID; it was not uploaded to this registry and none of its mirrors has it (%s); PUT it here", strings.Join(why, "; "))
}

// fetchLogo gets the logo of did from the registry at base and checks it.
func fetchLogo(ctx context.Context, hc *http.Client, base, did string, logo *tx.Logo) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, logoFetchTimeout)
	defer cancel()
	u := strings.TrimRight(base, "/") + "/1.0/directory/" + url.PathEscape(did) + "/logo"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, errors.New("unreachable")
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("answered %d", resp.StatusCode)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, tx.MaxLogoBytes+1))
	if err != nil {
		return nil, err
	}
	if err := logo.Check(b); err != nil {
		return nil, fmt.Errorf("served another image (%v)", err)
	}
	return b, nil
}

// CheckLogo checks that b is the image logo names ([tx.Logo.Check]).
func CheckLogo(b []byte, logo *tx.Logo) error { return logo.Check(b) }
