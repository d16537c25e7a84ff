package main

import (
	"github.com/medid/medid/registry/client"
)

// defaultRegistry is where registryd listens by default.
const defaultRegistry = "http://127.0.0.1:8080"

// newRegistryClient returns a client for the registry at u. A bad URL is a
// usage error.
func newRegistryClient(u string) (*client.Client, error) {
	c, err := client.New(client.Config{URL: u})
	if err != nil {
		return nil, usagef("--registry: %v", err)
	}
	return c, nil
}
