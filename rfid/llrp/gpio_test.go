package llrp_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dockgate/dockgate/rfid"
	"github.com/dockgate/dockgate/rfid/llrp"
	"github.com/dockgate/dockgate/rfid/readersim"
)

// SetGPO sends GPOWriteData alongside the reads and returns once the
// reader answered; the simulator records every write.
func TestSetGPOOnSimulator(t *testing.T) {
	addr, sim := startSim(t, loadScenario(t, "dock-in"), 4)
	rec := newRecorder()
	s, err := llrp.NewSession(llrp.Config{ReaderID: "door-3", Address: addr, KeepalivePeriod: time.Second,
		OnReads: rec.onReads, OnEvent: rec.onEvent})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	err = s.SetGPO(ctx, 1, true)
	if !errors.Is(err, llrp.ErrNotConnected) || !strings.Contains(err.Error(), `"door-3"`) {
		t.Fatalf("SetGPO before the session is up: %v; want ErrNotConnected naming the reader", err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- s.Run(runCtx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	rec.waitFor(t, "reads", func() bool { return rec.reads > 0 })

	if err := s.SetGPO(ctx, 1, true); err != nil {
		t.Fatalf("SetGPO(1, high): %v", err)
	}
	if !sim.GPO(1) || sim.GPO(2) {
		t.Fatalf("simulator outputs %s, want GPO 1 high only", sim.GPOStates())
	}
	// Writes from several goroutines while reports flow.
	var wg sync.WaitGroup
	for p := uint16(1); p <= 4; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 5 {
				if err := s.SetGPO(ctx, p, i%2 == 0); err != nil {
					t.Errorf("SetGPO(%d): %v", p, err)
				}
			}
		}()
	}
	wg.Wait()
	if err := s.SetGPO(ctx, 1, false); err != nil {
		t.Fatal(err)
	}
	w := sim.GPOWrites()
	if len(w) != 22 || w[0].Port != 1 || !w[0].High || w[21].Port != 1 || w[21].High {
		t.Fatalf("%d writes recorded, first %+v, last %+v; want 22, GPO 1 high first and low last", len(w), w[0], w[len(w)-1])
	}
	if sim.GPO(1) || !sim.GPO(2) || !sim.GPO(4) {
		t.Fatalf("outputs %s, want 1 low, 2–4 high (their last write)", sim.GPOStates())
	}
	for _, tc := range []struct {
		port uint16
		want string
	}{{0, "numbered from 1"}, {5, "has 4 GPO ports; port 5 does not exist"}} {
		if err := s.SetGPO(ctx, tc.port, true); err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "door-3") {
			t.Errorf("SetGPO(%d): %v, want an error naming the reader and %q", tc.port, err, tc.want)
		}
	}
	if n := len(sim.GPOWrites()); n != 22 {
		t.Fatalf("refused ports reached the reader: %d writes", n)
	}
	// A context that ends first.
	dead, stop := context.WithCancel(ctx)
	stop()
	if err := s.SetGPO(dead, 2, true); err == nil {
		t.Error("SetGPO with a cancelled context returned nil")
	}
}

// A session without inventory sets outputs and adds no ROSpec.
func TestSetGPOWithoutInventory(t *testing.T) {
	addr, sim := startSim(t, loadScenario(t, "dock-in"), 4)
	rec := newRecorder()
	s, _ := runSession(t, llrp.Config{ReaderID: "r1", Address: addr, KeepalivePeriod: time.Second, NoInventory: true,
		OnReads: rec.onReads, OnEvent: rec.onEvent})
	rec.waitFor(t, "connected", func() bool { return rec.count(rfid.EventConnected) > 0 })
	if err := s.SetGPO(context.Background(), 3, true); err != nil {
		t.Fatal(err)
	}
	if !sim.GPO(3) {
		t.Fatalf("outputs %s", sim.GPOStates())
	}
	if _, ok := sim.LastROSpec(); ok {
		t.Fatal("a session without inventory added an ROSpec")
	}
}

// A reader that refuses the write: the error carries its status.
func TestSetGPORefused(t *testing.T) {
	greet := fixture(t, "READER_EVENT_NOTIFICATION: connection attempt succeeded").Raw
	ln, addr := listen(t)
	go gpoRefuser(ln, greet)
	rec := newRecorder()
	s, _ := runSession(t, llrp.Config{ReaderID: "r1", Address: addr, KeepalivePeriod: time.Second, OnEvent: rec.onEvent})
	rec.waitFor(t, "connected", func() bool { return rec.count(rfid.EventConnected) > 0 })
	err := s.SetGPO(context.Background(), 2, true)
	if !errors.Is(err, rfid.ErrReaderStatus) || !strings.Contains(err.Error(), "GPO 2") {
		t.Fatalf("SetGPO: %v; want the reader's status error", err)
	}
}

// The session's ROSpec for a GPI start and a GPI stop with timeout, byte
// for byte, and the trigger fires on the simulator's GPI steps.
func TestSessionTriggerROSpecBytes(t *testing.T) {
	addr, sim := startSim(t, loadScenario(t, "photo-eye"), 4)
	rec := newRecorder()
	runSession(t, llrp.Config{ReaderID: "r1", Address: addr, KeepalivePeriod: time.Second, Antennas: []uint16{1, 2},
		Trigger: llrp.Trigger{Start: llrp.StartTriggerGPI, StartGPI: llrp.GPITrigger{Port: 1, High: true},
			Stop: llrp.StopTriggerGPI, StopGPI: llrp.GPITrigger{Port: 1, TimeoutMS: 5000}},
		OnReads: rec.onReads, OnEvent: rec.onEvent})
	rec.waitFor(t, "connected", func() bool { return rec.count(rfid.EventConnected) > 0 })
	// The ROBoundarySpec by hand: GPI 1 high starts, GPI 1 low or 5 s stops.
	boundary := unhex(t, "00B2 0028 00B3 0010 03 00B5 000B 0001 80 00000000 00B6 0014 02 00000000 00B5 000B 0001 00 00001388")
	if !bytes.Contains(sim.LastAddROSpec(), boundary) {
		t.Fatalf("ADD_ROSPEC body\n% X\ndoes not carry\n% X", sim.LastAddROSpec(), boundary)
	}
	// The whole body: the fixture's, with the session's report contents.
	if got, want := sim.LastAddROSpec(), sessionROSpec(t, "ADD_ROSPEC: start on GPI 1 high, stop on GPI 1 low or after 5 s"); !bytes.Equal(got, want) {
		t.Fatalf("ADD_ROSPEC body\n% X\nwant\n% X", got, want)
	}
}

// sessionROSpec is the body of fixture desc's ROSpec with the report
// contents the session asks for (AccessSpecID too).
func sessionROSpec(t *testing.T, desc string) []byte {
	t.Helper()
	ro := fixture(t, desc).Decoded.(llrp.ROSpec)
	ro.ReportSelector |= llrp.SelectAccessSpecID
	return llrp.AppendAddROSpec(nil, 0, ro)[llrp.HeaderLen:]
}

// Without a trigger the ROSpec is today's: null triggers, START_ROSPEC.
func TestSessionDefaultTriggerUnchanged(t *testing.T) {
	addr, sim := startSim(t, loadScenario(t, "dock-in"), 4)
	rec := newRecorder()
	runSession(t, llrp.Config{ReaderID: "r1", Address: addr, KeepalivePeriod: time.Second, Antennas: []uint16{1, 2},
		OnReads: rec.onReads, OnEvent: rec.onEvent})
	rec.waitFor(t, "reads", func() bool { return rec.reads > 0 })
	if got, want := sim.LastAddROSpec(), sessionROSpec(t, "ADD_ROSPEC: antennas 1 and 2, report every tag"); !bytes.Equal(got, want) {
		t.Fatalf("ADD_ROSPEC body\n% X\nwant\n% X", got, want)
	}
}

// A trigger port the reader does not have: a warning on the connected
// event, and the reader reads continuously.
func TestSessionTriggerPortBeyondReader(t *testing.T) {
	addr, sim := startSim(t, loadScenario(t, "dock-in"), 4)
	rec := newRecorder()
	runSession(t, llrp.Config{ReaderID: "r1", Address: addr, KeepalivePeriod: time.Second,
		Trigger: llrp.Trigger{Start: llrp.StartTriggerGPI, StartGPI: llrp.GPITrigger{Port: 9, High: true}},
		OnReads: rec.onReads, OnEvent: rec.onEvent})
	rec.waitFor(t, "reads", func() bool { return rec.reads > 0 })
	ro, _ := sim.LastROSpec()
	if ro.StartTrigger != llrp.StartTriggerNull || ro.StartGPI != nil {
		t.Fatalf("ROSpec start trigger %d %+v, want null (START_ROSPEC)", ro.StartTrigger, ro.StartGPI)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for _, e := range rec.events {
		if e.Kind == rfid.EventConnected {
			if !strings.Contains(e.Message, "trigger GPI port 9 but the reader has 4 GPI ports") {
				t.Fatalf("connected message %q does not name the port and the reader's count", e.Message)
			}
			return
		}
	}
	t.Fatal("no connected event")
}

func TestTriggerValidation(t *testing.T) {
	for _, tc := range []struct {
		tr   llrp.Trigger
		want string
	}{
		{llrp.Trigger{Start: 7}, "start trigger type 7"},
		{llrp.Trigger{Stop: 5}, "stop trigger type 5"},
		{llrp.Trigger{Start: llrp.StartTriggerGPI}, "port 0"},
		{llrp.Trigger{Stop: llrp.StopTriggerGPI}, "port 0"},
		{llrp.Trigger{Start: llrp.StartTriggerPeriodic}, "without a period"},
		{llrp.Trigger{Stop: llrp.StopTriggerDuration}, "give StopMS"},
	} {
		_, err := llrp.NewSession(llrp.Config{Address: "127.0.0.1:5084", Trigger: tc.tr})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.tr, err, tc.want)
		}
	}
}

func listen(t *testing.T) (net.Listener, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln, ln.Addr().String()
}

// gpoRefuser is a reader with 4 GPOs that answers every output write with
// a field error.
func gpoRefuser(ln net.Listener, greet []byte) {
	for {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer nc.Close()
			if _, err := nc.Write(greet); err != nil {
				return
			}
			dec := llrp.NewDecoder(nc, 0)
			for {
				m, err := dec.Next()
				if err != nil {
					return
				}
				var out []byte
				resp, ok := llrp.ResponseType(m.Type)
				switch {
				case m.Type == llrp.MsgGetReaderCapabilities:
					out = llrp.AppendCapabilitiesResponse(nil, m.ID, llrp.Status{}, llrp.Capabilities{MaxAntennas: 4, NumGPIs: 4, NumGPOs: 4})
				case m.Type == llrp.MsgSetReaderConfig:
					st := llrp.Status{}
					if rc, err := llrp.ParseReaderConfig(m.Body); err != nil || len(rc.GPOWrites) > 0 {
						st = llrp.Status{Code: 101, Description: "GPO busy"}
					}
					out = llrp.AppendResponse(nil, resp, m.ID, st)
				case ok:
					out = llrp.AppendResponse(nil, resp, m.ID, llrp.Status{})
				}
				if _, err := nc.Write(out); err != nil {
					return
				}
			}
		}()
	}
}

// The photo-eye scenario: with a GPI start trigger (eye high) and a GPI
// stop trigger (eye low), the reader reports the pallet that passes while
// the eye sees it, and neither the pallet staged before nor the one parked
// after; the session turns the GPI events into EventGPI.
func TestPhotoEyeStartsAndStopsReading(t *testing.T) {
	sc := loadScenario(t, "photo-eye")
	const scale = 8
	addr, _ := startSim(t, sc, scale)
	rec := newRecorder()
	runSession(t, llrp.Config{ReaderID: "r1", Address: addr, KeepalivePeriod: time.Second,
		Trigger: llrp.Trigger{Start: llrp.StartTriggerGPI, StartGPI: llrp.GPITrigger{Port: 1, High: true},
			Stop: llrp.StopTriggerGPI, StopGPI: llrp.GPITrigger{Port: 1}},
		OnReads: rec.onReads, OnEvent: rec.onEvent})
	rec.waitFor(t, "the eye going high and low", func() bool { return rec.gpiChanges() >= 2 })
	// The eye went low at 9 s; the pallet parked after it has left the
	// field by 14.5 s (scenario time, 8× faster); and some margin.
	time.Sleep(6 * time.Second / scale)
	rec.mu.Lock()
	defer rec.mu.Unlock()
	truth := sc.Truth()
	for _, p := range truth {
		for _, e := range p.EPCs {
			n := rec.epcs[e]
			switch {
			case p.Carton == "pallet-in" && n == 0:
				t.Errorf("tag %s of the pallet passing the eye not read", e)
			case p.Carton != "pallet-in" && n > 0:
				t.Errorf("tag %s of %s read %d times while the eye was low", e, p.Carton, n)
			}
		}
	}
	if gpi := strings.Join(gpiLines(rec), " "); gpi != "1:false(initial) 1:true 1:false" {
		t.Errorf("GPI events %v, want port 1 low at connect, then high, then low", gpi)
	}
}

// WatchGPI turns on every input and its events without any trigger.
func TestWatchGPI(t *testing.T) {
	sc := loadScenario(t, "dock-in")
	sc.GPI = []readersim.GPIStep{{At: 300 * time.Millisecond, Port: 3, State: "high"}, {At: 600 * time.Millisecond, Port: 3, State: "low"}}
	if err := sc.Prepare(); err != nil {
		t.Fatal(err)
	}
	addr, _ := startSim(t, sc, 1)
	rec := newRecorder()
	runSession(t, llrp.Config{ReaderID: "r1", Address: addr, KeepalivePeriod: time.Second, WatchGPI: true,
		OnReads: rec.onReads, OnEvent: rec.onEvent})
	rec.waitFor(t, "GPI 3 high and low", func() bool { return rec.gpiChanges() >= 2 })
	rec.mu.Lock()
	defer rec.mu.Unlock()
	var got []rfid.ReaderEvent
	atConnect := 0
	for _, e := range rec.events {
		switch {
		case e.Kind == rfid.EventGPI && e.Initial:
			atConnect++ // the four inputs, low (TestGPIStateAtConnectFromSimulator)
		case e.Kind == rfid.EventGPI:
			got = append(got, e)
		}
	}
	if atConnect != 4 {
		t.Fatalf("%d inputs reported at connect, want the reader's 4", atConnect)
	}
	if got[0].Port != 3 || !got[0].High || got[1].Port != 3 || got[1].High || got[0].Reader != "r1" {
		t.Fatalf("GPI events %+v", got)
	}
}

// BenchmarkSetGPO measures SetGPO against the simulator while it reports
// tags: from the call to the reader's answer (the write is on the wire
// before that), p99 included.
func BenchmarkSetGPO(b *testing.B) {
	sc, err := readersim.Load("dock-in")
	if err != nil {
		b.Fatal(err)
	}
	sc.Loop = true
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	sim := readersim.New(sc)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = sim.Serve(ctx, ln) }()
	connected := make(chan struct{})
	var once sync.Once
	s, err := llrp.NewSession(llrp.Config{Address: ln.Addr().String(), OnEvent: func(e rfid.ReaderEvent) {
		if e.Kind == rfid.EventConnected {
			once.Do(func() { close(connected) })
		}
	}})
	if err != nil {
		b.Fatal(err)
	}
	go func() { _ = s.Run(ctx) }()
	select {
	case <-connected:
	case <-time.After(10 * time.Second):
		b.Fatal("no connection")
	}
	lat := make([]time.Duration, 0, b.N)
	i := 0
	for b.Loop() {
		t0 := time.Now()
		if err := s.SetGPO(ctx, uint16(1+i%4), i%2 == 0); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
		i++
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}
