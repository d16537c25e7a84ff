package sdjwt

import (
	"cmp"
	"slices"
)

// Hidden counts the digests left undisclosed in one object or array: the
// claims the holder withheld there, and the issuer's decoys, which a
// verifier cannot tell apart (that is their purpose). Count is therefore an
// upper bound on the number of withheld claims at Path.
type Hidden struct {
	// Path is the object or array holding the undisclosed digests.
	Path  Path `json:"path"`
	Count int  `json:"count"`
}

// placed is a Disclosure and the path its claim ended up at.
type placed struct {
	d    *Disclosure
	path Path
}

// processor replaces digests by the claims of matching Disclosures (RFC
// 9901 §7.1 step 3), enforcing every rule on the way.
type processor struct {
	byDigest map[string]*Disclosure
	seen     map[string]bool // every digest met so far, to refuse a repeat
	placed   []placed
	hidden   map[string]*Hidden // by Path.String of the parent
	depth    int
}

// process checks a payload and Disclosures and returns the processed claim
// set. discs must have unique digests (parseDisclosures checks it).
func process(payload map[string]any, discs []*Disclosure) (map[string]any, *processor, error) {
	p := &processor{
		byDigest: make(map[string]*Disclosure, len(discs)),
		seen:     make(map[string]bool, len(discs)+8),
		hidden:   make(map[string]*Hidden),
	}
	for _, d := range discs {
		p.byDigest[d.Digest] = d
	}
	if alg, ok := payload[sdAlgKey]; ok {
		if s, _ := alg.(string); s != HashAlg {
			return nil, nil, refuse(ReasonUnsupportedSDAlg, "_sd_alg %v is not supported (only %s)", clipAny(alg), HashAlg)
		}
	}
	out, err := p.object(payload, nil, true)
	if err != nil {
		return nil, nil, err
	}
	// Every Disclosure must be referenced exactly once; seen makes a second
	// reference an error, this catches none.
	if len(p.placed) != len(discs) {
		for _, d := range discs {
			if !p.seen[d.Digest] {
				return nil, nil, refuse(ReasonUnreferencedDisclosure, "Disclosure %s is referenced nowhere in the SD-JWT", d.Digest)
			}
		}
	}
	return out, p, nil
}

func (p *processor) enter() error {
	p.depth++
	if p.depth > maxDepth {
		return refuse(ReasonMalformed, "claims nested more than %d levels deep", maxDepth)
	}
	return nil
}

func (p *processor) value(v any, path Path) (any, error) {
	switch v := v.(type) {
	case map[string]any:
		return p.object(v, path, false)
	case []any:
		return p.array(v, path)
	}
	return v, nil
}

// lookup records the digest dg met in the object or array at where and
// returns its Disclosure, or nil (counted as hidden) when none was sent.
func (p *processor) lookup(dg any, where Path) (*Disclosure, error) {
	s, ok := dg.(string)
	if !ok || s == "" {
		return nil, refuse(ReasonReservedClaimName, "a digest at %s is not a non-empty string", where)
	}
	if p.seen[s] {
		return nil, refuse(ReasonDuplicateDigest, "digest %s appears more than once", clip(s))
	}
	p.seen[s] = true
	d := p.byDigest[s]
	if d == nil {
		p.hide(where)
	}
	return d, nil
}

func (p *processor) hide(path Path) {
	k := path.String()
	h := p.hidden[k]
	if h == nil {
		h = &Hidden{Path: path}
		p.hidden[k] = h
	}
	h.Count++
}

func (p *processor) object(m map[string]any, path Path, top bool) (map[string]any, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	out := make(map[string]any, len(m))
	var digests []any
	for k, v := range m {
		switch k {
		case sdKey:
			arr, ok := v.([]any)
			if !ok {
				return nil, refuse(ReasonReservedClaimName, "_sd at %s is not an array of digests", path)
			}
			digests = arr
			continue
		case sdAlgKey:
			if !top {
				return nil, refuse(ReasonUnsupportedSDAlg, "_sd_alg appears at %s; it belongs at the top level only", path)
			}
			continue
		case arrayKey:
			return nil, refuse(ReasonReservedClaimName, "the reserved name \"...\" appears as a member of an object at %s", path)
		}
		pv, err := p.value(v, path.with(k))
		if err != nil {
			return nil, err
		}
		out[k] = pv
	}
	for _, dg := range digests {
		d, err := p.lookup(dg, path)
		if err != nil {
			return nil, err
		}
		if d == nil {
			continue
		}
		if d.ArrayElement {
			return nil, refuse(ReasonMisplacedDisclosure, "array-element Disclosure %s is referenced from _sd at %s", d.Digest, path)
		}
		if _, dup := out[d.Name]; dup {
			return nil, refuse(ReasonClaimCollision, "Disclosure %s discloses %s, which %s already holds", d.Digest, path.with(d.Name), path)
		}
		cp := path.with(d.Name)
		p.placed = append(p.placed, placed{d: d, path: cp})
		v, err := p.value(d.Value, cp)
		if err != nil {
			return nil, err
		}
		out[d.Name] = v
	}
	return out, nil
}

func (p *processor) array(a []any, path Path) ([]any, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	out := make([]any, 0, len(a))
	for _, e := range a {
		if m, ok := e.(map[string]any); ok {
			if dg, ok := m[arrayKey]; ok {
				if len(m) != 1 {
					return nil, refuse(ReasonReservedClaimName, "an element of the array at %s has \"...\" beside other members", path)
				}
				d, err := p.lookup(dg, path)
				if err != nil {
					return nil, err
				}
				if d == nil {
					continue
				}
				if !d.ArrayElement {
					return nil, refuse(ReasonMisplacedDisclosure, "object-property Disclosure %s is referenced as an element of the array at %s", d.Digest, path)
				}
				ep := path.with(len(out))
				p.placed = append(p.placed, placed{d: d, path: ep})
				v, err := p.value(d.Value, ep)
				if err != nil {
					return nil, err
				}
				out = append(out, v)
				continue
			}
		}
		v, err := p.value(e, path.with(len(out)))
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// disclosedPaths returns the paths of the placed Disclosures, sorted.
func (p *processor) disclosedPaths() []Path {
	out := make([]Path, len(p.placed))
	for i, pl := range p.placed {
		out[i] = pl.path
	}
	slices.SortFunc(out, func(a, b Path) int { return cmp.Compare(a.String(), b.String()) })
	return out
}

// withheld returns the undisclosed digests per object or array, sorted.
func (p *processor) withheld() []Hidden {
	out := make([]Hidden, 0, len(p.hidden))
	for _, h := range p.hidden {
		out = append(out, *h)
	}
	slices.SortFunc(out, func(a, b Hidden) int { return cmp.Compare(a.Path.String(), b.Path.String()) })
	return out
}

func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

// clipAny describes a value of a protocol field (never a claim value).
func clipAny(v any) string {
	if s, ok := v.(string); ok {
		return "\"" + clip(s) + "\""
	}
	switch v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	}
	return "a non-string"
}
