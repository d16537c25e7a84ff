package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/medid/medid/registry/app"
	"github.com/medid/medid/registry/client"
)

// errNoProof: the chain is too young (or the node too far behind) to have a
// signed header over the state.
var errNoProof = errors.New("no signed header over the state yet: retry in a moment")

// wantProof reports whether the request asked for ?proof=true.
func wantProof(r *http.Request) bool {
	v := r.URL.Query().Get("proof")
	return v == "true" || v == "1"
}

// prove reads state key k with a Merkle proof at the newest state version H
// whose app hash is already in a signed header (block H+1), and returns the
// proof (with the value, nil if absent).
func (s *Server) prove(ctx context.Context, k []byte) (*client.Proof, error) {
	h := s.ledger.Height() - 1
	if h < 1 {
		return nil, errNoProof
	}
	res, err := s.ledger.Query(ctx, app.QueryKey, k, h, true)
	if err != nil {
		return nil, fmt.Errorf("proving query: %w", err)
	}
	if res.Code != 0 && res.Code != app.CodeNotFound {
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
	return client.NewProof(res.Height, k, value, res.ProofOps, sh, vals)
}

// setProof puts p in the response header.
func setProof(w http.ResponseWriter, p *client.Proof) error {
	v, err := p.Encode()
	if err != nil {
		return err
	}
	w.Header().Set(client.ProofHeader, v)
	return nil
}

func (s *Server) proofProblem(w http.ResponseWriter, r *http.Request, err error) {
	s.problem(w, r, &problem{Type: problemBase + "proof-unavailable", Title: "Proof unavailable",
		Status: http.StatusServiceUnavailable, Detail: err.Error()})
}
