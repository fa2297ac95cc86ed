package readersim

import (
	"testing"
	"time"

	"github.com/dockgate/dockgate/rfid"
	"github.com/dockgate/dockgate/rfid/llrp"
)

// scenarioReads runs a built-in scenario's generator to its end.
func scenarioReads(t *testing.T, name string) (*Scenario, []rfid.Read) {
	t.Helper()
	sc, err := Load(name)
	if err != nil {
		t.Fatal(err)
	}
	g := sc.NewGenerator()
	var out []rfid.Read
	for g.Elapsed() < sc.Duration {
		out = g.Next(out, time.Time{})
	}
	return sc, out
}

// through passes reads through an RF model configured with ac, as the
// pump does.
func through(t *testing.T, sc *Scenario, reads []rfid.Read, ac llrp.AntennaConfig) []rfid.Read {
	t.Helper()
	caps, err := ModelCapabilities(ModelSim, sc.Antennas)
	if err != nil {
		t.Fatal(err)
	}
	m := newRFModel()
	m.configure(&caps, []*llrp.ROSpec{{ID: 1, AntennaConfigs: []llrp.AntennaConfig{ac}}}, sc.Sensitivity)
	var out []rfid.Read
	for _, r := range reads {
		if m.admit(&r, r.Time.Sub(time.Time{})) {
			out = append(out, r)
		}
	}
	return out
}

func power(t *testing.T, dBm float64) *llrp.Transmitter {
	t.Helper()
	caps, _ := ModelCapabilities(ModelSim, 4)
	i, err := llrp.PowerIndex(caps.PowerTable, dBm)
	if err != nil {
		t.Fatal(err)
	}
	return &llrp.Transmitter{HopTableID: 1, ChannelIndex: 1, Power: i}
}

// Lower transmit power, fewer reads: every read is 10 dB weaker at 20 dBm
// than at the table's 30 dBm, and those that fall below the -80 dBm floor —
// the stray tag on the rack (-78 dBm) and the carton's weak edge — are gone.
func TestPowerShrinksTheReadZone(t *testing.T) {
	sc, raw := scenarioReads(t, "dock-in")
	full := through(t, sc, raw, llrp.AntennaConfig{Transmitter: power(t, 30)})
	low := through(t, sc, raw, llrp.AntennaConfig{Transmitter: power(t, 20)})
	if len(full) != len(raw) {
		t.Fatalf("at the table's maximum %d of %d reads delivered, want all", len(full), len(raw))
	}
	if len(low) == 0 || len(low) >= len(full) {
		t.Fatalf("reads at 20 dBm: %d, at 30 dBm: %d; want fewer but some", len(low), len(full))
	}
	stray := sc.Strays[0].epc
	weakest := func(rs []rfid.Read) (int8, bool) {
		w, sawStray := int8(0), false
		for _, r := range rs {
			w = min(w, r.RSSI)
			sawStray = sawStray || r.EPC == stray
		}
		return w, sawStray
	}
	wFull, strayFull := weakest(full)
	wLow, strayLow := weakest(low)
	if !strayFull || strayLow {
		t.Errorf("stray tag seen at 30 dBm %v, at 20 dBm %v; want true, false", strayFull, strayLow)
	}
	if wFull > -75 || wLow < -80 {
		t.Errorf("weakest read %d dBm at 30 dBm, %d at 20 dBm; want ≤ -75 and ≥ -80", wFull, wLow)
	}
	// Each read kept is the same read 10 dB weaker.
	var strongest int8 = -128
	for _, r := range low {
		strongest = max(strongest, r.RSSI)
	}
	var strongestFull int8 = -128
	for _, r := range full {
		strongestFull = max(strongestFull, r.RSSI)
	}
	if strongest != strongestFull-10 {
		t.Errorf("strongest read %d dBm at 20 dBm, %d at 30 dBm; want 10 dB less", strongest, strongestFull)
	}
	// A receive sensitivity above the scenario's floor drops more.
	rx := uint16(5) // -60 dB in the simulator's table
	deaf := through(t, sc, raw, llrp.AntennaConfig{Transmitter: power(t, 30), Receiver: &rx})
	if len(deaf) >= len(full) {
		t.Errorf("rx sensitivity -60: %d reads, want fewer than %d", len(deaf), len(full))
	}
	for _, r := range deaf {
		if r.RSSI < -60 {
			t.Fatalf("read at %d dBm delivered under a -60 dBm sensitivity", r.RSSI)
		}
	}
}

func perTag(rs []rfid.Read) map[rfid.EPC][]time.Duration {
	m := map[rfid.EPC][]time.Duration{}
	for _, r := range rs {
		m[r.EPC] = append(m[r.EPC], r.Time.Sub(time.Time{}))
	}
	return m
}

// Session 1 with target A reports a tag once per persistence window;
// session 0 and dual target re-read it every cycle; session 2 keeps it
// silent while it stays in the field.
func TestSessionsAndTargets(t *testing.T) {
	sc, raw := scenarioReads(t, "dock-in")
	carton := sc.Cartons[0].epcs
	inv := func(sess uint8, target *llrp.StateAction) llrp.AntennaConfig {
		return llrp.AntennaConfig{Inventory: &llrp.InventoryCommand{StateAware: target != nil,
			Singulation: &llrp.Singulation{Session: sess, TagPopulation: 32, StateAction: target}}}
	}
	s0 := perTag(through(t, sc, raw, inv(0, &llrp.StateAction{})))
	s1 := perTag(through(t, sc, raw, inv(1, &llrp.StateAction{})))
	dual := perTag(through(t, sc, raw, inv(1, nil)))
	s2 := perTag(through(t, sc, raw, inv(2, &llrp.StateAction{})))
	all := perTag(raw)
	for _, e := range carton {
		if len(s0[e]) != len(all[e]) || len(dual[e]) != len(all[e]) {
			t.Errorf("%s: S0 %d, dual target %d reads, want every one of %d", e, len(s0[e]), len(dual[e]), len(all[e]))
		}
		if len(all[e]) < 10 {
			t.Fatalf("%s: only %d raw reads; the scenario should re-read a carton tag many times", e, len(all[e]))
		}
		ts := s1[e]
		if len(ts) == 0 || len(ts) > 3 {
			t.Errorf("%s: S1/A %d reads over a 2 s dwell, want 1 to 3", e, len(ts))
		}
		for i := 1; i < len(ts); i++ {
			if gap := ts[i] - ts[i-1]; gap < PersistS1 {
				t.Errorf("%s: S1/A re-reported after %v, within the %v persistence", e, gap, PersistS1)
			}
		}
		if len(s2[e]) != 1 {
			t.Errorf("%s: S2/A %d reads while in the field, want 1", e, len(s2[e]))
		}
	}
	// Impinj's single-target search mode is a single target too.
	single := llrp.ImpinjSearchSingleTarget
	ac := inv(1, nil)
	ac.Inventory.ImpinjSearchMode = &single
	if got := perTag(through(t, sc, raw, ac)); len(got[carton[0]]) != len(s1[carton[0]]) {
		t.Errorf("Impinj single target: %d reads, want S1/A's %d", len(got[carton[0]]), len(s1[carton[0]]))
	}
}
