package wallet

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/medid/medid/credentials/vc"
	"github.com/medid/medid/credentials/verify"
)

// credentialID is the wallet's id for a token: 16 hex digits of its SHA-256.
func credentialID(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:8])
}

// attributeNames are the claim names of a credentialSubject, without "id".
func attributeNames(subject map[string]any) []string {
	names := slices.Sorted(maps.Keys(subject))
	return slices.DeleteFunc(names, func(n string) bool { return n == "id" })
}

// Receive verifies a vc+jwt and stores it. The credential must be bound to
// one of the wallet's DIDs (credentialSubject.id), else [ErrNotForThisWallet];
// it must pass Config.Verifier (signature, issuer, validity, status), else a
// [*RejectedError] ([ErrRejected]); when it could not be checked because the
// issuer's registry or status list did not answer, a [*CouldNotCheckError]
// ([ErrCouldNotCheck]: try again when online). Nothing is stored on
// failure. Receiving a token the wallet already holds returns the stored
// credential.
func (w *Wallet) Receive(ctx context.Context, token string) (Credential, error) {
	token = strings.TrimSpace(token)
	if verify.DetectFormat(token) == verify.FormatSDJWT {
		return w.receiveSDJWT(ctx, token)
	}
	t, err := vc.Parse(token)
	if err != nil {
		return Credential{}, &RejectedError{Reason: "malformed", Detail: err.Error()}
	}
	c := t.Credential
	subject := c.SubjectID()

	w.mu.Lock()
	if err := w.use(); err != nil {
		w.mu.Unlock()
		return Credential{}, err
	}
	_, mine := w.dids[subject]
	w.mu.Unlock()
	if !mine {
		if subject == "" {
			return Credential{}, fmt.Errorf("%w: it has no credentialSubject.id, so it is not bound to any holder", ErrNotForThisWallet)
		}
		return Credential{}, fmt.Errorf("%w: it is bound to %s, which is not one of this wallet's DIDs", ErrNotForThisWallet, subject)
	}
	// Verification may fetch DID documents and status lists: do it without
	// holding the wallet.
	if err := w.verifyToKeep(ctx, token); err != nil {
		return Credential{}, err
	}

	return w.store1(&Credential{
		Token: token, VCID: c.ID, Issuer: c.Issuer, Types: c.Type, Name: c.Name,
		Subject: subject, Attributes: attributeNames(c.Subject),
		ValidFrom: c.ValidFrom, ValidUntil: c.ValidUntil,
		HasStatusList: len(c.Status) > 0,
	})
}

// store1 stores a verified credential cr (its ID, reception and status
// times are set here) with its history entry, in one transaction. A token
// the wallet already holds returns the stored credential.
func (w *Wallet) store1(cr *Credential) (Credential, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.use(); err != nil {
		return Credential{}, err
	}
	token, subject := cr.Token, cr.Subject
	cr.ID = credentialID(token)
	if old, ok := w.creds[cr.ID]; ok {
		c := *old
		c.Token = token
		return c, nil
	}
	now := w.cfg.now().UTC()
	cr.ReceivedAt, cr.StatusCheckedAt, cr.Status = now, now, StatusValid
	ev := w.newEventLocked(HistoryEntry{At: now, Kind: EventReceived, Holder: subject,
		Credentials: []SharedCredential{shared(cr)}})
	if err := w.commitLocked([]record{{credsBucket, cr.ID, credMeta(cr)}, {bodiesBucket, cr.ID, []byte(token)}, {historyBucket, ev.ID, ev}}); err != nil {
		return Credential{}, err
	}
	w.creds[cr.ID] = credMeta(cr)
	w.history = append(w.history, ev)
	w.cfg.log().Info("credential received", "id", cr.ID)
	return *cr, nil
}

// credMeta is c without its token: what the credentials bucket and the
// in-memory index hold. Tokens live in the bodies bucket and are read on
// demand, so unlocking does not decode every token.
func credMeta(c *Credential) *Credential {
	m := *c
	m.Token = ""
	return &m
}

// tokenLocked reads the token of credential id from the bodies bucket.
func (w *Wallet) tokenLocked(id string) (string, error) {
	var raw []byte
	if err := getSealed(w.store, w.sealer, bodiesBucket, id, &raw); err != nil {
		if errors.Is(err, ErrNotFound) {
			return "", fmt.Errorf("%w: the token of credential %s is missing", ErrCorrupt, id)
		}
		return "", err
	}
	return string(raw), nil
}

// NotCurrent says why c must not be shown or presented as current
// (revoked, suspended, expired by its status or its validUntil, no longer
// valid), or "" when the wallet knows nothing against it at now. Present
// refuses such a credential; an emergency card leaves it off.
func (c *Credential) NotCurrent(now time.Time) string {
	switch {
	case c.Status == StatusRevoked:
		return "revoked by its issuer"
	case c.Status == StatusSuspended:
		return "suspended by its issuer"
	case c.Status == StatusExpired || c.ValidUntil != nil && now.After(*c.ValidUntil):
		if c.ValidUntil != nil {
			return "expired on " + c.ValidUntil.UTC().Format(time.DateOnly)
		}
		return "expired"
	case c.Status == StatusInvalid:
		return "no longer valid (" + c.StatusDetail + ")"
	case c.Status != StatusValid:
		return string(c.Status)
	}
	return ""
}

func shared(c *Credential) SharedCredential {
	return SharedCredential{ID: c.ID, Issuer: c.Issuer, Types: c.Types, Attributes: c.Attributes}
}

// record is a sealed record to write.
type record struct {
	bucket, id string
	v          any
}

// commitLocked seals and writes records in one transaction.
func (w *Wallet) commitLocked(recs []record, deletes ...Op) error {
	ops := make([]Op, 0, len(recs)+len(deletes))
	for _, r := range recs {
		op, err := sealRecord(w.sealer, r.bucket, r.id, r.v)
		if err != nil {
			return err
		}
		ops = append(ops, op)
	}
	return w.store.Batch(append(ops, deletes...))
}

// Credentials returns the stored credentials that match f, newest first,
// WITHOUT their tokens (Token is ""; [Wallet.Credential] has it). It reads
// the in-memory index only.
func (w *Wallet) Credentials(f Filter) ([]Credential, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.use(); err != nil {
		return nil, err
	}
	out := make([]Credential, 0, len(w.creds))
	for _, c := range w.creds {
		if f.match(c) {
			out = append(out, *c)
		}
	}
	slices.SortFunc(out, func(a, b Credential) int {
		if c := b.ReceivedAt.Compare(a.ReceivedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

// Credential returns the credential (with its token) with this id, or with
// an id starting with this prefix (at least 4 characters) if exactly one
// matches.
// Errors: [ErrNotFound], or an ambiguity error.
func (w *Wallet) Credential(id string) (Credential, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.use(); err != nil {
		return Credential{}, err
	}
	c, err := w.findLocked(id)
	if err != nil {
		return Credential{}, err
	}
	out := *c
	if out.Token, err = w.tokenLocked(c.ID); err != nil {
		return Credential{}, err
	}
	return out, nil
}

func (w *Wallet) findLocked(id string) (*Credential, error) {
	if c, ok := w.creds[id]; ok {
		return c, nil
	}
	var found *Credential
	if len(id) >= 4 {
		for k, c := range w.creds {
			if strings.HasPrefix(k, id) {
				if found != nil {
					return nil, fmt.Errorf("credential id %q is ambiguous: give more characters", id)
				}
				found = c
			}
		}
	}
	if found == nil {
		return nil, fmt.Errorf("%w: credential %q", ErrNotFound, id)
	}
	return found, nil
}

// Delete removes a credential (by id or unique prefix) and records the
// deletion in the history.
func (w *Wallet) Delete(id string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.use(); err != nil {
		return err
	}
	c, err := w.findLocked(id)
	if err != nil {
		return err
	}
	ev := w.newEventLocked(HistoryEntry{At: w.cfg.now().UTC(), Kind: EventDeleted, Holder: c.Subject,
		Credentials: []SharedCredential{shared(c)}})
	if err := w.commitLocked([]record{{historyBucket, ev.ID, ev}},
		deleteRecord(w.sealer, credsBucket, c.ID), deleteRecord(w.sealer, bodiesBucket, c.ID)); err != nil {
		return err
	}
	delete(w.creds, c.ID)
	w.history = append(w.history, ev)
	return nil
}

// Refresh re-verifies every stored credential (above all its status list)
// and records the outcome. Revoked, suspended, expired or otherwise invalid
// credentials are marked, never dropped. A credential that could not be
// checked (the registry or a status list did not answer) keeps its last
// known Status and StatusCheckedAt, and gets StatusAttemptedAt and
// Unchecked; then Refresh returns, with every credential, a
// [*CouldNotCheckError] naming those ones. It returns every credential with
// its status, newest first.
func (w *Wallet) Refresh(ctx context.Context) ([]Credential, error) {
	if w.cfg.Verifier == nil {
		return nil, ErrNoVerifier
	}
	w.mu.Lock()
	if err := w.use(); err != nil {
		w.mu.Unlock()
		return nil, err
	}
	tokens := map[string]string{}
	for id := range w.creds {
		tok, err := w.tokenLocked(id)
		if err != nil {
			w.mu.Unlock()
			return nil, err
		}
		tokens[id] = tok
	}
	w.mu.Unlock()

	verdicts := map[string]Verdict{}
	for id, tok := range tokens {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		verdicts[id] = w.cfg.Verifier.VerifyCredential(ctx, tok)
	}

	w.mu.Lock()
	if err := w.use(); err != nil {
		w.mu.Unlock()
		return nil, err
	}
	now := w.cfg.now().UTC()
	var recs []record
	var unchecked *CouldNotCheckError
	updated := map[string]*Credential{}
	for id, v := range verdicts {
		old, ok := w.creds[id]
		if !ok { // deleted meanwhile
			continue
		}
		c := *old
		c.StatusAttemptedAt = now
		switch {
		case v.Valid:
			c.Status, c.StatusDetail, c.StatusCheckedAt, c.Unchecked = StatusValid, "", now, ""
		case v.Unavailable:
			// Could not check: the last known status stands, and says how
			// old it is.
			c.Unchecked = v.Detail
			if c.Unchecked == "" {
				c.Unchecked = v.Reason
			}
			if unchecked == nil {
				unchecked = &CouldNotCheckError{Cause: c.Unchecked}
			}
			unchecked.IDs = append(unchecked.IDs, id)
		default:
			c.Status, c.StatusDetail, c.StatusCheckedAt, c.Unchecked = statusOf(v.Reason), v.Reason, now, ""
			if v.Detail != "" {
				c.StatusDetail += ": " + v.Detail
			}
		}
		updated[id] = &c
		recs = append(recs, record{credsBucket, id, &c})
	}
	err := w.commitLocked(recs)
	if err == nil {
		maps.Copy(w.creds, updated)
	}
	w.mu.Unlock()
	if err != nil {
		return nil, err
	}
	cs, err := w.Credentials(Filter{})
	if err != nil {
		return nil, err
	}
	if unchecked != nil {
		slices.Sort(unchecked.IDs)
		return cs, unchecked
	}
	return cs, nil
}

func statusOf(reason string) Status {
	switch reason {
	case "revoked":
		return StatusRevoked
	case "suspended":
		return StatusSuspended
	case "expired":
		return StatusExpired
	}
	return StatusInvalid
}

// PresentRequest says what to present to whom.
type PresentRequest struct {
	// CredentialIDs are the credentials to share (ids or unique prefixes).
	// They must all be bound to the same DID, which becomes the holder.
	CredentialIDs []string
	// Audience is the verifier (its DID or URL); Nonce is the verifier's
	// challenge for this request. Both are required.
	Audience, Nonce string
	// Force presents credentials the wallet knows are revoked, suspended,
	// expired or invalid (the verifier will refuse them; the patient may
	// want to show the record anyway).
	Force bool
}

// Present builds a vp+jwt of the chosen credentials for one verifier and one
// request, signed by the holder DID the credentials are bound to, and
// records in the history what was shared (attribute names, not values),
// with whom and when. A credential the wallet knows is revoked, suspended,
// expired (by its status or its validUntil) or invalid is refused with a
// [*NotPresentableError] ([ErrNotPresentable]) unless req.Force: a patient
// must not hand over a withdrawn record without meaning to.
func (w *Wallet) Present(ctx context.Context, req PresentRequest) (string, error) {
	if len(req.CredentialIDs) == 0 {
		return "", errors.New("present: choose at least one credential")
	}
	if req.Audience == "" || req.Nonce == "" {
		return "", errors.New("present: the verifier's audience and nonce are both required")
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.use(); err != nil {
		return "", err
	}
	var creds []*Credential
	seen := map[string]bool{}
	for _, id := range req.CredentialIDs {
		c, err := w.findLocked(id)
		if err != nil {
			return "", err
		}
		if seen[c.ID] {
			continue
		}
		seen[c.ID] = true
		if why := c.NotCurrent(w.cfg.now()); why != "" && !req.Force {
			return "", &NotPresentableError{ID: c.ID, Why: why, CheckedAt: c.StatusCheckedAt}
		}
		creds = append(creds, c)
	}
	for _, c := range creds {
		if c.Format == FormatSDJWT {
			return "", fmt.Errorf("present: credential %s is an SD-JWT VC: present it on its own, choosing what to disclose (PresentSDJWT, --disclose)", c.ID)
		}
	}
	holder := creds[0].Subject
	for _, c := range creds[1:] {
		if c.Subject != holder {
			return "", fmt.Errorf("present: credentials %s and %s are bound to different DIDs; present them separately", creds[0].ID, c.ID)
		}
	}
	k, d, err := w.keyLocked(holder)
	if err != nil {
		return "", err
	}
	p := &vc.Presentation{Context: []string{vc.ContextV2}, Type: []string{vc.TypePresentation}, Holder: holder}
	ev := w.newEventLocked(HistoryEntry{At: w.cfg.now().UTC(), Kind: EventPresented,
		Audience: req.Audience, Holder: holder})
	for _, c := range creds {
		tok, err := w.tokenLocked(c.ID)
		if err != nil {
			return "", err
		}
		p.Credentials = append(p.Credentials, tok)
		ev.Credentials = append(ev.Credentials, shared(c))
	}
	tok, err := vc.SignPresentation(p, k, d.KeyID, req.Audience, req.Nonce, vc.WithIssuedAt(w.cfg.now()))
	if err != nil {
		return "", fmt.Errorf("sign presentation: %w", err)
	}
	// The presentation is returned only once its history entry is durable:
	// the patient's record of what was shared is never behind reality.
	if err := w.appendEventLocked(ev); err != nil {
		return "", err
	}
	return tok, nil
}

// RecordPresented records in the history that the credentials ids (the
// full ids), bound to holder, were presented to audience at at: attribute
// names, never values. It is for presentations a workflow signs itself
// with [Wallet.SignerFor]'s key (wallet/card's emergency card); it returns
// once the entry is durable, so the caller hands the presentation out only
// after that. Errors wrap [ErrNotFound] for an id the wallet does not hold.
func (w *Wallet) RecordPresented(at time.Time, audience, holder string, ids []string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.use(); err != nil {
		return err
	}
	ev := w.newEventLocked(HistoryEntry{At: at, Kind: EventPresented, Audience: audience, Holder: holder})
	for _, id := range ids {
		c, ok := w.creds[id]
		if !ok {
			return fmt.Errorf("%w: credential %s", ErrNotFound, id)
		}
		ev.Credentials = append(ev.Credentials, shared(c))
	}
	return w.appendEventLocked(ev)
}

// appendEventLocked writes e (from newEventLocked) and adds it to the
// in-memory history once it is durable.
func (w *Wallet) appendEventLocked(e HistoryEntry) error {
	if err := w.commitLocked([]record{{historyBucket, e.ID, e}}); err != nil {
		return err
	}
	w.history = append(w.history, e)
	return nil
}

// newEventLocked gives e an id and the next sequence number. The entry
// joins w.history only once it is committed.
func (w *Wallet) newEventLocked(e HistoryEntry) HistoryEntry {
	e.ID = hex.EncodeToString(randomBytes(8))
	e.Seq = 1
	if n := len(w.history); n > 0 {
		e.Seq = w.history[n-1].Seq + 1
	}
	return e
}

// History returns the wallet's history, oldest first.
func (w *Wallet) History() ([]HistoryEntry, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.use(); err != nil {
		return nil, err
	}
	return slices.Clone(w.history), nil
}

// verifyToKeep verifies a credential token before the wallet keeps it:
// ErrNoVerifier without a verifier, a *CouldNotCheckError when the check
// could not be made (a registry or status list out of reach: never shown as
// invalid), a *RejectedError when it failed.
func (w *Wallet) verifyToKeep(ctx context.Context, token string) error {
	if w.cfg.Verifier == nil {
		return ErrNoVerifier
	}
	v := w.cfg.Verifier.VerifyCredential(ctx, token)
	if !v.Valid && v.Unavailable {
		return &CouldNotCheckError{Cause: v.Detail}
	}
	if !v.Valid {
		return &RejectedError{Reason: v.Reason, Detail: v.Detail}
	}
	return nil
}
