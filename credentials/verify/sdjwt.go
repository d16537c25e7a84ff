package verify

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/sdjwt"
	"github.com/medid/medid/credentials/tokenstatus"
	"github.com/medid/medid/credentials/vc"
)

// Formats a token can have; [DetectFormat] tells them apart and
// [Result].Format records which one was verified.
const (
	FormatVCJWT = "vc+jwt"    // VC 2.0 secured with VC-JOSE
	FormatVPJWT = "vp+jwt"    // VC 2.0 presentation secured with VC-JOSE
	FormatSDJWT = "dc+sd-jwt" // SD-JWT VC, or its presentation with a KB-JWT
	// FormatTokenStatusList is a Token Status List (statuslist+jwt).
	FormatTokenStatusList = tokenstatus.MediaType
)

// DetectFormat returns the format of token from the typ of its (first)
// JWS header: FormatVCJWT, FormatVPJWT or FormatSDJWT (typ dc+sd-jwt or the
// legacy vc+sd-jwt), or "" when the token is none of them. It proves
// nothing: the verification that follows does.
func DetectFormat(token string) string {
	token = strings.TrimSpace(token)
	switch typ := vc.DetectTyp(token); {
	case vc.MediaTypeIs(typ, vc.MediaTypeVC):
		return FormatVCJWT
	case vc.MediaTypeIs(typ, vc.MediaTypeVP):
		return FormatVPJWT
	case vc.MediaTypeIs(typ, tokenstatus.MediaType):
		return FormatTokenStatusList
	case vc.MediaTypeIs(typ, sdjwt.MediaType), vc.MediaTypeIs(typ, sdjwt.LegacyMediaType):
		if strings.Contains(token, "~") {
			return FormatSDJWT
		}
	}
	return ""
}

// isSDJWT is DetectFormat(token) == FormatSDJWT without decoding the
// header of a token that cannot be one: an SD-JWT has a '~', which no
// compact JWS (base64url and dots) has, so a vc+jwt or vp+jwt is told
// apart by one byte search instead of a second decoding of its header.
func isSDJWT(token string) bool {
	return strings.Contains(token, "~") && DetectFormat(token) == FormatSDJWT
}

// CheckDisclosures is the check of an SD-JWT's Disclosures.
const CheckDisclosures = "disclosures"

// ReasonInvalidDisclosure is the reason code of an SD-JWT whose
// Disclosures break a rule of RFC 9901 (duplicated, unreferenced,
// misplaced, colliding, or sent otherwise than the holder signed); the
// check's Detail starts with the SD-JWT reason code.
const ReasonInvalidDisclosure = "invalid_disclosure"

// sdStage maps an SD-JWT reason code to the check it fails, the pipeline's
// reason code, and the checks that passed before it (the order in which
// sdjwt.VerifyVC checks).
type sdStage struct {
	check, reason string
	passed        []string
}

var sdStages = func() map[string]sdStage {
	var (
		none     []string
		fmtOnly  = []string{CheckFormat}
		keyOK    = []string{CheckFormat, CheckIssuer}
		sigOK    = []string{CheckFormat, CheckIssuer, CheckSignature}
		discOK   = []string{CheckFormat, CheckIssuer, CheckSignature, CheckDisclosures}
		credOK   = []string{CheckFormat, CheckIssuer, CheckSignature, CheckDisclosures, CheckValidity}
		holderOK = append(append([]string{}, credOK...), CheckHolder)
		audOK    = append(append([]string{}, holderOK...), CheckAudience)
		nonceOK  = append(append([]string{}, audOK...), CheckNonce)
	)
	return map[string]sdStage{
		sdjwt.ReasonMalformed:              {CheckFormat, ReasonMalformed, none},
		sdjwt.ReasonWrongType:              {CheckFormat, ReasonMalformed, none},
		sdjwt.ReasonDisclosureMalformed:    {CheckDisclosures, ReasonInvalidDisclosure, fmtOnly},
		sdjwt.ReasonDuplicateDisclosure:    {CheckDisclosures, ReasonInvalidDisclosure, fmtOnly},
		sdjwt.ReasonReservedClaimName:      {CheckDisclosures, ReasonInvalidDisclosure, sigOK},
		sdjwt.ReasonUnsupportedAlg:         {CheckSignature, ReasonBadSignature, fmtOnly},
		sdjwt.ReasonIssuerMismatch:         {CheckSignature, ReasonBadSignature, fmtOnly},
		sdjwt.ReasonNotDisclosable:         {CheckDisclosures, ReasonInvalidDisclosure, fmtOnly},
		sdjwt.ReasonUnknownIssuer:          {CheckIssuer, ReasonUnknownIssuer, fmtOnly},
		sdjwt.ReasonBadSignature:           {CheckSignature, ReasonBadSignature, keyOK},
		sdjwt.ReasonUnsupportedSDAlg:       {CheckDisclosures, ReasonInvalidDisclosure, sigOK},
		sdjwt.ReasonDuplicateDigest:        {CheckDisclosures, ReasonInvalidDisclosure, sigOK},
		sdjwt.ReasonUnreferencedDisclosure: {CheckDisclosures, ReasonInvalidDisclosure, sigOK},
		sdjwt.ReasonMisplacedDisclosure:    {CheckDisclosures, ReasonInvalidDisclosure, sigOK},
		sdjwt.ReasonClaimCollision:         {CheckDisclosures, ReasonInvalidDisclosure, sigOK},
		sdjwt.ReasonExpired:                {CheckValidity, ReasonExpired, discOK},
		sdjwt.ReasonNotYetValid:            {CheckValidity, ReasonNotYetValid, discOK},
		sdjwt.ReasonKBMissing:              {CheckHolder, ReasonHolderMismatch, credOK},
		sdjwt.ReasonHolderKey:              {CheckHolder, ReasonHolderMismatch, credOK},
		sdjwt.ReasonKBMalformed:            {CheckHolder, ReasonHolderMismatch, credOK},
		sdjwt.ReasonKBBadSignature:         {CheckHolder, ReasonHolderMismatch, credOK},
		sdjwt.ReasonKBSDHash:               {CheckDisclosures, ReasonInvalidDisclosure, holderOK},
		sdjwt.ReasonKBAudience:             {CheckAudience, ReasonAudienceMismatch, holderOK},
		sdjwt.ReasonKBNonce:                {CheckNonce, ReasonNonceMismatch, audOK},
		sdjwt.ReasonKBNotFresh:             {CheckValidity, ReasonExpired, nonceOK},
	}
}()

// credentialSDJWT verifies an SD-JWT VC (no KB-JWT) or, with audience and
// nonce, its presentation (KB-JWT required). r is a credential Result.
func (v *Verifier) credentialSDJWT(ctx context.Context, r *Result, token, audience, nonce string) *Result {
	now := v.now()
	r.Format = FormatSDJWT
	kl := &keyLookup{v: v, rel: did.AssertionMethod}
	vv, err := sdjwt.VerifyVC(ctx, token, kl.keys, sdjwt.VerifyOptions{Audience: audience, Nonce: nonce, Now: now, ClockSkew: v.skew})
	if err != nil {
		reason := sdjwt.Reason(err)
		r.sdReason = reason
		st, ok := sdStages[reason]
		if !ok { // an error without a reason code cannot happen; fail closed
			st = sdStage{CheckFormat, ReasonMalformed, nil}
		}
		for _, name := range st.passed {
			r.pass(name, "")
		}
		var ke *keyError
		switch {
		case errors.As(err, &ke) && !answered(ke.err):
			r.unavailable(CheckIssuer, ReasonIssuerUnavailable, "the issuer's DID could not be resolved (key "+ke.kid+"): "+ke.err.Error(), nil)
		case errors.As(err, &ke):
			r.fail(CheckIssuer, ReasonUnknownIssuer, "issuer key "+ke.kid+": "+ke.err.Error())
		default:
			r.fail(st.check, st.reason, err.Error())
		}
		return r.finish()
	}
	c := vv.Credential
	r.SDJWT = vv
	r.Issuer, r.Subject, r.Types = c.Issuer, c.Subject, []string{sdjwt.CredentialType(c.VCT)}
	r.VCT = c.VCT
	if !c.IssuedAt.IsZero() {
		t := c.IssuedAt
		r.ValidFrom = &t
	}
	if c.NotBefore != nil {
		r.ValidFrom = c.NotBefore
	}
	r.ValidUntil = c.Expires
	r.Disclosed = make([]string, len(vv.Disclosed))
	for i, p := range vv.Disclosed {
		r.Disclosed[i] = p.String()
	}
	r.Withheld = vv.Withheld
	kid, alg := kl.kid(0)
	r.pass(CheckFormat, "")
	r.pass(CheckIssuer, "key "+kid+" is an assertionMethod of "+c.Issuer)
	r.pass(CheckSignature, sigDetail(alg))
	r.pass(CheckDisclosures, strconv.Itoa(len(vv.Disclosed))+" Disclosures verified")
	r.pass(CheckValidity, "")
	if vv.KeyBinding != nil {
		r.Holder = did.KeyDID(vv.Holder)
		r.pass(CheckHolder, "Key Binding JWT signed by the cnf.jwk key")
		r.pass(CheckAudience, "")
		r.pass(CheckNonce, "")
		r.pass(CheckValidity, "Key Binding JWT made "+vv.KeyBinding.IssuedAt.UTC().Format(time.RFC3339))
	}
	if c.Status != nil {
		v.checkTokenStatus(ctx, r, c.Issuer, *c.Status)
	}
	at := now
	if r.ValidFrom != nil {
		at = *r.ValidFrom
	}
	v.checkAccreditation(ctx, r, c.Issuer, r.Types, at)
	return r.finish()
}

// presentationSDJWT verifies an SD-JWT+KB for audience and nonce. The
// Result is a presentation holding one credential sub-result, like a
// vp+jwt's, so callers handle both alike: key binding failures fail the
// presentation (no sub-result), the rest fail the credential.
func (v *Verifier) presentationSDJWT(ctx context.Context, r *Result, token, audience, nonce string) *Result {
	r.Format = FormatSDJWT
	cr := v.credentialSDJWT(ctx, newResult(KindCredential, r.VerifiedAt), token, audience, nonce)
	if keyBindingReasons[cr.sdReason] {
		// The presentation itself failed: say so, and hold no credential
		// result (as for a vp+jwt whose holder signature fails).
		r.pass(CheckFormat, "")
		r.add(*cr.Failed())
		return r.finish()
	}
	r.pass(CheckFormat, "")
	if cr.SDJWT != nil {
		r.Holder = cr.Holder
		r.pass(CheckHolder, "Key Binding JWT signed by the cnf.jwk key")
		r.pass(CheckSignature, "")
		r.pass(CheckAudience, "")
		r.pass(CheckNonce, "")
		r.pass(CheckValidity, "")
	}
	r.Credentials = []*Result{cr}
	return r.finish()
}

// keyBindingReasons are the SD-JWT reasons that fail the presentation
// (the holder's part) rather than the credential (the issuer's part).
var keyBindingReasons = map[string]bool{
	sdjwt.ReasonKBMissing: true, sdjwt.ReasonHolderKey: true, sdjwt.ReasonKBMalformed: true,
	sdjwt.ReasonKBBadSignature: true, sdjwt.ReasonKBSDHash: true, sdjwt.ReasonKBAudience: true,
	sdjwt.ReasonKBNonce: true, sdjwt.ReasonKBNotFresh: true,
}

// checkTokenStatus checks a credential's Token Status List entry.
func (v *Verifier) checkTokenStatus(ctx context.Context, r *Result, issuer string, ref tokenstatus.Reference) {
	e, stale, err := v.statusList(ctx, ref.URI)
	if err != nil {
		// (Only here: errors.As's target escapes, an allocation per check.)
		if fe := (*fetchError)(nil); errors.As(err, &fe) {
			r.unavailable(CheckStatus, ReasonStatusUnavailable, fmt.Sprintf("token status list %s could not be fetched: %v", clip(ref.URI), fe.err), nil)
		} else {
			r.fail(CheckStatus, ReasonStatusUnavailable, fmt.Sprintf("token status list %s: %v", clip(ref.URI), err))
		}
		return
	}
	if e.tsl == nil {
		r.fail(CheckStatus, ReasonStatusUnavailable, fmt.Sprintf("%s serves a Bitstring Status List, but the credential points at a Token Status List there", clip(ref.URI)))
		return
	}
	if e.tsl.Issuer != issuer {
		r.fail(CheckStatus, ReasonStatusUnavailable, fmt.Sprintf("token status list %s is signed by %s, not by the credential's issuer %s", clip(ref.URI), e.tsl.Issuer, issuer))
		return
	}
	note := ""
	if stale != nil {
		note = fmt.Sprintf(" (in the copy fetched %s; fetching it again failed: %v)", e.fetched.UTC().Format(time.RFC3339), stale)
	}
	st, err := e.tsl.Status(ref)
	if err != nil {
		r.fail(CheckStatus, ReasonMalformed, err.Error()+note)
		return
	}
	if st == tokenstatus.Valid && stale != nil {
		// VALID in an expired copy proves nothing now: see checkStatus.
		fetched := e.fetched
		r.unavailable(CheckStatus, ReasonStatusUnavailable, "token status list "+ref.URI+" could not be fetched again: "+stale.Error()+
			"; index "+strconv.Itoa(ref.Index)+" was VALID in the copy fetched "+fetched.UTC().Format(time.RFC3339), &fetched)
		return
	}
	idx := strconv.Itoa(ref.Index)
	switch st {
	case tokenstatus.Valid:
		r.pass(CheckStatus, "token status list "+ref.URI+" index "+idx+": VALID"+note)
	case tokenstatus.Suspended:
		r.fail(CheckStatus, ReasonSuspended, "token status list "+ref.URI+" index "+idx+": SUSPENDED"+note)
	case tokenstatus.Invalid:
		r.fail(CheckStatus, ReasonRevoked, "token status list "+ref.URI+" index "+idx+": INVALID"+note)
	default:
		// An application-specific value medid does not know: not VALID, so
		// the credential is not accepted (fail closed).
		r.fail(CheckStatus, ReasonRevoked, fmt.Sprintf("token status list %s index %s: status %#x is not VALID%s", ref.URI, idx, st, note))
	}
}
