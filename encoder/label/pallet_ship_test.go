package label

import (
	"strings"
	"testing"

	firmwareprofiles "github.com/dockgate/dockgate/firmware-profiles"
)

// The pallet-ship label carries the ship-to GLN (410) with the consignment
// (401) and the SSCC (00), on every supported profile, without overlaps;
// a ship-to GLN with a wrong check digit is refused.
func TestPalletShipLabel(t *testing.T) {
	tm, ok := Builtin("pallet-ship")
	if !ok {
		t.Fatal("no pallet-ship template")
	}
	vals := map[string]string{"sscc": "095201230000000011", "ship_to": "Acme Retail DC, 12 rue Merciere, 69002 Lyon",
		"ship_to_gln": "4012345000023", "consignment": "0614141SHP8812", "customer": "Acme Retail", "order": "8812",
		"carrier": "DHL Freight", "ship_from": "lyon", "po": "PO-8812", "gtin": "09520123456788", "qty": "24", "lot": "SUP-L1",
		"expiry": "2027-06-30", "product": "Greek yogurt 500 g"}
	for _, p := range firmwareprofiles.List() {
		if !p.Supported() {
			continue
		}
		l, err := Render(tm, vals, p, 1)
		if err != nil {
			t.Fatalf("%s: %v", p.ID, err)
		}
		var data []string
		for i, a := range l.Elements {
			if a.X < 0 || a.Y < 0 || a.X+a.W > l.Width || a.Y+a.H > l.Length {
				t.Errorf("%s: %s out of the label", p.ID, a.Name)
			}
			data = append(data, a.Data)
			for _, b := range l.Elements[i+1:] {
				if a.Kind == KindLine || b.Kind == KindLine || a.Kind == KindRFID || b.Kind == KindRFID {
					continue
				}
				if a.X < b.X+b.W && b.X < a.X+a.W && a.Y < b.Y+b.H && b.Y < a.Y+a.H {
					t.Errorf("%s: %s overlaps %s", p.ID, a.Name, b.Name)
				}
			}
		}
		joined := strings.Join(data, "|")
		if !strings.Contains(joined, "4104012345000023") || !strings.Contains(joined, "4010614141SHP8812") || !strings.Contains(joined, "00095201230000000011") {
			t.Fatalf("%s: barcodes %q", p.ID, joined)
		}
	}
	vals["ship_to_gln"] = "4012345000024"
	if _, err := Render(tm, vals, profile(t, "zebra-zt411-203"), 1); err == nil {
		t.Fatal("a ship-to GLN with a wrong check digit was printed")
	}
}

// The order and the PO are printed as text, not encoded: an order number
// with spaces, '#' or '/' prints, and the longest values the template
// takes fit on every supported profile.
func TestPalletShipLabelTakesOrdersAsWritten(t *testing.T) {
	tm, ok := Builtin("pallet-ship")
	if !ok {
		t.Fatal("no pallet-ship template")
	}
	text := func(n int) string { return strings.Repeat("Abcd efgh ", 20)[:n] }
	for name, vals := range map[string]map[string]string{
		"order as written": {"order": "SO 2026/77 #3", "po": "PO #4711 rev. 2"},
		"longest":          {"order": text(30), "po": text(30), "customer": text(80), "ship_to": text(120), "carrier": text(40), "ship_from": "lyon-north-dock"},
	} {
		vals["sscc"] = "095201230000000011"
		for _, p := range firmwareprofiles.List() {
			if !p.Supported() {
				continue
			}
			if _, err := Render(tm, vals, p, 1); err != nil {
				t.Errorf("%s on %s: %v", name, p.ID, err)
			}
		}
	}
}
