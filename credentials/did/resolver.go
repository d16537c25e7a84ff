package did

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"
)

// DocumentMetadata is the DID document metadata of a resolution (DID Core
// 1.0 §7.1.3). Times are written in RFC 3339 in UTC without fractional
// seconds, as DID Core requires.
type DocumentMetadata struct {
	Created       *time.Time
	Updated       *time.Time
	VersionID     string
	NextVersionID string
	Deactivated   bool
}

type wireMetadata struct {
	Created       string `json:"created,omitempty"`
	Updated       string `json:"updated,omitempty"`
	VersionID     string `json:"versionId,omitempty"`
	NextVersionID string `json:"nextVersionId,omitempty"`
	Deactivated   bool   `json:"deactivated,omitempty"`
}

// MarshalJSON writes the metadata with the DID Core member names; unset
// members are left out.
func (m DocumentMetadata) MarshalJSON() ([]byte, error) {
	w := wireMetadata{VersionID: m.VersionID, NextVersionID: m.NextVersionID, Deactivated: m.Deactivated}
	if m.Created != nil {
		w.Created = m.Created.UTC().Format(time.RFC3339)
	}
	if m.Updated != nil {
		w.Updated = m.Updated.UTC().Format(time.RFC3339)
	}
	return json.Marshal(w)
}

// UnmarshalJSON reads metadata written by MarshalJSON (or by another DID
// resolver: fractional seconds and offsets are accepted, times end up UTC).
func (m *DocumentMetadata) UnmarshalJSON(data []byte) error {
	var w wireMetadata
	if err := json.Unmarshal(data, &w); err != nil {
		return fmt.Errorf("DID document metadata: %w", err)
	}
	out := DocumentMetadata{VersionID: w.VersionID, NextVersionID: w.NextVersionID, Deactivated: w.Deactivated}
	for _, f := range []struct {
		s   string
		dst **time.Time
	}{{w.Created, &out.Created}, {w.Updated, &out.Updated}} {
		if f.s == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339Nano, f.s)
		if err != nil {
			return fmt.Errorf("DID document metadata: time %q is not RFC 3339", clip(f.s))
		}
		t = t.UTC()
		*f.dst = &t
	}
	*m = out
	return nil
}

// Resolution is the result of resolving a DID.
type Resolution struct {
	// Document is the DID document. Callers MUST NOT modify it: resolvers
	// and caches may share it between callers (see [Document.Clone]).
	Document *Document `json:"didDocument"`
	// Metadata is the document metadata (versions, deactivation).
	Metadata DocumentMetadata `json:"didDocumentMetadata"`
	// TTL is how long the result may be cached; 0 means the cache's default.
	TTL time.Duration `json:"-"`
}

// Resolver resolves a DID to its document. Implementations MUST be safe for
// concurrent use and return errors wrapping [ErrInvalidDID], [ErrNotFound],
// [ErrDeactivated] or [ErrMethodNotSupported] for those conditions.
type Resolver interface {
	Resolve(ctx context.Context, did string) (*Resolution, error)
}

// ResolverFunc adapts a function to [Resolver].
type ResolverFunc func(ctx context.Context, did string) (*Resolution, error)

// Resolve calls f(ctx, did).
func (f ResolverFunc) Resolve(ctx context.Context, did string) (*Resolution, error) {
	return f(ctx, did)
}

// Router resolves each DID with the resolver of its method. It is
// immutable after [NewRouter] and safe for concurrent use.
type Router struct {
	methods map[string]Resolver
}

// NewRouter returns a router over methods, a map from method name ("key",
// "medid") to resolver. The map is copied; nil resolvers are ignored.
func NewRouter(methods map[string]Resolver) *Router {
	r := &Router{methods: make(map[string]Resolver, len(methods))}
	for m, res := range methods {
		if res != nil {
			r.methods[m] = res
		}
	}
	return r
}

// Resolve parses did and passes it to the resolver of its method. An
// invalid DID is [ErrInvalidDID]; a method without a resolver is
// [ErrMethodNotSupported].
func (r *Router) Resolve(ctx context.Context, did string) (*Resolution, error) {
	d, err := Parse(did)
	if err != nil {
		return nil, err
	}
	res, ok := r.methods[d.Method]
	if !ok {
		return nil, fmt.Errorf("%w: no resolver for did:%s (supported: %v)", ErrMethodNotSupported, d.Method, r.Methods())
	}
	return res.Resolve(ctx, did)
}

// Methods returns the method names the router knows, sorted.
func (r *Router) Methods() []string {
	out := make([]string, 0, len(r.methods))
	for m := range r.methods {
		out = append(out, m)
	}
	sort.Strings(out)
	return out
}
