// Package tx defines the registry's signed transactions: JSON payloads
// secured as a compact JWS with protected header
// {"alg": "EdDSA"|"ES256", "typ": "medid-tx+jwt", "kid": "<DID URL>"}.
//
// The signing key must belong to the acting DID named in the payload ("did");
// the kid is a DID URL of that DID. Which relationship the key must be listed
// under, and whether the acting DID may perform the transaction at all, is
// decided by the state machine (package registry/machine) against ledger state;
// this package only decodes strictly, checks the shape of each transaction
// type, and verifies a signature against a given public key.
//
// # Transaction types
//
//   - [DIDCreate] ("did.create"): document (the full DID document, whose id is
//     the acting DID). The DID must be did:medid:<id> with id derived from the
//     document (see [DeriveDID]); signed by a key in the document's
//     authentication.
//   - [DIDUpdate] ("did.update"): document (the full new document) and
//     prevVersionId (the current versionId); signed by a key in the CURRENT
//     document's authentication. Key rotation is an update that replaces the
//     verification methods.
//   - [DIDDeactivate] ("did.deactivate"): prevVersionId; final.
//   - [IssuerAccredit] ("issuer.accredit"): issuer, credentialTypes,
//     validFrom, optional validUntil (RFC 3339), accreditationId; signed by a
//     governance did:key listed in genesis.
//   - [IssuerRevoke] ("issuer.revoke"): issuer, accreditationId, optional
//     revokedAt (RFC 3339; default: the block time); governance-signed.
//   - [StatusListPublish] ("statuslist.publish"): listId, version (1, 2, …
//     strictly increasing) and credential: the status list credential as a
//     vc+jwt signed by the acting DID (the list owner) with an assertionMethod
//     key. A new list's id is in its owner's namespace (see [StatusListID]).
//   - [ConsentAnchor] ("consent.anchor"): grantHash (hex SHA-256 of a consent
//     grant token), validFrom, optional validUntil; signed by the grant's
//     anchor DID (a did:key the patient's grant names, made for that grant).
//   - [ConsentRevoke] ("consent.revoke"): grantHash; signed by the anchor
//     DID that anchored it; final.
//   - [DirectoryAdd], [DirectoryUpdate], [DirectorySuspend],
//     [DirectoryRemove] ("directory.*"): org, entry, version, reason;
//     governance-signed (see directory.go).
//   - [NetworkPropose] ("network.propose"): proposal; [NetworkApprove]
//     ("network.approve"): proposalId; governance-signed changes of the
//     validator set and the governance keys (see network.go), and on
//     networks whose policy asks a quorum for them, of the directory and
//     the accreditations (see change.go).
//
// Every transaction carries a nonce, so two otherwise identical intents are
// distinct transactions; the ledger rejects a replay of the same payload
// (see [Tx.ReplayID]).
//
// # Building transactions
//
// Every program that writes to the ledger (the medid CLI, the wallet, the
// hospital vault, the load generator, the test harnesses) builds its
// payloads with this package's typed builders, one per type:
// [NewKeyDIDCreate] (and [NewDIDCreate] for other documents),
// [NewDIDUpdate], [NewKeyRotation], [NewDIDDeactivate], [NewIssuerAccredit],
// [NewIssuerRevoke], [NewStatusListPublish], [NewConsentAnchor] (and
// [NewConsentAnchorHash]), [NewConsentRevoke] and [NewAuditAnchor]. Each
// sets a fresh [NewNonce], writes times as the ledger reads them and
// validates the payload, so a rule about a field changes here only. They
// live beside the format rather than in a package of their own: a builder
// is the format's other half, and [Payload.Validate] is what both obey.
// Sign the result with [Sign].
package tx

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"math/bits"
	"strings"
	"time"

	"github.com/medid/medid/credentials/jose"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/internal/ijson"
)

// MaxSize is the largest encoded transaction the registry accepts (64 KiB).
const MaxSize = 64 << 10

// MediaType is the JWS typ header of every registry transaction.
const MediaType = "medid-tx+jwt"

// Limits on payload fields, checked by [Decode].
const (
	MaxNonceLen  = 128
	MaxDIDLen    = 512
	MaxIDLen     = 128 // listId, accreditationId
	MaxCredTypes = 64
)

// Type names a transaction type.
type Type string

// The transaction types.
const (
	DIDCreate         Type = "did.create"
	DIDUpdate         Type = "did.update"
	DIDDeactivate     Type = "did.deactivate"
	IssuerAccredit    Type = "issuer.accredit"
	IssuerRevoke      Type = "issuer.revoke"
	StatusListPublish Type = "statuslist.publish"
	// ConsentAnchor and ConsentRevoke: see consent.go.
	ConsentAnchor Type = "consent.anchor"
	ConsentRevoke Type = "consent.revoke"
	// AuditAnchor: see audit.go.
	AuditAnchor Type = "audit.anchor"
)

// KnownType reports whether t is a transaction type this package decodes.
func KnownType(t Type) bool {
	p := Payload{Type: t, DID: "did:x:y", Nonce: "n"}
	return !errors.Is(p.Validate(), errUnknownType)
}

// errUnknownType is wrapped by Validate's error for an unknown type.
var errUnknownType = errors.New("unknown transaction type")

// Errors returned by this package. Callers branch on them with errors.Is.
var (
	// ErrMalformed reports bytes that are not a well-formed transaction:
	// bad JWS framing or base64, bad JSON, unknown or missing fields, a field
	// that does not belong to the type, an unknown type.
	ErrMalformed = errors.New("malformed transaction")
	// ErrTooLarge reports a transaction larger than [MaxSize].
	ErrTooLarge = errors.New("transaction too large")
	// ErrUnsupportedAlg reports a JWS alg other than EdDSA or ES256, or an
	// alg that does not match the verifying key's type.
	ErrUnsupportedAlg = errors.New("unsupported signature algorithm")
	// ErrBadSignature reports a signature that does not verify.
	ErrBadSignature = errors.New("bad transaction signature")
	// ErrWrongDID reports a did:medid identifier that is not the one derived
	// from its document (see [DeriveDID]).
	ErrWrongDID = errors.New("did:medid identifier does not match its document")
)

// Header is the JWS protected header of a transaction. Decode rejects any
// other header member.
type Header struct {
	Alg string `json:"alg"`
	Typ string `json:"typ"`
	Kid string `json:"kid"`
}

// Payload is the signed JSON body of a transaction. Which optional fields are
// required or forbidden depends on Type (see the package documentation);
// [Decode] and [Payload.Validate] enforce it.
type Payload struct {
	Type  Type   `json:"type"`
	DID   string `json:"did"`
	Nonce string `json:"nonce"`

	// did.create, did.update: the full DID document JSON.
	Document json.RawMessage `json:"document,omitempty"`
	// did.update, did.deactivate: the versionId the change applies to.
	PrevVersionID string `json:"prevVersionId,omitempty"`

	// issuer.accredit, issuer.revoke.
	Issuer          string   `json:"issuer,omitempty"`
	CredentialTypes []string `json:"credentialTypes,omitempty"`
	ValidFrom       string   `json:"validFrom,omitempty"`
	ValidUntil      string   `json:"validUntil,omitempty"`
	AccreditationID string   `json:"accreditationId,omitempty"`
	RevokedAt       string   `json:"revokedAt,omitempty"`

	// statuslist.publish.
	ListID     string `json:"listId,omitempty"`
	Version    int64  `json:"version,omitempty"`
	Credential string `json:"credential,omitempty"`

	// consent.anchor, consent.revoke: hex SHA-256 of the grant token.
	GrantHash string `json:"grantHash,omitempty"`

	// audit.anchor: see audit.go.
	BatchID string `json:"batchId,omitempty"`
	Root    string `json:"root,omitempty"`
	Count   int64  `json:"count,omitempty"`

	// network.propose, network.approve: see network.go.
	Proposal   *Proposal `json:"proposal,omitempty"`
	ProposalID string    `json:"proposalId,omitempty"`
	// Filing (network.approve, from protocol 4 on) names the filing of
	// the proposal approved: the height of the block that filed it, as
	// the JSON integer (1 to 2^53-1) the payload carried. It is kept as
	// raw JSON so that its presence is seen whatever its value (a
	// registry below protocol 4 refuses any payload that carries the
	// member, null and 0 too, as the decoder of before refused it): read
	// it with [Payload.FilingHeight]; [NewNetworkApprovalOf] sets it.
	Filing json.RawMessage `json:"filing,omitempty"`
	// FilingBlock (network.approve, from protocol 5 on, beside Filing)
	// names the filing approved by the hash of the block that filed it
	// (the proposal record's filingBlock), as the JSON string of its 64
	// lowercase hex digits, the one spelling taken. Kept as raw JSON for
	// the reason Filing is (a registry below protocol 5 refuses any
	// payload that carries the member, whatever its value): read it with
	// [Payload.FilingBlockHash]; [NewNetworkApprovalOfBlock] sets it.
	FilingBlock json.RawMessage `json:"filingBlock,omitempty"`

	// directory.*: see directory.go. Version (above) is the entry's new
	// version for update, suspend and remove.
	Org    string          `json:"org,omitempty"`
	Entry  *DirectoryEntry `json:"entry,omitempty"`
	Reason string          `json:"reason,omitempty"`
}

// Tx is a decoded transaction. Its signature has NOT been verified: call
// [Tx.Verify] with the key the ledger state says kid refers to.
type Tx struct {
	Header  Header
	Payload Payload
	// Raw is the encoded transaction as received.
	Raw []byte
	// Hash is SHA-256 of Raw (CometBFT's transaction hash).
	Hash [32]byte
	// ReplayID is SHA-256 of the decoded payload bytes. The ledger records it
	// to reject replays; it is computed over the payload rather than Raw so
	// re-signing the same payload (or mauling an ECDSA signature into its
	// other valid form) does not make a replay look new.
	ReplayID [32]byte

	signingInput []byte
	signature    []byte
}

// Decode parses an encoded transaction strictly: size at most [MaxSize],
// three base64url (unpadded, canonical) JWS segments, a header with exactly
// alg (EdDSA or ES256), typ [MediaType] and kid, a payload with no unknown or
// duplicate members whose fields fit its type (see [Payload.Validate]), and a
// kid that is a DID URL of the acting DID. It does not verify the signature.
// Errors wrap [ErrTooLarge], [ErrUnsupportedAlg] or [ErrMalformed].
func Decode(data []byte) (*Tx, error) {
	if len(data) > MaxSize {
		return nil, fmt.Errorf("%w: %d bytes, the limit is %d", ErrTooLarge, len(data), MaxSize)
	}
	j, signed, err := jose.SplitBytes(data, MaxSize) // no string copy of the whole token
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	hb, pb, sig := j.Header, j.Payload, j.Signature
	if len(sig) == 0 {
		return nil, fmt.Errorf("%w: unsigned (empty signature)", ErrMalformed)
	}
	// The header and payload are read straight into the Tx (one
	// allocation for the three, not a Header and a Payload that escape to
	// the heap and are then copied in); t is dropped on any error.
	t := new(Tx)
	h, p := &t.Header, &t.Payload
	if err := strictUnmarshal(hb, h); err != nil {
		return nil, fmt.Errorf("%w: header: %v", ErrMalformed, err)
	}
	if h.Alg != "EdDSA" && h.Alg != "ES256" {
		return nil, fmt.Errorf("%w: alg %.32q (use EdDSA or ES256)", ErrUnsupportedAlg, h.Alg)
	}
	if h.Typ != MediaType {
		return nil, fmt.Errorf("%w: typ %.64q, want %q", ErrMalformed, h.Typ, MediaType)
	}
	if err := strictUnmarshal(pb, p); err != nil {
		return nil, fmt.Errorf("%w: payload: %v", ErrMalformed, err)
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	kidDID, frag, ok := strings.Cut(h.Kid, "#")
	if !ok || frag == "" || kidDID != p.DID {
		return nil, fmt.Errorf("%w: kid %.128q must be a DID URL with a fragment of the acting DID %.128q", ErrMalformed, h.Kid, p.DID)
	}
	t.Raw = data
	t.Hash = sha256.Sum256(data)
	t.ReplayID = sum256String(pb)
	t.signingInput = signed
	t.signature = sig
	return t, nil
}

// sum256String is sha256.Sum256([]byte(s)) without the copy of s on the
// heap ([]byte(s) of a ~550-byte payload was one allocation per decode):
// the digest reads s through a buffer on the stack.
func sum256String(s string) [32]byte {
	h := sha256.New()
	var buf [256]byte
	for len(s) > 0 {
		n := copy(buf[:], s)
		h.Write(buf[:n])
		s = s[n:]
	}
	var sum [32]byte
	h.Sum(sum[:0])
	return sum
}

// strictUnmarshal decodes one JSON object into v with internal/ijson's
// policy: no unknown members (letter for letter: no case variants), no
// duplicate members, no numbers but integers within ±(2^53-1), no trailing
// data.
func strictUnmarshal(data string, v any) error {
	return ijson.UnmarshalString(data, v, ijson.Known|ijson.SafeIntegers)
}

// Validate checks that p is well formed for its Type: the common fields
// (known type, DID and nonce present and within limits), the fields its type
// requires, none of the fields other types use, and RFC 3339 times. It does
// not consult ledger state. Errors wrap [ErrMalformed].
func (p *Payload) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrMalformed, p.Type, fmt.Sprintf(format, args...))
	}
	if p.DID == "" || len(p.DID) > MaxDIDLen || !strings.HasPrefix(p.DID, "did:") {
		return bad("did must be a DID of at most %d bytes", MaxDIDLen)
	}
	if p.Nonce == "" || len(p.Nonce) > MaxNonceLen {
		return bad("nonce must be 1 to %d bytes", MaxNonceLen)
	}
	rule, ok := typeFields[p.Type]
	if !ok {
		return fmt.Errorf("%w: %w %.64q", ErrMalformed, errUnknownType, p.Type)
	}
	has := p.presentFields()
	for _, f := range rule.required {
		if has&(1<<f) == 0 {
			return bad("%s is required", payloadFields[f].name)
		}
	}
	if extra := has &^ rule.allowed; extra != 0 {
		return bad("%s is not allowed", payloadFields[bits.TrailingZeros32(extra)].name)
	}
	if len(p.Document) > 0 && p.Document[0] != '{' {
		return bad("document must be a JSON object")
	}
	if len(p.PrevVersionID) > MaxIDLen {
		return bad("prevVersionId longer than %d bytes", MaxIDLen)
	}
	if p.Issuer != "" && (len(p.Issuer) > MaxDIDLen || !strings.HasPrefix(p.Issuer, "did:")) {
		return bad("issuer must be a DID of at most %d bytes", MaxDIDLen)
	}
	if len(p.CredentialTypes) > MaxCredTypes {
		return bad("at most %d credentialTypes", MaxCredTypes)
	}
	seen := map[string]bool{}
	for _, ct := range p.CredentialTypes {
		if ct == "" || len(ct) > MaxIDLen || seen[ct] {
			return bad("credentialTypes must be distinct non-empty names of at most %d bytes", MaxIDLen)
		}
		seen[ct] = true
	}
	var from, until time.Time
	for _, f := range []struct {
		name string
		val  string
		dst  *time.Time
	}{{"validFrom", p.ValidFrom, &from}, {"validUntil", p.ValidUntil, &until}, {"revokedAt", p.RevokedAt, nil}} {
		if f.val == "" {
			continue
		}
		t, err := ParseTime(f.val)
		if err != nil {
			return bad("%s: %v", f.name, err)
		}
		if f.dst != nil {
			*f.dst = t
		}
	}
	if !until.IsZero() && !until.After(from) {
		return bad("validUntil must be after validFrom")
	}
	if p.AccreditationID != "" && !validID(p.AccreditationID) {
		return bad("accreditationId must be 1 to %d of [A-Za-z0-9._:-]", MaxIDLen)
	}
	if p.ListID != "" && !validID(p.ListID) {
		return bad("listId must be 1 to %d of [A-Za-z0-9._:-]", MaxIDLen)
	}
	if p.Version < 0 {
		return bad("version must be positive")
	}
	if p.Type == AuditAnchor {
		if msg := validAudit(p); msg != "" {
			return bad("%s", msg)
		}
	}
	if p.Proposal != nil {
		if msg := validProposal(p.Proposal); msg != "" {
			return bad("%s", msg)
		}
	}
	if p.ProposalID != "" && !validID(p.ProposalID) {
		return bad("proposalId must be 1 to %d of [A-Za-z0-9._:-]", MaxIDLen)
	}
	if len(p.Filing) > 0 {
		if _, ok := parseFiling(p.Filing); !ok {
			return bad("filing must be the height of the block that filed the proposal: an integer from 1 to %d, in decimal without sign, leading zeros or exponent", MaxFilingHeight)
		}
	}
	if len(p.FilingBlock) > 0 {
		if _, ok := parseFilingBlock(p.FilingBlock); !ok {
			return bad("filingBlock must be the hash of the block that filed the proposal: a string of %d lowercase hex digits", 2*FilingBlockSize)
		}
		if len(p.Filing) == 0 {
			return bad("filingBlock names a filing together with filing (the height of that block): give both")
		}
	}
	if IsDirectory(p.Type) {
		if msg := validDirectory(p); msg != "" {
			return bad("%s", msg)
		}
	}
	if p.GrantHash != "" && !ValidGrantHash(p.GrantHash) {
		return bad("grantHash must be 64 lowercase hex digits (SHA-256 of the grant token)")
	}
	if (p.Type == ConsentAnchor || p.Type == ConsentRevoke) && !strings.HasPrefix(p.DID, "did:key:") {
		return bad("the acting DID must be the grant's anchor did:key (made for this grant alone), not %.128s: a registered DID would link the patient's consents", p.DID)
	}
	return nil
}

// payloadFields are the type-specific payload members in byte order of
// their names (the order Validate reports a member that is not allowed),
// each with whether p carries it.
var payloadFields = [...]struct {
	name string
	has  func(p *Payload) bool
}{
	{"accreditationId", func(p *Payload) bool { return p.AccreditationID != "" }},
	{"batchId", func(p *Payload) bool { return p.BatchID != "" }},
	{"count", func(p *Payload) bool { return p.Count != 0 }},
	{"credential", func(p *Payload) bool { return p.Credential != "" }},
	{"credentialTypes", func(p *Payload) bool { return len(p.CredentialTypes) > 0 }},
	{"document", func(p *Payload) bool { return len(p.Document) > 0 }},
	{"entry", func(p *Payload) bool { return p.Entry != nil }},
	{"filing", func(p *Payload) bool { return len(p.Filing) > 0 }},
	{"filingBlock", func(p *Payload) bool { return len(p.FilingBlock) > 0 }},
	{"grantHash", func(p *Payload) bool { return p.GrantHash != "" }},
	{"issuer", func(p *Payload) bool { return p.Issuer != "" }},
	{"listId", func(p *Payload) bool { return p.ListID != "" }},
	{"org", func(p *Payload) bool { return p.Org != "" }},
	{"prevVersionId", func(p *Payload) bool { return p.PrevVersionID != "" }},
	{"proposal", func(p *Payload) bool { return p.Proposal != nil }},
	{"proposalId", func(p *Payload) bool { return p.ProposalID != "" }},
	{"reason", func(p *Payload) bool { return p.Reason != "" }},
	{"revokedAt", func(p *Payload) bool { return p.RevokedAt != "" }},
	{"root", func(p *Payload) bool { return p.Root != "" }},
	{"validFrom", func(p *Payload) bool { return p.ValidFrom != "" }},
	{"validUntil", func(p *Payload) bool { return p.ValidUntil != "" }},
	{"version", func(p *Payload) bool { return p.Version != 0 }},
}

// presentFields is the set of payloadFields p carries (bit i: field i).
func (p *Payload) presentFields() uint32 {
	var m uint32
	for i := range payloadFields {
		if payloadFields[i].has(p) {
			m |= 1 << i
		}
	}
	return m
}

// fieldRule is what one transaction type requires (in the order Validate
// reports a missing one) and allows (required or optional) of the
// payloadFields.
type fieldRule struct {
	required []int
	allowed  uint32
}

// typeFields holds the fieldRule of every transaction type. Validate used
// to build these sets as maps on every call; one did.create's Validate is
// on every node's path once per transaction (issue 19).
var typeFields = func() map[Type]fieldRule {
	rules := map[Type][2][]string{
		DIDCreate:         {{"document"}},
		DIDUpdate:         {{"document", "prevVersionId"}},
		DIDDeactivate:     {{"prevVersionId"}},
		IssuerAccredit:    {{"issuer", "credentialTypes", "validFrom", "accreditationId"}, {"validUntil"}},
		IssuerRevoke:      {{"issuer", "accreditationId"}, {"revokedAt"}},
		StatusListPublish: {{"listId", "version", "credential"}},
		ConsentAnchor:     {{"grantHash", "validFrom"}, {"validUntil"}},
		ConsentRevoke:     {{"grantHash"}},
		AuditAnchor:       {{"batchId", "root", "count"}},
		DirectoryAdd:      {{"org", "entry"}},
		DirectoryUpdate:   {{"org", "entry", "version"}},
		DirectorySuspend:  {{"org", "version", "reason"}},
		DirectoryRemove:   {{"org", "version", "reason"}},
		NetworkPropose:    {{"proposal"}},
		NetworkApprove:    {{"proposalId"}, {"filing", "filingBlock"}},
	}
	index := func(name string) int {
		for i := range payloadFields {
			if payloadFields[i].name == name {
				return i
			}
		}
		panic("registry/tx: unknown payload field " + name) // a typo above; every test fails on it
	}
	out := make(map[Type]fieldRule, len(rules))
	for t, r := range rules {
		var fr fieldRule
		for _, f := range r[0] {
			fr.required = append(fr.required, index(f))
			fr.allowed |= 1 << index(f)
		}
		for _, f := range r[1] {
			fr.allowed |= 1 << index(f)
		}
		out[t] = fr
	}
	return out
}()

// ParseTime parses an RFC 3339 timestamp from a transaction and returns it
// in UTC. The ledger never reads a clock: times come from transactions or
// from block headers.
func ParseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("not an RFC 3339 time: %.40q", s)
	}
	return t.UTC(), nil
}

func validID(s string) bool {
	if s == "" || len(s) > MaxIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == ':' || c == '-') {
			return false
		}
	}
	return true
}

// KeyID returns the kid header: the DID URL of the signing key.
func (t *Tx) KeyID() string { return t.Header.Kid }

// Verify checks the JWS signature against pub. It returns an error wrapping
// [ErrUnsupportedAlg] when the header alg does not match pub's type (which
// defeats algorithm confusion) and [ErrBadSignature] when the signature does
// not verify. Verify is a pure function of (t, pub) and safe for concurrent
// use.
func (t *Tx) Verify(pub key.PublicKey) error {
	if pub.IsZero() {
		return fmt.Errorf("%w: no key", ErrBadSignature)
	}
	if string(pub.Alg().JWS()) != t.Header.Alg {
		return fmt.Errorf("%w: header alg %s does not match the %s key %s", ErrUnsupportedAlg, t.Header.Alg, pub.Alg(), t.Header.Kid)
	}
	if !pub.Verify(t.signingInput, t.signature) {
		return fmt.Errorf("%w: key %s", ErrBadSignature, t.Header.Kid)
	}
	return nil
}

// Sign validates p, marshals it and signs it with k as a compact JWS with
// header {alg, typ: [MediaType], kid}. kid must be a DID URL of p.DID naming
// a key the ledger will accept for this transaction type (for did.create, a
// key in the new document's authentication). The result decodes with
// [Decode].
func Sign(p *Payload, k *key.PrivateKey, kid string) ([]byte, error) {
	if k == nil {
		return nil, errors.New("tx.Sign: nil key")
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if d, frag, ok := strings.Cut(kid, "#"); !ok || frag == "" || d != p.DID {
		return nil, fmt.Errorf("%w: kid %q must be a DID URL with a fragment of %q", ErrMalformed, kid, p.DID)
	}
	hb, err := json.Marshal(Header{Alg: string(k.Alg().JWS()), Typ: MediaType, Kid: kid})
	if err != nil {
		return nil, err
	}
	pb, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	if len(p.Document) > 0 {
		// Make sure the document will pass the decoder's strict checks.
		if _, err := Canonical(p.Document); err != nil {
			return nil, fmt.Errorf("document: %w", err)
		}
	}
	tok, err := jose.Sign(hb, pb, k)
	if err != nil {
		return nil, err
	}
	out := []byte(tok)
	if len(out) > MaxSize {
		return nil, fmt.Errorf("%w: %d bytes, the limit is %d", ErrTooLarge, len(out), MaxSize)
	}
	return out, nil
}
