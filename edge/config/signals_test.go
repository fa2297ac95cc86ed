package config

import (
	"strings"
	"testing"
	"time"
)

func TestDoorSignals(t *testing.T) {
	c, err := Parse([]byte(`
readers:
  - {id: R1, address: 10.0.0.21}
doors:
  - id: D1
    reader: R1
    antennas_outside: [1]
    antennas_inside: [2]
    signals:
      - {on: lot.hold.alert, gpo: 2, for: 10s}
      - {on: pass.matched, gpo: 1, for: 2s}
      - {on: carton.unexpected, gpo: [2, 3], pattern: blink, color: amber, label: "Carton not expected — call the office"}
`), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	s := c.Doors[0].Signals
	if len(s) != 3 || s[0].On != "lot.hold.alert" || s[0].GPO[0] != 2 || s[0].For != 10*time.Second ||
		s[1].Pattern != "steady" || s[2].Pattern != "blink" || len(s[2].GPO) != 2 || s[2].For != 5*time.Second || s[2].Period != time.Second {
		t.Fatalf("signals %+v", s)
	}
	if s[0].Color != "red" || s[0].Label != "Held lot" || s[1].Color != "green" || s[1].Label != "Pass OK" ||
		s[2].Color != "amber" || s[2].Label != "Carton not expected — call the office" {
		t.Errorf("lamps %+v", s)
	}
}

func TestDoorSignalsInvalid(t *testing.T) {
	const door = "readers:\n  - {id: R1, address: h}\n  - {id: S1, type: serial, device: /dev/ttyUSB0, protocol: m100}\n" +
		"doors:\n  - id: D1\n    reader: R1\n    antennas_outside: [1]\n    antennas_inside: [2]\n    signals:\n"
	for _, tc := range []struct{ yaml, want string }{
		{door + "      - {on: lot.hold, gpo: 2}\n",
			`doors[0].signals[0]: door "D1": on: "lot.hold" is not an event a door signals; use one of lot.hold.alert, carton.unexpected, shipment.mismatch, pass.matched, pass, shipment.loaded, shipment.shipped`},
		{door + "      - {on: pass, gpo: 1}\n      - {on: pass.matched, gpo: 0}\n",
			`doors[0].signals[1]: door "D1": gpo: port 0: outputs are numbered from 1 (e.g. gpo: 1 for the reader's first output)`},
		{door + "      - {on: pass, gpo: []}\n",
			`doors[0].signals[0]: door "D1": gpo is required: the output port of the reader to drive, or a list of them (e.g. gpo: 2 or gpo: [2, 3])`},
		{door + "      - {on: pass, gpo: 1, for: -2s}\n",
			`doors[0].signals[0]: door "D1": for: -2s must not be negative: how long the outputs stay on, e.g. 10s (leave it out for 5s)`},
		{door + "      - {on: pass, gpo: 1, for: 2}\n",
			`line 10: doors[0].signals[0].for: 2 has no unit: write a duration with its unit, e.g. 2s`},
		{door + "      - {on: pass, gpo: 1, colour: red}\n",
			`line 10: unknown key "colour" in doors[0].signals[0]; known keys: color, for, gpo, label, on, pattern, period`},
		{door + "      - {on: pass, gpo: 1}\n      - {on: pass.matched, gpo: 2, color: purple}\n",
			`doors[0].signals[1]: door "D1": color: "purple" is not a lamp colour; use one of red, amber, yellow, green, blue, white (the lens the outputs light; leave it out for the event's)`},
		{door + "      - {on: lot.hold.alert, gpo: 2, label: \"" + strings.Repeat("x", 61) + "\"}\n",
			`doors[0].signals[0]: door "D1": label: "` + strings.Repeat("x", 61) + `" is 61 characters: give at most 60, the words read beside the lamp on the door board`},
		{strings.Replace(door, "reader: R1", "reader: S1", 1) + "      - {on: pass, gpo: 1}\n",
			`doors[0].signals: door "D1": reader "S1" is a serial reader, which has no general purpose outputs; wire the light stack to an LLRP reader's outputs, or remove signals`},
		{strings.Replace(door, "{id: R1, address: h}", "{id: R1, type: sim}", 1) + "      - {on: pass, gpo: [4, 5]}\n",
			`doors[0].signals[0]: door "D1": gpo: port 5: the simulated reader "R1" has outputs 1 to 4`},
		{"doors:\n  - id: D1\n    signals: [{on: pass, gpo: 1}]\n",
			`doors[0].signals: door "D1" has no reader: signals drive the outputs of the door's reader; give the door a reader, or remove signals`},
	} {
		wantOneProblem(t, tc.yaml, tc.want)
	}
	// A gpo that is not a port is said at its line (and the rule then has
	// none, which is said too).
	_, err := Parse([]byte(door+"      - {on: pass, gpo: green}\n      - {on: pass, gpo: [1, 2]}\n"), noEnv)
	if want := `line 10: doors[0].signals[0].gpo: want an output port from 1 to 65535 or a list of them (e.g. 2 or [2, 3]), got "green"`; err == nil || !strings.Contains(err.Error(), want+"\n") {
		t.Errorf("got %v\nwant %s", err, want)
	}
}
