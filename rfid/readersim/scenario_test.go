package readersim_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/dockgate/dockgate/rfid"
	"github.com/dockgate/dockgate/rfid/readersim"
)

func TestBuiltinsLoad(t *testing.T) {
	names := readersim.BuiltinNames()
	if len(names) < 3 {
		t.Fatalf("built-ins %v", names)
	}
	for _, n := range names {
		sc, err := readersim.Load(n)
		if err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		if sc.Name != n || len(sc.Truth()) == 0 {
			t.Errorf("%s: name %q, %d cartons", n, sc.Name, len(sc.Truth()))
		}
	}
}

func TestParseErrors(t *testing.T) {
	base := "doors: [{id: d, outside: [1], inside: [2]}]\n"
	for _, tc := range []struct{ yaml, want string }{
		{"nmae: x\n", "field nmae not found"},
		{base + "cartons: [{door: d, direction: sideways, epcs: [3074257BF7194E4000001A85]}]\n", "must be in or out"},
		{base + "cartons: [{door: e, direction: in, epcs: [3074257BF7194E4000001A85]}]\n", `door "e" is not in doors`},
		{base + "cartons: [{door: d, direction: in, epcs: [XYZ]}]\n", "not hexadecimal"},
		{base + "cartons: [{door: d, direction: in}]\n", "no epcs"},
		{base + "cartons: [{door: d, direction: in, read_rate: 2, epcs: [3074]}]\n", "read_rate"},
		{"doors: [{id: d, outside: [1], inside: [9]}]\n", "antennas 1..4"},
		{base + "faults: [{at: 1s, kind: explode}]\n", "must be one of"},
		{base + "strays: [{epc: 3074, antenna: 7}]\n", "antenna 7"},
	} {
		_, err := readersim.Parse(strings.NewReader(tc.yaml))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want %q", tc.yaml, err, tc.want)
		}
	}
}

func TestGeneratorIsDeterministicAndFollowsCurves(t *testing.T) {
	sc, err := readersim.Load("dock-in")
	if err != nil {
		t.Fatal(err)
	}
	run := func() []rfid.Read {
		g := sc.NewGenerator()
		var out []rfid.Read
		for g.Elapsed() < sc.Duration {
			out = g.Next(out, time.Time{})
		}
		return out
	}
	a, b := run(), run()
	if !reflect.DeepEqual(a, b) {
		t.Fatal("same seed, different reads")
	}
	// Moving in: the outside antennas (1, 2) peak before the inside ones (3, 4).
	var outAt, inAt time.Time
	var outPeak, inPeak int8 = -128, -128
	for _, r := range a {
		if r.EPC.String() != "31D4257BF4499602D2000000" {
			continue
		}
		if r.Antenna <= 2 && r.RSSI > outPeak {
			outPeak, outAt = r.RSSI, r.Time
		}
		if r.Antenna >= 3 && r.RSSI > inPeak {
			inPeak, inAt = r.RSSI, r.Time
		}
	}
	if !outAt.Before(inAt) {
		t.Errorf("outside peak at %v, inside at %v", outAt, inAt)
	}
}

func TestDeadTagsAreNeverRead(t *testing.T) {
	sc, err := readersim.Load("mixed")
	if err != nil {
		t.Fatal(err)
	}
	dead := sc.Truth()[1].Dead
	if len(dead) != 1 {
		t.Fatalf("dead %v", dead)
	}
	g := sc.NewGenerator()
	var reads []rfid.Read
	for g.Elapsed() < sc.Duration {
		reads = g.Next(reads, time.Time{})
	}
	for _, r := range reads {
		if r.EPC == dead[0] {
			t.Fatal("a dead tag was read")
		}
	}
}
