// Command wallet is the medid patient wallet, a Fyne desktop app. All of
// it lives in package app; this file only reads the command line and
// starts the window.
//
//	wallet [--dir DIR] [--registry URL] [--vault URL]
//
// The wallet folder defaults to $MEDID_WALLET, else ~/.medid/wallet; the
// registry to $MEDID_REGISTRY (none: offline); the hospital vault (access
// log) to $MEDID_VAULT. The patient can change both in Settings. For screenshots,
// MEDID_WALLET_SCREEN names a tab to open after unlocking, and
// MEDID_WALLET_PASSPHRASE (an environment variable, never a flag) unlocks
// the wallet at start.
package main

import (
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	fyneapp "fyne.io/fyne/v2/app"

	"github.com/medid/medid/app"
)

func main() {
	dir := flag.String("dir", os.Getenv("MEDID_WALLET"), "wallet folder (default $MEDID_WALLET, else ~/.medid/wallet)")
	registry := flag.String("registry", os.Getenv("MEDID_REGISTRY"), "registry URL (default $MEDID_REGISTRY; empty = offline)")
	vaultURL := flag.String("vault", os.Getenv("MEDID_VAULT"), "hospital vault URL for the access log (default $MEDID_VAULT)")
	flag.Parse()
	if *dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			fmt.Fprintln(os.Stderr, "wallet: no --dir and no home folder:", err)
			os.Exit(2)
		}
		*dir = filepath.Join(home, ".medid", "wallet")
	}
	a, err := app.New(app.Config{
		WalletDir:   *dir,
		RegistryURL: *registry,
		VaultURL:    *vaultURL,
		StartScreen: os.Getenv("MEDID_WALLET_SCREEN"),
		Logger:      slog.New(slog.NewTextHandler(os.Stderr, nil)),
	})
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
