package api

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime"
	"net/http"

	"github.com/medid/medid/registry/node"
	"github.com/medid/medid/registry/tx"
)

// MediaJOSE is the Content-Type of a submitted transaction (compact JWS).
const MediaJOSE = "application/jose"

// TxResponse is the body of a successful POST /1.0/transactions.
type TxResponse struct {
	Height int64  `json:"height"`
	Hash   string `json:"hash"`
	Code   uint32 `json:"code"`
	Log    string `json:"log"`
}

func (s *Server) submit(w http.ResponseWriter, r *http.Request) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != MediaJOSE && mt != "application/octet-stream" && mt != "text/plain") {
			s.problem(w, r, &problem{Type: problemBase + "unsupported-media-type", Title: "Unsupported media type",
				Status: http.StatusUnsupportedMediaType, Detail: "send the signed transaction as " + MediaJOSE})
			return
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, tx.MaxSize+1024))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) || len(bytes.TrimSpace(body)) > tx.MaxSize {
		s.m.txResults.WithLabelValues("too-large").Inc()
		s.problem(w, r, txProblem(node.ErrTxTooLarge, nil))
		return
	}
	if err != nil {
		s.problem(w, r, &problem{Type: problemBase + "bad-request", Title: "Bad request", Status: http.StatusBadRequest, Detail: "reading body: " + err.Error()})
		return
	}
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		s.problem(w, r, &problem{Type: problemBase + "malformed", Title: "Transaction rejected: malformed", Status: http.StatusBadRequest,
			Detail: "empty body: send a signed transaction (compact JWS)"})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.timeout)
	defer cancel()
	it := s.submitOne(ctx, body, w.Header())
	if it.Problem != nil {
		s.problem(w, r, it.Problem)
		return
	}
	writeJSON(w, http.StatusOK, "application/json", it.Result)
}
