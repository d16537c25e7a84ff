package randid

import (
	"regexp"
	"testing"
)

func TestFormats(t *testing.T) {
	for _, tc := range []struct {
		name string
		gen  func() string
		re   string
	}{
		{"Hex(16)", func() string { return Hex(16) }, `^[0-9a-f]{32}$`},
		{"Hex(6)", func() string { return Hex(6) }, `^[0-9a-f]{12}$`},
		{"UUID", UUID, `^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`},
		{"URN", URN, `^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`},
		{"Digits(6)", func() string { return Digits(6) }, `^[0-9]{6}$`},
		{"Digits(40)", func() string { return Digits(40) }, `^[0-9]{40}$`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			re := regexp.MustCompile(tc.re)
			seen := map[string]bool{}
			for range 100 {
				s := tc.gen()
				if !re.MatchString(s) {
					t.Fatalf("%s = %q, want %s", tc.name, s, tc.re)
				}
				if seen[s] {
					t.Fatalf("%s repeated %q", tc.name, s)
				}
				seen[s] = true
			}
		})
	}
}

// TestDigitsUniform checks that every digit turns up about as often as
// the others (a chi-squared test far from its critical value: a skew of
// the byte-to-digit mapping, such as c%10 without rejection, gives 5.5%
// too many of 0-5 and fails it over this many digits).
func TestDigitsUniform(t *testing.T) {
	const n = 200000
	var count [10]int
	for _, c := range Digits(n) {
		count[c-'0']++
	}
	chi := 0.0
	for _, c := range count {
		d := float64(c) - n/10
		chi += d * d / (n / 10)
	}
	// 9 degrees of freedom: p = 0.0001 at 33.7.
	if chi > 33.7 {
		t.Errorf("digit counts %v: chi-squared %.1f, want < 33.7", count, chi)
	}
}
