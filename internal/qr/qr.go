// Package qr encodes text as QR codes (a PNG file, or block characters for a
// terminal) and decodes the text of a QR code from an image file. It carries
// the OpenID4VCI credential offers, OpenID4VP requests and the offline
// emergency card between devices.
//
// Encoding uses github.com/skip2/go-qrcode, decoding
// github.com/makiuchi-d/gozxing; both are pure Go.
package qr

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	_ "image/gif"  // decode GIF images too
	_ "image/jpeg" // decode JPEG photos of a code
	_ "image/png"  // decode PNG
	"io"
	"os"
	"strings"

	"github.com/makiuchi-d/gozxing"
	zxqr "github.com/makiuchi-d/gozxing/qrcode"
	qrcode "github.com/skip2/go-qrcode"
)

// MaxBytes is the most bytes a QR code can carry: version 40, error
// correction level L, byte mode.
const MaxBytes = 2953

// ErrTooLarge is returned when the text does not fit in one QR code.
var ErrTooLarge = errors.New("too large for a QR code")

// ErrNoCode is returned when an image holds no readable QR code.
var ErrNoCode = errors.New("no QR code found in the image")

// maxImageBytes bounds the image files Decode reads.
const maxImageBytes = 32 << 20

// level picks the strongest error correction the text fits with: medium
// for short texts (offers, requests), low for long ones (the emergency card).
func level(n int) qrcode.RecoveryLevel {
	if n <= 2331 { // version 40 at level M (bytes; more alphanumeric characters)
		return qrcode.Medium
	}
	return qrcode.Low
}

func encode(text string) (*qrcode.QRCode, error) {
	if !Fits(text) {
		return nil, fmt.Errorf("%w: %d bytes, at most %d fit (%d in a compacted text)", ErrTooLarge, len(text), MaxBytes, MaxAlphanumeric)
	}
	q, err := qrcode.New(text, level(len(text)))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrTooLarge, err)
	}
	return q, nil
}

// PNG returns a PNG image of a QR code for text, with modules of at least
// 4 pixels so that phone cameras and Decode read it reliably. Errors:
// ErrTooLarge.
func PNG(text string) ([]byte, error) {
	q, err := encode(text)
	if err != nil {
		return nil, err
	}
	modules := len(q.Bitmap())
	return q.PNG(modules * 4)
}

// WritePNG writes PNG(text) to w.
func WritePNG(w io.Writer, text string) error {
	b, err := PNG(text)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// Terminal returns the QR code for text drawn with Unicode half blocks, two
// rows of modules per line, dark on light, with a quiet zone. Errors:
// ErrTooLarge.
func Terminal(text string) (string, error) {
	q, err := encode(text)
	if err != nil {
		return "", err
	}
	bm := q.Bitmap() // includes the quiet zone; true = dark
	var b strings.Builder
	for y := 0; y < len(bm); y += 2 {
		for x := range bm[y] {
			top := bm[y][x]
			bottom := y+1 < len(bm) && bm[y+1][x]
			switch {
			case top && bottom:
				b.WriteRune(' ')
			case top:
				b.WriteRune('▄')
			case bottom:
				b.WriteRune('▀')
			default:
				b.WriteRune('█')
			}
		}
		b.WriteByte('\n')
	}
	return b.String(), nil
}

// Decode reads the text of the QR code in an image (PNG, JPEG or GIF).
// Errors: ErrNoCode when no code can be read; image format errors.
func Decode(r io.Reader) (string, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxImageBytes+1))
	if err != nil {
		return "", err
	}
	if len(data) > maxImageBytes {
		return "", fmt.Errorf("image larger than %d bytes", maxImageBytes)
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return "", fmt.Errorf("not an image: %w", err)
	}
	// Refuse decompression bombs before allocating the pixels.
	if cfg.Width*cfg.Height > 64<<20 || cfg.Width <= 0 || cfg.Height <= 0 {
		return "", fmt.Errorf("image of %dx%d pixels is too large", cfg.Width, cfg.Height)
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return "", fmt.Errorf("not an image: %w", err)
	}
	return decodeImage(img)
}

func decodeImage(img image.Image) (text string, err error) {
	defer func() {
		// gozxing indexes slices from values read out of the image; do
		// not let a crafted image crash the caller.
		if r := recover(); r != nil {
			text, err = "", fmt.Errorf("%w (decoder failed: %v)", ErrNoCode, r)
		}
	}()
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrNoCode, err)
	}
	hints := map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true}
	res, err := zxqr.NewQRCodeReader().Decode(bmp, hints)
	if err != nil {
		// The finder-pattern detector misjudges some large generated
		// codes; an image that is only the code (as ours are) can be
		// read directly.
		pure := map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_PURE_BARCODE: true}
		if res2, err2 := zxqr.NewQRCodeReader().Decode(bmp, pure); err2 == nil {
			return res2.GetText(), nil
		}
		return "", fmt.Errorf("%w: %v", ErrNoCode, err)
	}
	return res.GetText(), nil
}

// DecodeFile reads the text of the QR code in the image file at path.
func DecodeFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	s, err := Decode(f)
	if err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}
