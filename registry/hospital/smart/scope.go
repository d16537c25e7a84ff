package smart

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// ErrInvalidScope reports a scope string that is not a SMART v2 (or v1)
// resource scope this server supports, or one wider than allowed.
var ErrInvalidScope = errors.New("invalid_scope")

// Perm is a set of SMART v2 permissions.
type Perm uint8

// The SMART v2 permissions, in the order they are written.
const (
	PermCreate Perm = 1 << iota
	PermRead
	PermUpdate
	PermDelete
	PermSearch
)

const permLetters = "cruds"

// String writes the permissions in SMART order ("rs").
func (p Perm) String() string {
	var b strings.Builder
	for i := range len(permLetters) {
		if p&(1<<i) != 0 {
			b.WriteByte(permLetters[i])
		}
	}
	return b.String()
}

// Scope contexts.
const (
	ContextPatient = "patient"
	ContextSystem  = "system"
)

// MaxScopes bounds the scopes of one request; MaxScopeLength one scope.
const (
	MaxScopes      = 32
	MaxScopeLength = 256
)

// Scope is one SMART resource scope: context/Type.perms[?category=system|code].
type Scope struct {
	// Context is ContextPatient or ContextSystem.
	Context string
	// Type is a FHIR resource type, or "*" for every type.
	Type string
	// Perms is non-empty.
	Perms Perm
	// Category, when set, restricts the scope to resources with a category
	// coding of that system and code (SMART v2 granular scopes).
	Category *Category
}

// Category is a granular scope's category restriction.
type Category struct {
	System, Code string
}

// String writes the scope in SMART v2 syntax.
func (s Scope) String() string {
	out := s.Context + "/" + s.Type + "." + s.Perms.String()
	if s.Category != nil {
		out += "?category=" + s.Category.System + "|" + s.Category.Code
	}
	return out
}

// ParseScope parses one SMART resource scope: v2
// ("patient/AllergyIntolerance.rs", "system/*.cruds",
// "patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory")
// or v1 ("patient/Observation.read" = rs, ".write" = cud, ".*" = cruds).
// types lists the resource types the server serves. user/ scopes,
// launch and OpenID scopes are refused: backend services have no user
// and no launch. Errors wrap [ErrInvalidScope].
func ParseScope(s string, types []string) (Scope, error) {
	bad := func(format string, args ...any) (Scope, error) {
		return Scope{}, fmt.Errorf("%w: %s", ErrInvalidScope, fmt.Sprintf(format, args...))
	}
	if len(s) > MaxScopeLength {
		return bad("a scope of %d bytes (at most %d)", len(s), MaxScopeLength)
	}
	ctx, rest, ok := strings.Cut(s, "/")
	if !ok {
		return bad("%.64q is not a resource scope (context/Type.permissions); backend services take no launch, openid or fhirUser scopes", s)
	}
	switch ctx {
	case ContextPatient, ContextSystem:
	case "user":
		return bad("user/ scopes need a user: backend services use system/ or patient/")
	default:
		return bad("unknown context %.32q: use system/ or patient/", ctx)
	}
	rest, query, hasQuery := strings.Cut(rest, "?")
	typ, perms, ok := strings.Cut(rest, ".")
	if !ok {
		return bad("missing .permissions in %.64q", s)
	}
	sc := Scope{Context: ctx, Type: typ}
	if typ != "*" && !slices.Contains(types, typ) {
		return bad("resource type %.64q is not served here", typ)
	}
	switch perms {
	case "read":
		sc.Perms = PermRead | PermSearch
	case "write":
		sc.Perms = PermCreate | PermUpdate | PermDelete
	case "*":
		sc.Perms = PermCreate | PermRead | PermUpdate | PermDelete | PermSearch
	default:
		last := -1
		for i := 0; i < len(perms); i++ {
			j := strings.IndexByte(permLetters, perms[i])
			if j < 0 || j <= last {
				return bad("permissions %.16q: use the letters c r u d s, each at most once, in that order", perms)
			}
			last = j
			sc.Perms |= 1 << j
		}
		if sc.Perms == 0 {
			return bad("no permissions in %.64q", s)
		}
	}
	if hasQuery {
		if hasV1(perms) {
			return bad("granular ?parameters need v2 permissions (e.g. .rs)")
		}
		name, val, ok := strings.Cut(query, "=")
		if !ok || name != "category" || strings.ContainsAny(val, "&=") {
			return bad("the only granular restriction supported is ?category=system|code")
		}
		if typ == "*" {
			return bad("?category needs a resource type")
		}
		sys, code, ok := strings.Cut(val, "|")
		if !ok || sys == "" || code == "" || strings.Contains(code, "|") {
			return bad("?category must be system|code")
		}
		sc.Category = &Category{System: sys, Code: code}
	}
	return sc, nil
}

func hasV1(p string) bool { return p == "read" || p == "write" || p == "*" }

// Scopes is a set of scopes.
type Scopes []Scope

// ParseScopes parses a space-separated scope string (at most [MaxScopes]
// scopes; duplicates are dropped). Errors wrap [ErrInvalidScope].
func ParseScopes(s string, types []string) (Scopes, error) {
	fields := strings.Fields(s)
	if len(fields) == 0 {
		return nil, fmt.Errorf("%w: no scope: ask for e.g. system/AllergyIntolerance.rs", ErrInvalidScope)
	}
	if len(fields) > MaxScopes {
		return nil, fmt.Errorf("%w: %d scopes (at most %d)", ErrInvalidScope, len(fields), MaxScopes)
	}
	var out Scopes
	seen := map[string]bool{}
	for _, f := range fields {
		sc, err := ParseScope(f, types)
		if err != nil {
			return nil, err
		}
		if k := sc.String(); !seen[k] {
			seen[k] = true
			out = append(out, sc)
		}
	}
	return out, nil
}

// String writes the scopes space-separated in SMART v2 syntax.
func (ss Scopes) String() string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = s.String()
	}
	return strings.Join(parts, " ")
}

// Covers reports whether scope a allows everything b does: same context,
// a's type * or b's, b's permissions a subset of a's, and a's category
// restriction (if any) equal to b's.
func (a Scope) Covers(b Scope) bool {
	if a.Context != b.Context || (a.Type != "*" && a.Type != b.Type) || b.Perms&^a.Perms != 0 {
		return false
	}
	if a.Category == nil {
		return true
	}
	return b.Category != nil && *a.Category == *b.Category
}

// Covers reports whether some scope of ss covers b.
func (ss Scopes) Covers(b Scope) bool {
	for _, a := range ss {
		if a.Covers(b) {
			return true
		}
	}
	return false
}

// Allows reports whether the scopes permit perm on a resource of type typ
// with the given category codings (from fhir.Resource.Categories), in
// either context: a backend client's patient/ and system/ scopes both
// grant access to the patients it has consent for (the consent check is
// separate). A scope with a category restriction allows only resources
// with that category; for a search (PermSearch), the caller MUST filter
// the results with Allows on each resource.
func (ss Scopes) Allows(typ string, perm Perm, categories []Category) bool {
	for _, s := range ss {
		if (s.Type != "*" && s.Type != typ) || s.Perms&perm != perm {
			continue
		}
		if s.Category == nil || slices.Contains(categories, *s.Category) {
			return true
		}
	}
	return false
}

// Permits reports whether the scopes allow perm on typ for at least some
// resources (ignoring category restrictions): the check before a search.
func (ss Scopes) Permits(typ string, perm Perm) bool {
	for _, s := range ss {
		if (s.Type == "*" || s.Type == typ) && s.Perms&perm == perm {
			return true
		}
	}
	return false
}
