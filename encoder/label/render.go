package label

import (
	"fmt"
	"math"
	"strings"

	"github.com/dockgate/dockgate/encoder/gs1"
	firmwareprofiles "github.com/dockgate/dockgate/firmware-profiles"
)

// Default sizes in mm when a template leaves them out.
const (
	defaultModule1D   = 0.33 // GS1-128 / Code 128 narrow bar
	defaultMinGS1128  = 0.25 // GS1 General Specifications minimum X for GS1-128
	defaultMinCode128 = 0.19
	defaultModule2D   = 0.5
	defaultMin2D      = 0.25
	defaultBarHeight  = 15.0
	defaultHRIHeight  = 3.0
	minFontMM         = 1.5
)

// MaxModule1D is the widest narrow bar ^BY accepts, in dots.
const MaxModule1D = 10

// MaxModule2D is the largest DataMatrix module the engine uses, in dots.
const MaxModule2D = 40

// qrByteCapacity[level][version-1] is the number of bytes a QR symbol
// holds in byte mode (ISO/IEC 18004 table 7) for levels L, M, Q, H.
var qrByteCapacity = [4][40]int{
	{17, 32, 53, 78, 106, 134, 154, 192, 230, 271, 321, 367, 425, 458, 520, 586, 644, 718, 792, 858, 929, 1003, 1091, 1171, 1273, 1367, 1465, 1528, 1628, 1732, 1840, 1952, 2068, 2188, 2303, 2431, 2563, 2699, 2809, 2953},
	{14, 26, 42, 62, 84, 106, 122, 152, 180, 213, 251, 287, 331, 362, 412, 450, 504, 560, 624, 666, 711, 779, 857, 911, 997, 1059, 1125, 1190, 1264, 1370, 1452, 1538, 1628, 1722, 1809, 1911, 1989, 2099, 2213, 2331},
	{11, 20, 32, 46, 60, 74, 86, 108, 130, 151, 177, 203, 241, 258, 292, 322, 364, 394, 442, 482, 509, 565, 611, 661, 715, 751, 805, 868, 908, 982, 1030, 1112, 1168, 1228, 1283, 1351, 1423, 1499, 1579, 1663},
	{7, 14, 24, 34, 44, 58, 64, 84, 98, 119, 137, 155, 177, 194, 220, 250, 280, 310, 338, 382, 403, 439, 461, 511, 535, 593, 625, 658, 698, 742, 790, 842, 898, 958, 983, 1051, 1093, 1139, 1219, 1273},
}

// QRVersion returns the smallest QR version holding n bytes in byte mode
// at level ('L', 'M', 'Q', 'H'), or 0 if none does.
func QRVersion(n int, level byte) int {
	li := strings.IndexByte("LMQH", level)
	if li < 0 {
		return 0
	}
	for v, c := range qrByteCapacity[li] {
		if c >= n {
			return v + 1
		}
	}
	return 0
}

// dmSquare lists the square ECC 200 sizes and their data codewords.
var dmSquare = [][2]int{
	{10, 3}, {12, 5}, {14, 8}, {16, 12}, {18, 18}, {20, 22}, {22, 30}, {24, 36}, {26, 44},
	{32, 62}, {36, 86}, {40, 114}, {44, 144}, {48, 174}, {52, 204}, {64, 280}, {72, 368},
	{80, 456}, {88, 576}, {96, 696}, {104, 816}, {120, 1050}, {132, 1304}, {144, 1558},
}

// DataMatrixCodewords counts the ASCII-encodation codewords of data (digit
// pairs one codeword, FNC1 0x1D one, bytes above 127 two), plus the leading
// FNC1 when gs1.
func DataMatrixCodewords(data string, gs1 bool) int {
	n := 0
	if gs1 {
		n++
	}
	for i := 0; i < len(data); i++ {
		c := data[i]
		switch {
		case c >= '0' && c <= '9' && i+1 < len(data) && data[i+1] >= '0' && data[i+1] <= '9':
			i++
			n++
		case c > 127:
			n += 2
		default:
			n++
		}
	}
	return n
}

// DataMatrixSize returns the smallest square ECC 200 symbol side for n
// data codewords, or 0 if none holds them.
func DataMatrixSize(n int) int {
	for _, s := range dmSquare {
		if s[1] >= n {
			return s[0]
		}
	}
	return 0
}

// Render binds vals to the template and lays it out for the profile:
// every measure in dots, every barcode encoded far enough to know its
// size, every element checked against the print width and label length.
// qty is the number of identical labels (^PQ).
func Render(t *Template, vals map[string]string, prof *Profile, qty int) (*Layout, error) {
	if t == nil || prof == nil {
		return nil, fmt.Errorf("%w: nil template or profile", ErrTemplate)
	}
	if !prof.Supported() {
		return nil, fmt.Errorf("%w: profile %s speaks %s; only zpl is supported for now", ErrProfile, prof.ID, prof.Language)
	}
	if qty < 1 || qty > 99999999 {
		return nil, &ValueError{Key: "qty", Value: fmt.Sprint(qty), Reason: "is not a label count from 1 to 99999999"}
	}
	bound, err := t.Bind(vals)
	if err != nil {
		return nil, err
	}
	r := &renderer{t: t, p: prof, vals: bound}
	r.l = &Layout{
		Template: t.Name, Profile: prof.ID, DPI: prof.DPI,
		Width: prof.Dots(t.WidthMM), Length: prof.Dots(t.LengthMM), Quantity: qty,
		Elements: make([]Element, 0, len(t.Elements)+4),
	}
	if r.l.Width > prof.PrintWidthDots {
		return nil, fmt.Errorf("%w: template %s is %d dots wide; profile %s prints %d dots: %d dots too wide",
			ErrProfile, t.Name, r.l.Width, prof.ID, prof.PrintWidthDots, r.l.Width-prof.PrintWidthDots)
	}
	if max := prof.MaxLabelLengthDots(); r.l.Length > max {
		return nil, fmt.Errorf("%w: template %s is %d dots long; profile %s feeds at most %d dots",
			ErrProfile, t.Name, r.l.Length, prof.ID, max)
	}
	for i := range t.Elements {
		s := &t.Elements[i]
		if !when(s.When, bound) {
			continue
		}
		if err := r.element(s); err != nil {
			return nil, err
		}
	}
	if err := gs1ValidateLabel(r.gs1); err != nil {
		return nil, err
	}
	return r.l, nil
}

// when evaluates a Spec.When condition.
func when(cond string, vals map[string]string) bool {
	if cond == "" {
		return true
	}
	if name, want, ok := strings.Cut(cond, "="); ok {
		return vals[name] == want
	}
	return vals[cond] != ""
}

type renderer struct {
	t    *Template
	p    *Profile
	vals map[string]string
	l    *Layout
	gs1  []gs1.Element
}

func (r *renderer) dots(mm float64) int { return r.p.Dots(mm) }

// span converts a length starting at pos to dots so that adjacent
// elements (pos+len = next pos) meet without a rounding gap or overlap.
func (r *renderer) span(pos, length float64) int { return r.p.Dots(pos+length) - r.p.Dots(pos) }

func (r *renderer) fail(s *Spec, format string, a ...any) error {
	return fmt.Errorf("element %q (%s): %w", s.Name, s.Type, fmt.Errorf(format, a...))
}

// fits checks the element box against the label.
func (r *renderer) fits(e *Element) error {
	if over := e.X + e.W - r.l.Width; over > 0 {
		return &FitError{Element: e.Name, Kind: e.Kind, Axis: "width", Over: over, DPI: r.l.DPI,
			Detail: fmt.Sprintf("spans x %d to %d, label is %d dots wide", e.X, e.X+e.W, r.l.Width)}
	}
	if over := e.Y + e.H - r.l.Length; over > 0 {
		return &FitError{Element: e.Name, Kind: e.Kind, Axis: "length", Over: over, DPI: r.l.DPI,
			Detail: fmt.Sprintf("spans y %d to %d, label is %d dots long", e.Y, e.Y+e.H, r.l.Length)}
	}
	return nil
}

func (r *renderer) add(e Element) error {
	if err := r.fits(&e); err != nil {
		return err
	}
	r.l.Elements = append(r.l.Elements, e)
	return nil
}

func (r *renderer) element(s *Spec) error {
	switch Kind(s.Type) {
	case KindText:
		return r.text(s)
	case KindBox:
		th := max(1, r.dots(s.Thickness))
		if s.Thickness == 0 {
			th = max(1, r.dots(0.25))
		}
		return r.add(Element{Name: s.Name, Kind: KindBox, X: r.dots(s.X), Y: r.dots(s.Y), W: r.span(s.X, s.Width), H: r.span(s.Y, s.Height), Thickness: th})
	case KindLine:
		th := max(1, r.dots(s.Thickness))
		x, y, x2, y2 := r.dots(s.X), r.dots(s.Y), r.dots(s.X2), r.dots(s.Y2)
		e := Element{Name: s.Name, Kind: KindLine, X: min(x, x2), Y: min(y, y2), Thickness: th}
		switch {
		case y == y2:
			e.W, e.H = max(abs(x2-x), th), th
		case x == x2:
			e.W, e.H = th, max(abs(y2-y), th)
		default:
			return r.fail(s, "%w: lines are horizontal (y2 = y) or vertical (x2 = x)", ErrTemplate)
		}
		return r.add(e)
	case KindCode128, KindGS1128:
		return r.linear(s)
	case KindQR:
		return r.qr(s)
	case KindDataMatrix:
		return r.datamatrix(s)
	case KindImage:
		return r.image(s)
	case KindRFID:
		return r.rfid(s)
	}
	return r.fail(s, "%w: unknown type", ErrTemplate)
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

func (r *renderer) text(s *Spec) error {
	val, err := expand(s.Value, r.vals)
	if err != nil {
		return r.fail(s, "%w", err)
	}
	val = strings.Join(strings.Fields(val), " ")
	if val == "" {
		return nil
	}
	if !isASCII(val) {
		if !r.p.ZPL.CI28 {
			return r.fail(s, "%w: text %q is not ASCII and profile %s has no ^CI28 (UTF-8); use ASCII or a profile with ^CI28", ErrProfile, val, r.p.ID)
		}
		r.l.UTF8 = true
	}
	x, y := r.dots(s.X), r.dots(s.Y)
	w := r.span(s.X, s.Width)
	if s.Width == 0 {
		w = r.l.Width - x
	}
	h := r.dots(s.Height)
	minH := max(r.dots(minFontMM), 8)
	align := Align(s.Align)
	if align == "" {
		align = AlignLeft
	}
	maxLines := s.MaxLines
	if maxLines == 0 {
		maxLines = 1
		if s.Fit == "wrap" {
			maxLines = 2
		}
	}
	var lines []string
	for {
		if s.Fit == "wrap" {
			lines = wrapText(val, h, w)
		} else {
			lines = []string{val}
		}
		tw := 0
		for _, l := range lines {
			tw = max(tw, TextWidth(l, h))
		}
		if len(lines) <= maxLines && tw <= w {
			break
		}
		if h <= minH {
			if len(lines) > maxLines {
				return &FitError{Element: s.Name, Kind: KindText, Axis: "width", Over: TextWidth(val, h) - w*maxLines, DPI: r.l.DPI,
					Detail: fmt.Sprintf("%q needs %d lines at the smallest font (%d dots), max_lines is %d", val, len(lines), h, maxLines)}
			}
			return &FitError{Element: s.Name, Kind: KindText, Axis: "width", Over: tw - w, DPI: r.l.DPI,
				Detail: fmt.Sprintf("%q is %d dots wide at the smallest font (%d dots), width is %d", val, tw, h, w)}
		}
		if len(lines) == 1 && tw > w {
			h = max(minH, min(h-1, h*w/tw))
		} else {
			h = max(minH, h*9/10)
		}
	}
	lh := h + (h+9)/10
	return r.add(Element{Name: s.Name, Kind: KindText, X: x, Y: y, W: w, H: lh*(len(lines)-1) + h,
		Lines: lines, FontHeight: h, LineHeight: lh, Align: align})
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// place puts a symbol of width sw (plus quiet zones q each side) in the
// region of the spec and returns its x, or a FitError.
func (r *renderer) place(s *Spec, kind Kind, sw, q int, detail func() string) (int, error) {
	x := r.dots(s.X)
	region := r.span(s.X, s.Width)
	if s.Width == 0 {
		region = r.l.Width - x
	}
	if x+region > r.l.Width {
		region = r.l.Width - x
	}
	need := sw + 2*q
	if need > region {
		if detail == nil {
			return 0, ErrFit
		}
		return 0, &FitError{Element: s.Name, Kind: kind, Axis: "width", Over: need - region, DPI: r.l.DPI,
			Detail: fmt.Sprintf("%s needs %d dots with quiet zones, %d dots available from x=%d", detail(), need, region, x)}
	}
	switch s.Align {
	case "center":
		return x + (region-sw)/2, nil
	case "right":
		return x + region - q - sw, nil
	}
	return x + q, nil
}

// moduleRange returns the preferred and the narrowest module in dots.
func (r *renderer) moduleRange(s *Spec, def, defMin float64) (int, int) {
	mod, minMod := s.Module, s.MinModule
	if mod == 0 {
		mod = def
	}
	if minMod == 0 {
		minMod = math.Min(defMin, mod)
	}
	w := max(1, r.dots(mod))
	wmin := max(1, int(math.Ceil(minMod*r.p.DotsPerMM()-0.05)))
	return w, min(w, wmin)
}

func (r *renderer) linear(s *Spec) error {
	kind := Kind(s.Type)
	e := Element{Name: s.Name, Kind: kind}
	var hri string
	defMin := defaultMinCode128
	if kind == KindGS1128 {
		defMin = defaultMinGS1128
		m, err := gs1Parse(s.AIs, r.vals)
		if err != nil {
			return r.fail(s, "%w: %v", ErrData, err)
		}
		r.gs1 = append(r.gs1, m.Elements...)
		ordered, data := gs1SymbolData(m)
		if err := gs1Check128(ordered); err != nil {
			return r.fail(s, "%w", err)
		}
		e.Data, e.GS1, hri = data, true, ordered.HRI()
	} else {
		val, err := expand(s.Value, r.vals)
		if err != nil {
			return r.fail(s, "%w", err)
		}
		e.Data, hri = val, val
	}
	c, err := EncodeCode128(e.Data, e.GS1)
	if err != nil {
		return r.fail(s, "%w", err)
	}
	e.Code128 = c
	e.Raster = !r.p.Native(string(kind))
	mods := c.Modules()
	w, wmin := r.moduleRange(s, defaultModule1D, defMin)
	w, wmin = min(w, MaxModule1D), min(wmin, MaxModule1D) // ^BY takes 1 to 10 dots
	for ; w > wmin; w-- {
		if _, err := r.place(s, kind, mods*w, 10*w, nil); err == nil {
			break
		}
	}
	x, err := r.place(s, kind, mods*w, 10*w, func() string {
		return fmt.Sprintf("%d modules at %d dots (%.3f mm, the narrowest allowed)", mods, w, float64(w)/r.p.DotsPerMM())
	})
	if err != nil {
		return err
	}
	if pref, _ := r.moduleRange(s, defaultModule1D, defMin); w < min(pref, MaxModule1D) {
		r.l.Warnings = append(r.l.Warnings, fmt.Sprintf("element %q: module narrowed from %d to %d dots (%.3f mm) to fit", s.Name, min(pref, MaxModule1D), w, float64(w)/r.p.DotsPerMM()))
	}
	e.Module = w
	e.X, e.Y, e.W = x, r.dots(s.Y), mods*w
	e.H = r.dots(s.Height)
	if s.Height == 0 {
		e.H = r.dots(defaultBarHeight)
	}
	if kind == KindGS1128 && e.Module*mods+20*w > r.dots(165) {
		return &FitError{Element: s.Name, Kind: kind, Axis: "width", Over: e.Module*mods + 20*w - r.dots(165), DPI: r.l.DPI,
			Detail: "a GS1-128 symbol is at most 165 mm wide including quiet zones"}
	}
	if err := r.add(e); err != nil {
		return err
	}
	if !s.HRI {
		return nil
	}
	hh := s.HRIHeight
	if hh == 0 {
		hh = defaultHRIHeight
	}
	fh := r.dots(hh)
	gap := max(1, fh/4)
	tw := TextWidth(hri, fh)
	for tw > e.W+20*w && fh > 8 {
		fh--
		tw = TextWidth(hri, fh)
	}
	return r.add(Element{Name: s.Name + ".hri", Kind: KindText, X: e.X - 10*w, Y: e.Y + e.H + gap, W: e.W + 20*w, H: fh,
		Lines: []string{hri}, FontHeight: fh, LineHeight: fh, Align: AlignCenter})
}

// symbolData returns the payload of a 2-D symbol: the value, or from ais
// a Digital Link URI (QR) or GS1 element data (DataMatrix).
func (r *renderer) symbolData(s *Spec, qr bool) (string, bool, error) {
	if s.AIs == "" {
		val, err := expand(s.Value, r.vals)
		if err != nil {
			return "", false, r.fail(s, "%w", err)
		}
		if val == "" {
			return "", false, r.fail(s, "%w: empty data", ErrData)
		}
		return val, false, nil
	}
	m, err := gs1Parse(s.AIs, r.vals)
	if err != nil {
		return "", false, r.fail(s, "%w: %v", ErrData, err)
	}
	r.gs1 = append(r.gs1, m.Elements...)
	if qr && s.Encoding != "element-string" {
		uri, err := gs1DigitalLink(m, s.Domain)
		if err != nil {
			return "", false, r.fail(s, "%w", err)
		}
		return uri, false, nil
	}
	if qr {
		return "", false, r.fail(s, "%w: a GS1 element string in QR needs FNC1 mode; use encoding: digital-link", ErrTemplate)
	}
	_, data := gs1SymbolData(m)
	return data, true, nil
}

func (r *renderer) qr(s *Spec) error {
	data, _, err := r.symbolData(s, true)
	if err != nil {
		return err
	}
	level := byte('M')
	if s.EC != "" {
		level = s.EC[0]
	}
	v := QRVersion(len(data), level)
	if v == 0 {
		return r.fail(s, "%w: %d bytes do not fit a QR symbol at level %c", ErrData, len(data), level)
	}
	n := 17 + 4*v
	mag, magMin := r.moduleRange(s, defaultModule2D, defaultMin2D)
	mag = min(mag, r.p.ZPL.QRMaxMagnification)
	magMin = min(magMin, mag)
	for ; mag > magMin; mag-- {
		if _, err := r.place(s, KindQR, n*mag, 4*mag, nil); err == nil {
			break
		}
	}
	x, err := r.place(s, KindQR, n*mag, 4*mag, func() string {
		return fmt.Sprintf("QR version %d (%d modules) at %d dots per module", v, n, mag)
	})
	if err != nil {
		return err
	}
	return r.add(Element{Name: s.Name, Kind: KindQR, X: x, Y: r.dots(s.Y), W: n * mag, H: n * mag, Data: data,
		Module: mag, QRVersion: v, QRLevel: level, Modules: n, Raster: !r.p.Native(firmwareprofiles.SymQR)})
}

func (r *renderer) datamatrix(s *Spec) error {
	data, isGS1, err := r.symbolData(s, false)
	if err != nil {
		return err
	}
	if !isASCII(data) {
		return r.fail(s, "%w: DataMatrix data must be ASCII", ErrData)
	}
	side := DataMatrixSize(DataMatrixCodewords(data, isGS1))
	if side == 0 {
		return r.fail(s, "%w: data too long for a DataMatrix symbol", ErrData)
	}
	mod, modMin := r.moduleRange(s, defaultModule2D, defaultMin2D)
	mod, modMin = min(mod, MaxModule2D), min(modMin, MaxModule2D)
	for ; mod > modMin; mod-- {
		if _, err := r.place(s, KindDataMatrix, side*mod, mod, nil); err == nil {
			break
		}
	}
	x, err := r.place(s, KindDataMatrix, side*mod, mod, func() string {
		return fmt.Sprintf("DataMatrix %dx%d at %d dots per module", side, side, mod)
	})
	if err != nil {
		return err
	}
	return r.add(Element{Name: s.Name, Kind: KindDataMatrix, X: x, Y: r.dots(s.Y), W: side * mod, H: side * mod, Data: data, GS1: isGS1,
		Module: mod, Modules: side, Rows: side, Raster: !r.p.Native(firmwareprofiles.SymDataMatrix)})
}

func (r *renderer) image(s *Spec) error {
	src := r.t.images[s.Name]
	if src == nil {
		return r.fail(s, "%w: image not loaded; load the template with LoadTemplate", ErrTemplate)
	}
	w := r.dots(s.Width)
	if x := r.dots(s.X); x+w > r.l.Width {
		return &FitError{Element: s.Name, Kind: KindImage, Axis: "width", Over: x + w - r.l.Width, DPI: r.l.DPI,
			Detail: fmt.Sprintf("image is %d dots wide from x=%d, label is %d dots wide", w, x, r.l.Width)}
	}
	h := max(1, w*src.H/src.W)
	bm := &Bitmap{W: w, H: h, Pix: make([]bool, w*h)}
	for y := 0; y < h; y++ {
		sy := y * src.H / h
		for x := 0; x < w; x++ {
			bm.Pix[y*w+x] = src.Pix[sy*src.W+x*src.W/w]
		}
	}
	return r.add(Element{Name: s.Name, Kind: KindImage, X: r.dots(s.X), Y: r.dots(s.Y), W: w, H: h, Bitmap: bm})
}

func (r *renderer) rfid(s *Spec) error {
	val, err := expand(s.Value, r.vals)
	if err != nil {
		return r.fail(s, "%w", err)
	}
	if val == "" {
		return nil
	}
	hex, err := checkValue(Variable{Name: s.Name, Type: "epc"}, val)
	if err != nil {
		return &ValueError{Key: "epc", Value: val, Reason: err.Error()}
	}
	if !r.p.RFID.Supported {
		r.l.Warnings = append(r.l.Warnings, fmt.Sprintf("element %q: profile %s has no RFID encoder; EPC %s not written", s.Name, r.p.ID, hex))
		return nil
	}
	if len(r.p.RFID.EPCBits) > 0 {
		ok := false
		for _, b := range r.p.RFID.EPCBits {
			ok = ok || b == len(hex)*4
		}
		if !ok {
			return &ValueError{Key: "epc", Value: val, Reason: fmt.Sprintf("is %d bits; profile %s writes %v-bit EPCs", len(hex)*4, r.p.ID, r.p.RFID.EPCBits)}
		}
	}
	if r.l.Quantity > 1 {
		return &ValueError{Key: "qty", Value: fmt.Sprint(r.l.Quantity), Reason: "with an EPC would write the same EPC on every tag; render one label per EPC"}
	}
	r.l.Elements = append(r.l.Elements, Element{Name: s.Name, Kind: KindRFID, EPC: hex})
	return nil
}
