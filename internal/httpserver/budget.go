package httpserver

import (
	"fmt"
	"strings"
)

// Reserve is a number of file descriptors the process keeps for one use
// other than HTTP connections.
type Reserve struct {
	What string // e.g. "CometBFT databases (3 × 136)"
	N    int
}

// ProcessReserve covers what any Go server process holds besides its
// connections: standard streams, the runtime's poller and pipes, log files,
// TLS files while they reload, and the connection being refused at accept.
var ProcessReserve = Reserve{What: "process (standard streams, poller, logs, TLS files)", N: 32}

// MinConns is the fewest HTTP connections that still make a usable
// service; [PlanConns] refuses a budget that leaves fewer.
const MinConns = 64

// Budget is how the process's file descriptors are shared out.
type Budget struct {
	// Limit is the RLIMIT_NOFILE soft limit after raising it towards the
	// hard limit; Hard is the hard limit (0 if unknown).
	Limit, Hard int
	// Raised reports that the soft limit was raised here (the Go runtime
	// itself raises it at start on Linux, so this is often false).
	Raised bool
	// Reserve lists what is kept for other uses.
	Reserve []Reserve
	// Conns is what is left for HTTP connections, at most the cap
	// [PlanConns] was given.
	Conns int
}

// Reserved is the sum of the reservations.
func (b Budget) Reserved() int {
	n := 0
	for _, r := range b.Reserve {
		n += r.N
	}
	return n
}

// BudgetError reports a descriptor limit too small to run safely: it names
// every reservation and the limit to set.
type BudgetError struct{ Budget Budget }

func (e *BudgetError) Error() string {
	var parts []string
	for _, r := range e.Budget.Reserve {
		parts = append(parts, fmt.Sprintf("%d for %s", r.N, r.What))
	}
	need := e.Budget.Reserved() + MinConns
	msg := fmt.Sprintf("the file-descriptor limit (RLIMIT_NOFILE) is %d, too small: this process keeps %d descriptors (%s) and needs at least %d more for HTTP connections; raise the limit to %d or more (ulimit -n %d, or LimitNOFILE=%d in a systemd unit)",
		e.Budget.Limit, e.Budget.Reserved(), strings.Join(parts, ", "), MinConns, need, need, need)
	if e.Budget.Hard > 0 && e.Budget.Hard < need {
		msg += fmt.Sprintf("; the hard limit is %d, so this needs root or a new hard limit", e.Budget.Hard)
	}
	return msg
}

// PlanConns reads RLIMIT_NOFILE, raises the soft limit to the hard limit
// where the system allows, subtracts the reservations and returns what is
// left for HTTP connections, capped at maxConns. It returns a *BudgetError
// when fewer than [MinConns] would be left: better to refuse to start than
// to let HTTP clients exhaust the descriptors a database or the consensus
// WAL needs (a node that cannot open its WAL halts).
func PlanConns(reserve []Reserve, maxConns int) (Budget, error) {
	soft, hard, raised, err := raiseNoFile()
	if err != nil {
		return Budget{}, fmt.Errorf("reading the file-descriptor limit: %w", err)
	}
	b := Budget{Limit: soft, Hard: hard, Raised: raised, Reserve: reserve}
	left := soft - b.Reserved()
	if left < MinConns {
		return b, &BudgetError{Budget: b}
	}
	b.Conns = min(left, maxConns)
	return b, nil
}
