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
		// unique: 100 draws never repeat. Not for Digits(6): among 10^6
		// codes, 100 draws repeat one about once in 200 runs.
		unique bool
	}{
		{"Hex(16)", func() string { return Hex(16) }, `^[0-9a-f]{32}$`, true},
		{"Hex(6)", func() string { return Hex(6) }, `^[0-9a-f]{12}$`, true},
		{"UUID", UUID, `^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, true},
		{"URN", URN, `^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, true},
		{"Digits(6)", func() string { return Digits(6) }, `^[0-9]{6}$`, false},
		{"Digits(40)", func() string { return Digits(40) }, `^[0-9]{40}$`, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			re := regexp.MustCompile(tc.re)
			seen := map[string]bool{}
			for range 100 {
				s := tc.gen()
				if !re.MatchString(s) {
					t.Fatalf("%s = %q, want %s", tc.name, s, tc.re)
				}
				if tc.unique && seen[s] {
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
