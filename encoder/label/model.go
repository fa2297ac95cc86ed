package label

import (
	"errors"
	"fmt"
	"image"

	firmwareprofiles "github.com/dockgate/dockgate/firmware-profiles"
)

// Profile is a printer firmware profile.
type Profile = firmwareprofiles.Profile

// Sentinel errors; the errors of this package wrap one of them.
var (
	// ErrValue: a variable is missing or its value is invalid.
	ErrValue = errors.New("invalid label value")
	// ErrTemplate: a template breaks a rule of the template format.
	ErrTemplate = errors.New("invalid label template")
	// ErrFit: an element does not fit the label or the print width.
	ErrFit = errors.New("element does not fit")
	// ErrData: a symbol cannot encode its data.
	ErrData = errors.New("invalid symbol data")
	// ErrProfile: the profile cannot print this label.
	ErrProfile = errors.New("profile cannot print label")
)

// Kind is an element type.
type Kind string

// Element kinds.
const (
	KindText       Kind = "text"
	KindBox        Kind = "box"
	KindLine       Kind = "line"
	KindCode128    Kind = "code128"
	KindGS1128     Kind = "gs1-128"
	KindQR         Kind = "qr"
	KindDataMatrix Kind = "datamatrix"
	KindImage      Kind = "image"
	KindRFID       Kind = "rfid"
)

// Align is the horizontal alignment of text within its width.
type Align string

// Alignments.
const (
	AlignLeft   Align = "left"
	AlignCenter Align = "center"
	AlignRight  Align = "right"
)

// Layout is a label laid out for one profile, every measure in dots.
type Layout struct {
	Template string
	Profile  string
	DPI      int
	// Width and Length of the label in dots (^PW, ^LL).
	Width, Length int
	// Quantity of identical labels (^PQ).
	Quantity int
	// UTF8 is true when some text is not ASCII (the profile has ^CI28).
	UTF8     bool
	Elements []Element
	// Warnings are things left out, e.g. an EPC on a printer without RFID.
	Warnings []string
}

// Element is one thing printed (or encoded) on the label.
type Element struct {
	Name string
	Kind Kind
	// X, Y, W, H is the box the element covers in dots: for text the
	// whole block, for barcodes the symbol without quiet zones.
	X, Y, W, H int

	// Text: one entry per printed line, each FontHeight dots high and
	// LineHeight apart, aligned within W.
	Lines      []string
	FontHeight int
	LineHeight int
	Align      Align

	// Box and line: border thickness (a line is a filled box).
	Thickness int

	// Barcodes. Data is the payload; for GS1 symbols it is the element
	// data without the leading FNC1, FNC1 separators as 0x1D. Module is
	// the narrow bar width (1-D), the QR magnification or the DataMatrix
	// module size, in dots.
	Data      string
	GS1       bool
	Module    int
	Code128   Code128 // Code 128 and GS1-128 symbol characters
	QRVersion int     // QR symbol version (1–40), byte mode
	QRLevel   byte    // QR error correction: 'L', 'M', 'Q' or 'H'
	Modules   int     // 2-D symbols: modules per side (QR) or columns (DataMatrix)
	Rows      int     // DataMatrix rows
	// Raster is true when the profile lacks the symbology and the
	// element must be sent as a graphic.
	Raster bool

	// Image: a 1-bit bitmap, W×H dots, true = black.
	Bitmap *Bitmap

	// RFID: the EPC to write, upper-case hex.
	EPC string
}

// Bitmap is a 1-bit image, true = black, row-major.
type Bitmap struct {
	W, H int
	Pix  []bool
}

// At reports whether the dot at x, y is black.
func (b *Bitmap) At(x, y int) bool { return b.Pix[y*b.W+x] }

// Bounds returns the image rectangle.
func (b *Bitmap) Bounds() image.Rectangle { return image.Rect(0, 0, b.W, b.H) }

// FitError says which element does not fit and by how much.
type FitError struct {
	Element string
	Kind    Kind
	// Axis is "width" or "length".
	Axis string
	// Over is the overrun in dots; DPI converts it to mm.
	Over, DPI int
	Detail    string
}

func (e *FitError) Error() string {
	mm := float64(e.Over) * 25.4 / float64(e.DPI)
	return fmt.Sprintf("element %q (%s) does not fit the label %s: %s; %d dots (%.1f mm) too %s",
		e.Element, e.Kind, e.Axis, e.Detail, e.Over, mm, map[string]string{"width": "wide", "length": "long"}[e.Axis])
}

// Unwrap returns ErrFit.
func (e *FitError) Unwrap() error { return ErrFit }
