package statuslist

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

// specExample is the encodedList of the example in Bitstring Status List
// v1.0, section 2.1: 131,072 entries, all clear.
const specExample = "uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA"

func mustNew(t testing.TB, n int) *List {
	t.Helper()
	l, err := New(n)
	if err != nil {
		t.Fatalf("New(%d): %v", n, err)
	}
	return l
}

func TestNew(t *testing.T) {
	tests := []struct {
		name    string
		size    int
		wantErr error
	}{
		{"minimum", MinEntries, nil},
		{"larger", MinEntries * 4, nil},
		{"too short", MinEntries - 8, ErrListLength},
		{"zero", 0, ErrListLength},
		{"negative", -8, ErrListLength},
		{"not whole bytes", MinEntries + 3, nil},
		{"too large", (MaxDecodedBytes + 1) * 8, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := New(tt.size)
			switch {
			case tt.size%8 != 0 || tt.size/8 > MaxDecodedBytes:
				if err == nil {
					t.Fatalf("New(%d) = nil error, want one", tt.size)
				}
			case tt.wantErr != nil:
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("New(%d) error = %v, want %v", tt.size, err, tt.wantErr)
				}
			default:
				if err != nil {
					t.Fatalf("New(%d): %v", tt.size, err)
				}
				if got := l.Len(); got != tt.size {
					t.Errorf("Len() = %d, want %d", got, tt.size)
				}
			}
		})
	}
}

func TestBitOrder(t *testing.T) {
	tests := []struct {
		name      string
		index     int
		byteIndex int
		want      byte
	}{
		{"index 0 is MSB of byte 0", 0, 0, 0x80},
		{"index 1", 1, 0, 0x40},
		{"index 7 is LSB of byte 0", 7, 0, 0x01},
		{"index 8 is MSB of byte 1", 8, 1, 0x80},
		{"index 15", 15, 1, 0x01},
		{"last index", MinEntries - 1, MinEntries/8 - 1, 0x01},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := mustNew(t, MinEntries)
			if err := l.Set(tt.index, true); err != nil {
				t.Fatalf("Set(%d): %v", tt.index, err)
			}
			raw := l.Bytes()
			for i, b := range raw {
				want := byte(0)
				if i == tt.byteIndex {
					want = tt.want
				}
				if b != want {
					t.Fatalf("byte %d = %#02x, want %#02x", i, b, want)
				}
			}
			for _, i := range []int{tt.index - 1, tt.index, tt.index + 1} {
				if i < 0 || i >= l.Len() {
					continue
				}
				got, err := l.Get(i)
				if err != nil {
					t.Fatalf("Get(%d): %v", i, err)
				}
				if want := i == tt.index; got != want {
					t.Errorf("Get(%d) = %v, want %v", i, got, want)
				}
			}
			if err := l.Set(tt.index, false); err != nil {
				t.Fatalf("Set(%d, false): %v", tt.index, err)
			}
			if got := l.Bytes(); !bytes.Equal(got, make([]byte, MinEntries/8)) {
				t.Errorf("after clearing, list is not all zero")
			}
		})
	}
}

func TestSetIsIdempotentAndIndependent(t *testing.T) {
	l := mustNew(t, MinEntries)
	set := []int{3, 4, 5, 100, 1000, 65535, 131071}
	for _, i := range set {
		for range 2 {
			if err := l.Set(i, true); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := l.Set(4, false); err != nil {
		t.Fatal(err)
	}
	want := map[int]bool{3: true, 5: true, 100: true, 1000: true, 65535: true, 131071: true}
	for i := range l.Len() {
		got, _ := l.Get(i)
		if got != want[i] {
			t.Fatalf("Get(%d) = %v, want %v", i, got, want[i])
		}
	}
}

func TestRange(t *testing.T) {
	l := mustNew(t, MinEntries)
	for _, i := range []int{-1, MinEntries, MinEntries + 7, 1 << 40, -1 << 40} {
		if _, err := l.Get(i); !errors.Is(err, ErrRange) {
			t.Errorf("Get(%d) error = %v, want ErrRange", i, err)
		}
		if err := l.Set(i, true); !errors.Is(err, ErrRange) {
			t.Errorf("Set(%d) error = %v, want ErrRange", i, err)
		}
	}
	var zero List
	if _, err := zero.Get(0); !errors.Is(err, ErrRange) {
		t.Errorf("zero List Get(0) error = %v, want ErrRange", err)
	}
}

func TestSpecExample(t *testing.T) {
	l, err := Decode(specExample)
	if err != nil {
		t.Fatalf("Decode(spec example): %v", err)
	}
	if got, want := l.Len(), 131072; got != want {
		t.Errorf("Len() = %d, want %d", got, want)
	}
	if !bytes.Equal(l.Bytes(), make([]byte, 16384)) {
		t.Errorf("spec example does not decode to 16384 zero bytes")
	}
	enc, err := l.Encode()
	if err != nil {
		t.Fatal(err)
	}
	l2, err := Decode(enc)
	if err != nil {
		t.Fatalf("Decode(Encode(spec example)): %v", err)
	}
	if !l.Equal(l2) {
		t.Errorf("round trip of the spec example changed the list")
	}
}

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		size int
		set  []int
	}{
		{"empty minimum", MinEntries, nil},
		{"first and last", MinEntries, []int{0, MinEntries - 1}},
		{"scattered", MinEntries * 2, []int{1, 9, 77, 4096, 200000, MinEntries*2 - 8}},
		{"dense", MinEntries, func() []int {
			var s []int
			for i := 0; i < MinEntries; i += 3 {
				s = append(s, i)
			}
			return s
		}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := mustNew(t, tt.size)
			for _, i := range tt.set {
				if err := l.Set(i, true); err != nil {
					t.Fatal(err)
				}
			}
			enc, err := l.Encode()
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(enc, "u") || strings.ContainsAny(enc, "=+/") {
				t.Fatalf("Encode() = %.20q…, want multibase base64url without padding", enc)
			}
			enc2, _ := l.Encode()
			if enc != enc2 {
				t.Errorf("Encode is not deterministic")
			}
			got, err := Decode(enc)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if !got.Equal(l) {
				t.Errorf("Decode(Encode(l)) differs from l")
			}
		})
	}
}

// encodeRaw gzips and base64url-encodes raw with the "u" prefix, bypassing
// List so tests can build invalid lists.
func encodeRaw(t testing.TB, raw []byte) string {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(raw)
	zw.Close()
	return "u" + base64.RawURLEncoding.EncodeToString(buf.Bytes())
}

func TestDecodeErrors(t *testing.T) {
	valid := strings.TrimPrefix(specExample, "u")
	gz, _ := base64.RawURLEncoding.DecodeString(valid)
	tests := []struct {
		name    string
		in      string
		wantErr error
		wantMsg string
	}{
		{"empty", "", ErrMalformed, "empty"},
		{"missing multibase prefix", valid, ErrMalformed, `start with "u"`},
		{"other multibase (base58btc)", "z" + valid, ErrMalformed, `start with "u"`},
		{"padded base64", "u" + base64.URLEncoding.EncodeToString(gz[:len(gz)-1]), ErrMalformed, "base64url"},
		{"stray padding", specExample + "=", ErrMalformed, "base64url"},
		{"standard base64 alphabet", "u" + strings.NewReplacer("-", "+", "_", "/").Replace(valid), ErrMalformed, "base64url"},
		{"line break", "u" + valid[:10] + "\n" + valid[10:], ErrMalformed, "line break"},
		{"not gzip", "u" + base64.RawURLEncoding.EncodeToString([]byte("hello, world")), ErrMalformed, "GZIP"},
		{"truncated gzip", "u" + base64.RawURLEncoding.EncodeToString(gz[:len(gz)-4]), ErrMalformed, "corrupt"},
		{"bad checksum", "u" + base64.RawURLEncoding.EncodeToString(append(bytes.Clone(gz[:len(gz)-8]), 1, 2, 3, 4, 0, 0, 2, 0)), ErrMalformed, "corrupt"},
		{"trailing data", "u" + base64.RawURLEncoding.EncodeToString(append(bytes.Clone(gz), 0)), ErrMalformed, "after the GZIP stream"},
		{"two gzip members", "u" + base64.RawURLEncoding.EncodeToString(append(bytes.Clone(gz), gz...)), ErrMalformed, "after the GZIP stream"},
		{"too short", encodeRaw(t, make([]byte, MinEntries/8-1)), ErrListLength, "131064"},
		{"empty list", encodeRaw(t, nil), ErrListLength, ""},
		{"gzip bomb", encodeRaw(t, make([]byte, MaxDecodedBytes+1)), ErrMalformed, "GZIP bombs"},
		{"too long", "u" + strings.Repeat("A", maxEncodedLen+4), ErrMalformed, "more than any list"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := Decode(tt.in)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Decode error = %v, want %v", err, tt.wantErr)
			}
			if l != nil {
				t.Errorf("Decode returned a list with an error")
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("error %q does not mention %q", err, tt.wantMsg)
			}
		})
	}
}

func TestDecodeMaximum(t *testing.T) {
	raw := make([]byte, MaxDecodedBytes)
	raw[len(raw)-1] = 1
	l, err := Decode(encodeRaw(t, raw))
	if err != nil {
		t.Fatalf("Decode of a list of exactly MaxDecodedBytes: %v", err)
	}
	if got, _ := l.Get(l.Len() - 1); !got {
		t.Errorf("last entry not set")
	}
}

func TestSpecCode(t *testing.T) {
	l := mustNew(t, MinEntries)
	_, errRange := l.Get(-1)
	_, errShort := New(8)
	_, errMal := Decode("x")
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"range", errRange, "RANGE_ERROR"},
		{"length", errShort, "STATUS_LIST_LENGTH_ERROR"},
		{"malformed", errMal, "MALFORMED_VALUE_ERROR"},
		{"purpose", ErrPurposeMismatch, "STATUS_VERIFICATION_ERROR"},
		{"other", errors.New("x"), ""},
		{"nil", nil, ""},
	}
	for _, tt := range tests {
		if got := SpecCode(tt.err); got != tt.want {
			t.Errorf("%s: SpecCode = %q, want %q", tt.name, got, tt.want)
		}
	}
}
