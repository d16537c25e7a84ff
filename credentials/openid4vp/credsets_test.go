package openid4vp

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/medid/medid/credentials/credtest"
	"github.com/medid/medid/credentials/key"
)

// setsQuery is a query for an allergy record and one of two identity
// records (pid preferred), and optionally an immunization record.
func setsQuery() DCQLQuery {
	no := false
	return DCQLQuery{
		Credentials: []CredentialQuery{
			NewQuery("allergy", allergyType, "allergy"),
			NewQuery("pid", "PatientIdentityCredential"),
			NewQuery("card", "InsuranceCardCredential"),
			NewQuery("vaccine", "ImmunizationCredential", "vaccine"),
		},
		CredentialSets: []CredentialSetQuery{
			{Options: [][]string{{"allergy"}}},
			{Options: [][]string{{"pid"}, {"card"}}},
			{Options: [][]string{{"vaccine"}}, Required: &no},
		},
	}
}

func TestCredentialSetsValidate(t *testing.T) {
	for _, tc := range []struct {
		name, sets string // the credential_sets JSON of setsQuery's credentials
		want       string // "" = valid, else a part of the error
	}{
		{"absent", ``, ""},
		{"valid", `[{"options":[["allergy"]]},{"options":[["pid"],["card"]]},{"options":[["vaccine"]],"required":false}]`, ""},
		{"empty", `[]`, "empty credential_sets"},
		{"no options", `[{"options":[]}]`, "no options"},
		{"options missing", `[{"required":true}]`, "no options"},
		{"empty option", `[{"options":[[]]}]`, "empty option"},
		{"unknown id", `[{"options":[["allergy","x"]]}]`, `names "x"`},
		{"id twice", `[{"options":[["pid","pid"]]}]`, "twice"},
		{"too many options", `[{"options":[` + strings.Repeat(`["pid"],`, MaxSetOptions) + `["card"]]}]`, "at most"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := setsQuery()
			q.CredentialSets = nil
			b, _ := json.Marshal(q)
			s := string(b)
			if tc.sets != "" {
				s = strings.TrimSuffix(s, "}") + `,"credential_sets":` + tc.sets + `}`
			}
			var got DCQLQuery
			if err := json.Unmarshal([]byte(s), &got); err != nil {
				t.Fatal(err)
			}
			err := got.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("Validate() = %v, want nil", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("Validate() = %v, want an error with %q", err, tc.want)
			}
		})
	}
	many := DCQLQuery{}
	for i := range MaxCredentialQueries + 1 {
		many.Credentials = append(many.Credentials, NewQuery(fmt.Sprint("q", i), allergyType))
	}
	if err := many.Validate(); err == nil || !strings.Contains(err.Error(), "at most") {
		t.Errorf("%d credential queries: Validate() = %v, want refused", len(many.Credentials), err)
	}
}

func TestCheckAnswered(t *testing.T) {
	no := false
	// Overlapping options: "a" serves two sets; "b and c" only together.
	overlap := DCQLQuery{
		Credentials: []CredentialQuery{NewQuery("a", "A"), NewQuery("b", "B"), NewQuery("c", "C"), NewQuery("d", "D")},
		CredentialSets: []CredentialSetQuery{
			{Options: [][]string{{"a"}, {"b", "c"}}},
			{Options: [][]string{{"a", "d"}, {"d"}}, Required: &no},
		},
	}
	plain := DCQLQuery{Credentials: []CredentialQuery{NewQuery("a", "A"), NewQuery("b", "B")}}
	for _, tc := range []struct {
		name string
		q    DCQLQuery
		ids  []string
		want string // "" = answered, else a part of the error
		// picked is, for an answered response, the option taken per set
		// (-1 = skipped); nil to not check.
		picked []int
	}{
		{"required and optional", setsQuery(), []string{"allergy", "pid", "vaccine"}, "", []int{0, 0, 0}},
		{"optional left out", setsQuery(), []string{"allergy", "card"}, "", []int{0, 1, -1}},
		{"second option", setsQuery(), []string{"card", "allergy"}, "", []int{0, 1, -1}},
		{"required set unanswered", setsQuery(), []string{"allergy", "vaccine"}, "no option of credential set 2 (pid, or card)", nil},
		{"both options of one set", setsQuery(), []string{"allergy", "pid", "card"}, `"allergy", "pid", "card" together`, nil},
		{"not a query", setsQuery(), []string{"allergy", "pid", "passport"}, `"passport", which is not a credential query`, nil},
		{"nothing", setsQuery(), nil, "no credential", nil},
		{"twice", setsQuery(), []string{"allergy", "pid", "pid"}, "twice", nil},
		{"without sets every query", plain, []string{"a", "b"}, "", nil},
		{"without sets one missing", plain, []string{"a"}, "no option of credential set 2", nil},
		{"shared id", overlap, []string{"a", "d"}, "", []int{0, 0}}, // a for both sets, then d: a and d preferred over d
		{"shared id alone", overlap, []string{"a"}, "", []int{0, -1}},
		{"pair", overlap, []string{"b", "c"}, "", []int{1, -1}},
		{"pair and optional", overlap, []string{"b", "c", "d"}, "", []int{1, 1}},
		{"half a pair", overlap, []string{"a", "b"}, `"b", which no option`, nil},
		{"everything", overlap, []string{"a", "b", "c", "d"}, "", []int{1, 0}}, // b and c, then a and d
		{"two options of the first set", overlap, []string{"a", "b", "c"}, "together", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.q.Validate(); err != nil {
				t.Fatal(err)
			}
			got, err := tc.q.Answered(tc.ids)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("Answered(%v) = %v, want nil", tc.ids, err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("Answered(%v) = %v, want an error with %q", tc.ids, err, tc.want)
			}
			if (err == nil) != (tc.q.CheckAnswered(tc.ids) == nil) {
				t.Errorf("CheckAnswered(%v) and Answered disagree", tc.ids)
			}
			if tc.picked == nil || err != nil {
				return
			}
			var picked []int
			for i, a := range got {
				picked = append(picked, a.Option)
				if a.Set != i || a.Skipped != (a.Option < 0) || a.Required != tc.q.Sets()[i].IsRequired() {
					t.Errorf("set %d answered as %+v", i, a)
				}
				if a.Option >= 0 && strings.Join(a.Credentials, ",") != strings.Join(tc.q.Sets()[i].Options[a.Option], ",") {
					t.Errorf("set %d: credentials %v, want option %d's", i, a.Credentials, a.Option)
				}
			}
			if fmt.Sprint(picked) != fmt.Sprint(tc.picked) {
				t.Errorf("Answered(%v) picked options %v, want %v", tc.ids, picked, tc.picked)
			}
		})
	}
}

// TestCheckAnsweredBounded: the largest query Validate accepts (32
// optional sets of 32 one-credential options over 64 queries), answered
// with all 64 credentials, which no selection covers (a set gives at most
// one), is refused within the step bound.
func TestCheckAnsweredBounded(t *testing.T) {
	no := false
	q := DCQLQuery{}
	var all []string
	for i := range MaxCredentialQueries {
		id := fmt.Sprint("q", i)
		q.Credentials = append(q.Credentials, NewQuery(id, allergyType))
		all = append(all, id)
	}
	for s := range MaxCredentialSets {
		set := CredentialSetQuery{Required: &no}
		for o := range MaxSetOptions {
			set.Options = append(set.Options, []string{all[(s+o*2)%len(all)]})
		}
		q.CredentialSets = append(q.CredentialSets, set)
	}
	if err := q.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := q.CheckAnswered(all); err == nil {
		t.Error("64 credentials answered 32 one-credential sets")
	}
}

// TestVerifierCredentialSets: the verifier accepts a response answering
// the required sets (with or without the optional one) and refuses one
// that misses a required set or adds a credential of another option.
func TestVerifierCredentialSets(t *testing.T) {
	ctx := context.Background()
	iss, holder := credtest.NewParty(t, key.Ed25519, "issuer"), credtest.NewParty(t, key.Ed25519, "holder")
	creds := map[string]string{
		"allergy": issue(t, iss, holder, allergyType, map[string]any{"allergy": "penicillin"}),
		"pid":     issue(t, iss, holder, "PatientIdentityCredential", map[string]any{"name": "Ana"}),
		"card":    issue(t, iss, holder, "InsuranceCardCredential", map[string]any{"number": "42"}),
		"vaccine": issue(t, iss, holder, "ImmunizationCredential", map[string]any{"vaccine": "MMR"}),
	}
	v, _ := newVerifier(t)
	var c Client
	for _, tc := range []struct {
		name string
		send []string
		want string // "" = valid, else a part of the error description
		// sets is the result's credential_sets JSON for a valid answer.
		sets string
	}{
		{"preferred option and optional", []string{"allergy", "pid", "vaccine"}, "",
			`[{"set":0,"required":true,"option":0,"credentials":["allergy"]},{"set":1,"required":true,"option":0,"credentials":["pid"]},{"set":2,"required":false,"option":0,"credentials":["vaccine"]}]`},
		{"second option, optional declined", []string{"allergy", "card"}, "",
			`[{"set":0,"required":true,"option":0,"credentials":["allergy"]},{"set":1,"required":true,"option":1,"credentials":["card"]},{"set":2,"required":false,"option":-1,"skipped":true}]`},
		{"required set missing", []string{"allergy"}, "no option of credential set 2", ""},
		{"both options", []string{"allergy", "pid", "card"}, "together", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, err := v.CreateRequest(setsQuery())
			if err != nil {
				t.Fatal(err)
			}
			req, err := c.FetchRequest(ctx, st.URI)
			if err != nil {
				t.Fatal(err)
			}
			if len(req.DCQLQuery.CredentialSets) != 3 || req.DCQLQuery.CredentialSets[2].IsRequired() {
				t.Fatalf("the wallet reads credential sets %+v", req.DCQLQuery.CredentialSets)
			}
			token := map[string][]string{}
			for _, id := range tc.send {
				token[id] = []string{present(t, holder, req.ClientID, req.Nonce, creds[id])}
			}
			_, err = c.Respond(ctx, req, token)
			res, _ := v.Result(st.State)
			if tc.want == "" {
				if err != nil || res.Status != StatusValid || len(res.Claims) != len(tc.send) {
					t.Fatalf("Respond = %v, result %+v; want valid with %d credentials", err, res, len(tc.send))
				}
				if b, _ := json.Marshal(res.CredentialSets); string(b) != tc.sets {
					t.Errorf("result credential_sets = %s\nwant %s", b, tc.sets)
				}
				return
			}
			if code(err) != ErrCodeInvalidRequest || res.Status != StatusInvalid || !strings.Contains(res.Description, tc.want) {
				t.Errorf("Respond = %v, result %s %q; want invalid_request with %q", err, res.Status, res.Description, tc.want)
			}
			if len(res.Claims) != 0 {
				t.Errorf("a refused response left claims in the result: %v", res.Claims)
			}
		})
	}
}
