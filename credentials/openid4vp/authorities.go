package openid4vp

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Trusted authority types (OpenID4VP 1.0 §6.1.1). The three the
// specification defines name X.509 and federation trust, which medid
// credentials do not carry: their issuers are DIDs accredited on the
// ledger. A medid wallet reads a query with them and, honestly, finds that
// no credential it holds matches; a medid verifier refuses to ask with
// them, because it could not check the answer. [AuthorityMedidIssuer] is
// medid's own type, the one a medid verifier asks with and checks.
const (
	// AuthorityAKI: values are base64url KeyIdentifiers of an X.509
	// AuthorityKeyIdentifier in the credential's certificate chain.
	AuthorityAKI = "aki"
	// AuthorityETSITL: values are URLs of ETSI TS 119 612 Trusted Lists.
	AuthorityETSITL = "etsi_tl"
	// AuthorityOpenIDFederation: values are OpenID Federation Entity
	// Identifiers (usually trust anchors).
	AuthorityOpenIDFederation = "openid_federation"
	// AuthorityMedidIssuer is a medid extension: values are issuer DIDs,
	// and a credential matches when its issuer is one of them. It narrows
	// what the ledger's accreditation already allows (every credential is
	// still checked against it); it does not replace it. Independent
	// DCQL implementations (dcql-ts) refuse a query with it, so a verifier
	// that wants any wallet to answer leaves it out.
	AuthorityMedidIssuer = "medid_issuer"
)

// MaxAuthorityValues bounds the values of one trusted authority.
const MaxAuthorityValues = 64

// TrustedAuthority is a DCQL trusted authorities query: the type of
// trust information and the values that identify the accepted issuers,
// trust frameworks or federations (OpenID4VP 1.0 §6.1.1).
type TrustedAuthority struct {
	Type   string   `json:"type"`
	Values []string `json:"values"`
}

// authorityWords says, for a patient or a verifier's staff, what an
// authority type means and why medid credentials cannot match it.
func authorityWords(typ string) string {
	switch typ {
	case AuthorityAKI:
		return "credentials whose X.509 certificate chain has one of the given authority key identifiers (aki); medid credentials are signed by DIDs accredited on the ledger and carry no X.509 chain"
	case AuthorityETSITL:
		return "credentials from issuers on one of the given ETSI trusted lists (etsi_tl); medid issuers are accredited on the ledger, not on an ETSI trusted list"
	case AuthorityOpenIDFederation:
		return "credentials from issuers in one of the given OpenID federations (openid_federation); medid issuers are accredited on the ledger, not in a federation"
	case AuthorityMedidIssuer:
		return "credentials issued by one of the given DIDs"
	}
	return fmt.Sprintf("credentials certified under trust framework type %q, which medid does not know", typ)
}

// validAuthorities checks q's trusted_authorities are well formed:
// non-empty when present, each with a type and non-empty string values.
// Unknown types are allowed here (a wallet reads any query; no credential
// matches them, see [CredentialQuery.TrustsIssuer]); [DCQLQuery.Checkable]
// refuses them on the verifier's side.
func (q *CredentialQuery) validAuthorities() error {
	if q.TrustedAuthorities == nil {
		return nil
	}
	if len(q.TrustedAuthorities) == 0 {
		return fmt.Errorf("credential query %s has an empty trusted_authorities", q.ID)
	}
	if len(q.TrustedAuthorities) > MaxCredentialSets {
		return fmt.Errorf("credential query %s has %d trusted authorities; at most %d are supported", q.ID, len(q.TrustedAuthorities), MaxCredentialSets)
	}
	for i, a := range q.TrustedAuthorities {
		if a.Type == "" {
			return fmt.Errorf("credential query %s: trusted authority %d has no type", q.ID, i+1)
		}
		if len(a.Values) == 0 || len(a.Values) > MaxAuthorityValues {
			return fmt.Errorf("credential query %s: trusted authority %d (%s) needs 1 to %d values", q.ID, i+1, a.Type, MaxAuthorityValues)
		}
		for _, v := range a.Values {
			if v == "" {
				return fmt.Errorf("credential query %s: trusted authority %d (%s) has an empty value", q.ID, i+1, a.Type)
			}
			if a.Type == AuthorityMedidIssuer && !strings.HasPrefix(v, "did:") {
				return fmt.Errorf("credential query %s: trusted authority %s takes issuer DIDs, not %q", q.ID, AuthorityMedidIssuer, v)
			}
		}
	}
	return nil
}

// Checkable checks that a verifier can check every answer to q as asked:
// on top of [DCQLQuery.Validate], every trusted authority type is one it
// can check ([AuthorityMedidIssuer]), and no query waives holder binding
// (the verifier always requires it). A constraint the verifier could not check
// would be silently ignored, so a query with one is refused, saying why.
func (q *DCQLQuery) Checkable() error {
	if err := q.Validate(); err != nil {
		return err
	}
	for _, c := range q.Credentials {
		if !c.HolderBinding() {
			return fmt.Errorf("credential query %s: require_cryptographic_holder_binding false is not asked here: this verifier always checks that the holder presents their own credential", c.ID)
		}
		for _, a := range c.TrustedAuthorities {
			if a.Type != AuthorityMedidIssuer {
				return fmt.Errorf("credential query %s: trusted authority type %q cannot be checked here: it accepts only %s; use %s with issuer DIDs (every credential is also checked against the ledger's accreditations)",
					c.ID, a.Type, authorityWords(a.Type), AuthorityMedidIssuer)
			}
		}
	}
	return nil
}

// TrustsIssuer reports whether a credential from issuer (a DID) matches
// one of q's trusted authorities: true when q has none, or when one is
// [AuthorityMedidIssuer] listing issuer. A medid credential never matches
// the other types (see the constants), nor an unknown type: a constraint
// that cannot be evaluated is not met.
func (q *CredentialQuery) TrustsIssuer(issuer string) bool {
	if len(q.TrustedAuthorities) == 0 {
		return true
	}
	for _, a := range q.TrustedAuthorities {
		if a.Type == AuthorityMedidIssuer && slices.Contains(a.Values, issuer) {
			return true
		}
	}
	return false
}

// AuthoritiesWords says which issuers q accepts, in words ("" when q
// names no trusted authorities): what a wallet shows when nothing it holds
// matches, and a verifier says when it refuses a credential.
func (q *CredentialQuery) AuthoritiesWords() string {
	if len(q.TrustedAuthorities) == 0 {
		return ""
	}
	parts := make([]string, len(q.TrustedAuthorities))
	for i, a := range q.TrustedAuthorities {
		parts[i] = authorityWords(a.Type)
		if a.Type == AuthorityMedidIssuer {
			parts[i] += " (" + strings.Join(a.Values, ", ") + ")"
		}
	}
	return "the verifier accepts only " + strings.Join(parts, "; or ")
}

// HolderBinding reports whether q asks for cryptographic holder binding
// (require_cryptographic_holder_binding absent or true). medid always
// presents with it (a KB-JWT or a signed vp+jwt), which a query that does
// not require it also accepts.
func (q *CredentialQuery) HolderBinding() bool {
	return q.RequireHolderBinding == nil || *q.RequireHolderBinding
}

// MaxMultiple bounds the credentials a response may give for one query
// with multiple (see [CredentialQuery.Multiple]).
const MaxMultiple = 16

// strictJSON decodes b into v refusing members v does not define: a DCQL
// member this package does not know would otherwise be dropped, and with
// it a constraint of the verifier (claims values, a future member), which
// is worse than refusing the query.
func strictJSON(b []byte, v any, what string) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if strings.HasPrefix(err.Error(), "json: unknown field ") {
			return fmt.Errorf("%s member %s is not supported: a constraint medid cannot honour is refused rather than ignored", what, strings.TrimPrefix(err.Error(), "json: unknown field "))
		}
		return err
	}
	if dec.More() {
		return fmt.Errorf("%s: trailing data", what)
	}
	return nil
}

// UnmarshalJSON reads a DCQL query, refusing members it does not define.
func (q *DCQLQuery) UnmarshalJSON(b []byte) error {
	type plain DCQLQuery
	return strictJSON(b, (*plain)(q), "dcql_query")
}

// UnmarshalJSON reads a credential query, refusing members it does not
// define.
func (q *CredentialQuery) UnmarshalJSON(b []byte) error {
	type plain CredentialQuery
	return strictJSON(b, (*plain)(q), "credential query")
}

// UnmarshalJSON reads a claims query, refusing members it does not define
// (values: medid does not match claim values).
func (c *ClaimsQuery) UnmarshalJSON(b []byte) error {
	type plain ClaimsQuery
	return strictJSON(b, (*plain)(c), "claims query")
}

// UnmarshalJSON reads a credential query's meta, refusing members it does
// not define.
func (m *Meta) UnmarshalJSON(b []byte) error {
	type plain Meta
	return strictJSON(b, (*plain)(m), "meta")
}

// UnmarshalJSON reads a credential set query, refusing members it does not
// define (purpose is allowed and kept for display).
func (s *CredentialSetQuery) UnmarshalJSON(b []byte) error {
	type plain CredentialSetQuery
	return strictJSON(b, (*plain)(s), "credential set")
}

// UnmarshalJSON reads a trusted authority query, refusing members it does
// not define.
func (a *TrustedAuthority) UnmarshalJSON(b []byte) error {
	type plain TrustedAuthority
	return strictJSON(b, (*plain)(a), "trusted authority")
}
