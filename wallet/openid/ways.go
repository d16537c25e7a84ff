package openid

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/medid/medid/credentials/openid4vp"
	"github.com/medid/medid/credentials/sdjwt"
	"github.com/medid/medid/wallet"
)

// MaxWays bounds [PresentationRequest.Ways]: a request whose credential
// sets and claim sets combine in more ways is offered its first MaxWays,
// in the verifier's order of preference.
const MaxWays = 32

// CredentialSet is one need of the verifier (a DCQL credential set; a
// request without credential_sets has one required set per credential
// query): the alternative groups of credential queries that meet it.
type CredentialSet struct {
	// Required is false for a set the holder may leave out.
	Required bool
	// Options are the alternative groups of credential query ids, in the
	// verifier's order of preference.
	Options [][]string
	// Held reports whether the wallet can answer at least one option.
	Held bool
}

// Way is one way of answering the request with what the wallet holds: one
// option of every required credential set, one of every optional set the
// wallet can answer, and for each credential query so chosen one of its
// claim sets. Ways differ in which records and which fields leave.
type Way struct {
	// Parts are the credentials this way sends, in the request's order.
	Parts []Part
	// Optional lists the optional credential sets (indexes into
	// PresentationRequest.Sets) this way answers: the holder may leave
	// each out ([Answer].LeaveOut), which drops the parts only it needs.
	Optional []int
}

// Part is one credential a [Way] sends.
type Part struct {
	// Query is the credential query id.
	Query string
	// Types are the asked credential types (as in [QueryMatch]).
	Types []string
	// ClaimSet is the index of the query's claim set used (0 when the
	// query has no claim_sets).
	ClaimSet int
	// Claims are the claim paths this part asks for (those of ClaimSet),
	// e.g. code.display; empty when the query names no claims.
	Claims []string
	// Sets are the credential sets (indexes into PresentationRequest.Sets)
	// whose chosen option holds this query; Required is true when one of
	// them is required.
	Sets     []int
	Required bool
	// Multiple is true when the verifier accepts several credentials for
	// this part (DCQL multiple): the holder may send more than one of
	// the Candidates ([Answer].Several); one is sent unless they choose.
	Multiple bool
	// Candidates are the held credentials that answer this part, newest
	// first (tokens left out).
	Candidates []wallet.Credential
	query      openid4vp.CredentialQuery // the query narrowed to ClaimSet
}

// Answer is how the holder answers a request: the way, the records, and
// the optional parts left out. The zero Answer is the verifier's preferred
// way the wallet can answer, with the newest records and every optional
// part.
type Answer struct {
	// Way is an index into PresentationRequest.Ways.
	Way int
	// Credentials maps a credential query id to the chosen credential id
	// (or a unique prefix of it); a part without a choice sends its first
	// candidate.
	Credentials map[string]string
	// LeaveOut lists optional credential sets (indexes into
	// PresentationRequest.Sets) not to answer.
	LeaveOut []int
	// Several maps the query id of a part that accepts several
	// credentials ([Part].Multiple) to the credentials to send (ids or
	// unique prefixes, each once); it overrides Credentials for that part.
	// Without it such a part sends one credential, as any other: more
	// leaves the wallet only when the holder chooses it.
	Several map[string][]string
}

// Sending is one credential an [Answer] sends, and exactly what of it
// leaves the wallet.
type Sending struct {
	Part       Part
	Credential wallet.Credential
	// Whole is true for a vc+jwt credential: it cannot be split, so every
	// claim in it leaves, whatever the query asked.
	Whole bool
	// Disclosed are the fields of an SD-JWT VC that leave (leaf claims,
	// with their values), and Withheld the paths of those kept back.
	// Empty when Whole.
	Disclosed []Field
	Withheld  []string
}

// Field is a claim that leaves: its path (code.display,
// reaction.0.manifestation) and value.
type Field struct {
	Path  string
	Value any
}

// ways enumerates the ways of answering q with the candidates per
// credential query and claim set (cands[query id][claim set]).
func ways(q *openid4vp.DCQLQuery, cands map[string][][]wallet.Credential) ([]CredentialSet, []Way) {
	sets := q.Sets()
	held := func(id string) bool {
		for _, c := range cands[id] {
			if len(c) > 0 {
				return true
			}
		}
		return false
	}
	out := make([]CredentialSet, len(sets))
	// choices[i] are the answerable options of set i (indexes), with -1
	// (none) for an optional set the wallet cannot answer.
	choices := make([][]int, len(sets))
	for i, s := range sets {
		out[i] = CredentialSet{Required: s.IsRequired(), Options: s.Options}
		for oi, o := range s.Options {
			if !slices.ContainsFunc(o, func(id string) bool { return !held(id) }) {
				choices[i] = append(choices[i], oi)
			}
		}
		out[i].Held = len(choices[i]) > 0
		if !out[i].Held {
			if out[i].Required {
				return out, nil
			}
			choices[i] = []int{-1}
		}
	}
	byID := map[string]openid4vp.CredentialQuery{}
	for _, c := range q.Credentials {
		byID[c.ID] = c
	}
	var result []Way
	seen := map[string]bool{}
	pick := make([]int, len(sets))
	var bySets func(i int) bool
	bySets = func(i int) bool {
		if i < len(sets) {
			for _, o := range choices[i] {
				pick[i] = o
				if !bySets(i + 1) {
					return false
				}
			}
			return true
		}
		// The credential queries of this selection, in the request's
		// order, with the sets that bring each.
		var parts []Part
		var optional []int
		for _, c := range q.Credentials {
			p := Part{Query: c.ID}
			for si, o := range pick {
				if o >= 0 && slices.Contains(sets[si].Options[o], c.ID) {
					p.Sets = append(p.Sets, si)
					p.Required = p.Required || sets[si].IsRequired()
				}
			}
			if len(p.Sets) > 0 {
				parts = append(parts, p)
			}
		}
		for si, o := range pick {
			if o >= 0 && !sets[si].IsRequired() {
				optional = append(optional, si)
			}
		}
		return byClaims(parts, 0, byID, cands, optional, seen, &result)
	}
	bySets(0)
	return out, result
}

// byClaims extends parts[i:] with every claim set its query's candidates
// answer and appends the finished ways to result; false once MaxWays are
// found.
func byClaims(parts []Part, i int, byID map[string]openid4vp.CredentialQuery, cands map[string][][]wallet.Credential,
	optional []int, seen map[string]bool, result *[]Way) bool {
	if i == len(parts) {
		var key strings.Builder
		for _, p := range parts {
			fmt.Fprintf(&key, "%s/%d/%v/%v;", p.Query, p.ClaimSet, p.Sets, p.Required)
		}
		if seen[key.String()] {
			return true
		}
		seen[key.String()] = true
		w := Way{Parts: make([]Part, len(parts)), Optional: slices.Clone(optional)}
		for j, p := range parts {
			p.Sets = slices.Clone(p.Sets)
			w.Parts[j] = p
		}
		*result = append(*result, w)
		return len(*result) < MaxWays
	}
	q := byID[parts[i].Query]
	for ci, opt := range q.Options() {
		c := cands[q.ID][ci]
		if len(c) == 0 {
			continue
		}
		p := &parts[i]
		p.ClaimSet, p.Candidates, p.query, p.Claims = ci, c, opt, nil
		p.Types = queryTypes(&q)
		p.Multiple = q.Multiple
		for _, cl := range opt.Claims {
			p.Claims = append(p.Claims, cl.PathString())
		}
		if !byClaims(parts, i+1, byID, cands, optional, seen, result) {
			return false
		}
	}
	return true
}

// queryTypes returns the credential types q asks for, for people.
func queryTypes(q *openid4vp.CredentialQuery) []string {
	var types []string
	if len(q.Meta.TypeValues) > 0 {
		types = slices.Clone(q.Meta.TypeValues[0])
	}
	for _, vct := range q.Meta.VCTValues {
		types = append(types, sdjwt.CredentialType(vct))
	}
	return types
}

// ErrNothingToSend is returned by [PresentationRequest.Plan] and [Respond]
// for an answer that leaves out every part of the request (only possible
// when every credential set is optional): to share nothing, decline.
var ErrNothingToSend = errors.New("this answer leaves out every part of the request: to share nothing, decline")

// Plan returns exactly what answering with a would send: per credential,
// the record and the fields that leave and are kept back. It changes
// nothing and sends nothing. Errors: [ErrNoMatch] when the wallet cannot
// answer (some required credential set has no option its credentials
// answer), ErrNothingToSend, a bad Way index, leaving out a required set, a chosen credential
// that does not answer its part, or an answer that would send nothing.
func (pr *PresentationRequest) Plan(h Holder, a Answer) ([]Sending, error) {
	if len(pr.Ways) == 0 {
		var missing []string
		for _, m := range pr.Queries {
			if len(m.Candidates) == 0 {
				s := fmt.Sprintf("%s (%s)", m.ID, strings.Join(m.Types, ", "))
				if m.Untrusted > 0 {
					s += fmt.Sprintf(": %d held would, but %s", m.Untrusted, m.Authorities)
				}
				missing = append(missing, s)
			}
		}
		return nil, fmt.Errorf("%w: nothing held answers %s", ErrNoMatch, strings.Join(missing, "; "))
	}
	if a.Way < 0 || a.Way >= len(pr.Ways) {
		return nil, fmt.Errorf("there are %d ways to answer this request; way %d is not one of them", len(pr.Ways), a.Way+1)
	}
	w := pr.Ways[a.Way]
	for _, s := range a.LeaveOut {
		if s < 0 || s >= len(pr.Sets) || pr.Sets[s].Required {
			return nil, fmt.Errorf("credential set %d is not an optional part of this request: it cannot be left out", s+1)
		}
	}
	var out []Sending
	for _, p := range w.Parts {
		if !p.Required && !slices.ContainsFunc(p.Sets, func(s int) bool { return !slices.Contains(a.LeaveOut, s) }) {
			continue // only left-out optional sets asked for it
		}
		wants := []string{a.Credentials[p.Query]}
		if several := a.Several[p.Query]; len(several) > 0 {
			if !p.Multiple {
				return nil, fmt.Errorf("the verifier's query %s takes one credential: choose one, not %d", p.Query, len(several))
			}
			if len(several) > openid4vp.MaxMultiple {
				return nil, fmt.Errorf("the verifier's query %s takes at most %d credentials, not %d", p.Query, openid4vp.MaxMultiple, len(several))
			}
			wants = several
		}
		sent := map[string]bool{}
		for _, want := range wants {
			c, err := chosen(pr.getter(h), p, want)
			if err != nil {
				return nil, err
			}
			if sent[c.ID] {
				return nil, fmt.Errorf("credential %s is chosen twice for %s: the verifier refuses a credential sent twice", c.ID, p.Query)
			}
			sent[c.ID] = true
			s := Sending{Part: p, Credential: c}
			if p.query.Format != openid4vp.FormatSDJWT {
				s.Whole = true
			} else if err := s.fields(); err != nil {
				return nil, err
			}
			s.Credential.Token = "" // the caller gets what it shows, not the token
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return nil, ErrNothingToSend
	}
	return out, nil
}

// chosen returns the credential (with its token) a part sends: the one
// whose id starts with want among its candidates, else the first.
func chosen(get func(id string) (wallet.Credential, error), p Part, want string) (wallet.Credential, error) {
	id := p.Candidates[0].ID
	if want != "" {
		id = ""
		for _, c := range p.Candidates {
			if strings.HasPrefix(c.ID, want) {
				if id != "" {
					return wallet.Credential{}, fmt.Errorf("credential %q is ambiguous for %s: give more of its id", want, p.Query)
				}
				id = c.ID
			}
		}
		if id == "" {
			return wallet.Credential{}, fmt.Errorf("credential %s does not answer the verifier's query %s as this way asks it", want, p.Query)
		}
	}
	return get(id)
}

// getter returns how pr's credentials are read with their tokens: the
// holder's own, or for a request answered for someone (pr.For) those
// held for them, through h's Representative side.
func (pr *PresentationRequest) getter(h Holder) func(id string) (wallet.Credential, error) {
	if pr.For == nil {
		return h.Credential
	}
	r, ok := h.(Representative)
	if !ok {
		return func(string) (wallet.Credential, error) {
			return wallet.Credential{}, errors.New("this request is answered for someone else, and the holder cannot act for anyone")
		}
	}
	hash := pr.For.Hash
	return func(id string) (wallet.Credential, error) { return r.HeldCredential(hash, id) }
}

// fields fills Disclosed and Withheld for an SD-JWT VC: what
// Holding.Present would send for the part's claims paths.
func (s *Sending) fields() error {
	h, err := sdjwt.Open(s.Credential.Token)
	if err != nil {
		return err
	}
	p, err := h.Present(s.Part.query.SDPaths(), nil)
	if err != nil {
		return err
	}
	disclosable := map[string]bool{}
	for _, d := range h.Paths {
		disclosable[d.String()] = true
	}
	shown := map[string]bool{}
	var leaves func(path sdjwt.Path, v any)
	leaves = func(path sdjwt.Path, v any) {
		switch v := v.(type) {
		case map[string]any:
			for _, k := range slices.Sorted(maps.Keys(v)) {
				if child := append(slices.Clone(path), k); !disclosable[child.String()] {
					leaves(child, v[k]) // visible with its parent
				}
			}
		case []any:
			for i, e := range v {
				if child := append(slices.Clone(path), i); !disclosable[child.String()] {
					leaves(child, e)
				}
			}
		default:
			if k := path.String(); !shown[k] {
				shown[k] = true
				s.Disclosed = append(s.Disclosed, Field{Path: k, Value: v})
			}
		}
	}
	for _, d := range p.Disclosed {
		v, _ := d.Lookup(h.Claims)
		leaves(d, v)
	}
	for _, w := range p.Withheld {
		s.Withheld = append(s.Withheld, w.String())
	}
	return nil
}

// Respond answers pr as a says (see [PresentationRequest.Plan]): each
// credential is presented for the verifier (aud = client_id) and request
// (nonce), an SD-JWT VC with only the Disclosures of the part's claims,
// and recorded in the holder's history before it is sent. A refusal by the
// verifier is a *openid4vp.ProtocolError.
func Respond(ctx context.Context, h Holder, pr *PresentationRequest, a Answer, hc *http.Client) error {
	plan, err := pr.Plan(h, a)
	if err != nil {
		return err
	}
	vpToken := map[string][]string{}
	if pr.For != nil {
		// For someone the holder acts for: one presentation per part,
		// signed by the representative, carrying the delegation.
		r, ok := h.(Representative)
		if !ok {
			return errors.New("this request is answered for someone else, and the holder cannot act for anyone")
		}
		for _, s := range plan {
			if s.Part.query.Format == openid4vp.FormatSDJWT {
				return fmt.Errorf("the verifier's query %s asks for an SD-JWT VC, which only its holder can present: %s must answer it", s.Part.Query, pr.For.PersonWords())
			}
			vp, err := PresentFor(ctx, r, PresentForRequest{Delegation: pr.For.Hash, CredentialIDs: []string{s.Credential.ID},
				Audience: pr.Request.ClientID, Nonce: pr.Request.Nonce})
			if err != nil {
				return err
			}
			vpToken[s.Part.Query] = append(vpToken[s.Part.Query], vp)
		}
		_, err = (&openid4vp.Client{HTTP: client(h, hc)}).Respond(ctx, pr.Request, vpToken)
		return err
	}
	for _, s := range plan {
		if s.Part.query.Format == openid4vp.FormatSDJWT {
			p, err := h.PresentSDJWT(ctx, wallet.PresentSDJWTRequest{CredentialID: s.Credential.ID, Disclose: s.Part.query.SDPaths(),
				Audience: pr.Request.ClientID, Nonce: pr.Request.Nonce})
			if err != nil {
				return err
			}
			vpToken[s.Part.Query] = append(vpToken[s.Part.Query], p.Token)
			continue
		}
		vp, err := h.Present(ctx, wallet.PresentRequest{CredentialIDs: []string{s.Credential.ID}, Audience: pr.Request.ClientID, Nonce: pr.Request.Nonce})
		if err != nil {
			return err
		}
		vpToken[s.Part.Query] = append(vpToken[s.Part.Query], vp)
	}
	_, err = (&openid4vp.Client{HTTP: client(h, hc)}).Respond(ctx, pr.Request, vpToken)
	return err
}
