package tx

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	_ "image/jpeg" // logos may be JPEG
	_ "image/png"  // or PNG
	"net/http"
	"net/url"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Directory transactions write the network's directory of organisations
// (hospitals, clinics, pharmacies, licensing bodies, …): who a DID is, in
// its public professional capacity. Only the network's governance writes
// them, so a DID never names itself (docs/design/0019-directory.md).
//
//   - [DirectoryAdd] ("directory.add"): org (the organisation's DID) and
//     entry (a [DirectoryEntry]); signed by a governance did:key. An
//     organisation is added once; its entry is version 1.
//   - [DirectoryUpdate] ("directory.update"): org, entry and version (the
//     new version: the current one + 1). Updating a suspended entry
//     reinstates it.
//   - [DirectorySuspend] ("directory.suspend"): org, version and reason.
//     The entry stays, marked suspended: the organisation is shown as such
//     and is not trusted for its roles.
//   - [DirectoryRemove] ("directory.remove"): org, version and reason;
//     final. History is kept: what the DID was called, and what it was
//     allowed to do, at any earlier time stays readable and provable.
const (
	DirectoryAdd     Type = "directory.add"
	DirectoryUpdate  Type = "directory.update"
	DirectorySuspend Type = "directory.suspend"
	DirectoryRemove  Type = "directory.remove"
)

// IsDirectory reports whether t is one of the directory transaction types.
func IsDirectory(t Type) bool {
	return t == DirectoryAdd || t == DirectoryUpdate || t == DirectorySuspend || t == DirectoryRemove
}

// Bounds of a directory entry, checked by [DirectoryEntry.Validate].
const (
	MaxLegalName    = 200
	MaxDisplayName  = 100
	MaxWebsite      = 256
	MaxReason       = 280
	MaxRoles        = 8
	MaxDistinctFrom = 8
)

// Organisation kinds.
const (
	KindHospital         = "hospital"
	KindClinic           = "clinic"
	KindPharmacy         = "pharmacy"
	KindLaboratory       = "laboratory"
	KindLicensingBody    = "licensing-body"
	KindInsurer          = "insurer"
	KindEmergencyService = "emergency-service"
	KindResearch         = "research"
)

// Kinds lists the organisation kinds, in the order tools show them.
var Kinds = []string{KindHospital, KindClinic, KindPharmacy, KindLaboratory, KindLicensingBody, KindInsurer, KindEmergencyService, KindResearch}

// Roles an organisation holds on the network.
const (
	// RoleIssuer: issues credentials. Which types it may issue, and since
	// when, is its accreditation (issuer.accredit), not the directory.
	RoleIssuer = "issuer"
	// RoleVerifier: asks for presentations (OpenID4VP).
	RoleVerifier = "verifier"
	// RoleVaultOperator: runs a record vault; the role's DID is the
	// vault's own DID when it is not the organisation's.
	RoleVaultOperator = "vault-operator"
	// RoleValidator: runs a validator of the network.
	RoleValidator = "validator"
)

// RoleNames lists the roles, in the order tools show them.
var RoleNames = []string{RoleIssuer, RoleVerifier, RoleVaultOperator, RoleValidator}

// Logo media types the registry accepts and serves. SVG is not among
// them: it can carry scripts.
var LogoMediaTypes = []string{"image/png", "image/jpeg"}

// DirectoryEntry is what governance writes about an organisation. It
// carries no health data and names no patient.
type DirectoryEntry struct {
	// LegalName is the registered legal name; DisplayName the short name
	// people see ("St Mary's Hospital").
	LegalName   string `json:"legalName"`
	DisplayName string `json:"displayName"`
	// Kind is one of [Kinds].
	Kind string `json:"kind"`
	// Country is the ISO 3166-1 alpha-2 code ("GB", "FR").
	Country string `json:"country"`
	// Website is an https URL.
	Website string `json:"website,omitempty"`
	// Logo is the hash of the logo image the registry serves.
	Logo *Logo `json:"logo,omitempty"`
	// Roles the organisation holds, each optionally under a DID of its own
	// (a vault's or a verifier service's did:key).
	Roles []Role `json:"roles,omitempty"`
	// DistinctFrom lists organisations whose names resemble this one's
	// (same display name, or confusable) that governance checked are
	// different organisations. Without it such a name is refused; with it
	// the entry is kept flagged, and tools show both with their country.
	DistinctFrom []string `json:"distinctFrom,omitempty"`
}

// Logo is a logo image by its hash: the registry serves the image whose
// SHA-256 this is.
type Logo struct {
	SHA256    string `json:"sha256"`    // 64 lowercase hex digits
	MediaType string `json:"mediaType"` // one of LogoMediaTypes
}

// LogoTypeError is returned by [NewLogo] for an image that is not one of
// [LogoMediaTypes]; MediaType is what its bytes are.
type LogoTypeError struct{ MediaType string }

func (e *LogoTypeError) Error() string {
	return "the image is " + e.MediaType + ": use a PNG or JPEG image"
}

// NewLogo names image b in a directory entry: its media type, as its bytes
// say (one of [LogoMediaTypes], else a [*LogoTypeError]), and its SHA-256,
// by which the registry serves it. The registry's [Logo.Check] then
// checks the upload against it.
func NewLogo(b []byte) (*Logo, error) {
	mt := http.DetectContentType(b)
	if !slices.Contains(LogoMediaTypes, mt) {
		return nil, &LogoTypeError{MediaType: mt}
	}
	sum := sha256.Sum256(b)
	return &Logo{SHA256: hex.EncodeToString(sum[:]), MediaType: mt}, nil
}

// Logo image bounds: the bytes of an image and its width and height in
// pixels.
const (
	MaxLogoBytes  = 256 << 10
	MaxLogoPixels = 2048
)

// Check checks that b is the image l names: at most MaxLogoBytes, SHA-256
// l.SHA256, and a PNG or JPEG (as l.MediaType says) of at most
// MaxLogoPixels on each side. It is the one parser of logo images: the
// registry checks uploads and mirrored copies with it, wallets check what
// they are served before showing it.
func (l *Logo) Check(b []byte) error {
	if len(b) > MaxLogoBytes {
		return fmt.Errorf("the image is larger than %d bytes", MaxLogoBytes)
	}
	sum := sha256.Sum256(b)
	if hex.EncodeToString(sum[:]) != l.SHA256 {
		return fmt.Errorf("the image's SHA-256 is %x, the directory names %s", sum, l.SHA256)
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("not a PNG or JPEG image: %v", err)
	}
	if "image/"+format != l.MediaType {
		return fmt.Errorf("the image is %s, the directory names %s", format, l.MediaType)
	}
	if cfg.Width < 1 || cfg.Height < 1 || cfg.Width > MaxLogoPixels || cfg.Height > MaxLogoPixels {
		return fmt.Errorf("the image is %dx%d pixels; at most %d on each side", cfg.Width, cfg.Height, MaxLogoPixels)
	}
	return nil
}

// Role is one role an organisation holds.
type Role struct {
	Role string `json:"role"` // one of RoleNames
	// DID is the DID the role is performed under, when it is not the
	// organisation's own (a vault's did:key). Lookups of that DID answer
	// with the organisation.
	DID string `json:"did,omitempty"`
}

// HasRole reports whether e lists role (under any DID).
func (e *DirectoryEntry) HasRole(role string) bool {
	return slices.ContainsFunc(e.Roles, func(r Role) bool { return r.Role == role })
}

// Validate checks the shape of e: names (see [ValidName]), kind, country,
// website, logo, roles and DistinctFrom. org is the organisation's DID; a
// role may not name it (its roles are its own) and DistinctFrom may not
// list it. It does not consult ledger state.
func (e *DirectoryEntry) Validate(org string) error {
	if err := ValidName(e.LegalName, MaxLegalName); err != nil {
		return fmt.Errorf("legalName: %w", err)
	}
	if err := ValidName(e.DisplayName, MaxDisplayName); err != nil {
		return fmt.Errorf("displayName: %w", err)
	}
	if !slices.Contains(Kinds, e.Kind) {
		return fmt.Errorf("kind %.40q: want one of %s", e.Kind, strings.Join(Kinds, ", "))
	}
	if len(e.Country) != 2 || e.Country[0] < 'A' || e.Country[0] > 'Z' || e.Country[1] < 'A' || e.Country[1] > 'Z' {
		return fmt.Errorf("country %.16q: want an ISO 3166-1 alpha-2 code such as GB", e.Country)
	}
	if e.Website != "" {
		u, err := url.Parse(e.Website)
		if len(e.Website) > MaxWebsite || err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || u.Fragment != "" {
			return fmt.Errorf("website must be an https URL of at most %d bytes, without user or fragment", MaxWebsite)
		}
	}
	if e.Logo != nil {
		if !ValidGrantHash(e.Logo.SHA256) {
			return fmt.Errorf("logo.sha256 must be 64 lowercase hex digits (SHA-256 of the image)")
		}
		if !slices.Contains(LogoMediaTypes, e.Logo.MediaType) {
			return fmt.Errorf("logo.mediaType %.40q: want one of %s", e.Logo.MediaType, strings.Join(LogoMediaTypes, ", "))
		}
	}
	if len(e.Roles) > MaxRoles {
		return fmt.Errorf("at most %d roles", MaxRoles)
	}
	seen := map[Role]bool{}
	for _, r := range e.Roles {
		if !slices.Contains(RoleNames, r.Role) {
			return fmt.Errorf("role %.40q: want one of %s", r.Role, strings.Join(RoleNames, ", "))
		}
		if r.DID != "" && !validDID(r.DID) {
			return fmt.Errorf("role %s: did must be a DID of at most %d bytes without '/'", r.Role, MaxDIDLen)
		}
		if r.DID == org {
			return fmt.Errorf("role %s: leave did out for the organisation's own DID", r.Role)
		}
		if seen[r] {
			return fmt.Errorf("role %s %s listed twice", r.Role, r.DID)
		}
		seen[r] = true
	}
	if len(e.DistinctFrom) > MaxDistinctFrom {
		return fmt.Errorf("at most %d distinctFrom DIDs", MaxDistinctFrom)
	}
	for _, d := range e.DistinctFrom {
		if !validDID(d) || d == org {
			return fmt.Errorf("distinctFrom must list other organisations' DIDs")
		}
	}
	return nil
}

// validDID reports whether s looks like a DID that can be a key part.
func validDID(s string) bool {
	return strings.HasPrefix(s, "did:") && len(s) > 4 && len(s) <= MaxDIDLen && !strings.ContainsAny(s, "/ \t\r\n")
}

// validDirectory checks the directory-specific fields of p.
func validDirectory(p *Payload) string {
	if !validDID(p.Org) {
		return fmt.Sprintf("org must be a DID of at most %d bytes without '/'", MaxDIDLen)
	}
	if p.Entry != nil {
		if err := p.Entry.Validate(p.Org); err != nil {
			return "entry: " + err.Error()
		}
	}
	if p.Reason != "" {
		if err := ValidName(p.Reason, MaxReason); err != nil {
			return "reason: " + err.Error()
		}
	}
	if p.Type != DirectoryAdd && p.Version < 2 {
		return "version must be the entry's next version (its current version + 1)"
	}
	return ""
}

// ValidName checks a name or short text for the directory: valid UTF-8 of
// 1 to max bytes in Unicode normalization form NFC, no leading, trailing
// or repeated spaces, no control or invisible formatting characters (bidi
// overrides, zero-width joiners: the classic ways to make one name look
// like another), only letters, marks, digits, spaces and common
// punctuation, and within each word letters of one script only (Latin,
// Greek, Cyrillic, …; Han, Hiragana and Katakana count as one), as
// Unicode TR39's "highly restrictive" level asks: "Ѕt Mary" with a
// Cyrillic Ѕ is refused.
func ValidName(s string, max int) error {
	switch {
	case s == "" || len(s) > max:
		return fmt.Errorf("must be 1 to %d bytes", max)
	case !utf8.ValidString(s):
		return fmt.Errorf("is not valid UTF-8")
	case !norm.NFC.IsNormalString(s):
		return fmt.Errorf("is not in Unicode normalization form NFC")
	case s != strings.TrimSpace(s) || strings.Contains(s, "  "):
		return fmt.Errorf("has leading, trailing or repeated spaces")
	}
	for _, word := range strings.Split(s, " ") {
		script := ""
		for _, r := range word {
			switch {
			case unicode.IsLetter(r):
				sc := scriptOf(r)
				if script != "" && sc != script {
					return fmt.Errorf("mixes %s and %s letters in the word %q (refused: a look-alike of another name)", script, sc, word)
				}
				script = sc
			case unicode.IsMark(r), unicode.IsDigit(r):
			case strings.ContainsRune("'’.,&-()/:+#@!", r):
			default:
				return fmt.Errorf("has the character %U, which is not a letter, digit, space or common punctuation", r)
			}
		}
	}
	return nil
}

// scripts are the scripts names are checked against, in order; Han,
// Hiragana and Katakana are one ("Japanese"), since Japanese writes them
// together.
var scripts = []struct {
	name string
	tab  *unicode.RangeTable
}{
	{"Latin", unicode.Latin}, {"Greek", unicode.Greek}, {"Cyrillic", unicode.Cyrillic},
	{"Armenian", unicode.Armenian}, {"Hebrew", unicode.Hebrew}, {"Arabic", unicode.Arabic},
	{"Devanagari", unicode.Devanagari}, {"Bengali", unicode.Bengali}, {"Thai", unicode.Thai},
	{"Georgian", unicode.Georgian}, {"Hangul", unicode.Hangul}, {"Japanese", unicode.Han},
	{"Japanese", unicode.Hiragana}, {"Japanese", unicode.Katakana}, {"Ethiopic", unicode.Ethiopic},
	{"Tamil", unicode.Tamil}, {"Sinhala", unicode.Sinhala},
}

func scriptOf(r rune) string {
	for _, s := range scripts {
		if unicode.Is(s.tab, r) {
			return s.name
		}
	}
	return "other"
}

// NewDirectoryAdd returns the directory.add by the governance did:key
// governance that writes org into the directory with entry e (version 1).
func NewDirectoryAdd(governance, org string, e DirectoryEntry) (*Payload, error) {
	return valid(&Payload{Type: DirectoryAdd, DID: governance, Nonce: NewNonce(), Org: org, Entry: &e})
}

// NewDirectoryUpdate returns the directory.update by governance that
// replaces org's entry with e as version (the current version + 1, so a
// concurrent change makes it fail instead of being overwritten). Updating
// a suspended entry reinstates it.
func NewDirectoryUpdate(governance, org string, e DirectoryEntry, version int64) (*Payload, error) {
	return valid(&Payload{Type: DirectoryUpdate, DID: governance, Nonce: NewNonce(), Org: org, Entry: &e, Version: version})
}

// NewDirectorySuspend returns the directory.suspend by governance that
// suspends org as version, for reason (kept in the entry's history).
func NewDirectorySuspend(governance, org string, version int64, reason string) (*Payload, error) {
	return valid(&Payload{Type: DirectorySuspend, DID: governance, Nonce: NewNonce(), Org: org, Version: version, Reason: reason})
}

// NewDirectoryRemove returns the directory.remove by governance that
// removes org from the directory as version, for reason; final.
func NewDirectoryRemove(governance, org string, version int64, reason string) (*Payload, error) {
	return valid(&Payload{Type: DirectoryRemove, DID: governance, Nonce: NewNonce(), Org: org, Version: version, Reason: reason})
}
