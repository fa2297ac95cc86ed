package zpl

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/dockgate/dockgate/encoder/label"
	"github.com/dockgate/dockgate/encoder/raster"
	firmwareprofiles "github.com/dockgate/dockgate/firmware-profiles"
)

// checkPayloads interprets the ZPL and compares every barcode field with
// the layout element it came from: the payload the printer will encode
// must be the one the layout intends.
func checkPayloads(t *testing.T, l *label.Layout, out []byte) {
	t.Helper()
	fs, err := Interpret(out)
	if err != nil {
		t.Fatalf("Interpret: %v\n%s", err, out)
	}
	if len(fs) != 1 || Labels(fs) != l.Quantity {
		t.Fatalf("%d formats, %d labels; want 1 format, %d labels", len(fs), Labels(fs), l.Quantity)
	}
	if n := bytes.Count(out, []byte("^XA")); n != 1 {
		t.Fatalf("%d ^XA in one format", n)
	}
	f := fs[0]
	if f.Width != l.Width || f.Length != l.Length {
		t.Errorf("^PW %d ^LL %d, layout %dx%d", f.Width, f.Length, l.Width, l.Length)
	}
	byPos := map[[2]int][]Field{}
	for _, fd := range f.Fields {
		byPos[[2]int{fd.X, fd.Y}] = append(byPos[[2]int{fd.X, fd.Y}], fd)
	}
	for _, e := range l.Elements {
		var fields []Field
		if e.Kind != label.KindRFID {
			fields = byPos[[2]int{e.X, e.Y}]
		}
		switch {
		case e.Kind == label.KindRFID:
			found := false
			for _, fd := range f.Fields {
				found = found || (fd.Kind == FieldRFIDWrite && fd.Data == e.EPC)
			}
			if !found {
				t.Errorf("%s: no ^RFW writing %s", e.Name, e.EPC)
			}
		case e.Kind == label.KindText:
			for i, line := range e.Lines {
				got := byPos[[2]int{e.X, e.Y + i*e.LineHeight}]
				if len(got) == 0 || got[0].Kind != FieldText || got[0].Data != line {
					t.Errorf("%s line %d: printer text %+v, want %q", e.Name, i, got, line)
				}
			}
		case e.Raster:
			if len(fields) != 1 || fields[0].Kind != FieldGraphic {
				t.Errorf("%s: want one ^GF at %d,%d, got %+v", e.Name, e.X, e.Y, fields)
				continue
			}
			bm, _ := raster.Symbol(&e)
			packed, bpr := PackBitmap(bm)
			if !bytes.Equal(fields[0].Graphic, packed) || fields[0].GraphicW != bpr*8 {
				t.Errorf("%s: ^GF bitmap differs from the rendered symbol", e.Name)
			}
		case e.Kind == label.KindCode128 || e.Kind == label.KindGS1128 || e.Kind == label.KindQR || e.Kind == label.KindDataMatrix:
			if len(fields) != 1 {
				t.Errorf("%s: %d fields at %d,%d", e.Name, len(fields), e.X, e.Y)
				continue
			}
			fd := fields[0]
			if fd.Data != e.Data || fd.GS1 != e.GS1 || fd.Module != e.Module {
				t.Errorf("%s: printer encodes %q (GS1 %v, module %d), layout intends %q (GS1 %v, module %d)",
					e.Name, fd.Data, fd.GS1, fd.Module, e.Data, e.GS1, e.Module)
			}
			if e.Kind == label.KindQR && (fd.QRLevel != e.QRLevel || fd.QRMode != "M,B") {
				t.Errorf("%s: QR level %c mode %s", e.Name, fd.QRLevel, fd.QRMode)
			}
		}
	}
}

func TestPayloadsAllTemplatesAllProfiles(t *testing.T) {
	for _, tmpl := range []string{"carton", "item", "pallet"} {
		for _, p := range firmwareprofiles.List() {
			if !p.Supported() {
				continue
			}
			l, out := render(t, tmpl, p.ID, record, 1)
			t.Run(tmpl+"_"+p.ID, func(t *testing.T) { checkPayloads(t, l, out) })
		}
	}
}

func TestInjectionPrintsLiterally(t *testing.T) {
	vals := map[string]string{}
	for k, v := range record {
		vals[k] = v
	}
	evil := "^XZ^XA^FDX^FS^XZ ~JA _5E \\& caf\u00e9"
	vals["product"] = evil
	vals["supplier"] = "A>B ~ C^D"
	vals["po"] = "PO_1>2"
	vals["lot"] = "L_>1"
	l, out := render(t, "carton", "zebra-zt411-203", vals, 3)
	checkPayloads(t, l, out)
	if bytes.Count(out, []byte("^XA")) != 1 || bytes.Count(out, []byte("^XZ")) != 1 || bytes.Contains(out, []byte("~")) {
		t.Fatalf("escaping failed:\n%s", out)
	}
	fs, _ := Interpret(out)
	if Labels(fs) != 3 {
		t.Errorf("labels = %d, want 3", Labels(fs))
	}
	var texts []string
	for _, f := range fs[0].Fields {
		if f.Kind == FieldText {
			texts = append(texts, f.Data)
		}
	}
	joined := strings.Join(texts, " ")
	if !strings.Contains(joined, "^XZ^XA^FDX^FS^XZ ~JA _5E") || !strings.Contains(joined, "A>B ~ C^D") {
		t.Errorf("printed text %q does not hold the values literally", joined)
	}
}

func TestCode128InvocationCodes(t *testing.T) {
	cases := []struct {
		data string
		gs1  bool
		want string
	}{
		{"0109520123456788", true, ">;>80109520123456788"},
		{"ABC", false, ">:ABC"},
		{"a>b^c~d", false, ">:a>0b><c>=d"},
		{"10ABC123" + "\x1d" + "17251231", true, ">:>810ABC123>8>517251231"},
		{"12345", false, ">;1234>65"},
		{"AB123456CD", false, ">:AB>5123456>6CD"},
	}
	for _, c := range cases {
		cw, err := label.EncodeCode128(c.data, c.gs1)
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		if err := code128Data(&b, cw); err != nil {
			t.Fatal(err)
		}
		if b.String() != c.want {
			t.Errorf("%q: ZPL %q, want %q", c.data, b.String(), c.want)
		}
		got, gs1, err := code128Payload(b.String())
		if err != nil || got != c.data || gs1 != c.gs1 {
			t.Errorf("%q: interpreted back as %q gs1=%v err=%v", c.data, got, gs1, err)
		}
	}
}

func TestInterpretGuideExamples(t *testing.T) {
	// The reference GS1-128 example and the QR and DataMatrix prefixes.
	zpl := "^XA^FO10,10^BY3^BCN,120,Y,N,N^FD>;>80109520123456788>810>6ABC123^FS" +
		"^FO10,200^BQN,2,5^FDQA,https://example.com/01/1^FS" +
		"^FO10,400^BQN,2,5^FH^FDMM,B0005a_5Fb_7Ec^FS" +
		"^FO300,400^BXN,5,200,,,,_^FD_10109520123456788_110__x_d094^FS" +
		"^FO300,600^BXN,5,200^FDABC^FS" +
		"^FO10,800^BCN,100,Y,N,N,D^FD(01)09520123456788(10)AB^FS" +
		"^PQ2^XZ junk ~HS ^XA^FO1,1^FDx^FS^XZ"
	fs, err := Interpret([]byte(zpl))
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 2 || Labels(fs) != 3 {
		t.Fatalf("formats %d labels %d", len(fs), Labels(fs))
	}
	want := []struct {
		kind, data string
		gs1        bool
	}{
		{FieldCode128, "0109520123456788\x1d10ABC123", false},
		{FieldQR, "https://example.com/01/1", false},
		{FieldQR, "a_b~c", false},
		{FieldDataMatrix, "0109520123456788\x1d10_x^", true},
		{FieldDataMatrix, "ABC", false},
		{FieldCode128, "0109520123456788" + "10AB", true},
	}
	for i, w := range want {
		f := fs[0].Fields[i]
		if f.Kind != w.kind || f.Data != w.data || (i > 0 && f.GS1 != w.gs1) {
			t.Errorf("field %d: %s %q, want %s %q", i, f.Kind, f.Data, w.kind, w.data)
		}
	}
	// the reference example: FNC1 at the start makes it GS1-128
	if !fs[0].Fields[0].GS1 {
		t.Error("^BC >;>8… is not read as GS1")
	}
	bad := []string{
		"^XA^FO1,1^BQN,2,5^FDMM,B0009abc^FS^XZ",   // count larger than the data
		"^XA^FO1,1^BCN^FD>;12A4^FS^XZ",            // letter in subset C
		"^XA^FO1,1^BXN,5,200,,,,_^FD_q^FS^XZ",     // unknown escape
		"^XA^FO1,1^FH^FDab_4^FS^XZ",               // cut ^FH escape
		"^XA^FO1,1^GFA,8,8,1,:Z64:abc:0000^FS^XZ", // bad CRC
		"^XA^FDopen", // no ^XZ
		"^XA^XA^XZ",  // nested
	}
	for _, b := range bad {
		if _, err := Interpret([]byte(b)); err == nil {
			t.Errorf("Interpret(%q) accepted", b)
		}
	}
}

func TestRFIDOnlyWhereSupported(t *testing.T) {
	l, out := render(t, "carton", "zebra-zt411-203", record, 1)
	if bytes.Contains(out, []byte("^RF")) || len(l.Warnings) != 1 {
		t.Errorf("non-RFID profile: ^RF in output or warnings %v", l.Warnings)
	}
	_, out = render(t, "item", "zebra-zt411r-203", record, 1)
	if !bytes.Contains(out, []byte("^RS8\n^RFW,H,,,A^FD3074257BF7194E4000001A85^FS")) {
		t.Errorf("RFID write missing:\n%s", out)
	}
	tm, _ := label.Builtin("item")
	if _, err := label.Render(tm, record, mustProfile(t, "zebra-zt411r-203"), 2); err == nil || !strings.Contains(err.Error(), "qty") {
		t.Errorf("qty 2 with one EPC: %v", err)
	}
}

func TestEncodeRejectsForeignLayout(t *testing.T) {
	l, _ := render(t, "carton", "zebra-zt411-300", record, 1)
	if _, err := Encode(l, mustProfile(t, "zebra-zt411-203")); err == nil {
		t.Error("a 300-dpi layout was encoded for a 203-dpi profile")
	}
}

func TestCartonSizeWithoutRaster(t *testing.T) {
	for _, p := range firmwareprofiles.List() {
		if !p.Supported() || !p.Native("qr") || !p.Native("gs1-128") {
			continue
		}
		_, out := render(t, "carton", p.ID, record, 1)
		if len(out) > 2048 {
			t.Errorf("%s: carton ZPL is %d bytes, budget 2048", p.ID, len(out))
		}
	}
}

func FuzzCartonValues(f *testing.F) {
	f.Add("Organic Oat Drink", "LOT-1", "Nordic", "PO-1", "Desc")
	f.Add("^XZ^XA^FDX^FS^XZ", "L_>1", "~JA", "^XA", "\\&_5E")
	f.Add("\u00e9\u00fc\u4e2d", "A!\"%&'()*+", "x", "y", "z")
	p := mustProfile(f, "zebra-zt411r-203")
	tm, _ := label.Builtin("carton")
	f.Fuzz(func(t *testing.T, product, lot, supplier, po, desc string) {
		vals := map[string]string{"gtin": "09520123456788", "lot": lot, "product": product, "supplier": supplier,
			"po": po, "description": desc, "expiry": "2027-03-31", "sscc": "095201230000000011"}
		l, err := label.Render(tm, vals, p, 1)
		if err != nil {
			return // invalid values are refused, not printed
		}
		out, err := Encode(l, p)
		if err != nil {
			t.Fatalf("Encode of a valid layout: %v", err)
		}
		if n := bytes.Count(out, []byte("^XA")); n != 1 {
			t.Fatalf("%d ^XA for one copy:\n%s", n, out)
		}
		if bytes.ContainsAny(out, "~") {
			t.Fatalf("a ~ reached the printer:\n%s", out)
		}
		checkPayloads(t, l, out)
	})
}

func FuzzInterpret(f *testing.F) {
	f.Add([]byte("^XA^FO10,10^BY3^BCN,120,Y,N,N^FD>;>80109520123456788>810>6ABC123^FS^XZ"))
	f.Add([]byte("^XA^FO1,1^BQN,2,5^FH^FDMM,B0005a_5Fb_7Ec^FS^PQ3^XZ"))
	f.Add([]byte("^XA^FO0,0^GFA,80,80,10,:Z64:eNr7/x8GGhj+/2cAYUZsLCjNAFKJjQUDAOLDM1I=:8f39^FS^XZ"))
	f.Fuzz(func(t *testing.T, b []byte) {
		fs, err := Interpret(b)
		if err == nil && Labels(fs) < len(fs) {
			t.Fatalf("labels %d < formats %d", Labels(fs), len(fs))
		}
	})
}

func TestRasterFallbackGS1128(t *testing.T) {
	p := mustProfile(t, "zebra-zt411-203")
	p.Symbologies["gs1-128"] = firmwareprofiles.Raster
	tm, _ := label.Builtin("carton")
	l, err := label.Render(tm, record, p, 1)
	if err != nil {
		t.Fatal(err)
	}
	out, err := Encode(l, p)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(out, []byte("^BC")) || !bytes.Contains(out, []byte("^GFA,")) {
		t.Fatalf("GS1-128 not rasterised:\n%s", out)
	}
	checkPayloads(t, l, out)
}

func TestGS1128Capacity(t *testing.T) {
	src := "name: t\nwidth_mm: 100\nlength_mm: 50\nvariables:\n  - {name: lot, type: lot}\n" +
		"elements:\n  - {type: gs1-128, name: g, x: 0, y: 0, module: 0.19, ais: \"(01)09520123456788(17)270331(11)260101(15)270101(10){{lot}}\"}\n"
	tm, err := label.ParseTemplate("t.yaml", []byte(src), "")
	if err != nil {
		t.Fatal(err)
	}
	_, err = label.Render(tm, map[string]string{"lot": strings.Repeat("A", 20)}, mustProfile(t, "zebra-zt610-600"), 1)
	if !errors.Is(err, label.ErrData) || !strings.Contains(err.Error(), "48") {
		t.Errorf("62 data characters in one GS1-128: %v", err)
	}
}
