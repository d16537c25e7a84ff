package main

// The dc+sd-jwt side of 'medid serve issuer': which formats are offered,
// and the Token Status List whose random entries SD-JWT VCs get.

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/credentials/openid4vci"
	"github.com/medid/medid/credentials/openid4vp"
	"github.com/medid/medid/credentials/sdjwt"
	"github.com/medid/medid/registry/client"
)

// issuerFormats parses --formats: which of vc+jwt and dc+sd-jwt the issuer
// offers for each type.
func issuerFormats(s string) (vcjwt, sdjwt bool, err error) {
	for _, f := range strings.Split(s, ",") {
		switch strings.TrimSpace(f) {
		case openid4vci.FormatVCJWT:
			vcjwt = true
		case openid4vci.FormatSDJWT, "sd-jwt":
			sdjwt = true
		default:
			return false, false, usagef("--formats %q: list vc+jwt and/or dc+sd-jwt, comma separated", s)
		}
	}
	return vcjwt, sdjwt, nil
}

// sdjwtConfigID is the configuration id of credType's dc+sd-jwt
// configuration (the vc+jwt one is credType itself).
func sdjwtConfigID(credType string) string { return credType + ".sd" }

// tokenStatusAllocator opens the Token Status List the issuer gives SD-JWT
// VCs entries in (random free indexes, see tokenstatus.FileAllocator), and
// publishes it as version 1 when the registry does not hold it yet.
func tokenStatusAllocator(ctx context.Context, e *env, rc *client.Client, k *key.PrivateKey, iss, kid, listFile, allocFile string) (openid4vci.TokenStatusAllocator, error) {
	if allocFile == "" {
		return nil, usagef("--token-status-list needs --token-status-alloc FILE, the index allocator written with it ('medid status new --format token --alloc FILE')")
	}
	tok, t, ok, err := tslFile(listFile)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, usagef("--token-status-list %s is a Bitstring Status List (vc+jwt): give it as --status-list, and a token status list ('medid status new --format token') here", listFile)
	}
	fa, err := openTSLAllocator(allocFile, t, iss)
	if err != nil {
		return nil, err
	}
	if rc != nil {
		if err := ensurePublished(ctx, e, rc, k, iss, kid, t.URI, tok); err != nil {
			return nil, err
		}
	}
	fmt.Fprintf(e.stdout, "  token status list: %s (%d free entries, drawn at random)\n", t.URI, fa.Free())
	return fa, nil
}

// formatsLine says which formats the issuer offers and under which
// configuration ids.
func formatsLine(vcjwt, sdjwt bool) string {
	var f []string
	if vcjwt {
		f = append(f, "vc+jwt (configuration TYPE)")
	}
	if sdjwt {
		f = append(f, "dc+sd-jwt (configuration TYPE.sd; 'medid issue offer --format dc+sd-jwt')")
	}
	return strings.Join(f, ", ")
}

// offerConfigID is the issuer configuration an offer of credType in format
// names.
func offerConfigID(credType, format string) (string, error) {
	switch format {
	case openid4vci.FormatVCJWT, "vc":
		return credType, nil
	case openid4vci.FormatSDJWT, "sd-jwt":
		if strings.HasSuffix(credType, ".sd") {
			return credType, nil
		}
		return sdjwtConfigID(credType), nil
	}
	return "", usagef("--format %q: use vc+jwt or dc+sd-jwt", format)
}

// dcqlQuery builds the DCQL query of 'vp request': one credential query
// per type, asking for claims, or (dc+sd-jwt) for the first of claimSets
// the wallet's credential holds. A type "A|B" accepts either (one
// credential set whose options are A and B, A preferred); optional types
// are optional credential sets. Without either, no credential_sets: every
// type is asked for.
func dcqlQuery(format string, types, optional, claims, claimSets []string) (openid4vp.DCQLQuery, error) {
	var q openid4vp.DCQLQuery
	var query func(id, t string) (openid4vp.CredentialQuery, error)
	switch format {
	case openid4vp.FormatVCJWT, "vc":
		if len(claimSets) > 0 {
			return q, usagef("--claim-set is for --format dc+sd-jwt: a vc+jwt credential is sent whole")
		}
		query = func(id, t string) (openid4vp.CredentialQuery, error) {
			return openid4vp.NewQuery(id, t, claims...), nil
		}
	case openid4vp.FormatSDJWT, "sd-jwt":
		if len(claims) == 0 && len(claimSets) == 0 {
			return q, usagef("--format dc+sd-jwt needs --claim PATH or --claim-set PATH[,PATH]: name what the patient should disclose, and nothing else is sent")
		}
		query = func(id, t string) (openid4vp.CredentialQuery, error) { return sdjwtQuery(id, t, claims, claimSets) }
	default:
		return q, usagef("--format %q: use vc+jwt or dc+sd-jwt", format)
	}
	sets := false
	no := false
	for i, group := range append(append([]string{}, types...), optional...) {
		set := openid4vp.CredentialSetQuery{}
		if i >= len(types) {
			set.Required, sets = &no, true
		}
		alts := strings.Split(group, "|")
		sets = sets || len(alts) > 1
		for _, t := range alts {
			if t = strings.TrimSpace(t); t == "" {
				return q, usagef("--type/--optional-type %q: a credential type is empty", group)
			}
			cq, err := query(fmt.Sprintf("c%d", len(q.Credentials)+1), strings.TrimSpace(t))
			if err != nil {
				return q, err
			}
			q.Credentials = append(q.Credentials, cq)
			set.Options = append(set.Options, []string{cq.ID})
		}
		q.CredentialSets = append(q.CredentialSets, set)
	}
	if !sets {
		q.CredentialSets = nil // every type asked for: the plain form
	}
	if err := q.Validate(); err != nil {
		return q, usagef("%v", err)
	}
	return q, nil
}

// sdjwtQuery is the dc+sd-jwt query for credType: claims asked always,
// and each claim set an alternative (claims asked in every set).
func sdjwtQuery(id, credType string, claims, claimSets []string) (openid4vp.CredentialQuery, error) {
	var paths []string
	index := map[string]string{} // path -> claim id
	add := func(p string) (string, error) {
		parsed, err := sdjwt.ParsePath(p)
		if err != nil {
			return "", usagef("--claim/--claim-set %q: %v", p, err)
		}
		k := parsed.String()
		if cid, ok := index[k]; ok {
			return cid, nil
		}
		cid := fmt.Sprintf("p%d", len(paths)+1)
		index[k] = cid
		paths = append(paths, p)
		return cid, nil
	}
	var always []string
	for _, c := range claims {
		cid, err := add(c)
		if err != nil {
			return openid4vp.CredentialQuery{}, err
		}
		always = append(always, cid)
	}
	var sets [][]string
	for _, cs := range claimSets {
		set := slices.Clone(always)
		for _, p := range strings.Split(cs, ",") {
			cid, err := add(strings.TrimSpace(p))
			if err != nil {
				return openid4vp.CredentialQuery{}, err
			}
			set = append(set, cid)
		}
		sets = append(sets, set)
	}
	q, err := openid4vp.NewSDJWTQuery(id, sdjwt.VCT(credType), paths...)
	if err != nil {
		return q, usagef("%v", err)
	}
	for i := range q.Claims {
		q.Claims[i].ID = fmt.Sprintf("p%d", i+1)
	}
	q.ClaimSets = sets
	return q, nil
}
