package tx

import (
	"strings"
	"unicode"

	"github.com/mtibben/confusables"
	"golang.org/x/text/unicode/norm"
)

// foldRune maps every letter of a simple case-folding orbit (A, a; K, k,
// the Kelvin sign; Ꮐ, ꮐ) to one member: the lower case of the orbit's
// smallest rune, so folding twice changes nothing.
func foldRune(r rune) rune {
	m := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		if unicode.IsLetter(f) { // not U+0345, the combining iota in ι's orbit
			m = min(m, f)
		}
	}
	return unicode.ToLower(m)
}

// FoldName returns the form of a name that search and comparison use:
// compatibility-normalised (NFKC), case-folded, without diacritics
// (Mary = MARY = Máry), with apostrophes dropped ("Mary's" = "Marys"),
// other punctuation turned into spaces, and words separated by one space.
// It is a pure function: the ledger's duplicate-name rule depends on it.
func FoldName(s string) string {
	// Invalid UTF-8 separates words, as any non-letter does; replaced
	// first, because the normalisers leave the text after an invalid byte
	// undecomposed in places (a diacritic then survived one fold and not
	// the next: FuzzNames). Names in transactions are valid UTF-8 (the
	// decoder refuses anything else), so no ledger verdict changes.
	s = norm.NFKC.String(strings.ToValidUTF8(s, " "))
	var b strings.Builder
	space := false
	for _, r := range norm.NFD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
			// a diacritic: dropped
		case r == '\'' || r == '’' || r == 'ʼ':
			// an apostrophe: joins ("mary's" -> "marys")
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			if r == 'ß' || r == 'ẞ' {
				b.WriteString("ss")
			} else {
				b.WriteRune(foldRune(r))
			}
		default:
			space = true
		}
	}
	return norm.NFC.String(b.String())
}

// NameWords returns the words of FoldName(s), for prefix search.
func NameWords(s string) []string {
	f := FoldName(s)
	if f == "" {
		return nil
	}
	return strings.Split(f, " ")
}

// NameSkeleton returns the key under which two names count as the same
// for the directory's duplicate rule: the Unicode TR39 confusable skeleton
// of the folded name (so "St Mary's", "ST. MARY'S", "St Mаry's" with a
// Cyrillic а, and "St Maryʼs" all have one skeleton), keeping letters and
// digits only. It uses the confusables table of Unicode 13 (package
// github.com/mtibben/confusables, pinned), so it is the same on every node.
func NameSkeleton(s string) string {
	sk := confusables.Skeleton(FoldName(s))
	var b strings.Builder
	for _, r := range sk {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}
