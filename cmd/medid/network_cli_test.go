package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/registry/api"
	"github.com/medid/medid/registry/client"
	"github.com/medid/medid/registry/node"
	"github.com/medid/medid/registry/tx"
)

// TestNetworkScripts runs testdata/network/*.txtar: a testnet of real
// registryd processes (on PATH) that scripts start, govern with medid
// network, join and stop. Each script gets $NETBASE (a base port whose
// node.Testnet ports are free: node i serves HTTP on NETBASE+10i+1, as
// $HTTP0…$HTTP3), $P2P4, $HTTP4 and $RPC4 (free addresses for a joining
// node), and the commands "eq A B" (the same string), "waitup URL"
// (polls URL/readyz until 200), "waitvalidators URL N" (until the
// latest block is signed by a set of N), "heightplus VAR URL N", "writeto
// URL H", "waitnotready URL CHECK", "sigterm HOME", "rawpropose URL
// KEY ID VERSION HEIGHT [ERR]", "signapproval URL KEY ID OUT [MODE]",
// "blockhash URL HEIGHT VAR"
// and "submittx URL FILE [ERR]" (see each), and
// $WORK/logo.png, a small PNG.
func TestNetworkScripts(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs registryd; skipped with -short")
	}
	bin := buildRegistryd(t)
	testscript.Run(t, testscript.Params{
		Dir: filepath.Join("testdata", "network"),
		Setup: func(env *testscript.Env) error {
			env.Setenv("PATH", bin+string(os.PathListSeparator)+env.Getenv("PATH"))
			base, err := node.FreeBasePort(5)
			if err != nil {
				return err
			}
			env.Setenv("NETBASE", strconv.Itoa(base))
			for i := range 4 {
				env.Setenv(fmt.Sprintf("HTTP%d", i), strconv.Itoa(base+10*i+1))
			}
			// The joining node takes the fifth node's slot of the scheme.
			env.Setenv("P2P4", net.JoinHostPort("127.0.0.1", strconv.Itoa(base+40)))
			env.Setenv("HTTP4", strconv.Itoa(base+41))
			env.Setenv("RPC4", net.JoinHostPort("127.0.0.1", strconv.Itoa(base+42)))
			return writeLogo(filepath.Join(env.WorkDir, "logo.png"))
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"capture":        captureCmd,
			"eq":             eqCmd,
			"waitup":         waitUpCmd,
			"waitvalidators": waitValidatorsCmd,
			"heightplus":     heightPlusCmd,
			"writeto":        writeToCmd,
			"waitnotready":   waitNotReadyCmd,
			"sigterm":        sigtermCmd,
			"rawpropose":     rawProposeCmd,
			"signapproval":   signApprovalCmd,
			"blockhash":      blockHashCmd,
			"submittx":       submitTxCmd,
		},
	})
}

// rawProposeCmd is "[!] rawpropose URL KEYFILE ID VERSION HEIGHT
// [ERR]": the governance key in KEYFILE proposes, through the Go client
// and not medid (which files every proposal under its content's id), a
// protocol.schedule to VERSION at HEIGHT under the id ID it chose: what an
// attacker holding a stolen key can send. With !, it must be refused, with
// an error matching the regexp ERR if given.
func rawProposeCmd(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 5 && !(neg && len(args) == 6) {
		ts.Fatalf("usage: [!] rawpropose URL KEYFILE ID VERSION HEIGHT [ERR]")
	}
	c, err := client.New(client.Config{URL: args[0]})
	ts.Check(err)
	k, err := key.LoadFile(ts.MkAbs(args[1]))
	ts.Check(err)
	v, err := strconv.ParseUint(args[3], 10, 64)
	ts.Check(err)
	h, err := strconv.ParseInt(args[4], 10, 64)
	ts.Check(err)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, _, err = c.Propose(ctx, k, tx.Proposal{ID: args[2], Action: tx.ActionProtocolSchedule, Protocol: &tx.ProposedProtocol{Version: v, Height: h}})
	switch {
	case !neg && err != nil:
		ts.Fatalf("rawpropose %s: %v", args[2], err)
	case neg && err == nil:
		ts.Fatalf("rawpropose %s: taken, want a refusal", args[2])
	case neg && len(args) == 6 && !regexp.MustCompile(args[5]).MatchString(err.Error()):
		ts.Fatalf("rawpropose %s: %v, want an error matching %q", args[2], err, args[5])
	}
	if err != nil {
		ts.Logf("refused: %v", err)
	}
}

// signApprovalCmd is "signapproval URL KEYFILE ID OUTFILE [MODE]": the
// governance key in KEYFILE signs an approval of proposal ID and writes it
// to OUTFILE without submitting it: an approval that no block took, which
// an attacker who saw it can hold back and submit later (submittx).
// Without MODE it names the filing URL shows for it, as medid network
// approve does: its height (protocol 4) and its block's hash when the
// record has one (protocol 5). MODE nofiling names none (what medid signs
// below 4); heightonly names the height only (what medid signs at 4);
// block names the height and the record's block hash, or a made-up one
// where the record has none; wrongblock names the height and a made-up
// block hash (another block's, as a node that lied would show).
func signApprovalCmd(ts *testscript.TestScript, neg bool, args []string) {
	modes := map[string]bool{"nofiling": true, "heightonly": true, "block": true, "wrongblock": true}
	if neg || (len(args) != 4 && !(len(args) == 5 && modes[args[4]])) {
		ts.Fatalf("usage: signapproval URL KEYFILE ID OUTFILE [nofiling|heightonly|block|wrongblock]")
	}
	c, err := client.New(client.Config{URL: args[0]})
	ts.Check(err)
	k, err := key.LoadFile(ts.MkAbs(args[1]))
	ts.Check(err)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rec, err := c.Proposal(ctx, args[2])
	ts.Check(err)
	gov := did.KeyDID(k.Public())
	mode := ""
	if len(args) == 5 {
		mode = args[4]
	}
	madeUp := strings.Repeat("5a", tx.FilingBlockSize)
	var p *tx.Payload
	switch {
	case mode == "nofiling":
		p, err = tx.NewNetworkApproval(gov, rec.ID)
	case mode == "heightonly" || (mode == "" && rec.FilingBlock == ""):
		p, err = tx.NewNetworkApprovalOf(gov, rec.ID, rec.Height)
	case mode == "wrongblock" || (mode == "block" && rec.FilingBlock == ""):
		p, err = tx.NewNetworkApprovalOfBlock(gov, rec.ID, rec.Height, madeUp)
	default:
		p, err = tx.NewNetworkApprovalOfBlock(gov, rec.ID, rec.Height, rec.FilingBlock)
	}
	ts.Check(err)
	raw, err := tx.Sign(p, k, gov+"#"+k.Public().Multikey())
	ts.Check(err)
	ts.Check(os.WriteFile(ts.MkAbs(args[3]), raw, 0o600))
	ts.Logf("signed an approval of %s (filing %s, block %s), not submitted", rec.ID, p.Filing, p.FilingBlock)
}

// blockHashCmd is "blockhash URL HEIGHT VAR": it sets VAR to the hash of
// block HEIGHT (lowercase hex) as the header URL serves for it hashes
// (GET /1.0/light/HEIGHT, hashed by the light client's code): what
// CometBFT calls the block's hash.
func blockHashCmd(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: blockhash URL HEIGHT VAR")
	}
	c, err := client.New(client.Config{URL: args[0]})
	ts.Check(err)
	h, err := strconv.ParseInt(args[1], 10, 64)
	ts.Check(err)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	lb, err := c.LightBlock(ctx, h)
	ts.Check(err)
	ts.Setenv(args[2], hex.EncodeToString(lb.Hash()))
}

// submitTxCmd is "[!] submittx URL FILE [ERR]": it submits the signed
// transaction in FILE to URL and waits for its block. With !, it must be
// refused, with an error matching the regexp ERR if given.
func submitTxCmd(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 && !(neg && len(args) == 3) {
		ts.Fatalf("usage: [!] submittx URL FILE [ERR]")
	}
	c, err := client.New(client.Config{URL: args[0]})
	ts.Check(err)
	raw, err := os.ReadFile(ts.MkAbs(args[1]))
	ts.Check(err)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err = c.Submit(ctx, raw)
	switch {
	case !neg && err != nil:
		ts.Fatalf("submittx %s: %v", args[1], err)
	case neg && err == nil:
		ts.Fatalf("submittx %s: taken, want a refusal", args[1])
	case neg && len(args) == 3 && !regexp.MustCompile(args[2]).MatchString(err.Error()):
		ts.Fatalf("submittx %s: %v, want an error matching %q", args[1], err, args[2])
	}
	if err != nil {
		ts.Logf("refused: %v", err)
	}
}

// eqCmd is "eq A B": it fails unless A and B are the same string (where a
// regexp match would misread base64's '+' and '/').
func eqCmd(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: eq A B")
	}
	if (args[0] == args[1]) == neg {
		ts.Fatalf("eq %q %q: want them %s", args[0], args[1], map[bool]string{false: "equal", true: "different"}[neg])
	}
}

// waitUpCmd is "waitup URL": it polls URL/readyz until it answers 200.
func waitUpCmd(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: waitup URL")
	}
	pollReadyz(ts, args[0], 90*time.Second, "200", func(status int, _ *api.Readiness) bool { return status == http.StatusOK })
}

// pollReadyz polls url/readyz every 100 ms until done says so, failing
// the script after limit (want says what was awaited).
func pollReadyz(ts *testscript.TestScript, url string, limit time.Duration, want string, done func(status int, r *api.Readiness) bool) {
	var last string
	for deadline := time.Now().Add(limit); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		resp, err := http.Get(url + "/readyz")
		if err != nil {
			last = err.Error()
			continue
		}
		var r api.Readiness
		_ = json.NewDecoder(resp.Body).Decode(&r)
		resp.Body.Close()
		if done(resp.StatusCode, &r) {
			return
		}
		last = fmt.Sprintf("%s %v", resp.Status, r.Failing)
	}
	ts.Fatalf("%s/readyz not %s after %s: %s", url, want, limit, last)
}

// waitValidatorsCmd is "waitvalidators URL N".
func waitValidatorsCmd(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: waitvalidators URL N")
	}
	want, err := strconv.Atoi(args[1])
	ts.Check(err)
	c, err := client.New(client.Config{URL: args[0]})
	ts.Check(err)
	got := -1
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		lb, err := c.LightBlock(context.Background(), 0)
		if err == nil {
			if got = lb.Validators.Size(); got == want {
				return
			}
		}
	}
	ts.Fatalf("the latest block of %s is signed by a set of %d, want %d", args[0], got, want)
}

// heightPlusCmd is "heightplus VAR URL N": it sets VAR to the height of
// the latest block URL committed plus N.
func heightPlusCmd(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: heightplus VAR URL N")
	}
	n, err := strconv.ParseInt(args[2], 10, 64)
	ts.Check(err)
	c, err := client.New(client.Config{URL: args[1]})
	ts.Check(err)
	ni, err := c.Network(context.Background())
	ts.Check(err)
	ts.Setenv(args[0], strconv.FormatInt(ni.Height+n, 10))
}

// writeToCmd is "writeto URL H": it registers fresh did:key DIDs through
// URL, one block each, until URL committed block H-1, then submits one
// more, which goes into block H, and returns without waiting for it (a
// block the script expects the network to stop at).
func writeToCmd(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: writeto URL H")
	}
	h, err := strconv.ParseInt(args[1], 10, 64)
	ts.Check(err)
	c, err := client.New(client.Config{URL: args[0]})
	ts.Check(err)
	create := func(i int, wait time.Duration) error {
		// (Seeded by H too: a script that writes to two heights registers
		// other DIDs the second time.)
		k, err := key.NewEd25519FromSeed([]byte(fmt.Sprintf("w%015d%016d", h, i)))
		ts.Check(err)
		p, kid, err := tx.NewKeyDIDCreate(k.Public())
		ts.Check(err)
		p.Nonce = tx.NewNonce()
		raw, err := tx.Sign(p, k, kid)
		ts.Check(err)
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		_, err = c.Submit(ctx, raw)
		return err
	}
	deadline := time.Now().Add(3 * time.Minute)
	for i := 0; ; i++ {
		ni, err := c.Network(context.Background())
		ts.Check(err)
		if ni.Height >= h-1 {
			_ = create(i, 2*time.Second)
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("writeto: at height %d of %d after 3 minutes", ni.Height, h-1)
		}
		if err := create(i, 30*time.Second); err != nil {
			ts.Fatalf("writeto: at height %d: %v", ni.Height, err)
		}
	}
}

// waitNotReadyCmd is "waitnotready URL CHECK": it polls URL/readyz until
// the check named CHECK fails, and prints that check's detail to stdout.
func waitNotReadyCmd(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: waitnotready URL CHECK")
	}
	pollReadyz(ts, args[0], 60*time.Second, "failing check "+args[1], func(_ int, r *api.Readiness) bool {
		for _, c := range r.Checks {
			if c.Name == args[1] && !c.OK {
				fmt.Fprintln(ts.Stdout(), c.Detail)
				return true
			}
		}
		return false
	})
}

// sigtermCmd is "sigterm HOME": it sends SIGTERM to the registryd this
// script started in the background with --home HOME (found by its command
// line and working folder under /proc) and waits until it has exited.
func sigtermCmd(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: sigterm HOME")
	}
	work := ts.Getenv("WORK")
	entries, err := os.ReadDir("/proc")
	ts.Check(err)
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		argv := strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")
		cwd, _ := os.Readlink(filepath.Join("/proc", e.Name(), "cwd"))
		if len(argv) != 3 || filepath.Base(argv[0]) != "registryd" || argv[1] != "--home" || argv[2] != args[0] || cwd != work {
			continue
		}
		ts.Check(syscall.Kill(pid, syscall.SIGTERM))
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
			// Gone, or a zombie its parent (the script) reaps at the end.
			if err != nil || strings.Contains(string(stat), ") Z ") {
				return
			}
		}
		ts.Fatalf("registryd --home %s (pid %d) still runs 30s after SIGTERM", args[0], pid)
	}
	ts.Fatalf("no registryd --home %s started by this script", args[0])
}
