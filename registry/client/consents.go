package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	cmtproto "github.com/cometbft/cometbft/proto/tendermint/types"

	"github.com/medid/medid/credentials/consent"
	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/tx"
)

// ConsentStatus is the registry's answer about a consent grant hash
// anchored by a controller (the body of GET
// /1.0/consents/{controller}/{hash}); it is consent.Status, so a *Client is
// a consent.Ledger.
type ConsentStatus = consent.Status

// ConsentStatus returns what the ledger knows about controller's anchor of a
// consent grant hash (consent.Hash of the grant token; controller is the
// grant's Anchor), with InForce evaluated at the latest block time. It
// implements consent.Ledger. A hash controller never anchored is an error
// wrapping both consent.ErrNotAnchored and ErrNotFound, whoever else
// anchored it. With proofs on, the answer is built from the proven record
// only, and InForce is computed locally at the proven block's time.
func (c *Client) ConsentStatus(ctx context.Context, controller, hash string) (*ConsentStatus, error) {
	return c.consentStatus(ctx, controller, hash, time.Time{})
}

// ConsentStatusAt is [Client.ConsentStatus] with InForce evaluated at time
// at.
func (c *Client) ConsentStatusAt(ctx context.Context, controller, hash string, at time.Time) (*ConsentStatus, error) {
	if at.IsZero() {
		return nil, errors.New("ConsentStatusAt: zero time (use ConsentStatus for the latest block time)")
	}
	return c.consentStatus(ctx, controller, hash, at)
}

func (c *Client) consentStatus(ctx context.Context, controller, hash string, at time.Time) (*ConsentStatus, error) {
	if !tx.ValidGrantHash(hash) {
		return nil, fmt.Errorf("%w: %.80q is not a grant hash (64 lowercase hex digits)", consent.ErrNotAnchored, hash)
	}
	if _, err := did.ParseKeyDID(controller); err != nil {
		return nil, fmt.Errorf("%w: %.128q is not a consent anchor's controller (the did:key a grant names): %v", consent.ErrNotAnchored, controller, err)
	}
	q := url.Values{}
	if !at.IsZero() {
		q.Set("at", at.UTC().Format(time.RFC3339Nano))
	}
	resp, body, err := c.get(ctx, c.endpoint("/1.0/consents/"+controller+"/"+hash, q), "application/json")
	if err != nil {
		return nil, err
	}
	notAnchored := func(how string) error {
		return fmt.Errorf("%w: %w: %s%s", consent.ErrNotAnchored, ledger.ErrNotFound, hash, how)
	}
	if !c.verify {
		switch {
		case resp.StatusCode == http.StatusNotFound:
			return nil, fmt.Errorf("%w: %w", consent.ErrNotAnchored, problemFrom(resp, body))
		case resp.StatusCode != http.StatusOK:
			return nil, problemFrom(resp, body)
		}
		var st ConsentStatus
		if err := json.Unmarshal(body, &st); err != nil {
			return nil, fmt.Errorf("%w: consent status: %v", ErrUnexpected, err)
		}
		if st.Hash != hash || st.Controller != controller {
			return nil, fmt.Errorf("%w: answer for grant %.80q by %.128q, asked for %s by %s", ErrUnexpected, st.Hash, st.Controller, hash, controller)
		}
		return &st, nil
	}
	p, err := c.proven(ctx, resp, ledger.ConsentKey(controller, hash))
	if err != nil {
		return nil, err
	}
	if p == nil {
		return nil, problemFrom(resp, body)
	}
	if p.Value == nil {
		return nil, notAnchored(fmt.Sprintf(" (proven absent at height %d)", p.Height))
	}
	var rec ledger.ConsentRecord
	if err := json.Unmarshal(p.Value, &rec); err != nil || rec.Hash != hash || rec.Controller != controller {
		return nil, fmt.Errorf("%w: proven consent record for %s", ledger.ErrProof, hash)
	}
	if at.IsZero() {
		// The proven header's time: p.Verify checked its signatures.
		var shp cmtproto.SignedHeader
		if err := shp.Unmarshal(p.SignedHeader); err != nil || shp.Header == nil {
			return nil, fmt.Errorf("%w: signed header", ledger.ErrProof)
		}
		at = shp.Header.Time
	}
	return rec.Status(at), nil
}

var _ consent.Ledger = (*Client)(nil)
