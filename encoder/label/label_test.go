package label

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/boombuler/barcode/datamatrix"
	qrcode "github.com/skip2/go-qrcode"

	firmwareprofiles "github.com/dockgate/dockgate/firmware-profiles"
)

var record = map[string]string{
	"gtin": "09520123456788", "lot": "LOT-2026-0042", "expiry": "2027-03-31", "production": "2026-11-02",
	"qty": "24", "sscc": "095201230000000011", "product": "Organic Oat Drink 1 L",
}

func profile(t testing.TB, id string) *Profile {
	t.Helper()
	p, err := firmwareprofiles.Lookup(id)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func with(kv ...string) map[string]string {
	m := map[string]string{}
	for k, v := range record {
		m[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

func TestBuiltinsRenderOnEveryProfile(t *testing.T) {
	if len(Builtins()) != 4 {
		t.Fatalf("built-ins: %d", len(Builtins()))
	}
	for _, tm := range Builtins() {
		for _, p := range firmwareprofiles.List() {
			l, err := Render(tm, record, p, 1)
			if !p.Supported() {
				if !errors.Is(err, ErrProfile) {
					t.Errorf("%s on unsupported %s: %v", tm.Name, p.ID, err)
				}
				continue
			}
			if err != nil {
				t.Errorf("%s on %s: %v", tm.Name, p.ID, err)
				continue
			}
			for _, e := range l.Elements {
				if e.X < 0 || e.Y < 0 || e.X+e.W > l.Width || e.Y+e.H > l.Length {
					t.Errorf("%s on %s: %s out of the label", tm.Name, p.ID, e.Name)
				}
			}
		}
	}
}

func TestValueErrorsNameTheKey(t *testing.T) {
	carton, _ := Builtin("carton")
	p := profile(t, "zebra-zt411-203")
	cases := []struct {
		vals map[string]string
		key  string
	}{
		{with("gtin", ""), "gtin"},
		{with("gtin", "09520123456789"), "gtin"},
		{with("gtin", "12AB"), "gtin"},
		{with("lot", "LOT 1"), "lot"},
		{with("lot", strings.Repeat("A", 21)), "lot"},
		{with("expiry", "2027-02-30"), "expiry"},
		{with("expiry", "31.03.2027"), "expiry"},
		{with("production", "2026-13-01"), "production"},
		{with("qty", "0"), "qty"},
		{with("qty", "x"), "qty"},
		{with("sscc", "123"), "sscc"},
		{with("sscc", "095201230000000018"), "sscc"},
		{with("product", "a\nb"), "product"},
		{with("po", "PO 1"), "po"},
		{with("epc", "XYZ"), "epc"},
		{with("colour", "red"), "colour"},
	}
	for _, c := range cases {
		_, err := Render(carton, c.vals, p, 1)
		var ve *ValueError
		if !errors.As(err, &ve) || ve.Key != c.key || !errors.Is(err, ErrValue) {
			t.Errorf("%s: err = %v, want a ValueError for %s", c.key, err, c.key)
		}
	}
	if _, err := Render(carton, record, p, 0); err == nil {
		t.Error("qty 0 accepted")
	}
	l, err := Render(carton, with("gtin", "9520123456788"), p, 1) // GTIN-13 padded
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range l.Elements {
		if e.Name == "gs1_item" && !strings.HasPrefix(e.Data, "0109520123456788") {
			t.Errorf("GTIN-13 not padded: %q", e.Data)
		}
	}
}

func TestOptionalAIsAndWhen(t *testing.T) {
	carton, _ := Builtin("carton")
	p := profile(t, "zebra-zt411-203")
	vals := with()
	delete(vals, "expiry")
	delete(vals, "sscc")
	l, err := Render(carton, vals, p, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range l.Elements {
		switch e.Name {
		case "gs1_item":
			if e.Data != "010952012345678810LOT-2026-0042" {
				t.Errorf("without expiry: %q", e.Data)
			}
		case "digital_link":
			if e.Data != "https://id.gs1.org/01/09520123456788/10/LOT-2026-0042" {
				t.Errorf("Digital Link: %q", e.Data)
			}
		case "gs1_sscc", "expiry_text":
			t.Errorf("%s printed without its value", e.Name)
		}
	}
}

func TestFitErrors(t *testing.T) {
	p := profile(t, "zebra-zt411-203")
	src := `name: t
width_mm: 60
length_mm: 30
variables:
  - {name: lot, type: lot, required: true}
  - {name: product, type: text}
elements:
  - {type: gs1-128, name: big, x: 0, y: 2, height: 10, module: 0.5, ais: "(01)09520123456788(17)270331(10){{lot}}"}
`
	tm, err := ParseTemplate("t.yaml", []byte(src), "")
	if err != nil {
		t.Fatal(err)
	}
	_, err = Render(tm, map[string]string{"lot": "ABCDEFGHIJ"}, p, 1)
	var fe *FitError
	if !errors.As(err, &fe) || fe.Element != "big" || fe.Over <= 0 || !errors.Is(err, ErrFit) {
		t.Fatalf("err = %v, want a FitError for big", err)
	}
	if !strings.Contains(err.Error(), `element "big"`) || !strings.Contains(err.Error(), "too wide") {
		t.Errorf("message: %v", err)
	}
	// Narrowing: a short value fits once the module narrows to 2 dots.
	l, err := Render(tm, map[string]string{"lot": "A"}, p, 1)
	if err != nil {
		t.Fatal(err)
	}
	if m := l.Elements[0].Module; m != 2 {
		t.Errorf("module narrowed to %d, want 2", m)
	}
	long := `name: t
width_mm: 50
length_mm: 10
variables:
  - {name: product, type: text}
elements:
  - {type: text, name: p, x: 1, y: 8, width: 40, height: 4, value: "{{product}}"}
  - {type: text, name: q, x: 1, y: 1, width: 10, height: 3, value: "{{product}}"}
`
	tm, err = ParseTemplate("t.yaml", []byte(long), "")
	if err != nil {
		t.Fatal(err)
	}
	_, err = Render(tm, map[string]string{"product": "x"}, p, 1)
	if !errors.As(err, &fe) || fe.Element != "p" || fe.Axis != "length" {
		t.Errorf("length overrun: %v", err)
	}
	tm.Elements = tm.Elements[1:]
	_, err = Render(tm, map[string]string{"product": strings.Repeat("W", 60)}, p, 1)
	if !errors.As(err, &fe) || fe.Element != "q" || fe.Axis != "width" {
		t.Errorf("text too wide: %v", err)
	}
	l, err = Render(tm, map[string]string{"product": "WWWWWWW"}, p, 1)
	if err != nil || l.Elements[0].FontHeight >= p.Dots(3) {
		t.Errorf("text not shrunk: %v %+v", err, l)
	}
}

func TestTemplateErrors(t *testing.T) {
	base := "name: t\nwidth_mm: 50\nlength_mm: 25\nvariables:\n  - {name: lot, type: lot}\nelements:\n"
	cases := map[string]string{
		"unknown key":  base + "  - {type: text, name: a, height: 3, value: x, colour: red}\n",
		"unknown var":  base + "  - {type: text, name: a, height: 3, value: \"{{nope}}\"}\n",
		"bad type":     base + "  - {type: aztec, name: a}\n",
		"dup name":     base + "  - {type: box, name: a, width: 1, height: 1}\n  - {type: box, name: a, width: 1, height: 1}\n",
		"qr both":      base + "  - {type: qr, name: a, value: x, ais: \"(10){{lot}}\"}\n",
		"var type":     "name: t\nwidth_mm: 50\nlength_mm: 25\nvariables:\n  - {name: lot, type: blob}\n",
		"no size":      "name: t\n",
		"image inline": base + "  - {type: image, name: a, file: x.png, width: 10}\n",
	}
	for name, src := range cases {
		if _, err := ParseTemplate("t.yaml", []byte(src), ""); err == nil || !errors.Is(err, ErrTemplate) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	_, err := ParseTemplate("t.yaml", []byte(base+"  - {type: text, name: a, height: 3, value: x, colour: red}\n"), "")
	if !strings.Contains(err.Error(), "line 7") {
		t.Errorf("unknown key error has no line: %v", err)
	}
}

func TestLoadTemplateWithImage(t *testing.T) {
	dir := t.TempDir()
	img := qrcodePNG(t)
	if err := os.WriteFile(filepath.Join(dir, "logo.png"), img, 0o644); err != nil {
		t.Fatal(err)
	}
	src := "name: logo\nwidth_mm: 50\nlength_mm: 25\nelements:\n  - {type: image, name: logo, file: logo.png, x: 2, y: 2, width: 20}\n"
	path := filepath.Join(dir, "logo.yaml")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	tm, err := LoadTemplate(path)
	if err != nil {
		t.Fatal(err)
	}
	l, err := Render(tm, nil, profile(t, "zebra-zt411-203"), 1)
	if err != nil {
		t.Fatal(err)
	}
	e := l.Elements[0]
	if e.Kind != KindImage || e.W != 160 || e.Bitmap == nil || e.Bitmap.W != 160 {
		t.Errorf("image element %+v", e)
	}
}

func qrcodePNG(t *testing.T) []byte {
	b, err := qrcode.Encode("logo", qrcode.Medium, 64)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestNonASCIIText(t *testing.T) {
	carton, _ := Builtin("carton")
	l, err := Render(carton, with("product", "Café crème"), profile(t, "zebra-zt411-203"), 1)
	if err != nil || !l.UTF8 {
		t.Errorf("UTF-8 on a ^CI28 profile: %v", err)
	}
	_, err = Render(carton, with("product", "Café crème"), profile(t, "generic-zpl-203"), 1)
	if !errors.Is(err, ErrProfile) {
		t.Errorf("UTF-8 on a profile without ^CI28: %v", err)
	}
}

func TestCode128Encoding(t *testing.T) {
	cases := []struct {
		data string
		gs1  bool
	}{
		{"0109520123456788", true}, {"10ABC123\x1d17251231", true}, {"ABC", false}, {"1", false},
		{"12", false}, {"123", false}, {"A1234B", false}, {"A12345", false}, {"99", false},
	}
	for _, c := range cases {
		cw, err := EncodeCode128(c.data, c.gs1)
		if err != nil {
			t.Fatal(err)
		}
		got, gs1 := cw.Text()
		if got != c.data || gs1 != c.gs1 {
			t.Errorf("%q: round trip %q gs1=%v", c.data, got, gs1)
		}
		sum := 0
		for _, w := range cw.Bars() {
			sum += w
		}
		if sum != cw.Modules() {
			t.Errorf("%q: bars %d modules, Modules() %d", c.data, sum, cw.Modules())
		}
	}
	if _, err := EncodeCode128("tab\there", false); !errors.Is(err, ErrData) {
		t.Errorf("control character: %v", err)
	}
	// The reference GS1-128 example: 0109520123456788 needs start C, FNC1, 8 pairs.
	cw, _ := EncodeCode128("0109520123456788", true)
	if len(cw.Codewords) != 10 || cw.Codewords[0] != c128StartC || cw.Codewords[1] != c128FNC1 {
		t.Errorf("codewords %v", cw.Codewords)
	}
}

func TestSymbolSizesMatchLibraries(t *testing.T) {
	for _, level := range []byte("LMQH") {
		lib := map[byte]qrcode.RecoveryLevel{'L': qrcode.Low, 'M': qrcode.Medium, 'Q': qrcode.High, 'H': qrcode.Highest}[level]
		for _, n := range []int{1, 10, 17, 40, 62, 63, 100, 300, 1000} {
			v := QRVersion(n, level)
			q, err := qrcode.NewWithForcedVersion(strings.Repeat("a", n), v, lib)
			if err != nil {
				t.Errorf("level %c, %d bytes: version %d does not hold them: %v", level, n, v, err)
				continue
			}
			if v > 1 {
				if _, err := qrcode.NewWithForcedVersion(strings.Repeat("a", n), v-1, lib); err == nil {
					t.Errorf("level %c, %d bytes: version %d would do, chose %d", level, n, v-1, v)
				}
			}
			_ = q
		}
	}
	for _, data := range []string{"01095201234567881727033110LOT-2026-0042", "0109520123456788", "10A\x1d17270331", strings.Repeat("AB12", 30)} {
		content := string([]byte{datamatrix.FNC1}) + strings.ReplaceAll(data, "\x1d", string([]byte{datamatrix.FNC1}))
		code, err := datamatrix.Encode(content)
		if err != nil {
			t.Fatal(err)
		}
		if got := DataMatrixSize(DataMatrixCodewords(data, true)); got != code.Bounds().Dx() {
			t.Errorf("%q: DataMatrix size %d, library %d", data, got, code.Bounds().Dx())
		}
	}
}

func FuzzParseTemplate(f *testing.F) {
	for _, tm := range []string{"carton", "item", "pallet"} {
		data, _ := builtinFS.ReadFile("templates/" + tm + ".yaml")
		f.Add(data)
	}
	p := profile(f, "zebra-zt411-203")
	f.Fuzz(func(t *testing.T, b []byte) {
		tm, err := ParseTemplate("fuzz.yaml", b, "")
		if err != nil {
			return
		}
		Render(tm, record, p, 1) // must not panic
	})
}

func BenchmarkRenderCarton(b *testing.B) {
	tm, _ := Builtin("carton")
	p := profile(b, "zebra-zt411-203")
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := Render(tm, record, p, 1); err != nil {
			b.Fatal(err)
		}
	}
}

func TestEPCValue(t *testing.T) {
	item, _ := Builtin("item")
	p := profile(t, "zebra-zt411r-203")
	for _, in := range []string{"3074257BF7194E4000001A85", "3074257bf7194e4000001a85", "urn:epc:tag:sgtin-96:3.0614141.812345.6789"} {
		l, err := Render(item, with("epc", in), p, 1)
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		last := l.Elements[len(l.Elements)-1]
		if last.Kind != KindRFID || last.EPC != "3074257BF7194E4000001A85" {
			t.Errorf("%s: RFID element %+v", in, last)
		}
	}
	if _, err := Render(item, with("epc", "urn:epc:tag:nonsense"), p, 1); !errors.Is(err, ErrValue) {
		t.Errorf("bad URI: %v", err)
	}
}

func TestExampleTemplate(t *testing.T) {
	tm, err := LoadTemplate(filepath.Join("testdata", "shelf.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	l, err := Render(tm, map[string]string{"gtin": "09520123456788", "lot": "lot-7", "product": "Oat drink"}, profile(t, "zebra-zd421-203"), 1)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Element{}
	for _, e := range l.Elements {
		got[e.Name] = e
	}
	if got["lot_text"].Lines[0] != "LOT LOT-7" || got["lot_bar"].Data != "lot-7" || got["link"].QRLevel != 'Q' ||
		got["link"].Data != "https://id.gs1.org/01/09520123456788/10/lot-7" {
		t.Errorf("layout %+v", got)
	}
}

func TestItemSymbolChoice(t *testing.T) {
	item, _ := Builtin("item")
	for _, id := range []string{"zebra-zt411-203", "zebra-zt411-300", "zebra-zt610-600"} {
		l, err := Render(item, with("symbol", "qr"), profile(t, id), 1)
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		kinds := map[Kind]bool{}
		for _, e := range l.Elements {
			kinds[e.Kind] = true
		}
		if !kinds[KindQR] || kinds[KindDataMatrix] {
			t.Errorf("%s: symbol=qr gave %v", id, kinds)
		}
	}
	var ve *ValueError
	if _, err := Render(item, with("symbol", "aztec"), profile(t, "zebra-zt411-203"), 1); !errors.As(err, &ve) || ve.Key != "symbol" {
		t.Errorf("symbol=aztec: %v", err)
	}
}

func TestBuiltinsDoNotOverlap(t *testing.T) {
	full := with("description", "Barista edition", "supplier", "Nordic Oats AB", "po", "PO-1")
	qr := with("symbol", "qr")
	for _, tm := range Builtins() {
		for _, p := range firmwareprofiles.List() {
			if !p.Supported() {
				continue
			}
			for _, vals := range []map[string]string{full, qr} {
				if vals["symbol"] != "" && tm.Name != "item" {
					continue
				}
				l, err := Render(tm, vals, p, 1)
				if err != nil {
					t.Fatal(err)
				}
				for i, a := range l.Elements {
					for _, b := range l.Elements[i+1:] {
						if a.Kind == KindLine || b.Kind == KindLine || a.Kind == KindBox || b.Kind == KindBox || a.Kind == KindRFID || b.Kind == KindRFID {
							continue
						}
						if a.X < b.X+b.W && b.X < a.X+a.W && a.Y < b.Y+b.H && b.Y < a.Y+a.H {
							t.Errorf("%s on %s: %s %v overlaps %s %v", tm.Name, p.ID, a.Name, []int{a.X, a.Y, a.W, a.H}, b.Name, []int{b.X, b.Y, b.W, b.H})
						}
					}
				}
			}
		}
	}
}

// A value's error quotes characters, not bytes ('Ü', not the 'Ã' of its
// first byte), counts its positions in characters, and names a character
// outside CSET 82 before a length that counts bytes; a real date outside
// the years of GS1's YYMMDD is not called "not a date".
func TestValueErrorsQuoteCharacters(t *testing.T) {
	carton, _ := Builtin("carton")
	p := profile(t, "zebra-zt411-203")
	for _, c := range []struct {
		key, val, want string
	}{
		{"lot", "ÜBER", `lot: "ÜBER" has 'Ü' at 0;`},
		{"lot", "AB😀", `lot: "AB😀" has '😀' at 2;`},
		{"lot", "ÄÖÜ1", `lot: "ÄÖÜ1" has 'Ä' at 0;`},
		{"lot", strings.Repeat("Ü", 15), `has 'Ü' at 0;`},
		{"lot", "A\xffB", `lot: "A\xffB" is not valid UTF-8`},
		{"po", "Bestellung-Ü", `po: "Bestellung-Ü" has 'Ü' at 11;`},
		{"epc", "30ÜBER", `character 'Ü' at position 3 is not a hexadecimal digit`},
		{"expiry", "9999-12-31", `expiry: "9999-12-31" is outside the years a GS1 date (YYMMDD) can carry, 1951 to 2149`},
	} {
		_, err := Render(carton, with(c.key, c.val), p, 1)
		if !errors.Is(err, ErrValue) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s %q: %v; want %q", c.key, c.val, err, c.want)
		}
	}
	for _, c := range []struct{ data, want string }{
		{"ABÜ", `'Ü' at 2: Code 128 data must be printable ASCII`},
		{"ÄÖ", `'Ä' at 0:`},
		{"A\xffB", `byte 0xFF at 1:`},
		{"A\tB", `byte 0x09 at 1:`},
	} {
		if _, err := EncodeCode128(c.data, false); !errors.Is(err, ErrData) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Code 128 %q: %v; want %q", c.data, err, c.want)
		}
	}
}

// A template file's value of the wrong type or unknown key names its path
// and what it takes, not the decoder's Go types.
func TestTemplateTypeErrorsNameTheKey(t *testing.T) {
	base := "name: t\nwidth_mm: 50\nlength_mm: 25\nvariables:\n  - {name: lot, type: lot}\nelements:\n"
	for _, c := range []struct{ src, want string }{
		{"name: t\nwidth_mm: wide\nlength_mm: 25\n", `line 2: width_mm: want a number, got "wide"`},
		{"name: t\nwidth_mm: 50\nlength_mm: 25\nvariables:\n  - {name: lot, type: lot, max_len: many}\n", `line 5: variables[0].max_len: want a whole number, got "many"`},
		{base + "  - {type: text, name: a, height: 3, value: x, colour: red}\n", `line 7: unknown key "colour" in elements[0]; known keys:`},
		{base + "  - {type: text, name: a, height: [3], value: x}\n", `line 7: elements[0].height: want a number, got a list`},
	} {
		_, err := ParseTemplate("t.yaml", []byte(c.src), "")
		if !errors.Is(err, ErrTemplate) || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "!!") || strings.Contains(err.Error(), "label.") {
			t.Errorf("%q: %v; want %q", c.src, err, c.want)
		}
	}
}
