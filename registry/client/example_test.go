package client_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/medid/medid/registry/client"
)

// A verifier that does not trust the node it asks: every answer is checked
// against the validator set of the network's genesis file.
func ExampleNew() {
	genesis, err := os.ReadFile("registry-home/config/genesis.json")
	if err != nil {
		log.Fatal(err)
	}
	chainID, validators, err := client.TrustFromGenesis(genesis)
	if err != nil {
		log.Fatal(err)
	}
	c, err := client.New(client.Config{
		URL:               "http://127.0.0.1:8080",
		VerifyProofs:      true,
		ChainID:           chainID,
		TrustedValidators: validators,
	})
	if err != nil {
		log.Fatal(err)
	}
	res, err := c.Resolve(context.Background(), "did:medid:RJjThhN2cnKNmuwdqo9RD7")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Document.ID, res.Metadata.VersionID)
}
