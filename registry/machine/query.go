package machine

import (
	"context"
	"fmt"

	abci "github.com/cometbft/cometbft/abci/types"
	cmtcrypto "github.com/cometbft/cometbft/proto/tendermint/crypto"
	"github.com/cosmos/iavl"
	ics23 "github.com/cosmos/ics23/go"
	"github.com/medid/medid/registry/ledger"
)

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
	case ledger.QueryDID:
		k = ledger.DIDKey(id)
	case ledger.QueryIssuer:
		k = ledger.IssuerKey(id)
	case ledger.QueryStatusList:
		k = ledger.StatusListKey(id)
	case ledger.QueryKey:
		k = req.Data
	default:
		return &abci.ResponseQuery{Code: ledger.CodeInvalid, Codespace: ledger.Codespace,
			Log: fmt.Sprintf("unknown query path %q: use %s, %s, %s or %s (consent anchors: %s with ledger.ConsentKey)", req.Path, ledger.QueryDID, ledger.QueryIssuer, ledger.QueryStatusList, ledger.QueryKey, ledger.QueryKey)}, nil
	}
	if len(k) == 0 || (req.Path != ledger.QueryKey && !ledger.ValidKeyPart(id)) {
		return &abci.ResponseQuery{Code: ledger.CodeInvalid, Codespace: ledger.Codespace, Log: "query data must be a non-empty identifier without '/'"}, nil
	}
	view, height := a.view()
	if req.Height != 0 && req.Height != height {
		if req.Height < 0 || req.Height > height {
			return &abci.ResponseQuery{Code: ledger.CodeInvalid, Codespace: ledger.Codespace,
				Log: fmt.Sprintf("height %d is not committed (last committed %d)", req.Height, height)}, nil
		}
		// GetImmutable reads only the node database (which locks itself),
		// so it needs no lock against FinalizeBlock.
		v, err := a.reader.GetImmutable(req.Height)
		if err != nil {
			return &abci.ResponseQuery{Code: ledger.CodeNotFound, Codespace: ledger.Codespace, Log: fmt.Sprintf("height %d: %v", req.Height, err)}, nil
		}
		view, height = v, req.Height
	}
	resp := &abci.ResponseQuery{Key: k, Height: height}
	value, err := view.Get(k)
	if err != nil {
		return &abci.ResponseQuery{Code: ledger.CodeInternal, Codespace: ledger.Codespace, Log: "read state: " + err.Error()}, nil
	}
	resp.Value = value
	if value == nil {
		resp.Code, resp.Codespace, resp.Log = ledger.CodeNotFound, ledger.Codespace, "not found"
	}
	if req.Prove {
		ops, err := proveKey(view, k, value != nil)
		if err != nil {
			return &abci.ResponseQuery{Code: ledger.CodeInternal, Codespace: ledger.Codespace, Log: "proof: " + err.Error()}, nil
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
	return &cmtcrypto.ProofOps{Ops: []cmtcrypto.ProofOp{{Type: ledger.ProofOpType, Key: k, Data: data}}}, nil
}
