package api

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/medid/medid/registry/ledger"
)

// errNoProof: the chain is too young (or the node too far behind) to have a
// signed header over the state.
var errNoProof = errors.New("no signed header over the state yet: retry in a moment")

// wantProof reports whether the request asked for ?proof=true.
func wantProof(r *http.Request) bool {
	v := r.URL.Query().Get("proof")
	return v == "true" || v == "1"
}

// prove reads state key k with a Merkle proof at the newest state version
// whose app hash is in a signed header, and returns the proof (with the
// value, nil if absent).
//
// The app hash of state version L is in the header of block L+1. With
// empty blocks off, CometBFT makes block L+1 one block time after a block
// that changed the state, so a read right after a write waits for it (read
// your writes, also with proofs). If block L left the state unchanged, the
// header of block L already carries the same hash and version L-1 is proven.
func (s *Server) prove(ctx context.Context, k []byte) (*ledger.Proof, error) {
	h, err := s.proofHeight(ctx)
	if err != nil {
		return nil, err
	}
	res, err := s.ledger.Query(ctx, ledger.QueryKey, k, h, true)
	if err != nil {
		return nil, fmt.Errorf("proving query: %w", err)
	}
	if res.Code != 0 && res.Code != ledger.CodeNotFound {
		return nil, fmt.Errorf("proving query: code %d: %s", res.Code, res.Log)
	}
	sh, vals, err := s.ledger.SignedHeader(ctx, res.Height+1)
	if err != nil {
		return nil, err
	}
	var value []byte
	if res.Code == 0 {
		value = res.Value
	}
	return newProof(res.Height, k, value, res.ProofOps, sh, vals)
}

// proofWait bounds how long a proving read waits for the next block.
const proofWait = 3 * time.Second

func (s *Server) proofHeight(ctx context.Context) (int64, error) {
	last, hash := s.state.LastCommit()
	if last < 1 {
		return 0, errNoProof
	}
	deadline := time.Now().Add(proofWait)
	for {
		if s.ledger.Height() >= last+1 {
			return last, nil
		}
		if hd := s.ledger.Header(last); hd != nil && last >= 2 && bytes.Equal(hd.AppHash, hash) {
			return last - 1, nil
		}
		if time.Now().After(deadline) {
			if h := s.ledger.Height() - 1; h >= 1 {
				return h, nil
			}
			return 0, errNoProof
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// setProof puts p in the response header.
func setProof(w http.ResponseWriter, p *ledger.Proof) error {
	v, err := p.Encode()
	if err != nil {
		return err
	}
	w.Header().Set(ledger.ProofHeader, v)
	return nil
}

func (s *Server) proofProblem(w http.ResponseWriter, r *http.Request, err error) {
	s.problem(w, r, &problem{Type: problemBase + "proof-unavailable", Title: "Proof unavailable",
		Status: http.StatusServiceUnavailable, Detail: err.Error()})
}
