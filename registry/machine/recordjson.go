package machine

import (
	"strconv"

	"github.com/medid/medid/registry/ledger"
)

// The encoders below write, for the records every did.create and
// did.update stores and the receipt every accepted transaction returns,
// exactly the bytes encoding/json writes (the state and the results are in
// the app hash, so a single byte of difference would split the network),
// without reflection and without re-scanning the document: encoding/json
// compacts and HTML-escapes a json.RawMessage byte by byte, which cost
// about a tenth of a validator's FinalizeBlock (docs/design/0022, fifth
// round). They take the fast path only for text they can copy as it is:
// strings of printable ASCII without '"', '\\', '<', '>' and '&' (which
// encoding/json escapes), and a document of printable ASCII without
// spaces, '<', '>' and '&' (compaction and escaping then change nothing).
// Anything else, and any time encoding/json would refuse, goes to
// encoding/json. TestRecordJSONMatchesEncodingJSON and
// FuzzRecordJSONMatchesEncodingJSON hold them to encoding/json's output.

// plainString reports whether encoding/json writes s as '"' s '"'.
func plainString(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}

// plainCompactJSON reports whether encoding/json's compaction of the
// valid JSON text b (a json.RawMessage) returns b unchanged: no
// insignificant whitespace to drop, nothing to HTML-escape, no U+2028 or
// U+2029 (non-ASCII) to escape. b must be valid JSON.
func plainCompactJSON(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if c <= 0x20 || c > 0x7e || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}

// appendField appends ,"name":"value" (or without the comma first).
func appendField(dst []byte, first bool, name, value string) []byte {
	if !first {
		dst = append(dst, ',')
	}
	dst = append(dst, '"')
	dst = append(dst, name...)
	dst = append(dst, `":"`...)
	dst = append(dst, value...)
	return append(dst, '"')
}

// marshalDIDRecord is marshal(rec) for a record whose Document is valid
// JSON (it always is: the canonical form of a checked document, or a
// stored record's).
func marshalDIDRecord(rec *ledger.DIDRecord) ([]byte, error) {
	if b, ok := appendDIDRecord(make([]byte, 0, 160+len(rec.Document)+len(rec.DID)), rec); ok {
		return b, nil
	}
	return marshal(rec)
}

// appendDIDRecord appends encoding/json's encoding of rec to dst, or
// reports false if rec is not plain (see above).
func appendDIDRecord(dst []byte, rec *ledger.DIDRecord) ([]byte, bool) {
	m := &rec.Metadata
	if !plainString(rec.DID) || !plainCompactJSON(rec.Document) || !plainString(m.VersionID) || !plainString(m.NextVersionID) {
		return nil, false
	}
	dst = appendField(append(dst, '{'), true, "did", rec.DID)
	dst = append(dst, `,"document":`...)
	dst = append(dst, rec.Document...)
	dst = append(dst, `,"metadata":{`...)
	first := true
	for _, t := range []struct {
		name string
		v    interface{ MarshalJSON() ([]byte, error) }
		set  bool
	}{{"created", m.Created, m.Created != nil}, {"updated", m.Updated, m.Updated != nil}} {
		if !t.set {
			continue
		}
		tb, err := t.v.MarshalJSON() // what encoding/json calls; refuses years outside 0-9999
		if err != nil {
			return nil, false
		}
		if !first {
			dst = append(dst, ',')
		}
		dst = append(dst, '"')
		dst = append(dst, t.name...)
		dst = append(dst, `":`...)
		dst = append(dst, tb...)
		first = false
	}
	for _, f := range [...]struct{ name, v string }{{"versionId", m.VersionID}, {"nextVersionId", m.NextVersionID}} {
		if f.v != "" {
			dst = appendField(dst, first, f.name, f.v)
			first = false
		}
	}
	if m.Deactivated {
		if !first {
			dst = append(dst, ',')
		}
		dst = append(dst, `"deactivated":true`...)
	}
	dst = append(dst, `},"height":`...)
	dst = strconv.AppendInt(dst, rec.Height, 10)
	return append(dst, '}'), true
}

// marshalReceipt is marshal(rc).
func marshalReceipt(rc *receipt) ([]byte, error) {
	if rc == nil {
		return marshal(rc)
	}
	if b, ok := appendReceipt(make([]byte, 0, 64+len(rc.DID)), rc); ok {
		return b, nil
	}
	return marshal(rc)
}

// appendReceipt appends encoding/json's encoding of rc to dst, or reports
// false if one of its strings is not plain. rc must not be nil.
func appendReceipt(dst []byte, rc *receipt) ([]byte, bool) {
	strs := [...]struct {
		name, v   string
		omitEmpty bool
	}{
		{"type", string(rc.Type), false}, {"did", rc.DID, false}, {"versionId", rc.VersionID, true},
		{"issuer", rc.Issuer, true}, {"accreditationId", rc.AccreditationID, true}, {"listId", rc.ListID, true},
	}
	tail := [...]struct{ name, v string }{{"grantHash", rc.GrantHash}, {"proposalId", rc.ProposalID}}
	for _, s := range strs {
		if !plainString(s.v) {
			return nil, false
		}
	}
	if !plainString(rc.GrantHash) || !plainString(rc.ProposalID) || !plainString(rc.Org) {
		return nil, false
	}
	dst = append(dst, '{')
	first := true
	for _, s := range strs {
		if s.omitEmpty && s.v == "" {
			continue
		}
		dst = appendField(dst, first, s.name, s.v)
		first = false
	}
	if rc.Version != 0 {
		dst = append(dst, `,"version":`...)
		dst = strconv.AppendInt(dst, rc.Version, 10)
	}
	for _, s := range tail {
		if s.v != "" {
			dst = appendField(dst, false, s.name, s.v)
		}
	}
	if rc.Executed {
		dst = append(dst, `,"executed":true`...)
	}
	if rc.Org != "" {
		dst = appendField(dst, false, "org", rc.Org)
	}
	return append(dst, '}'), true
}
