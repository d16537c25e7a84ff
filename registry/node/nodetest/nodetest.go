// Package nodetest runs a complete registry in-process for tests and
// benchmarks: a freshly initialised single-validator home, the registry
// application, the CometBFT node and the HTTP API on a loopback port. It
// also builds signed transactions for test identities.
package nodetest

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cometbft/cometbft/types"

	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/registry/api"
	"github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/machine"
	"github.com/medid/medid/registry/node"
	"github.com/medid/medid/registry/tx"
)

// Options tune [Start]; the zero value is fine.
type Options struct {
	BlockTime time.Duration // 0 = 20 ms
	Logger    *slog.Logger  // nil = discard
	// Quotas, when set, is written into the genesis app_state as the
	// network's write quota policy (nil: none, the defaults).
	Quotas *ledger.QuotaPolicy
	// LogoMirrors is api.Config.LogoMirrors.
	LogoMirrors []string
	// StateLayout, when set, is the genesis state layout (0: what
	// registryd init writes, ledger.CurrentLayout); tests of chains started
	// before the layouts existed set ledger.LayoutEveryVersion.
	StateLayout ledger.StateLayout
}

// Stack is a running registry. Everything stops at the end of the test.
type Stack struct {
	Home          string
	App           *machine.App
	Node          *node.Node
	API           *api.Server
	URL           string // base URL of the HTTP API
	Genesis       []byte // genesis.json contents
	Governance    *key.PrivateKey
	GovernanceDID string
}

// Start initialises a home in a temporary folder and starts the stack.
func Start(tb testing.TB, o Options) *Stack {
	tb.Helper()
	home := tb.TempDir()
	res, err := node.Init(node.InitConfig{Home: home, ChainID: "medid-test"})
	if err != nil {
		tb.Fatalf("node.Init: %v", err)
	}
	if o.Quotas != nil {
		SetQuotas(tb, home, o.Quotas)
	}
	if o.StateLayout != 0 {
		editAppState(tb, home, func(g *machine.Genesis) { g.StateLayout = o.StateLayout })
	}
	s := &Stack{Home: home, GovernanceDID: res.GovernanceDID}
	if s.Governance, err = key.LoadFile(filepath.Join(home, node.GovernanceKeyFile)); err != nil {
		tb.Fatal(err)
	}
	if s.Genesis, err = os.ReadFile(filepath.Join(home, "config", "genesis.json")); err != nil {
		tb.Fatal(err)
	}
	logger := o.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	bt := o.BlockTime
	if bt <= 0 {
		bt = 20 * time.Millisecond
	}
	if s.App, err = machine.New(machine.Config{Dir: filepath.Join(home, "data", "registry")}); err != nil {
		tb.Fatal(err)
	}
	for attempt := 0; ; attempt++ {
		p2p, err := node.FreeAddr()
		if err != nil {
			tb.Fatal(err)
		}
		if s.Node, err = node.New(node.Config{Home: home, App: s.App, ConcurrentApp: true, P2PAddr: p2p, BlockTime: bt, Logger: logger}); err != nil {
			tb.Fatal(err)
		}
		if err = s.Node.Start(); err == nil {
			break
		} else if attempt == 4 {
			tb.Fatalf("node.Start: %v", err)
		}
	}
	if s.API, err = api.New(api.Config{State: s.App, Ledger: s.Node, Logger: logger, Checks: api.NodeChecks(s.Node, s.App), LogoMirrors: o.LogoMirrors}); err != nil {
		tb.Fatal(err)
	}
	srv := httptest.NewServer(s.API)
	s.URL = srv.URL
	tb.Cleanup(func() {
		srv.Close()
		_ = s.Node.Stop()
		_ = s.App.Close()
	})
	return s
}

// UnlimitedCreates is a write quota policy under which self-made did.create
// transactions have no budget (every other default stands): throughput
// benchmarks register thousands of DIDs an hour, far past a real network's
// budget, and still pay for every quota check.
func UnlimitedCreates() *ledger.QuotaPolicy {
	return &ledger.QuotaPolicy{SelfMade: ledger.OriginQuota{Types: map[tx.Type]ledger.TypeQuota{
		tx.DIDCreate: {Total: ledger.Limit{Txs: -1, Bytes: -1}}}}}
}

// SetQuotas writes q into the genesis app_state of an initialised home,
// before the node first starts.
func SetQuotas(tb testing.TB, home string, q *ledger.QuotaPolicy) {
	tb.Helper()
	editAppState(tb, home, func(g *machine.Genesis) { g.Quotas = q })
}

// SetNetworkPolicy writes p into the genesis app_state of an initialised
// home (nil: none, as in a genesis written before the policy existed),
// before the node first starts.
func SetNetworkPolicy(tb testing.TB, home string, p *ledger.NetworkPolicy) {
	tb.Helper()
	editAppState(tb, home, func(g *machine.Genesis) { g.Network = p })
}

// editAppState rewrites the genesis app_state of an initialised home with
// fn, before the node first starts.
func editAppState(tb testing.TB, home string, fn func(*machine.Genesis)) {
	tb.Helper()
	path := filepath.Join(home, "config", "genesis.json")
	gen, err := types.GenesisDocFromFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	g, err := machine.ParseGenesis(gen.AppState)
	if err != nil {
		tb.Fatal(err)
	}
	fn(g)
	if gen.AppState, err = g.Marshal(); err != nil {
		tb.Fatal(err)
	}
	if err := gen.SaveAs(path); err != nil {
		tb.Fatal(err)
	}
}

// GovernanceKID is the kid the governance key signs with.
func (s *Stack) GovernanceKID() string {
	return s.GovernanceDID + "#" + s.Governance.Public().Multikey()
}

// Nonce returns a fresh transaction nonce (tx.NewNonce), for payloads a
// test writes by hand.
func Nonce() string { return tx.NewNonce() }

// Identity is a did:medid controller with one Ed25519 key "#key-1".
type Identity struct {
	Key *key.PrivateKey
	DID string
	Doc []byte // the bound document
	// tmpl is the document template of a padded identity (nil: the key's
	// standard template, see tx.KeyTemplate).
	tmpl []byte
}

// KID is the identity's key id.
func (id *Identity) KID() string { return id.DID + "#key-1" }

// NewIdentity derives an identity deterministically from seed.
func NewIdentity(tb testing.TB, seed string) *Identity {
	tb.Helper()
	sum := sha256.Sum256([]byte(seed))
	k, err := key.NewEd25519FromSeed(sum[:])
	if err != nil {
		tb.Fatal(err)
	}
	p, _, err := tx.NewKeyDIDCreate(k.Public())
	if err != nil {
		tb.Fatal(err)
	}
	return &Identity{Key: k, DID: p.DID, Doc: p.Document}
}

// Sign signs p (setting a fresh nonce if empty) with k and kid.
func Sign(tb testing.TB, p *tx.Payload, k *key.PrivateKey, kid string) []byte {
	tb.Helper()
	if p.Nonce == "" {
		p.Nonce = Nonce()
	}
	raw, err := tx.Sign(p, k, kid)
	if err != nil {
		tb.Fatalf("tx.Sign: %v", err)
	}
	return raw
}

// NewPaddedIdentity is [NewIdentity] with a document padded with service
// entries so that its did.create is about txBytes bytes: the way an
// attacker fills a ledger with documents nobody needs (issue 11 item 9).
func NewPaddedIdentity(tb testing.TB, seed string, txBytes int) *Identity {
	tb.Helper()
	id := NewIdentity(tb, seed)
	var doc map[string]any
	if err := json.Unmarshal(bytes.ReplaceAll(id.Doc, []byte(id.DID), []byte(tx.Placeholder)), &doc); err != nil {
		tb.Fatal(err)
	}
	// The payload travels as base64url (4/3 of the document) in the JWS.
	var svc []map[string]string
	for i, pad := 0, txBytes*3/4-900; pad > 0; i++ {
		n := min(pad, 2000)
		svc = append(svc, map[string]string{"id": fmt.Sprintf("%s#pad-%d", tx.Placeholder, i), "type": "LinkedDomains",
			"serviceEndpoint": "https://attacker.example/" + strings.Repeat("a", n)})
		pad -= n + 100
	}
	if svc != nil {
		doc["service"] = svc
	}
	tmpl, err := json.Marshal(doc)
	if err != nil {
		tb.Fatal(err)
	}
	if id.DID, id.Doc, err = tx.BindDocument(tmpl); err != nil {
		tb.Fatal(err)
	}
	id.tmpl = tmpl
	return id
}

// Must returns a function that returns a builder's payload, failing tb if
// the builder refused: nodetest.Must(t)(tx.NewDIDDeactivate(id, "1")).
func Must(tb testing.TB) func(*tx.Payload, error) *tx.Payload {
	return func(p *tx.Payload, err error) *tx.Payload {
		tb.Helper()
		if err != nil {
			tb.Fatalf("build the transaction: %v", err)
		}
		return p
	}
}

// CreateTx is the signed did.create of id.
func (id *Identity) CreateTx(tb testing.TB) []byte {
	tb.Helper()
	if id.tmpl != nil {
		return Sign(tb, Must(tb)(tx.NewDIDCreate(id.tmpl)), id.Key, id.KID())
	}
	p, kid, err := tx.NewKeyDIDCreate(id.Key.Public())
	if err != nil {
		tb.Fatal(err)
	}
	return Sign(tb, p, id.Key, kid)
}

// DeactivateTx is the signed did.deactivate of id at version prev.
func (id *Identity) DeactivateTx(tb testing.TB, prev string) []byte {
	tb.Helper()
	p, err := tx.NewDIDDeactivate(id.DID, prev)
	if err != nil {
		tb.Fatal(err)
	}
	return Sign(tb, p, id.Key, id.KID())
}

// Discard is a logger that drops everything.
var Discard = slog.New(slog.NewTextHandler(io.Discard, nil))
