package readers_test

import (
	"context"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/dockgate/dockgate/rfid"
	"github.com/dockgate/dockgate/rfid/readers"
	"github.com/dockgate/dockgate/rfid/readersim"
	"github.com/dockgate/dockgate/rfid/serialrdr"
)

// conformance is what every rfid.Reader must do: connect and say so, deliver
// reads stamped with its id, an antenna and a gateway time, cover the
// scenario's tags, and return nil promptly when its context ends.
func conformance(t *testing.T, build func(readers.Handlers) rfid.Reader, want []rfid.EPC) {
	t.Helper()
	var mu sync.Mutex
	seen := map[rfid.EPC]bool{}
	connected := false
	all := make(chan struct{})
	var once sync.Once
	h := readers.Handlers{
		OnReads: func(b []rfid.Read) {
			mu.Lock()
			defer mu.Unlock()
			for _, r := range b {
				if r.Reader != "conf" || r.Antenna == 0 || r.Time.IsZero() || r.EPC.IsZero() {
					t.Errorf("read %+v lacks reader id, antenna, time or EPC", r)
				}
				seen[r.EPC] = true
			}
			n := 0
			for _, e := range want {
				if seen[e] {
					n++
				}
			}
			if n == len(want) {
				once.Do(func() { close(all) })
			}
		},
		OnEvent: func(e rfid.ReaderEvent) {
			mu.Lock()
			defer mu.Unlock()
			if e.Reader != "conf" {
				t.Errorf("event %+v without reader id", e)
			}
			if e.Kind == rfid.EventConnected {
				connected = true
			}
		},
		Backoff: func(int) time.Duration { return 10 * time.Millisecond },
	}
	r := build(h)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	select {
	case <-all:
	case <-time.After(20 * time.Second):
		cancel()
		t.Fatalf("saw %d of %d EPCs", len(seen), len(want))
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run after cancel: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	mu.Lock()
	defer mu.Unlock()
	if !connected {
		t.Error("no connected event")
	}
}

func TestConformance(t *testing.T) {
	sc, err := readersim.Load("dock-out")
	if err != nil {
		t.Fatal(err)
	}
	var want []rfid.EPC
	for _, p := range sc.Truth() {
		want = append(want, p.EPCs...)
	}
	t.Run("llrp", func(t *testing.T) {
		conformance(t, func(h readers.Handlers) rfid.Reader {
			r, err := readers.New(readers.Config{ID: "conf", Type: readers.TypeSim, Scenario: "dock-out", TimeScale: 4, KeepAlive: time.Second}, h)
			if err != nil {
				t.Fatal(err)
			}
			return r
		}, want)
	})
	for _, proto := range []string{serialrdr.ProtocolM100, serialrdr.ProtocolRU5102, serialrdr.ProtocolASCII} {
		t.Run("serial-"+proto, func(t *testing.T) {
			conformance(t, func(h readers.Handlers) rfid.Reader {
				r, err := serialrdr.New(serialrdr.Config{ReaderID: "conf", Protocol: proto, PollInterval: 10 * time.Millisecond,
					Backoff: h.Backoff, OnReads: h.OnReads, OnEvent: h.OnEvent,
					Open: func(ctx context.Context) (io.ReadWriteCloser, error) {
						a, b := net.Pipe()
						sim := readersim.NewSerial(sc, proto)
						sim.TimeScale = 4
						go func() {
							_ = sim.Serve(ctx, b)
							b.Close()
						}()
						return a, nil
					}})
				if err != nil {
					t.Fatal(err)
				}
				return r
			}, want)
		})
	}
}
