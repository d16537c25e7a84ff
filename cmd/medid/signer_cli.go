package main

import (
	"strings"

	"github.com/medid/medid/credentials/key"
)

// signerFlags are the flags naming who signs: a key file and, for a
// did:medid issuer, the DID and the verification method holding the key.
type signerFlags struct {
	keyFile, issuer, kid *string
}

func (s *signerFlags) register(fs *flagSet, what string) {
	s.keyFile = fs.String("key", "", what+" private key file")
	s.issuer = fs.String("issuer", "", "issuer DID (default: the key's did:key)")
	s.kid = fs.String("kid", "", "verification method of --issuer that holds the key (required with --issuer)")
}

// load returns the key, issuer DID and kid.
func (s *signerFlags) load() (*key.PrivateKey, string, string, error) {
	if *s.issuer != "" && *s.kid == "" {
		return nil, "", "", usagef("--issuer needs --kid: the verification method of %s that holds --key", *s.issuer)
	}
	k, err := loadKey(*s.keyFile)
	if err != nil {
		return nil, "", "", err
	}
	iss, kid := *s.issuer, *s.kid
	if strings.HasPrefix(iss, "did:key:") && iss != keyDID(k.Public()) {
		k.Destroy()
		return nil, "", "", usagef("--key is not the key of %s (it is %s): sign with the issuer's own key", iss, keyDID(k.Public()))
	}
	if iss == "" {
		iss = keyDID(k.Public())
		if kid == "" {
			kid = keyKID(k.Public())
		}
	}
	return k, iss, kid, nil
}
