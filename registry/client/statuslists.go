package client

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/tx"
)

// Publishing a status list: an issuer keeps its status list credential (a
// file, a database row) and publishes each version it signs on the ledger
// with statuslist.publish, so verifiers fetch it from any registry node.
// The rules a publisher must follow before anything is written live here,
// for every tool that publishes (the medid CLI, an issuer service):
//
//   - the list's credential id is this registry's status list URL (or a
//     plain ledger id such as a URN), so entries point at where the list
//     is served ([Client.StatusListURL], [Client.StatusListID]);
//   - a new list must not exist yet, and a change must be made to the
//     version the ledger holds: publishing over another version would
//     silently undo someone else's revocations ([Client.PlanStatusListPublish]);
//   - the owner is a registered did:medid;
//   - a new list's id is in its owner's namespace, "<owner DID>:<name>"
//     (tx.StatusListID), so nobody can take a hospital's list id first; the
//     ledger refuses any other new id (lists from before keep theirs).
//
// A concurrent publication between the plan and the transaction is caught
// by the ledger, which requires strictly increasing versions.

// Errors of status list publishing, wrapped in a [*StatusListError].
var (
	// ErrStatusListID: the credential id names no status list of this
	// registry and is not a ledger id.
	ErrStatusListID = errors.New("status list id cannot be published on this registry")
	// ErrStatusListOwner: the owner is not a did:medid.
	ErrStatusListOwner = errors.New("only a registered did:medid can publish a status list")
	// ErrStatusListExists: a new list was to be published, but the ledger
	// already holds a list with its id.
	ErrStatusListExists = errors.New("status list already exists on the registry")
	// ErrStatusListStale: a change was made to a version other than the
	// ledger's latest.
	ErrStatusListStale = errors.New("status list on the registry is not the list that was changed")
	// ErrStatusListNamespace: a new list's id is not "<owner DID>:<name>"
	// (see tx.StatusListID); StatusListError.Suggest holds the id to use.
	ErrStatusListNamespace = errors.New("a new status list's id must be in its owner's namespace")
)

// StatusListError says why a status list cannot be published, with the
// evidence: the ledger id and the version the ledger holds.
type StatusListError struct {
	// ID is the list's ledger id ("" with ErrStatusListID); CredentialID the
	// credential id it was derived from.
	ID, CredentialID string
	// Version is the latest version on the ledger (0: none, or not read).
	Version int64
	// Suggest is, with ErrStatusListNamespace, the ledger id in the owner's
	// namespace with the same name.
	Suggest string
	// Err is one of ErrStatusListID, ErrStatusListOwner,
	// ErrStatusListExists, ErrStatusListStale, ErrStatusListNamespace.
	Err error
}

func (e *StatusListError) Error() string {
	switch e.Err {
	case ErrStatusListID:
		return fmt.Sprintf("%v: %q", e.Err, e.CredentialID)
	case ErrStatusListExists, ErrStatusListStale:
		return fmt.Sprintf("%v: %s (version %d)", e.Err, e.ID, e.Version)
	case ErrStatusListNamespace:
		return fmt.Sprintf("%v: %s (use %s)", e.Err, e.ID, e.Suggest)
	}
	return fmt.Sprintf("%v: %s", e.Err, e.ID)
}

// Unwrap returns the sentinel.
func (e *StatusListError) Unwrap() error { return e.Err }

// StatusListURL returns the URL at which this registry serves status list
// id: what credentials name as statusListCredential so that any verifier
// can fetch the list.
func (c *Client) StatusListURL(id string) string {
	return strings.TrimRight(c.base.String(), "/") + "/1.0/status-lists/" + id
}

// StatusListID returns the ledger id of the status list whose credential id
// is credentialID: the last path segment of this registry's status list URL
// ([Client.StatusListURL]), or credentialID itself when it is a ledger id
// (tx.ValidID: a URN, for example). Anything else is a [*StatusListError]
// wrapping ErrStatusListID.
func (c *Client) StatusListID(credentialID string) (string, error) {
	if rest, ok := strings.CutPrefix(credentialID, c.StatusListURL("")); ok && rest != "" && tx.ValidID(rest) {
		return rest, nil
	}
	if tx.ValidID(credentialID) {
		return credentialID, nil
	}
	return "", &StatusListError{CredentialID: credentialID, Err: ErrStatusListID}
}

// StatusListVersion returns the latest version of status list id on the
// ledger and its token; version 0 and "" when it was never published.
func (c *Client) StatusListVersion(ctx context.Context, id string) (int64, string, error) {
	tok, v, err := c.StatusList(ctx, id, 0)
	switch {
	case errors.Is(err, ledger.ErrNotFound):
		return 0, "", nil
	case err != nil:
		return 0, "", fmt.Errorf("read status list %s from the registry: %w", id, err)
	}
	return v, tok, nil
}

// StatusListPublication is a checked plan to publish the next version of a
// status list (see [Client.PlanStatusListPublish]).
type StatusListPublication struct {
	c *Client
	// ID is the list's ledger id; Version the version Publish will write.
	ID      string
	Version int64
}

// PlanStatusListPublish checks, before anything is written, that the status
// list with credential id credentialID owned by owner can be published, and
// returns the plan. prev is the list's token before the change ("" for a
// new list). Errors: a [*StatusListError] (owner not a did:medid, an id
// this registry cannot hold, a new list that exists, a change to a version
// other than the ledger's), or the registry's.
func (c *Client) PlanStatusListPublish(ctx context.Context, owner, credentialID, prev string) (*StatusListPublication, error) {
	if !strings.HasPrefix(owner, tx.MethodPrefix) {
		return nil, &StatusListError{CredentialID: credentialID, Err: ErrStatusListOwner}
	}
	id, err := c.StatusListID(credentialID)
	if err != nil {
		return nil, err
	}
	v, onLedger, err := c.StatusListVersion(ctx, id)
	if err != nil {
		return nil, err
	}
	switch {
	case prev == "" && v > 0:
		return nil, &StatusListError{ID: id, CredentialID: credentialID, Version: v, Err: ErrStatusListExists}
	case prev != "" && v > 0 && onLedger != prev:
		return nil, &StatusListError{ID: id, CredentialID: credentialID, Version: v, Err: ErrStatusListStale}
	case v == 0:
		if err := inNamespace(owner, id, credentialID); err != nil {
			return nil, err
		}
	}
	return &StatusListPublication{c: c, ID: id, Version: v + 1}, nil
}

// inNamespace returns a [*StatusListError] wrapping ErrStatusListNamespace
// unless id, a new list's ledger id, is in owner's namespace.
func inNamespace(owner, id, credentialID string) error {
	if o, ok := tx.StatusListOwner(id); ok && o == owner {
		return nil
	}
	name := id
	if i := strings.LastIndexByte(id, ':'); i >= 0 {
		name = id[i+1:]
	}
	suggest, err := tx.StatusListID(owner, name)
	if err != nil {
		suggest = owner + ":<name>"
	}
	return &StatusListError{ID: id, CredentialID: credentialID, Suggest: suggest, Err: ErrStatusListNamespace}
}

// Publish signs statuslist.publish of the planned version with k (kid: an
// authentication key of owner) for token, the newly signed status list
// credential, and submits it.
func (p *StatusListPublication) Publish(ctx context.Context, k *key.PrivateKey, owner, kid, token string) (*TxResult, error) {
	return p.c.PublishStatusList(ctx, k, owner, kid, p.ID, p.Version, token)
}

// PublishStatusList signs and submits statuslist.publish of version of the
// ledger's status list id, owned by owner, with k (kid: an authentication
// key of owner). It checks nothing against the ledger first: see
// [Client.PlanStatusListPublish]. Errors from the registry come back as
// from [Client.Submit].
func (c *Client) PublishStatusList(ctx context.Context, k *key.PrivateKey, owner, kid, id string, version int64, token string) (*TxResult, error) {
	p, err := tx.NewStatusListPublish(owner, id, version, token)
	if err != nil {
		return nil, err
	}
	signed, err := tx.Sign(p, k, kid)
	if err != nil {
		return nil, fmt.Errorf("sign statuslist.publish: %w", err)
	}
	return c.Submit(ctx, signed)
}

// EnsureStatusListPublished makes sure the ledger holds the status list
// token (a status list credential owned by owner): when the ledger has no
// list with its id it publishes token as version 1 and returns the result;
// when it has one it returns its latest version and a nil result, and
// publishes nothing. An issuer service calls it at start so that verifiers
// can fetch its list. Errors: a [*StatusListError] (ErrStatusListID, or
// ErrStatusListOwner or ErrStatusListNamespace when the list must be
// published by an owner that is not a did:medid or whose namespace does not
// hold its id), or the registry's: when reading the ledger failed,
// version is 0; when publishing failed, version is 1 (what was tried) and
// the error is as from [Client.PublishStatusList].
func (c *Client) EnsureStatusListPublished(ctx context.Context, k *key.PrivateKey, owner, kid, credentialID, token string) (id string, version int64, res *TxResult, err error) {
	if id, err = c.StatusListID(credentialID); err != nil {
		return "", 0, nil, err
	}
	v, _, err := c.StatusListVersion(ctx, id)
	if err != nil {
		return id, 0, nil, err
	}
	if v > 0 {
		return id, v, nil, nil
	}
	if !strings.HasPrefix(owner, tx.MethodPrefix) {
		return id, 0, nil, &StatusListError{ID: id, CredentialID: credentialID, Err: ErrStatusListOwner}
	}
	if err := inNamespace(owner, id, credentialID); err != nil {
		return id, 0, nil, err
	}
	res, err = c.PublishStatusList(ctx, k, owner, kid, id, 1, token)
	return id, 1, res, err
}
