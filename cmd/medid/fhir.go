package main

import (
	"context"
	"fmt"
	"time"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/registry/hospital/smart"
)

func init() {
	commands["fhir"] = command{summary: "act as a hospital system on a vault's FHIR API (SMART Backend Services)", run: runFHIR}
}

func runFHIR(ctx context.Context, e *env, args []string) error {
	return subcommand(e, "fhir", map[string]func([]string) error{
		"assertion": func(a []string) error { return fhirAssertion(e, a) },
	}, []string{"assertion"}, args)
}

// fhirAssertion prints a private_key_jwt client assertion for a SMART
// Backend Services token request, signed by the key file (the client is
// that key's did:key, or --did with --kid for a did:medid client).
func fhirAssertion(e *env, args []string) error {
	fs := newFlagSet(e, "fhir assertion", "medid fhir assertion --key FILE --token-url URL [--kid DID#KEY] [--lifetime 4m]")
	keyFile := fs.String("key", "", "the client's private JWK")
	tokenURL := fs.String("token-url", "", "the token endpoint (the assertion's audience), e.g. http://127.0.0.1:8080/fhir/token")
	kid := fs.String("kid", "", "the key's DID URL in the client's DID document (default: the key's did:key)")
	lifetime := fs.Duration("lifetime", 4*time.Minute, "how long the assertion is valid (at most 5m)")
	if err := fs.parseNone(args); err != nil {
		return err
	}
	if err := fs.required("key", "token-url"); err != nil {
		return err
	}
	k, err := key.LoadFile(*keyFile)
	if err != nil {
		return usagef("--key: %v", err)
	}
	defer k.Destroy()
	id := *kid
	if id == "" {
		d := did.KeyDID(k.Public())
		id = d + "#" + k.Public().Multikey()
	}
	a, err := smart.SignAssertion(k, id, *tokenURL, time.Now(), *lifetime)
	if err != nil {
		return usagef("%v", err)
	}
	fmt.Fprintln(e.stdout, a)
	return nil
}
