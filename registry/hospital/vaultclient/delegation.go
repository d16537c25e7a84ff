package vaultclient

import (
	"context"
	"net/http"
	"net/url"

	"github.com/medid/medid/credentials/consent"
	"github.com/medid/medid/registry/hospital/vaultapi"
)

// What a representative's wallet calls: each request is signed by the
// representative (the Client's DID and key) and carries the delegation they
// act under (a vc+jwt naming the Client's DID as its subject).

// GetFor reads a record of the patient the delegation is for (scope view),
// for purpose.
func (c *Client) GetFor(ctx context.Context, record, purpose, delegation string) ([]byte, error) {
	tok, err := c.sign(ctx, &vaultapi.Request{Op: vaultapi.OpRead, Record: record, Purpose: purpose, Delegation: delegation})
	if err != nil {
		return nil, err
	}
	var out []byte
	if err := c.do(ctx, http.MethodGet, "/1.0/vault/represented/records/"+url.PathEscape(record), tok, nil, nil, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// RegisterConsent registers at the vault a consent grant the Client made
// for a patient under delegation (scope consent), with the grant's anchor
// key sealed to the patient (anchorSeal). The grant opens the patient's
// records at this vault only once registered.
func (c *Client) RegisterConsent(ctx context.Context, grant, delegation, anchorSeal string) error {
	tok, err := c.sign(ctx, &vaultapi.Request{Op: vaultapi.OpConsent, Consent: grant, Delegation: delegation, AnchorSeal: anchorSeal})
	if err != nil {
		return err
	}
	return c.do(ctx, http.MethodPut, "/1.0/vault/consents", tok, nil, nil, nil)
}

// WithdrawConsent withdraws at the vault a consent grant a representative
// registered: as the patient it is for (delegation "") or as a
// representative under delegation.
func (c *Client) WithdrawConsent(ctx context.Context, grant, delegation string) error {
	tok, err := c.sign(ctx, &vaultapi.Request{Op: vaultapi.OpWithdraw, Consent: grant, Delegation: delegation})
	if err != nil {
		return err
	}
	return c.do(ctx, http.MethodDelete, "/1.0/vault/consents/"+consent.Hash(grant), tok, nil, nil, nil)
}

// AccessLogFor fetches the copy of patient's trail sealed to the Client, a
// representative with a delegation of scope trail. Verify it with
// [VerifyTrail] (patient, the representative's decryption key).
func (c *Client) AccessLogFor(ctx context.Context, patient, delegation string) (*vaultapi.AccessLogResponse, error) {
	tok, err := c.sign(ctx, &vaultapi.Request{Op: vaultapi.OpAccessLog, Patient: patient, Delegation: delegation})
	if err != nil {
		return nil, err
	}
	var out vaultapi.AccessLogResponse
	if err := c.do(ctx, http.MethodGet, "/1.0/vault/access-log?patient="+url.QueryEscape(patient), tok, nil, &out, nil); err != nil {
		return nil, err
	}
	return &out, nil
}
