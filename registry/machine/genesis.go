package machine

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/registry/ledger"
)

// Genesis is the app_state of the CometBFT genesis document:
//
//	{"governance": ["did:key:z6Mk…", "did:key:zDn…"],
//	 "quotas": {"window": "1h", "selfMade": {"types": {"did.create": {"total": {"txs": 500}}}}}}
//
// Governance lists the did:key DIDs whose keys may sign issuer.accredit and
// issuer.revoke transactions (normally one per founding hospital); with
// Network.DirectoryQuorum, a quorum of them (see ledger.NetworkPolicy). Quotas,
// optional, is the write quota policy; every field it leaves out (or sets
// to 0) takes its value from ledger.DefaultQuotaPolicy, so a genesis
// without it runs the defaults (see docs/design/0005, "Write quotas").
type Genesis struct {
	Governance []string `json:"governance"`
	// Network, optional, is the governance rule for changes of the
	// validator set and the governance keys (quorum, minimum validators;
	// see ledger.NetworkPolicy, docs/design/0021). Absent: the defaults.
	Network *ledger.NetworkPolicy `json:"network,omitempty"`
	Quotas  *ledger.QuotaPolicy   `json:"quotas,omitempty"`
	// StateLayout is which keys hold a DID's versions (see
	// ledger.StateLayout; docs/design/0021, "State layout"), fixed for the
	// chain's life. ParseGenesis gives ledger.LayoutEveryVersion to an
	// app_state without it (every chain started before the layouts
	// existed), so such chains keep their app hashes; Marshal writes
	// ledger.CurrentLayout for 0.
	StateLayout ledger.StateLayout `json:"stateLayout,omitempty"`
}

// ParseGenesis decodes and validates app_state JSON strictly (unknown
// members are rejected). Empty input is a Genesis with no governance keys.
func ParseGenesis(appState []byte) (*Genesis, error) {
	g := &Genesis{StateLayout: ledger.LayoutEveryVersion}
	if len(bytes.TrimSpace(appState)) == 0 {
		return g, nil
	}
	dec := json.NewDecoder(bytes.NewReader(appState))
	dec.DisallowUnknownFields()
	if err := dec.Decode(g); err != nil {
		return nil, fmt.Errorf("genesis app_state: %w (want {\"governance\": [\"did:key:…\"], \"network\": {…}, \"quotas\": {…}, \"stateLayout\": 2})", err)
	}
	if g.StateLayout == 0 {
		g.StateLayout = ledger.LayoutEveryVersion
	}
	if err := g.Validate(); err != nil {
		return nil, err
	}
	return g, nil
}

// Validate checks every governance entry is a distinct did:key DID with a
// supported key (Ed25519 or P-256), the network governance rule (see
// ledger.NetworkPolicy.Effective) and the quota policy (see
// ledger.QuotaPolicy.Effective).
func (g *Genesis) Validate() error {
	if g.StateLayout != 0 && !g.StateLayout.Valid() {
		return fmt.Errorf("genesis: stateLayout %d: this software knows layouts %d (every version under didv/, chains before issue 18) and %d (each record once)", g.StateLayout, ledger.LayoutEveryVersion, ledger.LayoutRecordsOnce)
	}
	if g.Network != nil {
		if _, err := g.Network.Effective(); err != nil {
			return fmt.Errorf("genesis: %w", err)
		}
	}
	if g.Quotas != nil {
		if _, err := g.Quotas.Effective(); err != nil {
			return fmt.Errorf("genesis: %w", err)
		}
	}
	seen := map[string]bool{}
	for _, d := range g.Governance {
		if _, err := parseKeyDID(d); err != nil {
			return fmt.Errorf("genesis governance %q: %w", d, err)
		}
		if seen[d] {
			return fmt.Errorf("genesis governance %q listed twice", d)
		}
		seen[d] = true
	}
	return nil
}

// Marshal returns the app_state JSON for g, governance sorted, with
// ledger.CurrentLayout if g names no layout.
func (g *Genesis) Marshal() ([]byte, error) {
	c := Genesis{Governance: slices.Clone(g.Governance), Network: g.Network, Quotas: g.Quotas, StateLayout: g.StateLayout}
	if c.StateLayout == 0 {
		c.StateLayout = ledger.CurrentLayout
	}
	if c.Governance == nil {
		c.Governance = []string{}
	}
	slices.Sort(c.Governance)
	return json.Marshal(c)
}

// parseKeyDID extracts the public key of a did:key DID ("did:key:z6Mk…").
func parseKeyDID(d string) (key.PublicKey, error) {
	const prefix = "did:key:"
	if len(d) <= len(prefix) || d[:len(prefix)] != prefix {
		return key.PublicKey{}, fmt.Errorf("%w: not a did:key DID", ledger.ErrInvalid)
	}
	return key.ParseMultikey(d[len(prefix):])
}
