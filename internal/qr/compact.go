package qr

import (
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"io"
	"strings"
)

// CompactPrefix starts a compacted text (see Compact). Every character of a
// compacted text is in the QR alphanumeric set, which packs 5.5 bits per
// character instead of 8.
const CompactPrefix = "MEDID1:"

// maxExpanded bounds the text Expand inflates (a compression bomb guard).
const maxExpanded = 64 << 10

// ErrCompact is returned for a malformed compacted text.
var ErrCompact = errors.New("malformed compacted QR text")

// Compact returns CompactPrefix + Base45(DEFLATE(text)) (RFC 9285), so
// that long JWTs, whose nested base64url compresses to about two thirds,
// fit in one QR code in alphanumeric mode: about 2,860 bytes of compressed
// data, i.e. 4,000 and more bytes of JWT, instead of 2,953.
func Compact(text string) string {
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, flate.BestCompression)
	w.Write([]byte(text))
	w.Close()
	return CompactPrefix + base45Encode(buf.Bytes())
}

// Expand reverses Compact. A text without CompactPrefix is returned as it
// is. Errors wrap ErrCompact.
func Expand(s string) (string, error) {
	rest, ok := strings.CutPrefix(s, CompactPrefix)
	if !ok {
		return s, nil
	}
	raw, err := base45Decode(rest)
	if err != nil {
		return "", err
	}
	r := flate.NewReader(bytes.NewReader(raw))
	defer r.Close()
	out, err := io.ReadAll(io.LimitReader(r, maxExpanded+1))
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrCompact, err)
	}
	if len(out) > maxExpanded {
		return "", fmt.Errorf("%w: expands beyond %d bytes", ErrCompact, maxExpanded)
	}
	return string(out), nil
}

// Fits reports whether text fits in one QR code (alphanumeric mode for
// compacted texts, byte mode otherwise).
func Fits(text string) bool {
	if strings.HasPrefix(text, CompactPrefix) {
		return len(text) <= MaxAlphanumeric
	}
	return len(text) <= MaxBytes
}

// MaxAlphanumeric is the most alphanumeric characters a QR code holds
// (version 40, level L).
const MaxAlphanumeric = 4296

const base45Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"

func base45Encode(b []byte) string {
	var s strings.Builder
	for i := 0; i+1 < len(b); i += 2 {
		n := int(b[i])*256 + int(b[i+1])
		s.WriteByte(base45Alphabet[n%45])
		s.WriteByte(base45Alphabet[(n/45)%45])
		s.WriteByte(base45Alphabet[n/2025])
	}
	if len(b)%2 == 1 {
		n := int(b[len(b)-1])
		s.WriteByte(base45Alphabet[n%45])
		s.WriteByte(base45Alphabet[n/45])
	}
	return s.String()
}

func base45Decode(s string) ([]byte, error) {
	val := func(c byte) (int, error) {
		i := strings.IndexByte(base45Alphabet, c)
		if i < 0 {
			return 0, fmt.Errorf("%w: %q is not a Base45 character", ErrCompact, c)
		}
		return i, nil
	}
	if len(s)%3 == 1 {
		return nil, fmt.Errorf("%w: Base45 length %d", ErrCompact, len(s))
	}
	out := make([]byte, 0, len(s)*2/3)
	for i := 0; i < len(s); i += 3 {
		chunk := s[i:min(i+3, len(s))]
		n := 0
		for j := len(chunk) - 1; j >= 0; j-- {
			v, err := val(chunk[j])
			if err != nil {
				return nil, err
			}
			n = n*45 + v
		}
		if len(chunk) == 3 {
			if n > 0xffff {
				return nil, fmt.Errorf("%w: Base45 group out of range", ErrCompact)
			}
			out = append(out, byte(n>>8), byte(n))
		} else {
			if n > 0xff {
				return nil, fmt.Errorf("%w: Base45 group out of range", ErrCompact)
			}
			out = append(out, byte(n))
		}
	}
	return out, nil
}
