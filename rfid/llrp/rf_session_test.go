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
	// The exact bytes on the wire: antenna 1's configuration by hand,
	// then the whole body.
	ant1 := unhex(t, "00DE 0025 0001 00E0 000A 0001 0001 0046 014A 0015 80 0150 0010 40 00C8 00000000 0151 0005 00")
	if !bytes.Contains(sim.LastAddROSpec(), ant1) {
		t.Fatalf("ADD_ROSPEC body\n% X\ndoes not carry\n% X", sim.LastAddROSpec(), ant1)
	}
	ro.AntennaConfigs = want
	if got, exp := sim.LastAddROSpec(), llrp.AppendAddROSpec(nil, 0, ro)[llrp.HeaderLen:]; !bytes.Equal(got, exp) {
		t.Fatalf("ADD_ROSPEC body\n% X\nwant\n% X", got, exp)
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
