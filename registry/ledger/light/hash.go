package light

import (
	"fmt"

	"github.com/cometbft/cometbft/crypto/merkle"
	"github.com/cometbft/cometbft/libs/protoio"
	cmtproto "github.com/cometbft/cometbft/proto/tendermint/types"
	gogotypes "github.com/cosmos/gogoproto/types"
)

// HeaderHash is the hash CometBFT v0.38 gives a header (types.Header.Hash):
// the RFC 6962 Merkle root of its fields in order, each encoded as CometBFT
// encodes it (the version and the last block id as their protobuf
// messages, the time as a protobuf Timestamp, scalars and hashes wrapped in
// the protobuf well-known wrapper types, empty values as empty bytes).
// A header without a validators hash has no hash (nil), as in CometBFT.
func HeaderHash(h *cmtproto.Header) []byte {
	if h == nil || len(h.ValidatorsHash) == 0 {
		return nil
	}
	version, err := h.Version.Marshal()
	if err != nil {
		return nil
	}
	t, err := gogotypes.StdTimeMarshal(h.Time)
	if err != nil {
		return nil // a time outside the Timestamp range has no hash, as in CometBFT
	}
	lastBlockID, err := h.LastBlockId.Marshal()
	if err != nil {
		return nil
	}
	return hashFromByteSlices([][]byte{
		version,
		encodeString(h.ChainID),
		encodeInt64(h.Height),
		t,
		lastBlockID,
		encodeBytes(h.LastCommitHash),
		encodeBytes(h.DataHash),
		encodeBytes(h.ValidatorsHash),
		encodeBytes(h.NextValidatorsHash),
		encodeBytes(h.ConsensusHash),
		encodeBytes(h.AppHash),
		encodeBytes(h.LastResultsHash),
		encodeBytes(h.EvidenceHash),
		encodeBytes(h.ProposerAddress),
	})
}

// encodeString, encodeInt64 and encodeBytes are CometBFT's cdcEncode: the
// protobuf wrapper message of a non-empty value, nil for an empty one.
func encodeString(s string) []byte {
	if s == "" {
		return nil
	}
	b, _ := (&gogotypes.StringValue{Value: s}).Marshal()
	return b
}

func encodeInt64(i int64) []byte {
	if i == 0 {
		return nil
	}
	b, _ := (&gogotypes.Int64Value{Value: i}).Marshal()
	return b
}

func encodeBytes(v []byte) []byte {
	if len(v) == 0 {
		return nil
	}
	b, _ := (&gogotypes.BytesValue{Value: v}).Marshal()
	return b
}

func hashFromByteSlices(items [][]byte) []byte { return merkle.HashFromByteSlices(items) }

// VoteSignBytes returns the bytes validator idx of commit c signed for
// chainID: the length-delimited protobuf CanonicalVote of a precommit for
// the commit's block at its height and round, with that signature's time
// (CometBFT's Commit.VoteSignBytes for a BlockIDFlagCommit signature).
// It fails for an index out of range or a time protobuf cannot encode.
func VoteSignBytes(chainID string, c *cmtproto.Commit, idx int) ([]byte, error) {
	if idx < 0 || idx >= len(c.Signatures) {
		return nil, fmt.Errorf("%w: no signature #%d in the commit", ErrInvalid, idx)
	}
	sig := &c.Signatures[idx]
	var bid *cmtproto.CanonicalBlockID
	if sig.BlockIdFlag == cmtproto.BlockIDFlagCommit && !blockIDIsZero(&c.BlockID) {
		bid = &cmtproto.CanonicalBlockID{
			Hash:          c.BlockID.Hash,
			PartSetHeader: cmtproto.CanonicalPartSetHeader(c.BlockID.PartSetHeader),
		}
	}
	cv := cmtproto.CanonicalVote{
		Type:      cmtproto.PrecommitType,
		Height:    c.Height,
		Round:     int64(c.Round),
		BlockID:   bid,
		Timestamp: sig.Timestamp,
		ChainID:   chainID,
	}
	b, err := protoio.MarshalDelimited(&cv)
	if err != nil {
		return nil, fmt.Errorf("%w: vote of signature #%d: %v", ErrInvalid, idx, err)
	}
	return b, nil
}
