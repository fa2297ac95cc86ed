package llrp_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/dockgate/dockgate/rfid"
	"github.com/dockgate/dockgate/rfid/llrp"
)

// The session maps the RF settings on the simulator's tables and sends
// them in the ROSpec's AntennaConfiguration; the simulator records what it
// received. A setting outside the tables is left out, and named in the
// connected event's message.
func TestSessionSendsRFSettings(t *testing.T) {
	addr, sim := startSim(t, loadScenario(t, "dock-in"), 10)
	rec := newRecorder()
	runSession(t, llrp.Config{ReaderID: "r1", Address: addr, KeepalivePeriod: 500 * time.Millisecond,
		Antennas: []uint16{1, 2},
		RF:       llrp.RFSettings{TxPowerDBm: ptr(27.3), Session: ptr(uint8(1)), Target: llrp.TargetA, TagPopulation: ptr(uint16(200))},
		AntennaRF: map[uint16]llrp.RFSettings{
			2: {TxPowerDBm: ptr(31.5), RxSensitivityDBm: ptr(-70.0), RFMode: ptr(uint32(1000))},
		},
		OnReads: rec.onReads, OnEvent: rec.onEvent})
	rec.waitFor(t, "connected", func() bool { return rec.count(rfid.EventConnected) > 0 })
	ro, ok := sim.LastROSpec()
	if !ok {
		t.Fatal("the simulator recorded no ROSpec")
	}
	sing := &llrp.Singulation{Session: 1, TagPopulation: 200, StateAction: &llrp.StateAction{}}
	want := []llrp.AntennaConfig{
		{AntennaID: 1, Transmitter: &llrp.Transmitter{HopTableID: 1, ChannelIndex: 1, Power: 70}, // 27.25 dBm
			Inventory: &llrp.InventoryCommand{StateAware: true, Singulation: sing}},
		{AntennaID: 2, Receiver: ptr(uint16(3)), // -70 dB; 31.5 dBm is over the table: left out
			Inventory: &llrp.InventoryCommand{StateAware: true, RFControl: &llrp.RFControl{ModeIndex: 1000}, Singulation: sing}},
	}
	if !reflect.DeepEqual(ro.AntennaConfigs, want) {
		t.Fatalf("AntennaConfigs received\n%s\nwant\n%s", dump(ro.AntennaConfigs), dump(want))
	}
	// The exact bytes: what the session built re-encodes to the same.
	a := llrp.AppendAddROSpec(nil, 1, llrp.ROSpec{ID: 1, AntennaConfigs: want})
	b := llrp.AppendAddROSpec(nil, 1, llrp.ROSpec{ID: 1, AntennaConfigs: ro.AntennaConfigs})
	if !bytes.Equal(a, b) {
		t.Fatalf("% X\n% X", a, b)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	var msg string
	for _, e := range rec.events {
		if e.Kind == rfid.EventConnected {
			msg = e.Message
		}
	}
	if !strings.Contains(msg, "antenna 2: ") || !strings.Contains(msg, "10.00 to 30.00 dBm") {
		t.Fatalf("connected event message %q does not name the antenna and the table's range", msg)
	}
}

// Without RF settings the ROSpec carries no AntennaConfiguration: the
// reader keeps its own.
func TestSessionWithoutRFSettings(t *testing.T) {
	addr, sim := startSim(t, loadScenario(t, "dock-in"), 10)
	rec := newRecorder()
	runSession(t, llrp.Config{ReaderID: "r1", Address: addr, KeepalivePeriod: 500 * time.Millisecond,
		OnReads: rec.onReads, OnEvent: rec.onEvent})
	rec.waitFor(t, "connected", func() bool { return rec.count(rfid.EventConnected) > 0 })
	if ro, ok := sim.LastROSpec(); !ok || ro.AntennaConfigs != nil {
		t.Fatalf("ROSpec %+v, %v", ro, ok)
	}
}

func dump(acs []llrp.AntennaConfig) string {
	b, _ := json.Marshal(acs)
	return string(b)
}
