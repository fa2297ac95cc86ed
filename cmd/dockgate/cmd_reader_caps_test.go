package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// capsOut is what the tests read of "reader capabilities".
type capsOut struct {
	ManufacturerName string `json:"manufacturer_name"`
	Model            uint32 `json:"model"`
	Firmware         string `json:"firmware"`
	Antennas         int    `json:"antennas"`
	GPIs, GPOs       int
	TxPower          struct {
		MinDBm float64 `json:"min_dbm"`
		MaxDBm float64 `json:"max_dbm"`
		StepDB float64 `json:"step_db"`
		Count  int     `json:"count"`
		Levels []struct {
			Index int     `json:"index"`
			DBm   float64 `json:"dbm"`
		} `json:"levels"`
	} `json:"tx_power"`
	RxSensitivity struct {
		MinDBm float64 `json:"min_dbm"`
		MaxDBm float64 `json:"max_dbm"`
		Count  int     `json:"count"`
	} `json:"rx_sensitivity"`
	RFModes []struct {
		ModeIdentifier uint32 `json:"mode_identifier"`
		Encoding       string `json:"encoding"`
		MinTariNS      int    `json:"min_tari_ns"`
	} `json:"rf_modes"`
	HopTables []struct {
		ID             int   `json:"id"`
		Channels       int   `json:"channels"`
		FrequenciesKHz []int `json:"frequencies_khz"`
	} `json:"hop_tables"`
}

func TestReaderCapabilitiesOfModels(t *testing.T) {
	for _, tc := range []struct {
		model, maker, firmware string
		minP, maxP, step       float64
		count                  int
	}{
		{"r700", "Impinj", "8.4.1.240", 10, 33, 0.25, 93},
		{"fx9600", "Zebra", "3.21.21", 10.1, 31.5, 0.1, 215},
		{"sim", "dockgate simulator", "dockgate-readersim", 10, 30, 0.25, 81},
	} {
		addr := startSimReader(t, "--scenario", "dock-in", "--model", tc.model)
		out, errs, code := rdrRun(t, "reader", "capabilities", "--llrp", addr)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", tc.model, code, errs)
		}
		var c capsOut
		if err := json.Unmarshal([]byte(out), &c); err != nil {
			t.Fatalf("%s: %v\n%s", tc.model, err, out)
		}
		if c.ManufacturerName != tc.maker || c.Firmware != tc.firmware || c.Antennas != 4 || c.GPIs != 4 || c.GPOs != 4 {
			t.Errorf("%s: %+v", tc.model, c)
		}
		p := c.TxPower
		if p.MinDBm != tc.minP || p.MaxDBm != tc.maxP || p.StepDB != tc.step || p.Count != tc.count || len(p.Levels) != tc.count ||
			p.Levels[0].Index != 1 || p.Levels[0].DBm != tc.minP {
			t.Errorf("%s: tx_power %+v", tc.model, p)
		}
		if c.RxSensitivity.Count == 0 || c.RxSensitivity.MinDBm >= c.RxSensitivity.MaxDBm {
			t.Errorf("%s: rx_sensitivity %+v", tc.model, c.RxSensitivity)
		}
		if len(c.RFModes) == 0 || c.RFModes[0].Encoding == "" || c.RFModes[0].MinTariNS == 0 {
			t.Errorf("%s: rf_modes %+v", tc.model, c.RFModes)
		}
		if len(c.HopTables) != 1 || c.HopTables[0].Channels != 50 || len(c.HopTables[0].FrequenciesKHz) != 50 {
			t.Errorf("%s: hop_tables %+v", tc.model, c.HopTables)
		}
	}
	// --summary: the ranges, not every level.
	addr := startSimReader(t, "--scenario", "dock-in", "--model", "r700")
	out, _, code := rdrRun(t, "reader", "capabilities", "--llrp", addr, "--summary")
	var c capsOut
	if err := json.Unmarshal([]byte(out), &c); err != nil || code != 0 {
		t.Fatalf("--summary: exit %d, %v", code, err)
	}
	if c.TxPower.Count != 93 || c.TxPower.Levels != nil || c.HopTables[0].FrequenciesKHz != nil || c.RFModes[0].MinTariNS != 0 {
		t.Errorf("--summary printed the tables: %s", out)
	}
}

func TestReaderCapabilitiesErrors(t *testing.T) {
	addr := freePort(t) // nothing listens there
	out, errs, code := rdrRun(t, "reader", "capabilities", "--llrp", addr, "--timeout", "5s")
	if code != 1 || out != "" || !strings.Contains(errs, "connect "+addr) || !strings.Contains(errs, "check the address") {
		t.Errorf("unreachable: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"reader", "capabilities"}, "--llrp HOST[:PORT]"},
		{[]string{"reader", "capabilities", "--llrp", addr, "--timeout", "0s"}, "--timeout"},
		{[]string{"sim", "reader", "--model", "r900"}, `--model "r900" is not one of sim, r700, fx9600`},
	} {
		if _, errs, code := rdrRun(t, tc.args...); code != 1 || !strings.Contains(errs, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want 1 and %q", tc.args, code, errs, tc.want)
		}
	}
}
