package machine

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/credentials/statuslist"
	"github.com/medid/medid/credentials/tokenstatus"
	"github.com/medid/medid/credentials/vc"
	"github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/tx"
)

// check validates t against state r and returns the writes that apply it
// (not yet including the replay record, which deliver adds). It writes
// nothing itself, so a rejected transaction changes no state.
func (a *App) check(r reader, t *tx.Tx, env *execEnv) ([]write, *receipt, error) {
	if needsReplayRecord(t) {
		seen, err := r.Get(ledger.TxKey(t.ReplayID))
		if err != nil {
			return nil, nil, fmt.Errorf("%w: read replay record: %v", ledger.ErrInternal, err)
		}
		if seen != nil {
			return nil, nil, fmt.Errorf("%w: this %s payload was committed before (sign a new one with a fresh nonce)", ledger.ErrReplay, t.Payload.Type)
		}
	}
	// Quotas before the signature: a transaction over its budget costs no
	// signature check or document parse.
	charge, err := a.quotaCheck(r, t, env)
	if err != nil {
		return nil, nil, err
	}
	pub, err := a.signingKey(r, t, env.pre)
	if err != nil {
		return nil, nil, err
	}
	if err := a.verify(t, pub); err != nil {
		return nil, nil, err
	}
	if protocolRule != nil {
		if err := protocolRule(env, t); err != nil {
			return nil, nil, err
		}
	}
	w, rc, err := a.apply(r, t, env)
	if err != nil || charge == nil {
		return w, rc, err
	}
	if charge.did != "" && !env.checkOnly {
		v, err := marshal(charge.didRec)
		if err != nil {
			return nil, nil, err
		}
		w = append(w, write{ledger.QuotaDIDKey(charge.did), v})
	}
	env.charge = charge
	return w, rc, nil
}

// apply runs the handler of t's type.
func (a *App) apply(r reader, t *tx.Tx, env *execEnv) ([]write, *receipt, error) {
	switch t.Payload.Type {
	case tx.DIDCreate:
		return a.didCreate(r, t, env)
	case tx.DIDUpdate, tx.DIDDeactivate:
		return a.didChange(r, t, env)
	case tx.IssuerAccredit:
		return a.issuerAccredit(r, t, env)
	case tx.IssuerRevoke:
		return a.issuerRevoke(r, t, env)
	case tx.StatusListPublish:
		return a.statusListPublish(r, t, env)
	case tx.ConsentAnchor:
		return a.consentAnchor(r, t, env)
	case tx.ConsentRevoke:
		return a.consentRevoke(r, t, env)
	case tx.AuditAnchor:
		return a.auditAnchor(r, t, env)
	case tx.NetworkPropose:
		return a.networkPropose(r, t, env)
	case tx.NetworkApprove:
		return a.networkApprove(r, t, env)
	case tx.DirectoryAdd, tx.DirectoryUpdate, tx.DirectorySuspend, tx.DirectoryRemove:
		return a.directoryWrite(r, t, env)
	}
	return nil, nil, fmt.Errorf("%w: unknown type %q", ledger.ErrMalformed, t.Payload.Type)
}

// needsReplayRecord reports whether t is guarded against replay by a
// replay record (tx/<replay id>). A did.create is not: its DID is derived
// from its document and can be created once, so the DID record itself
// refuses a replay (ErrExists), and skipping the record saves a state read
// in CheckTx and a leaf per new DID (measured in BENCHMARKS.md).
func needsReplayRecord(t *tx.Tx) bool { return t.Payload.Type != tx.DIDCreate }

// signingKey returns the public key t must verify under according to state
// r: a key of the acting DID's authentication (for did.create, of the new
// document; for did.update and did.deactivate, of the current document),
// or for issuer transactions the key of a governance did:key. pre, if not
// nil, holds the transaction's own parsed document.
func (a *App) signingKey(r reader, t *tx.Tx, pre *prepared) (key.PublicKey, error) {
	p := &t.Payload
	var doc *did.Document
	switch p.Type {
	case tx.DIDCreate:
		d, err := a.ownDocument(t, pre)
		if err != nil {
			return key.PublicKey{}, err
		}
		doc = d
	case tx.DIDUpdate, tx.DIDDeactivate, tx.StatusListPublish, tx.ConsentAnchor, tx.ConsentRevoke, tx.AuditAnchor:
		d, _, err := a.actingDocument(r, p.DID)
		if err != nil {
			return key.PublicKey{}, err
		}
		doc = d
	case tx.IssuerAccredit, tx.IssuerRevoke, tx.NetworkPropose, tx.NetworkApprove,
		tx.DirectoryAdd, tx.DirectoryUpdate, tx.DirectorySuspend, tx.DirectoryRemove:
		g, err := r.Get(ledger.GovernanceKey(p.DID))
		if err != nil {
			return key.PublicKey{}, fmt.Errorf("%w: read governance: %v", ledger.ErrInternal, err)
		}
		if g == nil {
			return key.PublicKey{}, fmt.Errorf("%w: %s is not a governance DID of this network", ledger.ErrUnauthorized, p.DID)
		}
		pub, err := did.ParseKeyDID(p.DID)
		if err != nil {
			return key.PublicKey{}, fmt.Errorf("%w: governance DID %s: %v", ledger.ErrInternal, p.DID, err)
		}
		doc = did.KeyDocument(pub)
	default:
		return key.PublicKey{}, fmt.Errorf("%w: unknown type %q", ledger.ErrMalformed, p.Type)
	}
	pub, err := doc.Key(t.KeyID(), did.Authentication)
	if err != nil {
		return key.PublicKey{}, fmt.Errorf("%w: %s must be signed by an authentication key of %s: %v", ledger.ErrUnauthorized, p.Type, p.DID, err)
	}
	return pub, nil
}

// ownDocument parses the document a did.create or did.update carries,
// reusing the pre-pass result when there is one.
func (a *App) ownDocument(t *tx.Tx, pre *prepared) (*did.Document, error) {
	if pre != nil && pre.tx == t && (pre.doc != nil || pre.docErr != nil) {
		return pre.doc, pre.docErr
	}
	return a.parseOwnDocument(t)
}

func (a *App) parseOwnDocument(t *tx.Tx) (*did.Document, error) {
	// A document this node has seen already (CheckTx, then FinalizeBlock's
	// pre-pass) is in the parsed-document cache, which ownKeyDocument fills
	// as parseDocument does: take it from there, as the general path below
	// would, instead of recognising it again. For a single-key document
	// the recogniser's document is the general path's
	// (TestKeyDocumentMatchesGeneralPath), so the answer is the same.
	k := a.docKey(t.Payload.Document)
	cached, ok := a.cachedDoc(k, t.Payload.Document)
	d, err := cached.doc, cached.err
	if !ok {
		if d, ok := a.ownKeyDocument(t, k); ok {
			return d, nil
		}
		d, err = a.parseDocumentKeyed(k, t.Payload.Document)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: document: %v", ledger.ErrInvalid, err)
	}
	if d.ID != t.Payload.DID {
		return nil, fmt.Errorf("%w: document id %.128q is not the acting DID %s", ledger.ErrInvalid, d.ID, t.Payload.DID)
	}
	if len(d.Authentication) == 0 {
		return nil, fmt.Errorf("%w: document has no authentication key (use did.deactivate to retire a DID)", ledger.ErrInvalid)
	}
	return d, nil
}

// actingDocument returns the current DID document of an acting DID: for
// did:medid from state (with its record), for did:key derived from the key.
// Other methods cannot act on this ledger.
func (a *App) actingDocument(r reader, d string) (*did.Document, *ledger.DIDRecord, error) {
	switch {
	case strings.HasPrefix(d, tx.MethodPrefix):
		rec, err := getJSON[ledger.DIDRecord](r, ledger.DIDKey(d))
		if err != nil {
			return nil, nil, fmt.Errorf("%w: DID %s", err, d)
		}
		if rec.Metadata.Deactivated {
			return nil, nil, fmt.Errorf("%w: %s can no longer act", ledger.ErrDeactivated, d)
		}
		doc, err := a.parseDocument(rec.Document)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: stored document of %s: %v", ledger.ErrInternal, d, err)
		}
		return doc, rec, nil
	case strings.HasPrefix(d, "did:key:"):
		pub, err := did.ParseKeyDID(d)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: %v", ledger.ErrInvalid, err)
		}
		return did.KeyDocument(pub), nil, nil
	}
	return nil, nil, fmt.Errorf("%w: only did:medid and did:key DIDs can sign registry transactions, not %.128s", ledger.ErrUnauthorized, d)
}

func (a *App) didCreate(r reader, t *tx.Tx, env *execEnv) ([]write, *receipt, error) {
	p := &t.Payload
	cc, ok := a.creates.get(t.ReplayID)
	if !ok {
		cc.err = tx.CheckDID(p.DID, p.Document)
		if cc.err == nil {
			cc.doc, cc.err = tx.Canonical(p.Document)
		}
		a.creates.put(t.ReplayID, cc)
	}
	if cc.err != nil {
		return nil, nil, cc.err
	}
	if v, err := r.Get(ledger.DIDKey(p.DID)); err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ledger.ErrInternal, err)
	} else if v != nil {
		return nil, nil, fmt.Errorf("%w: %s is registered (a replayed did.create also ends here: the DID guards against replay)", ledger.ErrExists, p.DID)
	}
	if env.checkOnly {
		return nil, nil, nil // CheckTx wants the verdict: no receipt, no writes
	}
	rc := &receipt{Type: p.Type, DID: p.DID, VersionID: "1"}
	created := env.time
	rec := ledger.DIDRecord{DID: p.DID, Document: cc.doc, Height: env.height,
		Metadata: ledger.DocumentMetadata{Created: &created, VersionID: "1"}}
	w, err := a.didWrites(env.didLayout(rec.DID), &rec, 1, nil)
	if err != nil {
		return nil, nil, err
	}
	return w, rc, nil
}

// didChange applies did.update and did.deactivate.
func (a *App) didChange(r reader, t *tx.Tx, env *execEnv) ([]write, *receipt, error) {
	p := &t.Payload
	// signingKey already required the DID to exist and be active.
	cur, err := getJSON[ledger.DIDRecord](r, ledger.DIDKey(p.DID))
	if err != nil {
		return nil, nil, fmt.Errorf("%w: DID %s", err, p.DID)
	}
	if p.PrevVersionID != cur.Metadata.VersionID {
		return nil, nil, fmt.Errorf("%w: prevVersionId %.32q, the current versionId of %s is %s", ledger.ErrStaleVersion, p.PrevVersionID, p.DID, cur.Metadata.VersionID)
	}
	n, err := strconv.ParseInt(cur.Metadata.VersionID, 10, 64)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: stored versionId %q of %s", ledger.ErrInternal, cur.Metadata.VersionID, p.DID)
	}
	// The record being superseded: in LayoutEveryVersion its copy under
	// didv/ (the same bytes as the current record), in LayoutRecordsOnce
	// the current record itself, which moves to didv/.
	prev := new(ledger.DIDRecord)
	*prev = *cur
	if env.didLayout(p.DID) == ledger.LayoutEveryVersion {
		if prev, err = getJSON[ledger.DIDRecord](r, ledger.DIDVersionKey(p.DID, n)); err != nil {
			return nil, nil, fmt.Errorf("%w: version %d of %s: %v", ledger.ErrInternal, n, p.DID, err)
		}
	}
	next := *cur
	next.Height = env.height
	updated := env.time
	next.Metadata.Updated = &updated
	next.Metadata.VersionID = strconv.FormatInt(n+1, 10)
	if p.Type == tx.DIDDeactivate {
		next.Metadata.Deactivated = true
	} else {
		if _, err := a.ownDocument(t, env.pre); err != nil {
			return nil, nil, err
		}
		if next.Document, err = tx.Canonical(p.Document); err != nil {
			return nil, nil, err
		}
	}
	prev.Metadata.NextVersionID = next.Metadata.VersionID
	w, err := a.didWrites(env.didLayout(next.DID), &next, n+1, prev)
	if err != nil {
		return nil, nil, err
	}
	return w, &receipt{Type: p.Type, DID: p.DID, VersionID: next.Metadata.VersionID}, nil
}

// didWrites stores rec (version n) as the current record and prev (if
// any) as version n-1. In LayoutEveryVersion (l) rec is also stored as
// version n; in LayoutRecordsOnce only superseded versions are under didv/.
func (a *App) didWrites(l ledger.StateLayout, rec *ledger.DIDRecord, n int64, prev *ledger.DIDRecord) ([]write, error) {
	v, err := marshalDIDRecord(rec)
	if err != nil {
		return nil, err
	}
	w := []write{{ledger.DIDKey(rec.DID), v}}
	if l == ledger.LayoutEveryVersion {
		w = append(w, write{ledger.DIDVersionKey(rec.DID, n), v})
	}
	if prev != nil {
		pv, err := marshalDIDRecord(prev)
		if err != nil {
			return nil, err
		}
		w = append(w, write{ledger.DIDVersionKey(rec.DID, n-1), pv})
	}
	return w, nil
}

func (a *App) issuerAccredit(r reader, t *tx.Tx, env *execEnv) ([]write, *receipt, error) {
	if err := a.oneKeyMayWrite(r, t.Payload.Type); err != nil {
		return nil, nil, err
	}
	return a.accredit(r, &t.Payload, "", env)
}

// accredit checks the issuer.accredit p (p.DID the governance DID that
// signed or proposed it) against state r and returns its writes; proposal
// is the proposal whose quorum carries it ("" for one signature).
func (a *App) accredit(r reader, p *tx.Payload, proposal string, env *execEnv) ([]write, *receipt, error) {
	if err := checkIssuer(r, p.Issuer); err != nil {
		return nil, nil, err
	}
	rec, err := getJSON[ledger.IssuerRecord](r, ledger.IssuerKey(p.Issuer))
	switch {
	case errors.Is(err, ledger.ErrNotFound):
		rec = &ledger.IssuerRecord{DID: p.Issuer}
	case err != nil:
		return nil, nil, err
	}
	for _, acc := range rec.Accreditations {
		if acc.ID == p.AccreditationID {
			return nil, nil, fmt.Errorf("%w: accreditation %s of %s", ledger.ErrExists, p.AccreditationID, p.Issuer)
		}
	}
	acc := ledger.Accreditation{
		ID:              p.AccreditationID,
		CredentialTypes: append([]string(nil), p.CredentialTypes...),
		GrantedBy:       p.DID,
		Granted:         env.time,
		Height:          env.height,
		Proposal:        proposal,
	}
	// Payload.Validate (run by tx.Decode) already parsed these times.
	if acc.ValidFrom, err = tx.ParseTime(p.ValidFrom); err != nil {
		return nil, nil, fmt.Errorf("%w: validFrom: %v", ledger.ErrMalformed, err)
	}
	if p.ValidUntil != "" {
		u, err := tx.ParseTime(p.ValidUntil)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: validUntil: %v", ledger.ErrMalformed, err)
		}
		acc.ValidUntil = &u
	}
	rec.Accreditations = append(rec.Accreditations, acc)
	v, err := marshal(rec)
	if err != nil {
		return nil, nil, err
	}
	return []write{{ledger.IssuerKey(p.Issuer), v}}, &receipt{Type: p.Type, DID: p.DID, Issuer: p.Issuer, AccreditationID: p.AccreditationID}, nil
}

// checkIssuer accepts an issuer DID that is a registered, active did:medid
// or a valid did:key.
func checkIssuer(r reader, issuer string) error {
	switch {
	case strings.HasPrefix(issuer, tx.MethodPrefix):
		rec, err := getJSON[ledger.DIDRecord](r, ledger.DIDKey(issuer))
		if err != nil {
			return fmt.Errorf("%w: issuer %s", err, issuer)
		}
		if rec.Metadata.Deactivated {
			return fmt.Errorf("%w: issuer %s", ledger.ErrDeactivated, issuer)
		}
		return nil
	case strings.HasPrefix(issuer, "did:key:"):
		if _, err := did.ParseKeyDID(issuer); err != nil {
			return fmt.Errorf("%w: issuer: %v", ledger.ErrInvalid, err)
		}
		return nil
	}
	return fmt.Errorf("%w: issuer %.128s must be a did:medid or did:key DID", ledger.ErrInvalid, issuer)
}

func (a *App) issuerRevoke(r reader, t *tx.Tx, env *execEnv) ([]write, *receipt, error) {
	if err := a.oneKeyMayWrite(r, t.Payload.Type); err != nil {
		return nil, nil, err
	}
	return a.revokeAccreditation(r, &t.Payload, "", env)
}

// revokeAccreditation checks the issuer.revoke p against state r and
// returns its writes; proposal as for accredit.
func (a *App) revokeAccreditation(r reader, p *tx.Payload, proposal string, env *execEnv) ([]write, *receipt, error) {
	rec, err := getJSON[ledger.IssuerRecord](r, ledger.IssuerKey(p.Issuer))
	if err != nil {
		return nil, nil, fmt.Errorf("%w: issuer %s", err, p.Issuer)
	}
	var acc *ledger.Accreditation
	for i := range rec.Accreditations {
		if rec.Accreditations[i].ID == p.AccreditationID {
			acc = &rec.Accreditations[i]
		}
	}
	if acc == nil {
		return nil, nil, fmt.Errorf("%w: accreditation %s of %s", ledger.ErrNotFound, p.AccreditationID, p.Issuer)
	}
	if acc.Revocation != nil {
		return nil, nil, fmt.Errorf("%w: accreditation %s of %s was revoked at height %d", ledger.ErrExists, p.AccreditationID, p.Issuer, acc.Revocation.Height)
	}
	eff := env.time
	if p.RevokedAt != "" {
		if eff, err = tx.ParseTime(p.RevokedAt); err != nil {
			return nil, nil, fmt.Errorf("%w: revokedAt: %v", ledger.ErrMalformed, err)
		}
	}
	acc.Revocation = &ledger.Revocation{EffectiveAt: eff, RevokedBy: p.DID, Recorded: env.time, Height: env.height, Proposal: proposal}
	v, err := marshal(rec)
	if err != nil {
		return nil, nil, err
	}
	return []write{{ledger.IssuerKey(p.Issuer), v}}, &receipt{Type: p.Type, DID: p.DID, Issuer: p.Issuer, AccreditationID: p.AccreditationID}, nil
}

// notBefore stands in for the block time in CheckTx when it is unknown
// (right after a restart): validity-window errors are then ignored, and
// FinalizeBlock checks them against the real block time.
var notBefore = time.Unix(1, 0).UTC()

func (a *App) statusListPublish(r reader, t *tx.Tx, env *execEnv) ([]write, *receipt, error) {
	p := &t.Payload
	owner, _, err := a.actingDocument(r, p.DID)
	if err != nil {
		return nil, nil, err
	}
	head, err := getJSON[ledger.StatusListRecord](r, ledger.StatusListKey(p.ListID))
	switch {
	case errors.Is(err, ledger.ErrNotFound):
		head = nil
		// A new list's id names its owner, so nobody can take the id of
		// another DID's list first (see tx.StatusListID).
		switch owner, ok := tx.StatusListOwner(p.ListID); {
		case !ok:
			return nil, nil, fmt.Errorf("%w: a new status list's id must be the owner's DID, ':' and a name (%s:<name>), not %q", ledger.ErrInvalid, p.DID, p.ListID)
		case owner != p.DID:
			return nil, nil, fmt.Errorf("%w: status list id %s is in the namespace of %s, not of %s", ledger.ErrUnauthorized, p.ListID, owner, p.DID)
		}
		if p.Version != 1 {
			return nil, nil, fmt.Errorf("%w: status list %s does not exist: its first version must be 1, not %d", ledger.ErrInvalid, p.ListID, p.Version)
		}
	case err != nil:
		return nil, nil, err
	default:
		if head.Owner != p.DID {
			return nil, nil, fmt.Errorf("%w: status list %s belongs to %s", ledger.ErrUnauthorized, p.ListID, head.Owner)
		}
		if p.Version <= head.Version {
			return nil, nil, fmt.Errorf("%w: status list %s is at version %d: the next version must be greater, not %d", ledger.ErrInvalid, p.ListID, head.Version, p.Version)
		}
	}
	keys := func(_ context.Context, kid string) (key.PublicKey, error) {
		if d, _, _ := strings.Cut(kid, "#"); d != p.DID {
			return key.PublicKey{}, fmt.Errorf("%w: the status list credential must be signed by the list owner %s", ledger.ErrUnauthorized, p.DID)
		}
		pub, err := owner.Key(kid, did.AssertionMethod)
		if err != nil {
			return key.PublicKey{}, fmt.Errorf("%w: %v", ledger.ErrUnauthorized, err)
		}
		return pub, nil
	}
	now := env.time
	if !env.timeKnown {
		now = notBefore
	}
	ctx := env.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	if vc.DetectTyp(p.Credential) == tokenstatus.MediaType {
		return a.tokenStatusListPublish(ctx, p, head, keys, env, now)
	}
	cred, err := vc.Verify(ctx, p.Credential, keys, vc.VerifyOptions{Now: now})
	// A list that is not yet valid at block time is accepted: CometBFT's
	// block time is the median of the previous commit's vote times, so
	// the first block after an idle spell carries a time from before the
	// spell, however long it was, and a list signed a moment ago would be
	// refused. Verifiers check the list's validity when they use it. An
	// expired list is refused once the block time is known.
	if err != nil && (errors.Is(err, vc.ErrNotYetValid) || (!env.timeKnown && errors.Is(err, vc.ErrExpired))) {
		// The signature was verified before the validity window; parse
		// the credential to check the rest now.
		tok, perr := vc.Parse(p.Credential)
		if perr != nil {
			return nil, nil, fmt.Errorf("%w: status list credential: %v", ledger.ErrInvalid, perr)
		}
		cred, err = tok.Credential, nil
	}
	if err != nil {
		switch {
		case errors.Is(err, ledger.ErrUnauthorized), errors.Is(err, vc.ErrIssuerMismatch):
			return nil, nil, fmt.Errorf("%w: status list credential: %v", ledger.ErrUnauthorized, err)
		case errors.Is(err, vc.ErrBadSignature), errors.Is(err, vc.ErrUnsupportedAlg):
			return nil, nil, fmt.Errorf("%w: status list credential: %v", ledger.ErrBadSignature, err)
		}
		return nil, nil, fmt.Errorf("%w: status list credential: %v", ledger.ErrInvalid, err)
	}
	if cred.Issuer != p.DID {
		return nil, nil, fmt.Errorf("%w: the status list credential is issued by %s, not the list owner %s", ledger.ErrUnauthorized, cred.Issuer, p.DID)
	}
	dec, err := statuslist.FromCredential(cred)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ledger.ErrInvalid, err)
	}
	if dec.ID == "" {
		return nil, nil, fmt.Errorf("%w: the status list credential needs an id (the URL status entries name)", ledger.ErrInvalid)
	}
	if head != nil && (dec.ID != head.CredentialID || string(dec.Purpose) != head.Purpose) {
		return nil, nil, fmt.Errorf("%w: status list %s must keep credential id %s and purpose %s", ledger.ErrInvalid, p.ListID, head.CredentialID, head.Purpose)
	}
	rec := ledger.StatusListRecord{
		ID:           p.ListID,
		Version:      p.Version,
		Owner:        p.DID,
		CredentialID: dec.ID,
		Purpose:      string(dec.Purpose),
		Credential:   p.Credential,
		Published:    env.time,
		Height:       env.height,
	}
	v, err := marshal(rec)
	if err != nil {
		return nil, nil, err
	}
	w := []write{{ledger.StatusListKey(p.ListID), v}, {ledger.StatusListVersionKey(p.ListID, p.Version), v}}
	return w, &receipt{Type: p.Type, DID: p.DID, ListID: p.ListID, Version: p.Version}, nil
}

// tokenStatusListPublish publishes an IETF Token Status List
// (statuslist+jwt) under the same transaction and the same rules as a
// Bitstring list: signed by an assertionMethod key of the owner, versions
// increasing, and its URI (sub, what SD-JWT VCs point at) fixed by
// version 1. Its record's Purpose is [ledger.PurposeTokenStatusList].
func (a *App) tokenStatusListPublish(ctx context.Context, p *tx.Payload, head *ledger.StatusListRecord, keys vc.KeyFunc, env *execEnv, now time.Time) ([]write, *receipt, error) {
	parsed, _, err := tokenstatus.Parse(p.Credential)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: token status list: %v", ledger.ErrInvalid, err)
	}
	_, err = tokenstatus.Verify(ctx, p.Credential, keys, tokenstatus.VerifyOptions{URI: parsed.URI, Issuer: p.DID, Now: now})
	// As for Bitstring lists: a list not yet valid at block time is
	// accepted (block times lag after idle spells); an expired one is
	// refused once the block time is known.
	if err != nil && (errors.Is(err, vc.ErrNotYetValid) || (!env.timeKnown && errors.Is(err, vc.ErrExpired))) {
		err = nil
	}
	if err != nil {
		switch {
		case errors.Is(err, ledger.ErrUnauthorized), errors.Is(err, tokenstatus.ErrIssuerMismatch):
			return nil, nil, fmt.Errorf("%w: token status list: %v", ledger.ErrUnauthorized, err)
		case errors.Is(err, vc.ErrBadSignature), errors.Is(err, vc.ErrUnsupportedAlg):
			return nil, nil, fmt.Errorf("%w: token status list: %v", ledger.ErrBadSignature, err)
		}
		return nil, nil, fmt.Errorf("%w: token status list: %v", ledger.ErrInvalid, err)
	}
	if head != nil && (parsed.URI != head.CredentialID || head.Purpose != ledger.PurposeTokenStatusList) {
		return nil, nil, fmt.Errorf("%w: status list %s must keep URI %s and kind %s", ledger.ErrInvalid, p.ListID, head.CredentialID, head.Purpose)
	}
	rec := ledger.StatusListRecord{
		ID: p.ListID, Version: p.Version, Owner: p.DID, CredentialID: parsed.URI,
		Purpose: ledger.PurposeTokenStatusList, Credential: p.Credential, Published: env.time, Height: env.height,
	}
	v, err := marshal(rec)
	if err != nil {
		return nil, nil, err
	}
	w := []write{{ledger.StatusListKey(p.ListID), v}, {ledger.StatusListVersionKey(p.ListID, p.Version), v}}
	return w, &receipt{Type: p.Type, DID: p.DID, ListID: p.ListID, Version: p.Version}, nil
}
