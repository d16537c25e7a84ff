package main

import (
	"github.com/medid/medid/registry/client"
	"github.com/medid/medid/wallet"
)

// openClient makes the registry client cfg describes, then opens and
// unlocks the wallet (see open): what every wallet command that talks to
// the registry starts with. The client comes first, so a bad --registry is
// reported before the passphrase is read. The caller closes the wallet.
func (c *walletCLI) openClient(cfg client.Config) (*wallet.Wallet, *client.Client, error) {
	rc, err := newClient(c.e, cfg)
	if err != nil {
		return nil, nil, err
	}
	w, err := c.open(nil)
	if err != nil {
		return nil, nil, err
	}
	return w, rc, nil
}

// openRegistry is openClient for the registry rf names (--registry, else
// $MEDID_REGISTRY, else the default).
func (c *walletCLI) openRegistry(rf *registryFlags) (*wallet.Wallet, *client.Client, error) {
	return c.openClient(client.Config{URL: rf.baseURL(c.e)})
}
