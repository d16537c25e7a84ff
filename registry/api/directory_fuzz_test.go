package api

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"image"
	"image/png"
	"testing"

	"github.com/medid/medid/registry/tx"
)

// FuzzCheckLogo checks that the logo parser never panics and accepts only
// images whose hash is the one named.
func FuzzCheckLogo(f *testing.F) {
	var b bytes.Buffer
	_ = png.Encode(&b, image.NewGray(image.Rect(0, 0, 4, 4)))
	f.Add(b.Bytes())
	f.Add([]byte("\x89PNG\r\n\x1a\n"))
	f.Add([]byte{0xff, 0xd8, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		sum := sha256.Sum256(data)
		for _, mt := range tx.LogoMediaTypes {
			logo := &tx.Logo{SHA256: hex.EncodeToString(sum[:]), MediaType: mt}
			if err := CheckLogo(data, logo); err == nil {
				if _, _, err := image.DecodeConfig(bytes.NewReader(data)); err != nil {
					t.Fatalf("accepted a logo that does not decode: %v", err)
				}
			}
			logo.SHA256 = "00" + logo.SHA256[2:]
			if sum[0] != 0 && CheckLogo(data, logo) == nil {
				t.Fatal("accepted an image under another hash")
			}
		}
	})
}
