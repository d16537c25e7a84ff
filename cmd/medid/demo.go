package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/credentials/statuslist"
	"github.com/medid/medid/credentials/vc"
	"github.com/medid/medid/credentials/verify"
	"github.com/medid/medid/internal/atomicfile"
	"github.com/medid/medid/internal/randid"
	"github.com/medid/medid/registry/client"
	"github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/tx"
)

func init() {
	commands["demo"] = command{summary: "walk through issue, verify, present and revoke with synthetic data", run: runDemo}
}

// Demo constants. Everything the demo makes is synthetic: no real patient,
// hospital or clinical record is involved.
const (
	demoCredType  = "AllergyIntoleranceCredential"
	demoAudience  = "https://er.example.org"
	demoIndex     = 42
	demoLocalList = "https://hospital.example/status/1"
)

// demoClaims is the credentialSubject of the demo credential: the shape of
// a FHIR R4 AllergyIntolerance, with made-up values.
func demoClaims(patient string) map[string]any {
	return map[string]any{
		"id":             patient,
		"type":           "AllergyIntolerance",
		"clinicalStatus": "active",
		"criticality":    "high",
		"code": map[string]any{
			"system":  "http://snomed.info/sct",
			"code":    "764146007",
			"display": "Penicillin",
		},
		"reaction": "anaphylaxis",
		"note":     "SYNTHETIC DEMO DATA - not a real patient",
	}
}

// demo holds the state of one run.
type demo struct {
	e    *env
	dir  string
	step int

	hospital, patient *key.PrivateKey
	issuer, kid       string // the hospital's DID and signing key id
	patientDID        string

	listID   string // the status list credential's id (statusListCredential)
	listFile string
	list     *statuslist.List

	reg       *client.Client // nil for the offline demo
	regURL    string
	regListID string // the list's id on the ledger
}

func runDemo(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "demo", "medid demo [--dir DIR] [--registry URL --governance-key FILE]")
	dir := fs.String("dir", "", "keep the demo's files in DIR (default: a temporary folder, removed at the end)")
	regURL := fs.String("registry", "", "run the demo through this registry: did:medid, accreditation, status on the ledger")
	govKey := fs.String("governance-key", "", "the registry's governance key file (with --registry), e.g. the registryd home's governance.jwk")
	err := fs.parseNone(args)
	if err != nil {
		return err
	}
	if (*regURL == "") != (*govKey == "") {
		return usagef("--registry and --governance-key go together: the demo accredits its hospital with the governance key")
	}
	d := &demo{e: e, dir: *dir}
	var gov *key.PrivateKey
	if *regURL != "" {
		d.regURL = *regURL
		if d.reg, err = newRegistryClient(e, *regURL); err != nil {
			return err
		}
		if gov, err = loadKey(*govKey); err != nil {
			return err
		}
		defer gov.Destroy()
	}
	if d.dir == "" {
		tmp, err := os.MkdirTemp("", "medid-demo-")
		if err != nil {
			return fmt.Errorf("create a temporary folder: %w", err)
		}
		defer os.RemoveAll(tmp)
		d.dir = tmp
	} else if err := os.MkdirAll(d.dir, 0o700); err != nil {
		return usagef("--dir: %v", err)
	}
	return d.run(ctx, gov, *regURL)
}

func (d *demo) say(format string, args ...any) {
	d.step++
	fmt.Fprintf(d.e.stdout, "%d. "+format+"\n", append([]any{d.step}, args...)...)
}

func (d *demo) note(format string, args ...any) {
	fmt.Fprintf(d.e.stdout, "   "+format+"\n", args...)
}

func (d *demo) path(name string) string { return filepath.Join(d.dir, name) }

func (d *demo) run(ctx context.Context, gov *key.PrivateKey, regURL string) error {
	where := "offline: did:key identifiers and a local status list file"
	if d.reg != nil {
		where = "through the registry at " + regURL
	}
	fmt.Fprintf(d.e.stdout, "medid demo (%s)\n", where)
	fmt.Fprintf(d.e.stdout, "A hospital issues a patient an allergy credential, an emergency room verifies it, the hospital revokes it.\n")
	fmt.Fprintf(d.e.stdout, "All data is SYNTHETIC. Files: %s\n\n", d.dir)

	if err := d.makeKeys(); err != nil {
		return err
	}
	defer d.hospital.Destroy()
	defer d.patient.Destroy()
	if d.reg != nil {
		if err := d.register(ctx, gov); err != nil {
			return err
		}
	}
	if err := d.makeList(ctx); err != nil {
		return err
	}
	token, err := d.issue()
	if err != nil {
		return err
	}

	res := d.verifier().Credential(ctx, token)
	d.say("The ER verifies the credential: %s", verdict(res))
	fmt.Fprint(d.e.stdout, summary(res))
	if !res.Valid {
		return d.unexpected("the fresh credential did not verify (%s)", res.Reason)
	}

	nonce := randid.Hex(8)
	vp, err := vc.SignPresentation(&vc.Presentation{
		Context: []string{vc.ContextV2}, ID: randid.URN(), Type: []string{vc.TypePresentation},
		Holder: d.patientDID, Credentials: []string{token},
	}, d.patient, keyKID(d.patient.Public()), demoAudience, nonce)
	if err != nil {
		return fmt.Errorf("sign presentation: %w", err)
	}
	if err := createOutput(d.path("presentation.vp.jwt"), []byte(vp+"\n"), 0o600); err != nil {
		return err
	}
	pres := d.verifier().Presentation(ctx, vp, demoAudience, nonce)
	d.say("The patient presents it to %s (nonce %s): %s", demoAudience, nonce, verdict(pres))
	fmt.Fprint(d.e.stdout, summary(pres))
	if !pres.Valid {
		return d.unexpected("the presentation did not verify (%s)", pres.Reason)
	}
	replay := d.verifier().Presentation(ctx, vp, demoAudience, randid.Hex(8))
	d.note("replayed against a new request: %s", verdict(replay))
	if replay.Valid || replay.Reason != verify.ReasonNonceMismatch {
		return d.unexpected("a replayed presentation was not refused with %s", verify.ReasonNonceMismatch)
	}

	if err := d.revoke(ctx); err != nil {
		return err
	}
	// A new verifier: the ER's cached copy of the list would otherwise be
	// used until its ttl runs out, which is the point of a ttl.
	res = d.verifier().Credential(ctx, token)
	d.say("The ER verifies the credential again: %s", verdict(res))
	fmt.Fprint(d.e.stdout, summary(res))
	if res.Valid || res.Reason != verify.ReasonRevoked {
		return d.unexpected("the revoked credential was not refused with reason %s (got %q)", verify.ReasonRevoked, res.Reason)
	}
	fmt.Fprintf(d.e.stdout, "\nThe demo behaved as expected: valid, presented, refused on replay, revoked.\n")
	if d.reg == nil {
		fmt.Fprintf(d.e.stdout, "Next: the same flow through a registry: registryd, then medid demo --registry URL --governance-key HOME/governance.jwk\n")
	}
	return nil
}

func (d *demo) unexpected(format string, args ...any) error {
	return &exitError{code: exitInvalid, err: fmt.Errorf("the demo did not behave as expected: "+format, args...)}
}

func (d *demo) makeKeys() error {
	var err error
	if d.hospital, err = key.Generate(key.Ed25519); err != nil {
		return err
	}
	if d.patient, err = key.Generate(key.Ed25519); err != nil {
		return err
	}
	for name, k := range map[string]*key.PrivateKey{"hospital.jwk": d.hospital, "patient.jwk": d.patient} {
		if err := key.WriteFile(d.path(name), k); err != nil {
			return usagef("%v (use an empty --dir)", err)
		}
	}
	d.issuer, d.kid = keyDID(d.hospital.Public()), keyKID(d.hospital.Public())
	d.patientDID = keyDID(d.patient.Public())
	d.say("Keys (private JWKs, mode 0600)")
	d.note("hospital %s  hospital.jwk", d.issuer)
	d.note("patient  %s  patient.jwk", d.patientDID)
	return nil
}

// register gives the hospital a did:medid on the ledger and has the
// governance key accredit it for the demo's credential type.
func (d *demo) register(ctx context.Context, gov *key.PrivateKey) error {
	id, kid, res, err := registerDID(ctx, d.reg, d.hospital)
	if err != nil {
		return err
	}
	d.issuer, d.kid = id, kid
	d.say("The hospital registers %s (block %d)", id, res.Height)
	acc, res, prop, err := accredit(ctx, d.reg, gov, tx.Accreditation{Issuer: id, Types: []string{demoCredType}})
	if err != nil {
		return err
	}
	if prop != nil && prop.Status != ledger.ProposalExecuted {
		return fmt.Errorf("this network accredits issuers only with a quorum of its governance keys (proposal %s is waiting for approvals): run the demo against a registry whose governance key alone is the quorum (registryd init)", prop.ID)
	}
	d.note("governance %s accredits it for %s (%s, block %d)", keyDID(gov.Public()), demoCredType, acc, res.Height)
	return nil
}

func (d *demo) makeList(ctx context.Context) error {
	var err error
	if d.list, err = statuslist.New(statuslist.MinEntries); err != nil {
		return err
	}
	d.listID = demoLocalList
	if d.reg != nil {
		if d.regListID, err = tx.StatusListID(d.issuer, "demo-"+randid.Hex(6)); err != nil {
			return err
		}
		d.listID = d.reg.StatusListURL(d.regListID)
	}
	d.listFile = d.path("status-list.vc.jwt")
	tok, err := signList(d.listID, d.issuer, d.kid, statuslist.Revocation, d.list, time.Minute, d.hospital)
	if err != nil {
		return err
	}
	if err := createOutput(d.listFile, []byte(tok+"\n"), 0o644); err != nil {
		return err
	}
	d.say("The hospital creates a revocation list %s (%d entries)", d.listID, d.list.Len())
	if d.reg != nil {
		res, err := d.reg.PublishStatusList(ctx, d.hospital, d.issuer, d.kid, d.regListID, 1, tok)
		if err != nil {
			return submitError(err, fmt.Sprintf("statuslist.publish of %s version %d", d.regListID, 1))
		}
		d.note("published on the ledger as version 1 (block %d)", res.Height)
	}
	return nil
}

func (d *demo) issue() (string, error) {
	now := time.Now().UTC().Truncate(time.Second)
	until := now.AddDate(1, 0, 0)
	c := &vc.Credential{
		Context:    vc.CredentialContext(),
		ID:         randid.URN(),
		Type:       []string{vc.TypeCredential, demoCredType},
		Issuer:     d.issuer,
		ValidFrom:  &now,
		ValidUntil: &until,
		Subject:    demoClaims(d.patientDID),
		Status:     []vc.Status{statuslist.Entry(d.listID, statuslist.Revocation, demoIndex)},
	}
	token, err := vc.Issue(c, d.hospital, d.kid)
	if err != nil {
		return "", fmt.Errorf("issue: %w", err)
	}
	if err := createOutput(d.path("allergy.vc.jwt"), []byte(token+"\n"), 0o600); err != nil {
		return "", err
	}
	d.say("The hospital issues an %s to the patient (allergy.vc.jwt, status index %d)", demoCredType, demoIndex)
	d.note("subject: Penicillin allergy, high criticality (synthetic)")
	return token, nil
}

func (d *demo) revoke(ctx context.Context) error {
	if err := d.list.Set(demoIndex, true); err != nil {
		return err
	}
	tok, err := signList(d.listID, d.issuer, d.kid, statuslist.Revocation, d.list, time.Minute, d.hospital)
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(d.listFile, []byte(tok+"\n"), 0o644); err != nil {
		return err
	}
	if d.reg == nil {
		d.say("The hospital revokes it: index %d set, list re-signed", demoIndex)
		return nil
	}
	res, err := d.reg.PublishStatusList(ctx, d.hospital, d.issuer, d.kid, d.regListID, 2, tok)
	if err != nil {
		return submitError(err, fmt.Sprintf("statuslist.publish of %s version %d", d.regListID, 2))
	}
	d.say("The hospital revokes it: index %d set, version 2 published (block %d)", demoIndex, res.Height)
	return nil
}

// verifier is what the ER runs: offline, did:key and the local list file;
// with a registry, did:medid resolution, accreditation and the ledger's
// status lists.
func (d *demo) verifier() *verify.Verifier {
	src := verify.Sources{StatusFiles: verify.FileStatusFetcher{d.listID: d.listFile}}
	if d.reg != nil {
		src = verify.Sources{Registry: d.reg}
	}
	v, err := verify.NewFor(src, verify.Config{})
	if err != nil {
		panic(err) // the configuration above is always complete
	}
	return v
}

func verdict(r *verify.Result) string {
	if r.Valid {
		return "VALID"
	}
	return "INVALID (" + r.Reason + ")"
}
