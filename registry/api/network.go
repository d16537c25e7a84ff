package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/medid/medid/registry/ledger"
)

// networkState is implemented by a State that knows the network's
// governance records (*machine.App).
type networkState interface {
	Validators() ([]ledger.ValidatorRecord, error)
	Proposal(id string) (*ledger.ProposalRecord, error)
	Proposals() ([]ledger.ProposalRecord, error)
	Governance() ([]string, error)
	NetworkPolicy() (ledger.NetworkPolicy, error)
	LastSnapshot() (int64, time.Time)
	LayoutMove() (ledger.StateLayout, *ledger.LayoutMove, error)
	Protocol() ledger.ProtocolStatus
}

// nodeInfo is implemented by a Ledger that can say how to reach it
// (*node.Node).
type nodeInfo interface {
	Info() ledger.NodeInfo
	GenesisJSON() ([]byte, error)
	ChainID() string
}

func (s *Server) network() (networkState, nodeInfo, bool) {
	ns, ok1 := s.state.(networkState)
	ni, ok2 := s.ledger.(nodeInfo)
	return ns, ni, ok1 && ok2
}

func (s *Server) notServed(w http.ResponseWriter, r *http.Request) {
	s.problem(w, r, &problem{Type: problemBase + "not-found", Title: "Not Found", Status: http.StatusNotFound,
		Detail: "this registry does not serve network information"})
}

func (s *Server) internal(w http.ResponseWriter, r *http.Request, err error) {
	s.problem(w, r, &problem{Type: problemBase + "internal", Title: "Internal error", Status: http.StatusInternalServerError, Detail: err.Error()})
}

// networkInfo serves GET /1.0/network: validators with their history,
// governance DIDs, the governance rule, and how to reach this node.
func (s *Server) networkInfo(w http.ResponseWriter, r *http.Request) {
	ns, ni, ok := s.network()
	if !ok {
		s.notServed(w, r)
		return
	}
	vals, err := ns.Validators()
	if err != nil {
		s.internal(w, r, err)
		return
	}
	govs, err := ns.Governance()
	if err != nil {
		s.internal(w, r, err)
		return
	}
	pol, err := ns.NetworkPolicy()
	if err != nil {
		s.internal(w, r, err)
		return
	}
	if vals == nil {
		vals = []ledger.ValidatorRecord{}
	}
	if govs == nil {
		govs = []string{}
	}
	layout, move, err := ns.LayoutMove()
	if err != nil {
		s.internal(w, r, err)
		return
	}
	snap, _ := ns.LastSnapshot()
	proto := ns.Protocol()
	writeJSON(w, http.StatusOK, "application/json", &ledger.NetworkInfo{ChainID: ni.ChainID(), Height: s.ledger.Height(),
		Node: ni.Info(), Validators: vals, Governance: govs, Policy: pol, SnapshotHeight: snap, StateLayout: layout, LayoutMove: move,
		Protocol: &proto})
}

// genesis serves GET /1.0/network/genesis: the genesis file, byte for byte.
func (s *Server) genesis(w http.ResponseWriter, r *http.Request) {
	_, ni, ok := s.network()
	if !ok {
		s.notServed(w, r)
		return
	}
	b, err := ni.GenesisJSON()
	if err != nil {
		s.internal(w, r, err)
		return
	}
	writeBody(w, http.StatusOK, "application/json", b)
}

// proposals serves GET /1.0/network/proposals: every governance proposal,
// open ones first.
func (s *Server) proposals(w http.ResponseWriter, r *http.Request) {
	ns, _, ok := s.network()
	if !ok {
		s.notServed(w, r)
		return
	}
	ps, err := ns.Proposals()
	if err != nil {
		s.internal(w, r, err)
		return
	}
	if ps == nil {
		ps = []ledger.ProposalRecord{}
	}
	writeJSON(w, http.StatusOK, "application/json", ps)
}

// proposal serves GET /1.0/network/proposals/{id}, with a Registry-Proof
// header when asked.
func (s *Server) proposal(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if !ledger.ValidKeyPart(id) {
		s.problem(w, r, &problem{Type: problemBase + "not-found", Title: "Proposal not found", Status: http.StatusNotFound,
			Detail: fmt.Sprintf("no proposal %.128q", id)})
		return
	}
	var value []byte
	if wantProof(r) {
		p, err := s.prove(r.Context(), ledger.ProposalKey(id))
		if err == nil {
			err = setProof(w, p)
		}
		if err != nil {
			s.proofProblem(w, r, err)
			return
		}
		value = p.Value
	} else {
		res, err := s.ledger.Query(r.Context(), ledger.QueryKey, ledger.ProposalKey(id), 0, false)
		if err != nil {
			s.internal(w, r, err)
			return
		}
		value = res.Value
	}
	if value == nil {
		s.problem(w, r, &problem{Type: problemBase + "not-found", Title: "Proposal not found", Status: http.StatusNotFound,
			Detail: fmt.Sprintf("no proposal %.128q", id)})
		return
	}
	var rec ledger.ProposalRecord
	if err := json.Unmarshal(value, &rec); err != nil {
		s.internal(w, r, fmt.Errorf("stored proposal does not decode"))
		return
	}
	writeJSON(w, http.StatusOK, "application/json", &rec)
}
