package readers_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/dockgate/dockgate/rfid"
	"github.com/dockgate/dockgate/rfid/llrp"
	"github.com/dockgate/dockgate/rfid/readers"
	"github.com/dockgate/dockgate/rfid/readersim"
)

// The simulated reader takes RF settings while it runs, over those in
// force, with a ROSpec restart on the same connection.
func TestSimReaderAppliesRF(t *testing.T) {
	connected := make(chan struct{}, 1)
	session2 := 2
	r, err := readers.New(readers.Config{ID: "door-1", Type: readers.TypeSim, Scenario: "dock-in", TimeScale: 4, KeepAlive: time.Second,
		RF: readers.RF{Session: &session2}},
		readers.Handlers{OnEvent: func(e rfid.ReaderEvent) {
			if e.Kind == rfid.EventConnected {
				select {
				case connected <- struct{}{}:
				default:
				}
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	a, ok := r.(readers.RFApplier)
	if !ok {
		t.Fatal("the simulated reader is not a readers.RFApplier")
	}
	ctx := context.Background()
	power := 27.0
	if _, _, err := a.ApplyRF(ctx, 0, readers.RF{TxPowerDBm: &power}); !errors.Is(err, llrp.ErrNotConnected) || !strings.Contains(err.Error(), `"door-1"`) {
		t.Fatalf("ApplyRF before Run: %v", err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- r.Run(runCtx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	select {
	case <-connected:
	case <-time.After(20 * time.Second):
		t.Fatal("the simulated reader did not connect")
	}

	bad := 7
	if _, _, err := a.ApplyRF(ctx, 0, readers.RF{Session: &bad}); !errors.Is(err, readers.ErrInvalidRF) || !strings.Contains(err.Error(), "session 7") {
		t.Fatalf("session 7: %v", err)
	}
	f, warnings, err := a.ApplyRF(ctx, 0, readers.RF{TxPowerDBm: &power})
	if err != nil || len(warnings) > 0 {
		t.Fatalf("ApplyRF: %v, warnings %v", err, warnings)
	}
	if f.RF.TxPowerDBm == nil || *f.RF.TxPowerDBm != 27 || f.RF.Session == nil || *f.RF.Session != 2 {
		t.Fatalf("in force %+v: want tx_power_dbm 27 over the configured session 2", f.RF)
	}
	sim := r.(interface{ Simulator() *readersim.Sim }).Simulator()
	caps, err := readersim.ModelCapabilities(readersim.ModelSim, 4)
	if err != nil {
		t.Fatal(err)
	}
	want, err := llrp.PowerIndex(caps.PowerTable, 27)
	if err != nil {
		t.Fatal(err)
	}
	ro, ok := sim.LastROSpec()
	if !ok || len(ro.AntennaConfigs) == 0 {
		t.Fatalf("ROSpec %+v: no AntennaConfiguration", ro)
	}
	for _, ac := range ro.AntennaConfigs {
		if ac.Transmitter == nil || ac.Transmitter.Power != want {
			t.Fatalf("antenna %d transmitter %+v: want power index %d (27 dBm)", ac.AntennaID, ac.Transmitter, want)
		}
	}

	one := 1
	f, _, err = a.ApplyRF(ctx, 2, readers.RF{Session: &one})
	if err != nil {
		t.Fatal(err)
	}
	if s := f.AntennaRF[2].Session; s == nil || *s != 1 || *f.RF.TxPowerDBm != 27 {
		t.Fatalf("in force %+v", f)
	}
	if got := a.RFInForce(); got.AntennaRF[2].Session == nil || *got.RF.Session != 2 {
		t.Fatalf("RFInForce %+v", got)
	}
	ro, _ = sim.LastROSpec()
	for _, ac := range ro.AntennaConfigs {
		wantSession := uint8(2)
		if ac.AntennaID == 2 {
			wantSession = 1
		}
		if ac.Inventory == nil || ac.Inventory.Singulation == nil || ac.Inventory.Singulation.Session != wantSession {
			t.Fatalf("antenna %d inventory %+v: want session %d", ac.AntennaID, ac.Inventory, wantSession)
		}
	}
	if n := sim.Stats().Connections; n != 1 {
		t.Fatalf("%d connections: the settings must apply on the same connection", n)
	}
}

// Settings the configuration would refuse are refused before anything is
// sent, with the key named; the settings in force stay.
func TestApplyRFRefusesWhatConfigRefuses(t *testing.T) {
	r, err := readers.New(readers.Config{ID: "door-2", Type: readers.TypeSim, Antennas: []uint16{1, 2}}, readers.Handlers{})
	if err != nil {
		t.Fatal(err)
	}
	a := r.(readers.RFApplier)
	one, hop := 1, 3
	for _, c := range []struct {
		antenna uint16
		rf      readers.RF
		says    string
	}{
		{9, readers.RF{Session: &one}, "antenna 9 is not one of its antennas [1 2]"},
		{0, readers.RF{}, "no setting given"},
		{0, readers.RF{HopTableID: &hop}, "set tx_power_dbm too"},
		{2, readers.RF{Vendor: &readers.Vendor{Impinj: &readers.Impinj{}}}, "antenna 2: vendor.impinj.search_mode"},
	} {
		_, _, err := a.ApplyRF(context.Background(), c.antenna, c.rf)
		if !errors.Is(err, readers.ErrInvalidRF) || !strings.Contains(err.Error(), c.says) {
			t.Errorf("antenna %d %+v: %v, want %q", c.antenna, c.rf, err, c.says)
		}
	}
	if f := a.RFInForce(); f.RF != (readers.RF{}) || f.AntennaRF != nil {
		t.Fatalf("in force after refusals: %+v", f)
	}
}
