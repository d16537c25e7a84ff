// Package randid makes the random identifiers medid uses: transaction and
// request nonces, OAuth codes and tokens, record and trail entry ids,
// urn:uuid credential ids and one-time digit codes. All of them come from
// crypto/rand, so they are unguessable as well as unique.
//
// None of the functions returns an error: since Go 1.24 crypto/rand.Read
// never fails (where the operating system's generator could fail, the
// program is stopped instead of being handed predictable bytes). They
// check the error anyway and panic, so a future change there cannot turn
// into an all-zero nonce.
package randid

import (
	"crypto/rand"
	"encoding/hex"
)

// Read fills b with random bytes.
func Read(b []byte) {
	if _, err := rand.Read(b); err != nil {
		panic("randid: crypto/rand failed: " + err.Error())
	}
}

// Hex returns n random bytes as 2n lower-case hex digits. Hex(16), 128
// bits, is the default for a nonce, code or token.
func Hex(n int) string {
	b := make([]byte, n)
	Read(b)
	return hex.EncodeToString(b)
}

// UUID returns a random (version 4) UUID, RFC 9562 §5.4, in its lower-case
// 8-4-4-4-12 form.
func UUID() string {
	var b [16]byte
	Read(b[:])
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // variant 10
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	hex.Encode(out[9:13], b[4:6])
	hex.Encode(out[14:18], b[6:8])
	hex.Encode(out[19:23], b[8:10])
	hex.Encode(out[24:], b[10:])
	out[8], out[13], out[18], out[23] = '-', '-', '-', '-'
	return string(out[:])
}

// URN returns "urn:uuid:" and a fresh [UUID]: the id of a credential,
// presentation or consent grant.
func URN() string { return "urn:uuid:" + UUID() }

// Digits returns n uniformly random decimal digits (a one-time code a
// person types).
func Digits(n int) string {
	out := make([]byte, 0, n)
	var buf [32]byte
	for len(out) < n {
		Read(buf[:])
		for _, c := range buf {
			// 250 is the largest multiple of 10 below 256: rejecting
			// bytes from 250 up keeps every digit equally likely.
			if c < 250 && len(out) < n {
				out = append(out, '0'+c%10)
			}
		}
	}
	return string(out)
}
