package llrp_test

import (
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dockgate/dockgate/rfid"
	"github.com/dockgate/dockgate/rfid/llrp"
	"github.com/dockgate/dockgate/rfid/llrp/llrptest"
	"github.com/dockgate/dockgate/rfid/readersim"
)

func fixture(t *testing.T, prefix string) llrptest.Fixture {
	t.Helper()
	for _, f := range llrptest.Fixtures {
		if strings.HasPrefix(f.Desc, prefix) {
			return f
		}
	}
	t.Fatalf("no fixture %q", prefix)
	return llrptest.Fixture{}
}

// scriptedReader accepts connections on ln, greets with greet, answers the session's setup
// with success, then sends script and, on the first connection, a framing
// error that must make the session reconnect.
func scriptedReader(ln net.Listener, greet []byte, script [][]byte, framing []byte) {
	for conn := 0; ; conn++ {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		go func(nc net.Conn, first bool) {
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
				switch resp, ok := llrp.ResponseType(m.Type); {
				case m.Type == llrp.MsgGetReaderCapabilities:
					out = llrp.AppendCapabilitiesResponse(nil, m.ID, llrp.Status{}, llrp.Capabilities{MaxAntennas: 4})
				case ok:
					out = llrp.AppendResponse(nil, resp, m.ID, llrp.Status{})
				case m.Type == llrp.MsgEnableEventsAndReports:
					for _, s := range script {
						out = append(out, s...)
					}
					if first {
						out = append(out, framing...)
					}
				}
				if _, err := nc.Write(out); err != nil {
					return
				}
			}
		}(nc, conn == 0)
	}
}

// TestSessionOnFixtures drives the session with the shared fixtures: bad
// messages are rejected one by one without losing the connection, good
// reports and events get through, a framing error reconnects.
func TestSessionOnFixtures(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	script := [][]byte{
		fixture(t, "unknown TV parameter").Raw,
		fixture(t, "TLV length beyond").Raw,
		fixture(t, "tag report without EPC").Raw,
		fixture(t, "RO_ACCESS_REPORT with EPCData").Raw,
		fixture(t, "RO_ACCESS_REPORT with EPC-96").Raw,
		fixture(t, "READER_EVENT_NOTIFICATION: uptime").Raw,
		fixture(t, "ERROR_MESSAGE").Raw,
		llrp.AppendEmpty(nil, llrp.MsgKeepalive, 77),
	}
	greet := fixture(t, "READER_EVENT_NOTIFICATION: connection attempt succeeded").Raw
	go scriptedReader(ln, greet, script, fixture(t, "message length below").Raw)
	rec := newRecorder()
	s, _ := runSession(t, llrp.Config{ReaderID: "r1", Address: ln.Addr().String(), KeepalivePeriod: time.Second,
		Backoff: func(int) time.Duration { return time.Millisecond }, OnReads: rec.onReads, OnEvent: rec.onEvent})
	rec.waitFor(t, "two connections with reads and events", func() bool {
		return rec.count(rfid.EventConnected) >= 2 && rec.reads >= 4 && rec.count(rfid.EventBufferWarning) >= 2
	})
	st := s.Stats()
	if st.Malformed < 3 || st.ErrorMessages < 1 || st.Keepalives < 1 {
		t.Errorf("stats %+v: want 3 malformed per connection, an ERROR_MESSAGE and a keepalive", st)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.epcs) != 2 {
		t.Errorf("EPCs %v", rec.epcs)
	}
	var sawAntenna, sawException bool
	for _, e := range rec.events {
		switch e.Kind {
		case rfid.EventAntennaDisconnected:
			sawAntenna = e.Antenna == 3
		case rfid.EventReaderException:
			sawException = e.Message == "overheat"
		case rfid.EventBufferWarning:
			if e.Level != 75 {
				t.Errorf("buffer level %d", e.Level)
			}
		}
	}
	if !sawAntenna || !sawException {
		t.Errorf("antenna event %v, exception %v", sawAntenna, sawException)
	}
}

func TestSessionHealthEventsFromSimulator(t *testing.T) {
	sc := loadScenario(t, "dock-in")
	sc.Faults = []readersim.Fault{
		{At: 100 * time.Millisecond, Kind: readersim.FaultAntennaDown, Antenna: 2},
		{At: 150 * time.Millisecond, Kind: readersim.FaultBufferWarning, Level: 90},
	}
	if err := sc.Prepare(); err != nil {
		t.Fatal(err)
	}
	addr, _ := startSim(t, sc, 1)
	rec := newRecorder()
	runSession(t, llrp.Config{ReaderID: "r1", Address: addr, KeepalivePeriod: 100 * time.Millisecond,
		OnReads: rec.onReads, OnEvent: rec.onEvent})
	rec.waitFor(t, "antenna and buffer events", func() bool {
		return rec.count(rfid.EventAntennaDisconnected) == 1 && rec.count(rfid.EventBufferWarning) == 1
	})
}

// TestSessionRebasesReaderClock: a reader whose clock is a day behind still
// gives reads on the gateway's clock, and a backlog keeps its spacing.
func TestSessionRebasesReaderClock(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	gateway := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	readerClock := gateway.Add(-24 * time.Hour)
	e := rfid.MustParseEPC("3074257BF7194E4000001A85")
	// Two reads 1.5 s apart on the reader's clock, delivered together.
	report := llrp.AppendROAccessReport(nil, 1, []rfid.Read{
		{EPC: e, Antenna: 1, ReaderTime: readerClock},
		{EPC: e, Antenna: 2, ReaderTime: readerClock.Add(1500 * time.Millisecond)},
	})
	// The reader greets on its own clock, which the session anchors on.
	greet := llrp.AppendReaderEvent(nil, 0, llrp.EventData{Timestamp: uint64(readerClock.Add(1500 * time.Millisecond).UnixMicro()),
		HasConnectionAttempt: true, ConnectionAttempt: llrp.ConnSuccess})
	go scriptedReader(ln, greet, [][]byte{report}, nil)
	var mu sync.Mutex
	var got []rfid.Read
	done := make(chan struct{})
	var once sync.Once
	runSession(t, llrp.Config{Address: ln.Addr().String(), KeepalivePeriod: time.Second,
		Now: func() time.Time { return gateway.Add(1500 * time.Millisecond) },
		OnReads: func(b []rfid.Read) {
			mu.Lock()
			got = append(got, b...)
			mu.Unlock()
			once.Do(func() { close(done) })
		}})
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("no report")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 2 {
		t.Fatalf("%d reads", len(got))
	}
	if !got[1].Time.Equal(gateway.Add(1500*time.Millisecond)) || got[1].Time.Sub(got[0].Time) != 1500*time.Millisecond {
		t.Errorf("rebased times %v, %v", got[0].Time, got[1].Time)
	}
	if !got[0].ReaderTime.Equal(readerClock) {
		t.Errorf("reader time %v", got[0].ReaderTime)
	}
}
