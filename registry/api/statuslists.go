package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/medid/medid/credentials/statuslist"
	"github.com/medid/medid/credentials/tokenstatus"
	"github.com/medid/medid/credentials/vc"
	"github.com/medid/medid/registry/ledger"
)

// MediaVCJWT is the Content-Type of a status list credential.
const MediaVCJWT = "application/vc+jwt"

// MediaStatusListJWT is the Content-Type of a Token Status List.
const MediaStatusListJWT = "application/statuslist+jwt"

func (s *Server) statusList(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var version int64
	if v := r.URL.Query().Get("version"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			s.problem(w, r, &problem{Type: problemBase + "invalid-options", Title: "Invalid options", Status: http.StatusBadRequest,
				Detail: "version must be a positive integer"})
			return
		}
		version = n
	}
	var rec *ledger.StatusListRecord
	var err error
	if wantProof(r) {
		k := ledger.StatusListKey(id)
		if version > 0 {
			k = ledger.StatusListVersionKey(id, version)
		}
		p, perr := s.prove(r.Context(), k)
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
			rec = new(ledger.StatusListRecord)
			if jerr := json.Unmarshal(p.Value, rec); jerr != nil {
				err = fmt.Errorf("%w: %v", ledger.ErrInternal, jerr)
			}
		}
	} else {
		rec, err = s.state.StatusList(id, version)
	}
	switch {
	case errors.Is(err, ledger.ErrNotFound):
		s.problem(w, r, &problem{Type: problemBase + "not-found", Title: "Status list not found", Status: http.StatusNotFound,
			Detail: fmt.Sprintf("no status list %.128q (version %d; 0 = latest)", id, version)})
		return
	case err != nil:
		s.problem(w, r, &problem{Type: problemBase + "internal", Title: "Internal error", Status: http.StatusInternalServerError, Detail: err.Error()})
		return
	}
	etag := `"` + strconv.FormatInt(rec.Version, 10) + `"`
	h := w.Header()
	h.Set("ETag", etag)
	if ttl := s.ttls.get(rec); ttl > 0 {
		h.Set("Cache-Control", fmt.Sprintf("max-age=%d", int64(ttl/time.Second)))
	} else {
		h.Set("Cache-Control", "no-cache")
	}
	if inm := r.Header.Get("If-None-Match"); inm != "" && etagMatch(inm, etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	media := MediaVCJWT
	if rec.Purpose == ledger.PurposeTokenStatusList {
		media = MediaStatusListJWT
	}
	writeBody(w, http.StatusOK, media, []byte(rec.Credential))
}

func etagMatch(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == etag || t == "*" {
			return true
		}
	}
	return false
}

// ttlCache remembers the ttl of each (list, version): decoding the list
// credential to read it costs a gunzip, and a version never changes.
type ttlCache struct {
	max int
	mu  sync.Mutex // guards m
	m   map[string]time.Duration
}

func newTTLCache(max int) *ttlCache { return &ttlCache{max: max, m: make(map[string]time.Duration)} }

// get returns the ttl of rec's credential (0 if absent or unreadable).
func (c *ttlCache) get(rec *ledger.StatusListRecord) time.Duration {
	k := rec.ID + "\x00" + strconv.FormatInt(rec.Version, 10)
	c.mu.Lock()
	ttl, ok := c.m[k]
	c.mu.Unlock()
	if ok {
		return ttl
	}
	ttl = 0
	if rec.Purpose == ledger.PurposeTokenStatusList {
		// A Token Status List's ttl claim says how long it may be cached.
		if t, _, err := tokenstatus.Parse(rec.Credential); err == nil {
			ttl = t.TTL
		}
	} else if tok, err := vc.Parse(rec.Credential); err == nil {
		if d, err := statuslist.FromCredential(tok.Credential); err == nil {
			ttl = d.TTL
		}
	}
	c.mu.Lock()
	if len(c.m) >= c.max {
		clear(c.m)
	}
	c.m[k] = ttl
	c.mu.Unlock()
	return ttl
}
