package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/node"
)

// batchLedger answers each submitted transaction by its text: "ok-…"
// commits, "dup-…" is a duplicate, "full-…" meets a full mempool, "bad-…"
// is refused in CheckTx with a bad signature. It records what reached it.
type batchLedger struct {
	fakeLedger
	mu   sync.Mutex
	seen []string
}

func (l *batchLedger) Submit(_ context.Context, raw []byte) (*node.TxResult, error) {
	t := string(raw)
	l.mu.Lock()
	l.seen = append(l.seen, t)
	l.mu.Unlock()
	switch {
	case strings.HasPrefix(t, "ok-"):
		return &node.TxResult{Height: 7, Hash: "H-" + t, Log: "did.create " + t}, nil
	case strings.HasPrefix(t, "dup-"):
		return nil, node.ErrDuplicate
	case strings.HasPrefix(t, "full-"):
		return nil, fmt.Errorf("%w: x", node.ErrMempoolFull)
	case strings.HasPrefix(t, "bad-"):
		return nil, &node.RejectedError{Stage: "check", Code: ledger.CodeBadSignature, Codespace: ledger.Codespace, Log: "signature of " + t}
	}
	return nil, fmt.Errorf("unexpected transaction %q", t)
}

func TestSubmitBatch(t *testing.T) {
	big := strings.Repeat("x", 70<<10)
	many := `{"transactions":[` + strings.TrimSuffix(strings.Repeat(`"ok-1",`, ledger.MaxTxBatch+1), ",") + `]}`
	for _, tc := range []struct {
		name       string
		body       string
		ctype      string
		wantStatus int
		wantType   string   // of the whole answer's problem, when not 200
		wantItems  []int    // each item's status, when 200
		wantSeen   int      // transactions that reached the ledger
		wantDetail []string // in each item's problem (or result log), in order
	}{
		{"mixed outcomes in order", `{"transactions":["ok-1","dup-2","bad-3","full-4","ok-5"]}`, "application/json", 200, "",
			[]int{200, 409, 400, 503, 200}, 5, []string{"did.create ok-1", "duplicate", "signature of bad-3", "mempool-full", "did.create ok-5"}},
		{"no content type", `{"transactions":["ok-1"]}`, "", 200, "", []int{200}, 1, []string{"did.create ok-1"}},
		{"an empty and an oversized entry stay apart", `{"transactions":["ok-1"," ","` + big[:tooLargeEntry] + `"]}`, "application/json", 200, "",
			[]int{200, 400, 413}, 1, []string{"did.create ok-1", "empty transaction", "at most"}},
		{"empty batch", `{"transactions":[]}`, "application/json", 400, "malformed", nil, 0, nil},
		{"missing member", `{}`, "application/json", 400, "malformed", nil, 0, nil},
		{"null member", `{"transactions":null}`, "application/json", 400, "malformed", nil, 0, nil},
		{"unknown member", `{"transactions":["ok-1"],"wait":false}`, "application/json", 400, "malformed", nil, 0, nil},
		{"duplicate member", `{"transactions":["ok-1"],"transactions":["ok-2"]}`, "application/json", 400, "malformed", nil, 0, nil},
		{"not strings", `{"transactions":[1,2]}`, "application/json", 400, "malformed", nil, 0, nil},
		{"a bare array", `["ok-1"]`, "application/json", 400, "malformed", nil, 0, nil},
		{"trailing data", `{"transactions":["ok-1"]} {}`, "application/json", 400, "malformed", nil, 0, nil},
		{"too many", many, "application/json", 400, "malformed", nil, 0, nil},
		{"body too large", `{"transactions":["` + strings.Repeat("x", ledger.MaxTxBatchBytes) + `"]}`, "application/json", 413, "too-large", nil, 0, nil},
		{"wrong media type", `{"transactions":["ok-1"]}`, "application/jose", 415, "unsupported-media-type", nil, 0, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := &batchLedger{}
			s, err := New(Config{State: emptyState{}, Ledger: l})
			if err != nil {
				t.Fatal(err)
			}
			req := httptest.NewRequest(http.MethodPost, "/1.0/transactions/batch", strings.NewReader(tc.body))
			if tc.ctype != "" {
				req.Header.Set("Content-Type", tc.ctype)
			}
			w := httptest.NewRecorder()
			s.ServeHTTP(w, req)
			if w.Code != tc.wantStatus {
				t.Fatalf("got %d %.300s, want %d", w.Code, w.Body, tc.wantStatus)
			}
			if len(l.seen) != tc.wantSeen {
				t.Errorf("%d transactions reached the ledger, want %d", len(l.seen), tc.wantSeen)
			}
			if tc.wantStatus != 200 {
				if !strings.Contains(w.Body.String(), `"type":"https://medid.dev/problems/`+tc.wantType+`"`) {
					t.Errorf("got %.300s, want problem type %s", w.Body, tc.wantType)
				}
				return
			}
			var got TxBatchResponse
			if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
				t.Fatalf("answer %s: %v", w.Body, err)
			}
			if len(got.Results) != len(tc.wantItems) {
				t.Fatalf("got %d results, want %d: %s", len(got.Results), len(tc.wantItems), w.Body)
			}
			for i, it := range got.Results {
				text := ""
				switch {
				case it.Status == 200 && it.Result != nil && it.Problem == nil:
					text = it.Result.Log
				case it.Status != 200 && it.Problem != nil && it.Result == nil && it.Problem.Status == it.Status:
					text = it.Problem.Type + " " + it.Problem.Detail
				default:
					t.Fatalf("result %d: status %d with result %v and problem %v", i, it.Status, it.Result, it.Problem)
				}
				if it.Status != tc.wantItems[i] || !strings.Contains(text, tc.wantDetail[i]) {
					t.Errorf("result %d: got %d %q, want %d containing %q", i, it.Status, text, tc.wantItems[i], tc.wantDetail[i])
				}
			}
		})
	}
}

// TestSubmitBatchConcurrentBodies: batches read at the same time, and
// one after another into reused buffers, each reach the ledger and answer
// with their own transactions (a buffer handed on while a batch still used
// it would mix them up; run with -race).
func TestSubmitBatchConcurrentBodies(t *testing.T) {
	l := &batchLedger{}
	s, err := New(Config{State: emptyState{}, Ledger: l})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range 25 {
				// Bodies of different lengths, so a reused buffer holds
				// the tail of a longer one.
				n := 1 + (g*7+r*3)%40
				var want []string
				for i := range n {
					want = append(want, fmt.Sprintf("ok-%d-%d-%d-%s", g, r, i, strings.Repeat("p", (g+r+i)%50)))
				}
				body, _ := json.Marshal(TxBatch{Transactions: want})
				req := httptest.NewRequest(http.MethodPost, "/1.0/transactions/batch", strings.NewReader(string(body)))
				w := httptest.NewRecorder()
				s.ServeHTTP(w, req)
				var got TxBatchResponse
				if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil || w.Code != 200 || len(got.Results) != n {
					t.Errorf("batch %d/%d: %d %.200s (%v)", g, r, w.Code, w.Body, err)
					return
				}
				for i, it := range got.Results {
					if it.Result == nil || it.Result.Log != "did.create "+want[i] {
						t.Errorf("batch %d/%d, result %d: %+v, want the log of %s", g, r, i, it.Result, want[i])
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	total := 0
	for g := range 8 {
		for r := range 25 {
			total += 1 + (g*7+r*3)%40
		}
	}
	if len(l.seen) != total {
		t.Errorf("%d transactions reached the ledger, want %d", len(l.seen), total)
	}
}

// tooLargeEntry is one byte over what one transaction may be.
const tooLargeEntry = 64<<10 + 1

func TestParseTxBatch(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		want       int    // transactions, or 0 for an error
		wantErr    string // in the error
	}{
		{"one", `{"transactions":["a.b.c"]}`, 1, ""},
		{"spaces", " {\n \"transactions\" : [ \"a.b.c\" , \"d.e.f\" ] }\n", 2, ""},
		{"max", `{"transactions":[` + strings.TrimSuffix(strings.Repeat(`"a",`, ledger.MaxTxBatch), ",") + `]}`, ledger.MaxTxBatch, ""},
		{"over max", `{"transactions":[` + strings.TrimSuffix(strings.Repeat(`"a",`, ledger.MaxTxBatch+1), ",") + `]}`, 0, "split it"},
		{"empty", `{"transactions":[]}`, 0, "empty"},
		{"null", `{"transactions":null}`, 0, "missing or null"},
		{"case variant", `{"Transactions":["a"]}`, 0, "want {"},
		{"not JSON", `transactions=a`, 0, "want {"},
		{"empty body", ``, 0, "want {"},
		{"nested", `{"transactions":[["a"]]}`, 0, "want {"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseTxBatch([]byte(tc.body))
			switch {
			case tc.want == 0 && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("got %d, %v; want an error containing %q", len(got), err, tc.wantErr)
			case tc.want > 0 && (err != nil || len(got) != tc.want):
				t.Errorf("got %d, %v; want %d transactions", len(got), err, tc.want)
			}
		})
	}
}

// FuzzParseTxBatch: the batch parser never panics, and what it accepts is
// 1 to MaxTxBatch strings that encoding/json reads the same way from the
// same body (the project's stricter policy accepts nothing encoding/json
// would read differently).
func FuzzParseTxBatch(f *testing.F) {
	for _, s := range []string{`{"transactions":["a.b.c"]}`, `{"transactions":[]}`, `{"transactions":["a","b\u0041"]}`,
		`{"transactions":null}`, `{"transactions":["a"],"transactions":["b"]}`, `[]`, ``} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		got, err := ParseTxBatch(body)
		if err != nil {
			return
		}
		if len(got) == 0 || len(got) > ledger.MaxTxBatch {
			t.Fatalf("accepted %d transactions", len(got))
		}
		var ref TxBatch
		if err := json.Unmarshal(body, &ref); err != nil {
			t.Fatalf("accepted what encoding/json refuses: %v", err)
		}
		if !slices.Equal(ref.Transactions, got) {
			t.Fatalf("got %q, encoding/json reads %q", got, ref.Transactions)
		}
		// submitBatch returns the body's buffer to a pool right after
		// parsing: what the parser returns must not point into it.
		clear(body)
		if !slices.Equal(ref.Transactions, got) {
			t.Fatalf("the transactions changed with the body's buffer: %q, want %q", got, ref.Transactions)
		}
	})
}
