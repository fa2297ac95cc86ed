package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/dockgate/dockgate/rfid/llrp"
)

const readerCapabilitiesUsage = `dockgate reader capabilities --llrp HOST[:PORT] [--summary] [--timeout D]
Prints the reader's GET_READER_CAPABILITIES as one JSON object: model,
firmware, antennas, transmit power and receive sensitivity tables (dBm),
RF modes, hop tables, GPI/GPO counts. Nothing on the reader is changed.`

// capsJSON is what "reader capabilities" prints.
type capsJSON struct {
	Address                 string         `json:"address"`
	Manufacturer            uint32         `json:"manufacturer"`
	ManufacturerName        string         `json:"manufacturer_name,omitempty"`
	Model                   uint32         `json:"model"`
	Firmware                string         `json:"firmware"`
	Antennas                uint16         `json:"antennas"`
	CanSetAntennaProperties bool           `json:"can_set_antenna_properties"`
	UTCClock                bool           `json:"utc_clock"`
	GPIs                    uint16         `json:"gpis"`
	GPOs                    uint16         `json:"gpos"`
	StateAwareSingulation   bool           `json:"state_aware_singulation"`
	CountryCode             uint16         `json:"country_code"`
	CommunicationsStandard  uint16         `json:"communications_standard"`
	TxPower                 *tableJSON     `json:"tx_power"`
	RxSensitivity           *tableJSON     `json:"rx_sensitivity"`
	RFModes                 []rfModeJSON   `json:"rf_modes"`
	Hopping                 bool           `json:"hopping"`
	HopTables               []hopTableJSON `json:"hop_tables"`
}

// tableJSON is a power or sensitivity table: its range and, unless
// --summary, every level with the Index to configure it by.
type tableJSON struct {
	MinDBm float64     `json:"min_dbm"`
	MaxDBm float64     `json:"max_dbm"`
	StepDB float64     `json:"step_db,omitempty"` // when the steps are even
	Count  int         `json:"count"`
	Levels []levelJSON `json:"levels,omitempty"`
}

type levelJSON struct {
	Index uint16  `json:"index"`
	DBm   float64 `json:"dbm"`
}

type rfModeJSON struct {
	ModeIdentifier uint32  `json:"mode_identifier"`
	DivideRatio    string  `json:"divide_ratio,omitempty"`
	Encoding       string  `json:"encoding"`
	Modulation     string  `json:"modulation"`
	SpectralMask   string  `json:"spectral_mask"`
	BackscatterBPS uint32  `json:"backscatter_bps"`
	PIE            float64 `json:"pie,omitempty"`
	MinTariNS      uint32  `json:"min_tari_ns,omitempty"`
	MaxTariNS      uint32  `json:"max_tari_ns,omitempty"`
	StepTariNS     uint32  `json:"step_tari_ns,omitempty"`
	EPCHAG         bool    `json:"epc_hag_conformance,omitempty"`
}

type hopTableJSON struct {
	ID             uint8    `json:"id"`
	Channels       int      `json:"channels"`
	FrequenciesKHz []uint32 `json:"frequencies_khz,omitempty"`
}

func readerCapabilities(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "reader capabilities", readerCapabilitiesUsage)
	addr := fs.String("llrp", "", "LLRP reader `HOST[:PORT]` (port 5084 by default)")
	summary := fs.Bool("summary", false, "print the tables' ranges only, not every level and frequency")
	timeout := fs.Duration("timeout", 10*time.Second, "give up (exit 1) when the reader has not answered within this long")
	if err := fs.parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q; see dockgate reader capabilities -h", fs.Arg(0))
	}
	if *addr == "" {
		return errors.New("give the reader with --llrp HOST[:PORT]")
	}
	if *timeout <= 0 {
		return fmt.Errorf("--timeout %v: give a positive duration, e.g. 10s", *timeout)
	}
	caps, _, err := llrp.QueryCapabilities(ctx, *addr, *timeout)
	if err != nil {
		return fmt.Errorf("%w (check the address, that the reader is on, and that no other client holds it)", err)
	}
	b, err := json.MarshalIndent(capabilitiesJSON(*addr, caps, *summary), "", "  ")
	if err != nil {
		return err
	}
	_, err = env.stdout.Write(append(b, '\n'))
	return err
}

var manufacturers = map[uint32]string{llrp.VendorImpinj: "Impinj", 161: "Zebra", 0: "dockgate simulator"}

func capabilitiesJSON(addr string, c llrp.Capabilities, summary bool) capsJSON {
	out := capsJSON{Address: addr, Manufacturer: c.Manufacturer, ManufacturerName: manufacturers[c.Manufacturer],
		Model: c.Model, Firmware: c.Firmware, Antennas: c.MaxAntennas, CanSetAntennaProperties: c.CanSetAntennaProperties,
		UTCClock: c.HasUTCClock, GPIs: c.NumGPIs, GPOs: c.NumGPOs, StateAwareSingulation: c.StateAwareSingulation,
		CountryCode: c.CountryCode, CommunicationsStandard: c.CommsStandard, Hopping: c.Hopping,
		RFModes: []rfModeJSON{}, HopTables: []hopTableJSON{}}
	power := make([]levelJSON, len(c.PowerTable))
	for i, e := range c.PowerTable {
		power[i] = levelJSON{Index: e.Index, DBm: float64(e.DBm100) / 100}
	}
	out.TxPower = table(power, summary)
	sens := make([]levelJSON, len(c.Sensitivities))
	for i, e := range c.Sensitivities {
		sens[i] = levelJSON{Index: e.Index, DBm: float64(e.DB)}
	}
	out.RxSensitivity = table(sens, summary)
	for _, m := range c.RFModes {
		dr := "8"
		if m.DR64_3 {
			dr = "64/3"
		}
		j := rfModeJSON{ModeIdentifier: m.ID,
			Encoding: pick(m.M, "FM0", "Miller 2", "Miller 4", "Miller 8"), Modulation: pick(m.Modulation, "PR-ASK", "SSB-ASK", "DSB-ASK"),
			SpectralMask:   pick(m.Mask, "unknown", "single interrogator", "multi interrogator", "dense interrogator"),
			BackscatterBPS: m.BDR}
		if !summary {
			j.DivideRatio, j.PIE, j.MinTariNS, j.MaxTariNS, j.StepTariNS, j.EPCHAG = dr, float64(m.PIE)/1000, m.MinTari, m.MaxTari, m.StepTari, m.EPCHAG
		}
		out.RFModes = append(out.RFModes, j)
	}
	for _, h := range c.HopTables {
		j := hopTableJSON{ID: h.ID, Channels: len(h.FrequenciesKHz)}
		if !summary {
			j.FrequenciesKHz = h.FrequenciesKHz
		}
		out.HopTables = append(out.HopTables, j)
	}
	return out
}

// table summarises levels (nil when there are none).
func table(levels []levelJSON, summary bool) *tableJSON {
	if len(levels) == 0 {
		return nil
	}
	t := &tableJSON{MinDBm: levels[0].DBm, MaxDBm: levels[0].DBm, Count: len(levels)}
	for _, l := range levels {
		t.MinDBm, t.MaxDBm = math.Min(t.MinDBm, l.DBm), math.Max(t.MaxDBm, l.DBm)
	}
	if len(levels) > 1 {
		step := levels[1].DBm - levels[0].DBm
		for i := 1; i < len(levels); i++ {
			if math.Abs(levels[i].DBm-levels[i-1].DBm-step) > 1e-9 {
				step = 0
			}
		}
		t.StepDB = math.Round(step*1000) / 1000
	}
	if !summary {
		t.Levels = levels
	}
	return t
}

// pick names code from names, or says it is unknown.
func pick(code uint8, names ...string) string {
	if int(code) < len(names) {
		return names[code]
	}
	return fmt.Sprintf("unknown (%d)", code)
}
