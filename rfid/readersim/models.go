package readersim

import (
	"fmt"

	"github.com/dockgate/dockgate/rfid/llrp"
)

// Reader models the simulator can present in its capabilities reply.
const (
	ModelSim    = "sim"    // R420-like tables (SimRFCapabilities)
	ModelR700   = "r700"   // Impinj R700
	ModelFX9600 = "fx9600" // Zebra FX9600, 4 ports
)

// VendorZebra is Zebra's IANA private enterprise number, the vendor of its
// LLRP custom parameters.
const VendorZebra uint32 = 161

// Models lists the models Sim.Model takes.
func Models() []string { return []string{ModelSim, ModelR700, ModelFX9600} }

// ModelCapabilities returns the full GET_READER_CAPABILITIES reply of a
// model (antennas is the sim model's port count). The R700 and FX9600
// replies are built from LLRP 1.0.1 and what is public about the readers;
// values no public capture confirms are marked so in docs/simulators.md.
// The same replies are the fixtures rfid/llrp/testdata/r700-capabilities.hex
// and fx9600-capabilities.hex.
func ModelCapabilities(model string, antennas uint16) (llrp.Capabilities, error) {
	switch model {
	case ModelSim, "":
		return SimRFCapabilities(llrp.Capabilities{MaxAntennas: antennas, HasUTCClock: true,
			Manufacturer: 0, Model: 1, Firmware: "dockgate-readersim"}), nil
	case ModelR700:
		return r700(), nil
	case ModelFX9600:
		return fx9600(), nil
	}
	return llrp.Capabilities{}, fmt.Errorf("readersim: reader model %q is not one of %v", model, Models())
}

// generalOnly keeps what GeneralDeviceCapabilities' fixed fields say, the
// answer to a request for general capabilities only.
func generalOnly(c llrp.Capabilities) llrp.Capabilities {
	return llrp.Capabilities{MaxAntennas: c.MaxAntennas, CanSetAntennaProperties: c.CanSetAntennaProperties,
		HasUTCClock: c.HasUTCClock, Manufacturer: c.Manufacturer, Model: c.Model, Firmware: c.Firmware,
		NumGPIs: c.NumGPIs, NumGPOs: c.NumGPOs}
}

// fccHopTable is the US (FCC part 15) hop table: 50 channels 902.75 to
// 927.25 MHz, 500 kHz apart, in the fixed hop order 17·k mod 50.
func fccHopTable(id uint8) llrp.HopTable {
	h := llrp.HopTable{ID: id}
	for k := range 50 {
		h.FrequenciesKHz = append(h.FrequenciesKHz, 902750+500*uint32(17*k%50))
	}
	return h
}

// powerTable lists n entries from Index 1, first dBm×100, step dBm×100.
func powerTable(n int, first, step int16) []llrp.PowerLevel {
	t := make([]llrp.PowerLevel, n)
	for i := range t {
		t[i] = llrp.PowerLevel{Index: uint16(i + 1), DBm100: first + step*int16(i)}
	}
	return t
}

// sensitivityTable lists Index 1.. from first to last dBm in step dB.
func sensitivityTable(first, last, step int16) []llrp.SensitivityLevel {
	var t []llrp.SensitivityLevel
	for i, v := uint16(1), first; v <= last; i, v = i+1, v+step {
		t = append(t, llrp.SensitivityLevel{Index: i, DB: v})
	}
	return t
}

// r700 is an Impinj R700: 4 ports, Index 1–93 = 10.00–33.00 dBm in 0.25 dB
// steps, receive sensitivity -92 to -30 dBm, Impinj's mode identifiers
// (AutoSet 1002/1004 list placeholder values, as Impinj's do), no
// state-aware singulation (Impinj uses its search mode), Impinj custom
// parameters.
func r700() llrp.Capabilities {
	return llrp.Capabilities{
		MaxAntennas: 4, HasUTCClock: true, Manufacturer: llrp.VendorImpinj, Model: 2001052,
		Firmware:      "8.4.1.240",
		Sensitivities: sensitivityTable(-92, -30, 1),
		NumGPIs:       4, NumGPOs: 4,
		CountryCode: 840, CommsStandard: 1,
		PowerTable: powerTable(93, 1000, 25),
		Hopping:    true, HopTableIDs: []uint8{1}, HopTables: []llrp.HopTable{fccHopTable(1)},
		RFModes: []llrp.RFMode{
			{ID: 0, M: 0, Modulation: 2, Mask: 1, BDR: 640000, PIE: 1500, MinTari: 6250, MaxTari: 6250},
			{ID: 1, M: 1, Modulation: 2, Mask: 1, BDR: 320000, PIE: 2000, MinTari: 6250, MaxTari: 6250},
			{ID: 2, DR64_3: true, M: 2, Modulation: 0, Mask: 3, BDR: 274000, PIE: 2000, MinTari: 20000, MaxTari: 20000},
			{ID: 3, DR64_3: true, M: 3, Modulation: 0, Mask: 3, BDR: 170600, PIE: 2000, MinTari: 20000, MaxTari: 20000},
			{ID: 4, DR64_3: true, M: 2, Modulation: 2, Mask: 1, BDR: 640000, PIE: 1500, MinTari: 7140, MaxTari: 7140},
			{ID: 1002, DR64_3: true, M: 1, Modulation: 2, Mask: 3, BDR: 40000, PIE: 1500, MinTari: 6250, MaxTari: 25000},
			{ID: 1004, DR64_3: true, M: 1, Modulation: 2, Mask: 3, BDR: 40000, PIE: 1500, MinTari: 6250, MaxTari: 25000},
		},
		Extra: customParam(customParam(nil, llrp.VendorImpinj, 29, []byte("R700 8.4.1.240")), // Impinj-style detailed version
			llrp.VendorImpinj, 32, []byte{0, 1}), // Impinj-style capability flag
	}
}

// fx9600 is a 4-port Zebra FX9600: Index 1–215 = 10.10–31.50 dBm in 0.1 dB
// steps (Index 96 = 19.60 dBm as sllurp's FX9600 trace shows), receive
// sensitivity -80 to -40 dBm in 2 dB steps, six of its RF modes, 4 GPIs
// and 4 GPOs, state-aware singulation, Zebra custom parameters.
func fx9600() llrp.Capabilities {
	return llrp.Capabilities{
		MaxAntennas: 4, CanSetAntennaProperties: true, HasUTCClock: true, Manufacturer: VendorZebra, Model: 9600,
		Firmware:      "3.21.21",
		Sensitivities: sensitivityTable(-80, -40, 2),
		NumGPIs:       4, NumGPOs: 4,
		StateAwareSingulation: true,
		CountryCode:           840, CommsStandard: 1,
		PowerTable: powerTable(215, 1010, 10),
		Hopping:    true, HopTableIDs: []uint8{1}, HopTables: []llrp.HopTable{fccHopTable(1)},
		RFModes: []llrp.RFMode{
			{ID: 0, M: 0, Modulation: 2, Mask: 1, BDR: 640000, PIE: 1500, MinTari: 6250, MaxTari: 6250},
			{ID: 1, DR64_3: true, M: 1, Modulation: 0, Mask: 1, BDR: 320000, PIE: 1500, MinTari: 6250, MaxTari: 6250},
			{ID: 2, DR64_3: true, M: 2, Modulation: 0, Mask: 3, BDR: 160000, PIE: 2000, MinTari: 12500, MaxTari: 12500},
			{ID: 3, DR64_3: true, M: 3, Modulation: 0, Mask: 3, BDR: 80000, PIE: 2000, MinTari: 25000, MaxTari: 25000},
			{ID: 4, M: 2, Modulation: 2, Mask: 1, BDR: 256000, PIE: 2000, MinTari: 12500, MaxTari: 12500},
			{ID: 23, DR64_3: true, M: 2, Modulation: 0, Mask: 3, BDR: 274000, PIE: 2000, MinTari: 12500, MaxTari: 25000, StepTari: 6250},
		},
		Extra: customParam(customParam(nil, VendorZebra, 1, []byte{0x00, 0x01}), // Zebra-style
			VendorZebra, 14, []byte("FX9600")),
	}
}
