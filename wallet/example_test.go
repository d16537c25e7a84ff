package wallet_test

import (
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"

	"github.com/medid/medid/wallet"
)

// A wallet is created once, shows its recovery phrase once, and is opened
// with the passphrase afterwards. A wrong passphrase is an error callers
// can branch on.
func Example() {
	dir, _ := os.MkdirTemp("", "wallet-example")
	defer os.RemoveAll(dir)
	cfg := wallet.Config{Dir: filepath.Join(dir, "wallet")}

	w, phrase, err := wallet.Create(cfg, []byte("correct horse battery staple"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("recovery phrase words:", len(strings.Fields(phrase)))
	primary, _ := w.PrimaryDID()
	fmt.Println("primary DID is a did:key:", strings.HasPrefix(primary.DID, "did:key:z6Mk"))
	w.Close()

	_, err = wallet.Open(cfg, []byte("wrong"))
	fmt.Println("wrong passphrase:", errors.Is(err, wallet.ErrWrongPassphrase))

	w, err = wallet.Open(cfg, []byte("correct horse battery staple"))
	if err != nil {
		log.Fatal(err)
	}
	defer w.Close()
	again, _ := w.PrimaryDID()
	fmt.Println("same identity after reopening:", again.DID == primary.DID)
	// Output:
	// recovery phrase words: 24
	// primary DID is a did:key: true
	// wrong passphrase: true
	// same identity after reopening: true
}
