package handlers

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"image"
	"image/color"
	"image/png"

	qrcode "github.com/yeqown/go-qrcode/v2"
)

// qrModulePixels and qrQuietZone size the QR code image: the quiet zone of
// four modules that scanners need around the code.
const (
	qrModulePixels = 4
	qrQuietZone    = 4
)

// qrDataURL draws text as a QR code, a PNG inline as a data: URL (the CSP
// allows img-src data:), so the secret never sits in a cacheable response.
func qrDataURL(text string) (string, error) {
	code, err := qrcode.NewWith(text, qrcode.WithErrorCorrectionLevel(qrcode.ErrorCorrectionMedium))
	if err != nil {
		return "", fmt.Errorf("qr code: %w", err)
	}
	w := &pngWriter{}
	if err := code.Save(w); err != nil {
		return "", fmt.Errorf("qr code: %w", err)
	}
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(w.png.Bytes()), nil
}

// pngWriter draws a QR matrix as a black-on-white PNG, one square a module.
type pngWriter struct {
	png bytes.Buffer
}

func (w *pngWriter) Write(mat qrcode.Matrix) error {
	bitmap := mat.Bitmap()
	size := (len(bitmap) + 2*qrQuietZone) * qrModulePixels
	img := image.NewPaletted(image.Rect(0, 0, size, size), color.Palette{color.White, color.Black})
	for y, row := range bitmap {
		for x, dark := range row {
			if !dark {
				continue
			}
			for dy := range qrModulePixels {
				for dx := range qrModulePixels {
					img.SetColorIndex((x+qrQuietZone)*qrModulePixels+dx, (y+qrQuietZone)*qrModulePixels+dy, 1)
				}
			}
		}
	}
	return png.Encode(&w.png, img)
}

func (w *pngWriter) Close() error { return nil }
