package llrp_test

import (
	"context"
	"errors"
	"net"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dockgate/dockgate/rfid"
	"github.com/dockgate/dockgate/rfid/llrp"
	"github.com/dockgate/dockgate/rfid/readersim"
)

// The door-tune scenario's strays, read at -78/-77 dBm at full power: 4 dB
// less (26 dBm on the simulator's 10–30 dBm table) puts them under the
// -80 dBm floor.
var strays = []rfid.EPC{rfid.MustParseEPC("3054257BF46DB640000005E1"), rfid.MustParseEPC("3054257BF46DB640000005E2")}

// msgLog records the types of the messages the simulator received.
type msgLog struct {
	mu    sync.Mutex
	types []uint16
}

func (l *msgLog) add(t uint16) {
	l.mu.Lock()
	l.types = append(l.types, t)
	l.mu.Unlock()
}

// since returns the ROSpec and capabilities requests from index i on.
func (l *msgLog) since(i int) []uint16 {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []uint16
	for _, t := range l.types[i:] {
		switch t {
		case llrp.MsgAddROSpec, llrp.MsgDeleteROSpec, llrp.MsgStartROSpec, llrp.MsgStopROSpec,
			llrp.MsgEnableROSpec, llrp.MsgDisableROSpec, llrp.MsgGetReaderCapabilities:
			out = append(out, t)
		}
	}
	return out
}

func (l *msgLog) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.types)
}

// serveSim serves sim on a loopback port until the test ends.
func serveSim(tb testing.TB, sim *readersim.Sim) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sim.Serve(ctx, ln) }()
	tb.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			tb.Errorf("sim: %v", err)
		}
	})
	return ln.Addr().String()
}

// tuneSim is the door-tune scenario's simulator with its requests logged.
func tuneSim(tb testing.TB, scale float64) (string, *readersim.Sim, *msgLog) {
	tb.Helper()
	sc, err := readersim.Load("door-tune")
	if err != nil {
		tb.Fatal(err)
	}
	sim := readersim.New(sc)
	sim.TimeScale = scale
	log := &msgLog{}
	sim.OnRequest = log.add
	return serveSim(tb, sim), sim, log
}

// rfReads keeps the reads delivered since the last take.
type rfReads struct {
	mu    sync.Mutex
	reads []rfid.Read
	more  chan struct{}
}

func (r *rfReads) onReads(b []rfid.Read) {
	r.mu.Lock()
	r.reads = append(r.reads, b...)
	r.mu.Unlock()
	select {
	case r.more <- struct{}{}:
	default:
	}
}

// take waits for at least n reads (a bounded wait) and returns them.
func (r *rfReads) take(t *testing.T, n int) []rfid.Read {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		r.mu.Lock()
		if len(r.reads) >= n {
			out := r.reads
			r.reads = nil
			r.mu.Unlock()
			return out
		}
		r.mu.Unlock()
		select {
		case <-r.more:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			t.Fatalf("timed out waiting for %d reads", n)
		}
	}
}

func maxRSSI(reads []rfid.Read) int8 {
	m := int8(-128)
	for _, r := range reads {
		if r.HasRSSI {
			m = max(m, r.RSSI)
		}
	}
	return m
}

func hasStray(reads []rfid.Read) bool {
	return slices.ContainsFunc(reads, func(r rfid.Read) bool { return slices.Contains(strays, r.EPC) })
}

// ApplyRF replaces the ROSpec once — STOP, DELETE, ADD, ENABLE, START on
// the same connection — and the reads after it follow the new power: the
// strays are gone and every read is weaker.
func TestApplyRFRestartsROSpec(t *testing.T) {
	addr, sim, log := tuneSim(t, 2)
	rs := &rfReads{more: make(chan struct{}, 1)}
	rec := newRecorder()
	s, _ := runSession(t, llrp.Config{ReaderID: "door-3", Address: addr, KeepalivePeriod: 500 * time.Millisecond,
		RF: llrp.RFSettings{TxPowerDBm: ptr(30.0)}, OnReads: rs.onReads, OnEvent: rec.onEvent})
	rec.waitFor(t, "connected", func() bool { return rec.count(rfid.EventConnected) > 0 })
	rs.take(t, 1) // reads may be in flight from before the session was up
	before := rs.take(t, 400)
	if !hasStray(before) {
		t.Fatal("no stray read at 30 dBm; the scenario changed")
	}

	mark := log.len()
	warnings, err := s.ApplyRF(context.Background(), llrp.RFSettings{TxPowerDBm: ptr(26.0)}, nil)
	if err != nil || len(warnings) > 0 {
		t.Fatalf("ApplyRF: %v, warnings %v", err, warnings)
	}
	want := []uint16{llrp.MsgStopROSpec, llrp.MsgDeleteROSpec, llrp.MsgAddROSpec, llrp.MsgEnableROSpec, llrp.MsgStartROSpec}
	if got := log.since(mark); !slices.Equal(got, want) {
		t.Errorf("requests %v, want %v (STOP, DELETE, ADD, ENABLE, START)", got, want)
	}
	if st := sim.Stats(); st.Connections != 1 {
		t.Errorf("%d connections, want 1: ApplyRF reconnected", st.Connections)
	}
	ro, _ := sim.LastROSpec()
	wantAC := []llrp.AntennaConfig{{Transmitter: &llrp.Transmitter{HopTableID: 1, ChannelIndex: 1, Power: 65}}} // 26.00 dBm
	if !reflect.DeepEqual(ro.AntennaConfigs, wantAC) {
		t.Errorf("AntennaConfigs %s, want %s", dump(ro.AntennaConfigs), dump(wantAC))
	}

	rs.take(t, 1) // a report the simulator had under way at the restart
	after := rs.take(t, 400)
	if hasStray(after) {
		t.Error("a stray is still read at 26 dBm")
	}
	if b, a := maxRSSI(before), maxRSSI(after); a > b-2 {
		t.Errorf("strongest read %d dBm at 26 dBm, %d dBm at 30 dBm: want 4 dB weaker", a, b)
	}
	if st := s.Stats(); st.Connects != 1 || st.Disconnects != 0 {
		t.Errorf("session stats %+v", st)
	}
}

// A session set up without RF settings asks for the reader's tables first;
// settings the reader cannot take are returned as warnings, the others
// applied; and a reconnect keeps the applied settings.
func TestApplyRFKeepsSettingsForReconnects(t *testing.T) {
	addr, sim, log := tuneSim(t, 2)
	rec := newRecorder()
	var mu sync.Mutex
	var last net.Conn
	dial := func(ctx context.Context, network, a string) (net.Conn, error) {
		var d net.Dialer
		nc, err := d.DialContext(ctx, network, a)
		mu.Lock()
		last = nc
		mu.Unlock()
		return nc, err
	}
	s, _ := runSession(t, llrp.Config{ReaderID: "door-3", Address: addr, KeepalivePeriod: 500 * time.Millisecond, Dial: dial,
		Backoff: func(int) time.Duration { return 10 * time.Millisecond }, OnReads: rec.onReads, OnEvent: rec.onEvent})
	rec.waitFor(t, "connected", func() bool { return rec.count(rfid.EventConnected) > 0 })
	mark := log.len()
	warnings, err := s.ApplyRF(context.Background(), llrp.RFSettings{Session: ptr(uint8(1))},
		map[uint16]llrp.RFSettings{2: {TxPowerDBm: ptr(40.0)}})
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 1 || !errors.Is(warnings[0], llrp.ErrOutsideTable) {
		t.Errorf("warnings %v, want antenna 2's power outside the table", warnings)
	}
	want := []uint16{llrp.MsgGetReaderCapabilities, llrp.MsgStopROSpec, llrp.MsgDeleteROSpec, llrp.MsgAddROSpec,
		llrp.MsgEnableROSpec, llrp.MsgStartROSpec}
	if got := log.since(mark); !slices.Equal(got, want) {
		t.Errorf("requests %v, want %v", got, want)
	}
	applied, _ := sim.LastROSpec()
	if len(applied.AntennaConfigs) != 4 {
		t.Fatalf("AntennaConfigs %s: want one per antenna", dump(applied.AntennaConfigs))
	}
	// The connection breaks; the session reconnects and sets the applied
	// settings up again.
	mu.Lock()
	_ = last.Close()
	mu.Unlock()
	rec.waitFor(t, "reconnected", func() bool { return rec.count(rfid.EventConnected) > 1 })
	again, _ := sim.LastROSpec()
	if !reflect.DeepEqual(again.AntennaConfigs, applied.AntennaConfigs) {
		t.Errorf("after the reconnect %s, want %s", dump(again.AntennaConfigs), dump(applied.AntennaConfigs))
	}
}

// A refused ROSpec puts the previous one back; not connected, ApplyRF
// fails naming the reader.
func TestApplyRFRefusedAndNotConnected(t *testing.T) {
	s, err := llrp.NewSession(llrp.Config{ReaderID: "door-9", Address: "127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.ApplyRF(context.Background(), llrp.RFSettings{TxPowerDBm: ptr(20.0)}, nil)
	if !errors.Is(err, llrp.ErrNotConnected) || !strings.Contains(err.Error(), `"door-9"`) {
		t.Errorf("not connected: %v", err)
	}

	// The simulator refuses a channel its hop table does not have.
	addr, sim, log := tuneSim(t, 2)
	rec := newRecorder()
	s, _ = runSession(t, llrp.Config{ReaderID: "door-3", Address: addr, KeepalivePeriod: 500 * time.Millisecond,
		RF: llrp.RFSettings{TxPowerDBm: ptr(30.0)}, OnReads: rec.onReads, OnEvent: rec.onEvent})
	rec.waitFor(t, "connected", func() bool { return rec.count(rfid.EventConnected) > 0 })
	old, _ := sim.LastROSpec()
	mark := log.len()
	_, err = s.ApplyRF(context.Background(), llrp.RFSettings{TxPowerDBm: ptr(20.0), ChannelIndex: ptr(uint16(99))}, nil)
	if err == nil || !strings.Contains(err.Error(), "ADD_ROSPEC") || !strings.Contains(err.Error(), "previous settings are back") {
		t.Fatalf("refused ROSpec: %v", err)
	}
	want := []uint16{llrp.MsgStopROSpec, llrp.MsgDeleteROSpec, llrp.MsgAddROSpec, // refused
		llrp.MsgDeleteROSpec, llrp.MsgAddROSpec, llrp.MsgEnableROSpec, llrp.MsgStartROSpec}
	if got := log.since(mark); !slices.Equal(got, want) {
		t.Errorf("requests %v, want %v", got, want)
	}
	if back, _ := sim.LastROSpec(); !reflect.DeepEqual(back, old) {
		t.Errorf("ROSpec after the refusal %+v, want the previous %+v", back, old)
	}
	n := rec.reads
	rec.waitFor(t, "reads after the refusal", func() bool { return rec.reads > n+50 })
	if sim.Stats().Connections != 1 {
		t.Error("the refusal reconnected")
	}
}

// With a GPI start trigger, a change while the eye sees a load starts the
// new ROSpec at once (START_ROSPEC): the rest of the pass is read. The
// stop trigger still ends it when the eye goes low.
func TestApplyRFDuringGPITriggeredPass(t *testing.T) {
	sc, err := readersim.Load("photo-eye")
	if err != nil {
		t.Fatal(err)
	}
	sim := readersim.New(sc)
	sim.TimeScale = 4
	log := &msgLog{}
	sim.OnRequest = log.add
	addr := serveSim(t, sim)
	rec := newRecorder()
	s, _ := runSession(t, llrp.Config{ReaderID: "dock-1", Address: addr, KeepalivePeriod: time.Second,
		Trigger: llrp.Trigger{Start: llrp.StartTriggerGPI, StartGPI: llrp.GPITrigger{Port: 1, High: true},
			Stop: llrp.StopTriggerGPI, StopGPI: llrp.GPITrigger{Port: 1}},
		OnReads: rec.onReads, OnEvent: rec.onEvent})
	rec.waitFor(t, "connected", func() bool { return rec.count(rfid.EventConnected) > 0 })
	// Before the eye: the ROSpec waits for its trigger and stays waiting.
	mark := log.len()
	if _, err := s.ApplyRF(context.Background(), llrp.RFSettings{TxPowerDBm: ptr(29.0)}, nil); err != nil {
		t.Fatal(err)
	}
	want := []uint16{llrp.MsgStopROSpec, llrp.MsgDeleteROSpec, llrp.MsgAddROSpec, llrp.MsgEnableROSpec}
	if got := log.since(mark); !slices.Equal(got, append([]uint16{llrp.MsgGetReaderCapabilities}, want...)) {
		t.Errorf("before the eye: requests %v, want the capabilities, then %v", got, want)
	}
	rec.waitFor(t, "the eye going high", func() bool { return rec.gpiChanges() >= 1 })
	mark = log.len()
	if _, err := s.ApplyRF(context.Background(), llrp.RFSettings{TxPowerDBm: ptr(30.0)}, nil); err != nil {
		t.Fatal(err)
	}
	want = append(want, llrp.MsgStartROSpec)
	if got := log.since(mark); !slices.Equal(got, want) {
		t.Errorf("while the eye is high: requests %v, want %v", got, want)
	}
	rec.mu.Lock()
	n := rec.reads
	rec.mu.Unlock()
	rec.waitFor(t, "reads after the change, eye high", func() bool { return rec.reads > n })
	rec.waitFor(t, "the eye going low", func() bool { return rec.gpiChanges() >= 2 })
	// The pallet parked after the eye went low (13 s) is not read.
	time.Sleep(6 * time.Second / 4)
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for _, p := range sc.Truth() {
		for _, e := range p.EPCs {
			if p.Carton == "parked-after" && rec.epcs[e] > 0 {
				t.Errorf("tag %s parked after the eye went low was read: the stop trigger did not end the ROSpec", e)
			}
		}
	}
}
