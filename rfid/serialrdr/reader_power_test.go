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
