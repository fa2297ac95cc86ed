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

// The in-process simulated reader sets outputs like an LLRP reader: through
// its session, recorded by the simulator.
func TestSimReaderSetsGPO(t *testing.T) {
	connected := make(chan struct{}, 1)
	r, err := readers.New(readers.Config{ID: "door-1", Type: "sim", Scenario: "dock-in", TimeScale: 4, KeepAlive: time.Second},
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
	g, ok := r.(rfid.GPOSetter)
	if !ok {
		t.Fatal("the simulated reader is not an rfid.GPOSetter")
	}
	ctx := context.Background()
	if err := g.SetGPO(ctx, 1, true); !errors.Is(err, llrp.ErrNotConnected) || !strings.Contains(err.Error(), `"door-1"`) {
		t.Fatalf("SetGPO before Run: %v", err)
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
	if err := g.SetGPO(ctx, 2, true); err != nil {
		t.Fatal(err)
	}
	sim := r.(interface{ Simulator() *readersim.Sim }).Simulator()
	if w := sim.GPOWrites(); len(w) != 1 || w[0].Port != 2 || !w[0].High || !sim.GPO(2) {
		t.Fatalf("simulator writes %+v", w)
	}
}
