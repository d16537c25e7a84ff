package main

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/key"
)

func init() {
	commands["key"] = command{summary: "create and inspect signing keys (private JWK files)", run: runKey}
}

func runKey(ctx context.Context, e *env, args []string) error {
	return subcommand(e, "key", map[string]func([]string) error{
		"new":  func(a []string) error { return keyNew(e, a) },
		"show": func(a []string) error { return keyShow(e, a) },
	}, []string{"new", "show"}, args)
}

// keyNew writes a fresh private key and prints its did:key. The key file is
// created with O_EXCL and mode 0600 by key.WriteFile; the private part is
// never printed.
func keyNew(e *env, args []string) error {
	fs := newFlagSet(e, "key new", "medid key new [--alg ed25519|p256] --out FILE [--quiet]")
	alg := fs.String("alg", "ed25519", "key type: ed25519 or p256")
	out := fs.String("out", "", "where to write the private JWK (created with mode 0600, never overwritten)")
	quiet := fs.quiet("the did:key")
	if err := fs.parseNone(args); err != nil {
		return err
	}
	if err := fs.required("out"); err != nil {
		return err
	}
	a, err := key.ParseAlg(*alg)
	if err != nil {
		return usagef("--alg: %v", err)
	}
	k, err := key.Generate(a)
	if err != nil {
		return err
	}
	defer k.Destroy()
	if err := key.WriteFile(*out, k); err != nil {
		// An existing file or an unwritable directory: nothing was written.
		return usagef("%v", err)
	}
	fmt.Fprintf(e.stderr, "wrote private key to %s (mode 0600): keep it secret, never share it\n", *out)
	if *quiet {
		fmt.Fprintln(e.stdout, keyDID(k.Public()))
		return nil
	}
	printKeyIDs(e, k.Public())
	return nil
}

// keyShow prints the DID, kid and public JWK of a key file. It accepts a
// private key file (mode 0600) or a public JWK.
func keyShow(e *env, args []string) error {
	fs := newFlagSet(e, "key show", "medid key show FILE [--quiet]")
	quiet := fs.quiet("the did:key")
	arg, err := fs.parseOne(args, "want exactly one key file")
	if err != nil {
		return err
	}
	pub, err := loadPublic(arg)
	if err != nil {
		return err
	}
	if *quiet {
		fmt.Fprintln(e.stdout, keyDID(pub))
		return nil
	}
	printKeyIDs(e, pub)
	j, err := pub.JWK()
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(j, "", "  ")
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "public JWK:\n%s\n", b)
	return nil
}

// loadPublic returns the public key held in path, a private key file or a
// public JWK. A private key file is held to key.LoadFile's mode check.
func loadPublic(path string) (key.PublicKey, error) {
	data, err := readInput(path, "key")
	if err != nil {
		return key.PublicKey{}, err
	}
	defer clear(data)
	var probe struct {
		D string `json:"d"`
	}
	if json.Unmarshal(data, &probe) == nil && probe.D != "" {
		k, err := loadKey(path)
		if err != nil {
			return key.PublicKey{}, err
		}
		defer k.Destroy()
		return k.Public(), nil
	}
	pub, err := key.ParsePublicJWK(data)
	if err != nil {
		return key.PublicKey{}, usagef("%s is not a JWK key file (a JSON Web Key such as 'medid key new' writes)", path)
	}
	return pub, nil
}

func printKeyIDs(e *env, pub key.PublicKey) {
	d := keyDID(pub)
	fmt.Fprintf(e.stdout, "did: %s\n", d)
	fmt.Fprintf(e.stdout, "kid: %s\n", keyKID(pub))
	fmt.Fprintf(e.stdout, "alg: %s\n", pub.Alg().JWS())
}

// keyDID is the did:key of pub.
func keyDID(pub key.PublicKey) string { return did.KeyDID(pub) }

// keyKID is the verification method id of pub inside its did:key document,
// the kid credentials signed with a did:key carry.
func keyKID(pub key.PublicKey) string { return keyDID(pub) + "#" + pub.Multikey() }
