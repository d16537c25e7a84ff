package openid4vp

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/medid/medid/credentials/sdjwt"
)

// FuzzDCQLQuery varies the dcql_query of a request (from an untrusted
// verifier, read by the wallet; or posted to the verifier's admin API):
// Validate never panics, and for a query it accepts, Options, SDPaths,
// MatchesSDJWT and Unrequested never panic, every option of a query with
// claim_sets asks for claims of that query only, and Unrequested never
// reports a path that was not disclosed. For credential_sets: CheckAnswered
// never panics on the query's ids in any order or subset, accepts the
// union of the first option of every required set (the wallet's default
// answer), and accepts nothing that misses a required set or holds an id
// that is not a credential query.
func FuzzDCQLQuery(f *testing.F) {
	for _, s := range []string{
		`{"credentials":[{"id":"a","format":"dc+sd-jwt","meta":{"vct_values":["urn:medid:vct:AllergyIntoleranceCredential"]},"claims":[{"id":"x","path":["code","display"]},{"id":"y","path":["reaction",0,"manifestation"]}],"claim_sets":[["x","y"],["x"]]}]}`,
		`{"credentials":[{"id":"a","format":"dc+sd-jwt","meta":{"vct_values":["v"]},"claims":[{"path":["reaction",null,"manifestation"]}]}]}`,
		`{"credentials":[{"id":"c1","format":"vc+jwt","meta":{"type_values":[["VerifiableCredential","AllergyIntoleranceCredential"]]},"claims":[{"path":["credentialSubject","allergy"]}]}]}`,
		`{"credentials":[{"id":"a","format":"dc+sd-jwt","meta":{"vct_values":["v"]},"claims":[{"id":"x","path":["a"]}],"claim_sets":[["z"]]}]}`,
		`{"credentials":[{"id":"a","format":"vc+jwt","meta":{"type_values":[["A"]]}},{"id":"b","format":"vc+jwt","meta":{"type_values":[["B"]]}},{"id":"c","format":"vc+jwt","meta":{"type_values":[["C"]]}}],` +
			`"credential_sets":[{"options":[["a"],["b","c"]]},{"options":[["c"]],"required":false}]}`,
		`{"credentials":[{"id":"a","format":"vc+jwt","meta":{"type_values":[["A"]]}},{"id":"b","format":"vc+jwt","meta":{"type_values":[["B"]]}}],` +
			`"credential_sets":[{"options":[["a","b"]],"required":false},{"options":[["b"],["a"]],"required":true}]}`,
		`{"credentials":[{"id":"a","format":"vc+jwt","meta":{"type_values":[["A"]]}}],"credential_sets":[{"options":[["a","a"]]},{"options":[]}]}`,
		`{"credentials":[{"id":"a","format":"vc+jwt","meta":{"type_values":[["A"]]},"multiple":true,"require_cryptographic_holder_binding":false,` +
			`"trusted_authorities":[{"type":"medid_issuer","values":["did:key:x"]},{"type":"aki","values":["s9tIpPmhxdiuNkHMEWNpYim8S8Y"]}]}],` +
			`"credential_sets":[{"options":[["a"]],"purpose":{"en":"treatment"}}]}`,
		`{"credentials":[{"id":"a","format":"dc+sd-jwt","meta":{"vct_values":["v"]},"claims":[{"path":["x"],"values":[1]}],"trusted_authorities":[{"type":"x","values":[""]}]}]}`,
	} {
		f.Add([]byte(s))
	}
	sd := &sdjwt.VerifiedVC{
		Verified: sdjwt.Verified{
			Claims: map[string]any{"code": map[string]any{"display": "Penicillin"}, "reaction": []any{map[string]any{"manifestation": "anaphylaxis"}, map[string]any{"manifestation": "urticaria"}}},
			Disclosed: []sdjwt.Path{{"code"}, {"code", "display"}, {"reaction"}, {"reaction", 0}, {"reaction", 0, "manifestation"},
				{"reaction", 1}, {"reaction", 1, "manifestation"}},
		},
		Credential: &sdjwt.Credential{VCT: "urn:medid:vct:AllergyIntoleranceCredential"},
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var q DCQLQuery
		if json.Unmarshal(b, &q) != nil || q.Validate() != nil {
			return
		}
		checkAnswered(t, &q)
		// What this package writes, it reads back the same (the strict
		// reader refuses only members it does not know).
		again, err := json.Marshal(&q)
		if err != nil {
			t.Fatal(err)
		}
		var q2 DCQLQuery
		if err := json.Unmarshal(again, &q2); err != nil {
			t.Fatalf("re-reading %s: %v", again, err)
		}
		if err := q2.Validate(); err != nil {
			t.Fatalf("re-read %s no longer validates: %v", again, err)
		}
		if b2, _ := json.Marshal(&q2); string(b2) != string(again) {
			t.Fatalf("round trip changed the query:\n%s\n%s", again, b2)
		}
		checkable := q.Checkable() == nil
		for _, c := range q.Credentials {
			if len(c.TrustedAuthorities) == 0 && !c.TrustsIssuer("did:key:x") {
				t.Fatalf("%s names no trusted authority, yet refuses an issuer", c.ID)
			}
			if c.TrustsIssuer("did:key:x") && !slices.ContainsFunc(c.TrustedAuthorities, func(a TrustedAuthority) bool { return a.Type == AuthorityMedidIssuer }) && len(c.TrustedAuthorities) > 0 {
				t.Fatalf("%s trusts an issuer without a medid_issuer authority", c.ID)
			}
			if (c.AuthoritiesWords() == "") != (len(c.TrustedAuthorities) == 0) {
				t.Fatalf("%s: authority words %q", c.ID, c.AuthoritiesWords())
			}
			if checkable && (!c.HolderBinding() || slices.ContainsFunc(c.TrustedAuthorities, func(a TrustedAuthority) bool { return a.Type != AuthorityMedidIssuer })) {
				t.Fatalf("Checkable accepted %s, which it cannot check", c.ID)
			}
		}
		for _, c := range q.Credentials {
			ids := map[string]bool{}
			for _, cl := range c.Claims {
				ids[cl.ID] = true
			}
			for _, o := range c.Options() {
				if len(c.ClaimSets) > 0 && len(o.Claims) == 0 {
					t.Fatalf("an option of %s asks for nothing", c.ID)
				}
				for _, cl := range o.Claims {
					if !ids[cl.ID] {
						t.Fatalf("option claim %q is not a claim of %s", cl.ID, c.ID)
					}
				}
				o.SDPaths()
				o.MatchesSDJWT(sd)
				o.ClaimValuesSDJWT(sd)
				for _, x := range o.Unrequested(sd) {
					found := false
					for _, d := range sd.Disclosed {
						found = found || d.String() == x.String()
					}
					if !found {
						t.Fatalf("Unrequested reports %s, which was not disclosed", x)
					}
				}
			}
		}
	})
}

// checkAnswered holds FuzzDCQLQuery's credential_sets invariants for a
// valid query q.
func checkAnswered(t *testing.T, q *DCQLQuery) {
	var all []string
	for _, c := range q.Credentials {
		all = append(all, c.ID)
	}
	sets := q.Sets()
	// The wallet's default: the first option of every required set (or of
	// the first set when none is required).
	var def []string
	add := func(o []string) {
		for _, id := range o {
			if !slices.Contains(def, id) {
				def = append(def, id)
			}
		}
	}
	for _, s := range sets {
		if s.IsRequired() {
			add(s.Options[0])
		}
	}
	if len(def) == 0 {
		add(sets[0].Options[0])
	}
	if err := q.CheckAnswered(def); err != nil {
		t.Fatalf("CheckAnswered(%v) refused the first options: %v", def, err)
	}
	// Every prefix and suffix of the ids, and with an unknown one.
	for i := 0; i <= len(all); i++ {
		for _, ids := range [][]string{all[:i], all[i:], append(slices.Clone(all[:i]), "not-a-query")} {
			answered, err := q.Answered(ids)
			if err != nil {
				continue
			}
			if len(ids) == 0 || slices.Contains(ids, "not-a-query") {
				t.Fatalf("Answered(%v) accepted it", ids)
			}
			// The selection it reports is one: an option (or a skip)
			// per set, whose ids together are exactly ids.
			covered := map[string]bool{}
			for i, a := range answered {
				switch {
				case a.Set != i || (a.Skipped && (a.Required || a.Option != -1)):
					t.Fatalf("Answered(%v): set %d reported as %+v", ids, i, a)
				case !a.Skipped && (a.Option < 0 || a.Option >= len(sets[i].Options) || !slices.Equal(a.Credentials, sets[i].Options[a.Option])):
					t.Fatalf("Answered(%v): set %d reported as %+v", ids, i, a)
				}
				for _, id := range a.Credentials {
					covered[id] = true
				}
			}
			if len(covered) != len(ids) {
				t.Fatalf("Answered(%v) reports options covering %v", ids, covered)
			}
			for n, s := range sets {
				if !s.IsRequired() {
					continue
				}
				ok := false
				for _, o := range s.Options {
					within := true
					for _, id := range o {
						within = within && slices.Contains(ids, id)
					}
					ok = ok || within
				}
				if !ok {
					t.Fatalf("CheckAnswered(%v) accepted a response that answers no option of required set %d", ids, n+1)
				}
			}
		}
	}
}
