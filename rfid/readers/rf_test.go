package readers_test

import (
	"strings"
	"testing"

	"github.com/dockgate/dockgate/rfid/readers"
)

func ptr[T any](v T) *T { return &v }

func TestValidateRF(t *testing.T) {
	base := readers.Config{ID: "r", Address: "h", Antennas: []uint16{1, 2}}
	for _, tc := range []struct {
		rf   readers.RF
		per  map[uint16]readers.RF
		typ  string
		want string
	}{
		{rf: readers.RF{Session: ptr(4)}, want: `reader "r": session 4 is not a Gen2 session: use 0, 1, 2 or 3`},
		{rf: readers.RF{Target: "ab"}, want: `target "ab" is not A, B or AB`},
		{rf: readers.RF{RFMode: "fast"}, want: `rf_mode "fast" is not auto or a ModeIdentifier`},
		{rf: readers.RF{TagPopulation: ptr(0)}, want: "tag_population 0 must be 1 to 65535"},
		{rf: readers.RF{TxPowerDBm: ptr(300.0)}, want: "tx_power_dbm 300 is not a plausible value"},
		{rf: readers.RF{Vendor: &readers.Vendor{Impinj: &readers.Impinj{SearchMode: "dual"}}},
			want: `vendor.impinj.search_mode "dual" is not one of dual_target, dual_target_b_to_a_select`},
		{per: map[uint16]readers.RF{3: {}}, want: "antenna_rf.3: antenna 3 is not in antennas [1 2]; add it there or remove its settings"},
		{per: map[uint16]readers.RF{0: {}}, want: "antenna_rf.0: antennas are numbered from 1"},
		{per: map[uint16]readers.RF{2: {Session: ptr(-1)}}, want: "antenna_rf.2: session -1 is not a Gen2 session"},
		{rf: readers.RF{HopTableID: ptr(0), TxPowerDBm: ptr(20.0)}, want: "hop_table_id 0 must be 1 to 255"},
		{rf: readers.RF{ChannelIndex: ptr(2)}, want: "hop_table_id and channel_index are sent with the power: set tx_power_dbm too"},
		{rf: readers.RF{Session: ptr(1), Target: "A"}, typ: "serial", want: "session, target: LLRP settings a serial reader cannot take"},
		{rf: readers.RF{TxPowerDBm: ptr(27.0)}, typ: "serial", want: "tx_power_dbm 27 is outside the M100's 0 to 26 dBm"},
		{per: map[uint16]readers.RF{1: {TxPowerDBm: ptr(20.0)}}, typ: "serial", want: "antenna_rf: LLRP settings a serial reader cannot take"},
	} {
		cfg := base
		cfg.RF, cfg.AntennaRF = tc.rf, tc.per
		if tc.typ != "" {
			cfg.Type, cfg.Device, cfg.Protocol = tc.typ, "/dev/x", "m100"
		}
		_, err := readers.New(cfg, readers.Handlers{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.rf, err, tc.want)
		}
	}
	ok := base
	ok.RF = readers.RF{TxPowerDBm: ptr(27.0), RxSensitivityDBm: ptr(-70.0), Session: ptr(1), Target: "AB", RFMode: "auto",
		TagPopulation: ptr(200), Vendor: &readers.Vendor{Impinj: &readers.Impinj{SearchMode: "dual_target"}}}
	ok.AntennaRF = map[uint16]readers.RF{2: {TxPowerDBm: ptr(20.0), RFMode: "1000"}, 1: {ChannelIndex: ptr(3)}}
	if err := ok.WithDefaults().Validate(); err != nil {
		t.Fatal(err)
	}
	for proto, dBm := range map[string]float64{"m100": 26, "ru5102": 30} {
		serial := readers.Config{ID: "s", Type: "serial", Device: "/dev/x", Protocol: proto, RF: readers.RF{TxPowerDBm: ptr(dBm)}}
		if err := serial.WithDefaults().Validate(); err != nil {
			t.Errorf("%s at %v dBm: %v", proto, dBm, err)
		}
	}
	for _, tc := range []struct{ proto, want string }{{"ru5102", "whole dBm from 0 to 30"}, {"ascii", "ascii readers have no power command"}} {
		serial := readers.Config{ID: "s", Type: "serial", Device: "/dev/x", Protocol: tc.proto, RF: readers.RF{TxPowerDBm: ptr(20.5)}}
		if err := serial.WithDefaults().Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s at 20.5 dBm: %v, want %q", tc.proto, err, tc.want)
		}
	}
	sim := readers.Config{ID: "m", Type: "sim", Model: "r900"}
	if err := sim.WithDefaults().Validate(); err == nil || !strings.Contains(err.Error(), `model "r900" is not one of sim, r700, fx9600`) {
		t.Errorf("sim model r900: %v", err)
	}
}
