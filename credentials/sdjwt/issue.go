package sdjwt

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/credentials/vc"
)

// IssueOptions tunes [Issue].
type IssueOptions struct {
	// Typ is the issuer-signed JWT's typ header; default [MediaType].
	Typ string
	// Kid is the kid header: a DID URL of the issuer's key. "" leaves it out.
	Kid string
	// Visible lists the top-level claims kept in the clear. Every other
	// claim is selectively disclosable, and so is, recursively, every
	// member of an object value and every element of an array value, so a
	// holder can disclose code.display without code.system.
	Visible []string
	// MaxDecoys bounds the decoy digests added to each object and array
	// (each gets between 1 and MaxDecoys, uniformly); 0 means 3; negative
	// means none (for tests that need exact digest counts).
	MaxDecoys int
	// Rand is the source of salts and decoys; nil means crypto/rand.
	Rand io.Reader
}

// Issue signs claims as an SD-JWT (RFC 9901) with k and returns it in the
// combined format <issuer-signed JWT>~<Disclosure>~...~, every Disclosure
// included (what the holder stores). The payload gets _sd_alg sha-256, the
// visible claims in the clear, a sorted _sd array of digests per object
// (with decoys), and {"...": digest} elements (with decoy elements) in
// arrays. claims MUST NOT use the reserved names _sd, _sd_alg or "...".
// claims is not modified.
func Issue(claims map[string]any, k *key.PrivateKey, opts IssueOptions) (string, error) {
	if k == nil {
		return "", fmt.Errorf("sd-jwt: no signing key")
	}
	claims, err := normalize(claims)
	if err != nil {
		return "", err
	}
	if err := checkReserved(claims, nil); err != nil {
		return "", err
	}
	is := &issuer{r: opts.Rand, maxDecoys: opts.MaxDecoys}
	if is.r == nil {
		is.r = defaultRand
	}
	if is.maxDecoys == 0 {
		is.maxDecoys = 3
	}
	payload := make(map[string]any, len(claims)+2)
	var digests []string
	// Sorted so that the Disclosures come out in a stable order; the
	// digests in _sd are sorted anyway, which hides the claims' order.
	for _, name := range sortedKeys(claims) {
		v := claims[name]
		if slices.Contains(opts.Visible, name) {
			payload[name] = v
			continue
		}
		dg, err := is.property(name, v)
		if err != nil {
			return "", err
		}
		digests = append(digests, dg)
	}
	sd, err := is.withDecoys(digests)
	if err != nil {
		return "", err
	}
	if len(sd) > 0 {
		payload[sdKey] = sd
	}
	payload[sdAlgKey] = HashAlg
	body, err := marshal(payload)
	if err != nil {
		return "", fmt.Errorf("sd-jwt: payload: %w", err)
	}
	typ := opts.Typ
	if typ == "" {
		typ = MediaType
	}
	jwt, err := vc.SignJWS(body, k, typ, "", opts.Kid)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString(jwt)
	b.WriteByte('~')
	for _, d := range is.discs {
		b.WriteString(d.Raw)
		b.WriteByte('~')
	}
	return b.String(), nil
}

type issuer struct {
	r         io.Reader
	maxDecoys int
	discs     []*Disclosure
}

// property makes the Disclosure of one object member and returns its digest.
func (is *issuer) property(name string, v any) (string, error) {
	cv, err := is.conceal(v)
	if err != nil {
		return "", err
	}
	d, err := newDisclosure(is.r, name, false, cv)
	if err != nil {
		return "", err
	}
	is.discs = append(is.discs, d)
	return d.Digest, nil
}

// conceal returns v with every member of its objects and every element of
// its arrays made selectively disclosable.
func (is *issuer) conceal(v any) (any, error) {
	switch v := v.(type) {
	case map[string]any:
		var digests []string
		for _, name := range sortedKeys(v) {
			dg, err := is.property(name, v[name])
			if err != nil {
				return nil, err
			}
			digests = append(digests, dg)
		}
		sd, err := is.withDecoys(digests)
		if err != nil {
			return nil, err
		}
		return map[string]any{sdKey: sd}, nil
	case []any:
		out := make([]any, 0, len(v)+is.maxDecoys)
		for _, e := range v {
			ce, err := is.conceal(e)
			if err != nil {
				return nil, err
			}
			d, err := newDisclosure(is.r, "", true, ce)
			if err != nil {
				return nil, err
			}
			is.discs = append(is.discs, d)
			out = append(out, map[string]any{arrayKey: d.Digest})
		}
		// Decoy elements at random places: the verifier drops them, and
		// they hide how many elements the array has.
		decoys, err := is.decoyDigests()
		if err != nil {
			return nil, err
		}
		for _, dg := range decoys {
			at, err := is.intn(len(out) + 1)
			if err != nil {
				return nil, err
			}
			out = slices.Insert(out, at, any(map[string]any{arrayKey: dg}))
		}
		return out, nil
	}
	return v, nil
}

// withDecoys adds decoy digests and sorts, so neither the number nor the
// order of the claims shows.
func (is *issuer) withDecoys(digests []string) ([]any, error) {
	decoys, err := is.decoyDigests()
	if err != nil {
		return nil, err
	}
	digests = append(digests, decoys...)
	slices.Sort(digests)
	out := make([]any, len(digests))
	for i, d := range digests {
		out[i] = d
	}
	return out, nil
}

// decoyDigests returns between 1 and maxDecoys decoy digests.
func (is *issuer) decoyDigests() ([]string, error) {
	if is.maxDecoys < 0 {
		return nil, nil
	}
	n, err := is.intn(is.maxDecoys)
	if err != nil {
		return nil, err
	}
	out := make([]string, n+1)
	for i := range out {
		if out[i], err = decoyDigest(is.r); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// intn returns a uniform integer in [0, n) for small n.
func (is *issuer) intn(n int) (int, error) {
	var b [8]byte
	if _, err := io.ReadFull(is.r, b[:]); err != nil {
		return 0, fmt.Errorf("sd-jwt: random: %w", err)
	}
	// The modulo bias of a 64-bit value reduced mod a small n is < 2^-50.
	return int(binary.BigEndian.Uint64(b[:]) % uint64(n)), nil
}

// normalize returns claims in the generic JSON form (maps, []any,
// json.Number), whatever Go types the caller used, so that every array and
// object is made selectively disclosable. It is a copy: claims is not modified.
func normalize(claims map[string]any) (map[string]any, error) {
	b, err := marshal(claims)
	if err != nil {
		return nil, fmt.Errorf("sd-jwt: claims: %w", err)
	}
	v, err := vc.ParseJSON(b)
	if err != nil {
		return nil, fmt.Errorf("sd-jwt: claims: %w", err)
	}
	m, _ := v.(map[string]any)
	return m, nil
}

// marshal writes v as JSON without HTML escaping (so "<" stays "<" in a
// Disclosure, as other implementations write it).
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// checkReserved refuses claims that use a name RFC 9901 reserves.
func checkReserved(v any, path Path) error {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			if k == sdKey || k == sdAlgKey || k == arrayKey {
				return fmt.Errorf("sd-jwt: claim %s uses the reserved name %q", path.with(k), k)
			}
			if err := checkReserved(e, path.with(k)); err != nil {
				return err
			}
		}
	case []any:
		for i, e := range v {
			if err := checkReserved(e, path.with(i)); err != nil {
				return err
			}
		}
	}
	return nil
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
