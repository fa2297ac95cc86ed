package readers

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/dockgate/dockgate/rfid/llrp"
	"github.com/dockgate/dockgate/rfid/serialrdr"
)

// RF is an LLRP reader's RF settings, for all its antennas (readers[] keys)
// or one antenna (under antenna_rf). Every field is optional: unset keeps
// the reader's own. Power and sensitivity are mapped on the reader's
// tables once connected; a value outside them is a startup warning and is
// named on the reader's status.
type RF struct {
	// TxPowerDBm is conducted transmit power, mapped to the highest entry
	// of the reader's TransmitPowerLevelTable at or below it.
	TxPowerDBm *float64 `yaml:"tx_power_dbm" json:"tx_power_dbm,omitempty"`
	// RxSensitivityDBm is mapped likewise on the ReceiveSensitivityTable.
	RxSensitivityDBm *float64 `yaml:"rx_sensitivity_dbm" json:"rx_sensitivity_dbm,omitempty"`
	Session          *int     `yaml:"session" json:"session,omitempty"`               // Gen2 session 0–3
	Target           string   `yaml:"target" json:"target,omitempty"`                 // A, B or AB
	RFMode           string   `yaml:"rf_mode" json:"rf_mode,omitempty"`               // ModeIdentifier or auto
	TagPopulation    *int     `yaml:"tag_population" json:"tag_population,omitempty"` // expected tags in the field
	Vendor           *Vendor  `yaml:"vendor" json:"vendor,omitempty"`
	// HopTableID and ChannelIndex (1-based), where the region needs them;
	// they are sent with tx_power_dbm.
	HopTableID   *int `yaml:"hop_table_id" json:"hop_table_id,omitempty"`
	ChannelIndex *int `yaml:"channel_index" json:"channel_index,omitempty"`
}

// Vendor holds settings the LLRP standard cannot say.
type Vendor struct {
	Impinj *Impinj `yaml:"impinj" json:"impinj,omitempty"`
}

// Impinj settings, sent as Impinj custom parameters (vendor 25882) only to
// an Impinj reader.
type Impinj struct {
	// SearchMode: reader_selected, single_target, dual_target,
	// single_target_with_suppression, no_target, single_target_b_to_a,
	// dual_target_b_to_a_select.
	SearchMode string `yaml:"search_mode" json:"search_mode"`
}

var impinjSearchModes = map[string]uint16{
	"reader_selected":                llrp.ImpinjSearchReaderSelected,
	"single_target":                  llrp.ImpinjSearchSingleTarget,
	"dual_target":                    llrp.ImpinjSearchDualTarget,
	"single_target_with_suppression": llrp.ImpinjSearchSingleTargetSuppr,
	"no_target":                      llrp.ImpinjSearchNoTarget,
	"single_target_b_to_a":           llrp.ImpinjSearchSingleTargetBtoA,
	"dual_target_b_to_a_select":      llrp.ImpinjSearchDualTargetBtoASele,
}

func (r RF) isZero() bool {
	return r.TxPowerDBm == nil && r.RxSensitivityDBm == nil && r.Session == nil && r.Target == "" &&
		r.RFMode == "" && r.TagPopulation == nil && r.Vendor == nil && r.HopTableID == nil && r.ChannelIndex == nil
}

// validate returns problems of r; key prefixes each key named;
// readerPower: the reader sets tx_power_dbm for r's antenna.
func (r RF) validate(key string, readerPower bool) []string {
	var probs []string
	add := func(format string, a ...any) { probs = append(probs, key+fmt.Sprintf(format, a...)) }
	for _, v := range []struct {
		name   string
		p      *float64
		lo, hi float64
	}{{"tx_power_dbm", r.TxPowerDBm, -20, 40}, {"rx_sensitivity_dbm", r.RxSensitivityDBm, -128, 0}} {
		if v.p != nil && (math.IsNaN(*v.p) || *v.p < v.lo || *v.p > v.hi) {
			add("%s %v is not a plausible value (%v to %v); set it from the reader's table (dockgate reader capabilities) or leave it out", v.name, *v.p, v.lo, v.hi)
		}
	}
	if r.Session != nil && (*r.Session < 0 || *r.Session > 3) {
		add("session %d is not a Gen2 session: use 0, 1, 2 or 3 (1 or 2 at a dock door)", *r.Session)
	}
	switch r.Target {
	case "", llrp.TargetA, llrp.TargetB, llrp.TargetAB:
	default:
		add("target %q is not A, B or AB", r.Target)
	}
	if r.RFMode != "" && r.RFMode != "auto" {
		if _, err := strconv.ParseUint(r.RFMode, 10, 16); err != nil {
			add("rf_mode %q is not auto or a ModeIdentifier 0 to 65535 from the reader's RF mode table", r.RFMode)
		}
	}
	if r.TagPopulation != nil && (*r.TagPopulation < 1 || *r.TagPopulation > math.MaxUint16) {
		add("tag_population %d must be 1 to 65535 (the tags expected in the field at once)", *r.TagPopulation)
	}
	if r.HopTableID != nil && (*r.HopTableID < 1 || *r.HopTableID > math.MaxUint8) {
		add("hop_table_id %d must be 1 to 255, a HopTableID of the reader's (dockgate reader capabilities)", *r.HopTableID)
	}
	if r.ChannelIndex != nil && (*r.ChannelIndex < 1 || *r.ChannelIndex > math.MaxUint16) {
		add("channel_index %d must be 1 to 65535 (channels are numbered from 1)", *r.ChannelIndex)
	}
	if (r.HopTableID != nil || r.ChannelIndex != nil) && r.TxPowerDBm == nil && !readerPower {
		add("hop_table_id and channel_index are sent with the power: set tx_power_dbm too")
	}
	if r.Vendor != nil && r.Vendor.Impinj != nil {
		if _, ok := impinjSearchModes[r.Vendor.Impinj.SearchMode]; !ok {
			names := make([]string, 0, len(impinjSearchModes))
			for n := range impinjSearchModes {
				names = append(names, n)
			}
			sort.Strings(names)
			add("vendor.impinj.search_mode %q is not one of %s", r.Vendor.Impinj.SearchMode, strings.Join(names, ", "))
		}
	}
	return probs
}

// LLRPSettings checks r as the configuration's keys are checked (key
// prefixes the keys named in the error) and returns it as LLRP RF
// settings: for a tool that takes the keys from elsewhere ("reader watch
// --tune" from its input). hop_table_id and channel_index are not refused
// without tx_power_dbm here: the llrp session warns when they cannot go.
func (r RF) LLRPSettings(key string) (llrp.RFSettings, error) {
	if probs := r.validate(key, true); len(probs) > 0 {
		return llrp.RFSettings{}, errors.New(strings.Join(probs, "; "))
	}
	return r.settings(), nil
}

// settings converts a validated r.
func (r RF) settings() llrp.RFSettings {
	s := llrp.RFSettings{TxPowerDBm: r.TxPowerDBm, RxSensitivityDBm: r.RxSensitivityDBm, Target: r.Target}
	if r.Session != nil {
		v := uint8(*r.Session)
		s.Session = &v
	}
	if r.TagPopulation != nil {
		v := uint16(*r.TagPopulation)
		s.TagPopulation = &v
	}
	if r.HopTableID != nil {
		v := uint16(*r.HopTableID)
		s.HopTableID = &v
	}
	if r.ChannelIndex != nil {
		v := uint16(*r.ChannelIndex)
		s.ChannelIndex = &v
	}
	if n, err := strconv.ParseUint(r.RFMode, 10, 16); err == nil {
		v := uint32(n)
		s.RFMode = &v
	}
	if r.Vendor != nil && r.Vendor.Impinj != nil {
		if m, ok := impinjSearchModes[r.Vendor.Impinj.SearchMode]; ok {
			s.ImpinjSearchMode = &m
		}
	}
	return s
}

// validateRF checks the RF keys of c.
func (c Config) validateRF() []string {
	if c.RF.isZero() && len(c.AntennaRF) == 0 {
		return nil
	}
	if c.Type == TypeSerial {
		return c.validateSerialRF()
	}
	probs := c.RF.validate("", false)
	ids := make([]uint16, 0, len(c.AntennaRF))
	for id := range c.AntennaRF {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		key := fmt.Sprintf("antenna_rf.%d: ", id)
		switch {
		case id == 0:
			probs = append(probs, "antenna_rf.0: antennas are numbered from 1; put settings for all antennas on the reader itself")
			continue
		case len(c.Antennas) > 0 && !slices.Contains(c.Antennas, id):
			probs = append(probs, fmt.Sprintf("%santenna %d is not in antennas %v; add it there or remove its settings", key, id, c.Antennas))
		}
		probs = append(probs, c.AntennaRF[id].validate(key, c.TxPowerDBm != nil)...)
	}
	return probs
}

// validateSerialRF: a serial reader takes tx_power_dbm (m100, ru5102), in
// its protocol's range; every other RF key is for LLRP readers.
func (c Config) validateSerialRF() []string {
	var probs, others []string
	r := c.RF
	for _, k := range []struct {
		name string
		set  bool
	}{{"rx_sensitivity_dbm", r.RxSensitivityDBm != nil}, {"session", r.Session != nil}, {"target", r.Target != ""},
		{"rf_mode", r.RFMode != ""}, {"tag_population", r.TagPopulation != nil}, {"vendor", r.Vendor != nil},
		{"hop_table_id", r.HopTableID != nil}, {"channel_index", r.ChannelIndex != nil}, {"antenna_rf", len(c.AntennaRF) > 0}} {
		if k.set {
			others = append(others, k.name)
		}
	}
	if len(others) > 0 {
		probs = append(probs, fmt.Sprintf("%s: LLRP settings a serial reader cannot take; remove them (a serial reader takes tx_power_dbm only)",
			strings.Join(others, ", ")))
	}
	if r.TxPowerDBm != nil {
		if err := serialrdr.CheckTxPower(c.Protocol, *r.TxPowerDBm); err != nil {
			probs = append(probs, err.Error())
		}
	}
	return probs
}

func (c Config) llrpRF() (llrp.RFSettings, map[uint16]llrp.RFSettings) {
	var per map[uint16]llrp.RFSettings
	for id, r := range c.AntennaRF {
		if per == nil {
			per = map[uint16]llrp.RFSettings{}
		}
		per[id] = r.settings()
	}
	return c.RF.settings(), per
}
