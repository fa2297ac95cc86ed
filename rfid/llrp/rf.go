package llrp

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
)

// RF parameter types (LLRP 1.0.1 §16.2.3, §16.3.1).
const (
	ParamReceiveSensitivityTableEntry   uint16 = 139
	ParamGPIOCapabilities               uint16 = 141
	ParamLLRPCapabilities               uint16 = 142
	ParamRegulatoryCapabilities         uint16 = 143
	ParamUHFBandCapabilities            uint16 = 144
	ParamTransmitPowerLevelTableEntry   uint16 = 145
	ParamFrequencyInformation           uint16 = 146
	ParamFrequencyHopTable              uint16 = 147
	ParamFixedFrequencyTable            uint16 = 148
	ParamAntennaConfiguration           uint16 = 222
	ParamRFReceiver                     uint16 = 223
	ParamRFTransmitter                  uint16 = 224
	ParamUHFC1G2RFModeTable             uint16 = 328
	ParamUHFC1G2RFModeTableEntry        uint16 = 329
	ParamC1G2InventoryCommand           uint16 = 330
	ParamC1G2RFControl                  uint16 = 335
	ParamC1G2SingulationControl         uint16 = 336
	ParamC1G2TagInventoryStateAwareSing uint16 = 337
)

// Impinj's custom parameters (vendor 25882).
const (
	VendorImpinj                   uint32 = 25882
	ImpinjSubtypeSearchMode        uint32 = 23
	ImpinjSearchReaderSelected     uint16 = 0
	ImpinjSearchSingleTarget       uint16 = 1
	ImpinjSearchDualTarget         uint16 = 2
	ImpinjSearchSingleTargetSuppr  uint16 = 3
	ImpinjSearchNoTarget           uint16 = 4
	ImpinjSearchSingleTargetBtoA   uint16 = 5
	ImpinjSearchDualTargetBtoASele uint16 = 6
)

// ErrOutsideTable: a configured power or sensitivity is outside the
// reader's table; the error names the table's range.
var ErrOutsideTable = errors.New("llrp: value outside the reader's table")

// PowerLevel is a TransmitPowerLevelTableEntry: Index and dBm×100.
type PowerLevel struct {
	Index  uint16
	DBm100 int16
}

// SensitivityLevel is a ReceiveSensitivityTableEntry: Index and dB.
type SensitivityLevel struct {
	Index uint16
	DB    int16
}

// RFMode is a UHFC1G2RFModeTableEntry.
type RFMode struct {
	ID         uint32 // ModeIdentifier
	DR64_3     bool   // divide ratio 64/3 (else 8)
	EPCHAG     bool   // EPC HAG T&C conformance
	M          uint8  // 0 FM0, 1–3 Miller 2/4/8
	Modulation uint8  // 0 PR-ASK, 1 SSB-ASK, 2 DSB-ASK
	Mask       uint8  // spectral mask: 1 SI, 2 MI, 3 DI
	BDR        uint32 // backscatter data rate, bps
	PIE        uint32 // ×1000
	MinTari    uint32 // ns
	MaxTari    uint32
	StepTari   uint32
}

// Transmitter is an RFTransmitter parameter.
type Transmitter struct {
	HopTableID   uint16
	ChannelIndex uint16
	Power        uint16 // TransmitPowerLevelTableEntry Index
}

// InventoryCommand is a C1G2InventoryCommand with the parts a portal sets.
// A nil part is not sent (the reader keeps its own).
type InventoryCommand struct {
	StateAware  bool
	RFControl   *RFControl
	Singulation *Singulation
	// ImpinjSearchMode, when set, adds Impinj's custom
	// ImpinjInventorySearchMode parameter.
	ImpinjSearchMode *uint16
}

// RFControl is C1G2RFControl: the mode (ModeIdentifier, as Impinj wants it
// in ModeIndex) and Tari in ns (0: the reader picks).
type RFControl struct {
	ModeIndex uint16
	Tari      uint16
}

// Singulation is C1G2SingulationControl; StateAction adds
// C1G2TagInventoryStateAwareSingulationAction.
type Singulation struct {
	Session        uint8
	TagPopulation  uint16
	TagTransitTime uint32 // ms
	StateAction    *StateAction
}

// StateAction selects tags by inventoried flag: B false = A.
type StateAction struct {
	B, NotSL bool
}

// AntennaConfig is an AntennaConfiguration parameter (AntennaID 0 = all).
type AntennaConfig struct {
	AntennaID   uint16
	Receiver    *uint16 // RFReceiver: ReceiveSensitivityTableEntry Index
	Transmitter *Transmitter
	Inventory   *InventoryCommand
}

func (w *builder) antennaConfig(a AntennaConfig) {
	o := w.begin(ParamAntennaConfiguration)
	w.u16(a.AntennaID)
	if a.Receiver != nil {
		p := w.begin(ParamRFReceiver)
		w.u16(*a.Receiver)
		w.end(p)
	}
	if t := a.Transmitter; t != nil {
		p := w.begin(ParamRFTransmitter)
		w.u16(t.HopTableID)
		w.u16(t.ChannelIndex)
		w.u16(t.Power)
		w.end(p)
	}
	if ic := a.Inventory; ic != nil {
		p := w.begin(ParamC1G2InventoryCommand)
		var f uint8
		if ic.StateAware {
			f = 0x80
		}
		w.u8(f)
		if rc := ic.RFControl; rc != nil {
			q := w.begin(ParamC1G2RFControl)
			w.u16(rc.ModeIndex)
			w.u16(rc.Tari)
			w.end(q)
		}
		if sc := ic.Singulation; sc != nil {
			q := w.begin(ParamC1G2SingulationControl)
			w.u8(sc.Session & 3 << 6)
			w.u16(sc.TagPopulation)
			w.u32(sc.TagTransitTime)
			if sa := sc.StateAction; sa != nil {
				r := w.begin(ParamC1G2TagInventoryStateAwareSing)
				var f uint8
				if sa.B {
					f |= 0x80
				}
				if sa.NotSL {
					f |= 0x40
				}
				w.u8(f)
				w.end(r)
			}
			w.end(q)
		}
		if ic.ImpinjSearchMode != nil {
			q := w.begin(ParamCustom)
			w.u32(VendorImpinj)
			w.u32(ImpinjSubtypeSearchMode)
			w.u16(*ic.ImpinjSearchMode)
			w.end(q)
		}
		w.end(p)
	}
	w.end(o)
}

// parseAntennaConfig decodes an AntennaConfiguration value; unknown and
// custom parameters other than Impinj's search mode are skipped.
func parseAntennaConfig(v []byte) (AntennaConfig, error) {
	r := reader{b: v, what: "AntennaConfiguration"}
	a := AntennaConfig{AntennaID: r.u16()}
	if r.err != nil {
		return a, r.err
	}
	it := NewParams(r.b)
	for p, ok := it.Next(); ok; p, ok = it.Next() {
		pr := reader{b: p.Value, what: "AntennaConfiguration parameter"}
		switch p.Type {
		case ParamRFReceiver:
			x := pr.u16()
			a.Receiver = &x
		case ParamRFTransmitter:
			a.Transmitter = &Transmitter{HopTableID: pr.u16(), ChannelIndex: pr.u16(), Power: pr.u16()}
		case ParamC1G2InventoryCommand:
			ic, err := parseInventoryCommand(p.Value)
			if err != nil {
				return a, err
			}
			a.Inventory = &ic
		}
		if pr.err != nil {
			return a, pr.err
		}
	}
	return a, it.Err()
}

func parseInventoryCommand(v []byte) (InventoryCommand, error) {
	r := reader{b: v, what: "C1G2InventoryCommand"}
	ic := InventoryCommand{StateAware: r.u8()&0x80 != 0}
	if r.err != nil {
		return ic, r.err
	}
	it := NewParams(r.b)
	for p, ok := it.Next(); ok; p, ok = it.Next() {
		pr := reader{b: p.Value, what: "C1G2InventoryCommand parameter"}
		switch p.Type {
		case ParamC1G2RFControl:
			ic.RFControl = &RFControl{ModeIndex: pr.u16(), Tari: pr.u16()}
		case ParamC1G2SingulationControl:
			sc := Singulation{Session: pr.u8() >> 6, TagPopulation: pr.u16(), TagTransitTime: pr.u32()}
			if pr.err == nil {
				sa, ok, err := find(pr.b, ParamC1G2TagInventoryStateAwareSing)
				if err != nil {
					return ic, err
				}
				if ok {
					sr := reader{b: sa.Value, what: "C1G2TagInventoryStateAwareSingulationAction"}
					f := sr.u8()
					if sr.err != nil {
						return ic, sr.err
					}
					sc.StateAction = &StateAction{B: f&0x80 != 0, NotSL: f&0x40 != 0}
				}
			}
			ic.Singulation = &sc
		case ParamCustom:
			vendor, sub := pr.u32(), pr.u32()
			if pr.err == nil && vendor == VendorImpinj && sub == ImpinjSubtypeSearchMode {
				m := pr.u16()
				if pr.err == nil {
					ic.ImpinjSearchMode = &m
				}
			}
			pr.err = nil // another vendor's parameter, or a short one: skipped
		}
		if pr.err != nil {
			return ic, pr.err
		}
	}
	return ic, it.Err()
}

// PowerIndex maps dBm to the Index of the highest table entry at or below
// it. A value below the lowest or above the highest entry is an
// ErrOutsideTable error naming the table's range.
func PowerIndex(table []PowerLevel, dBm float64) (uint16, error) {
	if len(table) == 0 {
		return 0, fmt.Errorf("%w: the reader lists no transmit power levels", ErrOutsideTable)
	}
	want := int(math.Round(dBm * 100))
	lo, hi := table[0], table[0]
	best, found := PowerLevel{}, false
	for _, e := range table {
		if e.DBm100 < lo.DBm100 {
			lo = e
		}
		if e.DBm100 > hi.DBm100 {
			hi = e
		}
		if int(e.DBm100) <= want && (!found || e.DBm100 > best.DBm100) {
			best, found = e, true
		}
	}
	if !found || want > int(hi.DBm100) {
		return 0, fmt.Errorf("%w: tx_power_dbm %s is outside the reader's power table, %s to %s dBm",
			ErrOutsideTable, dbm(want), dbm(int(lo.DBm100)), dbm(int(hi.DBm100)))
	}
	return best.Index, nil
}

// SensitivityIndex maps dB to the Index of the highest sensitivity table
// entry at or below it, like PowerIndex.
func SensitivityIndex(table []SensitivityLevel, dB float64) (uint16, error) {
	if len(table) == 0 {
		return 0, fmt.Errorf("%w: the reader lists no receive sensitivity levels", ErrOutsideTable)
	}
	want := int(math.Round(dB))
	lo, hi := table[0].DB, table[0].DB
	var best SensitivityLevel
	found := false
	for _, e := range table {
		lo, hi = min(lo, e.DB), max(hi, e.DB)
		if int(e.DB) <= want && (!found || e.DB > best.DB) {
			best, found = e, true
		}
	}
	if !found || want > int(hi) {
		return 0, fmt.Errorf("%w: rx_sensitivity_dbm %d is outside the reader's sensitivity table, %d to %d",
			ErrOutsideTable, want, lo, hi)
	}
	return best.Index, nil
}

// HopTable is a FrequencyHopTable: its HopTableID and its frequencies in
// kHz, in hop order (ChannelIndex 1 is the first).
type HopTable struct {
	ID             uint8
	FrequenciesKHz []uint32
}

func parseHopTable(v []byte) (HopTable, error) {
	r := reader{b: v, what: "FrequencyHopTable"}
	h := HopTable{ID: r.u8()}
	r.u8() // reserved
	n := int(r.u16())
	for range n {
		f := r.u32()
		if r.err != nil {
			break
		}
		h.FrequenciesKHz = append(h.FrequenciesKHz, f)
	}
	return h, r.err
}

func dbm(v100 int) string {
	return strconv.FormatFloat(float64(v100)/100, 'f', 2, 64)
}

// capsGeneralRF appends the RF parts of GeneralDeviceCapabilities.
func (w *builder) capsGeneralRF(c Capabilities) {
	for _, e := range c.Sensitivities {
		p := w.begin(ParamReceiveSensitivityTableEntry)
		w.u16(e.Index)
		w.u16(uint16(e.DB))
		w.end(p)
	}
	if c.NumGPIs != 0 || c.NumGPOs != 0 {
		p := w.begin(ParamGPIOCapabilities)
		w.u16(c.NumGPIs)
		w.u16(c.NumGPOs)
		w.end(p)
	}
}

// capsRF appends LLRPCapabilities and RegulatoryCapabilities when c has
// RF tables.
func (w *builder) capsRF(c Capabilities) {
	if len(c.PowerTable) == 0 && len(c.RFModes) == 0 {
		return
	}
	p := w.begin(ParamLLRPCapabilities)
	var f uint8
	if c.StateAwareSingulation {
		f |= 0x10
	}
	w.u8(f)
	w.u8(1)  // MaxPriorityLevelSupported
	w.u16(0) // ClientRequestOpSpecTimeout
	for range 5 {
		w.u32(0) // MaxNum… (0 = no limit stated)
	}
	w.end(p)
	rg := w.begin(ParamRegulatoryCapabilities)
	w.u16(c.CountryCode)
	w.u16(c.CommsStandard)
	b := w.begin(ParamUHFBandCapabilities)
	for _, e := range c.PowerTable {
		q := w.begin(ParamTransmitPowerLevelTableEntry)
		w.u16(e.Index)
		w.u16(uint16(e.DBm100))
		w.end(q)
	}
	fi := w.begin(ParamFrequencyInformation)
	if c.Hopping {
		w.u8(0x80)
	} else {
		w.u8(0)
	}
	hops := c.HopTables
	if len(hops) == 0 {
		for _, id := range c.HopTableIDs {
			hops = append(hops, HopTable{ID: id, FrequenciesKHz: []uint32{915250}})
		}
	}
	for _, h := range hops {
		q := w.begin(ParamFrequencyHopTable)
		w.u8(h.ID)
		w.u8(0)
		w.u16(uint16(len(h.FrequenciesKHz)))
		for _, f := range h.FrequenciesKHz {
			w.u32(f)
		}
		w.end(q)
	}
	w.end(fi)
	mt := w.begin(ParamUHFC1G2RFModeTable)
	for _, m := range c.RFModes {
		q := w.begin(ParamUHFC1G2RFModeTableEntry)
		w.u32(m.ID)
		var f uint8
		if m.DR64_3 {
			f |= 0x80
		}
		if m.EPCHAG {
			f |= 0x40
		}
		w.u8(f)
		w.u8(m.M)
		w.u8(m.Modulation)
		w.u8(m.Mask)
		w.u32(m.BDR)
		w.u32(m.PIE)
		w.u32(m.MinTari)
		w.u32(m.MaxTari)
		w.u32(m.StepTari)
		w.end(q)
	}
	w.end(mt)
	w.end(b)
	w.end(rg)
}

// parseRF decodes the RF capabilities: gen is what follows the firmware
// in GeneralDeviceCapabilities, body the whole response body. Unknown
// and custom parameters are skipped at every level.
func (c *Capabilities) parseRF(gen, body []byte) error {
	it := NewParams(gen)
	for p, ok := it.Next(); ok; p, ok = it.Next() {
		r := reader{b: p.Value, what: "GeneralDeviceCapabilities parameter"}
		switch p.Type {
		case ParamReceiveSensitivityTableEntry:
			e := SensitivityLevel{Index: r.u16(), DB: int16(r.u16())}
			if r.err == nil {
				c.Sensitivities = append(c.Sensitivities, e)
			}
		case ParamGPIOCapabilities:
			c.NumGPIs, c.NumGPOs = r.u16(), r.u16()
		}
		if r.err != nil {
			return r.err
		}
	}
	if it.Err() != nil {
		return it.Err()
	}
	it = NewParams(body)
	for p, ok := it.Next(); ok; p, ok = it.Next() {
		r := reader{b: p.Value, what: "capabilities parameter"}
		switch p.Type {
		case ParamLLRPCapabilities:
			c.StateAwareSingulation = r.u8()&0x10 != 0
		case ParamRegulatoryCapabilities:
			c.CountryCode, c.CommsStandard = r.u16(), r.u16()
			if r.err == nil {
				if err := c.parseRegulatory(r.b); err != nil {
					return err
				}
			}
		}
		if r.err != nil {
			return r.err
		}
	}
	return it.Err()
}

func (c *Capabilities) parseRegulatory(b []byte) error {
	band, ok, err := find(b, ParamUHFBandCapabilities)
	if err != nil || !ok {
		return err
	}
	it := NewParams(band.Value)
	for p, ok := it.Next(); ok; p, ok = it.Next() {
		r := reader{b: p.Value, what: "UHFBandCapabilities parameter"}
		switch p.Type {
		case ParamTransmitPowerLevelTableEntry:
			e := PowerLevel{Index: r.u16(), DBm100: int16(r.u16())}
			if r.err == nil {
				c.PowerTable = append(c.PowerTable, e)
			}
		case ParamFrequencyInformation:
			c.Hopping = r.u8()&0x80 != 0
			if r.err == nil {
				sub := NewParams(r.b)
				for q, ok := sub.Next(); ok; q, ok = sub.Next() {
					if q.Type != ParamFrequencyHopTable {
						continue
					}
					h, err := parseHopTable(q.Value)
					if err != nil {
						return err
					}
					c.HopTableIDs = append(c.HopTableIDs, h.ID)
					c.HopTables = append(c.HopTables, h)
				}
				if sub.Err() != nil {
					return sub.Err()
				}
			}
		case ParamUHFC1G2RFModeTable:
			sub := NewParams(p.Value)
			for q, ok := sub.Next(); ok; q, ok = sub.Next() {
				if q.Type != ParamUHFC1G2RFModeTableEntry {
					continue
				}
				mr := reader{b: q.Value, what: "UHFC1G2RFModeTableEntry"}
				m := RFMode{ID: mr.u32()}
				f := mr.u8()
				m.DR64_3, m.EPCHAG = f&0x80 != 0, f&0x40 != 0
				m.M, m.Modulation, m.Mask = mr.u8(), mr.u8(), mr.u8()
				m.BDR, m.PIE, m.MinTari, m.MaxTari, m.StepTari = mr.u32(), mr.u32(), mr.u32(), mr.u32(), mr.u32()
				if mr.err != nil {
					return mr.err
				}
				c.RFModes = append(c.RFModes, m)
			}
			if sub.Err() != nil {
				return sub.Err()
			}
		}
		if r.err != nil {
			return r.err
		}
	}
	return it.Err()
}

// parseAntennaConfigs decodes the AntennaConfiguration parameters after an
// InventoryParameterSpec's protocol; others are skipped.
func parseAntennaConfigs(b []byte) ([]AntennaConfig, error) {
	var acs []AntennaConfig
	it := NewParams(b)
	for p, ok := it.Next(); ok; p, ok = it.Next() {
		if p.Type != ParamAntennaConfiguration {
			continue
		}
		a, err := parseAntennaConfig(p.Value)
		if err != nil {
			return acs, err
		}
		acs = append(acs, a)
	}
	return acs, it.Err()
}

// Gen2 targets.
const (
	TargetA  = "A"
	TargetB  = "B"
	TargetAB = "AB"
)

// RFSettings are a reader's or an antenna's RF settings; nil and empty
// fields keep the reader's own.
type RFSettings struct {
	TxPowerDBm       *float64 // mapped by PowerIndex
	RxSensitivityDBm *float64 // mapped by SensitivityIndex
	Session          *uint8   // Gen2 session 0–3
	Target           string   // TargetA, TargetB, TargetAB or ""
	RFMode           *uint32  // ModeIdentifier; nil: the reader picks
	TagPopulation    *uint16
	ImpinjSearchMode *uint16 // Impinj readers only
	// HopTableID and ChannelIndex (1-based) go in RFTransmitter with the
	// power; by default the reader's first hop table and channel 1.
	HopTableID   *uint16
	ChannelIndex *uint16
}

// IsZero reports whether s sets nothing.
func (s RFSettings) IsZero() bool {
	return s.TxPowerDBm == nil && s.RxSensitivityDBm == nil && s.Session == nil && s.Target == "" &&
		s.RFMode == nil && s.TagPopulation == nil && s.ImpinjSearchMode == nil && s.HopTableID == nil && s.ChannelIndex == nil
}

// Over returns s with the fields o sets replaced by o's.
func (s RFSettings) Over(o RFSettings) RFSettings {
	if o.TxPowerDBm != nil {
		s.TxPowerDBm = o.TxPowerDBm
	}
	if o.RxSensitivityDBm != nil {
		s.RxSensitivityDBm = o.RxSensitivityDBm
	}
	if o.Session != nil {
		s.Session = o.Session
	}
	if o.Target != "" {
		s.Target = o.Target
	}
	if o.RFMode != nil {
		s.RFMode = o.RFMode
	}
	if o.TagPopulation != nil {
		s.TagPopulation = o.TagPopulation
	}
	if o.ImpinjSearchMode != nil {
		s.ImpinjSearchMode = o.ImpinjSearchMode
	}
	if o.HopTableID != nil {
		s.HopTableID = o.HopTableID
	}
	if o.ChannelIndex != nil {
		s.ChannelIndex = o.ChannelIndex
	}
	return s
}

// Defaults of C1G2SingulationControl's fields when it is sent for one of
// them (the parameter carries all of them).
const (
	DefaultSession       uint8  = 2
	DefaultTagPopulation uint16 = 32
)

// AntennaConfigs turns RF settings into AntennaConfiguration parameters for
// a reader with capabilities caps: one for all antennas (ID 0) when only
// reader-wide settings are given, else one per antenna inventoried
// (antennas, or 1..MaxAntennas when empty, or perAntenna's when the reader
// gives no count) with perAntenna over rf. A
// setting the reader cannot take is left out (the reader keeps its own)
// and reported in warnings, each naming the key and the antenna.
func AntennaConfigs(caps Capabilities, antennas []uint16, rf RFSettings, perAntenna map[uint16]RFSettings) (acs []AntennaConfig, warnings []error) {
	if len(perAntenna) == 0 {
		if rf.IsZero() {
			return nil, nil
		}
		a, ws := antennaConfig(caps, 0, rf)
		return []AntennaConfig{a}, ws
	}
	if len(antennas) == 0 {
		for i := uint16(1); i <= caps.MaxAntennas; i++ {
			antennas = append(antennas, i)
		}
	}
	if len(antennas) == 0 { // the reader did not say how many it has
		for id := range perAntenna {
			antennas = append(antennas, id)
		}
		slices.Sort(antennas)
	}
	for _, id := range antennas {
		s := rf.Over(perAntenna[id])
		if s.IsZero() {
			continue
		}
		a, ws := antennaConfig(caps, id, s)
		acs = append(acs, a)
		warnings = append(warnings, ws...)
	}
	for _, id := range slices.Sorted(maps.Keys(perAntenna)) {
		if !slices.Contains(antennas, id) {
			warnings = append(warnings, fmt.Errorf("antenna %d: not one of the antennas read (%v); its RF settings are not sent", id, antennas))
		}
	}
	return acs, warnings
}

func antennaConfig(caps Capabilities, id uint16, s RFSettings) (AntennaConfig, []error) {
	var ws []error
	where := "reader"
	if id != 0 {
		where = fmt.Sprintf("antenna %d", id)
	}
	warn := func(err error) { ws = append(ws, fmt.Errorf("%s: %w", where, err)) }
	a := AntennaConfig{AntennaID: id}
	if s.TxPowerDBm != nil {
		if i, err := PowerIndex(caps.PowerTable, *s.TxPowerDBm); err != nil {
			warn(err)
		} else {
			hop, ch := uint16(1), uint16(1)
			if len(caps.HopTableIDs) > 0 {
				hop = uint16(caps.HopTableIDs[0])
			}
			if h := s.HopTableID; h != nil {
				if *h > math.MaxUint8 || len(caps.HopTableIDs) > 0 && !slices.Contains(caps.HopTableIDs, uint8(*h)) {
					warn(fmt.Errorf("%w: hop_table_id %d is not one of the reader's hop tables %v; its first is used", ErrOutsideTable, *h, caps.HopTableIDs))
				} else {
					hop = *h
				}
			}
			if s.ChannelIndex != nil {
				ch = *s.ChannelIndex
			}
			a.Transmitter = &Transmitter{HopTableID: hop, ChannelIndex: ch, Power: i}
		}
	} else if s.HopTableID != nil || s.ChannelIndex != nil {
		warn(errors.New("hop_table_id and channel_index travel with the power in RFTransmitter: set tx_power_dbm too, or they are not sent"))
	}
	if s.RxSensitivityDBm != nil {
		if i, err := SensitivityIndex(caps.Sensitivities, *s.RxSensitivityDBm); err != nil {
			warn(err)
		} else {
			a.Receiver = &i
		}
	}
	var ic InventoryCommand
	if s.RFMode != nil {
		found := false
		for _, m := range caps.RFModes {
			found = found || m.ID == *s.RFMode
		}
		switch {
		case !found:
			warn(fmt.Errorf("%w: rf_mode %d is not in the reader's RF mode table (%s); use one of them or auto",
				ErrOutsideTable, *s.RFMode, modeIDs(caps.RFModes)))
		case *s.RFMode > math.MaxUint16:
			warn(fmt.Errorf("%w: rf_mode %d does not fit C1G2RFControl's 16-bit ModeIndex", ErrOutsideTable, *s.RFMode))
		default:
			ic.RFControl = &RFControl{ModeIndex: uint16(*s.RFMode)}
		}
	}
	var sa *StateAction
	switch s.Target {
	case TargetA, TargetB:
		if caps.StateAwareSingulation {
			sa = &StateAction{B: s.Target == TargetB}
		} else {
			warn(fmt.Errorf("target %s: the reader does not do state-aware singulation (LLRPCapabilities), so it is not sent", s.Target))
		}
	case TargetAB:
		if s.ImpinjSearchMode == nil {
			warn(errors.New("target AB (dual target) has no standard LLRP form and is not sent; on an Impinj reader set vendor.impinj.search_mode: dual_target"))
		}
	}
	if s.Session != nil || s.TagPopulation != nil || sa != nil {
		sc := Singulation{Session: DefaultSession, TagPopulation: DefaultTagPopulation, StateAction: sa}
		if s.Session != nil {
			sc.Session = *s.Session
		}
		if s.TagPopulation != nil {
			sc.TagPopulation = *s.TagPopulation
		}
		ic.Singulation = &sc
		ic.StateAware = sa != nil
	}
	if s.ImpinjSearchMode != nil {
		if caps.Manufacturer == VendorImpinj {
			ic.ImpinjSearchMode = s.ImpinjSearchMode
		} else {
			warn(fmt.Errorf("vendor.impinj.search_mode: the reader's manufacturer is %d, not Impinj (25882), so it is not sent", caps.Manufacturer))
		}
	}
	if ic.RFControl != nil || ic.Singulation != nil || ic.ImpinjSearchMode != nil {
		a.Inventory = &ic
	}
	return a, ws
}

func modeIDs(ms []RFMode) string {
	if len(ms) == 0 {
		return "the reader lists none"
	}
	var b []byte
	for i, m := range ms {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = strconv.AppendUint(b, uint64(m.ID), 10)
	}
	return string(b)
}
