package tx

import (
	"bytes"
	"errors"
	goimage "image"
	pngenc "image/png"
	"strings"
	"testing"
	"unicode/utf8"
)

func goodEntry() *DirectoryEntry {
	return &DirectoryEntry{LegalName: "St Mary's Hospital NHS Trust", DisplayName: "St Mary's Hospital", Kind: KindHospital, Country: "GB",
		Website: "https://stmarys.example", Logo: &Logo{SHA256: strings.Repeat("ab", 32), MediaType: "image/png"},
		Roles: []Role{{Role: RoleIssuer}, {Role: RoleVaultOperator, DID: "did:key:z6MkVault"}}}
}

func TestDirectoryPayloadValidate(t *testing.T) {
	const org = "did:medid:Org"
	const gov = "did:key:z6MkGov"
	mod := func(f func(e *DirectoryEntry)) *DirectoryEntry { e := goodEntry(); f(e); return e }
	for _, tc := range []struct {
		name string
		p    Payload
		want string // "" = valid
	}{
		{"add", Payload{Type: DirectoryAdd, DID: gov, Nonce: "1", Org: org, Entry: goodEntry()}, ""},
		{"update", Payload{Type: DirectoryUpdate, DID: gov, Nonce: "1", Org: org, Entry: goodEntry(), Version: 2}, ""},
		{"suspend", Payload{Type: DirectorySuspend, DID: gov, Nonce: "1", Org: org, Version: 3, Reason: "under review"}, ""},
		{"remove", Payload{Type: DirectoryRemove, DID: gov, Nonce: "1", Org: org, Version: 3, Reason: "closed"}, ""},
		{"add without entry", Payload{Type: DirectoryAdd, DID: gov, Nonce: "1", Org: org}, "entry is required"},
		{"update without version", Payload{Type: DirectoryUpdate, DID: gov, Nonce: "1", Org: org, Entry: goodEntry()}, "version is required"},
		{"update to version 1", Payload{Type: DirectoryUpdate, DID: gov, Nonce: "1", Org: org, Entry: goodEntry(), Version: 1}, "next version"},
		{"suspend with an entry", Payload{Type: DirectorySuspend, DID: gov, Nonce: "1", Org: org, Version: 2, Reason: "x", Entry: goodEntry()}, "entry is not allowed"},
		{"suspend without reason", Payload{Type: DirectorySuspend, DID: gov, Nonce: "1", Org: org, Version: 2}, "reason is required"},
		{"org not a DID", Payload{Type: DirectoryAdd, DID: gov, Nonce: "1", Org: "st-marys", Entry: goodEntry()}, "org must be a DID"},
		{"org with a slash", Payload{Type: DirectoryAdd, DID: gov, Nonce: "1", Org: "did:web:a/b", Entry: goodEntry()}, "org must be a DID"},
		{"unknown kind", Payload{Type: DirectoryAdd, DID: gov, Nonce: "1", Org: org, Entry: mod(func(e *DirectoryEntry) { e.Kind = "spa" })}, "kind"},
		{"bad country", Payload{Type: DirectoryAdd, DID: gov, Nonce: "1", Org: org, Entry: mod(func(e *DirectoryEntry) { e.Country = "gb" })}, "country"},
		{"http website", Payload{Type: DirectoryAdd, DID: gov, Nonce: "1", Org: org, Entry: mod(func(e *DirectoryEntry) { e.Website = "http://x.example" })}, "website"},
		{"svg logo", Payload{Type: DirectoryAdd, DID: gov, Nonce: "1", Org: org, Entry: mod(func(e *DirectoryEntry) { e.Logo.MediaType = "image/svg+xml" })}, "logo.mediaType"},
		{"logo hash", Payload{Type: DirectoryAdd, DID: gov, Nonce: "1", Org: org, Entry: mod(func(e *DirectoryEntry) { e.Logo.SHA256 = "AB" })}, "logo.sha256"},
		{"unknown role", Payload{Type: DirectoryAdd, DID: gov, Nonce: "1", Org: org, Entry: mod(func(e *DirectoryEntry) { e.Roles = []Role{{Role: "admin"}} })}, "role"},
		{"role under the org's own DID", Payload{Type: DirectoryAdd, DID: gov, Nonce: "1", Org: org, Entry: mod(func(e *DirectoryEntry) { e.Roles = []Role{{Role: RoleIssuer, DID: org}} })}, "leave did out"},
		{"role twice", Payload{Type: DirectoryAdd, DID: gov, Nonce: "1", Org: org, Entry: mod(func(e *DirectoryEntry) { e.Roles = []Role{{Role: RoleIssuer}, {Role: RoleIssuer}} })}, "twice"},
		{"too many roles", Payload{Type: DirectoryAdd, DID: gov, Nonce: "1", Org: org, Entry: mod(func(e *DirectoryEntry) {
			for i := range 9 {
				e.Roles = append(e.Roles, Role{Role: RoleVerifier, DID: "did:key:z" + strings.Repeat("x", i+1)})
			}
		})}, "at most 8 roles"},
		{"distinct from itself", Payload{Type: DirectoryAdd, DID: gov, Nonce: "1", Org: org, Entry: mod(func(e *DirectoryEntry) { e.DistinctFrom = []string{org} })}, "distinctFrom"},
		{"display name too long", Payload{Type: DirectoryAdd, DID: gov, Nonce: "1", Org: org, Entry: mod(func(e *DirectoryEntry) { e.DisplayName = strings.Repeat("a", 101) })}, "displayName"},
		{"mixed scripts in a word", Payload{Type: DirectoryAdd, DID: gov, Nonce: "1", Org: org, Entry: mod(func(e *DirectoryEntry) { e.DisplayName = "St Mаry's" })}, "mixes Latin and Cyrillic"},
		{"bidi override", Payload{Type: DirectoryAdd, DID: gov, Nonce: "1", Org: org, Entry: mod(func(e *DirectoryEntry) { e.DisplayName = "St Mary\u202e" })}, "U+202E"},
		{"zero-width joiner", Payload{Type: DirectoryAdd, DID: gov, Nonce: "1", Org: org, Entry: mod(func(e *DirectoryEntry) { e.DisplayName = "St Ma\u200dry" })}, "U+200D"},
		{"not NFC", Payload{Type: DirectoryAdd, DID: gov, Nonce: "1", Org: org, Entry: mod(func(e *DirectoryEntry) { e.DisplayName = "Ho\u0302pital" })}, "NFC"},
		{"double space", Payload{Type: DirectoryAdd, DID: gov, Nonce: "1", Org: org, Entry: mod(func(e *DirectoryEntry) { e.DisplayName = "St  Mary" })}, "repeated spaces"},
		{"other type's field", Payload{Type: DirectoryAdd, DID: gov, Nonce: "1", Org: org, Entry: goodEntry(), Issuer: org}, "issuer is not allowed"},
		{"directory field on another type", Payload{Type: IssuerRevoke, DID: gov, Nonce: "1", Issuer: org, AccreditationID: "a", Org: org}, "org is not allowed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.p.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("Validate: %v", err)
			case tc.want != "" && (err == nil || !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("Validate = %v, want ErrMalformed saying %q", err, tc.want)
			}
		})
	}
}

func TestNames(t *testing.T) {
	for _, tc := range []struct{ in, fold, skel string }{
		{"St Mary's Hospital", "st marys hospital", "strnaryshospital"},
		{"ST. MARY’S HOSPITAL", "st marys hospital", "strnaryshospital"},
		{"Hôpital Sainte-Marie", "hopital sainte marie", "hopitalsainternarie"},
		{"СООР Pharmacy", "соор pharmacy", "cooppharrnacy"},
		{"Coop Pharmacy", "coop pharmacy", "cooppharrnacy"},
		{"Clinic 1", "clinic 1", "clinicl"},
		{"Clinic l", "clinic l", "clinicl"},
	} {
		if got := FoldName(tc.in); got != tc.fold {
			t.Errorf("FoldName(%q) = %q, want %q", tc.in, got, tc.fold)
		}
		if got := NameSkeleton(tc.in); got != tc.skel {
			t.Errorf("NameSkeleton(%q) = %q, want %q", tc.in, got, tc.skel)
		}
	}
}

// FuzzNames checks that the name functions never panic, that FoldName is
// idempotent and yields what NameWords splits, and that every name
// ValidName accepts has a non-empty skeleton.
func FuzzNames(f *testing.F) {
	for _, s := range []string{"St Mary's Hospital", "Hôpital Sainte-Marie", "СООР", "\u202e", "a  b", "東京病院", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		fold := FoldName(s)
		if FoldName(fold) != fold {
			t.Fatalf("FoldName not idempotent on %q: %q then %q", s, fold, FoldName(fold))
		}
		if !utf8.ValidString(fold) {
			t.Fatalf("FoldName(%q) is not UTF-8", s)
		}
		if strings.Join(NameWords(s), " ") != fold {
			t.Fatalf("NameWords(%q) does not rebuild the folded name", s)
		}
		_ = NameSkeleton(s)
		if ValidName(s, 200) == nil && strings.ContainsFunc(s, func(r rune) bool { return r > ' ' && r < 0x7f && (r|0x20 >= 'a' && r|0x20 <= 'z') }) && NameSkeleton(s) == "" {
			t.Fatalf("valid name %q with letters has an empty skeleton", s)
		}
	})
}

func TestDirectoryBuilders(t *testing.T) {
	const gov, org = "did:key:z6MkGov", "did:medid:Org"
	for _, tc := range []struct {
		name string
		p    func() (*Payload, error)
		typ  Type
	}{
		{"add", func() (*Payload, error) { return NewDirectoryAdd(gov, org, *goodEntry()) }, DirectoryAdd},
		{"update", func() (*Payload, error) { return NewDirectoryUpdate(gov, org, *goodEntry(), 2) }, DirectoryUpdate},
		{"suspend", func() (*Payload, error) { return NewDirectorySuspend(gov, org, 3, "under review") }, DirectorySuspend},
		{"remove", func() (*Payload, error) { return NewDirectoryRemove(gov, org, 4, "closed") }, DirectoryRemove},
	} {
		p, err := tc.p()
		if err != nil || p.Type != tc.typ || p.DID != gov || p.Org != org || len(p.Nonce) != 32 {
			t.Errorf("%s: %+v, %v", tc.name, p, err)
		}
	}
	if _, err := NewDirectorySuspend(gov, org, 1, "x"); !errors.Is(err, ErrMalformed) {
		t.Errorf("suspend as version 1: %v", err)
	}
	e := goodEntry()
	e.Kind = "spa"
	if _, err := NewDirectoryAdd(gov, org, *e); !errors.Is(err, ErrMalformed) {
		t.Errorf("add with a bad kind: %v", err)
	}
}

// TestNewLogo: a logo is named by the media type its bytes have, which
// must be PNG or JPEG, and its SHA-256, which Logo.Check then accepts.
func TestNewLogo(t *testing.T) {
	var png bytes.Buffer
	if err := pngenc.Encode(&png, goimage.NewGray(goimage.Rect(0, 0, 2, 2))); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		b        []byte
		wantType string // "" = refused
	}{
		{"png", png.Bytes(), "image/png"},
		{"jpeg magic", []byte("\xff\xd8\xff\xe0rest"), "image/jpeg"},
		{"text", []byte("not an image"), ""},
		{"gif", []byte("GIF89a......"), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, err := NewLogo(tc.b)
			if tc.wantType == "" {
				var te *LogoTypeError
				if !errors.As(err, &te) || te.MediaType == "" {
					t.Fatalf("NewLogo = %+v, %v: want a LogoTypeError", l, err)
				}
				return
			}
			if err != nil || l.MediaType != tc.wantType {
				t.Fatalf("NewLogo = %+v, %v: want %s", l, err, tc.wantType)
			}
			if tc.name == "png" {
				if err := l.Check(tc.b); err != nil {
					t.Errorf("Check of the logo's own image: %v", err)
				}
			}
		})
	}
}
