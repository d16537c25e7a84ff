// Package wallet is the patient wallet core: an encrypted store of the
// patient's keys, DIDs, verifiable credentials, consent grants and sharing
// history, with presentations, backup and recovery. It has no user
// interface; the medid CLI ("medid wallet") and the Fyne app are thin faces
// over [Wallet].
//
// # At rest
//
// A wallet is a folder holding one bbolt file (see [BoltStore]). Every
// record is sealed with XChaCha20-Poly1305 under a random data-encryption
// key (DEK), with the record's bucket and file id as associated data so
// records cannot be swapped. File ids are HMAC-SHA256 values of the natural
// ids (a DID, a credential id), so the file leaks neither. The DEK is
// wrapped by a key derived from the passphrase with Argon2id ([KDFParams]);
// changing the passphrase rewraps 32 bytes. Only two records are in the
// clear: the header (KDF parameters and the wrapped DEK) and the lockout
// counter. docs/design/0004-wallet-store.md explains the choices.
//
// # Locking
//
// [Open] unlocks with the passphrase; [Wallet.Lock] forgets every key and
// decrypted record; [Wallet.Unlock] brings them back. Wrong passphrases are
// counted in the file: after [LockoutPolicy.FreeAttempts] failures each
// further failure locks the wallet for a doubling time ([LockedOutError]).
// A wallet left idle for [Settings.AutoLock] locks itself.
//
// # Identities
//
// All keys derive from a 24-word BIP-39 recovery phrase shown once at
// [Create]: HKDF-SHA256 over the BIP-39 seed with info "medid/<alg>/<index>".
// The primary identity is the Ed25519 did:key at index 0; [Wallet.NewDID]
// adds more, including pairwise DIDs, one per relationship, so two
// hospitals cannot link the patient by DID. [Wallet.RegisterDID] registers
// a did:medid on the registry. [Recover] rebuilds the identities from the
// phrase alone, and [Wallet.FindRegistered] finds its did:medid ones again.
//
// # Credentials
//
// [Wallet.Receive] verifies a vc+jwt (through a [Verifier], see
// [VerifyWith]) and refuses one bound to someone else's DID; nothing is
// stored on failure. [Wallet.Refresh] re-checks status and marks revoked or
// suspended credentials. [Wallet.Present] signs a vp+jwt for one verifier
// and nonce and records what was shared (attribute names, never values) in
// [Wallet.History]. [Wallet.Backup] and [Restore] move a whole wallet as one
// age-encrypted file.
//
// # Workflows over the wallet
//
// Workflows live in sub-packages over a small holder interface each
// declares, which *Wallet implements, so that the wallet stays the store
// and a protocol changes in its own package:
//
//   - wallet/openid runs OpenID4VCI (receiving from an issuer's offer) and
//     OpenID4VP (answering a verifier's request);
//   - wallet/card makes the emergency card (over [Wallet.RecordPresented]
//     for its history entry);
//   - wallet/hospital runs consent and the vault: grants anchored on the
//     registry, found, revoked or withdrawn (over the store primitives
//     [Wallet.AnchorKey], [Wallet.SaveConsent] and [Wallet.Consents]), a
//     provider's consent request, the verified access log, break-glass
//     permission and erasure at a vault, and acting at a vault under a
//     held delegation ([Wallet.HeldDelegation]): reading a person's
//     records and trail, consent in their name;
//   - wallet/delegate grants and takes back the patient's delegations on
//     their own status list (over [Wallet.DelegationListKey] and
//     [Wallet.SaveDelegation]), takes in one given to the owner, and learns
//     from a verified trail what was done in the owner's name.
//
// Receiving and presenting credentials for someone under a held delegation
// are wallet/openid's (ReceiveFor, PresentFor), over two store primitives:
// [Wallet.KeepHeld] verifies with the wallet's verifier and keeps a
// credential with its delegation, [Wallet.RecordPresentedFor] writes the
// presentation's history entry.
//
// # Concurrency
//
// A [Wallet] is safe for concurrent use; one mutex serialises operations.
package wallet
