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
