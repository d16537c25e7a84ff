package main

import (
	"image"
	"image/color"
	"image/png"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/medid/medid/registry/node"
)

// TestDirectoryScripts runs testdata/directory/*.txtar, issue 13's story
// end to end, through the real registryd binary (built here) with a record
// vault. Each script gets:
//
//	$PATH              with registryd in it
//	$HTTP_ADDR         a free loopback address for the registry's HTTP API
//	$P2P_ADDR          a free loopback address for its peer port
//	$MEDID_REGISTRY    http://$HTTP_ADDR
//	$WORK/logo.png     a small PNG logo
//
// and the commands "capture VAR REGEXP", "waithealthy URL" (until /healthz
// answers 200, at most a minute) and "retry SECONDS CMD ARGS..." (run CMD
// until it succeeds, for what the vault anchors a moment later).
func TestDirectoryScripts(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs registryd; skipped with -short")
	}
	bin := t.TempDir()
	out, err := exec.Command("go", "build", "-o", bin, "../registryd").CombinedOutput()
	if err != nil {
		t.Fatalf("go build registryd: %v\n%s", err, out)
	}
	testscript.Run(t, testscript.Params{
		Dir: filepath.Join("testdata", "directory"),
		Setup: func(env *testscript.Env) error {
			httpAddr, err := node.FreeAddr()
			if err != nil {
				return err
			}
			p2pAddr, err := node.FreeAddr()
			if err != nil {
				return err
			}
			env.Setenv("PATH", bin+string(os.PathListSeparator)+env.Getenv("PATH"))
			env.Setenv("HTTP_ADDR", httpAddr)
			env.Setenv("P2P_ADDR", p2pAddr)
			env.Setenv("MEDID_REGISTRY", "http://"+httpAddr)
			return writeLogo(filepath.Join(env.WorkDir, "logo.png"))
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"capture":     captureCmd,
			"waithealthy": waitHealthyCmd,
			"retry":       retryCmd,
		},
	})
}

func writeLogo(path string) error {
	img := image.NewRGBA(image.Rect(0, 0, 16, 16))
	for x := range 16 {
		img.Set(x, x, color.RGBA{0, 90, 160, 255})
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return png.Encode(f, img)
}

// waitHealthyCmd is "waithealthy URL": it waits until URL/healthz answers 200.
func waitHealthyCmd(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: waithealthy URL")
	}
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		resp, err := http.Get(args[0] + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	ts.Fatalf("%s did not become ready within a minute", args[0])
}

// retryCmd is "retry SECONDS CMD ARGS...": it runs CMD until it succeeds,
// for at most SECONDS; stdout and stderr are the last run's.
func retryCmd(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: retry SECONDS CMD ARGS...")
	}
	secs, err := strconv.Atoi(args[0])
	ts.Check(err)
	deadline := time.Now().Add(time.Duration(secs) * time.Second)
	var last error
	for {
		if last = ts.Exec(args[1], args[2:]...); last == nil {
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("%s still failing after %ds: %v", strings.Join(args[1:], " "), secs, last)
		}
		time.Sleep(500 * time.Millisecond)
	}
}
