package did

import (
	"errors"
	"fmt"
	"strings"

	"github.com/medid/medid/credentials/key"
	"github.com/multiformats/go-multibase"
)

// Errors returned by this package. Callers branch on them with errors.Is.
// Where the W3C DID Resolution specification names an error, the sentinel's
// message is that name, so it can be passed on to HTTP clients as is.
var (
	// ErrInvalidDID reports a string that is not a DID (or DID URL) per DID
	// Core 1.0 §3.1, or a did:key whose value cannot be decoded.
	ErrInvalidDID = errors.New("invalidDid")
	// ErrNotFound reports a DID that its method does not know.
	ErrNotFound = errors.New("notFound")
	// ErrDeactivated reports a DID that was deactivated by its controller.
	ErrDeactivated = errors.New("deactivated")
	// ErrMethodNotSupported reports a DID method no resolver is configured for.
	ErrMethodNotSupported = errors.New("methodNotSupported")
	// ErrInvalidDocument reports a DID document that is malformed or fails
	// validation; the wrapping error (a [*DocumentError]) says what is wrong.
	ErrInvalidDocument = errors.New("invalidDidDocument")
	// ErrKeyNotFound reports a key id that names no verification method of
	// the document, or one not authorised for the requested relationship.
	ErrKeyNotFound = errors.New("verification method not found")
	// ErrInvalidPublicKeyLength is key.ErrInvalidPublicKeyLength: a public
	// key of the wrong size for its type (did:key's invalidPublicKeyLength).
	ErrInvalidPublicKeyLength = key.ErrInvalidPublicKeyLength
	// ErrInvalidPublicKey is key.ErrInvalidPublicKey: key bytes of the right
	// size that are not a valid key (did:key's invalidPublicKey).
	ErrInvalidPublicKey = key.ErrInvalidPublicKey
	// ErrUnsupportedPublicKeyType reports a did:key or verification method
	// whose key type medid does not handle (only Ed25519 and P-256 are).
	ErrUnsupportedPublicKeyType = errors.New("unsupportedPublicKeyType")
)

// DID is a decentralized identifier "did:<Method>:<ID>". The zero value is
// not a valid DID. DIDs compare with ==: DID Core compares them as strings,
// so no normalisation (of case or percent-encoding) is applied anywhere.
type DID struct {
	// Method is the method name: lowercase ASCII letters and digits.
	Method string
	// ID is the method-specific identifier.
	ID string
}

// Parse parses a DID (not a DID URL: no path, query or fragment) following
// the ABNF of DID Core 1.0 §3.1:
//
//	did                = "did:" method-name ":" method-specific-id
//	method-name        = 1*method-char
//	method-char        = %x61-7A / DIGIT
//	method-specific-id = *( *idchar ":" ) 1*idchar
//	idchar             = ALPHA / DIGIT / "." / "-" / "_" / pct-encoded
//
// The error wraps [ErrInvalidDID] and says which rule was broken.
func Parse(s string) (DID, error) {
	d, rest, err := parseDIDPrefix(s)
	if err != nil {
		return DID{}, err
	}
	if rest != "" {
		return DID{}, fmt.Errorf("%w: unexpected %q after the method-specific id (a DID URL? use ParseURL)", ErrInvalidDID, clip(rest))
	}
	return d, nil
}

// MustParse is like [Parse] but panics on error. It is meant for constants
// in tests and examples.
func MustParse(s string) DID {
	d, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return d
}

// String returns the DID in its only textual form, "did:method:id".
func (d DID) String() string { return "did:" + d.Method + ":" + d.ID }

// IsZero reports whether d is the zero DID.
func (d DID) IsZero() bool { return d.Method == "" && d.ID == "" }

// parseDIDPrefix parses the DID at the start of s and returns the rest, which
// starts at the first character that cannot continue the method-specific id.
func parseDIDPrefix(s string) (DID, string, error) {
	if !strings.HasPrefix(s, "did:") {
		return DID{}, "", fmt.Errorf("%w: must start with \"did:\"", ErrInvalidDID)
	}
	s = s[len("did:"):]
	i := 0
	for i < len(s) && (s[i] >= 'a' && s[i] <= 'z' || s[i] >= '0' && s[i] <= '9') {
		i++
	}
	if i == 0 {
		return DID{}, "", fmt.Errorf("%w: empty or invalid method name (lowercase letters and digits only)", ErrInvalidDID)
	}
	if i == len(s) || s[i] != ':' {
		return DID{}, "", fmt.Errorf("%w: method name must be lowercase letters and digits followed by ':'", ErrInvalidDID)
	}
	method := s[:i]
	s = s[i+1:]
	j := 0
	for j < len(s) {
		c := s[j]
		switch {
		case isIDChar(c) || c == ':':
			j++
		case c == '%':
			if j+2 >= len(s) || !isHex(s[j+1]) || !isHex(s[j+2]) {
				return DID{}, "", fmt.Errorf("%w: '%%' must be followed by two hex digits", ErrInvalidDID)
			}
			j += 3
		case c == '/' || c == '?' || c == '#':
			goto done
		default:
			return DID{}, "", fmt.Errorf("%w: character %q is not allowed in a method-specific id", ErrInvalidDID, c)
		}
	}
done:
	id := s[:j]
	if id == "" {
		return DID{}, "", fmt.Errorf("%w: empty method-specific id", ErrInvalidDID)
	}
	if id[len(id)-1] == ':' {
		return DID{}, "", fmt.Errorf("%w: method-specific id must not end with ':'", ErrInvalidDID)
	}
	return DID{Method: method, ID: id}, s[j:], nil
}

func isIDChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_'
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// isPChar reports whether c may appear unescaped in a path segment (RFC 3986
// pchar minus pct-encoded, which callers handle).
func isPChar(c byte) bool {
	if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
		return true
	}
	switch c {
	case '-', '.', '_', '~', // unreserved
		'!', '$', '&', '\'', '(', ')', '*', '+', ',', ';', '=', // sub-delims
		':', '@':
		return true
	}
	return false
}

// URL is a DID URL (DID Core 1.0 §3.2):
//
//	did-url = did path-abempty [ "?" query ] [ "#" fragment ]
//
// Path keeps its leading "/"; Query and Fragment are stored without their
// delimiters and without percent-decoding. An empty query or fragment ("?"
// or "#" followed by nothing) is treated as absent.
type URL struct {
	DID      DID
	Path     string
	Query    string
	Fragment string
}

// ParseURL parses a DID URL. A plain DID is a valid DID URL. The error wraps
// [ErrInvalidDID] and says what is wrong.
func ParseURL(s string) (URL, error) {
	d, rest, err := parseDIDPrefix(s)
	if err != nil {
		return URL{}, err
	}
	u := URL{DID: d}
	// path-abempty
	i := 0
	for i < len(rest) && rest[i] != '?' && rest[i] != '#' {
		i++
	}
	if err := checkURIPart(rest[:i], "path", false); err != nil {
		return URL{}, err
	}
	u.Path = rest[:i]
	rest = rest[i:]
	if strings.HasPrefix(rest, "?") {
		rest = rest[1:]
		i = strings.IndexByte(rest, '#')
		if i < 0 {
			i = len(rest)
		}
		if err := checkURIPart(rest[:i], "query", true); err != nil {
			return URL{}, err
		}
		u.Query = rest[:i]
		rest = rest[i:]
	}
	if strings.HasPrefix(rest, "#") {
		rest = rest[1:]
		if err := checkURIPart(rest, "fragment", true); err != nil {
			return URL{}, err
		}
		u.Fragment = rest
	}
	return u, nil
}

// checkURIPart checks s against RFC 3986 path-abempty (query=false: pchar and
// "/") or query/fragment (query=true: pchar, "/" and "?").
func checkURIPart(s, what string, query bool) error {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case isPChar(c) || c == '/':
		case query && c == '?':
		case c == '%':
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				return fmt.Errorf("%w: '%%' in the %s must be followed by two hex digits", ErrInvalidDID, what)
			}
			i += 2
		default:
			return fmt.Errorf("%w: character %q is not allowed in a DID URL %s", ErrInvalidDID, c, what)
		}
	}
	return nil
}

// String returns the DID URL. ParseURL(u.String()) returns u for every u
// that ParseURL returned.
func (u URL) String() string {
	var b strings.Builder
	b.WriteString(u.DID.String())
	b.WriteString(u.Path)
	if u.Query != "" {
		b.WriteByte('?')
		b.WriteString(u.Query)
	}
	if u.Fragment != "" {
		b.WriteByte('#')
		b.WriteString(u.Fragment)
	}
	return b.String()
}

// clip shortens untrusted input quoted in error messages.
func clip(s string) string {
	const max = 160
	if len(s) <= max {
		return s
	}
	return s[:max] + "…"
}

// MedidIDBytes is the size of what a did:medid method-specific id encodes
// (base58btc): the first 16 bytes of a SHA-256 (registry/tx derives them).
const MedidIDBytes = 16

// Check parses s as a DID ([Parse]) and, for the methods medid uses, checks
// the method-specific id too: a did:key must hold an Ed25519 or P-256 key
// ([ParseKeyDID]), a did:medid id must be base58btc of [MedidIDBytes]
// bytes. Other methods pass on syntax alone. Use it wherever a DID someone
// typed names who receives something (a consent grant's provider, say):
// "did:key:foo" parses, but names nobody. Errors wrap [ErrInvalidDID] (or
// the did:key errors of [ParseKeyDID]).
func Check(s string) error {
	d, err := Parse(s)
	if err != nil {
		return err
	}
	switch d.Method {
	case "key":
		_, err = keyFromDID(d)
		return err
	case "medid":
		_, b, err := multibase.Decode("z" + d.ID)
		if err != nil || len(b) != MedidIDBytes || strings.ContainsRune(d.ID, ':') {
			return fmt.Errorf("%w: a did:medid id is base58btc of %d bytes, %q is not", ErrInvalidDID, MedidIDBytes, clip(d.ID))
		}
	}
	return nil
}
