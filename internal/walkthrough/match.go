package walkthrough

import (
	"regexp"
	"strings"
)

// Elision is the expected-output line that stands for lines the README
// leaves out; inside a line, "..." stands for any text.
const Elision = "..."

// normalize maps a line of output to the form expected and actual output
// are compared in, so that what changes from run to run does not count:
// every run of letters and digits that contains a digit or is at least 16
// characters long (identifiers, hashes, keys, numbers, times) becomes "#",
// and so do a whole UUID (whose groups may be letters only: "defb") and
// the tail of an abbreviated identifier ("z6MkfaJb1c…UQtNRb"); runs of
// spaces become one (column widths follow the values).
func normalize(s string) string {
	s = uuidRE.ReplaceAllString(s, "0")
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for i := 0; i < len(s); {
		c := s[i]
		if c == ' ' || c == '\t' {
			space = true
			i++
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		if !isAlnum(c) {
			b.WriteByte(c)
			i++
			continue
		}
		j, digit := i, false
		for j < len(s) && isAlnum(s[j]) {
			digit = digit || (s[j] >= '0' && s[j] <= '9')
			j++
		}
		if digit || j-i >= 16 || strings.HasSuffix(b.String(), "#"+abbrev) {
			b.WriteByte('#')
		} else {
			b.WriteString(s[i:j])
		}
		i = j
	}
	return b.String()
}

// uuidRE matches a UUID (RFC 9562 text form).
var uuidRE = regexp.MustCompile(`[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}`)

// abbrev joins the head and tail of an identifier shortened for display.
const abbrev = "…"

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// pattern is one expected line, ready to match normalized actual lines.
type pattern struct {
	text string // the line as the README shows it (after rewriting)
	re   *regexp.Regexp
}

// compile turns expected lines into patterns: blank lines and elisions are
// dropped (they constrain nothing), "..." inside a line matches any text,
// and the rest must equal a whole actual line once both are normalized.
func compile(expected []string) []pattern {
	var out []pattern
	for _, l := range expected {
		t := strings.TrimSpace(l)
		if t == "" || t == Elision {
			continue
		}
		parts := strings.Split(t, Elision)
		for i, p := range parts {
			parts[i] = regexp.QuoteMeta(strings.TrimSpace(normalize(p)))
		}
		// An elision swallows the spaces around it, so "a ... b" matches
		// "a b" as well as "a x y b".
		out = append(out, pattern{text: l, re: regexp.MustCompile(`^` + strings.Join(parts, ` ?.*? ?`) + `$`)})
	}
	return out
}

// Mismatch says which expected line was not found in the output.
type Mismatch struct {
	// Index is the position among the expected lines given to match.
	Index int
	// Want is that line as written.
	Want string
}

// match reports whether every expected line occurs in actual, in order
// (other lines may come between and around them: the README may shorten
// output). It returns the first expected line not found, or nil.
func match(expected []string, actual string) *Mismatch {
	pats := compile(expected)
	lines := strings.Split(strings.ReplaceAll(actual, "\r\n", "\n"), "\n")
	norm := make([]string, len(lines))
	for i, l := range lines {
		norm[i] = strings.TrimSpace(normalize(l))
	}
	// Taking the earliest match of each pattern leaves the most lines for
	// the next ones, so this finds a match whenever one exists.
	j := 0
	for _, p := range pats {
		found := false
		for ; j < len(norm); j++ {
			if p.re.MatchString(norm[j]) {
				found = true
				j++
				break
			}
		}
		if !found {
			idx := 0
			for k, l := range expected {
				if l == p.text {
					idx = k
					break
				}
			}
			return &Mismatch{Index: idx, Want: p.text}
		}
	}
	return nil
}
