package app

import (
	"fmt"
	"strings"
	"time"

	"github.com/medid/medid/wallet"
)

// standing is what the patient is told about a credential's status: a
// badge and a line that always says when it was last checked. A check
// that could not be made (no connection to the registry, a status list
// that could not be fetched) is never shown as a failure: the last known
// status stays, marked as not checked since then, in a neutral colour.
type standing struct {
	status wallet.Status // the badge: a wallet status or statusUnchecked
	line   string
}

// outageReasons are verify reason codes that mean "could not check", not
// "checked and failed".
var outageReasons = []string{"status_unavailable", "issuer_unavailable"}

// notChecked reports whether c's last check could not be made, and since
// when its status is unconfirmed (its last completed check).
func notChecked(c wallet.Credential) (bool, time.Time) {
	if c.Unchecked != "" {
		// The wallet kept the last known status and says the newest
		// check could not be made.
		return true, c.StatusCheckedAt
	}
	d := c.StatusDetail
	if strings.HasPrefix(d, "status list unavailable") {
		return true, c.StatusCheckedAt
	}
	if c.Status == wallet.StatusInvalid {
		for _, r := range outageReasons {
			if d == r || strings.HasPrefix(d, r+":") {
				return true, c.StatusCheckedAt
			}
		}
	}
	return false, c.StatusCheckedAt
}

// when writes a check time for people.
func when(t time.Time) string {
	return t.Local().Format("2 Jan 2006 15:04")
}

func standingOf(c wallet.Credential, now time.Time) standing {
	if c.ValidUntil != nil && now.After(*c.ValidUntil) && c.Status != wallet.StatusRevoked {
		return standing{wallet.StatusExpired, "Expired on " + c.ValidUntil.Local().Format("2 Jan 2006") + ". Ask the hospital for a current one."}
	}
	unchecked, since := notChecked(c)
	switch {
	case unchecked && (c.Status == wallet.StatusRevoked || c.Status == wallet.StatusSuspended):
		s := standingOf(wallet.Credential{Status: c.Status, StatusCheckedAt: since}, now)
		s.line += " Not checked again since then (no connection)."
		return s
	case unchecked:
		return standing{statusUnchecked, "Not checked since " + when(since) + " (no connection). It was valid then."}
	}
	switch c.Status {
	case wallet.StatusValid:
		return standing{wallet.StatusValid, "Checked " + when(c.StatusCheckedAt) + "."}
	case wallet.StatusRevoked:
		return standing{wallet.StatusRevoked, "The hospital withdrew this record (checked " + when(c.StatusCheckedAt) + ")."}
	case wallet.StatusSuspended:
		return standing{wallet.StatusSuspended, "The hospital suspended this record for now (checked " + when(c.StatusCheckedAt) + ")."}
	case wallet.StatusExpired:
		return standing{wallet.StatusExpired, "Expired (checked " + when(c.StatusCheckedAt) + "). Ask the hospital for a current one."}
	}
	reason, _, _ := strings.Cut(c.StatusDetail, ":")
	return standing{wallet.StatusInvalid, failedText(reason) + " (checked " + when(c.StatusCheckedAt) + ")."}
}

// failedText says in words why a stored record no longer passes its
// checks (a verify reason code).
func failedText(reason string) string {
	switch reason {
	case "bad_signature":
		return "This record has been changed since the hospital issued it"
	case "unknown_issuer":
		return "The hospital that issued this record is no longer on the medid network"
	case "issuer_not_accredited":
		return "The issuer of this record is not approved for this kind of record"
	case "not_yet_valid":
		return "This record is not valid yet"
	}
	return "This record no longer passes its checks"
}

// refreshSummary says what a status check found, in one sentence.
func refreshSummary(creds []wallet.Credential, now time.Time) string {
	var bad, unchecked int
	for _, c := range creds {
		if nc, _ := notChecked(c); nc {
			unchecked++
			continue
		}
		if standingOf(c, now).status != wallet.StatusValid {
			bad++
		}
	}
	at := now.Local().Format("15:04")
	switch {
	case len(creds) == 0:
		return "Checked at " + at + ": you have no records yet."
	case unchecked == len(creds):
		return "Could not reach the medid network at " + at + ", so nothing was checked. Your records keep the status they had when last checked."
	case unchecked > 0 && bad == 0:
		return fmt.Sprintf("Checked at %s. %s could not be checked (no connection); the others are valid.", at, plural(unchecked, "record"))
	case unchecked > 0:
		return fmt.Sprintf("Checked at %s. %s attention, %s could not be checked (no connection): see each record below.", at, needs(bad), plural(unchecked, "record"))
	case bad > 0:
		return fmt.Sprintf("Checked at %s. %s attention: see each record below.", at, needs(bad))
	}
	if len(creds) == 1 {
		return "Checked at " + at + ": your record is valid."
	}
	return fmt.Sprintf("Checked at %s: all %d records are valid.", at, len(creds))
}

func needs(n int) string {
	if n == 1 {
		return "1 record needs"
	}
	return plural(n, "record") + " need"
}
