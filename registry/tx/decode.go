package tx

import (
	"encoding/json"
	"unicode/utf8"

	"github.com/medid/medid/internal/ijson"
)

// One-pass decoding of the header and payload JSON (issue 19).
//
// [Decode] used to check each JSON text under ijson's policy and then hand
// it to encoding/json: two passes, the second driven by reflection. Nearly
// every transaction is written by this package's builders and is plain: an
// object whose members are names this package knows, each once, with
// strings that need no escape, integers where integers belong, an array of
// such strings for credentialTypes and any JSON value as the document.
// Such a text is read here in one pass straight into the struct. Anything
// else (an escape, null, a nested proposal or directory entry, a type
// mismatch, a duplicate, an unknown or case-variant name, bad syntax)
// makes these readers decline, and Decode reads the text the old way,
// which gives every rejection its old error. So the readers only have to
// be right about what they accept: for such a text they must produce what
// ijson's check followed by encoding/json produces, and a text they accept
// must be one that check accepts. FuzzDecodeMatchesReference compares the
// two decoders on arbitrary headers, payloads and tokens.

// reader scans one JSON text from the start.
type reader struct {
	s string
	i int
}

func (r *reader) space() {
	for r.i < len(r.s) {
		switch r.s[r.i] {
		case ' ', '\t', '\n', '\r':
			r.i++
		default:
			return
		}
	}
}

// is consumes c (after whitespace) if it comes next.
func (r *reader) is(c byte) bool {
	r.space()
	if r.i < len(r.s) && r.s[r.i] == c {
		r.i++
		return true
	}
	return false
}

// str reads a string that needs no unescaping: no backslash, no control
// character, valid UTF-8 (what ijson accepts and encoding/json returns
// unchanged). It declines anything else.
func (r *reader) str() (string, bool) {
	r.space()
	if r.i >= len(r.s) || r.s[r.i] != '"' {
		return "", false
	}
	start := r.i + 1
	ascii := true
	for j := start; j < len(r.s); j++ {
		c := r.s[j]
		switch {
		case c == '"':
			v := r.s[start:j]
			if !ascii && !utf8.ValidString(v) {
				return "", false
			}
			r.i = j + 1
			return v, true
		case c == '\\' || c < 0x20:
			return "", false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return "", false
}

// integer reads an integer within ±ijson.MaxSafeInteger written the way
// ijson's SafeIntegers accepts it (no leading zero, no fraction or
// exponent, not -0). It declines anything else.
func (r *reader) integer() (int64, bool) {
	r.space()
	j := r.i
	neg := j < len(r.s) && r.s[j] == '-'
	if neg {
		j++
	}
	start := j
	var n int64
	for j < len(r.s) && r.s[j] >= '0' && r.s[j] <= '9' {
		if j-start >= 16 {
			return 0, false // more digits than 2^53-1 has
		}
		n = n*10 + int64(r.s[j]-'0')
		j++
	}
	if j == start || (r.s[start] == '0' && (j-start > 1 || neg)) {
		return 0, false
	}
	if j < len(r.s) && (r.s[j] == '.' || r.s[j] == 'e' || r.s[j] == 'E') {
		return 0, false
	}
	if n > ijson.MaxSafeInteger {
		return 0, false
	}
	r.i = j
	if neg {
		n = -n
	}
	return n, true
}

// strings reads an array of plain strings (see str). An empty array gives
// an empty, non-nil slice, as encoding/json does.
func (r *reader) strings() ([]string, bool) {
	if !r.is('[') {
		return nil, false
	}
	out := make([]string, 0, 4)
	if r.is(']') {
		return out, true
	}
	for {
		v, ok := r.str()
		if !ok {
			return nil, false
		}
		out = append(out, v)
		if r.is(',') {
			continue
		}
		if r.is(']') {
			return out, true
		}
		return nil, false
	}
}

// raw reads any JSON value under ijson's policy (a member of the top-level
// object, so depth 1, with SafeIntegers) and returns a copy of its bytes,
// what encoding/json gives a json.RawMessage.
func (r *reader) raw() (json.RawMessage, bool) {
	r.space()
	n, err := ijson.CheckValue(r.s[r.i:], 1, ijson.SafeIntegers)
	if err != nil {
		return nil, false
	}
	v := json.RawMessage(r.s[r.i : r.i+n])
	r.i += n
	return v, true
}

// members reads an object, calling member for each member name (the
// reader is then at the value, which member must consume), and checks
// that nothing but whitespace follows the object. It declines a name that
// is not plain (see str) or that member declines.
func (r *reader) members(member func(name string) bool) bool {
	if !r.is('{') {
		return false
	}
	if !r.is('}') {
		for {
			name, ok := r.str()
			if !ok || !r.is(':') || !member(name) {
				return false
			}
			if r.is(',') {
				continue
			}
			if r.is('}') {
				break
			}
			return false
		}
	}
	r.space()
	return r.i == len(r.s)
}

// decodeHeaderFast reads a plain header (see the comment at the top of
// this file) into h, or reports false.
func decodeHeaderFast(s string, h *Header) bool {
	r := reader{s: s}
	var seen uint8
	return r.members(func(name string) bool {
		var bit uint8
		var dst *string
		switch name {
		case "alg":
			bit, dst = 1, &h.Alg
		case "typ":
			bit, dst = 2, &h.Typ
		case "kid":
			bit, dst = 4, &h.Kid
		default:
			return false
		}
		if seen&bit != 0 {
			return false
		}
		seen |= bit
		v, ok := r.str()
		*dst = v
		return ok
	})
}

// decodePayloadFast reads a plain payload (see the comment at the top of
// this file) into p, or reports false. Payloads of the types with nested
// objects (network.propose, directory.*) are never plain: their proposal
// and entry members make it decline.
func decodePayloadFast(s string, p *Payload) bool {
	r := reader{s: s}
	var seen uint32
	return r.members(func(name string) bool {
		var bit uint32
		var dst *string
		switch name {
		case "type":
			bit = 1 << 0
		case "did":
			bit, dst = 1<<1, &p.DID
		case "nonce":
			bit, dst = 1<<2, &p.Nonce
		case "document":
			bit = 1 << 3
		case "prevVersionId":
			bit, dst = 1<<4, &p.PrevVersionID
		case "issuer":
			bit, dst = 1<<5, &p.Issuer
		case "credentialTypes":
			bit = 1 << 6
		case "validFrom":
			bit, dst = 1<<7, &p.ValidFrom
		case "validUntil":
			bit, dst = 1<<8, &p.ValidUntil
		case "accreditationId":
			bit, dst = 1<<9, &p.AccreditationID
		case "revokedAt":
			bit, dst = 1<<10, &p.RevokedAt
		case "listId":
			bit, dst = 1<<11, &p.ListID
		case "version":
			bit = 1 << 12
		case "credential":
			bit, dst = 1<<13, &p.Credential
		case "grantHash":
			bit, dst = 1<<14, &p.GrantHash
		case "batchId":
			bit, dst = 1<<15, &p.BatchID
		case "root":
			bit, dst = 1<<16, &p.Root
		case "count":
			bit = 1 << 17
		case "proposalId":
			bit, dst = 1<<18, &p.ProposalID
		case "org":
			bit, dst = 1<<19, &p.Org
		case "reason":
			bit, dst = 1<<20, &p.Reason
		default:
			return false // proposal, entry, unknown or case-variant names
		}
		if seen&bit != 0 {
			return false
		}
		seen |= bit
		var ok bool
		switch name {
		case "type":
			var v string
			v, ok = r.str()
			p.Type = Type(v)
		case "document":
			p.Document, ok = r.raw()
		case "credentialTypes":
			p.CredentialTypes, ok = r.strings()
		case "version":
			p.Version, ok = r.integer()
		case "count":
			p.Count, ok = r.integer()
		default:
			*dst, ok = r.str()
		}
		return ok
	})
}
