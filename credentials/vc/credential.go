package vc

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// Media types and the base context of VC Data Model 2.0.
const (
	// ContextV2 MUST be the first @context entry of a VC 2.0 credential or presentation.
	ContextV2 = "https://www.w3.org/ns/credentials/v2"
	// MediaTypeVC is the JOSE typ of a credential secured as a JWS (VC-JOSE-COSE §3.1.1).
	MediaTypeVC = "vc+jwt"
	// MediaTypeVP is the JOSE typ of a presentation secured as a JWS (VC-JOSE-COSE §3.2.1).
	MediaTypeVP = "vp+jwt"
)

// Type names this package gives meaning to.
const (
	TypeCredential          = "VerifiableCredential"
	TypePresentation        = "VerifiablePresentation"
	TypeEnvelopedCredential = "EnvelopedVerifiableCredential"
	// StatusTypeBitstring is the credentialStatus type of W3C Bitstring Status List v1.0.
	StatusTypeBitstring = "BitstringStatusListEntry"
)

// Status is one credentialStatus entry (a BitstringStatusListEntry for medid's
// own credentials). StatusListIndex is a decimal string, as the Bitstring
// Status List specification requires. Extra keeps other properties of the
// entry so that entries of other status schemes survive a round trip.
type Status struct {
	ID                   string
	Type                 string
	StatusPurpose        string
	StatusListIndex      string
	StatusListCredential string
	Extra                map[string]any
}

// Credential is a W3C VC Data Model 2.0 credential. Its JSON form
// (MarshalJSON, UnmarshalJSON) is the VC 2.0 shape, and with VC-JOSE it is
// exactly the JWT claim set.
//
// The zero value is an empty credential that does not pass [Credential.Validate].
//
// Limits of the model, all reported as [ErrMalformed] when parsing:
//   - @context is an array whose first entry is [ContextV2]; later entries
//     are URLs or embedded context objects (VC 2.0 §4.3). An embedded
//     object is kept in Context as its JSON text (it starts with "{", which
//     no URL does) and written back as an object; see [IsInlineContext].
//   - credentialSubject must be one JSON object; an array of subjects is refused,
//     because medid's holder binding needs exactly one subject.
//   - validFrom and validUntil must be RFC 3339 date-times with a time zone
//     (xsd:dateTimeStamp, as VC 2.0 requires).
type Credential struct {
	Context []string
	ID      string
	Type    []string
	// Issuer is the issuer's URL, for medid a DID. It is serialised as a plain
	// string, or as {"id": Issuer, ...IssuerProperties} when IssuerProperties is set.
	Issuer string
	// IssuerProperties holds the other properties of an issuer object (name,
	// image, ...); nil when the issuer was a string.
	IssuerProperties      map[string]any
	Name, Description     string
	ValidFrom, ValidUntil *time.Time
	// Subject is credentialSubject; its "id" entry, when present, is the
	// subject's DID (see [Credential.SubjectID]). Numbers are json.Number after
	// parsing so that no digit is lost.
	Subject map[string]any
	Status  []Status
	// Extra holds every other top-level property (credentialSchema, evidence,
	// JWT claims such as iss, nbf, exp, and name/description when they are
	// language objects rather than strings). It is kept on a round trip. A key
	// in Extra that a typed field also sets is an error when marshalling.
	Extra map[string]any
}

// SubjectID returns credentialSubject.id, or "" when the subject has no id or
// the id is not a string.
func (c *Credential) SubjectID() string {
	if c == nil || c.Subject == nil {
		return ""
	}
	s, _ := c.Subject["id"].(string)
	return s
}

// HasType reports whether c's type list contains t.
func (c *Credential) HasType(t string) bool { return slices.Contains(c.Type, t) }

// Validate checks the rules of VC Data Model 2.0 that medid relies on: the
// first @context is [ContextV2], type includes VerifiableCredential, the
// issuer is a URL, there is a credentialSubject, validFrom is not after
// validUntil, and every status entry has a type. Errors wrap [ErrMalformed].
func (c *Credential) Validate() error {
	if err := validateContext(c.Context, "credential"); err != nil {
		return err
	}
	if !c.HasType(TypeCredential) {
		return fmt.Errorf("%w: type must include %s", ErrMalformed, TypeCredential)
	}
	if !isURL(c.Issuer) {
		return fmt.Errorf("%w: issuer must be a URL or DID, got %q", ErrMalformed, c.Issuer)
	}
	if len(c.Subject) == 0 {
		return fmt.Errorf("%w: credentialSubject is missing or empty", ErrMalformed)
	}
	if c.ValidFrom != nil && c.ValidUntil != nil && c.ValidUntil.Before(*c.ValidFrom) {
		return fmt.Errorf("%w: validUntil %s is before validFrom %s", ErrMalformed,
			c.ValidUntil.Format(time.RFC3339), c.ValidFrom.Format(time.RFC3339))
	}
	for i, s := range c.Status {
		if s.Type == "" {
			return fmt.Errorf("%w: credentialStatus[%d] has no type", ErrMalformed, i)
		}
	}
	return nil
}

// isURL is the loose check VC 2.0 asks for: an absolute URL has a scheme
// followed by a colon (did:, https:, urn:).
func isURL(s string) bool {
	i := strings.IndexByte(s, ':')
	if i <= 0 || i == len(s)-1 {
		return false
	}
	for j := 0; j < i; j++ {
		c := s[j]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || j > 0 && (c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.')) {
			return false
		}
	}
	return !strings.ContainsAny(s, " \t\r\n")
}

// credentialKeys are the top-level properties the typed fields of Credential own.
var credentialKeys = []string{"@context", "id", "type", "issuer", "name", "description",
	"validFrom", "validUntil", "credentialSubject", "credentialStatus"}

// MarshalJSON writes the credential in VC 2.0 shape. The output is
// deterministic: typed properties in a fixed order, then Extra sorted by key,
// nested objects sorted by key, no HTML escaping.
func (c *Credential) MarshalJSON() ([]byte, error) {
	var w objWriter
	w.begin()
	if err := c.writeFields(&w); err != nil {
		return nil, err
	}
	if err := w.extra(c.Extra, c.setKeys()); err != nil {
		return nil, err
	}
	return w.end(), nil
}

// setKeys lists the typed properties that will be written, to detect Extra collisions.
func (c *Credential) setKeys() map[string]bool {
	return map[string]bool{
		"@context": c.Context != nil, "id": c.ID != "", "type": c.Type != nil, "issuer": c.Issuer != "" || c.IssuerProperties != nil,
		"name": c.Name != "", "description": c.Description != "", "validFrom": c.ValidFrom != nil,
		"validUntil": c.ValidUntil != nil, "credentialSubject": c.Subject != nil, "credentialStatus": len(c.Status) > 0,
	}
}

func (c *Credential) writeFields(w *objWriter) error {
	if c.Context != nil {
		w.field("@context", contextJSON(c.Context))
	}
	if c.ID != "" {
		w.field("id", c.ID)
	}
	if c.Type != nil {
		w.field("type", c.Type)
	}
	if c.IssuerProperties != nil {
		if _, ok := c.IssuerProperties["id"]; ok {
			return fmt.Errorf("%w: IssuerProperties must not contain id; set Issuer", ErrMalformed)
		}
		m := maps.Clone(c.IssuerProperties)
		m["id"] = c.Issuer
		w.field("issuer", m)
	} else if c.Issuer != "" {
		w.field("issuer", c.Issuer)
	}
	if c.Name != "" {
		w.field("name", c.Name)
	}
	if c.Description != "" {
		w.field("description", c.Description)
	}
	if c.ValidFrom != nil {
		w.field("validFrom", formatTime(*c.ValidFrom))
	}
	if c.ValidUntil != nil {
		w.field("validUntil", formatTime(*c.ValidUntil))
	}
	if c.Subject != nil {
		w.field("credentialSubject", c.Subject)
	}
	switch len(c.Status) {
	case 0:
	case 1:
		m, err := c.Status[0].marshal()
		if err != nil {
			return err
		}
		w.field("credentialStatus", m)
	default:
		list := make([]json.RawMessage, len(c.Status))
		for i := range c.Status {
			m, err := c.Status[i].marshal()
			if err != nil {
				return err
			}
			list[i] = m
		}
		w.field("credentialStatus", list)
	}
	return w.err
}

// marshal writes the entry with its typed properties first, in the order of
// the Bitstring Status List specification, then Extra sorted by key.
func (s *Status) marshal() (json.RawMessage, error) {
	var w objWriter
	w.begin()
	set := map[string]bool{}
	for _, kv := range [...][2]string{{"id", s.ID}, {"type", s.Type}, {"statusPurpose", s.StatusPurpose},
		{"statusListIndex", s.StatusListIndex}, {"statusListCredential", s.StatusListCredential}} {
		if kv[1] != "" {
			w.field(kv[0], kv[1])
			set[kv[0]] = true
		}
	}
	if err := w.extra(s.Extra, set); err != nil {
		return nil, fmt.Errorf("credentialStatus: %w", err)
	}
	return w.end(), nil
}

// formatTime writes an XML dateTimeStamp: RFC 3339, fractional seconds only when present.
func formatTime(t time.Time) string { return t.Format(time.RFC3339Nano) }

// parseTime reads an RFC 3339 date-time with a time zone.
func parseTime(name string, v any) (*time.Time, error) {
	s, ok := v.(string)
	if !ok {
		return nil, fmt.Errorf("%w: %s must be a date-time string", ErrMalformed, name)
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return nil, fmt.Errorf("%w: %s %q is not an RFC 3339 date-time with a time zone", ErrMalformed, name, s)
	}
	return &t, nil
}

// UnmarshalJSON reads a VC 2.0 credential. It does not validate the VC rules
// (call [Credential.Validate]); it only refuses shapes the model cannot hold
// (see [Credential]) and JSON that is not I-JSON: a repeated member name,
// invalid UTF-8 or a lone surrogate. Errors wrap [ErrMalformed].
func (c *Credential) UnmarshalJSON(data []byte) error {
	return c.unmarshal(string(data))
}

// unmarshal is UnmarshalJSON of a string: the decoded payload of a token,
// whose memory the credential's strings then share.
func (c *Credential) unmarshal(data string) error {
	m, err := parseObject(data, "credential")
	if err != nil {
		return err
	}
	*c = Credential{}
	for k, v := range m {
		if err := c.setField(k, v); err != nil {
			return err
		}
	}
	return nil
}

// parseObject parses data, which must be one JSON object.
func parseObject(data string, what string) (map[string]any, error) {
	v, err := parseJSON(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrMalformed, what, err)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%w: %s must be a JSON object", ErrMalformed, what)
	}
	return m, nil
}

// setField sets one top-level property from its decoded JSON value.
func (c *Credential) setField(k string, v any) (err error) {
	switch k {
	case "@context":
		c.Context, err = parseContext(v)
	case "id":
		c.ID, err = stringField(k, v)
	case "type":
		c.Type, err = stringList(k, v, true)
	case "issuer":
		err = c.parseIssuer(v)
	case "name", "description":
		if s, ok := v.(string); ok && s != "" {
			if k == "name" {
				c.Name = s
			} else {
				c.Description = s
			}
			return nil
		}
		// A language value object or array: keep it verbatim in Extra.
		c.putExtra(k, v)
	case "validFrom":
		c.ValidFrom, err = parseTime(k, v)
	case "validUntil":
		c.ValidUntil, err = parseTime(k, v)
	case "credentialSubject":
		err = c.parseSubject(v)
	case "credentialStatus":
		c.Status, err = parseStatus(v)
	default:
		c.putExtra(k, v)
	}
	return err
}

func (c *Credential) putExtra(k string, v any) {
	if c.Extra == nil {
		c.Extra = make(map[string]any)
	}
	c.Extra[k] = v
}

func (c *Credential) parseIssuer(v any) error {
	switch v := v.(type) {
	case string:
		if v == "" {
			return fmt.Errorf("%w: issuer is an empty string", ErrMalformed)
		}
		c.Issuer = v
		return nil
	case map[string]any:
		id, ok := v["id"].(string)
		if !ok || id == "" {
			return fmt.Errorf("%w: issuer object must have a string id", ErrMalformed)
		}
		delete(v, "id")
		c.Issuer = id
		c.IssuerProperties = v
		return nil
	}
	return fmt.Errorf("%w: issuer must be a URL string or an object with an id", ErrMalformed)
}

func (c *Credential) parseSubject(v any) error {
	switch v := v.(type) {
	case map[string]any:
		c.Subject = v
		return nil
	case []any:
		return fmt.Errorf("%w: credentialSubject is an array of %d subjects; medid credentials have exactly one subject object", ErrMalformed, len(v))
	}
	return fmt.Errorf("%w: credentialSubject must be a JSON object", ErrMalformed)
}

func parseStatus(v any) ([]Status, error) {
	var items []any
	switch v := v.(type) {
	case map[string]any:
		items = []any{v}
	case []any:
		if len(v) == 0 {
			return nil, fmt.Errorf("%w: credentialStatus is an empty array", ErrMalformed)
		}
		items = v
	default:
		return nil, fmt.Errorf("%w: credentialStatus must be an object or an array of objects", ErrMalformed)
	}
	out := make([]Status, len(items))
	for i, it := range items {
		m, ok := it.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%w: credentialStatus[%d] is not an object", ErrMalformed, i)
		}
		s := &out[i]
		for _, f := range [...]struct {
			k string
			p *string
		}{{"id", &s.ID}, {"type", &s.Type}, {"statusPurpose", &s.StatusPurpose},
			{"statusListIndex", &s.StatusListIndex}, {"statusListCredential", &s.StatusListCredential}} {
			x, present := m[f.k]
			if !present {
				continue
			}
			str, ok := x.(string)
			if !ok || str == "" {
				return nil, fmt.Errorf("%w: credentialStatus[%d].%s must be a non-empty string", ErrMalformed, i, f.k)
			}
			*f.p = str
			delete(m, f.k)
		}
		if len(m) > 0 {
			s.Extra = m
		}
	}
	return out, nil
}

// IsInlineContext reports whether a Context entry is an embedded context
// object (kept as its JSON text) rather than a URL.
func IsInlineContext(entry string) bool { return strings.HasPrefix(entry, "{") }

// parseContext reads @context as VC 2.0 §4.3 allows it: a string, or an
// array whose entries are non-empty URL strings or JSON objects (embedded
// contexts). Arrays inside it, numbers, booleans, null and empty strings
// are refused; Validate checks the first entry is ContextV2 and the rest
// are URLs.
func parseContext(v any) ([]string, error) {
	items, ok := v.([]any)
	if !ok {
		items = []any{v}
	}
	if len(items) == 0 {
		return nil, fmt.Errorf("%w: @context is an empty array", ErrMalformed)
	}
	out := make([]string, len(items))
	for i, e := range items {
		switch e := e.(type) {
		case string:
			if e == "" || IsInlineContext(e) {
				return nil, fmt.Errorf("%w: @context[%d] must be a URL or a context object", ErrMalformed, i)
			}
			out[i] = e
		case map[string]any:
			var buf bytes.Buffer
			if err := writeJSON(&buf, e); err != nil {
				return nil, fmt.Errorf("%w: @context[%d]: %v", ErrMalformed, i, err)
			}
			out[i] = buf.String()
		default:
			return nil, fmt.Errorf("%w: @context[%d] must be a URL or a context object", ErrMalformed, i)
		}
	}
	return out, nil
}

// validateContext checks VC 2.0 §4.3: the first entry is ContextV2 (a
// URL, not an object); the others are URLs or context objects.
func validateContext(ctx []string, what string) error {
	if len(ctx) == 0 || ctx[0] != ContextV2 {
		return fmt.Errorf("%w: the first @context of the %s must be %s", ErrMalformed, what, ContextV2)
	}
	for i, e := range ctx[1:] {
		if IsInlineContext(e) {
			if v, err := parseJSON(e); err != nil {
				return fmt.Errorf("%w: @context[%d] is not a JSON object: %v", ErrMalformed, i+1, err)
			} else if _, ok := v.(map[string]any); !ok {
				return fmt.Errorf("%w: @context[%d] is not a JSON object", ErrMalformed, i+1)
			}
			continue
		}
		if !isURL(e) {
			return fmt.Errorf("%w: @context[%d] %q is neither a URL nor a context object", ErrMalformed, i+1, e)
		}
	}
	return nil
}

// contextJSON returns ctx for writing: URLs as strings, embedded objects
// as raw JSON.
func contextJSON(ctx []string) []any {
	out := make([]any, len(ctx))
	for i, e := range ctx {
		if IsInlineContext(e) {
			out[i] = json.RawMessage(e)
		} else {
			out[i] = e
		}
	}
	return out
}

func stringField(name string, v any) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("%w: %s must be a string", ErrMalformed, name)
	}
	return s, nil
}

// stringList reads a string or an array of strings (JSON-LD allows both).
func stringList(name string, v any, single bool) ([]string, error) {
	switch v := v.(type) {
	case string:
		if v == "" {
			return nil, fmt.Errorf("%w: %s is an empty string", ErrMalformed, name)
		}
		return []string{v}, nil
	case []any:
		if len(v) == 0 {
			return nil, fmt.Errorf("%w: %s is an empty array", ErrMalformed, name)
		}
		list := make([]string, len(v))
		for i, e := range v {
			s, ok := e.(string)
			if !ok || s == "" {
				return nil, fmt.Errorf("%w: %s[%d] must be a non-empty string", ErrMalformed, name, i)
			}
			list[i] = s
		}
		return list, nil
	}
	what := "an array of strings"
	if single {
		what = "a string or an array of strings"
	}
	return nil, fmt.Errorf("%w: %s must be %s", ErrMalformed, name, what)
}

// objWriter writes a JSON object member by member, in the order given.
type objWriter struct {
	buf bytes.Buffer
	n   int
	err error
}

func (w *objWriter) begin() { w.buf.Grow(512); w.buf.WriteByte('{') }

func (w *objWriter) field(k string, v any) {
	if w.err != nil {
		return
	}
	if w.n > 0 {
		w.buf.WriteByte(',')
	}
	w.n++
	if err := writeJSON(&w.buf, k); err != nil {
		w.err = err
		return
	}
	w.buf.WriteByte(':')
	if err := writeJSON(&w.buf, v); err != nil {
		w.err = fmt.Errorf("%w: property %s: %v", ErrMalformed, k, err)
	}
}

// extra writes m sorted by key, refusing keys that a typed field has written.
func (w *objWriter) extra(m map[string]any, set map[string]bool) error {
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if set[k] {
			return fmt.Errorf("%w: property %s is set both as a field and in Extra", ErrMalformed, k)
		}
		w.field(k, m[k])
	}
	return w.err
}

func (w *objWriter) end() []byte { w.buf.WriteByte('}'); return w.buf.Bytes() }

func writeJSON(buf *bytes.Buffer, v any) error {
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	buf.Truncate(buf.Len() - 1) // Encode appends a newline
	return nil
}
