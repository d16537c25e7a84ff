package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image/png"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/medid/medid/credentials/openid4vci"
	"github.com/medid/medid/credentials/openid4vp"
	"github.com/medid/medid/wallet"
	"github.com/medid/medid/wallet/openid"
)

func TestFriendly(t *testing.T) {
	until := time.Date(2026, 3, 14, 10, 32, 0, 0, time.UTC)
	cases := []struct {
		name string
		err  error
		want string
	}{
		{"lockout", fmt.Errorf("%w: %w", wallet.ErrWrongPassphrase, &wallet.LockedOutError{Until: until, Left: 2 * time.Minute, Failures: 6}), "locked for 2 minutes. Try again after 10:32"},
		{"wrong passphrase", fmt.Errorf("%w (3 failed attempts)", wallet.ErrWrongPassphrase), "passphrase is not right"},
		{"locked", wallet.ErrLocked, "locked itself"},
		{"phrase", wallet.ErrInvalidPhrase, "recovery words are not right"},
		{"exists", wallet.ErrExists, "already a wallet"},
		{"corrupt backup", fmt.Errorf("x: %w", wallet.ErrCorruptBackup), "backup file is damaged"},
		{"corrupt", wallet.ErrCorrupt, "Restore your wallet"},
		{"not mine", fmt.Errorf("%w: bound to did:key:z", wallet.ErrNotForThisWallet), "issued to someone else"},
		{"revoked", &wallet.RejectedError{Reason: "revoked"}, "withdrawn (revoked)"},
		{"expired", &wallet.RejectedError{Reason: "expired"}, "has expired"},
		{"status", &wallet.RejectedError{Reason: "status_unavailable"}, "could not be checked"},
		{"unknown reason", &wallet.RejectedError{Reason: "weird"}, "did not pass the safety checks"},
		{"no registry", wallet.ErrNoRegistry, "its address in Settings"},
		{"offer needs a PIN", errNeedPIN, "needs the code"},
		{"offer wrong PIN", &openid4vci.ProtocolError{Code: openid4vci.ErrCodeInvalidGrant}, "code is not right"},
		{"consent to a name", ErrNeedProviderDID, "Open the consent request the hospital or doctor gave you"},
		{"no vault", ErrNoVault, "hospital's address in Settings"},
		{"not a request link", errNotVPLink, "not a request for records"},
		{"nothing matches", fmt.Errorf("%w: lic", openid.ErrNoMatch), "no record that answers"},
		{"request gone", &openid4vp.ProtocolError{Code: openid4vp.ErrCodeInvalidRequest}, "expired or been answered"},
		{"network", &url.Error{Op: "Post", URL: "http://x", Err: errors.New("connection refused")}, "could not be reached"},
		{"timeout", context.DeadlineExceeded, "took too long"},
		{"other", errors.New("disk full"), "Something went wrong. Try again"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := friendly(tc.err)
			if !strings.Contains(got, tc.want) {
				t.Errorf("friendly(%v) = %q, want it to contain %q", tc.err, got, tc.want)
			}
			if m := devTerms.FindString(got); m != "" {
				t.Errorf("friendly(%v) = %q: %q is a developer term", tc.err, got, m)
			}
		})
	}
	if friendly(nil) != "" {
		t.Error("friendly(nil) is not empty")
	}
}

func TestClaimsOf(t *testing.T) {
	cases := []struct {
		name    string
		types   []string
		subject string
		want    string
	}{
		{"allergy, FHIR CodeableConcept", []string{"AllergyIntoleranceCredential"},
			`{"id":"did:x","code":{"coding":[{"display":"Peanut"}]},"reaction":[{"manifestation":[{"text":"hives"}],"severity":"moderate"}],"clinicalStatus":"active"}`,
			"[{Substance Peanut} {Reaction hives} {Severity moderate} {Status active}]"},
		{"allergy, plain strings", []string{"AllergyCredential"},
			`{"allergy":"penicillin","reaction":"rash","severity":"mild","note":"since 2010"}`,
			"[{Substance penicillin} {Reaction rash} {Severity mild} {Note since 2010}]"},
		{"allergy list", []string{"AllergyCredential"},
			`{"allergies":[{"code":"91936005","display":"Penicillin"},"latex"]}`,
			"[{Substance Penicillin} {Substance latex}]"},
		{"immunization", []string{"ImmunizationCredential"},
			`{"vaccineCode":{"text":"MMR"},"occurrenceDateTime":"2024-05-01T10:00:00Z","protocolApplied":[{"doseNumberPositiveInt":1}],"lotNumber":"A1"}`,
			"[{Vaccine MMR} {Date 1 May 2024} {Dose 1} {Lot number A1}]"},
		{"generic nested", []string{"PatientIdentityCredential"},
			`{"id":"did:x","type":"Person","givenName":"Ada","address":{"city":"Leeds","postalCode":"LS1"},"insured":true}`,
			"[{Address › City Leeds} {Address › Postal code LS1} {Given name Ada} {Insured yes}]"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var subj map[string]any
			if err := json.Unmarshal([]byte(tc.subject), &subj); err != nil {
				t.Fatal(err)
			}
			if got := fmt.Sprint(claimsOf(tc.types, subj)); got != tc.want {
				t.Errorf("claimsOf = %s\nwant      %s", got, tc.want)
			}
		})
	}
}

func TestHumanizeAndTypeName(t *testing.T) {
	cases := map[string]string{
		"occurrenceDateTime": "Occurrence date time",
		"postal_code":        "Postal code",
		"HIVStatus":          "HIV status",
		"id":                 "Id",
	}
	for in, want := range cases {
		if got := humanize(in); got != want {
			t.Errorf("humanize(%q) = %q, want %q", in, got, want)
		}
	}
	if got := typeName([]string{"VerifiableCredential", "AllergyIntoleranceCredential"}, ""); got != "Allergy intolerance" {
		t.Errorf("typeName = %q", got)
	}
	if got := typeName([]string{"VerifiableCredential"}, "My allergies"); got != "My allergies" {
		t.Errorf("typeName with a name = %q", got)
	}
}

// FuzzDecodeQR: any bytes, as a picture file, never panic decodeQR.
func FuzzDecodeQR(f *testing.F) {
	img, err := qrImage("eyJhbGciOiJFZERTQSJ9.e30.sig", 120)
	if err != nil {
		f.Fatal(err)
	}
	var buf bytes.Buffer
	png.Encode(&buf, img)
	f.Add(buf.Bytes())
	f.Add([]byte("\x89PNG\r\n\x1a\n"))
	f.Add([]byte("GIF89a\x01\x00\x01\x00"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		text, err := decodeQR(bytes.NewReader(data))
		if err == nil && text == "" {
			t.Error("no error and no text")
		}
	})
}

// FuzzClaims: any credentialSubject JSON renders without panicking, and
// every line has a label.
func FuzzClaims(f *testing.F) {
	f.Add("AllergyCredential", `{"code":{"coding":[{"display":"Peanut"}]},"reaction":[{"manifestation":[]}]}`)
	f.Add("ImmunizationCredential", `{"protocolApplied":[1,{"doseNumberPositiveInt":null}],"vaccineCode":[]}`)
	f.Add("X", `{"a":{"b":{"c":[{"d":1}]}},"":"x"}`)
	f.Fuzz(func(t *testing.T, typ, subject string) {
		var subj map[string]any
		if json.Unmarshal([]byte(subject), &subj) != nil {
			return
		}
		for _, c := range claimsOf([]string{typ}, subj) {
			if c.Label == "" && c.Value == "" {
				t.Errorf("empty claim line from %s", subject)
			}
		}
	})
}

func TestVPAnswerText(t *testing.T) {
	cases := []struct {
		name string
		err  error
		want string
	}{
		{"refused record", &openid4vp.ProtocolError{Code: openid4vp.ErrCodeInvalidRequest, Reason: "revoked"}, "City Pharmacy did not accept your records. "},
		{"request expired", &openid4vp.ProtocolError{Code: openid4vp.ErrCodeInvalidRequest}, "Ask them for a new one"},
		{"other code", &openid4vp.ProtocolError{Code: "server_error"}, "did not accept the answer. Ask them for a new request."},
		{"network", &url.Error{Op: "Post", URL: "http://x", Err: errors.New("connection refused")}, "could not be reached"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := vpAnswerText(tc.err, "City Pharmacy")
			if !strings.Contains(got, tc.want) {
				t.Errorf("vpAnswerText(%v) = %q, want it to contain %q", tc.err, got, tc.want)
			}
			if m := devTerms.FindString(got); m != "" {
				t.Errorf("vpAnswerText(%v) = %q: %q is a developer term", tc.err, got, m)
			}
		})
	}
}

// TestTimeLeft pins how the Consent screen counts a grant's remaining
// time against an injected clock: partial days and hours round up, so a
// fresh 30-day grant reads 30 days, not 29.
func TestTimeLeft(t *testing.T) {
	granted := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	const day = 24 * time.Hour
	thirty := ConsentGrant{Granted: granted, Expires: granted.Add(30 * day)}
	tests := []struct {
		name string
		g    ConsentGrant
		now  time.Time
		want string
	}{
		{"30-day grant at the instant it is given", thirty, granted, "30 days left"},
		{"30-day grant a few seconds later", thirty, granted.Add(3 * time.Second), "30 days left"},
		{"30-day grant after 12 hours", thirty, granted.Add(12 * time.Hour), "30 days left"},
		{"30-day grant after exactly one day", thirty, granted.Add(day), "29 days left"},
		{"exactly two days left", thirty, granted.Add(28 * day), "2 days left"},
		{"a day and a minute left", thirty, granted.Add(29*day - time.Minute), "2 days left"},
		{"exactly one day left", thirty, granted.Add(29 * day), "1 day left"},
		{"under a day: hours, rounded up", thirty, granted.Add(29*day + 30*time.Minute), "24 hours left"},
		{"five and a half hours", thirty, thirty.Expires.Add(-5*time.Hour - 30*time.Minute), "6 hours left"},
		{"exactly one hour", thirty, thirty.Expires.Add(-time.Hour), "1 hour left"},
		{"under an hour: minutes", thirty, thirty.Expires.Add(-10 * time.Minute), "10 minutes left"},
		{"one second left", thirty, thirty.Expires.Add(-time.Second), "1 minute left"},
		{"at its end", thirty, thirty.Expires, "Ended 31 Mar 2026"},
		{"after its end", thirty, thirty.Expires.Add(40 * day), "Ended 31 Mar 2026"},
		{"taken back", ConsentGrant{Granted: granted, Expires: granted.Add(2 * day), Revoked: true},
			granted.Add(3 * day), "Taken back 3 Mar 2026"},
		// No end (a zero Expires) is open-ended, as the vault reads it.
		{"no end date", ConsentGrant{Granted: granted}, granted.AddDate(40, 0, 0), "No end date"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := timeLeft(tt.g, tt.now); got != tt.want {
				t.Errorf("timeLeft(expires %v, now %v) = %q, want %q", tt.g.Expires, tt.now, got, tt.want)
			}
		})
	}
}
