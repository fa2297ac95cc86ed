package readersim

import (
	"strings"
	"testing"
	"time"
)

func TestGPIStepsParseAndLoop(t *testing.T) {
	sc, err := Parse(strings.NewReader("loop: true\nduration: 4s\ngpi: [{at: 3s, port: 2, state: low}, {at: 1s, port: 2, state: high}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if sc.GPI[0].At != time.Second || !sc.GPI[0].high || sc.GPI[1].high {
		t.Fatalf("steps not sorted by time or states wrong: %+v", sc.GPI)
	}
	got := sc.gpiBetween(500*time.Millisecond, 9*time.Second)
	var at []time.Duration
	for _, g := range got {
		at = append(at, g.At)
	}
	want := []time.Duration{1 * time.Second, 3 * time.Second, 5 * time.Second, 7 * time.Second, 9 * time.Second}
	if len(at) != len(want) {
		t.Fatalf("steps at %v, want %v", at, want)
	}
	for i := range want {
		if at[i] != want[i] {
			t.Fatalf("steps at %v, want %v", at, want)
		}
	}
	if n := len(sc.gpiBetween(time.Second, time.Second)); n != 0 {
		t.Fatalf("an empty interval gave %d steps", n)
	}
	once, err := Parse(strings.NewReader("gpi: [{at: 2s, port: 1, state: high}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if once.Duration != 3*time.Second || len(once.gpiBetween(0, time.Hour)) != 1 || len(once.gpiBetween(2*time.Second, time.Hour)) != 0 {
		t.Fatalf("duration %v; a step is given once, in (from, to]", once.Duration)
	}
}

func TestGPIStepErrors(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"gpi: [{at: 1s, port: 1, state: on}]\n", `state "on" must be high or low`},
		{"gpi: [{at: 1s, port: 0, state: high}]\n", "port 0 outside 1..4"},
		{"gpi: [{at: 1s, port: 5, state: high}]\n", "port 5 outside 1..4"},
		{"gpi: [{at: -1s, port: 1, state: high}]\n", "must not be negative"},
		{"gpi: [{at: 1s, port: 1, state: high, level: 3}]\n", "field level not found"},
	} {
		_, err := Parse(strings.NewReader(tc.yaml))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want %q", tc.yaml, err, tc.want)
		}
	}
}

// An input's level at a scenario time is that of its last step, looped
// scenarios repeating theirs; low before any step.
func TestGPILevel(t *testing.T) {
	sc, err := Parse(strings.NewReader("loop: true\nduration: 4s\ngpi: [{at: 3s, port: 2, state: low}, {at: 1s, port: 2, state: high}, {at: 0s, port: 1, state: high}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		port uint16
		at   time.Duration
		high bool
	}{
		{2, 500 * time.Millisecond, false}, // before the first step
		{2, time.Second, true},             // at a step
		{2, 2 * time.Second, true},
		{2, 3500 * time.Millisecond, false},
		{2, 4500 * time.Millisecond, false}, // the second loop, before its first step: the first loop's last
		{2, 5 * time.Second, true},
		{1, 0, true}, // at 0s: before any client
		{1, 9 * time.Second, true},
		{3, 9 * time.Second, false}, // no steps
	} {
		if got := sc.gpiLevel(tc.port, tc.at); got != tc.high {
			t.Errorf("GPI %d at %v: high %v, want %v", tc.port, tc.at, got, tc.high)
		}
	}
	once, err := Parse(strings.NewReader("gpi: [{at: 2s, port: 1, state: high}, {at: 5s, port: 1, state: low}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if once.gpiLevel(1, time.Second) || !once.gpiLevel(1, 3*time.Second) || once.gpiLevel(1, time.Hour) {
		t.Fatal("a scenario that does not loop keeps its last step's level")
	}
}
