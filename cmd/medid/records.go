package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/registry/hospital/vaultclient"
	"github.com/medid/medid/wallet/hospital"
)

// medid records: a hospital's records in a registryd --vault.
//
//	medid records put --vault URL --key FILE [--did DID] --owner DID --class C FILE.json
//	medid records get --vault URL (--key FILE [--did DID] | --wallet DIR) --record ID --purpose P [--consent FILE] [--break-glass REASON]
//	medid records erase --vault URL --record ID [--did DID] [--wallet DIR]
//
// put and get act as --did (e.g. the hospital's registered did:medid,
// whose document names --key under authentication) or, without it, as the
// key's own did:key; erase is the patient's request, signed by their wallet
// (the record's owner), so it takes the wallet flags and the wallet
// passphrase like "medid wallet".
func init() {
	commands["records"] = command{summary: "store, read and erase FHIR records in a hospital vault", run: runRecords}
}

func runRecords(ctx context.Context, e *env, args []string) error {
	return subcommand(e, "records", map[string]func([]string) error{
		"put":   func(a []string) error { return recordsPut(ctx, e, a) },
		"get":   func(a []string) error { return recordsGet(ctx, e, a) },
		"erase": func(a []string) error { return recordsErase(ctx, e, a) },
	}, []string{"put", "get", "erase"}, args)
}

// vaultActor are the flags naming who calls the vault: a key file and the
// DID it acts as.
type vaultActor struct {
	keyFile, did *string
}

func (a *vaultActor) register(fs *flagSet, who string) {
	a.keyFile = fs.String("key", "", who+"'s private key file")
	a.did = fs.String("did", "", "act as this DID, e.g. the hospital's registered did:medid (its document must name --key under authentication; default: the key's own did:key)")
}

// client builds a vault client acting as --did (resolved through the
// registry, $MEDID_REGISTRY by default) or as the key's did:key.
func (a *vaultActor) client(ctx context.Context, e *env, url string) (*vaultclient.Client, error) {
	hc, err := e.httpClient()
	if err != nil {
		return nil, err
	}
	k, err := loadKey(*a.keyFile)
	if err != nil {
		return nil, err
	}
	cfg := vaultclient.Config{URL: url, DID: *a.did, Key: k, HTTP: hc}
	if *a.did != "" {
		if _, err := did.Parse(*a.did); err != nil {
			return nil, usagef("--did %.128q is not a DID: %v", *a.did, err)
		}
		rc, err := newRegistryClient(e, registryURL(e, ""))
		if err != nil {
			return nil, err
		}
		cfg.Resolver = did.NewRouter(map[string]did.Resolver{"key": did.KeyResolver{}, "medid": rc})
	}
	c, err := vaultclient.New(ctx, cfg)
	if errors.Is(err, did.ErrKeyNotFound) {
		return nil, usagef("--key is not an authentication key of %s: %v", *a.did, err)
	}
	if err != nil {
		return nil, unreachable(err)
	}
	c.Now = e.now
	return c, nil
}

// vaultError turns a refusal into exit status 1 with the vault's reason.
func vaultError(err error) error {
	var pe *vaultclient.ProblemError
	if errors.As(err, &pe) {
		return &exitError{code: exitInvalid, err: fmt.Errorf("the vault refused: %s", pe.Detail)}
	}
	return err
}

func recordsPut(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "records put", "medid records put --vault URL --key FILE [--did DID] --owner DID --class C FILE.json")
	url := fs.String("vault", "", "the vault's URL (registryd --vault)")
	var who vaultActor
	who.register(fs, "the hospital writer (registryd --vault-writers)")
	owner := fs.String("owner", "", "the patient's DID (or pairwise DID) that owns the record")
	class := fs.String("class", "", "the FHIR resource type, e.g. AllergyIntolerance")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if err := fs.required("vault", "key", "owner", "class"); err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("give one FHIR JSON file\nusage: %s", fs.usage)
	}
	body, err := os.ReadFile(pos[0])
	if err != nil {
		return usagef("%v", err)
	}
	c, err := who.client(ctx, e, *url)
	if err != nil {
		return err
	}
	m, err := c.Put(ctx, *owner, *class, body)
	if err != nil {
		return vaultError(err)
	}
	fmt.Fprintln(e.stdout, m.ID)
	fmt.Fprintf(e.stderr, "stored %s for %s (sha-256 %s)\n", m.Class, m.Owner, m.Hash)
	return nil
}

func recordsGet(ctx context.Context, e *env, args []string) error {
	wc := &walletCLI{e: e}
	fs := wc.flags("records get", "")
	fs.usage = "medid records get --vault URL (--key FILE [--did DID] | --wallet DIR) --record ID --purpose P [--consent FILE] [--break-glass REASON]"
	url := fs.String("vault", "", "the vault's URL")
	var who vaultActor
	who.register(fs, "the provider")
	record := fs.String("record", "", "the record id")
	purpose := fs.String("purpose", "", "purpose of use (TREAT; ETREAT for break-glass)")
	consentFile := fs.String("consent", "", "file holding the patient's consent grant (vc+jwt)")
	breakGlass := fs.String("break-glass", "", "emergency reason: open the record without consent if the patient allows it (logged as an emergency override)")
	if err := fs.parseNone(args); err != nil {
		return err
	}
	if err := fs.required("vault", "record"); err != nil {
		return err
	}
	// A practitioner whose licence is in their medid wallet reads as the
	// wallet's primary DID, when they say so (--wallet DIR): never
	// because $MEDID_WALLET happens to be set.
	useWallet := *wc.dir != ""
	switch {
	case useWallet && *who.keyFile != "":
		return usagef("give --key FILE or --wallet DIR, not both\nusage: %s", fs.usage)
	case !useWallet && *who.keyFile == "":
		return usagef("missing --key FILE (or --wallet DIR: read as your wallet's primary DID)\nusage: %s", fs.usage)
	}
	if *purpose == "" {
		if *breakGlass == "" {
			return usagef("missing --purpose\nusage: %s", fs.usage)
		}
		*purpose = "ETREAT"
	}
	var tok string
	if *consentFile != "" {
		b, err := os.ReadFile(*consentFile)
		if err != nil {
			return usagef("%v", err)
		}
		tok = strings.TrimSpace(string(b))
	}
	var body []byte
	if useWallet {
		w, err := wc.open(nil)
		if err != nil {
			return err
		}
		defer w.Close()
		body, err = hospital.Read(ctx, w, *url, *record, *purpose, tok, *breakGlass)
		if err != nil {
			return vaultError(err)
		}
	} else {
		c, err := who.client(ctx, e, *url)
		if err != nil {
			return err
		}
		if body, err = c.Get(ctx, *record, *purpose, tok, *breakGlass); err != nil {
			return vaultError(err)
		}
	}
	_, err := e.stdout.Write(append(body, '\n'))
	return err
}

func recordsErase(ctx context.Context, e *env, args []string) error {
	w := &walletCLI{e: e}
	fs := w.flags("records erase", "--vault URL --record ID [--did DID]")
	fs.usage = "medid records erase --vault URL --record ID [--did DID] [--wallet DIR] [--passphrase-file FILE]"
	url := fs.String("vault", "", "the vault's URL")
	record := fs.String("record", "", "the record id")
	owner := fs.String("did", "", "which of the wallet's DIDs owns the record (default: the primary DID)")
	if err := fs.parseNone(args); err != nil {
		return err
	}
	if err := fs.required("vault", "record"); err != nil {
		return err
	}
	wl, err := w.open(nil)
	if err != nil {
		return err
	}
	defer wl.Close()
	if err := hospital.EraseRecord(ctx, wl, *url, *owner, *record); err != nil {
		return vaultError(err)
	}
	fmt.Fprintf(e.stdout, "erased: %s\n", *record)
	return nil
}
