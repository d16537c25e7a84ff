package openid4vp

import (
	"fmt"
	"math/bits"
	"slices"
	"strings"
)

// Bounds on a DCQL query, checked by [DCQLQuery.Validate]. A query comes
// from an untrusted verifier (read by the wallet) or from the verifier's
// operator; these keep matching and checking it cheap whatever it holds.
const (
	// MaxCredentialQueries bounds the credential queries of one query.
	MaxCredentialQueries = 64
	// MaxCredentialSets bounds its credential_sets.
	MaxCredentialSets = 32
	// MaxSetOptions bounds the options of one credential set.
	MaxSetOptions = 32
)

// CredentialSetQuery is a DCQL credential set (OpenID4VP 1.0 §6.2): the
// alternative combinations of credential queries (by id) that satisfy one
// need of the verifier, most preferred first. A required set (the default)
// must be answered with exactly one option; an optional one with one or
// none.
type CredentialSetQuery struct {
	Options [][]string `json:"options"`
	// Required is nil for the default (true).
	Required *bool `json:"required,omitempty"`
	// Purpose is the verifier's note on why it asks (a string, number
	// or object); kept, not interpreted.
	Purpose any `json:"purpose,omitempty"`
}

// IsRequired reports whether the set must be answered (required absent or
// true).
func (s CredentialSetQuery) IsRequired() bool { return s.Required == nil || *s.Required }

// Sets returns the credential sets as the verifier means them: q's
// credential_sets, or, when it has none, one required set per credential
// query with that query as its only option (every credential is asked for).
func (q *DCQLQuery) Sets() []CredentialSetQuery {
	if len(q.CredentialSets) > 0 {
		return q.CredentialSets
	}
	out := make([]CredentialSetQuery, len(q.Credentials))
	for i, c := range q.Credentials {
		out[i] = CredentialSetQuery{Options: [][]string{{c.ID}}}
	}
	return out
}

// validCredentialSets checks q's credential_sets: non-empty when present,
// each with at least one option, each option a non-empty list of distinct
// ids of q's credential queries.
func (q *DCQLQuery) validCredentialSets() error {
	if q.CredentialSets == nil {
		return nil
	}
	if len(q.CredentialSets) == 0 {
		return fmt.Errorf("dcql_query has an empty credential_sets")
	}
	if len(q.CredentialSets) > MaxCredentialSets {
		return fmt.Errorf("dcql_query has %d credential sets; at most %d are supported", len(q.CredentialSets), MaxCredentialSets)
	}
	ids := map[string]bool{}
	for _, c := range q.Credentials {
		ids[c.ID] = true
	}
	for i, s := range q.CredentialSets {
		if len(s.Options) == 0 {
			return fmt.Errorf("credential set %d has no options", i+1)
		}
		if len(s.Options) > MaxSetOptions {
			return fmt.Errorf("credential set %d has %d options; at most %d are supported", i+1, len(s.Options), MaxSetOptions)
		}
		for _, o := range s.Options {
			if len(o) == 0 {
				return fmt.Errorf("credential set %d has an empty option", i+1)
			}
			seen := map[string]bool{}
			for _, id := range o {
				if !ids[id] {
					return fmt.Errorf("credential set %d names %q, which is not one of the credential queries", i+1, id)
				}
				if seen[id] {
					return fmt.Errorf("credential set %d names %q twice in one option", i+1, id)
				}
				seen[id] = true
			}
		}
	}
	return nil
}

// maxCoverSteps bounds the search of [DCQLQuery.CheckAnswered]; a query
// within Validate's bounds needs far fewer, and a search that runs out
// refuses (fails closed).
const maxCoverSteps = 1 << 16

// SetAnswer is how a response answered one credential set of the
// request: which option it took, or, for an optional set, that it left it
// out. Set and Option are indexes into the query's credential_sets and
// that set's options (0-based, as in the JSON arrays).
type SetAnswer struct {
	Set      int  `json:"set"`
	Required bool `json:"required"`
	// Option is the option answered; -1 when Skipped.
	Option int `json:"option"`
	// Credentials are the option's credential query ids; empty when
	// Skipped.
	Credentials []string `json:"credentials,omitempty"`
	// Skipped is true for an optional set the holder left out.
	Skipped bool `json:"skipped,omitempty"`
}

// CheckAnswered checks that ids, the credential query ids a response
// presents, are exactly what one selection of q's credential sets asks for
// (see [DCQLQuery.Answered]).
func (q *DCQLQuery) CheckAnswered(ids []string) error {
	_, err := q.Answered(ids)
	return err
}

// Answered checks that ids, the credential query ids a response presents,
// are exactly what one selection of q's credential sets asks for: one
// option of every required set and at most one of every optional set,
// whose credential queries together are ids, no more and no fewer. So a
// response satisfies a required option and holds no credential the
// verifier did not ask for. It returns, per set of [DCQLQuery.Sets], the
// option answered or that an optional set was skipped; when several
// selections fit (options that share credential queries), the one that
// prefers each set's earlier options, and answering an optional set over
// skipping it. Call it on a query that passed Validate; the error says
// what is missing or extra, in the verifier's ids.
func (q *DCQLQuery) Answered(ids []string) ([]SetAnswer, error) {
	index := make(map[string]int, len(q.Credentials))
	for i, c := range q.Credentials {
		index[c.ID] = i
	}
	var got uint64
	for _, id := range ids {
		i, ok := index[id]
		if !ok {
			return nil, fmt.Errorf("the response holds %q, which is not a credential query of the request", id)
		}
		if got&(1<<i) != 0 {
			return nil, fmt.Errorf("the response holds %q twice", id)
		}
		got |= 1 << i
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("the response presents no credential (a holder who declines answers access_denied)")
	}
	sets := q.Sets()
	// Per set, the options wholly within the response, as bit masks with
	// their option index; an optional set may also be left out (mask 0,
	// option -1).
	type cand struct {
		mask   uint64
		option int
	}
	cands := make([][]cand, len(sets))
	var reachable uint64
	for i, s := range sets {
		for oi, o := range s.Options {
			var m uint64
			for _, id := range o {
				m |= 1 << index[id]
			}
			if m&^got == 0 && !slices.ContainsFunc(cands[i], func(c cand) bool { return c.mask == m }) {
				cands[i] = append(cands[i], cand{m, oi})
				reachable |= m
			}
		}
		if len(cands[i]) == 0 && s.IsRequired() {
			return nil, fmt.Errorf("the response answers no option of credential set %d (%s)", i+1, optionWords(s))
		}
		if !s.IsRequired() {
			cands[i] = append(cands[i], cand{0, -1})
		}
	}
	if extra := got &^ reachable; extra != 0 {
		return nil, fmt.Errorf("the response holds %s, which no option it answers asks for", strings.Join(q.idsOf(extra), ", "))
	}
	// Exact cover: pick one candidate per set so that the union is got.
	// Failed (set, covered) states are remembered, so the search is
	// bounded by sets × distinct unions, and by maxCoverSteps.
	failed := map[[2]uint64]bool{}
	steps := 0
	pick := make([]int, len(sets))
	var search func(i int, covered uint64) (bool, error)
	search = func(i int, covered uint64) (bool, error) {
		if i == len(sets) {
			return covered == got, nil
		}
		k := [2]uint64{uint64(i), covered}
		if failed[k] {
			return false, nil
		}
		for _, c := range cands[i] {
			if steps++; steps > maxCoverSteps {
				return false, fmt.Errorf("the request's credential sets are too intricate to check this response (more than %d steps)", maxCoverSteps)
			}
			pick[i] = c.option
			ok, err := search(i+1, covered|c.mask)
			if ok || err != nil {
				return ok, err
			}
		}
		failed[k] = true
		return false, nil
	}
	ok, err := search(0, 0)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("the response holds %s together, which no single choice of options asks for", strings.Join(q.idsOf(got), ", "))
	}
	out := make([]SetAnswer, len(sets))
	for i, s := range sets {
		out[i] = SetAnswer{Set: i, Required: s.IsRequired(), Option: pick[i], Skipped: pick[i] < 0}
		if pick[i] >= 0 {
			out[i].Credentials = slices.Clone(s.Options[pick[i]])
		}
	}
	return out, nil
}

func (q *DCQLQuery) idsOf(m uint64) []string {
	var out []string
	for m != 0 {
		i := bits.TrailingZeros64(m)
		out = append(out, fmt.Sprintf("%q", q.Credentials[i].ID))
		m &^= 1 << i
	}
	return out
}

func optionWords(s CredentialSetQuery) string {
	parts := make([]string, len(s.Options))
	for i, o := range s.Options {
		parts[i] = strings.Join(o, " and ")
	}
	return strings.Join(parts, ", or ")
}
