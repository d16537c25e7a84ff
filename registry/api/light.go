package api

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/medid/medid/registry/ledger"
)

// baser is implemented by a Ledger that knows the lowest height whose block
// it still stores (a node that pruned old blocks, or joined by state sync).
type baser interface{ Base() int64 }

// lightBlock serves GET /1.0/light/{height}: the signed header and
// validator set of one height ("latest": the newest), as a light client
// needs them to follow the chain across validator-set changes (package
// registry/ledger/light). Nothing here is trusted by the client: it verifies
// every block it is served.
func (s *Server) lightBlock(w http.ResponseWriter, r *http.Request) {
	hs := r.PathValue("height")
	latest := s.ledger.Height()
	var h int64
	if hs == "latest" {
		h = latest
	} else {
		n, err := strconv.ParseInt(hs, 10, 64)
		if err != nil || n < 1 || strconv.FormatInt(n, 10) != hs {
			s.problem(w, r, &problem{Type: problemBase + "invalid-height", Title: "Invalid height", Status: http.StatusBadRequest,
				Detail: fmt.Sprintf("height %.32q: want a positive decimal block height or \"latest\"", hs)})
			return
		}
		h = n
	}
	if h < 1 || h > latest {
		s.problem(w, r, &problem{Type: problemBase + "not-found", Title: "No such block", Status: http.StatusNotFound,
			Detail: fmt.Sprintf("height %d is not committed yet (latest %d)", h, latest)})
		return
	}
	if b, ok := s.ledger.(baser); ok && h < b.Base() {
		s.problem(w, r, &problem{Type: problemBase + "not-found", Title: "No such block", Status: http.StatusNotFound,
			Detail: fmt.Sprintf("this node keeps blocks from height %d on (pruned, or joined by state sync); ask another node", b.Base())})
		return
	}
	sh, vals, err := s.ledger.SignedHeader(r.Context(), h)
	if err != nil {
		s.problem(w, r, &problem{Type: problemBase + "unavailable", Title: "Light block unavailable", Status: http.StatusServiceUnavailable, Detail: err.Error()})
		return
	}
	shb, err := sh.ToProto().Marshal()
	if err != nil {
		s.problem(w, r, &problem{Type: problemBase + "internal", Title: "Internal error", Status: http.StatusInternalServerError, Detail: err.Error()})
		return
	}
	vp, err := vals.ToProto()
	if err != nil {
		s.problem(w, r, &problem{Type: problemBase + "internal", Title: "Internal error", Status: http.StatusInternalServerError, Detail: err.Error()})
		return
	}
	vb, err := vp.Marshal()
	if err != nil {
		s.problem(w, r, &problem{Type: problemBase + "internal", Title: "Internal error", Status: http.StatusInternalServerError, Detail: err.Error()})
		return
	}
	if hs != "latest" {
		// A committed block never changes: let caches keep it.
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	}
	writeJSON(w, http.StatusOK, "application/json", &ledger.LightBlock{ChainID: sh.ChainID, Height: sh.Height, SignedHeader: shb, ValidatorSet: vb})
}
