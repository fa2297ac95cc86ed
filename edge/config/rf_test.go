package config

import "testing"

func TestReaderRFSettings(t *testing.T) {
	c, err := Parse([]byte(`
readers:
  - id: R1
    address: 10.0.0.21
    antennas: [1, 2]
    tx_power_dbm: 27.5
    rx_sensitivity_dbm: -70
    session: 1
    target: AB
    rf_mode: auto
    tag_population: 200
    vendor:
      impinj: {search_mode: dual_target}
    antenna_rf:
      2: {tx_power_dbm: 20, rf_mode: 1000}
`), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	r := c.Readers[0]
	if *r.TxPowerDBm != 27.5 || *r.RxSensitivityDBm != -70 || *r.Session != 1 || r.Target != "AB" || r.RFMode != "auto" ||
		*r.TagPopulation != 200 || r.Vendor.Impinj.SearchMode != "dual_target" ||
		*r.AntennaRF[2].TxPowerDBm != 20 || r.AntennaRF[2].RFMode != "1000" {
		t.Fatalf("reader %+v", r)
	}
}

func TestReaderRFSettingsInvalid(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"readers:\n  - {id: R1, address: h, session: 4}\n",
			`readers[0]: reader "R1": session 4 is not a Gen2 session: use 0, 1, 2 or 3 (1 or 2 at a dock door)`},
		{"readers:\n  - {id: R1, address: h, antennas: [1], antenna_rf: {2: {target: A}}}\n",
			`readers[0]: reader "R1": antenna_rf.2: antenna 2 is not in antennas [1]; add it there or remove its settings`},
		{"readers:\n  - {id: R1, address: h, tx_power_dbm: high}\n",
			`line 2: readers[0].tx_power_dbm: want a number, got "high"`},
		{"readers:\n  - {id: R1, address: h, antenna_rf: {1: {tx_power: 20}}}\n",
			`line 2: unknown key "tx_power" in readers[0].antenna_rf.1; known keys: channel_index, hop_table_id, rf_mode, rx_sensitivity_dbm, session, tag_population, target, tx_power_dbm, vendor`},
	} {
		wantOneProblem(t, tc.yaml, tc.want)
	}
}
