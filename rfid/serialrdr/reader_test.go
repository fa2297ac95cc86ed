package serialrdr_test

import (
	"context"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/dockgate/dockgate/rfid"
	"github.com/dockgate/dockgate/rfid/readersim"
	"github.com/dockgate/dockgate/rfid/serialrdr"
)

// TestReaderAgainstSimulator runs the driver for each protocol against the
// serial simulator over net.Pipe until every EPC of the scenario was read.
func TestReaderAgainstSimulator(t *testing.T) {
	for _, proto := range []string{serialrdr.ProtocolM100, serialrdr.ProtocolRU5102, serialrdr.ProtocolASCII} {
		t.Run(proto, func(t *testing.T) {
			sc, err := readersim.Load("dock-out")
			if err != nil {
				t.Fatal(err)
			}
			want := map[rfid.EPC]bool{}
			for _, p := range sc.Truth() {
				for _, e := range p.EPCs {
					want[e] = true
				}
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var mu sync.Mutex
			got := map[rfid.EPC]bool{}
			done := make(chan struct{})
			var opens int
			var conns []net.Conn
			rdr, err := serialrdr.New(serialrdr.Config{ReaderID: "s1", Protocol: proto, PollInterval: 10 * time.Millisecond,
				Open: func(ctx context.Context) (io.ReadWriteCloser, error) {
					a, b := net.Pipe()
					sim := readersim.NewSerial(sc, proto)
					sim.TimeScale = 5
					go func() { _ = sim.Serve(ctx, b) }()
					mu.Lock()
					opens++
					conns = append(conns, a, b)
					mu.Unlock()
					return a, nil
				},
				OnReads: func(b []rfid.Read) {
					mu.Lock()
					defer mu.Unlock()
					for _, r := range b {
						if r.Reader != "s1" || r.Antenna == 0 || r.Time.IsZero() {
							t.Errorf("read %+v lacks reader, antenna or time", r)
						}
						got[r.EPC] = true
					}
					if len(got) >= len(want) {
						select {
						case <-done:
						default:
							close(done)
						}
					}
				}})
			if err != nil {
				t.Fatal(err)
			}
			errc := make(chan error, 1)
			go func() { errc <- rdr.Run(ctx) }()
			select {
			case <-done:
			case <-time.After(20 * time.Second):
				t.Fatalf("read %d of %d EPCs", len(got), len(want))
			}
			cancel()
			if err := <-errc; err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			defer mu.Unlock()
			for e := range want {
				if !got[e] {
					t.Errorf("EPC %s never read", e)
				}
			}
			for _, c := range conns {
				c.Close()
			}
		})
	}
}

// TestSilentReaderIsReopened: a port that never answers is reopened.
func TestSilentReaderIsReopened(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	opened := make(chan struct{}, 10)
	var events []rfid.ReaderEvent
	var mu sync.Mutex
	rdr, err := serialrdr.New(serialrdr.Config{Protocol: serialrdr.ProtocolM100, PollInterval: 5 * time.Millisecond,
		Silence: 30 * time.Millisecond, Backoff: func(int) time.Duration { return time.Millisecond },
		Open: func(context.Context) (io.ReadWriteCloser, error) {
			a, b := net.Pipe()
			go func() { _, _ = io.Copy(io.Discard, b) }() // swallows commands, never answers
			opened <- struct{}{}
			return a, nil
		},
		OnEvent: func(e rfid.ReaderEvent) {
			mu.Lock()
			events = append(events, e)
			mu.Unlock()
		}})
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = rdr.Run(ctx) }()
	for range 2 {
		select {
		case <-opened:
		case <-time.After(10 * time.Second):
			t.Fatal("port not reopened after silence")
		}
	}
	cancel()
}

func TestNewValidates(t *testing.T) {
	for _, cfg := range []serialrdr.Config{
		{Protocol: "llrp", Device: "/dev/null"},
		{Protocol: "m100"},
		{Protocol: "ascii", Device: "/dev/null", Pattern: "(?P<ant>\\d+)"},
	} {
		if _, err := serialrdr.New(cfg); err == nil {
			t.Errorf("New(%+v) succeeded", cfg)
		}
	}
}
