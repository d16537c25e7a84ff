package app

import (
	"context"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/vc"
	"github.com/medid/medid/credentials/verify"
	"github.com/medid/medid/registry/directory"
	"github.com/medid/medid/registry/tx"
	"github.com/medid/medid/wallet"
)

// Names: every screen that shows a hospital, a doctor, a verifier or a
// vault shows who it is from the registry's directory (registry/directory):
// an organisation's governance-written name, a practitioner's name from a
// licence the app checked, or "someone not in the directory (ref. …)"
// (see nameFor), never a name the DID gave itself. The full DID stays one
// tap away ("Copy their identifier"). Lookups run in the background; the
// wallet keeps a snapshot so names still show offline.

// namesCache holds the directory for one registry (App.namesMu guards it).
type namesCache struct {
	url string
	dir *directory.Directory
}

// names returns the directory for the wallet and registry configured now
// (offline: the wallet's snapshot only). Safe from any goroutine; call it
// from background work (it may read the wallet).
func (a *App) names() *directory.Directory {
	w := a.wallet()
	a.mu.Lock()
	reg, url := a.registry, a.regURL
	a.mu.Unlock()
	a.namesMu.Lock()
	defer a.namesMu.Unlock()
	if a.namesC.dir != nil && a.namesC.url == url {
		return a.namesC.dir
	}
	var src directory.Source
	var lic *verify.Verifier
	if s, ok := reg.(directory.Source); ok {
		src = s
		if r, ok := reg.(did.Resolver); ok {
			lic, _ = verify.New(verify.Config{Resolver: did.NewRouter(map[string]did.Resolver{"key": did.KeyResolver{}, "medid": r}),
				Status: asFetcher(reg), Trust: asTrust(reg), Now: a.cfg.now})
		}
	}
	var d *directory.Directory
	if w != nil {
		d, _ = w.Names(src, lic, false)
	}
	if d == nil {
		d = directory.New(directory.Config{Source: src, Licences: lic})
	}
	a.namesC.url, a.namesC.dir = url, d
	return d
}

func asFetcher(r wallet.Registry) verify.StatusFetcher {
	if f, ok := r.(verify.StatusFetcher); ok {
		return f
	}
	return nil
}

func asTrust(r wallet.Registry) verify.Accreditations {
	if t, ok := r.(verify.Accreditations); ok {
		return t
	}
	return nil
}

// saveNames keeps what the directory learned in the wallet (background).
func (a *App) saveNames() {
	w := a.wallet()
	a.namesMu.Lock()
	d := a.namesC.dir
	a.namesMu.Unlock()
	if w != nil && d != nil {
		_ = w.SaveNames(d)
	}
}

// nameOf is the label of did (background only: it may ask the registry).
func (a *App) nameOf(ctx context.Context, did string) string {
	if did == "" {
		return ""
	}
	id, _ := a.names().Lookup(ctx, did)
	return nameFor(id)
}

// nameFor is how a patient screen names a directory identity: its label
// by the directory's naming rule (directory.Identity.Label: a verified
// name with its kind, a flagged suspended organisation, "someone not
// verified (why; ref. …)"), or "" when the directory does not list it, so
// screens can tell (a consent request from someone unknown says so) and
// [who] says what the directory's label says: "someone not in the
// directory (ref. …)".
func nameFor(id *directory.Identity) string {
	if id == nil || (id.Kind == directory.KindUnknown && id.Problem == "") {
		return ""
	}
	return id.Label()
}

// resolver resolves verifiers' DIDs for signed OpenID4VP requests: did:key
// always, did:medid through the registry when one is configured.
func (a *App) resolver() did.Resolver {
	if r, ok := a.reg().(did.Resolver); ok {
		return did.NewRouter(map[string]did.Resolver{"key": did.KeyResolver{}, "medid": r})
	}
	return did.KeyResolver{}
}

// offeredFrom is what the directory says of the issuer of an offered
// credential, shown before the patient adds it: its name ("" when the
// directory does not list it) and, when it is listed, whether it is
// accredited to issue that type of record.
type offeredFrom struct {
	name       string
	accredited bool
	since      time.Time
	logo       []byte // its logo, checked against the directory's hash (nil: none to show)
	// asOf is the date of the wallet's snapshot the answer came from
	// ("" when the registry answered now): the directory could not be
	// reached, so name and accreditation are as they were then.
	asOf string
	// unreachable: the directory could not be asked and the wallet knew
	// nothing of the issuer, so nothing is known either way.
	unreachable bool
}

// issuerOf looks up the issuer of o (background only: it may ask the
// registry): its label, and its accreditation for o's type when o was
// issued (now, when o does not say).
func (a *App) issuerOf(ctx context.Context, o wallet.Offered) offeredFrom {
	id, _ := a.names().Lookup(ctx, o.Issuer)
	f := offeredFrom{name: nameFor(id), logo: a.logoOf(ctx, id)}
	if !id.Saved.IsZero() {
		// The line says the copy's date once, for the name and the
		// accreditation alike.
		now := *id
		now.Saved = time.Time{}
		f.name, f.asOf = nameFor(&now), id.Saved.Format("2 Jan 2006")
	}
	if id.Kind == directory.KindUnknown && (id.Source == "offline" || id.Problem == directory.ProblemUnreachable) {
		f.name, f.unreachable = "", true
	}
	at := a.cfg.now()
	if o.ValidFrom != nil {
		at = *o.ValidFrom
	}
	for _, t := range o.Types {
		if t == vc.TypeCredential {
			continue
		}
		if acc := id.Accredited(t, at); acc != nil {
			f.accredited, f.since = true, acc.ValidFrom
			break
		}
	}
	return f
}

// logoSource fetches an organisation's logo image from the registry
// (*registry/client.Client implements it).
type logoSource interface {
	Logo(ctx context.Context, did string, logo *tx.Logo) ([]byte, error)
}

// logoOf returns the logo of the active organisation id names, when its
// directory entry names one, the registry serves it and it is exactly
// that image (tx.Logo.Check: the SHA-256 on the ledger, PNG or JPEG, its
// size); nil otherwise, so no image is ever shown that the directory did
// not name (background only: it asks the registry).
func (a *App) logoOf(ctx context.Context, id *directory.Identity) []byte {
	if !id.Verified() || id.Kind != directory.KindOrganisation || id.Organisation.Entry.Logo == nil {
		return nil
	}
	src, ok := a.reg().(logoSource)
	if !ok {
		return nil
	}
	logo := id.Organisation.Entry.Logo
	b, err := src.Logo(ctx, id.Organisation.DID, logo)
	if err != nil || logo.Check(b) != nil {
		return nil
	}
	return b
}

// logoImage shows a checked logo, small, beside the organisation's name.
func logoImage(b []byte) *canvas.Image {
	img := canvas.NewImageFromResource(fyne.NewStaticResource("logo", b))
	img.FillMode = canvas.ImageFillContain
	img.SetMinSize(fyne.NewSize(40, 40))
	return img
}
