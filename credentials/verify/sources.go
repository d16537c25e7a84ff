package verify

import (
	"context"
	"errors"
	"fmt"

	"github.com/medid/medid/credentials/did"
)

// Registry is what a verifier asks a network registry: the DIDs of the
// registry's method (did:medid), published status lists, and which issuers
// are accredited for which credential types. registry/client's *Client
// implements it. Implementations must be safe for concurrent use.
type Registry interface {
	did.Resolver
	StatusFetcher
	Accreditations
}

// DefaultRegistryMethod is the DID method a [Sources.Registry] resolves
// when Sources.Method is empty.
const DefaultRegistryMethod = "medid"

// Sources says where a verifier finds what it checks a credential against.
// It is the one place the DID resolver, the status list fetcher and the
// accreditation source of the CLI, the wallet app and the services are put
// together. The zero value verifies did:key issuers only and answers
// status_unavailable for a credential with a status list.
type Sources struct {
	// Registry resolves the DIDs of Method, serves the status lists it
	// publishes and says which issuers are accredited. nil works offline:
	// no accreditation check, and Method's DIDs come from DIDs, if given.
	Registry Registry
	// Method is the DID method Registry (or DIDs) resolves; default
	// [DefaultRegistryMethod].
	Method string
	// StatusFiles are status list credentials on disk, by the id their
	// credentials point at. They are consulted before Registry, so a list
	// given locally wins over the published one.
	StatusFiles FileStatusFetcher
	// DIDs resolves Method's DIDs when there is no Registry: cached DID
	// documents for offline verification. It is ignored when Registry is
	// set.
	DIDs did.Resolver
}

// Resolver returns the DID resolver of s: did:key always, and Method's DIDs
// through Registry (or DIDs offline).
func (s Sources) Resolver() did.Resolver {
	methods := map[string]did.Resolver{"key": did.KeyResolver{}}
	m := s.Method
	if m == "" {
		m = DefaultRegistryMethod
	}
	switch {
	case s.Registry != nil:
		methods[m] = s.Registry
	case s.DIDs != nil:
		methods[m] = s.DIDs
	}
	return did.NewRouter(methods)
}

// StatusFetcher returns the status list fetcher of s: StatusFiles first,
// then Registry. With neither it returns nil (no list can be fetched).
func (s Sources) StatusFetcher() StatusFetcher {
	switch {
	case len(s.StatusFiles) == 0 && s.Registry == nil:
		return nil
	case len(s.StatusFiles) == 0:
		return s.Registry
	}
	var next StatusFetcher
	if s.Registry != nil {
		next = s.Registry
	}
	return chainedStatus{files: s.StatusFiles, next: next}
}

// NewFor returns a Verifier that checks against src: cfg's Resolver,
// Status and Trust MUST be unset, [Sources.Resolver] and
// [Sources.StatusFetcher] fill them in, and Registry is the trust source
// (none offline). The rest of cfg applies as for [New].
func NewFor(src Sources, cfg Config) (*Verifier, error) {
	if cfg.Resolver != nil || cfg.Status != nil || cfg.Trust != nil {
		return nil, errors.New("verify: NewFor takes the resolver, status lists and accreditations from Sources; leave Config.Resolver, Status and Trust unset")
	}
	cfg.Resolver = src.Resolver()
	cfg.Status = src.StatusFetcher()
	if src.Registry != nil {
		cfg.Trust = src.Registry
	}
	return New(cfg)
}

// chainedStatus serves local status list files, then falls back to next.
type chainedStatus struct {
	files FileStatusFetcher
	next  StatusFetcher
}

func (c chainedStatus) FetchStatusList(ctx context.Context, url string) (string, error) {
	tok, err := c.files.FetchStatusList(ctx, url)
	if err == nil || !errors.Is(err, ErrStatusListNotFound) {
		return tok, err
	}
	if c.next != nil {
		return c.next.FetchStatusList(ctx, url)
	}
	return "", fmt.Errorf("%w: give its file, or a registry to fetch it from", err)
}
