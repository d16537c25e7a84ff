package statuslist

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/medid/medid/credentials/jose"
)

// MinEntries is the minimum number of entries of a status list (with one bit
// per entry, 16 KiB): the spec requires it so that a list hides which of many
// credentials a verifier is checking.
const MinEntries = 131072

// MaxDecodedBytes caps the decompressed size of an encoded list accepted by
// [Decode] (16 MiB, that is 134,217,728 entries). GZIP compresses a run of
// zeros about a thousandfold, so without a cap a list of a few kilobytes
// could make a verifier allocate gigabytes.
const MaxDecodedBytes = 16 << 20

// maxEncodedLen bounds the length of an encodedList before any decoding:
// incompressible data of MaxDecodedBytes grows by a little under 0.1% under
// GZIP, plus the base64 expansion of 4/3 and the prefix.
const maxEncodedLen = 1 + (MaxDecodedBytes+MaxDecodedBytes/64)*4/3

// The spec's error conditions. Callers branch on them with errors.Is; the
// errors returned by this package wrap them with what was wrong.
var (
	// ErrListLength is STATUS_LIST_LENGTH_ERROR: the list is shorter than
	// MinEntries.
	ErrListLength = errors.New("status list is shorter than the minimum of 131072 entries (STATUS_LIST_LENGTH_ERROR)")
	// ErrRange is RANGE_ERROR: an index lies outside the list.
	ErrRange = errors.New("status list index out of range (RANGE_ERROR)")
	// ErrMalformed is MALFORMED_VALUE_ERROR: the encoded list is not
	// multibase base64url GZIP data, or a status entry or status list
	// credential lacks a required value.
	ErrMalformed = errors.New("malformed status list value (MALFORMED_VALUE_ERROR)")
	// ErrPurposeMismatch is STATUS_VERIFICATION_ERROR: the status entry's
	// purpose differs from the status list's.
	ErrPurposeMismatch = errors.New("status purpose of the entry does not match the status list (STATUS_VERIFICATION_ERROR)")
	// ErrUnsupportedPurpose is returned by Check for a purpose other than
	// revocation or suspension: refresh and message lists decode, but their
	// bits do not say whether a credential is valid.
	ErrUnsupportedPurpose = errors.New("status purpose not supported for checking (only revocation and suspension are)")
)

// SpecCode returns the Bitstring Status List error name for err
// ("STATUS_LIST_LENGTH_ERROR", "RANGE_ERROR", "MALFORMED_VALUE_ERROR",
// "STATUS_VERIFICATION_ERROR"), or "" if err is none of them.
func SpecCode(err error) string {
	switch {
	case errors.Is(err, ErrListLength):
		return "STATUS_LIST_LENGTH_ERROR"
	case errors.Is(err, ErrRange):
		return "RANGE_ERROR"
	case errors.Is(err, ErrMalformed):
		return "MALFORMED_VALUE_ERROR"
	case errors.Is(err, ErrPurposeMismatch), errors.Is(err, ErrListMismatch):
		return "STATUS_VERIFICATION_ERROR"
	}
	return ""
}

// List is a bitstring of status entries, one bit each. The zero value is an
// empty list of length 0; use [New] or [Decode]. A List is safe for
// concurrent Get calls; Set must not run concurrently with any other method.
type List struct {
	bits []byte
}

// New returns a list of size entries, all clear. size must be at least
// MinEntries (else the error wraps ErrListLength) and a multiple of 8 (the
// encoded form is whole bytes).
func New(size int) (*List, error) {
	if size < MinEntries {
		return nil, fmt.Errorf("%w: asked for %d entries", ErrListLength, size)
	}
	if size%8 != 0 {
		return nil, fmt.Errorf("statuslist: size %d is not a multiple of 8", size)
	}
	if size/8 > MaxDecodedBytes {
		return nil, fmt.Errorf("statuslist: size %d exceeds the maximum of %d entries", size, MaxDecodedBytes*8)
	}
	return &List{bits: make([]byte, size/8)}, nil
}

// Len returns the number of entries.
func (l *List) Len() int { return len(l.bits) * 8 }

// Get reports whether entry i is set. An index outside [0, Len()) gives an
// error wrapping ErrRange.
func (l *List) Get(i int) (bool, error) {
	if uint(i) >= uint(len(l.bits))*8 {
		return false, rangeError(i, len(l.bits)*8)
	}
	return l.bits[i>>3]&(0x80>>(i&7)) != 0, nil
}

// Set sets (v true) or clears (v false) entry i. An index outside [0, Len())
// gives an error wrapping ErrRange.
func (l *List) Set(i int, v bool) error {
	if uint(i) >= uint(len(l.bits))*8 {
		return rangeError(i, len(l.bits)*8)
	}
	if v {
		l.bits[i>>3] |= 0x80 >> (i & 7)
	} else {
		l.bits[i>>3] &^= 0x80 >> (i & 7)
	}
	return nil
}

func rangeError(i, n int) error {
	return fmt.Errorf("%w: index %d, list has %d entries", ErrRange, i, n)
}

// Bytes returns a copy of the raw bitstring.
func (l *List) Bytes() []byte { return bytes.Clone(l.bits) }

// Equal reports whether l and o hold the same entries.
func (l *List) Equal(o *List) bool { return bytes.Equal(l.bits, o.bits) }

// Encode returns the spec's encodedList: the bitstring GZIP-compressed,
// base64url-encoded without padding, with the multibase prefix "u". The
// output is deterministic (no time or name in the GZIP header).
func (l *List) Encode() (string, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return "", fmt.Errorf("statuslist: encode: %w", err)
	}
	if _, err := zw.Write(l.bits); err != nil {
		return "", fmt.Errorf("statuslist: encode: %w", err)
	}
	if err := zw.Close(); err != nil {
		return "", fmt.Errorf("statuslist: encode: %w", err)
	}
	return "u" + jose.Encode(buf.Bytes()), nil
}

// Decode parses an encodedList produced by [List.Encode] or another
// implementation. It requires the multibase prefix "u" (the spec makes the
// value a multibase string), unpadded base64url, and a single valid GZIP
// stream whose content is at most MaxDecodedBytes. Errors wrap ErrMalformed,
// or ErrListLength when the list has fewer than MinEntries entries.
func Decode(s string) (*List, error) {
	if s == "" {
		return nil, fmt.Errorf("%w: empty encodedList", ErrMalformed)
	}
	if s[0] != 'u' {
		return nil, fmt.Errorf("%w: encodedList must be multibase base64url and start with \"u\", got %q", ErrMalformed, s[:1])
	}
	s = s[1:]
	if len(s) > maxEncodedLen {
		return nil, fmt.Errorf("%w: encodedList is %d characters, more than any list of at most %d bytes needs", ErrMalformed, len(s), MaxDecodedBytes)
	}
	// The base64 decoder skips CR and LF; the spec's alphabet has neither,
	// and accepting them would let two strings name the same list.
	if strings.ContainsAny(s, "\r\n") {
		return nil, fmt.Errorf("%w: encodedList contains a line break", ErrMalformed)
	}
	compressed, err := jose.Decode(s)
	if err != nil {
		return nil, fmt.Errorf("%w: encodedList is not unpadded base64url: %v", ErrMalformed, err)
	}
	br := bytes.NewReader(compressed)
	zr, err := gzip.NewReader(br)
	if err != nil {
		return nil, fmt.Errorf("%w: encodedList is not GZIP data: %v", ErrMalformed, err)
	}
	// One member only: a second one (or trailing bytes) is not part of the
	// spec's format.
	zr.Multistream(false)
	// Room for a list of the minimum size from the start (any valid list is
	// at least that long), so the common case decompresses without growing.
	var out bytes.Buffer
	out.Grow(MinEntries/8 + bytes.MinRead)
	if _, err := out.ReadFrom(io.LimitReader(zr, MaxDecodedBytes+1)); err != nil {
		return nil, fmt.Errorf("%w: encodedList GZIP stream is corrupt: %v", ErrMalformed, err)
	}
	bits := out.Bytes()
	if len(bits) > MaxDecodedBytes {
		return nil, fmt.Errorf("%w: encodedList decompresses to more than %d bytes (the limit against GZIP bombs)", ErrMalformed, MaxDecodedBytes)
	}
	// bytes.Reader is an io.ByteReader, so neither gzip nor flate reads
	// ahead: what is left in br follows the GZIP stream.
	if br.Len() != 0 {
		return nil, fmt.Errorf("%w: encodedList has data after the GZIP stream", ErrMalformed)
	}
	if len(bits)*8 < MinEntries {
		return nil, fmt.Errorf("%w: encodedList holds %d entries", ErrListLength, len(bits)*8)
	}
	return &List{bits: bits}, nil
}
