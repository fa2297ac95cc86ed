package readers_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dockgate/dockgate/rfid"
	"github.com/dockgate/dockgate/rfid/readers"
)

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		cfg  readers.Config
		want string
	}{
		{readers.Config{ID: "r"}, "address is required"},
		{readers.Config{ID: "r", Type: "serial"}, "device is required"},
		{readers.Config{ID: "r", Type: "serial", Device: "/dev/x", Protocol: "x"}, "not one of m100"},
		{readers.Config{ID: "r", Type: "tcp"}, "not one of llrp, serial, sim"},
		{readers.Config{ID: "r", Address: "h", Antennas: []uint16{0}}, "antenna 0"},
		{readers.Config{ID: "r", Address: "h", KeepAlive: time.Millisecond}, "keepalive"},
		{readers.Config{Address: "h"}, "id is empty"},
		{readers.Config{ID: "r", Address: "10.0.0.5:99999"}, `address 10.0.0.5:99999: port "99999" is not a port number 1 to 65535 (LLRP's is 5084)`},
		{readers.Config{ID: "r", Address: "10.0.0.5:0"}, `port "0" is not a port number 1 to 65535`},
		{readers.Config{ID: "r", Address: "[::1"}, `is not host:port (e.g. 10.0.0.21:5084)`},
	} {
		_, err := readers.New(tc.cfg, readers.Handlers{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.cfg, err, tc.want)
		}
	}
	c := readers.Config{ID: "r", Address: "10.0.0.5"}.WithDefaults()
	if c.Address != "10.0.0.5:5084" || c.KeepAlive != 5*time.Second || c.Type != "llrp" {
		t.Errorf("defaults %+v", c)
	}
}

func TestSimReaderDeliversReads(t *testing.T) {
	var mu sync.Mutex
	seen := map[rfid.EPC]bool{}
	got := make(chan struct{})
	var once sync.Once
	r, err := readers.New(readers.Config{ID: "demo", Type: "sim", Scenario: "dock-out", TimeScale: 4, KeepAlive: time.Second},
		readers.Handlers{OnReads: func(b []rfid.Read) {
			mu.Lock()
			defer mu.Unlock()
			for _, rd := range b {
				if rd.Reader != "demo" {
					t.Errorf("reader id %q", rd.Reader)
				}
				seen[rd.EPC] = true
			}
			if len(seen) == 4 {
				once.Do(func() { close(got) })
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	select {
	case <-got:
	case <-time.After(20 * time.Second):
		t.Fatal("no reads from the simulated reader")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
