package directory_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/medid/medid/credentials/licence"
	"github.com/medid/medid/registry/directory"
	"github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/tx"
)

// sentenceBreakers are what a label must not carry into a sentence: a
// dash that cuts it, a word in capitals.
var sentenceBreakers = regexp.MustCompile(`[—–]| - |\b[A-Z]{3,}\b`)

// TestNamingRule pins the one rule by which every command and screen
// names a party: a verified name (with its kind when the name does not say
// it), a flagged suspended organisation, or an honest "not in the
// directory" / "not verified" with the short reference, never the DID as
// a name.
func TestNamingRule(t *testing.T) {
	const did = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK3CuyQr"
	org := func(name, kind, status string) *directory.Organisation {
		return &directory.Organisation{DID: "did:medid:org", Entry: tx.DirectoryEntry{DisplayName: name, Kind: kind}, Status: status}
	}
	active := ledger.DirectoryActive
	hospital := org("St Mary's Hospital", tx.KindHospital, active)
	body := org("General Medical Council", tx.KindLicensingBody, active)
	doctor := &directory.Practitioner{Claims: licence.Claims{Name: "Dr. Jane Doe"}, Body: body, EmployerOrg: hospital}
	saved := time.Date(2026, 12, 3, 18, 30, 0, 0, time.UTC)
	tests := []struct {
		name string
		id   *directory.Identity
		want string
	}{
		{"hospital, the name says its kind", &directory.Identity{DID: "did:medid:org", Kind: directory.KindOrganisation, Organisation: hospital},
			"St Mary's Hospital"},
		{"pharmacy, with its kind", &directory.Identity{DID: "did:medid:org", Kind: directory.KindOrganisation, Organisation: org("Boots", tx.KindPharmacy, active)},
			"Boots (pharmacy)"},
		{"emergency service", &directory.Identity{DID: "did:medid:org", Kind: directory.KindOrganisation, Organisation: org("City Ambulance", tx.KindEmergencyService, active)},
			"City Ambulance (emergency service)"},
		{"a role DID names the role", &directory.Identity{DID: did, Kind: directory.KindOrganisation, Organisation: hospital, Role: tx.RoleVaultOperator},
			"St Mary's Hospital (record vault)"},
		{"practitioner with employer", &directory.Identity{DID: did, Kind: directory.KindPractitioner, Practitioner: doctor},
			"Dr. Jane Doe (St Mary's Hospital)"},
		{"suspended organisation", &directory.Identity{DID: "did:medid:org", Kind: directory.KindOrganisation, Organisation: org("St Mary's Hospital", tx.KindHospital, ledger.DirectorySuspended)},
			"St Mary's Hospital (suspended in the directory)"},
		{"from the saved copy", &directory.Identity{DID: "did:medid:org", Kind: directory.KindOrganisation, Organisation: hospital, Saved: saved},
			"St Mary's Hospital (directory as saved on 3 Dec 2026)"},
		{"from the saved copy, with its kind", &directory.Identity{DID: "did:medid:org", Kind: directory.KindOrganisation, Organisation: org("Boots", tx.KindPharmacy, active), Saved: saved},
			"Boots (pharmacy; directory as saved on 3 Dec 2026)"},
		{"from the saved copy, a role DID", &directory.Identity{DID: did, Kind: directory.KindOrganisation, Organisation: hospital, Role: tx.RoleVaultOperator, Saved: saved},
			"St Mary's Hospital (record vault; directory as saved on 3 Dec 2026)"},
		{"from the saved copy, a practitioner", &directory.Identity{DID: did, Kind: directory.KindPractitioner, Practitioner: doctor, Saved: saved},
			"Dr. Jane Doe (St Mary's Hospital; directory as saved on 3 Dec 2026)"},
		{"from the saved copy, suspended", &directory.Identity{DID: "did:medid:org", Kind: directory.KindOrganisation, Organisation: org("St Jude's Hospital", tx.KindHospital, ledger.DirectorySuspended), Saved: saved},
			"St Jude's Hospital (suspended in the directory as saved on 3 Dec 2026)"},
		{"revoked licence", &directory.Identity{DID: did, Kind: directory.KindUnknown, Problem: "licence revoked"},
			"someone not verified (licence revoked; ref. 3CuyQr)"},
		{"not in the directory", &directory.Identity{DID: did, Kind: directory.KindUnknown},
			"someone not in the directory (ref. 3CuyQr)"},
		{"no identity", nil, "someone not in the directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.id.Label(); got != tt.want {
				t.Errorf("Label() = %q, want %q", got, tt.want)
			}
			// A label is said alone and inside sentences: it must read
			// the same in both (no dash or shouting that breaks the
			// sentence, one closed pair of brackets at most).
			for _, sentence := range []string{"%s read your allergies.", "Issued by %s, received 3 Dec 2026.", "You let %s see your allergies until 1 Jan 2027."} {
				got := fmt.Sprintf(sentence, tt.id.Label())
				if m := sentenceBreakers.FindString(got); m != "" {
					t.Errorf("%q: %q breaks the sentence", got, m)
				}
				if strings.Count(got, "(") != strings.Count(got, ")") || strings.Count(got, "(") > 1 {
					t.Errorf("%q: brackets do not read as one aside", got)
				}
			}
		})
	}
	if got, want := directory.Unlisted(did), "someone not in the directory (ref. 3CuyQr)"; got != want {
		t.Errorf("Unlisted = %q, want %q", got, want)
	}
	for _, tt := range []struct{ in, want string }{
		{"did:key:z6Mkabc", "z6Mkabc"[1:]}, {"did:medid:XW14tZoGjPu9mCtGMranPM", "GMranPM"[1:]}, {"short", "short"},
	} {
		if got := directory.Ref(tt.in); got != tt.want {
			t.Errorf("Ref(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	for _, tt := range []struct{ in, want string }{
		{"someone not in the directory (ref. 3CuyQr)", "Someone not in the directory (ref. 3CuyQr)"},
		{"St Mary's Hospital", "St Mary's Hospital"}, {"did:key:z6Mk", "did:key:z6Mk"}, {"", ""}, {"élise", "Élise"},
	} {
		if got := directory.Capitalize(tt.in); got != tt.want {
			t.Errorf("Capitalize(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
