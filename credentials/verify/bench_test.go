package verify

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/credentials/sdjwt"
	"github.com/medid/medid/credentials/vc"
)

// These benchmarks are the pipeline's headline figures. Each measures, in
// the same function and for the same number of iterations, the bare
// signature verification(s) of the same token(s) with the standard library,
// and reports rate(pipeline)/rate(bare) as "x-bare": 1.0 would mean the
// pipeline costs nothing beyond the signatures. Run on one core:
//
//	go test -run '^$' -bench . -benchmem -cpu 1 ./credentials/verify

// bareVerifier returns a function doing what the signature check of tok
// costs at the very least: one ed25519.Verify or one SHA-256 plus
// ecdsa.Verify over the JWS signing input.
func bareVerifier(b *testing.B, tok string, pub key.PublicKey) func() bool {
	b.Helper()
	dot := strings.LastIndexByte(tok, '.')
	input := []byte(tok[:dot])
	sig, err := base64.RawURLEncoding.DecodeString(tok[dot+1:])
	if err != nil {
		b.Fatal(err)
	}
	switch pk := pub.Crypto().(type) {
	case ed25519.PublicKey:
		return func() bool { return ed25519.Verify(pk, input, sig) }
	case *ecdsa.PublicKey:
		r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
		return func() bool {
			h := sha256.Sum256(input)
			return ecdsa.Verify(pk, h[:], r, s)
		}
	}
	b.Fatalf("unexpected key type %T", pub.Crypto())
	return nil
}

// benchRatio times pipeline for b.N iterations (the reported ns/op) and
// the bare verifications for as many, and reports the ratio of the rates.
// The two are interleaved in blocks so that load from other processes on the
// machine falls on both alike. Where the OS can say (Linux), it also
// reports the ratio of thread CPU times, "x-bare-cpu", which the load of a
// shared machine does not distort (GC work on other threads is not in it).
func benchRatio(b *testing.B, pipeline func() *Result, bare ...func() bool) {
	b.Helper()
	defer lockThread()()
	if r := pipeline(); !r.Valid { // warm the caches and check the setting
		b.Fatalf("benchmark token does not verify: %s", r.Reason)
	}
	const block = 8
	var tp, tb, cp, cb time.Duration
	cpuOK := true
	b.ReportAllocs()
	b.ResetTimer()
	for done := 0; done < b.N; {
		n := min(block, b.N-done)
		c0, ok0 := threadCPU()
		start := time.Now()
		for range n {
			if r := pipeline(); !r.Valid {
				b.Fatal(r.Reason)
			}
		}
		tp += time.Since(start)
		c1, ok1 := threadCPU()
		b.StopTimer()
		c2, ok2 := threadCPU()
		start = time.Now()
		for range n {
			for _, f := range bare {
				if !f() {
					b.Fatal("bare signature does not verify")
				}
			}
		}
		tb += time.Since(start)
		c3, ok3 := threadCPU()
		b.StartTimer()
		cp += c1 - c0
		cb += c3 - c2
		cpuOK = cpuOK && ok0 && ok1 && ok2 && ok3
		done += n
	}
	b.ReportMetric(float64(tb.Nanoseconds())/float64(b.N), "bare-ns/op")
	b.ReportMetric(tb.Seconds()/tp.Seconds(), "x-bare")
	if cpuOK && cp > 0 {
		b.ReportMetric(cb.Seconds()/cp.Seconds(), "x-bare-cpu")
	}
}

func benchCredential(b *testing.B, alg key.Alg) {
	w := newWorld(b, alg)
	v := w.verifier(func(c *Config) { c.StatusCacheTTL = time.Hour })
	tok := w.issue(w.credential())
	benchRatio(b, func() *Result { return v.Credential(ctx, tok) }, bareVerifier(b, tok, w.issuer.Key.Public()))
}

// BenchmarkVerifyCredentialEdDSA verifies a vc+jwt from a did:key Ed25519
// issuer with two status entries, issuer DID and status lists cached.
func BenchmarkVerifyCredentialEdDSA(b *testing.B) { benchCredential(b, key.Ed25519) }

// BenchmarkVerifyCredentialES256 is the same with a P-256 issuer.
func BenchmarkVerifyCredentialES256(b *testing.B) { benchCredential(b, key.P256) }

// BenchmarkVerifyPresentation3 verifies a vp+jwt (Ed25519 holder) holding 3
// credentials (Ed25519 issuer, two status entries each): four signatures.
func BenchmarkVerifyPresentation3(b *testing.B) {
	w := newWorld(b, key.Ed25519)
	v := w.verifier(func(c *Config) { c.StatusCacheTTL = time.Hour })
	var toks []string
	var bare []func() bool
	for _, id := range []string{"urn:example:1", "urn:example:2", "urn:example:3"} {
		tok := w.issue(w.credential(func(c *vc.Credential) { c.ID = id }))
		toks = append(toks, tok)
		bare = append(bare, bareVerifier(b, tok, w.issuer.Key.Public()))
	}
	p := &vc.Presentation{Context: []string{vc.ContextV2}, Type: []string{vc.TypePresentation}, Holder: w.holder.DID, Credentials: toks}
	vp, err := vc.SignPresentation(p, w.holder.Key, w.holder.Kid, audience, nonce, vc.WithLifetime(24*time.Hour))
	if err != nil {
		b.Fatal(err)
	}
	bare = append(bare, bareVerifier(b, vp, w.holder.Key.Public()))
	benchRatio(b, func() *Result { return v.Presentation(ctx, vp, audience, nonce) }, bare...)
}

// BenchmarkVerifySDJWTPresentation verifies an SD-JWT VC presentation
// (Ed25519 issuer and holder) disclosing 5 claims with a KB-JWT, issuer DID
// and Token Status List cached, against the two bare signature
// verifications it contains (the issuer-signed JWT and the KB-JWT).
func BenchmarkVerifySDJWTPresentation(b *testing.B) {
	w := newWorld(b, key.Ed25519)
	w.publishTSL(tslURL, w.issuer)
	v := w.verifier(func(c *Config) { c.StatusCacheTTL = time.Hour })
	tok := w.issueSD(w.issuer, tslURL, tslValid, func(c *sdjwt.Credential) {
		c.Claims = map[string]any{"clinicalStatus": "active", "criticality": "high", "substance": "Penicillin", "reaction": "anaphylaxis", "recordedDate": "2026-11-30"}
	})
	h, err := sdjwt.Open(tok)
	if err != nil {
		b.Fatal(err)
	}
	paths := []sdjwt.Path{{"clinicalStatus"}, {"criticality"}, {"substance"}, {"reaction"}, {"recordedDate"}}
	// A long-lived KB-JWT: its freshness window is the verifier's clock.
	p, err := h.Present(paths, &sdjwt.KeyBindingOptions{Key: w.holder.Key, Audience: audience, Nonce: nonce, IssuedAt: w.clock.Now()})
	if err != nil {
		b.Fatal(err)
	}
	if len(p.Disclosed) != 5 {
		b.Fatalf("%d disclosures, want 5", len(p.Disclosed))
	}
	issuerJWT, _, _ := strings.Cut(p.Token, "~")
	kbJWT := p.Token[strings.LastIndexByte(p.Token, '~')+1:]
	benchRatio(b, func() *Result { return v.Presentation(ctx, p.Token, audience, nonce) },
		bareVerifier(b, issuerJWT, w.issuer.Key.Public()), bareVerifier(b, kbJWT, w.holder.Key.Public()))
}
