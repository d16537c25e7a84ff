package machine

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	abci "github.com/cometbft/cometbft/abci/types"
	cmtcrypto "github.com/cometbft/cometbft/proto/tendermint/crypto"
	"github.com/cosmos/iavl"
	ics23 "github.com/cosmos/ics23/go"
)

// ABCI query paths. Data is the identifier (a DID, a list id) or, for
// QueryKey, a raw state key built with the key helpers ([DIDVersionKey],
// [StatusListVersionKey], …).
const (
	QueryDID        = "/did"        // Data = DID -> DIDRecord at DIDKey (current version)
	QueryIssuer     = "/issuer"     // Data = issuer DID -> IssuerRecord at IssuerKey
	QueryStatusList = "/statuslist" // Data = list id -> StatusListRecord at StatusListKey (latest)
	QueryKey        = "/key"        // Data = raw state key -> its value
)

// ProofOpType is the type of the single proof op a proving query returns:
// an ICS-23 commitment proof (protobuf-encoded ics23.CommitmentProof) for
// the key in the IAVL tree, whose root is the app hash.
const ProofOpType = "ics23:iavl"

// ErrProof reports a proof that does not verify against the app hash.
var ErrProof = errors.New("proof does not verify")

// Query serves reads of committed state. Height 0 means the latest committed
// height. The response carries Key (the state key), Value (record JSON, empty
// when absent with Code [CodeNotFound]) and Height (the state version: the
// app hash of height H is in the header of block H+1). With Prove set,
// ProofOps holds one [ProofOpType] op: a membership proof of (Key, Value),
// or a non-membership proof of Key, against that app hash; check it with
// [VerifyProof].
func (a *App) Query(_ context.Context, req *abci.RequestQuery) (*abci.ResponseQuery, error) {
	var k []byte
	id := string(req.Data)
	switch req.Path {
	case QueryDID:
		k = DIDKey(id)
	case QueryIssuer:
		k = IssuerKey(id)
	case QueryStatusList:
		k = StatusListKey(id)
	case QueryConsent:
		k = ConsentKey(id)
	case QueryKey:
		k = req.Data
	default:
		return &abci.ResponseQuery{Code: CodeInvalid, Codespace: Codespace,
			Log: fmt.Sprintf("unknown query path %q: use %s, %s, %s, %s or %s", req.Path, QueryDID, QueryIssuer, QueryStatusList, QueryConsent, QueryKey)}, nil
	}
	if len(k) == 0 || (req.Path != QueryKey && !validKeyPart(id)) {
		return &abci.ResponseQuery{Code: CodeInvalid, Codespace: Codespace, Log: "query data must be a non-empty identifier without '/'"}, nil
	}
	view, height := a.view()
	if req.Height != 0 && req.Height != height {
		if req.Height < 0 || req.Height > height {
			return &abci.ResponseQuery{Code: CodeInvalid, Codespace: Codespace,
				Log: fmt.Sprintf("height %d is not committed (last committed %d)", req.Height, height)}, nil
		}
		// GetImmutable reads only the node database (which locks itself),
		// so it needs no lock against FinalizeBlock.
		v, err := a.reader.GetImmutable(req.Height)
		if err != nil {
			return &abci.ResponseQuery{Code: CodeNotFound, Codespace: Codespace, Log: fmt.Sprintf("height %d: %v", req.Height, err)}, nil
		}
		view, height = v, req.Height
	}
	resp := &abci.ResponseQuery{Key: k, Height: height}
	value, err := view.Get(k)
	if err != nil {
		return &abci.ResponseQuery{Code: CodeInternal, Codespace: Codespace, Log: "read state: " + err.Error()}, nil
	}
	resp.Value = value
	if value == nil {
		resp.Code, resp.Codespace, resp.Log = CodeNotFound, Codespace, "not found"
	}
	if req.Prove {
		ops, err := proveKey(view, k, value != nil)
		if err != nil {
			return &abci.ResponseQuery{Code: CodeInternal, Codespace: Codespace, Log: "proof: " + err.Error()}, nil
		}
		resp.ProofOps = ops
	}
	return resp, nil
}

func proveKey(view *iavl.ImmutableTree, k []byte, exists bool) (*cmtcrypto.ProofOps, error) {
	var p *ics23.CommitmentProof
	var err error
	if exists {
		p, err = view.GetMembershipProof(k)
	} else {
		p, err = view.GetNonMembershipProof(k)
	}
	if err != nil {
		return nil, err
	}
	data, err := p.Marshal()
	if err != nil {
		return nil, err
	}
	return &cmtcrypto.ProofOps{Ops: []cmtcrypto.ProofOp{{Type: ProofOpType, Key: k, Data: data}}}, nil
}

// VerifyProof checks ops (from a proving [App.Query]) against appHash, the
// AppHash of a signed block header (the header of block Height+1 of the
// response). A nil value checks that key is absent; otherwise that key maps
// to exactly value. It returns nil when the proof holds and an error wrapping
// [ErrProof] otherwise. It needs no access to the node.
func VerifyProof(appHash, key, value []byte, ops *cmtcrypto.ProofOps) error {
	if ops == nil || len(ops.Ops) != 1 {
		return fmt.Errorf("%w: want exactly one proof op", ErrProof)
	}
	op := ops.Ops[0]
	if op.Type != ProofOpType {
		return fmt.Errorf("%w: proof op type %q, want %q", ErrProof, op.Type, ProofOpType)
	}
	if !bytes.Equal(op.Key, key) {
		return fmt.Errorf("%w: proof is for key %q, not %q", ErrProof, op.Key, key)
	}
	var p ics23.CommitmentProof
	if err := p.Unmarshal(op.Data); err != nil {
		return fmt.Errorf("%w: decode proof: %v", ErrProof, err)
	}
	if value == nil {
		if !ics23.VerifyNonMembership(ics23.IavlSpec, appHash, &p, key) {
			return fmt.Errorf("%w: key %q is not proven absent", ErrProof, key)
		}
		return nil
	}
	if !ics23.VerifyMembership(ics23.IavlSpec, appHash, &p, key, value) {
		return fmt.Errorf("%w: key %q is not proven to hold the value", ErrProof, key)
	}
	return nil
}
