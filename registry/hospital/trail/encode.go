package trail

import (
	"encoding/json"
	"strconv"
	"time"
	"unicode/utf8"
)

// AppendJSON appends e encoded exactly as encoding/json's Marshal encodes
// it (same fields, order, omissions and escaping) to dst. Every entry of
// every access is encoded once on the request path, and reflection cost
// more than the sealing it precedes; entries with an Authority, strings
// encoding/json would escape and times it would refuse take the
// reflective encoder, so the bytes never differ (TestAppendJSONMatchesMarshal,
// FuzzAppendJSON).
func (e *Entry) AppendJSON(dst []byte) ([]byte, error) {
	if e.Authority != nil || !PlainTime(e.Time) || !PlainStrings(e.ID, e.Patient, e.Provider, e.Record, e.Class, e.Action, e.Purpose,
		e.Outcome, e.Type, e.Reason, e.Consent, e.Licence, e.Grant, e.AnchorSeal, e.Origin) {
		b, err := json.Marshal(e)
		return append(dst, b...), err
	}
	dst = append(dst, `{"id":"`...)
	dst = append(dst, e.ID...)
	dst = append(dst, `","time":"`...)
	dst = e.Time.AppendFormat(dst, time.RFC3339Nano)
	dst = append(dst, `","patient":"`...)
	dst = append(dst, e.Patient...)
	dst = append(dst, `","provider":"`...)
	dst = append(dst, e.Provider...)
	dst = append(dst, `","record":"`...)
	dst = append(dst, e.Record...)
	dst = append(dst, '"')
	dst = appendOptString(dst, `,"class":"`, e.Class)
	dst = append(dst, `,"action":"`...)
	dst = append(dst, e.Action...)
	dst = append(dst, `","purpose":"`...)
	dst = append(dst, e.Purpose...)
	dst = append(dst, `","outcome":"`...)
	dst = append(dst, e.Outcome...)
	dst = append(dst, `","type":"`...)
	dst = append(dst, e.Type...)
	dst = append(dst, '"')
	if e.BreakGlass {
		dst = append(dst, `,"breakGlass":true`...)
	}
	dst = appendOptString(dst, `,"reason":"`, e.Reason)
	dst = appendOptString(dst, `,"consent":"`, e.Consent)
	if e.Standing {
		dst = append(dst, `,"standing":true`...)
	}
	dst = appendOptString(dst, `,"licence":"`, e.Licence)
	dst = appendOptString(dst, `,"grant":"`, e.Grant)
	dst = appendOptString(dst, `,"anchorSeal":"`, e.AnchorSeal)
	if e.Unauthenticated {
		dst = append(dst, `,"unauthenticated":true`...)
	}
	dst = appendOptString(dst, `,"origin":"`, e.Origin)
	if e.Count != 0 {
		dst = append(dst, `,"count":`...)
		dst = strconv.AppendInt(dst, int64(e.Count), 10)
	}
	return append(dst, '}'), nil
}

// appendOptString appends key (which opens the value's quotes) and s and
// the closing quote, unless s is empty (omitempty).
func appendOptString(dst []byte, key, s string) []byte {
	if s == "" {
		return dst
	}
	dst = append(dst, key...)
	dst = append(dst, s...)
	return append(dst, '"')
}

// PlainTime reports whether time.Time's MarshalJSON writes t as
// AppendFormat(time.RFC3339Nano) does, between quotes: years 0 to 9999, a
// zone offset in whole minutes within a day. A hand-written encoder must
// hand any other time to encoding/json.
func PlainTime(t time.Time) bool {
	if y := t.Year(); y < 0 || y > 9999 {
		return false
	}
	_, off := t.Zone()
	return off%60 == 0 && off > -24*3600 && off < 24*3600
}

// PlainStrings reports whether encoding/json encodes every s as its bytes
// between quotes: printable ASCII without '"', '\\', '<', '>' and '&'
// (which it escapes for HTML). A hand-written encoder may append such
// strings as they are and must hand anything else to encoding/json.
func PlainStrings(ss ...string) bool {
	for _, s := range ss {
		for i := 0; i < len(s); i++ {
			c := s[i]
			if c < 0x20 || c >= utf8.RuneSelf || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
				return false
			}
		}
	}
	return true
}
