package llrp_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"log/slog"
	"net"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dockgate/dockgate/rfid"
	"github.com/dockgate/dockgate/rfid/llrp"
	"github.com/dockgate/dockgate/rfid/llrp/llrptest"
	"github.com/dockgate/dockgate/rfid/readersim"
)

// gpiLines are the session's GPI events as "port:high", "(initial)" marking
// those read at connect.
func gpiLines(r *recorder) []string {
	var out []string
	for _, e := range r.events {
		if e.Kind == rfid.EventGPI {
			s := fmt.Sprintf("%d:%v", e.Port, e.High)
			if e.Initial {
				s += "(initial)"
			}
			out = append(out, s)
		}
	}
	return out
}

// gpiChanges counts the GPI events that are changes, not states at connect.
func (r *recorder) gpiChanges() int {
	n := 0
	for _, e := range r.events {
		if e.Kind == rfid.EventGPI && !e.Initial {
			n++
		}
	}
	return n
}

// A photo eye already blocked when the session starts is reported high
// at connect, after the connected event, then its changes; every watched
// input is reported, none twice.
func TestGPIStateAtConnectFromSimulator(t *testing.T) {
	sc := loadScenario(t, "dock-in")
	sc.GPI = []readersim.GPIStep{{At: 0, Port: 1, State: readersim.GPIHigh}, {At: 400 * time.Millisecond, Port: 1, State: readersim.GPILow}}
	if err := sc.Prepare(); err != nil {
		t.Fatal(err)
	}
	addr, _ := startSim(t, sc, 1)
	rec := newRecorder()
	runSession(t, llrp.Config{ReaderID: "r1", Address: addr, KeepalivePeriod: time.Second, WatchGPI: true,
		OnReads: rec.onReads, OnEvent: rec.onEvent})
	rec.waitFor(t, "the states at connect and GPI 1 going low", func() bool { return len(gpiLines(rec)) >= 5 })
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if got := strings.Join(gpiLines(rec), " "); got != "1:true(initial) 2:false(initial) 3:false(initial) 4:false(initial) 1:false" {
		t.Fatalf("GPI events %s; want the four inputs at connect (1 high), then 1 low", got)
	}
	if rec.events[0].Kind != rfid.EventConnected || rec.events[1].Kind != rfid.EventGPI || rec.events[1].Reader != "r1" {
		t.Fatalf("events %+v: want connected first, then the inputs", rec.events[:2])
	}
}

// With a trigger and no WatchGPI, only the trigger's input is enabled and
// reported at connect.
func TestGPIStateAtConnectTriggerPortOnly(t *testing.T) {
	sc := loadScenario(t, "dock-in")
	sc.GPI = []readersim.GPIStep{{At: 0, Port: 1, State: readersim.GPIHigh}, {At: 0, Port: 2, State: readersim.GPIHigh}}
	if err := sc.Prepare(); err != nil {
		t.Fatal(err)
	}
	addr, _ := startSim(t, sc, 1)
	rec := newRecorder()
	runSession(t, llrp.Config{ReaderID: "r1", Address: addr, KeepalivePeriod: time.Second,
		Trigger: llrp.Trigger{Start: llrp.StartTriggerGPI, StartGPI: llrp.GPITrigger{Port: 1, High: true}},
		OnReads: rec.onReads, OnEvent: rec.onEvent})
	rec.waitFor(t, "GPI 1 at connect", func() bool { return len(gpiLines(rec)) >= 1 })
	time.Sleep(100 * time.Millisecond) // nothing else comes
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if got := gpiLines(rec); !reflect.DeepEqual(got, []string{"1:true(initial)"}) {
		t.Fatalf("GPI events %v; want GPI 1 high at connect only", got)
	}
}

// lockedBuffer is a log destination read while the session writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// gpiStateReader is a reader with 4 GPIs that answers GET_READER_CONFIG
// with reply (its message id set to the request's), every other request
// with success, and counts its connections.
type gpiStateReader struct {
	reply []byte
	// afterEnable are sent after ENABLE_EVENTS_AND_REPORTS: what a reader
	// held over the outage.
	afterEnable [][]byte
	mu          sync.Mutex
	conns       int
}

func (g *gpiStateReader) serve(ln net.Listener, greet []byte) {
	for {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		g.mu.Lock()
		g.conns++
		g.mu.Unlock()
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
				case m.Type == llrp.MsgGetReaderConfig:
					out = bytes.Clone(g.reply)
					binary.BigEndian.PutUint32(out[6:], m.ID)
				case ok:
					out = llrp.AppendResponse(nil, resp, m.ID, llrp.Status{})
				case m.Type == llrp.MsgEnableEventsAndReports:
					out = bytes.Join(g.afterEnable, nil)
				}
				if _, err := nc.Write(out); err != nil {
					return
				}
			}
		}()
	}
}

func (g *gpiStateReader) connections() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.conns
}

// The answers of the shared fixtures: known states are reported at
// connect, a disabled or unknown input is not (unknown is not low); a
// refusal or an answer that does not parse is logged once at info (later
// connections at debug) and the session goes on, reading.
func TestGPIStateAtConnectReplies(t *testing.T) {
	for _, tc := range []struct {
		fixture  string
		want     []string
		logged   string
		malforms bool
	}{
		{fixture: "GET_READER_CONFIG_RESPONSE: GPI 1 high, GPI 2 low, GPI 3 disabled and unknown", want: []string{"1:true(initial)", "2:false(initial)"}},
		{fixture: "GET_READER_CONFIG_RESPONSE: the reader refuses", logged: "status 101 (no GPI)"},
		{fixture: "GET_READER_CONFIG_RESPONSE: GPIPortCurrentState cut short", logged: "GPIPortCurrentState is truncated", malforms: true},
	} {
		t.Run(tc.fixture, func(t *testing.T) {
			var buf lockedBuffer
			ln, addr := listen(t)
			rd := &gpiStateReader{reply: fixture(t, tc.fixture).Raw}
			go rd.serve(ln, fixture(t, "READER_EVENT_NOTIFICATION: connection attempt succeeded").Raw)
			rec := newRecorder()
			s, _ := runSession(t, llrp.Config{ReaderID: "r1", Address: addr, KeepalivePeriod: time.Second, WatchGPI: true,
				Logger:  slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})),
				OnReads: rec.onReads, OnEvent: rec.onEvent})
			rec.waitFor(t, "connected", func() bool { return rec.count(rfid.EventConnected) > 0 })
			time.Sleep(50 * time.Millisecond)
			rec.mu.Lock()
			got := gpiLines(rec)
			rec.mu.Unlock()
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("GPI events %v, want %v", got, tc.want)
			}
			if rd.connections() != 1 || rec.count(rfid.EventDisconnected) != 0 {
				t.Fatalf("%d connections, events %s: the answer must not end the session", rd.connections(), rec.kinds())
			}
			if tc.malforms != (s.Stats().Malformed > 0) {
				t.Errorf("malformed count %d", s.Stats().Malformed)
			}
			logs := buf.String()
			if tc.logged == "" {
				if strings.Contains(logs, "GPI states not read") {
					t.Errorf("logged %s", logs)
				}
				return
			}
			if !strings.Contains(logs, "level=INFO msg=\"GPI states not read at connect; each input is known from its first change\"") ||
				!strings.Contains(logs, tc.logged) {
				t.Errorf("log does not say once at info why the states were not read (%q):\n%s", tc.logged, logs)
			}
		})
	}
}

// A reader whose GPI ports are all reported unknown: nothing is reported
// at connect, not "low".
func TestGPIStateUnknownIsNotLow(t *testing.T) {
	reply := llrp.AppendGetReaderConfigResponse(nil, 0, llrp.Status{}, llrp.ReaderConfig{GPIPorts: []llrp.GPIPort{
		{Port: 1, Enabled: true, State: llrp.GPIStateUnknown}, {Port: 2, Enabled: true, State: 7}}})
	ln, addr := listen(t)
	rd := &gpiStateReader{reply: reply}
	go rd.serve(ln, fixture(t, "READER_EVENT_NOTIFICATION: connection attempt succeeded").Raw)
	rec := newRecorder()
	runSession(t, llrp.Config{ReaderID: "r1", Address: addr, KeepalivePeriod: time.Second, WatchGPI: true, OnEvent: rec.onEvent})
	rec.waitFor(t, "connected", func() bool { return rec.count(rfid.EventConnected) > 0 })
	time.Sleep(50 * time.Millisecond)
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if got := gpiLines(rec); len(got) != 0 {
		t.Fatalf("GPI events %v for inputs in an unknown state", got)
	}
}

// The response parser never panics, and what it parses re-encodes and
// parses to the same configuration.
func FuzzParseGetReaderConfigResponse(f *testing.F) {
	for _, fx := range llrptest.Fixtures {
		if len(fx.Raw) > llrp.HeaderLen && binary.BigEndian.Uint16(fx.Raw)&0x3FF == llrp.MsgGetReaderConfigResponse {
			f.Add(fx.Raw[llrp.HeaderLen:])
		}
	}
	f.Add(llrp.AppendGetReaderConfigResponse(nil, 1, llrp.Status{}, llrp.ReaderConfig{KeepaliveMS: 5000,
		Events:   []llrp.EventNotification{{Type: llrp.EventGPI, On: true}},
		GPIPorts: []llrp.GPIPort{{Port: 1, Enabled: true, State: llrp.GPIStateHigh}}, GPOWrites: []llrp.GPOWrite{{Port: 2}},
		SetHold: true, HoldEvents: true})[llrp.HeaderLen:])
	f.Fuzz(func(t *testing.T, body []byte) {
		rc, err := llrp.ParseGetReaderConfigResponse(body)
		if err != nil {
			return
		}
		m, err := llrp.NewDecoder(bytes.NewReader(llrp.AppendGetReaderConfigResponse(nil, 1, llrp.Status{}, rc)), 1<<20).Next()
		if err != nil {
			t.Fatal(err)
		}
		again, err := llrp.ParseGetReaderConfigResponse(m.Body)
		if err != nil || !reflect.DeepEqual(again, rc) {
			t.Fatalf("round trip: %+v → %+v, %v", rc, again, err)
		}
	})
}

// A photo eye already blocked when the session starts (a pallet parked in
// the door) starts the ROSpec it triggers: a GPI trigger fires on a change
// only, and the portal must not wait for the eye to clear and block again.
func TestGPITriggerAlreadyAtLevelAtConnectStarts(t *testing.T) {
	sc := loadScenario(t, "dock-in")
	sc.GPI = []readersim.GPIStep{{At: 0, Port: 1, State: readersim.GPIHigh}}
	if err := sc.Prepare(); err != nil {
		t.Fatal(err)
	}
	addr, _ := startSim(t, sc, 1)
	rec := newRecorder()
	runSession(t, llrp.Config{ReaderID: "r1", Address: addr, KeepalivePeriod: time.Second,
		Trigger: llrp.Trigger{Start: llrp.StartTriggerGPI, StartGPI: llrp.GPITrigger{Port: 1, High: true},
			Stop: llrp.StopTriggerGPI, StopGPI: llrp.GPITrigger{Port: 1, High: false, TimeoutMS: 60_000}},
		OnReads: rec.onReads, OnEvent: rec.onEvent})
	rec.waitFor(t, "reads with the eye high since before connect", func() bool { return rec.reads > 0 })
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if got := gpiLines(rec); !reflect.DeepEqual(got, []string{"1:true(initial)"}) {
		t.Fatalf("GPI events %v; want GPI 1 high at connect and no change", got)
	}
}

// A GPI change the reader held over the outage (dated before the
// connection event) is older than the state read at connect and is not
// reported after it; a change dated after the connection is.
func TestGPIChangeHeldOverOutageIsDropped(t *testing.T) {
	connected := time.Date(2026, 12, 5, 6, 0, 0, 0, time.UTC)
	at := func(d time.Duration) uint64 { return uint64(connected.Add(d).UnixMicro()) }
	greet := llrp.AppendReaderEvent(nil, 0, llrp.EventData{Timestamp: at(0), HasConnectionAttempt: true, ConnectionAttempt: llrp.ConnSuccess})
	reply := llrp.AppendGetReaderConfigResponse(nil, 0, llrp.Status{}, llrp.ReaderConfig{GPIPorts: []llrp.GPIPort{
		{Port: 1, Enabled: true, State: llrp.GPIStateHigh}, {Port: 2, Enabled: true, State: llrp.GPIStateLow}}})
	rd := &gpiStateReader{reply: reply, afterEnable: [][]byte{
		llrp.AppendReaderEvent(nil, 0, llrp.EventData{Timestamp: at(-5 * time.Second), GPIs: []llrp.GPIEvent{{Port: 1, High: false}}}),
		llrp.AppendReaderEvent(nil, 0, llrp.EventData{Timestamp: at(-4 * time.Second), GPIs: []llrp.GPIEvent{{Port: 1, High: true}, {Port: 3, High: true}}}),
		llrp.AppendReaderEvent(nil, 0, llrp.EventData{Timestamp: at(time.Second), GPIs: []llrp.GPIEvent{{Port: 2, High: true}}}),
	}}
	ln, addr := listen(t)
	go rd.serve(ln, greet)
	rec := newRecorder()
	runSession(t, llrp.Config{ReaderID: "r1", Address: addr, KeepalivePeriod: time.Second, WatchGPI: true, OnEvent: rec.onEvent})
	rec.waitFor(t, "GPI 2 going high", func() bool { return rec.gpiChanges() > 0 && gpiLines(rec)[len(gpiLines(rec))-1] == "2:true" })
	rec.mu.Lock()
	defer rec.mu.Unlock()
	// GPI 3 was not read at connect (the reader did not report it): its
	// held change is all there is to know, and it is reported.
	if got := strings.Join(gpiLines(rec), " "); got != "1:true(initial) 2:false(initial) 3:true 2:true" {
		t.Fatalf("GPI events %s; want the states at connect, the held change of GPI 3 and GPI 2 going high after connect", got)
	}
}
