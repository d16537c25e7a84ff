package fhir

import (
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/chacha20poly1305"
)

// Paging limits.
const (
	DefaultCount = 20
	MaxCount     = 100
	// MaxCursorSize bounds a paging cursor.
	MaxCursorSize = 2048
	// MaxQuerySize bounds a search's query string.
	MaxQuerySize = 4096
)

// Search parameter names beyond the type-specific ones.
const (
	ParamCount       = "_count"
	ParamCursor      = "_cursor"
	ParamFormat      = "_format"
	ParamLastUpdated = "_lastUpdated"
	ParamPatient     = "patient"
)

// SearchParam is a search parameter a type supports.
type SearchParam struct {
	Name, Type, Definition, Documentation string
}

var (
	paramPatient = SearchParam{ParamPatient, "reference", "http://hl7.org/fhir/SearchParameter/clinical-patient",
		"The patient: Patient/{id}, or patient:identifier=urn:ietf:rfc:3986|{DID}. Exactly one patient; required."}
	paramLastUpdated = SearchParam{ParamLastUpdated, "date", "http://hl7.org/fhir/SearchParameter/Resource-lastUpdated",
		"When the resource last changed; prefixes eq, gt, ge, lt, le, sa, eb; at most two values."}
	paramID = SearchParam{"_id", "token", "http://hl7.org/fhir/SearchParameter/Resource-id",
		"The Patient's logical id (a Patient search names one patient: _id or identifier)."}
	paramIdentifier = SearchParam{"identifier", "token", "http://hl7.org/fhir/SearchParameter/Patient-identifier",
		"urn:ietf:rfc:3986|{DID}: the patient's DID."}
	paramAuditPatient = SearchParam{ParamPatient, "reference", "http://hl7.org/fhir/SearchParameter/AuditEvent-patient",
		"The patient the events concern (optional: a client sees only events of its own actions)."}
)

// SearchParams returns the search parameters the vault supports for typ
// (what ParseSearch accepts and the CapabilityStatement lists).
func SearchParams(typ string) []SearchParam {
	switch typ {
	case "Patient":
		return []SearchParam{paramID, paramIdentifier, paramLastUpdated}
	case "AuditEvent":
		return []SearchParam{paramAuditPatient, paramLastUpdated}
	}
	if Supported(typ) {
		return []SearchParam{paramPatient, paramLastUpdated}
	}
	return nil
}

// DateParam is one value of a date search parameter: a prefix and the
// range [Start, End) the value's precision covers.
type DateParam struct {
	Prefix     string
	Start, End time.Time
	// Raw is the parameter value as sent (prefix included).
	Raw string
}

// Match reports whether instant t satisfies the parameter.
func (d DateParam) Match(t time.Time) bool {
	switch d.Prefix {
	case "eq":
		return !t.Before(d.Start) && t.Before(d.End)
	case "gt", "sa":
		return !t.Before(d.End)
	case "ge":
		return !t.Before(d.Start)
	case "lt", "eb":
		return t.Before(d.Start)
	case "le":
		return t.Before(d.End)
	}
	return false
}

var datePattern = regexp.MustCompile(`^([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2})(?:T([0-9]{2}):([0-9]{2})(?::([0-9]{2})(\.[0-9]{1,9})?)?(Z|[+-][0-9]{2}:[0-9]{2})?)?)?)?$`)

// ParseDateParam parses a FHIR date search value: an optional prefix (eq,
// gt, ge, lt, le, sa, eb; ne and ap are not supported) and a date of year,
// month, day, minute, second or fractional precision; a time needs a time
// zone. Errors are [*Error]s.
func ParseDateParam(name, s string) (DateParam, error) {
	d := DateParam{Prefix: "eq", Raw: s}
	if len(s) >= 2 && s[0] >= 'a' && s[0] <= 'z' {
		d.Prefix, s = s[:2], s[2:]
	}
	bad := func(format string, args ...any) (DateParam, error) {
		return DateParam{}, Errorf(http.StatusBadRequest, ErrInvalid, IssueValue, name, format, args...)
	}
	switch d.Prefix {
	case "eq", "gt", "ge", "lt", "le", "sa", "eb":
	case "ne", "ap":
		return DateParam{}, Errorf(http.StatusBadRequest, ErrUnsupported, IssueNotSupported, name, "prefix %s is not supported (use eq, gt, ge, lt, le, sa or eb)", d.Prefix)
	default:
		return bad("unknown prefix: use eq, gt, ge, lt, le, sa or eb")
	}
	m := datePattern.FindStringSubmatch(s)
	if m == nil {
		return bad("must be a FHIR date such as 2026-03-01 or 2026-03-01T10:00:00Z")
	}
	num := func(i, def int) int {
		if m[i] == "" {
			return def
		}
		n, _ := strconv.Atoi(m[i])
		return n
	}
	year, month, day := num(1, 0), num(2, 1), num(3, 1)
	if month < 1 || month > 12 || day < 1 || day > 31 {
		return bad("month or day out of range")
	}
	loc := time.UTC
	if m[4] != "" {
		if m[8] == "" {
			return bad("a time needs a time zone (Z or ±hh:mm)")
		}
		if m[8] != "Z" {
			h, _ := strconv.Atoi(m[8][1:3])
			mi, _ := strconv.Atoi(m[8][4:6])
			if h > 14 || mi > 59 {
				return bad("time zone out of range")
			}
			off := h*3600 + mi*60
			if m[8][0] == '-' {
				off = -off
			}
			loc = time.FixedZone("", off)
		}
	}
	hour, minute, sec := num(4, 0), num(5, 0), num(6, 0)
	if hour > 23 || minute > 59 || sec > 59 {
		return bad("time out of range")
	}
	var nanos int
	if m[7] != "" {
		frac := (m[7][1:] + "000000000")[:9]
		nanos, _ = strconv.Atoi(frac)
	}
	d.Start = time.Date(year, time.Month(month), day, hour, minute, sec, nanos, loc)
	if d.Start.Day() != day {
		return bad("no such day")
	}
	switch {
	case m[2] == "":
		d.End = d.Start.AddDate(1, 0, 0)
	case m[3] == "":
		d.End = d.Start.AddDate(0, 1, 0)
	case m[4] == "":
		d.End = d.Start.AddDate(0, 0, 1)
	case m[6] == "":
		d.End = d.Start.Add(time.Minute)
	case m[7] == "":
		d.End = d.Start.Add(time.Second)
	default:
		d.End = d.Start.Add(time.Duration(pow10(9 - (len(m[7]) - 1))))
	}
	d.Start, d.End = d.Start.UTC(), d.End.UTC()
	return d, nil
}

func pow10(n int) int {
	p := 1
	for ; n > 0; n-- {
		p *= 10
	}
	return p
}

// Search is a parsed search: one type, one patient (except for the
// AuditEvent feed), date filters and a page size; or a paging cursor.
type Search struct {
	Type string
	// Patient is the patient searched: ID set for patient=Patient/{id} (or
	// _id for Patient), DID set for patient:identifier (or identifier for
	// Patient). Both empty only for an AuditEvent search without patient.
	Patient     Patient
	LastUpdated []DateParam
	Count       int
	// Cursor is the _cursor of a next-page request: the rest of the search
	// is in it (see [Pager.Open]); no other parameter is accepted with it.
	Cursor string
}

// Match reports whether a resource last updated at t passes the date
// filters.
func (s *Search) Match(t time.Time) bool {
	for _, d := range s.LastUpdated {
		if !d.Match(t) {
			return false
		}
	}
	return true
}

// ParseSearch parses the query of a search on typ (GET /fhir/{typ}?…).
// It is strict: an unknown, repeated or modified parameter is refused
// rather than ignored, because ignoring a filter would return more than
// asked. A search names exactly one patient (patient=Patient/{id} or
// {id}, or patient:identifier=urn:ietf:rfc:3986|{DID}; for Patient, _id
// or identifier); several patients (a comma list, a repeated parameter),
// chains and other modifiers are refused so that no search enumerates
// patients. AuditEvent alone may omit the patient. _count is 1 to
// [MaxCount] (default [DefaultCount]); _format may be json. Errors are
// [*Error]s.
func ParseSearch(typ string, rawQuery string) (*Search, error) {
	if !Supported(typ) {
		return nil, Errorf(http.StatusNotFound, ErrUnsupported, IssueNotSupported, "", "this server serves %s only", strings.Join(Types, ", "))
	}
	if len(rawQuery) > MaxQuerySize {
		return nil, Errorf(http.StatusBadRequest, ErrTooLarge, IssueTooLong, "", "the query is %d bytes, the limit is %d", len(rawQuery), MaxQuerySize)
	}
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return nil, invalid("", "the query string is not URL-encoded")
	}
	s := &Search{Type: typ, Count: DefaultCount}
	if cur, ok := q[ParamCursor]; ok {
		for name := range q {
			if name != ParamCursor && name != ParamFormat {
				return nil, invalid(name, "a next-page request carries _cursor only: the search is in the cursor")
			}
		}
		if len(cur) != 1 || cur[0] == "" || len(cur[0]) > MaxCursorSize {
			return nil, Errorf(http.StatusBadRequest, ErrBadCursor, IssueInvalid, ParamCursor, "one cursor, as given in the next link")
		}
		s.Cursor = cur[0]
		return s, checkFormat(q)
	}
	allowed := map[string]bool{ParamCount: true, ParamFormat: true}
	for _, p := range SearchParams(typ) {
		allowed[p.Name] = true
	}
	if typ != "Patient" {
		allowed[ParamPatient+":identifier"] = true
	}
	names := make([]string, 0, len(q))
	for name := range q {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		vals := q[name]
		if !allowed[name] {
			if strings.ContainsAny(name, ":.") {
				return nil, Errorf(http.StatusBadRequest, ErrUnsupported, IssueNotSupported, "", "search parameter modifiers and chains are not supported (only patient:identifier)")
			}
			return nil, Errorf(http.StatusBadRequest, ErrUnsupported, IssueNotSupported, "", "unknown search parameter for %s: this server supports %s", typ, paramList(typ))
		}
		if name == ParamLastUpdated {
			if len(vals) > 2 {
				return nil, invalid(name, "at most two values (a lower and an upper bound)")
			}
			for _, v := range vals {
				d, err := ParseDateParam(name, v)
				if err != nil {
					return nil, err
				}
				s.LastUpdated = append(s.LastUpdated, d)
			}
			continue
		}
		if len(vals) != 1 {
			return nil, invalid(name, "given more than once")
		}
		v := vals[0]
		if strings.Contains(v, ",") {
			return nil, otherPatientOr(name, "one value only: a search names one patient")
		}
		switch name {
		case ParamCount:
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > MaxCount {
				return nil, invalid(name, "must be an integer from 1 to %d", MaxCount)
			}
			s.Count = n
		case ParamFormat:
			// checked below
		case ParamPatient, "_id":
			id := strings.TrimPrefix(v, "Patient/")
			if !ValidID(id) {
				return nil, invalid(name, "must be Patient/{id} or {id} with a FHIR id (use patient:identifier for a DID)")
			}
			if s.Patient.ID != "" || s.Patient.DID != "" {
				return nil, invalid(name, "name the patient once")
			}
			s.Patient.ID = id
		case ParamPatient + ":identifier", "identifier":
			sys, val, ok := strings.Cut(v, "|")
			if !ok || sys != SystemURI || !strings.HasPrefix(val, "did:") || len(val) > 512 {
				return nil, invalid(name, "must be %s|{DID}", SystemURI)
			}
			if s.Patient.ID != "" || s.Patient.DID != "" {
				return nil, invalid(name, "name the patient once")
			}
			s.Patient.DID = val
		}
	}
	if err := checkFormat(q); err != nil {
		return nil, err
	}
	if typ != "AuditEvent" && s.Patient.ID == "" && s.Patient.DID == "" {
		if typ == "Patient" {
			return nil, Errorf(http.StatusBadRequest, ErrInvalid, IssueRequired, "", "a Patient search names one patient: _id or identifier=%s|{DID}", SystemURI)
		}
		return nil, Errorf(http.StatusBadRequest, ErrInvalid, IssueRequired, ParamPatient, "a search names one patient: patient=Patient/{id} or patient:identifier=%s|{DID}", SystemURI)
	}
	return s, nil
}

func otherPatientOr(name, msg string) *Error {
	if name == ParamPatient || name == ParamPatient+":identifier" || name == "_id" || name == "identifier" {
		return Errorf(http.StatusBadRequest, ErrOtherPatient, IssueForbidden, name, "%s", msg)
	}
	return invalid(name, "one value only")
}

func paramList(typ string) string {
	var names []string
	for _, p := range SearchParams(typ) {
		names = append(names, p.Name)
	}
	if typ != "Patient" {
		names = append(names, "patient:identifier")
	}
	return strings.Join(append(names, ParamCount), ", ")
}

func checkFormat(q url.Values) error {
	f, ok := q[ParamFormat]
	if !ok {
		return nil
	}
	if len(f) != 1 || !slices.Contains([]string{"json", "application/json", "application/fhir+json"}, f[0]) {
		return Errorf(http.StatusNotAcceptable, ErrUnsupported, IssueNotSupported, ParamFormat, "this server speaks FHIR JSON only")
	}
	return nil
}

// Page is the state of a paged search, sealed into its next link's
// cursor: the client it was issued to, the search, and where the next
// page starts.
type Page struct {
	Client      string   `json:"c"`
	Type        string   `json:"t"`
	PatientID   string   `json:"pi,omitempty"`
	PatientDID  string   `json:"pd,omitempty"`
	LastUpdated []string `json:"lu,omitempty"`
	Count       int      `json:"n"`
	// Purpose is the purpose of use the search was made for.
	Purpose string    `json:"pu,omitempty"`
	After   string    `json:"a"`
	Expires time.Time `json:"x"`
}

// Search returns the page's search (LastUpdated re-parsed from the sealed
// values).
func (p *Page) Search() (*Search, error) {
	s := &Search{Type: p.Type, Patient: Patient{ID: p.PatientID, DID: p.PatientDID}, Count: p.Count}
	for _, v := range p.LastUpdated {
		d, err := ParseDateParam(ParamLastUpdated, v)
		if err != nil {
			return nil, err
		}
		s.LastUpdated = append(s.LastUpdated, d)
	}
	return s, nil
}

// Pager seals and opens paging cursors. A cursor is the [Page] encrypted
// and authenticated with XChaCha20-Poly1305 under the pager's key, with
// the client's identity as associated data: a client cannot read it
// (it holds the patient's id), change the patient or the filters in it,
// or use a cursor issued to another client; it expires after TTL. Safe
// for concurrent use.
type Pager struct {
	aead cipher.AEAD
	// TTL is how long a cursor works (default 10 minutes).
	TTL time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// NewPager returns a pager with a 32-byte key. The key MUST be secret
// and random (e.g. derived from the vault's master key).
func NewPager(key []byte) (*Pager, error) {
	a, err := chacha20poly1305.NewX(key)
	if err != nil {
		return nil, fmt.Errorf("fhir.NewPager: %w", err)
	}
	return &Pager{aead: a, TTL: 10 * time.Minute, Now: time.Now}, nil
}

const cursorAD = "medid-fhir-cursor-v1\x00"

// Seal returns the cursor of page p for p.Client, valid for TTL.
func (pg *Pager) Seal(p Page) (string, error) {
	p.Expires = pg.Now().Add(pg.TTL).UTC().Truncate(time.Second)
	b, err := json.Marshal(p)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, pg.aead.NonceSize(), pg.aead.NonceSize()+len(b)+pg.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	out := pg.aead.Seal(nonce, nonce, b, []byte(cursorAD+p.Client))
	c := base64.RawURLEncoding.EncodeToString(out)
	if len(c) > MaxCursorSize {
		return "", fmt.Errorf("fhir: cursor of %d bytes exceeds %d", len(c), MaxCursorSize)
	}
	return c, nil
}

// Open returns the page of cursor if it was sealed by this pager for
// client and has not expired. Errors are [*Error]s wrapping [ErrBadCursor].
func (pg *Pager) Open(cursor, client string) (*Page, error) {
	bad := Errorf(http.StatusBadRequest, ErrBadCursor, IssueInvalid, ParamCursor, "the cursor is not valid for this client or has expired: search again")
	if len(cursor) > MaxCursorSize {
		return nil, bad
	}
	raw, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil || len(raw) < pg.aead.NonceSize()+pg.aead.Overhead() {
		return nil, bad
	}
	n := pg.aead.NonceSize()
	b, err := pg.aead.Open(nil, raw[:n], raw[n:], []byte(cursorAD+client))
	if err != nil {
		return nil, bad
	}
	var p Page
	if err := json.Unmarshal(b, &p); err != nil || p.Client != client || !pg.Now().Before(p.Expires) {
		return nil, bad
	}
	if p.Count < 1 || p.Count > MaxCount || !Supported(p.Type) {
		return nil, bad
	}
	return &p, nil
}
