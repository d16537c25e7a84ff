// Package light verifies CometBFT v0.38 block headers (v0.39, which the
// registry runs, writes the same: block protocol 11) the way CometBFT's
// light client does, without CometBFT's types package: headers, commits
// and validator sets are read from their protobuf messages
// (cometbft/proto/tendermint/types) and hashed and checked with
// cometbft/crypto/merkle, cometbft/crypto/ed25519 and cometbft/libs/protoio
// only. The patient's wallet links this package (through registry/ledger
// and registry/client); CometBFT's types package would link its ABCI
// message types, which the wallet must not carry (docs/design/0012).
//
// # What is checked
//
//   - [HeaderHash] is types.Header.Hash, [ValidatorSet.Hash] is
//     types.ValidatorSet.Hash, [VoteSignBytes] is types.Commit.VoteSignBytes.
//   - [NewSignedHeader] and [NewValidatorSet] are the structural checks of
//     types.SignedHeader.ValidateBasic and types.ValidatorSetFromProto.
//   - [VerifyCommitLight] and [VerifyCommitLightTrusting] count voting
//     power and verify Ed25519 signatures (ZIP-215, CometBFT's rules) as
//     the methods of the same names do.
//   - [Verify] is light.Verify: adjacent headers must name the next
//     validators, non-adjacent ones must be signed by at least the trust
//     level (1/3) of the trusted set; the trusted header must be within
//     the trusting period, and the new one newer and not from the future.
//   - [Client] follows the chain from a [Root] (the genesis) or a stored
//     trusted light block, with bisection through a [Source] when the
//     validator set changed too much between two headers, and walks the
//     hash chain back for an older header.
//
// A differential test runs every check against CometBFT's own code on
// real and mutated headers and commits, and a fuzz test keeps doing so on
// arbitrary mutations. Only Ed25519 validators are accepted: the registry's
// consensus parameters admit no other key type.
package light
