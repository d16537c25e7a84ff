package tokenstatus

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"io"
	"strings"

	"github.com/medid/medid/credentials/jose"
)

// Status values the specification registers. Values 0x04 to 0xFF are for
// applications; medid uses only these three.
const (
	Valid     uint8 = 0x00
	Invalid   uint8 = 0x01 // revoked for good
	Suspended uint8 = 0x02 // needs bits >= 2
)

// MinEntries is the smallest list medid makes: 131,072 entries, as for
// Bitstring Status List, so that one list hides each credential among
// many (herd privacy).
const MinEntries = 131072

// MaxDecodedBytes bounds the decompressed byte array [Decode] accepts: 16
// MiB, 16 million entries of 8 bits or 128 million of 1 bit.
const MaxDecodedBytes = 16 << 20

// List is a Token Status List byte array. The zero value is not usable;
// make one with [New] or [Decode]. A List is not safe for concurrent
// writes; concurrent Gets on a List nobody writes are safe.
type List struct {
	bits int
	n    int
	data []byte
}

// validBits reports whether bits is 1, 2, 4 or 8.
func validBits(bits int) bool { return bits == 1 || bits == 2 || bits == 4 || bits == 8 }

// New returns a list of size entries of bits bits each, all [Valid]. size
// must be positive and bits 1, 2, 4 or 8.
func New(size, bits int) (*List, error) {
	if !validBits(bits) {
		return nil, fmt.Errorf("%w: bits must be 1, 2, 4 or 8, got %d", ErrMalformed, bits)
	}
	if size <= 0 || size > MaxDecodedBytes*8/bits {
		return nil, fmt.Errorf("%w: a list of %d entries of %d bits is not allowed (1 to %d)", ErrRange, size, bits, MaxDecodedBytes*8/bits)
	}
	return &List{bits: bits, n: size, data: make([]byte, (size*bits+7)/8)}, nil
}

// Len returns the number of entries.
func (l *List) Len() int { return l.n }

// Bits returns the number of bits per entry.
func (l *List) Bits() int { return l.bits }

// Get returns the status of entry i, or [ErrRange] when i is outside the list.
func (l *List) Get(i int) (uint8, error) {
	if uint(i) >= uint(l.n) {
		return 0, fmt.Errorf("%w: index %d, the list has %d entries", ErrRange, i, l.n)
	}
	bit := i * l.bits
	return l.data[bit>>3] >> (bit & 7) & (1<<l.bits - 1), nil
}

// Set sets the status of entry i to v. An index outside the list or a value
// that does not fit in Bits is [ErrRange].
func (l *List) Set(i int, v uint8) error {
	if uint(i) >= uint(l.n) {
		return fmt.Errorf("%w: index %d, the list has %d entries", ErrRange, i, l.n)
	}
	mask := uint8(1<<l.bits - 1)
	if v > mask {
		return fmt.Errorf("%w: status %#x does not fit in %d bits", ErrRange, v, l.bits)
	}
	bit := i * l.bits
	sh := bit & 7
	l.data[bit>>3] = l.data[bit>>3]&^(mask<<sh) | v<<sh
	return nil
}

// Bytes returns a copy of the uncompressed byte array.
func (l *List) Bytes() []byte { return bytes.Clone(l.data) }

// Encode returns the "lst" value: the byte array compressed with ZLIB at
// the best compression level, base64url without padding.
func (l *List) Encode() (string, error) {
	var buf bytes.Buffer
	w, err := zlib.NewWriterLevel(&buf, zlib.BestCompression)
	if err != nil {
		return "", err
	}
	if _, err := w.Write(l.data); err != nil {
		return "", fmt.Errorf("compress status list: %w", err)
	}
	if err := w.Close(); err != nil {
		return "", fmt.Errorf("compress status list: %w", err)
	}
	return jose.Encode(buf.Bytes()), nil
}

// Decode reads an "lst" value with bits bits per entry. It refuses
// anything but base64url without padding of a ZLIB stream (checksum
// included) with nothing after it, a decompressed array larger than
// MaxDecodedBytes or empty. Every entry the array holds counts: Len is
// 8/bits per byte. Errors wrap [ErrMalformed].
func Decode(bits int, lst string) (*List, error) {
	if !validBits(bits) {
		return nil, fmt.Errorf("%w: bits must be 1, 2, 4 or 8, got %v", ErrMalformed, bits)
	}
	if strings.ContainsAny(lst, "\r\n") {
		return nil, fmt.Errorf("%w: lst contains a line break", ErrMalformed)
	}
	comp, err := jose.Decode(lst)
	if err != nil {
		return nil, fmt.Errorf("%w: lst is not base64url without padding", ErrMalformed)
	}
	br := bytes.NewReader(comp) // an io.ByteReader: flate reads no byte past the stream
	zr, err := zlib.NewReader(br)
	if err != nil {
		return nil, fmt.Errorf("%w: lst is not ZLIB data: %v", ErrMalformed, err)
	}
	data, err := io.ReadAll(io.LimitReader(zr, MaxDecodedBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%w: lst does not decompress: %v", ErrMalformed, err)
	}
	if len(data) > MaxDecodedBytes {
		return nil, fmt.Errorf("%w: lst decompresses to more than %d bytes", ErrMalformed, MaxDecodedBytes)
	}
	if len(data) == 0 {
		return nil, fmt.Errorf("%w: lst holds no entry", ErrMalformed)
	}
	// ReadAll stopped at the end of the ZLIB stream (checksum verified);
	// bytes after it are refused: another decoder could read them.
	if err := zr.Close(); err != nil {
		return nil, fmt.Errorf("%w: lst: %v", ErrMalformed, err)
	}
	if br.Len() != 0 {
		return nil, fmt.Errorf("%w: lst has %d bytes after the ZLIB stream", ErrMalformed, br.Len())
	}
	return &List{bits: bits, n: len(data) * 8 / bits, data: data}, nil
}
