package verify

import (
	"strings"
	"testing"
	"time"

	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/credentials/vc"
)

// FuzzCredential feeds arbitrary tokens to the pipeline: it must never panic
// and must return a Result that is invalid with a reason and a failing check,
// unless the token is the one genuine credential the test issued.
func FuzzCredential(f *testing.F) {
	w := fuzzWorld(f)
	v := w.verifier()
	valid := w.issue(w.credential())
	revoked := w.issue(w.credential(func(c *vc.Credential) { c.Status[0] = entry(revURL, "revocation", revokedIndex) }))
	parts := strings.Split(valid, ".")
	f.Add(valid)
	f.Add(revoked)
	f.Add(parts[0] + "." + parts[1] + ".")
	f.Add(parts[0] + ".." + parts[2])
	f.Add(strings.Replace(valid, ".", "..", 1))
	f.Add(w.present(w.holder, audience, nonce, valid))
	f.Fuzz(func(t *testing.T, tok string) {
		r := v.Credential(ctx, tok)
		if r == nil {
			t.Fatal("nil Result")
		}
		if r.Valid {
			if tok != valid {
				t.Fatalf("a token other than the issued credential verified: %q", tok)
			}
			return
		}
		if r.Reason == "" || r.Failed() == nil {
			t.Fatalf("invalid Result without a reason or failing check: %+v", r)
		}
	})
}

// FuzzPresentation is FuzzCredential for presentations.
func FuzzPresentation(f *testing.F) {
	w := fuzzWorld(f)
	v := w.verifier()
	cred := w.issue(w.credential())
	valid := w.present(w.holder, audience, nonce, cred, cred)
	f.Add(valid)
	f.Add(w.present(w.holder, audience, "other", cred))
	f.Add(cred)
	f.Fuzz(func(t *testing.T, tok string) {
		r := v.Presentation(ctx, tok, audience, nonce)
		if r == nil {
			t.Fatal("nil Result")
		}
		if r.Valid {
			if tok != valid {
				t.Fatalf("a token other than the signed presentation verified: %q", tok)
			}
			return
		}
		if r.Reason == "" || r.Failed() == nil {
			t.Fatalf("invalid Result without a reason or failing check: %+v", r)
		}
	})
}

// fuzzWorld is a world on a fixed clock: each fuzzing worker process builds
// its own, and the genuine tokens (Ed25519 signatures are deterministic)
// must come out the same in all of them.
func fuzzWorld(f *testing.F) *world {
	w := newWorld(f, key.Ed25519)
	w.clock.Set(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC))
	return w
}
