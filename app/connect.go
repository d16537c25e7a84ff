package app

import (
	"net/http"
	"time"

	"github.com/medid/medid/credentials/verify"
	"github.com/medid/medid/registry/client"
	"github.com/medid/medid/wallet"
)

// DefaultConnect builds the wallet's credential verifier and registry
// client for registryURL. With "" it works offline: did:key issuers only,
// and a credential with a status list is refused (its status cannot be
// checked). With a URL, did:medid resolves, status lists and issuer
// accreditations come from the registry, and did:medid can be registered.
// It returns an error only for a malformed URL.
func DefaultConnect(registryURL string, now func() time.Time) (wallet.Verifier, wallet.Registry, error) {
	return connect(registryURL, now, nil)
}

// ConnectWith is DefaultConnect with the registry reached through hc (nil
// = the registry client's default), for a registry behind a private CA.
func ConnectWith(hc *http.Client) func(registryURL string, now func() time.Time) (wallet.Verifier, wallet.Registry, error) {
	return func(registryURL string, now func() time.Time) (wallet.Verifier, wallet.Registry, error) {
		return connect(registryURL, now, hc)
	}
}

func connect(registryURL string, now func() time.Time, hc *http.Client) (wallet.Verifier, wallet.Registry, error) {
	var src verify.Sources
	var reg wallet.Registry
	if registryURL != "" {
		rc, err := client.New(client.Config{URL: registryURL, HTTPClient: hc})
		if err != nil {
			return nil, nil, err
		}
		src.Registry, reg = rc, rc
	}
	v, err := verify.NewFor(src, verify.Config{Now: now})
	if err != nil {
		return nil, nil, err
	}
	return wallet.VerifyWith(v), reg, nil
}
