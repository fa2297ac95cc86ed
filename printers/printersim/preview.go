package printersim

import (
	"bytes"
	"fmt"
	"image"
	"image/png"

	"github.com/dockgate/dockgate/encoder/label"
	"github.com/dockgate/dockgate/encoder/raster"
	"github.com/dockgate/dockgate/encoder/zpl"
)

// Default label size of a preview without ^PW/^LL: 4×6 inches at 203 dpi.
const (
	previewWidth  = 812
	previewLength = 1218
)

// Preview renders the first format of zpl as a PNG the way the label engine
// draws it: text, Code 128/GS1-128, QR, DataMatrix and ^GF graphics. It
// reads the ZPL with the engine's interpreter (encoder/zpl.Interpret); a
// field it cannot draw is left out rather than failing the preview.
func Preview(b []byte) ([]byte, error) {
	fs, err := zpl.Interpret(b)
	if err != nil {
		return nil, fmt.Errorf("preview: %w", err)
	}
	if len(fs) == 0 {
		return nil, fmt.Errorf("preview: no ^XA … ^XZ format")
	}
	f := fs[0]
	w, l := f.Width, f.Length
	if w <= 0 || w > 4000 {
		w = previewWidth
	}
	if l <= 0 || l > 8000 {
		l = previewLength
	}
	img := image.NewGray(image.Rect(0, 0, w, l))
	for i := range img.Pix {
		img.Pix[i] = 0xFF
	}
	for _, fd := range f.Fields {
		e, ok := element(fd)
		if !ok {
			continue
		}
		part, err := raster.Draw(&label.Layout{Width: w, Length: l, Elements: []label.Element{e}})
		if err != nil {
			continue
		}
		for i, p := range part.Pix {
			if p < 0x80 {
				img.Pix[i] = 0
			}
		}
	}
	var buf bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// element turns an interpreted field into a label element with the sizes
// the raster package expects.
func element(fd zpl.Field) (label.Element, bool) {
	e := label.Element{X: fd.X, Y: fd.Y, Data: fd.Data, GS1: fd.GS1, Module: max(fd.Module, 1)}
	switch fd.Kind {
	case zpl.FieldText:
		h := fd.Height
		if h <= 0 {
			h = 30
		}
		e.Kind, e.Lines, e.FontHeight, e.LineHeight = label.KindText, []string{fd.Data}, h, h
		e.W, e.H = label.TextWidth(fd.Data, h), h
	case zpl.FieldCode128:
		c, err := label.EncodeCode128(fd.Data, fd.GS1)
		if err != nil {
			return e, false
		}
		e.Kind = label.KindCode128
		if fd.GS1 {
			e.Kind = label.KindGS1128
		}
		e.Code128 = c
		for _, r := range c.Bars() {
			e.W += r * e.Module
		}
		e.H = max(fd.Height, 10)
	case zpl.FieldQR:
		level := fd.QRLevel
		if level == 0 {
			level = 'Q'
		}
		v := label.QRVersion(len(fd.Data), level)
		if v == 0 {
			return e, false
		}
		e.Kind, e.QRLevel, e.QRVersion, e.Modules = label.KindQR, level, v, 17+4*v
		e.W, e.H = e.Modules*e.Module, e.Modules*e.Module
	case zpl.FieldDataMatrix:
		n := label.DataMatrixSize(label.DataMatrixCodewords(fd.Data, fd.GS1))
		if n == 0 {
			return e, false
		}
		e.Kind, e.Modules, e.Rows = label.KindDataMatrix, n, n
		e.W, e.H = n*e.Module, n*e.Module
	case zpl.FieldGraphic:
		w, h := fd.GraphicW, fd.GraphicH
		if w <= 0 || h <= 0 {
			return e, false
		}
		bpr := (w + 7) / 8
		if len(fd.Graphic) < bpr*h {
			return e, false
		}
		bm := &label.Bitmap{W: w, H: h, Pix: make([]bool, w*h)}
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				bm.Pix[y*w+x] = fd.Graphic[y*bpr+x/8]&(0x80>>(x%8)) != 0
			}
		}
		e.Kind, e.Bitmap, e.W, e.H = label.KindImage, bm, w, h
	default:
		return e, false
	}
	return e, true
}
