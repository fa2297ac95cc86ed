package llrp_test

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/dockgate/dockgate/rfid/llrp"
	"github.com/dockgate/dockgate/rfid/readersim"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func ptr[T any](v T) *T { return &v }

// TestAntennaConfigurationBytes checks the encoding against LLRP 1.0.1's
// layouts (field reference §1), parameter by parameter.
func TestAntennaConfigurationBytes(t *testing.T) {
	ac := llrp.AntennaConfig{
		AntennaID:   1,
		Receiver:    ptr(uint16(5)),
		Transmitter: &llrp.Transmitter{HopTableID: 1, ChannelIndex: 1, Power: 61},
		Inventory: &llrp.InventoryCommand{
			StateAware: true,
			RFControl:  &llrp.RFControl{ModeIndex: 1000},
			Singulation: &llrp.Singulation{Session: 1, TagPopulation: 32,
				StateAction: &llrp.StateAction{B: true}},
			ImpinjSearchMode: ptr(llrp.ImpinjSearchDualTarget),
		},
	}
	want := unhex(t, ""+
		"00 DE 00 41 00 01"+ // AntennaConfiguration 222, length 65, antenna 1
		"00 DF 00 06 00 05"+ // RFReceiver 223: sensitivity index 5
		"00 E0 00 0A 00 01 00 01 00 3D"+ // RFTransmitter 224: hop table 1, channel 1, power index 61
		"01 4A 00 2B 80"+ // C1G2InventoryCommand 330, length 43, TagInventoryStateAware
		"01 4F 00 08 03 E8 00 00"+ // C1G2RFControl 335: mode 1000, Tari 0
		"01 50 00 10 40 00 20 00 00 00 00"+ // C1G2SingulationControl 336: S1, population 32, transit 0
		"01 51 00 05 80"+ // C1G2TagInventoryStateAwareSingulationAction 337: B
		"03 FF 00 0E 00 00 65 1A 00 00 00 17 00 02") // Impinj search mode: Dual_Target
	ro := llrp.ROSpec{ID: 1, InventorySpec: 1, AntennaConfigs: []llrp.AntennaConfig{ac}}
	msg := llrp.AppendAddROSpec(nil, 7, ro)
	if !bytes.Contains(msg, want) {
		t.Fatalf("ADD_ROSPEC\n% X\ndoes not carry\n% X", msg, want)
	}
	// It sits in the InventoryParameterSpec (186), whose length counts it.
	ips := append(unhex(t, "00 BA"), binary.BigEndian.AppendUint16(nil, uint16(7+len(want)))...)
	ips = append(append(ips, 0, 1, 1), want...)
	if !bytes.Contains(msg, ips) {
		t.Fatalf("AntennaConfiguration is not inside the InventoryParameterSpec:\n% X", msg)
	}
	m, err := llrp.NewDecoder(bytes.NewReader(msg), 0).Next()
	if err != nil {
		t.Fatal(err)
	}
	got, err := llrp.ParseAddROSpec(m.Body)
	if err != nil || !reflect.DeepEqual(got.AntennaConfigs, ro.AntennaConfigs) {
		t.Fatalf("round trip %+v, %v", got.AntennaConfigs, err)
	}
}

// The reference's example: session 2, population 32.
func TestSingulationControlReferenceBytes(t *testing.T) {
	ro := llrp.ROSpec{ID: 1, AntennaConfigs: []llrp.AntennaConfig{{Inventory: &llrp.InventoryCommand{
		Singulation: &llrp.Singulation{Session: 2, TagPopulation: 32}}}}}
	msg := llrp.AppendAddROSpec(nil, 1, ro)
	if !bytes.Contains(msg, unhex(t, "01 4A 00 10 00 01 50 00 0B 80 00 20 00 00 00 00")) {
		t.Fatalf("% X", msg)
	}
}

func tlv(typ uint16, parts ...[]byte) []byte {
	b := binary.BigEndian.AppendUint16(nil, typ)
	body := bytes.Join(parts, nil)
	b = binary.BigEndian.AppendUint16(b, uint16(4+len(body)))
	return append(b, body...)
}

// capsBody builds a GET_READER_CAPABILITIES_RESPONSE body by hand from the
// spec's layouts, with vendors' custom parameters at every level; entry81
// is the value of the last power table entry.
func capsBody(t *testing.T, entry81 string) []byte {
	impinj := unhex(t, "03 FF 00 10 00 00 65 1A 00 00 00 20 00 00 00 01")
	zebra := unhex(t, "03 FF 00 0E 00 00 00 A1 00 00 00 01 AB CD")
	body := bytes.Join([][]byte{
		tlv(287, unhex(t, "00 00 00 00")),
		impinj,
		tlv(137, unhex(t, "00 04 C0 00 00 00 65 1A 00 1E 88 6A 00 05"), []byte("7.1.0"),
			tlv(139, unhex(t, "00 01 00 00")), tlv(139, unhex(t, "00 02 00 0A")),
			zebra,
			tlv(141, unhex(t, "00 04 00 02"))),
		tlv(142, unhex(t, "10 01 00 00"), make([]byte, 20)),
		tlv(143, unhex(t, "03 48 00 01"),
			tlv(144,
				tlv(145, unhex(t, "00 01 03 E8")),
				tlv(145, unhex(t, "00 60 07 A8")),
				impinj,
				tlv(145, unhex(t, entry81)),
				tlv(146, unhex(t, "80"), tlv(147, unhex(t, "07 00 00 01 00 0D F7 32"))),
				tlv(328, tlv(329, unhex(t, "00 00 03 E8 80 01 02 03 00 00 9C 40 00 00 05 DC 00 00 18 6A 00 00 61 A8 00 00 00 00")), zebra),
			)),
		zebra,
	}, nil)
	return body
}

func TestParseCapabilitiesRF(t *testing.T) {
	got, err := llrp.ParseCapabilities(capsBody(t, "00 51 0B B8"))
	if err != nil {
		t.Fatal(err)
	}
	want := llrp.Capabilities{MaxAntennas: 4, CanSetAntennaProperties: true, HasUTCClock: true,
		Manufacturer: 25882, Model: 2001002, Firmware: "7.1.0",
		Sensitivities: []llrp.SensitivityLevel{{1, 0}, {2, 10}}, NumGPIs: 4, NumGPOs: 2,
		StateAwareSingulation: true, CountryCode: 840, CommsStandard: 1,
		PowerTable: []llrp.PowerLevel{{1, 1000}, {96, 1960}, {81, 3000}},
		Hopping:    true, HopTableIDs: []uint8{7}, HopTables: []llrp.HopTable{{ID: 7, FrequenciesKHz: []uint32{915250}}},
		RFModes: []llrp.RFMode{{ID: 1000, DR64_3: true, M: 1, Modulation: 2, Mask: 3, BDR: 40000,
			PIE: 1500, MinTari: 6250, MaxTari: 25000}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %+v\nwant %+v", got, want)
	}
	// A truncated table entry is an error, not a silent zero.
	if _, err := llrp.ParseCapabilities(capsBody(t, "00 51 0B")); !errors.Is(err, llrp.ErrMalformed) {
		t.Fatalf("truncated entry: %v, want ErrMalformed", err)
	}
}

func TestSimCapabilitiesRoundTrip(t *testing.T) {
	caps := readersim.SimRFCapabilities(llrp.Capabilities{MaxAntennas: 4, Firmware: "x"})
	m, err := llrp.NewDecoder(bytes.NewReader(llrp.AppendCapabilitiesResponse(nil, 1, llrp.Status{}, caps)), 0).Next()
	if err != nil {
		t.Fatal(err)
	}
	got, err := llrp.ParseCapabilities(m.Body)
	if err != nil {
		t.Fatal(err)
	}
	caps.Extra = nil // the custom parameters are skipped
	if !reflect.DeepEqual(got, caps) {
		t.Fatalf("got  %+v\nwant %+v", got, caps)
	}
}

func TestPowerIndex(t *testing.T) {
	var r420 []llrp.PowerLevel
	for i := uint16(1); i <= 81; i++ {
		r420 = append(r420, llrp.PowerLevel{Index: i, DBm100: int16(1000 + 25*(i-1))})
	}
	// FX9600-style: indexes are not positions, and the list is unordered.
	fx := []llrp.PowerLevel{{Index: 300, DBm100: 3000}, {Index: 96, DBm100: 1960}, {Index: 100, DBm100: 2000}, {Index: 97, DBm100: 1970}}
	for _, c := range []struct {
		table []llrp.PowerLevel
		dBm   float64
		want  uint16
		err   string
	}{
		{r420, 10, 1, ""},
		{r420, 30, 81, ""},
		{r420, 25, 61, ""},
		{r420, 25.2, 61, ""},   // between steps: the step below
		{r420, 25.244, 61, ""}, // just under the next step
		{r420, 25.249, 62, ""}, // dBm is taken to 0.01 dB: this is the next step
		{r420, 9.99, 0, "10.00 to 30.00 dBm"},
		{r420, 30.01, 0, "10.00 to 30.00 dBm"},
		{fx, 19.65, 96, ""},
		{fx, 19.7, 97, ""},
		{fx, 25, 100, ""},
		{fx, 30, 300, ""},
		{fx, 19.5, 0, "19.60 to 30.00 dBm"},
		{nil, 20, 0, "no transmit power levels"},
	} {
		got, err := llrp.PowerIndex(c.table, c.dBm)
		if c.err != "" {
			if !errors.Is(err, llrp.ErrOutsideTable) || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%v dBm: error %v, want one naming %q", c.dBm, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%v dBm: index %d, %v; want %d", c.dBm, got, err, c.want)
		}
	}
}

func TestSensitivityIndex(t *testing.T) {
	table := []llrp.SensitivityLevel{{1, -80}, {2, -75}, {3, -70}}
	if i, err := llrp.SensitivityIndex(table, -72); err != nil || i != 2 {
		t.Fatalf("-72: %d, %v", i, err)
	}
	if _, err := llrp.SensitivityIndex(table, -81); !errors.Is(err, llrp.ErrOutsideTable) || !strings.Contains(err.Error(), "-80 to -70") {
		t.Fatalf("-81: %v", err)
	}
}

func TestAntennaConfigs(t *testing.T) {
	caps := readersim.SimRFCapabilities(llrp.Capabilities{MaxAntennas: 4})
	// Reader-wide only: one configuration for all antennas.
	acs, ws := llrp.AntennaConfigs(caps, nil, llrp.RFSettings{TxPowerDBm: ptr(25.0), Session: ptr(uint8(1))}, nil)
	want := []llrp.AntennaConfig{{AntennaID: 0,
		Transmitter: &llrp.Transmitter{HopTableID: 1, ChannelIndex: 1, Power: 61},
		Inventory:   &llrp.InventoryCommand{Singulation: &llrp.Singulation{Session: 1, TagPopulation: 32}}}}
	if len(ws) != 0 || !reflect.DeepEqual(acs, want) {
		t.Fatalf("reader-wide: %+v %v", acs, ws)
	}
	// Per antenna over reader-wide, on the antennas inventoried.
	acs, ws = llrp.AntennaConfigs(caps, []uint16{1, 3}, llrp.RFSettings{TxPowerDBm: ptr(25.0)},
		map[uint16]llrp.RFSettings{3: {TxPowerDBm: ptr(20.0), Target: llrp.TargetB, RFMode: ptr(uint32(4))}})
	if len(ws) != 0 || len(acs) != 2 || acs[0].AntennaID != 1 || acs[0].Transmitter.Power != 61 ||
		acs[1].AntennaID != 3 || acs[1].Transmitter.Power != 41 || acs[1].Inventory.RFControl.ModeIndex != 4 ||
		!acs[1].Inventory.StateAware || !acs[1].Inventory.Singulation.StateAction.B {
		t.Fatalf("per antenna: %+v %v", acs, ws)
	}
	// What the reader cannot take is left out and named.
	acs, ws = llrp.AntennaConfigs(caps, nil, llrp.RFSettings{},
		map[uint16]llrp.RFSettings{2: {TxPowerDBm: ptr(33.0), RFMode: ptr(uint32(7)), Target: llrp.TargetAB, Session: ptr(uint8(0))}})
	if len(acs) != 1 || acs[0].AntennaID != 2 || acs[0].Transmitter != nil || acs[0].Inventory.RFControl != nil ||
		acs[0].Inventory.Singulation.Session != 0 {
		t.Fatalf("rejected settings sent: %+v", acs)
	}
	msg := errors.Join(ws...).Error()
	for _, s := range []string{"antenna 2: ", "10.00 to 30.00 dBm", "rf_mode 7", "0, 2, 4, 1000", "target AB"} {
		if !strings.Contains(msg, s) {
			t.Errorf("warnings %q do not name %q", msg, s)
		}
	}
	// Hop table and channel travel with the power; an unknown hop table
	// leaves the reader's first.
	acs, ws = llrp.AntennaConfigs(caps, nil, llrp.RFSettings{TxPowerDBm: ptr(20.0), ChannelIndex: ptr(uint16(5)), HopTableID: ptr(uint16(9))}, nil)
	if len(ws) != 1 || !strings.Contains(ws[0].Error(), "hop_table_id 9 is not one of the reader's hop tables [1]") ||
		*acs[0].Transmitter != (llrp.Transmitter{HopTableID: 1, ChannelIndex: 5, Power: 41}) {
		t.Fatalf("hop table: %+v %v", acs[0].Transmitter, ws)
	}
	_, ws = llrp.AntennaConfigs(caps, nil, llrp.RFSettings{ChannelIndex: ptr(uint16(5))}, nil)
	if len(ws) != 1 || !strings.Contains(ws[0].Error(), "set tx_power_dbm too") {
		t.Fatalf("channel without power: %v", ws)
	}
	// A reader that gives no antenna count: the antennas named.
	acs, _ = llrp.AntennaConfigs(llrp.Capabilities{PowerTable: caps.PowerTable}, nil, llrp.RFSettings{},
		map[uint16]llrp.RFSettings{3: {TxPowerDBm: ptr(20.0)}, 1: {TxPowerDBm: ptr(21.0)}})
	if len(acs) != 2 || acs[0].AntennaID != 1 || acs[1].AntennaID != 3 {
		t.Fatalf("no antenna count: %+v", acs)
	}
	// Impinj search mode only to an Impinj reader.
	_, ws = llrp.AntennaConfigs(caps, nil, llrp.RFSettings{ImpinjSearchMode: ptr(uint16(2))}, nil)
	if len(ws) != 1 {
		t.Fatalf("search mode to a non-Impinj reader: %v", ws)
	}
	caps.Manufacturer = llrp.VendorImpinj
	acs, ws = llrp.AntennaConfigs(caps, nil, llrp.RFSettings{ImpinjSearchMode: ptr(uint16(2)), Target: llrp.TargetAB}, nil)
	if len(ws) != 0 || *acs[0].Inventory.ImpinjSearchMode != 2 {
		t.Fatalf("search mode to an Impinj reader: %+v %v", acs, ws)
	}
}

func FuzzParseCapabilities(f *testing.F) {
	caps := readersim.SimRFCapabilities(llrp.Capabilities{MaxAntennas: 4})
	caps.PowerTable, caps.Sensitivities = caps.PowerTable[:3], caps.Sensitivities[:2]
	f.Add(llrp.AppendCapabilitiesResponse(nil, 1, llrp.Status{}, caps)[llrp.HeaderLen:])
	for _, name := range modelFixtures {
		f.Add(readHex(f, name)[llrp.HeaderLen:])
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		c, err := llrp.ParseCapabilities(body)
		if err != nil {
			return
		}
		if len(c.PowerTable) > 0 {
			_, _ = llrp.PowerIndex(c.PowerTable, 20)
		}
	})
}

func FuzzParseAddROSpec(f *testing.F) {
	caps := readersim.SimRFCapabilities(llrp.Capabilities{MaxAntennas: 4})
	caps.Manufacturer = llrp.VendorImpinj
	acs, _ := llrp.AntennaConfigs(caps, nil, llrp.RFSettings{TxPowerDBm: ptr(25.0), RxSensitivityDBm: ptr(-70.0),
		Session: ptr(uint8(1)), Target: llrp.TargetA, RFMode: ptr(uint32(2)), ImpinjSearchMode: ptr(uint16(2))}, nil)
	f.Add(llrp.AppendAddROSpec(nil, 1, llrp.ROSpec{ID: 1, AntennaConfigs: acs})[llrp.HeaderLen:])
	// The triggers' values (GPITriggerValue, PeriodicTriggerValue).
	f.Add(llrp.AppendAddROSpec(nil, 1, llrp.ROSpec{ID: 1, StartTrigger: llrp.StartTriggerGPI, StartGPI: &llrp.GPITrigger{Port: 1, High: true},
		StopTrigger: llrp.StopTriggerGPI, StopGPI: &llrp.GPITrigger{Port: 1, TimeoutMS: 30000}})[llrp.HeaderLen:])
	f.Add(llrp.AppendAddROSpec(nil, 1, llrp.ROSpec{ID: 1, StartTrigger: llrp.StartTriggerPeriodic, StartPeriodic: &llrp.PeriodicTrigger{PeriodMS: 10000},
		StopTrigger: llrp.StopTriggerDuration, StopMS: 2000})[llrp.HeaderLen:])
	f.Fuzz(func(t *testing.T, body []byte) {
		ro, err := llrp.ParseAddROSpec(body)
		if err != nil {
			return
		}
		// What parsed re-encodes and parses to the same configurations.
		m, err := llrp.NewDecoder(bytes.NewReader(llrp.AppendAddROSpec(nil, 1, ro)), 1<<20).Next()
		if err != nil {
			t.Fatal(err)
		}
		again, err := llrp.ParseAddROSpec(m.Body)
		if err != nil || !reflect.DeepEqual(again.AntennaConfigs, ro.AntennaConfigs) {
			t.Fatalf("round trip: %+v → %+v, %v", ro.AntennaConfigs, again.AntennaConfigs, err)
		}
		if a, b := sentTriggers(ro), sentTriggers(again); !reflect.DeepEqual(a, b) {
			t.Fatalf("round trip of the triggers: %+v → %+v", a, b)
		}
	})
}

// sentTriggers is what of s's triggers AppendAddROSpec sends: the value of
// each trigger only with its type.
func sentTriggers(s llrp.ROSpec) llrp.ROSpec {
	t := llrp.ROSpec{StartTrigger: s.StartTrigger, StopTrigger: s.StopTrigger, StopMS: s.StopMS}
	switch {
	case s.StartTrigger == llrp.StartTriggerPeriodic:
		t.StartPeriodic = s.StartPeriodic
	case s.StartTrigger == llrp.StartTriggerGPI:
		t.StartGPI = s.StartGPI
	}
	if s.StopTrigger == llrp.StopTriggerGPI {
		t.StopGPI = s.StopGPI
	}
	return t
}
