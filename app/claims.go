package app

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/medid/medid/credentials/licence"
	"github.com/medid/medid/credentials/vc"
	"github.com/medid/medid/registry/directory"
	"github.com/medid/medid/wallet"
)

// claim is one line of a credential as the patient reads it.
type claim struct {
	Label, Value string
}

// kindOf classifies a credential by its types.
func kindOf(types []string) string {
	for _, t := range types {
		l := strings.ToLower(t)
		switch {
		case strings.Contains(l, "allerg"):
			return "allergy"
		case strings.Contains(l, "immuni"), strings.Contains(l, "vaccin"):
			return "immunization"
		case t == licence.Type:
			return "licence"
		}
	}
	return ""
}

// typeName is the credential's type in words: "AllergyIntoleranceCredential"
// -> "Allergy intolerance".
func typeName(types []string, name string) string {
	if name != "" {
		return name
	}
	for _, t := range types {
		if t != vc.TypeCredential {
			return humanize(strings.TrimSuffix(t, "Credential"))
		}
	}
	return "Record"
}

// humanize turns a camelCase or snake_case key into words.
func humanize(k string) string {
	var b strings.Builder
	rs := []rune(k)
	for i, r := range rs {
		switch {
		case r == '_' || r == '-':
			b.WriteRune(' ')
			continue
		case i > 0 && unicode.IsUpper(r) && (unicode.IsLower(rs[i-1]) || (i+1 < len(rs) && unicode.IsLower(rs[i+1]))):
			b.WriteRune(' ')
		}
		if i == 0 {
			b.WriteRune(unicode.ToUpper(r))
		} else if unicode.IsUpper(r) && i+1 < len(rs) && unicode.IsLower(rs[i+1]) {
			b.WriteRune(unicode.ToLower(r))
		} else {
			b.WriteRune(r)
		}
	}
	return strings.TrimSpace(b.String())
}

// claimsOf renders a credentialSubject for people: an allergy as
// substance, reaction and severity, an immunization as vaccine, date and
// dose, anything else as readable key/value lines. The subject id and
// technical keys are left out. It never fails: unknown shapes fall back to
// the generic rendering.
func claimsOf(types []string, subject map[string]any) []claim {
	rest := maps.Clone(subject)
	delete(rest, "id")
	delete(rest, "type")
	var out []claim
	take := func(label string, keys ...string) {
		for _, k := range keys {
			if v, ok := rest[k]; ok {
				if s := text(v); s != "" {
					out = append(out, claim{label, s})
					delete(rest, k)
					return
				}
			}
		}
	}
	switch kindOf(types) {
	case "allergy":
		if list, ok := rest["allergies"].([]any); ok {
			delete(rest, "allergies")
			for _, it := range list {
				m, _ := it.(map[string]any)
				if m == nil {
					out = append(out, claim{"Substance", text(it)})
					continue
				}
				out = append(out, allergyClaims(maps.Clone(m))...)
			}
		}
		out = append(out, allergyClaims(rest)...)
		return out // allergyClaims rendered (and consumed) the rest
	case "immunization":
		take("Vaccine", "vaccine", "vaccineCode", "vaccineName", "product")
		take("Date", "occurrenceDateTime", "date", "dateAdministered", "occurrence")
		take("Dose", "doseNumber", "dose", "doseNumberPositiveInt", "series")
		if pa, ok := rest["protocolApplied"]; ok {
			if m, ok := first(pa).(map[string]any); ok {
				if d := text(m["doseNumberPositiveInt"]); d != "" {
					out = append(out, claim{"Dose", d})
					delete(rest, "protocolApplied")
				}
			}
		}
		take("Lot number", "lotNumber")
		take("Given by", "performer")
	case "licence":
		// A practitioner licence (credentials/licence): who and what
		// first; the employer is a DID, named by the directory where it
		// is shown (App.readClaims), never shown as the DID.
		take("Name", "name")
		take("Profession", "profession")
		take("Specialty", "specialty")
		take("Licence number", "licenceNumber")
		take("Where it is valid", "jurisdiction")
		take("Employer", "employer")
	}
	return append(out, generic("", rest)...)
}

// allergyClaims takes the allergy fields out of m (which it consumes) and
// returns them first, the rest after.
func allergyClaims(m map[string]any) []claim {
	var out []claim
	take := func(label string, keys ...string) {
		for _, k := range keys {
			if v, ok := m[k]; ok {
				if s := text(v); s != "" {
					out = append(out, claim{label, s})
					delete(m, k)
					return
				}
			}
		}
	}
	take("Substance", "substance", "allergy", "allergen", "display", "code")
	if _, coded := m["display"]; !coded && len(out) > 0 {
		// A Coding ({code, display, system}) rendered by its display:
		// the code and system are for machines.
		delete(m, "code")
		delete(m, "system")
	}
	if r, ok := m["reaction"]; ok {
		if rm, ok := first(r).(map[string]any); ok {
			// FHIR: reaction[].manifestation, reaction[].severity
			if s := text(rm["manifestation"]); s != "" {
				out = append(out, claim{"Reaction", s})
			} else if s := text(rm["description"]); s != "" {
				out = append(out, claim{"Reaction", s})
			}
			if s := text(rm["severity"]); s != "" {
				out = append(out, claim{"Severity", s})
				delete(m, "severity")
			}
			delete(m, "reaction")
		}
	}
	take("Reaction", "reaction", "manifestation")
	take("Severity", "severity", "criticality")
	take("Status", "clinicalStatus")
	take("Recorded", "recordedDate", "onsetDateTime")
	return append(out, generic("", m)...)
}

func first(v any) any {
	if l, ok := v.([]any); ok && len(l) > 0 {
		return l[0]
	}
	return v
}

// text renders a value as a short phrase: a coded value by its display
// text, a list joined with commas, a date as a date. It returns "" for
// objects it cannot put in a phrase.
func text(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		if t, err := time.Parse(time.RFC3339, x); err == nil {
			return t.Format("2 January 2006")
		}
		if t, err := time.Parse("2006-01-02", x); err == nil {
			return t.Format("2 January 2006")
		}
		return x
	case bool:
		if x {
			return "yes"
		}
		return "no"
	case float64:
		return fmt.Sprint(x)
	case []any:
		var parts []string
		for _, it := range x {
			if s := text(it); s != "" {
				parts = append(parts, s)
			}
		}
		return strings.Join(parts, ", ")
	case map[string]any:
		// FHIR CodeableConcept / Coding: text, display, coding[].display.
		for _, k := range []string{"text", "display", "name", "value"} {
			if s, ok := x[k].(string); ok && s != "" {
				return s
			}
		}
		if c, ok := x["coding"]; ok {
			return text(c)
		}
		if c, ok := x["code"].(string); ok {
			return c
		}
		return ""
	}
	return fmt.Sprint(v)
}

// generic renders the remaining keys in order, nested objects with their
// path ("Address › City").
func generic(prefix string, m map[string]any) []claim {
	var out []claim
	for _, k := range slices.Sorted(maps.Keys(m)) {
		label := humanize(k)
		if prefix != "" {
			label = prefix + " › " + label
		}
		v := m[k]
		if sub, ok := v.(map[string]any); ok && text(sub) == "" {
			out = append(out, generic(label, sub)...)
			continue
		}
		if s := text(v); s != "" {
			out = append(out, claim{label, s})
		}
	}
	return out
}

// parseClaims parses a stored credential's token (read from w when the
// listing left it out) and renders its claims and the issuer's name. A
// token the wallet stored always parses; if not, the error is shown
// instead.
func parseClaims(w *wallet.Wallet, c wallet.Credential) ([]claim, string, error) {
	if c.Token == "" && w != nil {
		full, err := w.Credential(c.ID)
		if err != nil {
			return nil, "", err
		}
		c = full
	}
	// A vc+jwt's credentialSubject or an SD-JWT VC's claims (every
	// Disclosure: the holder has them all), read as Inspect reads them.
	o, err := wallet.Inspect(c.Token)
	if err != nil {
		return nil, "", err
	}
	// The issuer's own "name" property is its claim about itself: never
	// shown as who it is (callers name issuers from the directory).
	return claimsOf(c.Types, o.Claims), "", nil
}

// readClaims is [parseClaims] with the parties the details identify
// (a licence's employer) named by the directory ([App.nameParties]): the
// claims every screen shows. Background only: it may ask the registry.
func (a *App) readClaims(ctx context.Context, w *wallet.Wallet, c wallet.Credential) ([]claim, error) {
	claims, _, err := parseClaims(w, c)
	return a.nameParties(ctx, claims), err
}

// who is how a screen names a party: its label from the registry's
// directory when the service gave one, the directory's label for a DID
// nobody named ([unnamed]: never the DID as if it were a name), or the
// text as given (a name a test service or the patient typed). The rule
// itself is registry/directory's (see directory.Identity.Label), the same
// the medid CLI follows.
func who(name, id string) string {
	switch {
	case name != "":
		return name
	case strings.HasPrefix(id, "did:"):
		return unnamed(id)
	}
	return id
}

// whoStarts is [who] at the start of a sentence.
func whoStarts(name, id string) string { return directory.Capitalize(who(name, id)) }

// unnamed names a party the medid directory does not list: "someone not
// in the directory (ref. 2doK3C)" (directory.Unlisted), the reference
// being the end of its identifier, so two unnamed parties on one screen
// are told apart and the patient can match the reference against the
// identifier the provider gave them (every such row has a "Copy their
// identifier" button).
func unnamed(id string) string { return directory.Unlisted(id) }

// isDID reports whether id is a DID (to offer copying it), as opposed to a
// name or a sentence a service put in its place.
func isDID(id string) bool { return strings.HasPrefix(id, "did:") }

// keyFact is the one fact that tells a record apart from others of its
// type on the list: an allergy's substance and severity, a vaccine and its
// date, a blood type; otherwise its first claim. "" when it has none.
func keyFact(claims []claim) string {
	get := func(label string) string {
		for _, c := range claims {
			if c.Label == label {
				return c.Value
			}
		}
		return ""
	}
	if s := get("Substance"); s != "" {
		if sev := get("Severity"); sev != "" {
			return s + ", severity " + sev
		}
		return s
	}
	if v := get("Vaccine"); v != "" {
		if d := get("Date"); d != "" {
			return v + ", " + d
		}
		return v
	}
	if n := get("Name"); n != "" {
		if p := get("Profession"); p != "" {
			return n + ", " + p // a licence: "Sam Nurse, Registered nurse"
		}
	}
	for _, l := range []string{"Blood type", "Medication", "Condition"} {
		if v := get(l); v != "" {
			return l + " " + v
		}
	}
	// The first detail that is not an identifier: a DID is no fact a
	// patient tells records apart by (and never shown as a name).
	for _, c := range claims {
		if !isDID(c.Value) {
			return c.Label + ": " + c.Value
		}
	}
	return ""
}

// recordLine names a record in one line: its kind and its key fact
// ("Allergy intolerance: Penicillin, severity high"), the fact alone
// when it already says the kind ("Blood type O+", not "Blood type: Blood
// type O+").
func recordLine(c wallet.Credential, claims []claim) string {
	line := typeName(c.Types, c.Name)
	switch k := keyFact(claims); {
	case k == "":
	case strings.HasPrefix(strings.ToLower(k), strings.ToLower(line)):
		line = k
	default:
		line += ": " + k
	}
	return line
}

// fieldWords are the words for claim names that are codes for machines
// (FHIR element names and the like).
var fieldWords = map[string]string{
	"code": "what it is", "display": "what it is", "text": "what it is", "coding": "what it is", "system": "what it is",
	"substance": "substance", "allergen": "substance", "allergy": "allergy",
	"criticality": "severity", "severity": "severity",
	"reaction": "reaction", "manifestation": "reaction",
	"clinicalStatus": "whether it is current", "verificationStatus": "whether it is confirmed",
	"recordedDate": "date recorded", "onsetDateTime": "when it started",
	"vaccineCode": "vaccine", "vaccine": "vaccine", "occurrenceDateTime": "date given", "doseNumber": "dose", "lotNumber": "batch number",
	"bloodType": "blood type", "rhesus": "rhesus factor",
	"medicationCodeableConcept": "medication", "medication": "medication", "dosage": "dose",
	"birthDate": "date of birth", "given_name": "first name", "family_name": "family name", "name": "name",
	"id": "identity", "type": "kind of record", "sub": "who it is about",
}

// fieldWord is a claim path in words: the last element that is not an
// index or a wildcard, looked up in fieldWords, else humanised.
func fieldWord(path string) string {
	parts := strings.Split(path, ".")
	for i := len(parts) - 1; i >= 0; i-- {
		p := parts[i]
		if p == "*" || p == "" || strings.Trim(p, "0123456789") == "" || p == "credentialSubject" {
			continue
		}
		if (p == "display" || p == "text" || p == "coding" || p == "code" || p == "system") && i > 0 {
			if w, ok := fieldWords[parts[i-1]]; ok && parts[i-1] != "credentialSubject" {
				return w // code.display: the code's meaning; reaction.text: the reaction
			}
		}
		if w, ok := fieldWords[p]; ok {
			return w
		}
		return strings.ToLower(humanize(p))
	}
	return "details"
}
