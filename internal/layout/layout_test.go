package layout

import (
	"bytes"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/medid/medid"

// pkg is what `go list -json` says of one package.
type pkg struct {
	ImportPath string
	Imports    []string
	Deps       []string
}

// listAll returns every package of the module with its direct imports and
// transitive dependencies (production code only: tests may reach further).
func listAll(t *testing.T) map[string]*pkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-json=ImportPath,Imports,Deps", module+"/...")
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	pkgs := map[string]*pkg{}
	dec := json.NewDecoder(&out)
	for dec.More() {
		p := new(pkg)
		if err := dec.Decode(p); err != nil {
			t.Fatal(err)
		}
		pkgs[strings.TrimPrefix(p.ImportPath, module+"/")] = p
	}
	if len(pkgs) < 20 {
		t.Fatalf("go list found only %d packages of %s", len(pkgs), module)
	}
	return pkgs
}

// ours returns the module-relative path of an import of ours, or "".
func ours(imp string) string {
	if rel, ok := strings.CutPrefix(imp, module+"/"); ok {
		return rel
	}
	return ""
}

// under reports whether p is dir or below it.
func under(p string, dirs ...string) bool {
	for _, d := range dirs {
		if p == d || strings.HasPrefix(p, d+"/") {
			return true
		}
	}
	return false
}

// The allowed directions of DESIGN.md and docs/design/0012: a package of
// the left-hand tree may import packages of ours only from the listed
// trees. The first matching rule applies (more specific first).
var rules = []struct {
	from  string
	allow []string
}{
	{"credentials", []string{"credentials", "internal"}},
	{"internal", []string{"internal"}},
	// The registry's contracts: the transaction format and the data
	// contract are leaves over credentials/.
	{"registry/tx", []string{"credentials", "internal"}},
	// The light client: CometBFT's protobuf types and crypto, nothing of ours
	// but internal/.
	{"registry/ledger/light", []string{"internal"}},
	{"registry/ledger", []string{"credentials", "internal", "registry/tx", "registry/ledger/light"}},
	// Clients import contracts only, never the state machine, the node, the
	// API server or a hospital-side server.
	{"registry/client", []string{"credentials", "internal", "registry/tx", "registry/ledger"}},
	// The directory lookup is client side: contracts, never a server.
	{"registry/directory", []string{"credentials", "internal", "registry/tx", "registry/ledger"}},
	{"registry/hospital/trail", []string{"credentials", "internal"}},
	{"registry/hospital/vaultapi", []string{"credentials", "internal", "registry/hospital/trail"}},
	{"registry/hospital/vaultclient", []string{"credentials", "internal", "registry/ledger", "registry/tx",
		"registry/hospital/trail", "registry/hospital/vaultapi"}},
	// The FHIR-facing layers of the vault (issue 16): FHIR R4, SMART
	// Backend Services and CDS Hooks speak their own standards over
	// credentials/; BALP writes FHIR AuditEvents.
	{"registry/hospital/fhir", []string{"credentials", "internal"}},
	{"registry/hospital/smart", []string{"credentials", "internal"}},
	{"registry/hospital/cdshooks", []string{"credentials", "internal"}},
	{"registry/hospital/balp", []string{"credentials", "internal", "registry/hospital/fhir", "registry/hospital/trail"}},
	// Servers import contracts, never clients.
	{"registry/hospital/batch", []string{"credentials", "internal", "registry/hospital/trail"}},
	{"registry/hospital/vault/vaulttest", []string{"credentials", "internal", "registry"}},
	{"registry/hospital/vault", []string{"credentials", "internal", "registry/tx", "registry/ledger",
		"registry/hospital/trail", "registry/hospital/batch", "registry/hospital/vaultapi",
		"registry/hospital/fhir", "registry/hospital/smart", "registry/hospital/cdshooks", "registry/hospital/balp"}},
	{"registry/machine", []string{"credentials", "internal", "registry/tx", "registry/ledger"}},
	{"registry/node/nodetest", []string{"credentials", "internal", "registry"}},
	// The process harness drives registryd through its flags and API.
	{"registry/node/proctest", []string{"credentials", "internal", "registry"}},
	{"registry/node", []string{"credentials", "internal", "registry/tx", "registry/ledger"}},
	{"registry/api", []string{"credentials", "internal", "registry/tx", "registry/ledger", "registry/node"}},
	{"registry/loadtest", []string{"credentials", "internal", "registry/tx", "registry/ledger", "registry/machine",
		"registry/node", "registry/api"}},
	{"registry", []string{"credentials", "internal", "registry"}},
	// The wallet's workflows run over the wallet core's public API (each
	// declares the small holder interface it needs): credentials/ and
	// clients, never a sibling workflow (TestWalletWorkflowsAreLeaves).
	{"wallet/openid", []string{"credentials", "internal", "wallet"}},
	{"wallet/card", []string{"credentials", "internal", "wallet"}},
	{"wallet/hospital", []string{"credentials", "internal", "registry/tx", "registry/hospital/trail", "registry/hospital/vaultapi",
		"registry/hospital/vaultclient", "wallet"}},
	{"wallet/delegate", []string{"credentials", "internal", "registry/client", "registry/ledger", "registry/tx", "registry/hospital/trail", "wallet"}},
	// The holder side's test kits: wallettest never imports wallet/ (the
	// wallet's own tests use it); testwallet makes real wallets for the
	// tests above wallet/.
	{"wallet/wallettest/testwallet", []string{"credentials", "internal", "wallet"}},
	{"wallet/wallettest", []string{"credentials", "internal", "registry/client", "registry/ledger", "registry/tx"}},
	// The patient side: credentials/ and clients only.
	{"wallet", []string{"credentials", "internal", "registry/tx", "registry/ledger", "registry/client", "registry/directory",
		"registry/hospital/trail", "registry/hospital/vaultapi", "registry/hospital/vaultclient", "wallet"}},
	{"app", []string{"credentials", "internal", "wallet", "registry/ledger", "registry/client", "registry/directory", "registry/tx",
		"registry/hospital/trail", "registry/hospital/vaultclient", "app"}},
	{"cmd", []string{"credentials", "internal", "registry", "wallet", "app"}},
}

func TestImportDirections(t *testing.T) {
	pkgs := listAll(t)
	for rel, p := range pkgs {
		var allow []string
		matched := false
		for _, r := range rules {
			if under(rel, r.from) {
				allow, matched = r.allow, true
				break
			}
		}
		if !matched {
			t.Errorf("%s: no layout rule covers this package; add one to internal/layout", rel)
			continue
		}
		for _, imp := range p.Imports {
			o := ours(imp)
			if o == "" {
				continue
			}
			if under(o, "cmd") {
				t.Errorf("%s imports %s: nothing imports cmd/", rel, o)
				continue
			}
			if !under(o, allow...) {
				t.Errorf("%s imports %s: allowed are %v (docs/design/0012-architecture.md)", rel, o, allow)
			}
		}
	}
}

// TestPatientSideLinksNoServer: the patient's binary and the libraries it
// is built from carry no ledger server, no database of the node, no vault
// server: they talk to those over HTTP. Nor do they link CometBFT's types
// package, which brings its ABCI message types: proofs are verified by
// registry/ledger/light over the protobuf types alone (docs/design/0012).
func TestPatientSideLinksNoServer(t *testing.T) {
	pkgs := listAll(t)
	forbidden := []string{
		"github.com/cosmos/iavl",
		"github.com/syndtr/goleveldb",
		"github.com/cometbft/cometbft-db",
		"github.com/cometbft/cometbft/node",
		"github.com/cometbft/cometbft/consensus",
		"github.com/cometbft/cometbft/abci/server",
		"github.com/cometbft/cometbft/abci/client",
		"github.com/cometbft/cometbft/abci/types",
		"github.com/cometbft/cometbft/types",
		module + "/registry/machine",
		module + "/registry/node",
		module + "/registry/api",
		module + "/registry/hospital/vault",
		module + "/registry/hospital/batch",
	}
	for _, rel := range []string{"cmd/wallet", "app", "wallet", "wallet/openid", "wallet/card", "wallet/hospital", "wallet/delegate", "registry/client", "registry/directory", "registry/hospital/vaultclient", "registry/ledger"} {
		p := pkgs[rel]
		if p == nil {
			t.Errorf("package %s not found", rel)
			continue
		}
		for _, d := range p.Deps {
			for _, f := range forbidden {
				if d == f || strings.HasPrefix(d, f+"/") {
					t.Errorf("%s links %s", rel, d)
				}
			}
		}
	}
}

// TestOnlyWalletBinaryImportsFyneApp: app/ stays a library that tests drive
// headless; only the binary's main package opens a real window.
func TestOnlyWalletBinaryImportsFyneApp(t *testing.T) {
	for rel, p := range listAll(t) {
		for _, imp := range p.Imports {
			if imp == "fyne.io/fyne/v2/app" && rel != "cmd/wallet" {
				t.Errorf("%s imports fyne.io/fyne/v2/app; only cmd/wallet may", rel)
			}
		}
	}
}

// TestWalletWorkflowsAreLeaves: a workflow package over the wallet
// (wallet/openid, wallet/card, wallet/hospital, and any added beside them)
// imports the wallet core and no other package under wallet/, so a
// protocol changes in one place and the core never depends on a workflow
// (Go forbids the cycle; this keeps workflows from stacking on each other).
func TestWalletWorkflowsAreLeaves(t *testing.T) {
	pkgs := listAll(t)
	n := 0
	for rel, p := range pkgs {
		if !under(rel, "wallet") || rel == "wallet" || under(rel, "wallet/wallettest") {
			continue
		}
		n++
		for _, imp := range p.Imports {
			if o := ours(imp); under(o, "wallet") && o != "wallet" {
				t.Errorf("%s imports %s: a wallet workflow imports the wallet core only (docs/design/0012-architecture.md)", rel, o)
			}
		}
	}
	if n < 3 {
		t.Errorf("found %d wallet workflow packages, want at least wallet/openid, wallet/card, wallet/hospital", n)
	}
}

// TestOneParserPerFormat: the rules of docs/design/0012 "One parser per
// format" that imports and calls show. Compact JWS is split by
// credentials/jose alone: no other package calls jwx's parsers or
// verifiers of a compact serialisation (jws.Parse*, jws.Verify,
// jwt.Parse*), which would split and decode a token under another
// policy (signing with jwx stays allowed). And no package of ours imports
// unsafe: the hand-written JSON parser that aliased strings with it is
// gone, and internal/ijson shares one copy of its input instead.
func TestOneParserPerFormat(t *testing.T) {
	cmd := exec.Command("go", "list", "-json=ImportPath,Dir,GoFiles,Imports", module+"/...")
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	jwx := map[string]bool{"github.com/lestrrat-go/jwx/v2/jws": true, "github.com/lestrrat-go/jwx/v2/jwt": true}
	dec := json.NewDecoder(&out)
	checked := 0
	for dec.More() {
		var p struct {
			ImportPath, Dir  string
			GoFiles, Imports []string
		}
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		rel := strings.TrimPrefix(p.ImportPath, module+"/")
		if slices.Contains(p.Imports, "unsafe") {
			t.Errorf("%s imports unsafe", rel)
		}
		if rel == "credentials/jose" || !slices.ContainsFunc(p.Imports, func(i string) bool { return jwx[i] }) {
			continue
		}
		for _, f := range p.GoFiles {
			fset := token.NewFileSet()
			file, err := parser.ParseFile(fset, filepath.Join(p.Dir, f), nil, parser.SkipObjectResolution)
			if err != nil {
				t.Fatal(err)
			}
			names := map[string]bool{} // local names of jwx's jws and jwt
			for _, imp := range file.Imports {
				path, _ := strconv.Unquote(imp.Path.Value)
				if !jwx[path] {
					continue
				}
				name := path[strings.LastIndex(path, "/")+1:]
				if imp.Name != nil {
					name = imp.Name.Name
				}
				names[name] = true
			}
			ast.Inspect(file, func(n ast.Node) bool {
				sel, ok := n.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				if x, ok := sel.X.(*ast.Ident); ok && names[x.Name] && (strings.HasPrefix(sel.Sel.Name, "Parse") || sel.Sel.Name == "Verify") {
					t.Errorf("%s: %s.%s splits a compact JWS outside credentials/jose (use jose.Split)", fset.Position(sel.Pos()), x.Name, sel.Sel.Name)
				}
				checked++
				return true
			})
		}
	}
	if checked == 0 {
		t.Error("no file importing jwx's jws or jwt was read (credentials/vc signs with it): is the test still looking?")
	}
}

// TestCommandsHoldNoProtocol: cmd/ holds flags, wiring and printing, so it
// has no use for the primitives a protocol rule is written with (hashes,
// signatures, encodings of bytes, compression): a command that needs one
// is doing a library's job, which a Go user of the library would need too.
func TestCommandsHoldNoProtocol(t *testing.T) {
	primitives := []string{"crypto", "encoding/base64", "encoding/base32", "encoding/hex", "encoding/binary", "compress", "hash", "math/big", "unicode/utf16"}
	n := 0
	for rel, p := range listAll(t) {
		if !under(rel, "cmd") {
			continue
		}
		n++
		for _, imp := range p.Imports {
			if under(imp, primitives...) {
				t.Errorf("%s imports %s: a protocol rule belongs in a library (docs/design/0012-architecture.md)", rel, imp)
			}
		}
	}
	if n < 3 {
		t.Errorf("found %d commands under cmd/", n)
	}
}
