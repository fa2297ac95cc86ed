package firmwareprofiles

import (
	"errors"
	"strings"
	"testing"
)

func TestEmbeddedProfilesLoad(t *testing.T) {
	if err := LoadError(); err != nil {
		t.Fatal(err)
	}
	want := []string{"generic-zpl-203", "honeywell-pm45-203", "tsc-te210-203", "zebra-zd421-203", "zebra-zd621-300",
		"zebra-zt411-203", "zebra-zt411-300", "zebra-zt411r-203", "zebra-zt610-600"}
	got := List()
	if len(got) != len(want) {
		t.Fatalf("List() has %d profiles, want %d", len(got), len(want))
	}
	for i, p := range got {
		if p.ID != want[i] {
			t.Errorf("List()[%d] = %s, want %s", i, p.ID, want[i])
		}
		if p.Transport.TCPPort != 9100 || p.Transport.MaxConnections != 1 || p.Transport.Serial.Baud != 9600 {
			t.Errorf("%s: transport defaults %+v", p.ID, p.Transport)
		}
		if widthMM := float64(p.PrintWidthDots) / p.DotsPerMM(); widthMM < 101 || widthMM > 110 {
			t.Errorf("%s: print width %.1f mm is not a 4-inch head", p.ID, widthMM)
		}
	}
}

func TestLookup(t *testing.T) {
	p, err := Lookup("zebra-zt411r-203")
	if err != nil {
		t.Fatal(err)
	}
	if !p.RFID.Supported || p.RFID.Setup != "^RS8" || p.RFID.WriteEPC != "^RFW,H,,,A" {
		t.Errorf("zt411r RFID = %+v", p.RFID)
	}
	if !p.RFID.RV || p.RFID.Tries != 3 || p.Status.LabelCounter != CounterSGD {
		t.Errorf("zt411r encode reports and counter: %+v %+v", p.RFID, p.Status)
	}
	if g, _ := Lookup("generic-zpl-203"); g.Status.LabelCounter != CounterNone {
		t.Errorf("generic profile label counter %q", g.Status.LabelCounter)
	}
	if p.Dots(25.4) != 203 || p.Dots(101.6) != 812 {
		t.Errorf("Dots: %d %d", p.Dots(25.4), p.Dots(101.6))
	}
	p.Symbologies["qr"] = Raster // a copy: must not leak
	q, _ := Lookup("zebra-zt411r-203")
	if !q.Native("qr") {
		t.Error("Lookup returned a shared profile")
	}
	if tsc, _ := Lookup("tsc-te210-203"); tsc.Supported() || tsc.Language != LangTSPL {
		t.Errorf("TSPL profile marked supported")
	}
	h, _ := Lookup("honeywell-pm45-203")
	if h.Status.HQESWarnings || h.Native(SymDataMatrix) {
		t.Errorf("honeywell quirks not recorded: %+v %v", h.Status, h.Symbologies)
	}
	if _, err := Lookup("nope"); !errors.Is(err, ErrUnknownProfile) || !strings.Contains(err.Error(), "zebra-zt411-203") {
		t.Errorf("Lookup(nope) = %v", err)
	}
}

const goodYAML = `id: test-1
vendor: V
model: M
dpi: 203
print_width_dots: 832
max_label_length_mm: 991
`

func TestParseErrors(t *testing.T) {
	if _, err := Parse("good.yaml", []byte(goodYAML)); err != nil {
		t.Fatalf("good profile: %v", err)
	}
	cases := []struct{ name, yaml, want string }{
		{"unknown key", goodYAML + "colour: red\n", "line 7: field colour not found"},
		{"nested unknown key", goodYAML + "zpl:\n  ci29: true\n", "line 8: field ci29 not found"},
		{"dpi", strings.Replace(goodYAML, "dpi: 203", "dpi: 200", 1), "dpi: 200 is not a print-head resolution"},
		{"no id", strings.Replace(goodYAML, "id: test-1", "", 1), "id: missing"},
		{"width", strings.Replace(goodYAML, "832", "0", 1), "print_width_dots"},
		{"language", goodYAML + "language: pcl\n", "language: \"pcl\""},
		{"symbology", goodYAML + "symbologies:\n  aztec: native\n", "unknown symbology \"aztec\""},
		{"mode", goodYAML + "symbologies:\n  qr: maybe\n", "symbologies.qr"},
		{"rfid", goodYAML + "rfid:\n  supported: true\n", "setup or write_epc is missing"},
		{"rfid injection", goodYAML + "rfid:\n  supported: true\n  setup: \"^RS8\"\n  write_epc: \"^RFW^XZ\"\n", "must not contain"},
		{"baud", goodYAML + "transport:\n  serial:\n    baud: 1234\n", "transport.serial.baud"},
		{"qr mag", goodYAML + "zpl:\n  qr_max_magnification: 11\n", "qr_max_magnification"},
		{"escape", goodYAML + "zpl:\n  bx_escape_default: \"^\"\n", "bx_escape_default"},
		{"two docs", goodYAML + "---\n" + goodYAML, "more than one YAML document"},
		{"empty", "", "empty document"},
		{"type", strings.Replace(goodYAML, "dpi: 203", "dpi: high", 1), "line 4"},
		{"label counter", goodYAML + "status:\n  hs: true\n  label_counter: odometer\n", "status.label_counter: \"odometer\""},
		{"counter without hs", goodYAML + "status:\n  sgd: true\n  label_counter: sgd\n", "needs hs: true"},
		{"sgd counter without sgd", goodYAML + "status:\n  hs: true\n  label_counter: sgd\n", "sgd needs sgd: true"},
		{"tries", goodYAML + "rfid:\n  supported: true\n  setup: \"^RS8\"\n  write_epc: \"^RFW,H,,,A\"\n  tries: 11\n", "rfid.tries"},
		{"void length", goodYAML + "rfid:\n  supported: true\n  setup: \"^RS8\"\n  write_epc: \"^RFW,H,,,A\"\n  void_length_dots: -1\n", "rfid.void_length_dots"},
		{"read epc", goodYAML + "rfid:\n  supported: true\n  setup: \"^RS8\"\n  write_epc: \"^RFW,H,,,A\"\n  read_epc: \"^HV1\"\n", "rfid.read_epc"},
		{"rv without rfid", goodYAML + "rfid:\n  rv: true\n", "supported is false"},
	}
	for _, c := range cases {
		_, err := Parse("p.yaml", []byte(c.yaml))
		if err == nil || !errors.Is(err, ErrInvalidProfile) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want it to contain %q", c.name, err, c.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(goodYAML))
	data, _ := embedded.ReadFile("zebra-zt411r-203.yaml")
	f.Add(data)
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Parse("fuzz.yaml", b)
		if err == nil {
			if err := p.Validate(); err != nil {
				t.Fatalf("Parse accepted a profile Validate rejects: %v", err)
			}
		}
	})
}
