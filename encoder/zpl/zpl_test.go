package zpl

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dockgate/dockgate/encoder/label"
	firmwareprofiles "github.com/dockgate/dockgate/firmware-profiles"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// record is the lot/carton record the golden labels are made from.
var record = map[string]string{
	"gtin": "09520123456788", "lot": "LOT-2026-0042", "expiry": "2027-03-31", "production": "2026-11-02",
	"qty": "24", "sscc": "095201230000000011", "product": "Organic Oat Drink 1 L", "description": "Barista edition, 6 x 1 L",
	"supplier": "Nordic Oats AB", "po": "PO-778812", "epc": "3074257BF7194E4000001A85",
}

func mustProfile(t testing.TB, id string) *label.Profile {
	t.Helper()
	p, err := firmwareprofiles.Lookup(id)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func render(t testing.TB, tmpl, profile string, vals map[string]string, qty int) (*label.Layout, []byte) {
	t.Helper()
	tm, ok := label.Builtin(tmpl)
	if !ok {
		t.Fatalf("no built-in %s", tmpl)
	}
	p := mustProfile(t, profile)
	l, err := label.Render(tm, vals, p, qty)
	if err != nil {
		t.Fatalf("%s/%s: Render: %v", tmpl, profile, err)
	}
	out, err := Encode(l, p)
	if err != nil {
		t.Fatalf("%s/%s: Encode: %v", tmpl, profile, err)
	}
	return l, out
}

func TestCRC16XMODEMVector(t *testing.T) {
	const vector = ":Z64:eNr7/x8GGhj+/2cAYUZsLCjNAFKJjQUDAOLDM1I=:8f39"
	b64 := strings.Split(vector, ":")[2]
	if got := fmt.Sprintf("%04x", CRC16XMODEM([]byte(b64))); got != "8f39" {
		t.Errorf("CRC = %s, want 8f39", got)
	}
	if got := CRC16XMODEM([]byte("123456789")); got != 0x31C3 {
		t.Errorf("CRC-16/XMODEM check value = %04x, want 31c3", got)
	}
	f, err := Interpret([]byte("^XA^FO0,0^GFA,80,80,10," + vector + "^FS^XZ"))
	if err != nil {
		t.Fatalf("Interpret of the reference graphic: %v", err)
	}
	if g := f[0].Fields[0]; g.Kind != FieldGraphic || len(g.Graphic) != 80 || g.GraphicW != 80 || g.GraphicH != 8 {
		t.Errorf("graphic field = %+v", g)
	}
}

func TestGolden(t *testing.T) {
	for _, tmpl := range []string{"carton", "item", "pallet"} {
		for _, p := range firmwareprofiles.List() {
			if !p.Supported() {
				continue
			}
			name := tmpl + "_" + p.ID
			t.Run(name, func(t *testing.T) {
				_, out := render(t, tmpl, p.ID, record, 1)
				path := filepath.Join("testdata", name+".zpl.golden")
				if *update {
					if err := os.WriteFile(path, out, 0o644); err != nil {
						t.Fatal(err)
					}
					return
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("%v (run go test -update)", err)
				}
				if !bytes.Equal(out, want) {
					t.Errorf("ZPL differs from %s (run go test -update after checking the change):\n%s", path, out)
				}
			})
		}
	}
}

func BenchmarkCartonZPL(b *testing.B) {
	p := mustProfile(b, "zebra-zt411-203")
	tm, _ := label.Builtin("carton")
	vals := map[string]string{}
	for k, v := range record {
		if k != "epc" {
			vals[k] = v
		}
	}
	b.ReportAllocs()
	var n int
	for i := 0; i < b.N; i++ {
		l, err := label.Render(tm, vals, p, 1)
		if err != nil {
			b.Fatal(err)
		}
		out, err := Encode(l, p)
		if err != nil {
			b.Fatal(err)
		}
		n = len(out)
	}
	b.ReportMetric(float64(n), "bytes/label")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1000, "µs/label")
}

func BenchmarkEncodeOnly(b *testing.B) {
	p := mustProfile(b, "zebra-zt411-203")
	tm, _ := label.Builtin("carton")
	l, err := label.Render(tm, record, p, 1)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := Encode(l, p); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkInterpretCarton(b *testing.B) {
	_, out := render(b, "carton", "zebra-zt411-203", record, 1)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := Interpret(out); err != nil {
			b.Fatal(err)
		}
	}
}
