package raster

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"strings"
	"sync"

	"github.com/boombuler/barcode/datamatrix"
	qrcode "github.com/skip2/go-qrcode"
	"golang.org/x/image/font"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"

	"github.com/dockgate/dockgate/encoder/label"
)

// ErrSymbol: a symbol could not be drawn at the size the layout chose.
var ErrSymbol = errors.New("cannot draw symbol")

// Draw renders the whole label as a grayscale image, one pixel per dot,
// black on white. RFID writes are not drawn.
func Draw(l *label.Layout) (*image.Gray, error) {
	img := image.NewGray(image.Rect(0, 0, l.Width, l.Length))
	for i := range img.Pix {
		img.Pix[i] = 0xFF
	}
	for i := range l.Elements {
		e := &l.Elements[i]
		switch e.Kind {
		case label.KindText:
			if err := drawText(img, e); err != nil {
				return nil, err
			}
		case label.KindBox:
			t := e.Thickness
			fill(img, e.X, e.Y, e.W, t)
			fill(img, e.X, e.Y+e.H-t, e.W, t)
			fill(img, e.X, e.Y, t, e.H)
			fill(img, e.X+e.W-t, e.Y, t, e.H)
		case label.KindLine:
			fill(img, e.X, e.Y, e.W, e.H)
		case label.KindRFID:
		default:
			bm, err := Symbol(e)
			if err != nil {
				return nil, err
			}
			blit(img, bm, e.X, e.Y)
		}
	}
	return img, nil
}

// PNG renders the label as a PNG image at the profile's resolution.
func PNG(l *label.Layout, prof *label.Profile) ([]byte, error) {
	if prof != nil && prof.DPI != l.DPI {
		return nil, fmt.Errorf("raster: layout is for %d dpi, profile %s is %d dpi; render the template for this profile", l.DPI, prof.ID, prof.DPI)
	}
	img, err := Draw(l)
	if err != nil {
		return nil, err
	}
	// A thermal printer prints dots, not grey: the preview is 1 bit deep,
	// which also makes it small and quick to encode.
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(&buf, oneBit(img)); err != nil {
		return nil, err
	}
	return withDPI(buf.Bytes(), l.DPI), nil
}

var blackWhite = color.Palette{color.Black, color.White}

// oneBit thresholds a grayscale image into a two-colour paletted one.
func oneBit(g *image.Gray) *image.Paletted {
	p := image.NewPaletted(g.Rect, blackWhite)
	for y := 0; y < g.Rect.Dy(); y++ {
		src := g.Pix[y*g.Stride : y*g.Stride+g.Rect.Dx()]
		dst := p.Pix[y*p.Stride : y*p.Stride+g.Rect.Dx()]
		for x, v := range src {
			if v >= 0x80 {
				dst[x] = 1
			}
		}
	}
	return p
}

// withDPI inserts a pHYs chunk after IHDR so viewers show the label at its
// physical size.
func withDPI(p []byte, dpi int) []byte {
	const ihdrEnd = 8 + 4 + 4 + 13 + 4 // signature, IHDR length, type, data, CRC
	if len(p) < ihdrEnd || dpi <= 0 {
		return p
	}
	ppm := uint32(float64(dpi)/0.0254 + 0.5)
	chunk := make([]byte, 4+4+9+4)
	binary.BigEndian.PutUint32(chunk[0:], 9)
	copy(chunk[4:], "pHYs")
	binary.BigEndian.PutUint32(chunk[8:], ppm)
	binary.BigEndian.PutUint32(chunk[12:], ppm)
	chunk[16] = 1 // unit: metre
	binary.BigEndian.PutUint32(chunk[17:], crc32.ChecksumIEEE(chunk[4:17]))
	out := make([]byte, 0, len(p)+len(chunk))
	out = append(out, p[:ihdrEnd]...)
	out = append(out, chunk...)
	return append(out, p[ihdrEnd:]...)
}

// Symbol draws one barcode or image element as a W×H bitmap.
func Symbol(e *label.Element) (*label.Bitmap, error) {
	switch e.Kind {
	case label.KindCode128, label.KindGS1128:
		bm := &label.Bitmap{W: e.W, H: e.H, Pix: make([]bool, e.W*e.H)}
		x := 0
		for i, run := range e.Code128.Bars() {
			n := run * e.Module
			if i%2 == 0 {
				for dx := 0; dx < n && x+dx < e.W; dx++ {
					bm.Pix[x+dx] = true
				}
			}
			x += n
		}
		if x != e.W {
			return nil, fmt.Errorf("%w %q: bars are %d dots wide, layout has %d", ErrSymbol, e.Name, x, e.W)
		}
		for y := 1; y < e.H; y++ {
			copy(bm.Pix[y*e.W:(y+1)*e.W], bm.Pix[:e.W])
		}
		return bm, nil
	case label.KindQR:
		level := map[byte]qrcode.RecoveryLevel{'L': qrcode.Low, 'M': qrcode.Medium, 'Q': qrcode.High, 'H': qrcode.Highest}[e.QRLevel]
		q, err := qrcode.NewWithForcedVersion(e.Data, e.QRVersion, level)
		if err != nil {
			return nil, fmt.Errorf("%w %q: %v", ErrSymbol, e.Name, err)
		}
		q.DisableBorder = true
		return scale(e, q.Bitmap(), func(m [][]bool, x, y int) bool { return m[y][x] }, len(q.Bitmap()))
	case label.KindDataMatrix:
		content := e.Data
		if e.GS1 {
			content = string([]byte{datamatrix.FNC1}) + strings.ReplaceAll(e.Data, string(label.FNC1), string([]byte{datamatrix.FNC1}))
		}
		code, err := datamatrix.Encode(content)
		if err != nil {
			return nil, fmt.Errorf("%w %q: %v", ErrSymbol, e.Name, err)
		}
		n := code.Bounds().Dx()
		if n != e.Modules || code.Bounds().Dy() != e.Rows {
			return nil, fmt.Errorf("%w %q: DataMatrix came out %dx%d, layout has %dx%d", ErrSymbol, e.Name, n, code.Bounds().Dy(), e.Modules, e.Rows)
		}
		return scale(e, nil, func(_ [][]bool, x, y int) bool {
			r, _, _, _ := code.At(x, y).RGBA()
			return r < 0x8000
		}, n)
	case label.KindImage:
		return e.Bitmap, nil
	}
	return nil, fmt.Errorf("%w %q: kind %s is not a symbol", ErrSymbol, e.Name, e.Kind)
}

func scale(e *label.Element, m [][]bool, at func([][]bool, int, int) bool, n int) (*label.Bitmap, error) {
	if n*e.Module != e.W {
		return nil, fmt.Errorf("%w %q: %d modules at %d dots is not the layout's %d dots", ErrSymbol, e.Name, n, e.Module, e.W)
	}
	bm := &label.Bitmap{W: e.W, H: e.H, Pix: make([]bool, e.W*e.H)}
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			if !at(m, x, y) {
				continue
			}
			for dy := 0; dy < e.Module; dy++ {
				row := (y*e.Module + dy) * e.W
				for dx := 0; dx < e.Module; dx++ {
					bm.Pix[row+x*e.Module+dx] = true
				}
			}
		}
	}
	return bm, nil
}

func fill(img *image.Gray, x, y, w, h int) {
	r := image.Rect(x, y, x+w, y+h).Intersect(img.Rect)
	for yy := r.Min.Y; yy < r.Max.Y; yy++ {
		row := img.Pix[yy*img.Stride+r.Min.X : yy*img.Stride+r.Max.X]
		for i := range row {
			row[i] = 0
		}
	}
}

func blit(img *image.Gray, bm *label.Bitmap, x0, y0 int) {
	for y := 0; y < bm.H; y++ {
		yy := y0 + y
		if yy < 0 || yy >= img.Rect.Dy() {
			continue
		}
		for x := 0; x < bm.W; x++ {
			xx := x0 + x
			if xx >= 0 && xx < img.Rect.Dx() && bm.Pix[y*bm.W+x] {
				img.Pix[yy*img.Stride+xx] = 0
			}
		}
	}
}

var (
	faceMu sync.Mutex
	faces  = map[int]font.Face{}
)

func face(h int) (font.Face, error) {
	faceMu.Lock()
	defer faceMu.Unlock()
	if f, ok := faces[h]; ok {
		return f, nil
	}
	tf, err := label.TextFont()
	if err != nil {
		return nil, err
	}
	f, err := opentype.NewFace(tf, &opentype.FaceOptions{Size: float64(h), DPI: 72, Hinting: font.HintingNone})
	if err != nil {
		return nil, err
	}
	faces[h] = f
	return f, nil
}

func drawText(img *image.Gray, e *label.Element) error {
	f, err := face(e.FontHeight)
	if err != nil {
		return err
	}
	faceMu.Lock()
	defer faceMu.Unlock()
	asc := f.Metrics().Ascent.Ceil()
	// Fonts put the ascent a little above the cap height; centre the
	// glyphs in the font height as the printer's cell does.
	top := (e.FontHeight - asc) / 2
	d := font.Drawer{Dst: img, Src: image.NewUniform(color.Black), Face: f}
	for i, line := range e.Lines {
		x := e.X
		tw := label.TextWidth(line, e.FontHeight)
		switch e.Align {
		case label.AlignCenter:
			x += (e.W - tw) / 2
		case label.AlignRight:
			x += e.W - tw
		}
		d.Dot = fixed.P(x, e.Y+i*e.LineHeight+top+asc)
		d.DrawString(line)
	}
	return nil
}
