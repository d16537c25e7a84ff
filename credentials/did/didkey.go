package did

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/medid/medid/credentials/key"
)

// KeyDID returns the did:key identifier of pub: "did:key:" followed by the
// key's Multikey value (base58btc of the multicodec prefix and the key
// bytes), "did:key:z6Mk…" for Ed25519 and "did:key:zDn…" for P-256. It
// returns "" for the zero key.
func KeyDID(pub key.PublicKey) string {
	mk := pub.Multikey()
	if mk == "" {
		return ""
	}
	return "did:key:" + mk
}

// ParseKeyDID decodes the public key of a did:key (a DID, not a DID URL),
// following the did:key specification's error names:
//   - not a DID, not did:key, not base58btc, or a non-canonical encoding:
//     [ErrInvalidDID] ("invalidDid");
//   - a key of the wrong size for its multicodec: [ErrInvalidPublicKeyLength]
//     ("invalidPublicKeyLength");
//   - a P-256 point not on the curve: [ErrInvalidPublicKey];
//   - a multicodec other than ed25519-pub (0xed) or p256-pub (0x1200):
//     [ErrUnsupportedPublicKeyType].
func ParseKeyDID(s string) (key.PublicKey, error) {
	d, err := Parse(s)
	if err != nil {
		return key.PublicKey{}, err
	}
	return keyFromDID(d)
}

func keyFromDID(d DID) (key.PublicKey, error) {
	if d.Method != "key" {
		return key.PublicKey{}, fmt.Errorf("%w: not a did:key (method %q)", ErrInvalidDID, d.Method)
	}
	// The did:key ABNF is "did:key:" mb-value with mb-value = "z" 1*base58char;
	// the older "did:key:<version>:<mb-value>" form is not accepted.
	if strings.IndexByte(d.ID, ':') >= 0 {
		return key.PublicKey{}, fmt.Errorf("%w: did:key value must be one multibase string without ':'", ErrInvalidDID)
	}
	pub, err := key.ParseMultikey(d.ID)
	switch {
	case err == nil:
	case errors.Is(err, key.ErrInvalidPublicKeyLength), errors.Is(err, key.ErrInvalidPublicKey):
		return key.PublicKey{}, fmt.Errorf("did:key: %w", err)
	case errors.Is(err, key.ErrUnsupportedKey):
		return key.PublicKey{}, fmt.Errorf("%w: did:key: %w", ErrUnsupportedPublicKeyType, err)
	default:
		return key.PublicKey{}, fmt.Errorf("%w: did:key value: %w", ErrInvalidDID, err)
	}
	// Base58 and varints each have one canonical form for a value; refuse
	// any other spelling so that one key has exactly one did:key.
	if KeyDID(pub) != d.String() {
		return key.PublicKey{}, fmt.Errorf("%w: did:key value is not canonically encoded", ErrInvalidDID)
	}
	return pub, nil
}

// KeyDocument returns the DID document of the did:key of pub (the did:key
// specification's document for a Multikey): one Multikey verification method
// "did:key:z…#z…" controlled by the DID and referenced from authentication,
// assertionMethod, capabilityInvocation and capabilityDelegation. It returns
// nil for the zero key.
func KeyDocument(pub key.PublicKey) *Document {
	id := KeyDID(pub)
	if id == "" {
		return nil
	}
	vmID := id + "#" + pub.Multikey()
	refs := func() []string { return []string{vmID} }
	return &Document{
		Context: DefaultContext(),
		ID:      id,
		VerificationMethod: []VerificationMethod{{
			ID:         vmID,
			Type:       TypeMultikey,
			Controller: id,
			PublicKey:  pub,
		}},
		Authentication:       refs(),
		AssertionMethod:      refs(),
		CapabilityInvocation: refs(),
		CapabilityDelegation: refs(),
	}
}

// KeyResolver resolves did:key DIDs. It needs no I/O and no configuration:
// its zero value is ready to use and safe for concurrent use.
type KeyResolver struct{}

// Resolve returns the document of a did:key (see [KeyDocument]). A DID that
// is not a did:key is [ErrMethodNotSupported]; an undecodable one is one of
// the errors of [ParseKeyDID]. The Resolution has an empty Metadata (a
// did:key has no history) and TTL 0.
func (KeyResolver) Resolve(ctx context.Context, did string) (*Resolution, error) {
	d, err := Parse(did)
	if err != nil {
		return nil, err
	}
	if d.Method != "key" {
		return nil, fmt.Errorf("%w: the did:key resolver cannot resolve did:%s", ErrMethodNotSupported, d.Method)
	}
	pub, err := keyFromDID(d)
	if err != nil {
		return nil, err
	}
	return &Resolution{Document: KeyDocument(pub)}, nil
}
