package verify

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/statuslist"
	"github.com/medid/medid/credentials/tokenstatus"
	"github.com/medid/medid/credentials/vc"
)

// StatusFetcher fetches a status list by its URL: a Bitstring Status List
// credential as a vc+jwt (the statusListCredential of a status entry), or a
// Token Status List as a statuslist+jwt (the uri of an SD-JWT VC's
// status.status_list). Implementations must be
// safe for concurrent use. The Verifier verifies and caches what they
// return, so they need not cache.
type StatusFetcher interface {
	FetchStatusList(ctx context.Context, url string) (token string, err error)
}

// StatusFetcherFunc adapts a function to [StatusFetcher].
type StatusFetcherFunc func(ctx context.Context, url string) (string, error)

// FetchStatusList calls f(ctx, url).
func (f StatusFetcherFunc) FetchStatusList(ctx context.Context, url string) (string, error) {
	return f(ctx, url)
}

// ErrStatusListNotFound is returned by [StaticStatusFetcher] and
// [FileStatusFetcher] for a URL they do not know.
var ErrStatusListNotFound = errors.New("status list not found")

// StaticStatusFetcher serves status list credentials held in memory: a map
// from status list URL to vc+jwt. It must not be modified concurrently
// with a fetch.
type StaticStatusFetcher map[string]string

// FetchStatusList returns the token for url, or ErrStatusListNotFound.
func (s StaticStatusFetcher) FetchStatusList(_ context.Context, url string) (string, error) {
	if tok, ok := s[url]; ok {
		return tok, nil
	}
	return "", fmt.Errorf("%w: %s is not among the %d local status lists", ErrStatusListNotFound, url, len(s))
}

// FileStatusFetcher serves status list credentials from local files: a map
// from status list URL to the path of a file holding its vc+jwt. The file
// is read on every fetch, so a list rewritten by the issuer is seen once the
// cached copy expires. It must not be modified concurrently with a fetch.
type FileStatusFetcher map[string]string

// maxStatusFileSize bounds a status list file: the largest list statuslist
// accepts, base64-encoded inside a JWS, with room for the rest.
const maxStatusFileSize = 64 << 20

// FetchStatusList reads the file for url. An unknown url is
// ErrStatusListNotFound; surrounding whitespace is removed.
func (f FileStatusFetcher) FetchStatusList(_ context.Context, url string) (string, error) {
	path, ok := f[url]
	if !ok {
		return "", fmt.Errorf("%w: no local file for %s", ErrStatusListNotFound, url)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("status list %s: %w", url, err)
	}
	if fi.Size() > maxStatusFileSize {
		return "", fmt.Errorf("status list file %s is %d bytes, more than the %d a status list can need", path, fi.Size(), maxStatusFileSize)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("status list %s: %w", url, err)
	}
	return strings.TrimSpace(string(b)), nil
}

// fetchError marks a failure to fetch (not to verify) a status list: only
// then is a stale cached copy used instead.
type fetchError struct{ err error }

func (e *fetchError) Error() string { return e.err.Error() }
func (e *fetchError) Unwrap() error { return e.err }

// checkStatus checks one credentialStatus entry of c.
func (v *Verifier) checkStatus(ctx context.Context, r *Result, c *vc.Credential, s *vc.Status) {
	purpose := statuslist.Purpose(s.StatusPurpose)
	switch {
	case s.Type != statuslist.TypeEntry:
		r.fail(CheckStatus, ReasonStatusUnavailable, fmt.Sprintf("status entry type %q is not supported (only %s)", clip(s.Type), statuslist.TypeEntry))
		return
	case purpose == statuslist.Refresh || purpose == statuslist.Message:
		r.add(Check{Name: CheckStatus, OK: true, Skipped: true, Detail: "statusPurpose " + string(purpose) + " does not affect validity"})
		return
	case s.StatusListCredential == "":
		r.fail(CheckStatus, ReasonMalformed, "status entry has no statusListCredential")
		return
	}
	url := s.StatusListCredential
	e, stale, err := v.statusList(ctx, url)
	if err != nil {
		// (Only here: errors.As's target escapes, an allocation per entry.)
		if fe := (*fetchError)(nil); errors.As(err, &fe) {
			r.unavailable(CheckStatus, ReasonStatusUnavailable, fmt.Sprintf("%s list %s could not be fetched: %v", clip(s.StatusPurpose), clip(url), fe.err), nil)
		} else {
			r.fail(CheckStatus, ReasonStatusUnavailable, fmt.Sprintf("%s list %s: %v", clip(s.StatusPurpose), clip(url), err))
		}
		return
	}
	if e.list == nil {
		r.fail(CheckStatus, ReasonStatusUnavailable, fmt.Sprintf("%s serves a Token Status List, but the credential has a BitstringStatusListEntry for it", clip(url)))
		return
	}
	if e.list.Issuer != c.Issuer {
		r.fail(CheckStatus, ReasonStatusUnavailable, fmt.Sprintf("status list %s is issued by %s, not by the credential's issuer %s", clip(url), e.list.Issuer, c.Issuer))
		return
	}
	set, err := e.list.Check(*s)
	switch {
	case errors.Is(err, statuslist.ErrListMismatch):
		r.fail(CheckStatus, ReasonStatusUnavailable, err.Error())
		return
	case err != nil:
		r.fail(CheckStatus, ReasonMalformed, err.Error())
		return
	}
	note := ""
	if stale != nil {
		note = fmt.Sprintf(" (in the copy fetched %s; fetching it again failed: %v)", e.fetched.UTC().Format(time.RFC3339), stale)
	}
	// One concatenation per outcome: this runs for every entry of every
	// credential verified.
	switch {
	case !set && stale != nil:
		// The last copy said "not set", but it has expired and no newer one
		// could be fetched: the entry may have been set since. Could not
		// check; it was last known good when the copy was fetched.
		fetched := e.fetched
		r.unavailable(CheckStatus, ReasonStatusUnavailable, string(e.list.Purpose)+" list "+url+" could not be fetched again: "+stale.Error()+
			"; index "+s.StatusListIndex+" was not set in the copy fetched "+fetched.UTC().Format(time.RFC3339), &fetched)
	case !set:
		r.pass(CheckStatus, string(e.list.Purpose)+" list "+url+" index "+s.StatusListIndex+": not set")
	case e.list.Purpose == statuslist.Suspension:
		r.fail(CheckStatus, ReasonSuspended, "suspension list "+url+" index "+s.StatusListIndex+": set"+note)
	default:
		r.fail(CheckStatus, ReasonRevoked, string(e.list.Purpose)+" list "+url+" index "+s.StatusListIndex+": set"+note)
	}
}

// statusList returns the verified, decoded status list at url: from the
// cache while fresh, else fetched (once, however many callers ask at the
// same time). When the fetch fails and an expired copy is cached, the copy
// is returned with the fetch error as stale: the caller decides what an
// out-of-date copy may still say.
func (v *Verifier) statusList(ctx context.Context, url string) (*statusEntry, error, error) {
	c := &v.lists
	now := v.now()
	c.mu.Lock()
	old := c.entries[url]
	if old != nil && now.Before(old.expires) {
		c.mu.Unlock()
		return old, nil, nil
	}
	call, waiting := c.inflight[url]
	if !waiting {
		call = &fetchCall{done: make(chan struct{})}
		c.inflight[url] = call
	}
	c.mu.Unlock()

	if waiting {
		select {
		case <-call.done:
		case <-ctx.Done():
			call = &fetchCall{err: &fetchError{ctx.Err()}}
		}
	} else {
		v.fetchFor(ctx, url, now, call)
	}
	if call.err == nil {
		return call.entry, nil, nil
	}
	var fe *fetchError
	if old != nil && errors.As(call.err, &fe) {
		v.log.Debug("status list fetch failed; the cached copy has expired", "url", url, "fetched", old.fetched, "err", call.err)
		return old, fe.err, nil
	}
	return nil, nil, call.err
}

// fetchFor fetches url for everyone waiting on call and caches a good list.
func (v *Verifier) fetchFor(ctx context.Context, url string, now time.Time, call *fetchCall) {
	c := &v.lists
	defer func() {
		if call.entry == nil && call.err == nil { // the fetcher panicked
			call.err = fmt.Errorf("status list fetcher panicked for %s", clip(url))
		}
		c.mu.Lock()
		delete(c.inflight, url)
		if call.err == nil {
			c.storeLocked(url, call.entry)
		}
		c.mu.Unlock()
		close(call.done)
	}()
	call.entry, call.err = v.fetchList(ctx, url, now)
}

// fetchList fetches, verifies and decodes the status list credential at url.
func (v *Verifier) fetchList(ctx context.Context, url string, now time.Time) (*statusEntry, error) {
	if v.fetcher == nil {
		return nil, &fetchError{errors.New("no status list fetcher configured")}
	}
	v.log.Debug("fetching status list", "url", url)
	tok, err := v.fetcher.FetchStatusList(ctx, url)
	if err != nil {
		return nil, &fetchError{fmt.Errorf("fetch: %w", err)}
	}
	kl := &keyLookup{v: v, rel: did.AssertionMethod}
	if DetectFormat(tok) == FormatTokenStatusList {
		t, err := tokenstatus.Verify(ctx, tok, kl.keys, tokenstatus.VerifyOptions{URI: url, Now: now, ClockSkew: v.skew})
		if err != nil {
			return nil, fmt.Errorf("token status list does not verify: %w", err)
		}
		return &statusEntry{tsl: t, fetched: now, expires: v.cacheUntil(now, t.TTL, t.Expires)}, nil
	}
	cred, err := vc.Verify(ctx, tok, kl.keys, vc.VerifyOptions{Now: now, ClockSkew: v.skew})
	if err != nil {
		return nil, fmt.Errorf("status list credential does not verify: %w", err)
	}
	d, err := statuslist.FromCredential(cred)
	if err != nil {
		return nil, err
	}
	if d.ID != url {
		return nil, fmt.Errorf("the status list credential fetched from %s has id %s", clip(url), clip(d.ID))
	}
	return &statusEntry{list: d, fetched: now, expires: v.cacheUntil(now, d.TTL, cred.ValidUntil)}, nil
}

// cacheUntil is when a list fetched at now stops being fresh: after its
// ttl (or the configured default), and never after the list's own end.
func (v *Verifier) cacheUntil(now time.Time, ttl time.Duration, until *time.Time) time.Time {
	if ttl <= 0 {
		ttl = v.statusTTL
	}
	expires := now.Add(ttl)
	if until != nil && until.Before(expires) {
		expires = *until
	}
	return expires
}

// storeLocked caches e, first evicting the entries that expire soonest
// until both the entry and the byte bounds hold. A list larger than the
// byte bound is not cached at all.
func (c *statusCache) storeLocked(url string, e *statusEntry) {
	size := e.size()
	if size > c.maxBytes {
		return
	}
	c.removeLocked(url)
	for len(c.entries) > 0 && (len(c.entries) >= c.max || c.bytes+size > c.maxBytes) {
		var victim string
		var soonest time.Time
		for u, x := range c.entries {
			if victim == "" || x.expires.Before(soonest) {
				victim, soonest = u, x.expires
			}
		}
		c.removeLocked(victim)
	}
	c.entries[url] = e
	c.bytes += size
}

func (c *statusCache) removeLocked(url string) {
	if old, ok := c.entries[url]; ok {
		c.bytes -= old.size()
		delete(c.entries, url)
	}
}

// Forget drops the cached status list at url, so the next credential that
// points at it fetches it again (for example after the issuer revoked one).
func (v *Verifier) Forget(url string) {
	v.lists.mu.Lock()
	defer v.lists.mu.Unlock()
	v.lists.removeLocked(url)
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "…(" + strconv.Itoa(len(s)) + " bytes)"
	}
	return s
}
