package api

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"sync"

	"github.com/medid/medid/internal/ijson"
	"github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/node"
	"github.com/medid/medid/registry/tx"
)

// TxBatch is the body of POST /1.0/transactions/batch: signed transactions
// (compact JWS, each as POST /1.0/transactions takes it), at most
// [ledger.MaxTxBatch] of them in at most [ledger.MaxTxBatchBytes].
type TxBatch struct {
	Transactions []string `json:"transactions"`
}

// TxBatchResponse is the body of a 200 answer to a batch: one item per
// submitted transaction, in the order submitted.
type TxBatchResponse struct {
	Results []TxBatchItem `json:"results"`
}

// TxBatchItem is the outcome of one transaction of a batch: Status is the
// HTTP status POST /1.0/transactions would have answered for it alone;
// Result is set when it was committed (200), Problem otherwise (the same
// problem object the single endpoint answers, e.g. a 409 duplicate or a
// 503 mempool-full to retry).
type TxBatchItem struct {
	Status  int         `json:"status"`
	Result  *TxResponse `json:"result,omitempty"`
	Problem *problem    `json:"problem,omitempty"`
}

// ParseTxBatch reads a batch request body: a JSON object with one member,
// "transactions", an array of 1 to [ledger.MaxTxBatch] strings, under the
// project's JSON policy (no duplicate or unknown members). It checks the
// shape only; each transaction is checked by the ledger as it would be if
// submitted alone. Errors say what to fix.
func ParseTxBatch(body []byte) ([]string, error) {
	if len(body) > ledger.MaxTxBatchBytes {
		return nil, fmt.Errorf("the body is %d bytes, a batch may be at most %d", len(body), ledger.MaxTxBatchBytes)
	}
	var b TxBatch
	if err := ijson.Unmarshal(body, &b, ijson.Known); err != nil {
		return nil, fmt.Errorf(`want {"transactions": ["<compact JWS>", ...]}: %v`, err)
	}
	switch {
	case b.Transactions == nil:
		return nil, errors.New(`want {"transactions": ["<compact JWS>", ...]}: the member "transactions" is missing or null`)
	case len(b.Transactions) == 0:
		return nil, errors.New("the batch is empty: send 1 to " + strconv.Itoa(ledger.MaxTxBatch) + " transactions")
	case len(b.Transactions) > ledger.MaxTxBatch:
		return nil, fmt.Errorf("the batch holds %d transactions, at most %d are allowed: split it", len(b.Transactions), ledger.MaxTxBatch)
	}
	return b.Transactions, nil
}

// submitBatch is POST /1.0/transactions/batch: every transaction is
// submitted as POST /1.0/transactions would submit it (CheckTx, the
// mempool, the wait for its block), all at once, and the answer lists each
// one's outcome once every one is committed, refused or timed out. One
// request and one answer for many transactions is what it saves: the
// system calls, the connection's goroutine and the HTTP parsing of one
// request per transaction (docs/design/0022).
func (s *Server) submitBatch(w http.ResponseWriter, r *http.Request) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			s.problem(w, r, &problem{Type: problemBase + "unsupported-media-type", Title: "Unsupported media type",
				Status: http.StatusUnsupportedMediaType, Detail: `send the batch as application/json: {"transactions": ["<compact JWS>", ...]}`})
			return
		}
	}
	body := batchBodies.Get().(*bytes.Buffer)
	body.Reset()
	_, err := body.ReadFrom(http.MaxBytesReader(w, r.Body, ledger.MaxTxBatchBytes))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		putBatchBody(body)
		s.problem(w, r, &problem{Type: problemBase + "too-large", Title: "Batch too large", Status: http.StatusRequestEntityTooLarge,
			Detail: fmt.Sprintf("a batch body may be at most %d bytes: split it, or send large transactions to /1.0/transactions one by one", ledger.MaxTxBatchBytes)})
		return
	}
	if err != nil {
		putBatchBody(body)
		s.problem(w, r, &problem{Type: problemBase + "bad-request", Title: "Bad request", Status: http.StatusBadRequest, Detail: "reading body: " + err.Error()})
		return
	}
	txs, err := ParseTxBatch(body.Bytes())
	// The transactions are strings of their own (ParseTxBatch copies the
	// text before it parses it): nothing points into body any more.
	putBatchBody(body)
	if err != nil {
		s.problem(w, r, &problem{Type: problemBase + "malformed", Title: "Malformed batch", Status: http.StatusBadRequest, Detail: err.Error()})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.timeout)
	defer cancel()
	items := make([]TxBatchItem, len(txs))
	var wg sync.WaitGroup
	for i, t := range txs {
		raw := bytes.TrimSpace([]byte(t))
		switch {
		case len(raw) > tx.MaxSize:
			s.m.txResults.WithLabelValues("too-large").Inc()
			items[i] = problemItem(txProblem(node.ErrTxTooLarge, nil))
			continue
		case len(raw) == 0:
			items[i] = problemItem(&problem{Type: problemBase + "malformed", Title: "Transaction rejected: malformed", Status: http.StatusBadRequest,
				Detail: "empty transaction: each entry is a signed transaction (compact JWS)"})
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			items[i] = s.submitOne(ctx, raw, nil)
		}()
	}
	wg.Wait()
	writeJSON(w, http.StatusOK, "application/json", TxBatchResponse{Results: items})
}

// batchBodies holds the buffers batch bodies are read into, so a
// validator taking batches does not grow a fresh one (io.ReadAll: about
// twice the body in allocations) for each request; a body is parsed, and
// its buffer returned, before any of its transactions is submitted.
var batchBodies = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// putBatchBody returns b to batchBodies. b MUST NOT be used afterwards;
// nothing read from it may point into it.
func putBatchBody(b *bytes.Buffer) {
	if b.Cap() > ledger.MaxTxBatchBytes+bytes.MinRead {
		return // ReadFrom of a limited body never grows it this far; keep the pool bounded anyway
	}
	b.Reset()
	batchBodies.Put(b)
}

func problemItem(p *problem) TxBatchItem { return TxBatchItem{Status: p.Status, Problem: p} }

// submitOne submits raw, counts the outcome in the metrics and returns it
// as a batch item (the single endpoint writes the same outcome as its
// answer). hdr, if not nil, receives a Retry-After for a full mempool.
func (s *Server) submitOne(ctx context.Context, raw []byte, hdr http.Header) TxBatchItem {
	res, err := s.ledger.Submit(ctx, raw)
	if err != nil {
		var rej *node.RejectedError
		label := "error"
		switch {
		case errors.As(err, &rej):
			label = strconv.FormatUint(uint64(rej.Code), 10)
		case errors.Is(err, node.ErrMempoolFull):
			label = "mempool-full"
			if hdr != nil {
				hdr.Set("Retry-After", "1")
			}
		case errors.Is(err, node.ErrDuplicate):
			label = "duplicate"
		case errors.Is(err, context.DeadlineExceeded):
			label = "timeout"
		}
		s.m.txResults.WithLabelValues(label).Inc()
		return problemItem(txProblem(err, res))
	}
	s.m.txResults.WithLabelValues("0").Inc()
	return TxBatchItem{Status: http.StatusOK, Result: &TxResponse{Height: res.Height, Hash: res.Hash, Code: res.Code, Log: res.Log}}
}
