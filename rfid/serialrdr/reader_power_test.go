package serialrdr_test

import (
	"context"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dockgate/dockgate/rfid"
	"github.com/dockgate/dockgate/rfid/readersim"
	"github.com/dockgate/dockgate/rfid/serialrdr"
)

// tx_power_dbm is sent at connect; the simulator takes it and its reads
// come 10 dB weaker at 16 dBm than at the M100's 26 dBm maximum.
func TestReaderSetsPowerOnTheSimulator(t *testing.T) {
	for _, tc := range []struct {
		proto string
		dBm   float64
	}{{serialrdr.ProtocolM100, 16}, {serialrdr.ProtocolRU5102, 20}} {
		t.Run(tc.proto, func(t *testing.T) {
			sc, err := readersim.Load("dock-in")
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var mu sync.Mutex
			var reads []rfid.Read
			var conns []net.Conn
			enough := make(chan struct{})
			rdr, err := serialrdr.New(serialrdr.Config{ReaderID: "s1", Protocol: tc.proto, PollInterval: 10 * time.Millisecond,
				TxPowerDBm: &tc.dBm,
				Open: func(ctx context.Context) (io.ReadWriteCloser, error) {
					a, b := net.Pipe()
					sim := readersim.NewSerial(sc, tc.proto)
					sim.TimeScale = 5
					go func() { _ = sim.Serve(ctx, b) }()
					mu.Lock()
					conns = append(conns, a, b)
					mu.Unlock()
					return a, nil
				},
				OnEvent: func(e rfid.ReaderEvent) {
					if e.Kind == rfid.EventDisconnected && e.Err != nil {
						t.Errorf("disconnected: %v", e.Err)
					}
				},
				OnReads: func(b []rfid.Read) {
					mu.Lock()
					defer mu.Unlock()
					n := len(reads)
					reads = append(reads, b...)
					if n < 10 && len(reads) >= 10 {
						close(enough)
					}
				}})
			if err != nil {
				t.Fatal(err)
			}
			errc := make(chan error, 1)
			go func() { errc <- rdr.Run(ctx) }()
			select {
			case <-enough:
			case <-time.After(20 * time.Second):
				t.Fatal("fewer than 10 reads")
			}
			cancel()
			if err := <-errc; err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			defer mu.Unlock()
			for _, r := range reads {
				// The scenario's peak is -45 dBm (±2 of noise) at full power.
				if r.HasRSSI && (r.RSSI > -45+2-10 || r.RSSI < int8(sc.Sensitivity)) {
					t.Fatalf("read at %d dBm: not 10 dB below the scenario's, or below its floor", r.RSSI)
				}
			}
			for _, c := range conns {
				c.Close()
			}
		})
	}
}

// A module that refuses the configured power (its maximum is lower than
// the protocol's) is warned about once per open and still read, at its own
// power; the port is not reopened.
func TestReaderReadsWhenPowerRefused(t *testing.T) {
	for _, proto := range []string{serialrdr.ProtocolM100, serialrdr.ProtocolRU5102} {
		t.Run(proto, func(t *testing.T) {
			sc, err := readersim.Load("dock-in")
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			dBm := 25.0
			var mu sync.Mutex
			var warnings []string
			opens, reads := 0, 0
			enough := make(chan struct{})
			rdr, err := serialrdr.New(serialrdr.Config{ReaderID: "s1", Protocol: proto, PollInterval: 10 * time.Millisecond,
				TxPowerDBm: &dBm,
				Open: func(ctx context.Context) (io.ReadWriteCloser, error) {
					a, b := net.Pipe()
					sim := readersim.NewSerial(sc, proto)
					sim.TimeScale, sim.MaxDBm = 5, 20
					go func() { _ = sim.Serve(ctx, b) }()
					mu.Lock()
					opens++
					mu.Unlock()
					return a, nil
				},
				OnEvent: func(e rfid.ReaderEvent) {
					mu.Lock()
					defer mu.Unlock()
					if e.Kind == rfid.EventReaderException {
						warnings = append(warnings, e.Message)
					}
				},
				OnReads: func(b []rfid.Read) {
					mu.Lock()
					defer mu.Unlock()
					if reads < 10 && reads+len(b) >= 10 {
						close(enough)
					}
					reads += len(b)
				}})
			if err != nil {
				t.Fatal(err)
			}
			errc := make(chan error, 1)
			go func() { errc <- rdr.Run(ctx) }()
			select {
			case <-enough:
			case <-time.After(20 * time.Second):
				t.Fatal("no reads after the power was refused")
			}
			cancel()
			if err := <-errc; err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			defer mu.Unlock()
			if opens != 1 || len(warnings) != 1 || !strings.Contains(warnings[0], "transmit power not set, reading at the reader's own power") {
				t.Fatalf("%d opens, warnings %q: want one open and one warning", opens, warnings)
			}
		})
	}
}
