package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/licence"
	"github.com/medid/medid/credentials/vc"
	"github.com/medid/medid/credentials/verify"
	"github.com/medid/medid/registry/client"
	"github.com/medid/medid/registry/directory"
	"github.com/medid/medid/wallet"
)

// licenceVerifier verifies practitioner licences through registry rc.
func licenceVerifier(rc *client.Client) (*verify.Verifier, error) {
	return verify.New(verify.Config{Resolver: did.NewRouter(map[string]did.Resolver{"key": did.KeyResolver{}, "medid": rc}), Status: rc, Trust: rc})
}

// directoryFor returns a directory through rc (nil: offline).
func directoryFor(rc *client.Client, proven bool) (*directory.Directory, error) {
	if rc == nil {
		return directory.New(directory.Config{}), nil
	}
	v, err := licenceVerifier(rc)
	if err != nil {
		return nil, err
	}
	return newDirectory(rc, proven, v), nil
}

// namesOf returns the directory through the registry at $MEDID_REGISTRY,
// or an offline one (every DID then "not in the directory") when none is
// set or it cannot be reached.
func namesOf(e *env) *directory.Directory {
	if u := optionalRegistry(e, ""); u != "" {
		if rc, err := newRegistryClient(e, u); err == nil {
			if d, err := directoryFor(rc, false); err == nil {
				return d
			}
		}
	}
	return directory.New(directory.Config{})
}

// walletNames returns the wallet's directory: through the registry at
// MEDID_REGISTRY (or flag) when one is set, else the wallet's offline
// snapshot alone.
func walletNames(e *env, w *wallet.Wallet, registryFlag string) (*directory.Directory, error) {
	u := optionalRegistry(e, registryFlag)
	if u == "" {
		return w.Names(nil, nil, false)
	}
	rc, err := newRegistryClient(e, u)
	if err != nil {
		return nil, err
	}
	return walletNamesVia(w, rc, false)
}

func walletNamesVia(w *wallet.Wallet, rc *client.Client, proven bool) (*directory.Directory, error) {
	v, err := licenceVerifier(rc)
	if err != nil {
		return nil, err
	}
	return w.Names(rc, v, proven)
}

// label looks did up and returns how to show it.
func label(ctx context.Context, d *directory.Directory, did string) string {
	id, _ := d.Lookup(ctx, did)
	return id.Label()
}

// printNames says in words who issued (and, for a presentation, who
// presented) what was verified: names from the directory, never from the
// credential itself. With named, the output already names the issuer and
// holder (the human verdict's lines), so only what the directory adds is
// written: accreditation dates and a practitioner's licence.
func printNames(ctx context.Context, w io.Writer, d *directory.Directory, res *verify.Result, named bool) {
	if res.Kind == verify.KindPresentation {
		// A practitioner presenting their own licence is named by it.
		for _, c := range res.Credentials {
			if c.Valid && c.Credential != nil && c.Credential.HasType(licence.Type) && c.Subject == res.Holder && res.Presentation != nil {
				for _, tok := range res.Presentation.Credentials {
					_, _ = d.AddLicence(ctx, tok)
				}
			}
		}
		if res.Holder != "" && !named {
			fmt.Fprintf(w, "  presented by %s\n", describe(ctx, d, res.Holder))
		}
		for _, c := range res.Credentials {
			printCredentialNames(ctx, w, d, c, "  ", named)
		}
		return
	}
	printCredentialNames(ctx, w, d, res, "", named)
}

func printCredentialNames(ctx context.Context, w io.Writer, d *directory.Directory, res *verify.Result, indent string, named bool) {
	if res.Issuer == "" {
		return
	}
	if !named {
		fmt.Fprintf(w, "%s  issued by %s\n", indent, describe(ctx, d, res.Issuer))
	}
	id, _ := d.Lookup(ctx, res.Issuer)
	if id.Kind == directory.KindOrganisation && id.Organisation != nil {
		at := time.Now()
		if res.ValidFrom != nil {
			at = *res.ValidFrom
		}
		for _, t := range res.Types {
			if t == vc.TypeCredential {
				continue
			}
			if a := id.Organisation.AccreditedFor(t, at); a != nil {
				fmt.Fprintf(w, "%s  accredited for %s since %s\n", indent, t, a.ValidFrom.Format("2 Jan 2006"))
			} else {
				fmt.Fprintf(w, "%s  NOT accredited for %s\n", indent, t)
			}
		}
	}
	if slices.Contains(res.Types, licence.Type) && res.Valid && res.Credential != nil {
		if l, err := licence.FromCredential(res.Credential); err == nil {
			about := l.Name + ", " + l.Profession.Display
			if l.Specialty != nil {
				about += " (" + l.Specialty.Display + ")"
			}
			fmt.Fprintf(w, "%s  licence of %s, number %s, %s\n", indent, about, l.LicenceNumber, l.Jurisdiction)
		}
	}
}

// describe is a DID's label (the naming rule of registry/directory) with
// the full DID, for command output: "St Mary's Hospital (did:medid:…),
// hospital in GB, in the directory" (from the wallet's saved copy: "… in
// the directory as saved on 3 Dec 2026"), or "someone not in the directory
// (ref. 2doK3C) did:key:…2doK3C" (any name the DID gives itself is never
// shown).
func describe(ctx context.Context, d *directory.Directory, did string) string {
	id, _ := d.Lookup(ctx, did)
	if !id.Verified() {
		return id.Label() + " " + did
	}
	// The saved copy's date is said once, at the end.
	undated := *id
	undated.Saved = time.Time{}
	s := withDID(undated.Label(), did)
	if o := id.Organisation; id.Kind == directory.KindOrganisation && o != nil {
		if id.Role == "" || did == o.DID {
			// The kind follows in words: the label need not say it.
			s = o.Entry.DisplayName + " (" + did + ")"
		}
		s += ", " + directory.KindWords(o.Entry.Kind) + " in " + o.Entry.Country + ", in the directory"
		if !id.Saved.IsZero() {
			s += " as saved on " + id.Saved.Format("2 Jan 2006")
		}
	}
	if id.Kind == directory.KindPractitioner {
		s += ", licensed by " + id.Practitioner.Body.Entry.DisplayName
	}
	return s
}

// withDID puts did in the label's brackets: "St Mary's Hospital
// (did:medid:…)", "St Mary's Hospital (record vault; did:key:…)", one pair
// of brackets, as the naming rule writes labels.
func withDID(label, did string) string {
	if l, ok := strings.CutSuffix(label, ")"); ok {
		return l + "; " + did + ")"
	}
	return label + " (" + did + ")"
}

// issuerNames says how wallets will name an issuer service: its name from
// the directory (never the --name it gives itself) and whether it is
// accredited for each type it offers, warning when it is not.
func issuerNames(ctx context.Context, e *env, registry, issuer, claimed string, types []string) {
	if registry == "" {
		if claimed != "" {
			fmt.Fprintf(e.stdout, "  wallets see: unknown (no registry: %q is only what the issuer says)\n", claimed)
		}
		return
	}
	rc, err := newRegistryClient(e, registry)
	if err != nil {
		return
	}
	d, err := directoryFor(rc, false)
	if err != nil {
		return
	}
	fmt.Fprintf(e.stdout, "  wallets see: %s\n", describe(ctx, d, issuer))
	id, _ := d.Lookup(ctx, issuer)
	if id.Verified() && claimed != "" && claimed != id.Name() {
		fmt.Fprintf(e.stderr, "warning: --name %q differs from the directory's %q; wallets show the directory's\n", claimed, id.Name())
	}
	for _, t := range types {
		if id.Organisation == nil || id.Organisation.AccreditedFor(t, time.Now()) == nil {
			fmt.Fprintf(e.stderr, "warning: %s is not accredited for %s: verifiers will refuse these credentials\n", issuer, t)
		}
	}
}
