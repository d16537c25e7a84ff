package api

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/medid/medid/registry/node"
)

// Check is one readiness check of GET /readyz. Run returns nil when the
// check passes, else an error saying what is wrong; the message is shown
// to whoever asks /readyz, so it MUST NOT carry health data, record
// content or key material.
type Check struct {
	Name string
	Run  func(ctx context.Context) error
}

// checkTimeout bounds each readiness check: a check that cannot answer in
// time fails (a node whose state database stalls is not ready).
const checkTimeout = 2 * time.Second

// StoreChecker reports whether the state database is sound
// ([*machine.App] implements it with CheckStore).
type StoreChecker interface {
	CheckStore(ctx context.Context) error
}

// NodeChecks are the readiness checks of a registry node n whose state
// database is checked by store:
//
//   - consensus: caught up, a block committed, the consensus engine
//     running, and no transaction waiting longer than n's stall window
//     without a new block ([node.Node.Progress]);
//   - state: the state database answers reads and writes without errors
//     (store.CheckStore);
//   - peers: connected to enough peers that more than two thirds of the
//     validators are reachable ([node.Node.Peers]).
func NodeChecks(n *node.Node, store StoreChecker) []Check {
	return []Check{
		{Name: "consensus", Run: func(context.Context) error { return n.Progress() }},
		{Name: "state", Run: store.CheckStore},
		{Name: "peers", Run: func(context.Context) error {
			if have, need := n.Peers(); have < need {
				return fmt.Errorf("connected to %d peers, need %d to reach a quorum of validators", have, need)
			}
			return nil
		}},
	}
}

// Liveness is the body of GET /healthz.
type Liveness struct {
	Status string `json:"status"` // always "ok"
}

// CheckResult is one check in a [Readiness] answer.
type CheckResult struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail,omitempty"`
}

// Readiness is the body of GET /readyz: Status is "ready" (HTTP 200) or
// "not-ready" (HTTP 503, Failing names the failed checks).
type Readiness struct {
	Status  string        `json:"status"`
	Failing []string      `json:"failing,omitempty"`
	Checks  []CheckResult `json:"checks"`
	Node    *node.Status  `json:"node,omitempty"`
}

// health is liveness: 200 whenever the process serves HTTP. It asks the
// node nothing, so a wedged consensus cannot make it hang; whether the
// node is usable is /readyz.
func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, "application/json", Liveness{Status: "ok"})
}

// ready runs every readiness check (each within checkTimeout) and answers
// 200 when all pass, 503 naming the failures otherwise.
func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	res := Readiness{Status: "ready"}
	// The node's status is shown with the checks (its own failure is not a
	// check: the checks below cover it).
	var st node.Status
	nodeCheck := Check{Name: "node", Run: func(ctx context.Context) error {
		var err error
		st, err = s.ledger.Status(ctx)
		return err
	}}
	ctx, cancel := context.WithTimeout(r.Context(), checkTimeout)
	if runCheck(ctx, nodeCheck) == nil {
		res.Node = &st
	}
	cancel()
	for _, c := range s.checks {
		ctx, cancel := context.WithTimeout(r.Context(), checkTimeout)
		err := runCheck(ctx, c)
		cancel()
		cr := CheckResult{Name: c.Name, OK: err == nil}
		if err != nil {
			cr.Detail = err.Error()
			res.Failing = append(res.Failing, c.Name)
		}
		res.Checks = append(res.Checks, cr)
	}
	status := http.StatusOK
	if len(res.Failing) > 0 {
		res.Status, status = "not-ready", http.StatusServiceUnavailable
		w.Header().Set("Retry-After", "1")
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, status, "application/json", res)
}

// statusCheck is the readiness check used when Config.Checks is nil: the
// ledger has caught up and committed a block.
func statusCheck(l Ledger) Check {
	return Check{Name: "node", Run: func(ctx context.Context) error {
		st, err := l.Status(ctx)
		if err != nil {
			return err
		}
		if st.CatchingUp {
			return fmt.Errorf("catching up (at height %d)", st.Height)
		}
		if st.Height < 1 {
			return fmt.Errorf("no block committed yet")
		}
		return nil
	}}
}

// runCheck runs c, failing it when it has not answered by ctx's deadline
// (the check goes on in the background and its answer is dropped).
func runCheck(ctx context.Context, c Check) error {
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("no answer within %s", checkTimeout)
	}
}
