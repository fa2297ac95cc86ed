package llrp_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/dockgate/dockgate/rfid"
	"github.com/dockgate/dockgate/rfid/llrp"
	"github.com/dockgate/dockgate/rfid/readersim"
)

// startModelSim serves dock-in as reader model on a loopback port.
func startModelSim(t *testing.T, model string) (string, *readersim.Sim) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sim := readersim.New(loadScenario(t, "dock-in"))
	sim.TimeScale, sim.Model = 10, model
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sim.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("sim: %v", err)
		}
	})
	return ln.Addr().String(), sim
}

// The simulator presenting an R700 or an FX9600 answers with the fixture's
// bytes.
func TestQueryCapabilitiesOfModels(t *testing.T) {
	for model, fixture := range map[string]string{readersim.ModelR700: "r700-capabilities.hex", readersim.ModelFX9600: "fx9600-capabilities.hex"} {
		addr, _ := startModelSim(t, model)
		caps, body, err := llrp.QueryCapabilities(context.Background(), addr, 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if want := readHex(t, fixture)[llrp.HeaderLen:]; !bytes.Equal(body, want) {
			t.Errorf("%s: reply body\n% X\nwant the fixture's\n% X", model, body, want)
		}
		if len(caps.PowerTable) == 0 || caps.MaxAntennas != 4 {
			t.Errorf("%s: %+v", model, caps)
		}
	}
}

func TestQueryCapabilitiesUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, _, err = llrp.QueryCapabilities(context.Background(), addr, 5*time.Second)
	var op *net.OpError
	if !errors.As(err, &op) || !strings.Contains(err.Error(), "connect "+addr) {
		t.Fatalf("error %v, want a connect error naming %s", err, addr)
	}
}

// The simulator sends Impinj- and Zebra-style custom parameters in its
// capabilities and in every tag report; the session skips them and
// delivers the reads and the capabilities intact.
func TestCustomParametersFromTheSimulator(t *testing.T) {
	addr, sim := startModelSim(t, readersim.ModelSim)
	caps, body, err := llrp.QueryCapabilities(context.Background(), addr, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := readersim.ModelCapabilities(readersim.ModelSim, 4)
	if !bytes.Contains(body, want.Extra) || len(want.Extra) == 0 {
		t.Fatal("the capabilities reply carries no custom parameters")
	}
	want.Extra = nil
	if !reflect.DeepEqual(caps, want) {
		t.Fatalf("capabilities\n%+v\nwant\n%+v", caps, want)
	}

	truth := map[rfid.EPC]bool{}
	sc := loadScenario(t, "dock-in")
	for _, p := range sc.Truth() {
		for _, e := range p.EPCs {
			truth[e] = true
		}
	}
	for _, s := range sc.Strays {
		e, err := rfid.ParseEPC(s.EPC)
		if err != nil {
			t.Fatal(err)
		}
		truth[e] = true
	}
	rec := newRecorder()
	var bad []rfid.Read
	onReads := func(b []rfid.Read) {
		rec.mu.Lock()
		for _, r := range b {
			if !truth[r.EPC] || r.Antenna < 1 || r.Antenna > 4 || !r.HasRSSI || r.RSSI > -40 || r.RSSI < -80 {
				bad = append(bad, r)
			}
		}
		rec.mu.Unlock()
		rec.onReads(b)
	}
	runSession(t, llrp.Config{ReaderID: "r1", Address: addr, KeepalivePeriod: 500 * time.Millisecond,
		RF: llrp.RFSettings{TxPowerDBm: ptr(30.0)}, OnReads: onReads, OnEvent: rec.onEvent})
	rec.waitFor(t, "every carton tag", func() bool { return len(rec.epcs) >= 9 })
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(bad) > 0 {
		t.Fatalf("reads not in the scenario or mangled: %+v", bad)
	}
	if rec.count(rfid.EventDisconnected) > 0 {
		t.Fatalf("the session broke on custom parameters: %v", rec.kinds())
	}
	if sim.Stats().Reports == 0 {
		t.Fatal("no reports sent")
	}
}

// Over LLRP, session 1 with target A gets each carton tag once per
// persistence window from the simulator; session 0 gets it every cycle.
func TestSimulatorSessionsOverLLRP(t *testing.T) {
	counts := func(rf llrp.RFSettings) map[rfid.EPC]int {
		addr, _ := startSim(t, loadScenario(t, "dock-in"), 10)
		rec := newRecorder()
		_, stop := runSession(t, llrp.Config{ReaderID: "r1", Address: addr, KeepalivePeriod: 500 * time.Millisecond,
			RF: rf, OnReads: rec.onReads, OnEvent: rec.onEvent})
		rec.waitFor(t, "the pallet's 9 tags", func() bool {
			n := 0
			for e := range rec.epcs {
				if e.String() != "3034257BF461A7C00000270F" { // the rack's stray
					n++
				}
			}
			return n >= 9
		})
		time.Sleep(300 * time.Millisecond) // the rest of the 2 s dwell, at 10×
		stop()
		rec.mu.Lock()
		defer rec.mu.Unlock()
		out := map[rfid.EPC]int{}
		for e, n := range rec.epcs {
			out[e] = n
		}
		return out
	}
	s1 := counts(llrp.RFSettings{Session: ptr(uint8(1)), Target: llrp.TargetA})
	s0 := counts(llrp.RFSettings{Session: ptr(uint8(0)), Target: llrp.TargetA})
	for _, p := range loadScenario(t, "dock-in").Truth() {
		for _, e := range p.EPCs {
			if s1[e] < 1 || s1[e] > 3 {
				t.Errorf("%s: %d reads in session 1/A over a 2 s pass, want 1 to 3 (one per second)", e, s1[e])
			}
			if s0[e] <= 3 {
				t.Errorf("%s: %d reads in session 0, want many", e, s0[e])
			}
		}
	}
}
