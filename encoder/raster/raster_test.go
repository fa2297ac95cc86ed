package raster

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"strings"
	"testing"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/datamatrix"
	"github.com/makiuchi-d/gozxing/oned"
	"github.com/makiuchi-d/gozxing/qrcode"

	"github.com/dockgate/dockgate/encoder/gs1"
	"github.com/dockgate/dockgate/encoder/label"
	firmwareprofiles "github.com/dockgate/dockgate/firmware-profiles"
)

var record = map[string]string{
	"gtin": "09520123456788", "lot": "LOT-2026-0042", "expiry": "2027-03-31", "production": "2026-11-02",
	"qty": "24", "sscc": "095201230000000011", "product": "Organic Oat Drink 1 L", "description": "Barista edition",
	"supplier": "Nordic Oats AB", "po": "PO-778812",
}

// intended is what each symbol of the built-ins must carry for record.
var intended = map[string]string{
	"carton/gs1_item":      "(01)09520123456788(17)270331(10)LOT-2026-0042",
	"carton/gs1_sscc":      "(00)095201230000000011",
	"carton/digital_link":  "(01)09520123456788(10)LOT-2026-0042(17)270331",
	"item-qr/digital_link": "(01)09520123456788(10)LOT-2026-0042(17)270331",
	"item/gs1_datamatrix":  "(01)09520123456788(17)270331(11)261102(10)LOT-2026-0042",
	"pallet/gs1_content":   "(02)09520123456788(37)24",
	"pallet/gs1_lot":       "(17)270331(11)261102(10)LOT-2026-0042",
	"pallet/gs1_sscc":      "(00)095201230000000011",
}

// splitAIs reads GS1 AI data with GS separators without applying the
// message rules (a logistics label spreads one message over symbols).
func splitAIs(t *testing.T, s string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for s != "" {
		var ai *gs1.AI
		for n := 2; n <= 4 && ai == nil; n++ {
			if len(s) >= n {
				ai, _ = gs1.Lookup(s[:n])
			}
		}
		if ai == nil {
			t.Fatalf("no AI at %q", s)
		}
		s = s[len(ai.Code):]
		var v string
		if ai.Predefined && ai.FixedLen() > 0 {
			v, s = s[:ai.FixedLen()], s[ai.FixedLen():]
		} else if i := strings.IndexByte(s, 0x1D); i >= 0 {
			v, s = s[:i], s[i+1:]
		} else {
			v, s = s, ""
		}
		if _, dup := out[ai.Code]; dup {
			t.Fatalf("AI %s twice", ai.Code)
		}
		out[ai.Code] = v
	}
	return out
}

func wantAIs(t *testing.T, key string) map[string]string {
	t.Helper()
	hri := intended[key]
	out := map[string]string{}
	for _, part := range strings.Split(hri, "(")[1:] {
		ai, v, ok := strings.Cut(part, ")")
		if !ok {
			t.Fatalf("%s: bad HRI %q", key, hri)
		}
		if err := gs1.ValidateValue(ai, v); err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		out[ai] = v
	}
	return out
}

func sameAIs(t *testing.T, what string, got, want map[string]string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: decoded %v, want %v", what, got, want)
		return
	}
	for ai, v := range want {
		if got[ai] != v {
			t.Errorf("%s: AI (%s) decoded %q, want %q", what, ai, got[ai], v)
		}
	}
}

// decode crops the element with its quiet zone and reads it back.
func decode(t *testing.T, img image.Image, e *label.Element) string {
	t.Helper()
	q := 12 * e.Module
	if e.Kind != label.KindCode128 && e.Kind != label.KindGS1128 {
		q = 4 * e.Module // the 2-D quiet zone, so nearby text stays out
	}
	r := image.Rect(e.X-q, e.Y-q, e.X+e.W+q, e.Y+e.H+q).Intersect(img.Bounds())
	sub := img.(*image.Gray).SubImage(r)
	bmp, err := gozxing.NewBinaryBitmapFromImage(sub)
	if err != nil {
		t.Fatal(err)
	}
	hints := map[gozxing.DecodeHintType]interface{}{gozxing.DecodeHintType_PURE_BARCODE: false}
	var res *gozxing.Result
	switch e.Kind {
	case label.KindCode128, label.KindGS1128:
		hints = map[gozxing.DecodeHintType]interface{}{gozxing.DecodeHintType_ASSUME_GS1: true}
		res, err = oned.NewCode128Reader().Decode(bmp, hints)
	case label.KindQR:
		res, err = qrcode.NewQRCodeReader().Decode(bmp, nil)
	case label.KindDataMatrix:
		res, err = datamatrix.NewDataMatrixReader().Decode(bmp, nil)
	}
	if err != nil {
		t.Fatalf("%s (%d dots/module): decode: %v", e.Name, e.Module, err)
	}
	return res.GetText()
}

func TestPreviewDecodesBack(t *testing.T) {
	for _, id := range []string{"zebra-zt411-203", "zebra-zt411-300", "zebra-zt610-600", "generic-zpl-203"} {
		p, err := firmwareprofiles.Lookup(id)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"carton", "item", "pallet", "item-qr"} {
			tm, _ := label.Builtin(strings.TrimSuffix(name, "-qr"))
			vals := record
			if name == "item-qr" {
				vals = map[string]string{"symbol": "qr"}
				for k, v := range record {
					vals[k] = v
				}
			}
			l, err := label.Render(tm, vals, p, 1)
			if err != nil {
				t.Fatal(err)
			}
			var img image.Image
			if p.DPI == 203 { // the PNG round trip once per template; Draw alone elsewhere
				pngBytes, err := PNG(l, p)
				if err != nil {
					t.Fatal(err)
				}
				dec, err := png.Decode(bytes.NewReader(pngBytes))
				if err != nil {
					t.Fatal(err)
				}
				pal, ok := dec.(*image.Paletted)
				if !ok || len(pal.Palette) != 2 {
					t.Fatalf("PNG decoded as %T, want a 1-bit paletted image", dec)
				}
				g := image.NewGray(pal.Rect)
				for i, v := range pal.Pix {
					if v == 1 {
						g.Pix[i] = 0xFF
					}
				}
				img = g
			} else if img, err = Draw(l); err != nil {
				t.Fatal(err)
			}
			if img.Bounds().Dx() != l.Width || img.Bounds().Dy() != l.Length {
				t.Errorf("%s/%s: image %v, layout %dx%d", name, id, img.Bounds(), l.Width, l.Length)
			}
			symbols := 0
			for i := range l.Elements {
				e := &l.Elements[i]
				key := name + "/" + e.Name
				if intended[key] == "" {
					continue
				}
				symbols++
				text := decode(t, img, e)
				what := fmt.Sprintf("%s on %s", key, id)
				switch e.Kind {
				case label.KindQR:
					if text != e.Data {
						t.Errorf("%s: QR decoded %q, want %q", what, text, e.Data)
					}
					m, err := gs1.Parse(text)
					if err != nil {
						t.Fatalf("%s: %v", what, err)
					}
					got := map[string]string{}
					for _, el := range m.Elements {
						got[el.AI] = el.Value
					}
					sameAIs(t, what, got, wantAIs(t, key))
				case label.KindDataMatrix:
					if !strings.HasPrefix(text, "\x1d") {
						t.Errorf("%s: DataMatrix does not start with FNC1: %q", what, text)
					}
					sameAIs(t, what, splitAIs(t, strings.TrimPrefix(text, "\x1d")), wantAIs(t, key))
				default:
					if !strings.HasPrefix(text, "]C1") {
						t.Errorf("%s: not GS1-128 (no leading FNC1): %q", what, text)
					}
					sameAIs(t, what, splitAIs(t, strings.TrimPrefix(text, "]C1")), wantAIs(t, key))
				}
			}
			if symbols == 0 {
				t.Errorf("%s/%s: no symbols checked", name, id)
			}
		}
	}
}

func TestCode128MatchesBoombulerWidths(t *testing.T) {
	// The bars come from our symbol characters; check a decoder agrees on
	// plain Code 128 with characters that need ZPL escapes.
	for _, data := range []string{"ABC-123", "a>b^c~d_e", "1234567890", "X1"} {
		c, err := label.EncodeCode128(data, false)
		if err != nil {
			t.Fatal(err)
		}
		e := &label.Element{Name: "c", Kind: label.KindCode128, Code128: c, Module: 2, W: c.Modules() * 2, H: 40, X: 40, Y: 20}
		bm, err := Symbol(e)
		if err != nil {
			t.Fatal(err)
		}
		img := image.NewGray(image.Rect(0, 0, e.W+80, 80))
		for i := range img.Pix {
			img.Pix[i] = 0xFF
		}
		blit(img, bm, e.X, e.Y)
		if got := decode(t, img, e); got != data {
			t.Errorf("Code 128 %q decoded as %q", data, got)
		}
		if txt, _ := c.Text(); txt != data {
			t.Errorf("Code128.Text() = %q, want %q", txt, data)
		}
	}
}

func BenchmarkPNGCarton203(b *testing.B) {
	p, _ := firmwareprofiles.Lookup("zebra-zt411-203")
	tm, _ := label.Builtin("carton")
	l, err := label.Render(tm, record, p, 1)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	var n int
	for i := 0; i < b.N; i++ {
		out, err := PNG(l, p)
		if err != nil {
			b.Fatal(err)
		}
		n = len(out)
	}
	b.ReportMetric(float64(n), "bytes/png")
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/label")
}

func TestPNGCarriesDPI(t *testing.T) {
	p, _ := firmwareprofiles.Lookup("zebra-zt411-300")
	tm, _ := label.Builtin("item")
	l, err := label.Render(tm, record, p, 1)
	if err != nil {
		t.Fatal(err)
	}
	b, err := PNG(l, p)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(b, []byte("pHYs"))
	if i < 0 || i != 37 {
		t.Fatalf("pHYs chunk at %d", i)
	}
	if ppm := int(b[i+4])<<24 | int(b[i+5])<<16 | int(b[i+6])<<8 | int(b[i+7]); ppm != 11811 {
		t.Errorf("pixels per metre %d, want 11811 (300 dpi)", ppm)
	}
	if _, err := png.Decode(bytes.NewReader(b)); err != nil {
		t.Errorf("PNG with pHYs does not decode: %v", err)
	}
}
