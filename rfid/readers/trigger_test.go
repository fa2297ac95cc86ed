package readers

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/dockgate/dockgate/rfid/llrp"
)

func TestTriggerValidate(t *testing.T) {
	for _, tc := range []struct {
		typ  string
		tr   Trigger
		want string
	}{
		{TypeLLRP, Trigger{Start: "photo"}, `trigger.start "photo" is not immediate, periodic or gpi`},
		{TypeLLRP, Trigger{Start: TriggerGPI}, "trigger.port is required for start: gpi"},
		{TypeLLRP, Trigger{Stop: TriggerGPI}, "trigger.port is required"},
		{TypeLLRP, Trigger{Port: 1}, "trigger.port is for start: gpi or stop: gpi"},
		{TypeLLRP, Trigger{Start: TriggerGPI, Port: 1, Level: "up"}, `trigger.level "up" is not high or low`},
		{TypeLLRP, Trigger{Start: TriggerGPI, Port: 1}, "trigger.stop: start: gpi needs stop: gpi"},
		{TypeLLRP, Trigger{Start: TriggerGPI, Port: 1, Stop: TriggerNone}, "trigger.stop: start: gpi needs stop: gpi"},
		{TypeLLRP, Trigger{Start: TriggerGPI, Port: 1, StopLevel: LevelLow}, "trigger.stop_level is for stop: gpi"},
		{TypeLLRP, Trigger{Stop: TriggerTimeout}, "trigger.after is required for stop: timeout"},
		{TypeLLRP, Trigger{Stop: TriggerTimeout, After: time.Second}, "trigger.stop: timeout needs start: gpi or start: periodic"},
		{TypeLLRP, Trigger{Start: TriggerImmediate, Stop: TriggerGPI, Port: 1}, "trigger.stop: gpi needs start: gpi or start: periodic"},
		{TypeLLRP, Trigger{After: time.Second}, "trigger.after is for stop: timeout or stop: gpi"},
		{TypeLLRP, Trigger{Start: TriggerPeriodic, Stop: TriggerTimeout, After: time.Second}, "trigger.period is required"},
		{TypeLLRP, Trigger{Start: TriggerPeriodic, Period: time.Second}, "needs stop: timeout"},
		{TypeLLRP, Trigger{Start: TriggerPeriodic, Period: time.Second, Stop: TriggerTimeout, After: 2 * time.Second}, "must be shorter than period"},
		{TypeLLRP, Trigger{Period: time.Second}, "trigger.period is for start: periodic"},
		{TypeLLRP, Trigger{Stop: "later"}, `trigger.stop "later" is not none, gpi or timeout`},
		{TypeLLRP, Trigger{Stop: TriggerTimeout, After: time.Microsecond}, "after 1µs must be 1ms to 49 days"},
		{TypeSerial, Trigger{Start: TriggerGPI, Port: 1}, "serial readers have no GPI"},
	} {
		probs := strings.Join(tc.tr.validate(tc.typ), "; ")
		if !strings.Contains(probs, tc.want) {
			t.Errorf("%s %+v: %q, want %q", tc.typ, tc.tr, probs, tc.want)
		}
	}
	for _, ok := range []Trigger{{}, {Start: TriggerImmediate, Stop: TriggerNone},
		{Start: TriggerGPI, Port: 2, Level: LevelLow, Stop: TriggerGPI, After: 5 * time.Second},
		{Start: TriggerPeriodic, Period: 10 * time.Second, Stop: TriggerTimeout, After: 2 * time.Second}} {
		if p := ok.validate(TypeLLRP); len(p) != 0 {
			t.Errorf("%+v: %v", ok, p)
		}
	}
	if p := (Trigger{Start: TriggerImmediate}).validate(TypeSerial); len(p) != 0 {
		t.Errorf("immediate on a serial reader: %v", p)
	}
	// A simulated reader has 4 GPI ports: a trigger on another is refused.
	err := Config{ID: "sim-1", Type: TypeSim, Trigger: Trigger{Start: TriggerGPI, Port: 5, Stop: TriggerGPI}}.WithDefaults().Validate()
	if err == nil || !strings.Contains(err.Error(), "trigger.port 5: the simulated reader has GPI ports 1 to 4") {
		t.Errorf("sim reader with a trigger on GPI 5: %v", err)
	}
	// Through the reader's Validate: the reader is named.
	err = Config{ID: "door-3", Type: TypeSerial, Device: "/dev/ttyUSB0", Protocol: "m100",
		Trigger: Trigger{Start: TriggerGPI, Port: 1}}.WithDefaults().Validate()
	if err == nil || !strings.Contains(err.Error(), `reader "door-3": trigger: serial readers have no GPI`) {
		t.Errorf("serial reader with a GPI trigger: %v", err)
	}
}

func TestTriggerToLLRP(t *testing.T) {
	for _, tc := range []struct {
		tr   Trigger
		want llrp.Trigger
	}{
		{Trigger{}, llrp.Trigger{}},
		{Trigger{Start: TriggerImmediate, Stop: TriggerNone}, llrp.Trigger{}},
		{Trigger{Start: TriggerGPI, Port: 1, Stop: TriggerGPI, After: 5 * time.Second}, llrp.Trigger{
			Start: llrp.StartTriggerGPI, StartGPI: llrp.GPITrigger{Port: 1, High: true},
			Stop: llrp.StopTriggerGPI, StopGPI: llrp.GPITrigger{Port: 1, TimeoutMS: 5000}}},
		{Trigger{Start: TriggerGPI, Port: 3, Level: LevelLow, Stop: TriggerGPI}, llrp.Trigger{
			Start: llrp.StartTriggerGPI, StartGPI: llrp.GPITrigger{Port: 3},
			Stop: llrp.StopTriggerGPI, StopGPI: llrp.GPITrigger{Port: 3, High: true}}},
		{Trigger{Start: TriggerGPI, Port: 1, Stop: TriggerGPI, StopLevel: LevelHigh}, llrp.Trigger{
			Start: llrp.StartTriggerGPI, StartGPI: llrp.GPITrigger{Port: 1, High: true},
			Stop: llrp.StopTriggerGPI, StopGPI: llrp.GPITrigger{Port: 1, High: true}}},
		{Trigger{Start: TriggerGPI, Port: 1, Stop: TriggerTimeout, After: 8 * time.Second}, llrp.Trigger{
			Start: llrp.StartTriggerGPI, StartGPI: llrp.GPITrigger{Port: 1, High: true},
			Stop: llrp.StopTriggerDuration, StopMS: 8000}},
		{Trigger{Start: TriggerPeriodic, Period: 10 * time.Second, Stop: TriggerTimeout, After: 2 * time.Second}, llrp.Trigger{
			Start: llrp.StartTriggerPeriodic, Periodic: llrp.PeriodicTrigger{PeriodMS: 10000},
			Stop: llrp.StopTriggerDuration, StopMS: 2000}},
	} {
		if got := tc.tr.llrp(); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%+v → %+v, want %+v", tc.tr, got, tc.want)
		}
	}
}

func TestTriggerYAML(t *testing.T) {
	var c Config
	dec := yaml.NewDecoder(strings.NewReader("id: door-1\naddress: 10.0.0.21\ntrigger: {start: gpi, port: 1, level: high, stop: gpi, after: 5s}\n"))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		t.Fatal(err)
	}
	want := Trigger{Start: TriggerGPI, Port: 1, Level: LevelHigh, Stop: TriggerGPI, After: 5 * time.Second}
	if c.Trigger != want {
		t.Fatalf("trigger %+v, want %+v", c.Trigger, want)
	}
	if err := c.WithDefaults().Validate(); err != nil {
		t.Fatal(err)
	}
}
