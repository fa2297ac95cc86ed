package llrp_test

import (
	"bytes"
	"encoding/hex"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dockgate/dockgate/rfid/llrp"
)

// readHex reads a testdata hex file: hex bytes separated by white space,
// '#' comments to the end of a line.
func readHex(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var digits strings.Builder
	for _, line := range strings.Split(string(b), "\n") {
		line, _, _ = strings.Cut(line, "#")
		digits.WriteString(strings.Join(strings.Fields(line), ""))
	}
	raw, err := hex.DecodeString(digits.String())
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return raw
}

// modelFixtures are the capability replies of reader models, byte for byte.
var modelFixtures = []string{"r700-capabilities.hex", "fx9600-capabilities.hex"}

// want describes a model's reply field by field; tables by their first and
// last entries, step and length.
type wantCaps struct {
	antennas             uint16
	setProps, utc        bool
	maker, model         uint32
	firmware             string
	gpis, gpos           uint16
	stateAware           bool
	country, standard    uint16
	powers               int
	powerFirst, powerEnd int16 // dBm×100
	powerStep            int16
	sens                 int
	sensFirst, sensEnd   int16
	modes                []uint32
	hopChannels          int
	customs              int // custom parameters at the top level, skipped
}

func TestModelCapabilityFixtures(t *testing.T) {
	for name, w := range map[string]wantCaps{
		"r700-capabilities.hex": {antennas: 4, utc: true, maker: 25882, model: 2001052, firmware: "8.4.1.240",
			gpis: 4, gpos: 4, country: 840, standard: 1,
			powers: 93, powerFirst: 1000, powerEnd: 3300, powerStep: 25,
			sens: 63, sensFirst: -92, sensEnd: -30,
			modes: []uint32{0, 1, 2, 3, 4, 1002, 1004}, hopChannels: 50, customs: 2},
		"fx9600-capabilities.hex": {antennas: 4, setProps: true, utc: true, maker: 161, model: 9600, firmware: "3.21.21",
			gpis: 4, gpos: 4, stateAware: true, country: 840, standard: 1,
			powers: 215, powerFirst: 1010, powerEnd: 3150, powerStep: 10,
			sens: 21, sensFirst: -80, sensEnd: -40,
			modes: []uint32{0, 1, 2, 3, 4, 23}, hopChannels: 50, customs: 2},
	} {
		t.Run(name, func(t *testing.T) {
			raw := readHex(t, name)
			m, err := llrp.NewDecoder(bytes.NewReader(raw), 0).Next()
			if err != nil {
				t.Fatal(err)
			}
			if m.Type != llrp.MsgGetReaderCapabilitiesResponse || m.ID != 1 {
				t.Fatalf("message type %d ID %d, want 11 and 1", m.Type, m.ID)
			}
			c, err := llrp.ParseCapabilities(m.Body)
			if err != nil {
				t.Fatal(err)
			}
			if c.MaxAntennas != w.antennas || c.CanSetAntennaProperties != w.setProps || c.HasUTCClock != w.utc ||
				c.Manufacturer != w.maker || c.Model != w.model || c.Firmware != w.firmware {
				t.Errorf("general: %d antennas, set props %v, UTC %v, maker %d, model %d, firmware %q",
					c.MaxAntennas, c.CanSetAntennaProperties, c.HasUTCClock, c.Manufacturer, c.Model, c.Firmware)
			}
			if c.NumGPIs != w.gpis || c.NumGPOs != w.gpos || c.StateAwareSingulation != w.stateAware ||
				c.CountryCode != w.country || c.CommsStandard != w.standard || !c.Hopping {
				t.Errorf("GPIO %d/%d, state aware %v, country %d standard %d, hopping %v",
					c.NumGPIs, c.NumGPOs, c.StateAwareSingulation, c.CountryCode, c.CommsStandard, c.Hopping)
			}
			if len(c.PowerTable) != w.powers {
				t.Fatalf("%d power levels, want %d", len(c.PowerTable), w.powers)
			}
			for i, e := range c.PowerTable {
				if e.Index != uint16(i+1) || e.DBm100 != w.powerFirst+int16(i)*w.powerStep {
					t.Fatalf("power entry %d: %+v", i, e)
				}
			}
			if end := c.PowerTable[len(c.PowerTable)-1].DBm100; end != w.powerEnd {
				t.Errorf("power table ends at %d, want %d", end, w.powerEnd)
			}
			if len(c.Sensitivities) != w.sens || c.Sensitivities[0].DB != w.sensFirst ||
				c.Sensitivities[len(c.Sensitivities)-1].DB != w.sensEnd {
				t.Errorf("sensitivities %+v", c.Sensitivities)
			}
			for i, e := range c.Sensitivities {
				if e.Index != uint16(i+1) {
					t.Errorf("sensitivity entry %d has Index %d", i, e.Index)
				}
			}
			var ids []uint32
			for _, md := range c.RFModes {
				ids = append(ids, md.ID)
				if md.BDR == 0 || md.PIE < 1500 || md.PIE > 2000 || md.MinTari < 6250 || md.MaxTari > 25000 || md.MinTari > md.MaxTari || md.Mask < 1 || md.Mask > 3 || md.M > 3 {
					t.Errorf("RF mode %+v is not a Gen2 mode", md)
				}
			}
			if !slices.Equal(ids, w.modes) {
				t.Errorf("RF modes %v, want %v", ids, w.modes)
			}
			if len(c.HopTables) != 1 || c.HopTables[0].ID != 1 || len(c.HopTables[0].FrequenciesKHz) != w.hopChannels ||
				len(c.HopTableIDs) != 1 || c.HopTableIDs[0] != 1 {
				t.Fatalf("hop tables %+v", c.HopTables)
			}
			seen := map[uint32]bool{}
			for _, f := range c.HopTables[0].FrequenciesKHz {
				if f < 902750 || f > 927250 || (f-902750)%500 != 0 || seen[f] {
					t.Errorf("hop frequency %d kHz is not a distinct US channel", f)
				}
				seen[f] = true
			}
			// Power mapping at the table's edges.
			if i, err := llrp.PowerIndex(c.PowerTable, float64(w.powerEnd)/100); err != nil || i != uint16(w.powers) {
				t.Errorf("max power: index %d, %v", i, err)
			}
			if i, err := llrp.PowerIndex(c.PowerTable, float64(w.powerFirst)/100); err != nil || i != 1 {
				t.Errorf("min power: index %d, %v", i, err)
			}
			// The custom parameters are skipped; what was parsed, with them
			// appended again, re-encodes to the fixture byte for byte.
			it := llrp.NewParams(m.Body)
			var extra []byte
			n := 0
			for p, ok := it.Next(); ok; p, ok = it.Next() {
				if p.Type == llrp.ParamCustom {
					n++
					extra = append(extra, tlv(p.Type, p.Value)...)
				}
			}
			if n != w.customs {
				t.Errorf("%d custom parameters, want %d", n, w.customs)
			}
			c.Extra = extra
			if got := llrp.AppendCapabilitiesResponse(nil, 1, llrp.Status{}, c); !bytes.Equal(got, raw) {
				t.Errorf("re-encoded reply differs from the fixture:\n% X\nwant\n% X", got, raw)
			}
		})
	}
}
