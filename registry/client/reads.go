package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/registry/ledger"
)

// Resolve resolves a DID through the registry (did:medid from the ledger;
// the registry also answers did:key). It implements did.Resolver: errors
// wrap did.ErrNotFound, did.ErrDeactivated (the Resolution is returned
// with it, metadata deactivated), did.ErrInvalidDID,
// did.ErrMethodNotSupported, ErrUnavailable, or ErrProof.
func (c *Client) Resolve(ctx context.Context, id string) (*did.Resolution, error) {
	return c.ResolveWith(ctx, id, ledger.ResolveOptions{})
}

// ResolveWith resolves a version of a DID (see [Client.Resolve]).
func (c *Client) ResolveWith(ctx context.Context, id string, opts ledger.ResolveOptions) (*did.Resolution, error) {
	d, err := did.Parse(id)
	if err != nil {
		return nil, err
	}
	if c.verify && d.Method == "key" {
		return did.KeyResolver{}.Resolve(ctx, id) // nothing on the ledger to prove
	}
	q := url.Values{}
	if opts.VersionID != "" {
		q.Set("versionId", opts.VersionID)
	}
	if opts.VersionTime != nil {
		q.Set("versionTime", opts.VersionTime.UTC().Format(time.RFC3339))
	}
	resp, body, err := c.get(ctx, c.endpoint("/1.0/identifiers/"+id, q), "application/did-resolution")
	if err != nil {
		return nil, err
	}
	if c.verify {
		return c.provenResolution(ctx, resp, body, id, opts)
	}
	switch resp.StatusCode {
	case http.StatusOK, http.StatusGone:
		res, err := parseResolution(body)
		if err != nil {
			return nil, err
		}
		if resp.StatusCode == http.StatusGone || res.Metadata.Deactivated {
			return res, fmt.Errorf("%w: %s", did.ErrDeactivated, id)
		}
		return res, nil
	}
	return nil, problemFrom(resp, body)
}

func parseResolution(body []byte) (*did.Resolution, error) {
	var wire struct {
		Document json.RawMessage      `json:"didDocument"`
		Metadata did.DocumentMetadata `json:"didDocumentMetadata"`
	}
	if err := json.Unmarshal(body, &wire); err != nil {
		return nil, fmt.Errorf("%w: resolution result: %v", ErrUnexpected, err)
	}
	doc, err := did.ParseDocument(wire.Document)
	if err != nil {
		return nil, fmt.Errorf("%w: DID document: %w", ErrUnexpected, err)
	}
	return &did.Resolution{Document: doc, Metadata: wire.Metadata}, nil
}

// provenResolution builds the resolution from the proven record only.
func (c *Client) provenResolution(ctx context.Context, resp *http.Response, body []byte, id string, opts ledger.ResolveOptions) (*did.Resolution, error) {
	// A version n is proven by the key that holds it in the chain's state
	// layout: its own didv/ key, or the current record (see
	// ledger.DIDVersionProof, which decides what either proof shows).
	var n int64
	if opts.VersionID != "" {
		var err error
		n, err = strconv.ParseInt(opts.VersionID, 10, 64)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%w: versionId %q", did.ErrNotFound, opts.VersionID)
		}
	} else if opts.VersionTime != nil {
		// The version is chosen by the node; the proof shows the record
		// of that version, and its metadata says whether it was current
		// at the time asked.
		var wire struct {
			Metadata did.DocumentMetadata `json:"didDocumentMetadata"`
		}
		if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusGone {
			return nil, problemFrom(resp, body)
		}
		if err := json.Unmarshal(body, &wire); err != nil {
			return nil, fmt.Errorf("%w: resolution result: %v", ErrUnexpected, err)
		}
		var err error
		n, err = strconv.ParseInt(wire.Metadata.VersionID, 10, 64)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%w: versionId %q", ErrUnexpected, wire.Metadata.VersionID)
		}
	}
	keys := [][]byte{ledger.DIDKey(id)}
	if n > 0 {
		keys = append(keys, ledger.DIDVersionKey(id, n))
	}
	p, err := c.proven(ctx, resp, keys...)
	if err != nil {
		return nil, err
	}
	if p == nil {
		return nil, problemFrom(resp, body)
	}
	var rec ledger.DIDRecord
	if n > 0 && opts.VersionID != "" && p.Value == nil && bytes.Equal(p.Key, ledger.DIDVersionKey(id, n)) {
		return c.versionFromCurrent(ctx, id, n, p.Height)
	}
	if n > 0 {
		v, err := ledger.DIDVersionProof(id, n, p.Key, p.Value)
		if errors.Is(err, ledger.ErrNotFound) {
			return nil, fmt.Errorf("%w: %v (proven at height %d)", did.ErrNotFound, err, p.Height)
		}
		if err != nil {
			return nil, err
		}
		rec = *v
	} else {
		if p.Value == nil {
			return nil, fmt.Errorf("%w: %s (proven absent at height %d)", did.ErrNotFound, id, p.Height)
		}
		if err := json.Unmarshal(p.Value, &rec); err != nil {
			return nil, fmt.Errorf("%w: proven DID record: %v", ErrUnexpected, err)
		}
		if rec.DID != id {
			return nil, fmt.Errorf("%w: proven record is for %s, not %s", ledger.ErrProof, rec.DID, id)
		}
	}
	if opts.VersionTime != nil {
		if t := recordTime(&rec); t.After(*opts.VersionTime) {
			return nil, fmt.Errorf("%w: proven version %s starts after %s", ledger.ErrProof, rec.Metadata.VersionID, opts.VersionTime)
		}
	}
	doc, err := did.ParseDocument(rec.Document)
	if err != nil {
		return nil, fmt.Errorf("%w: proven DID document: %w", ErrUnexpected, err)
	}
	res := &did.Resolution{Document: doc, Metadata: did.DocumentMetadata(rec.Metadata)}
	if rec.Metadata.Deactivated {
		return res, fmt.Errorf("%w: %s", did.ErrDeactivated, id)
	}
	return res, nil
}

// versionFromCurrent decides version n of id from the proven current
// record, after a registry proved didv/<id>/<n> absent at height h.
// Registries from before issue 18 (state layout 1, where didv/ holds every
// version) answer a version past the current one that way. That absence
// alone shows nothing in layout 2, where the current version is not under
// didv/ (ledger.DIDVersionProof refuses it), so the current record is read
// with its own proof: older than n (or no DID) proves version n does not
// exist (versions have no gaps), version n is the answer, newer than n
// means version n is superseded and must be under didv/: its proven
// absence is then a wrong answer (ErrProof), unless the DID changed
// between the two reads.
func (c *Client) versionFromCurrent(ctx context.Context, id string, n int64, h int64) (*did.Resolution, error) {
	cur, err := c.Resolve(ctx, id)
	switch {
	case errors.Is(err, did.ErrNotFound):
		return nil, fmt.Errorf("%w: version %d of %s: %w", did.ErrNotFound, n, id, err)
	case err != nil && !errors.Is(err, did.ErrDeactivated):
		return nil, err
	}
	m, perr := strconv.ParseInt(cur.Metadata.VersionID, 10, 64)
	if perr != nil || m < 1 {
		return nil, fmt.Errorf("%w: proven current record has versionId %.32q", ledger.ErrProof, cur.Metadata.VersionID)
	}
	switch {
	case m < n:
		return nil, fmt.Errorf("%w: version %d of %s (the current version is %d; %s proven absent at height %d)", did.ErrNotFound, n, id, m, ledger.DIDVersionKey(id, n), h)
	case m == n:
		return cur, err // err: did.ErrDeactivated or nil
	default:
		return nil, fmt.Errorf("%w: %s proven absent at height %d, but the current record of %s is version %d", ledger.ErrProof, ledger.DIDVersionKey(id, n), h, id, m)
	}
}

func recordTime(r *ledger.DIDRecord) time.Time {
	if r.Metadata.Updated != nil {
		return *r.Metadata.Updated
	}
	if r.Metadata.Created != nil {
		return *r.Metadata.Created
	}
	return time.Time{}
}

// FetchStatusList returns the status list credential (vc+jwt) at ref: an
// absolute http(s) URL of any registry's status list endpoint (or any
// server that serves application/vc+jwt), or a bare list id of this
// registry. Proofs are checked only for lists of this registry.
// Errors wrap ErrNotFound, ErrUnavailable or ErrProof.
func (c *Client) FetchStatusList(ctx context.Context, ref string) (string, error) {
	if strings.HasPrefix(ref, "http://") || strings.HasPrefix(ref, "https://") {
		u, err := url.Parse(ref)
		if err != nil {
			return "", fmt.Errorf("status list URL %q: %w", ref, err)
		}
		u.Fragment = ""
		prefix := c.base.Path + "/1.0/status-lists/"
		if u.Scheme == c.base.Scheme && u.Host == c.base.Host && strings.HasPrefix(u.Path, prefix) {
			id := strings.TrimPrefix(u.Path, prefix)
			v, _ := strconv.ParseInt(u.Query().Get("version"), 10, 64)
			tok, _, err := c.StatusList(ctx, id, v)
			return tok, err
		}
		resp, body, err := c.get(ctx, u.String(), "application/vc+jwt, application/statuslist+jwt")
		if err != nil {
			return "", err
		}
		if resp.StatusCode != http.StatusOK {
			return "", problemFrom(resp, body)
		}
		return strings.TrimSpace(string(body)), nil
	}
	tok, _, err := c.StatusList(ctx, ref, 0)
	return tok, err
}

// StatusList returns version of this registry's status list id (0 = the
// latest) as a vc+jwt, and the version it is (1, 2, …), which the registry
// sends as the ETag. A list (or version) never published is an error
// wrapping ledger.ErrNotFound; an answer without a usable version wraps
// ErrUnexpected. With proofs on, the token and the version come from the
// proven ledger record.
func (c *Client) StatusList(ctx context.Context, id string, version int64) (string, int64, error) {
	q := url.Values{}
	if version > 0 {
		q.Set("version", strconv.FormatInt(version, 10))
	}
	resp, body, err := c.get(ctx, c.endpoint("/1.0/status-lists/"+id, q), "application/vc+jwt")
	if err != nil {
		return "", 0, err
	}
	if !c.verify {
		if resp.StatusCode != http.StatusOK {
			return "", 0, problemFrom(resp, body)
		}
		etag := resp.Header.Get("ETag")
		v, err := strconv.ParseInt(strings.Trim(strings.TrimPrefix(etag, "W/"), `"`), 10, 64)
		if err != nil || v < 1 || (version > 0 && v != version) {
			return "", 0, fmt.Errorf("%w: status list %s without its version (ETag %.40q)", ErrUnexpected, id, etag)
		}
		return strings.TrimSpace(string(body)), v, nil
	}
	key := ledger.StatusListKey(id)
	if version > 0 {
		key = ledger.StatusListVersionKey(id, version)
	}
	p, err := c.proven(ctx, resp, key)
	if err != nil {
		return "", 0, err
	}
	if p == nil {
		return "", 0, problemFrom(resp, body)
	}
	if p.Value == nil {
		return "", 0, fmt.Errorf("%w: status list %s (proven absent)", ledger.ErrNotFound, id)
	}
	var rec ledger.StatusListRecord
	if err := json.Unmarshal(p.Value, &rec); err != nil || rec.ID != id || rec.Version < 1 || (version > 0 && rec.Version != version) {
		return "", 0, fmt.Errorf("%w: proven status list record for %q", ledger.ErrProof, id)
	}
	return rec.Credential, rec.Version, nil
}

// Accreditations returns an issuer's accreditation history. An issuer that
// was never accredited is ErrNotFound.
func (c *Client) Accreditations(ctx context.Context, issuer string) (*ledger.IssuerRecord, error) {
	rec, _, err := c.issuer(ctx, issuer, url.Values{})
	if err != nil {
		return nil, err
	}
	if rec == nil {
		return nil, fmt.Errorf("%w: issuer %s", ledger.ErrNotFound, issuer)
	}
	return rec, nil
}

// Accredited reports whether issuer was accredited for credentialType at
// time at (the verify.Accreditations contract). An issuer never accredited
// is (false, nil). With proofs on, the answer is computed locally from the
// proven history, not taken from the node.
func (c *Client) Accredited(ctx context.Context, issuer, credentialType string, at time.Time) (bool, error) {
	q := url.Values{"type": {credentialType}, "at": {at.UTC().Format(time.RFC3339Nano)}}
	rec, ans, err := c.issuer(ctx, issuer, q)
	if err != nil {
		if errors.Is(err, ledger.ErrNotFound) {
			return false, nil
		}
		return false, err
	}
	if c.verify {
		return rec != nil && rec.AccreditedAt(credentialType, at), nil
	}
	return ans.Accredited, nil
}

type accreditationAnswer struct {
	Accredited bool                 `json:"accredited"`
	Record     *ledger.IssuerRecord `json:"record"`
}

func (c *Client) issuer(ctx context.Context, issuer string, q url.Values) (*ledger.IssuerRecord, *accreditationAnswer, error) {
	resp, body, err := c.get(ctx, c.endpoint("/1.0/issuers/"+issuer, q), "application/json")
	if err != nil {
		return nil, nil, err
	}
	if c.verify {
		p, err := c.proven(ctx, resp, ledger.IssuerKey(issuer))
		if err != nil {
			return nil, nil, err
		}
		if p == nil {
			return nil, nil, problemFrom(resp, body)
		}
		if p.Value == nil {
			return nil, &accreditationAnswer{}, nil
		}
		var rec ledger.IssuerRecord
		if err := json.Unmarshal(p.Value, &rec); err != nil || rec.DID != issuer {
			return nil, nil, fmt.Errorf("%w: proven issuer record for %s", ledger.ErrProof, issuer)
		}
		return &rec, nil, nil
	}
	if resp.StatusCode != http.StatusOK {
		return nil, nil, problemFrom(resp, body)
	}
	if q.Get("type") != "" {
		var ans accreditationAnswer
		if err := json.Unmarshal(body, &ans); err != nil {
			return nil, nil, fmt.Errorf("%w: accreditation answer: %v", ErrUnexpected, err)
		}
		return ans.Record, &ans, nil
	}
	var rec ledger.IssuerRecord
	if err := json.Unmarshal(body, &rec); err != nil {
		return nil, nil, fmt.Errorf("%w: issuer record: %v", ErrUnexpected, err)
	}
	return &rec, nil, nil
}
