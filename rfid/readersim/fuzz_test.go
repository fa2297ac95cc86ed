package readersim_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/dockgate/dockgate/rfid/readersim"
)

func FuzzParseScenario(f *testing.F) {
	f.Add([]byte("doors: [{id: d, outside: [1], inside: [2]}]\ncartons: [{door: d, direction: in, epcs: [3074257BF7194E4000001A85]}]\n"))
	f.Add([]byte("cycle: 1ms\nstrays: [{epc: 30, antenna: 1, rate: 1}]\nfaults: [{at: 1s, kind: mute}]\n"))
	f.Add([]byte("cartons: [{curves: [{antenna: 1, peak: 0.5, width: 0}], epcs: [AB]}]\n"))
	f.Add([]byte("loop: true\nduration: 2s\ngpi: [{at: 1s, port: 1, state: high}, {at: 1500ms, port: 1, state: low}]\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		sc, err := readersim.Parse(bytes.NewReader(b))
		if err != nil {
			return
		}
		// A valid scenario generates reads without panicking.
		g := sc.NewGenerator()
		for i := 0; i < 50 && g.Elapsed() < sc.Duration+time.Second; i++ {
			_ = g.Next(nil, time.Time{})
		}
	})
}
