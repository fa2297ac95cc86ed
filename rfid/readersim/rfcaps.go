package readersim

import (
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/dockgate/dockgate/rfid/llrp"
)

// SimRFCapabilities returns caps with the simulator's RF tables, modelled on
// an Impinj R420: transmit power Index 1–81 = 10.00–30.00 dBm in 0.25 dB
// steps; receive sensitivity Index 1–11 = -80 to -30 dB in 5 dB steps; four
// RF modes (identifiers 0, 2, 4 and 1000), the US 50-channel hop table, 4 GPIs and 4 GPOs, state-aware singulation. It
// appends Impinj- and Zebra-style custom parameters, which clients must
// skip.
func SimRFCapabilities(caps llrp.Capabilities) llrp.Capabilities {
	caps.PowerTable = nil
	for i := uint16(1); i <= 81; i++ {
		caps.PowerTable = append(caps.PowerTable, llrp.PowerLevel{Index: i, DBm100: int16(1000 + 25*(i-1))})
	}
	caps.Sensitivities = nil
	for i := uint16(1); i <= 11; i++ {
		caps.Sensitivities = append(caps.Sensitivities, llrp.SensitivityLevel{Index: i, DB: int16(-80 + 5*int(i-1))})
	}
	caps.NumGPIs, caps.NumGPOs = 4, 4
	caps.StateAwareSingulation = true
	caps.CountryCode, caps.CommsStandard = 840, 1
	caps.Hopping, caps.HopTableIDs = true, []uint8{1}
	caps.HopTables = []llrp.HopTable{fccHopTable(1)}
	caps.RFModes = []llrp.RFMode{
		{ID: 0, M: 0, Modulation: 2, Mask: 1, BDR: 640000, PIE: 1500, MinTari: 6250, MaxTari: 6250, StepTari: 0},
		{ID: 2, DR64_3: true, M: 2, Modulation: 0, Mask: 3, BDR: 274000, PIE: 2000, MinTari: 20000, MaxTari: 20000},
		{ID: 4, DR64_3: true, M: 1, Modulation: 2, Mask: 1, BDR: 250000, PIE: 1500, MinTari: 20000, MaxTari: 20000},
		{ID: 1000, DR64_3: true, M: 1, Modulation: 2, Mask: 3, BDR: 40000, PIE: 1500, MinTari: 6250, MaxTari: 25000},
	}
	caps.Extra = append(customParam(nil, llrp.VendorImpinj, 32, []byte{0, 1}), // Impinj-style detail
		customParam(nil, 161, 1, []byte{0xDE, 0xAD, 0xBE, 0xEF})...) // Zebra-style
	return caps
}

// customParam appends a Custom parameter (type 1023).
func customParam(dst []byte, vendor, subtype uint32, data []byte) []byte {
	dst = binary.BigEndian.AppendUint16(dst, llrp.ParamCustom)
	dst = binary.BigEndian.AppendUint16(dst, uint16(12+len(data)))
	dst = binary.BigEndian.AppendUint32(dst, vendor)
	dst = binary.BigEndian.AppendUint32(dst, subtype)
	return append(dst, data...)
}

// checkRF refuses, as readers do, an ROSpec whose RFTransmitter names a
// power index, hop table or channel the simulator's tables do not have.
func checkRF(caps *llrp.Capabilities, ro *llrp.ROSpec) string {
	for _, ac := range ro.AntennaConfigs {
		t := ac.Transmitter
		if t == nil {
			continue
		}
		if len(caps.PowerTable) > 0 && !slices.ContainsFunc(caps.PowerTable, func(e llrp.PowerLevel) bool { return e.Index == t.Power }) {
			return fmt.Sprintf("antenna %d: transmit power index %d is not in the power table", ac.AntennaID, t.Power)
		}
		if len(caps.HopTables) == 0 {
			continue
		}
		i := slices.IndexFunc(caps.HopTables, func(h llrp.HopTable) bool { return uint16(h.ID) == t.HopTableID })
		if i < 0 {
			return fmt.Sprintf("antenna %d: no hop table %d", ac.AntennaID, t.HopTableID)
		}
		if n := len(caps.HopTables[i].FrequenciesKHz); t.ChannelIndex < 1 || int(t.ChannelIndex) > n {
			return fmt.Sprintf("antenna %d: channel index %d is not in hop table %d (1 to %d)", ac.AntennaID, t.ChannelIndex, t.HopTableID, n)
		}
	}
	return ""
}
