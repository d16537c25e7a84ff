// Command wallet is the medid patient wallet, a Fyne desktop app. All of
// it lives in package app; this file only reads the command line and
// starts the window.
//
//	wallet [--dir DIR] [--registry URL] [--vault URL] [--ca FILE]
//
// The wallet folder defaults to $MEDID_WALLET, else ~/.medid/wallet; the
// registry to $MEDID_REGISTRY (none: offline); the hospital vault (access
// log) to $MEDID_VAULT. --ca (default $MEDID_CA) names a PEM CA trusted
// besides the system's for https registries, vaults, issuers and
// verifiers run with a private CA. The patient can change both in Settings. For screenshots,
// MEDID_WALLET_SCREEN names a tab to open after unlocking (or an
// openid4vp:// request link to answer), and
// MEDID_WALLET_PASSPHRASE (an environment variable, never a flag) unlocks
// the wallet at start; the log's "screen ready" line says when the screen
// has finished loading.
package main

import (
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"time"

	fyneapp "fyne.io/fyne/v2/app"

	"github.com/medid/medid/app"
	"github.com/medid/medid/internal/tlsfiles"
)

func main() {
	cfg, err := config(os.Args[1:], os.Getenv, os.UserHomeDir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "wallet:", err)
		os.Exit(2)
	}
	cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	a, err := app.New(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "wallet:", err)
		os.Exit(2)
	}
	fa := fyneapp.NewWithID("org.medid.wallet")
	w := a.Window(fa)
	if p := os.Getenv("MEDID_WALLET_PASSPHRASE"); p != "" {
		os.Unsetenv("MEDID_WALLET_PASSPHRASE")
		a.UnlockWith([]byte(p))
	}
	w.ShowAndRun()
	a.Close()
}

// config reads the command line and the environment into the app's
// configuration: flags win over environment variables, and the wallet
// folder defaults to ~/.medid/wallet.
func config(args []string, getenv func(string) string, home func() (string, error)) (app.Config, error) {
	fs := flag.NewFlagSet("wallet", flag.ContinueOnError)
	dir := fs.String("dir", getenv("MEDID_WALLET"), "wallet folder (default $MEDID_WALLET, else ~/.medid/wallet)")
	registry := fs.String("registry", getenv("MEDID_REGISTRY"), "registry URL (default $MEDID_REGISTRY; empty = offline)")
	vaultURL := fs.String("vault", getenv("MEDID_VAULT"), "hospital vault URL for the access log (default $MEDID_VAULT)")
	ca := fs.String("ca", getenv("MEDID_CA"), "PEM CA to trust for https services besides the system's (default $MEDID_CA)")
	if err := fs.Parse(args); err != nil {
		return app.Config{}, err
	}
	if fs.NArg() > 0 {
		return app.Config{}, fmt.Errorf("unexpected argument %q (see wallet -h)", fs.Arg(0))
	}
	if *dir == "" {
		h, err := home()
		if err != nil {
			return app.Config{}, fmt.Errorf("no --dir and no home folder: %w", err)
		}
		*dir = filepath.Join(h, ".medid", "wallet")
	}
	var hc *http.Client
	if *ca != "" {
		tc, err := tlsfiles.Client{CA: *ca}.Config()
		if err != nil {
			return app.Config{}, fmt.Errorf("--ca: %w", err)
		}
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = tc
		hc = &http.Client{Timeout: 30 * time.Second, Transport: tr}
	}
	return app.Config{
		WalletDir:   *dir,
		RegistryURL: *registry,
		VaultURL:    *vaultURL,
		StartScreen: getenv("MEDID_WALLET_SCREEN"),
		ReadyLog:    true, // one line per start; .ci/screenshots.sh waits for it
		HTTPClient:  hc,
	}, nil
}
