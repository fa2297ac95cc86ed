package signals

import (
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

func TestPortsYAML(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Ports
		err  string
	}{
		{"gpo: 2", Ports{2}, ""},
		{"gpo: [2, 3]", Ports{2, 3}, ""},
		{"gpo:\n  - 1\n  - 4", Ports{1, 4}, ""},
		{"gpo: []", Ports{}, ""},
		{"gpo: 0", Ports{0}, ""}, // Problems says why not
		{"gpo: red", nil, `line 1: gpo: want an output port from 1 to 65535 or a list of them (e.g. 2 or [2, 3]), got "red"`},
		{"gpo: -1", nil, "got -1"},
		{"gpo: 70000", nil, "got 70000"},
		{"gpo: 2.5", nil, "got 2.5"},
		{"gpo: [2, x]", nil, `got [2, "x"]`},
		{"gpo: {port: 2}", nil, "got a mapping"},
	} {
		var r Rule
		err := yaml.Unmarshal([]byte(tc.in), &r)
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("%q: %v", tc.in, err)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%q: error %v, want %q", tc.in, err, tc.err)
		case tc.err == "" && !slices.Equal(r.GPO, tc.want):
			t.Errorf("%q: gpo %v, want %v", tc.in, r.GPO, tc.want)
		}
	}
}

// A bad gpo is a type error: the decoder goes on and reports the others.
func TestPortsYAMLReportsEveryRule(t *testing.T) {
	var rules []Rule
	err := yaml.Unmarshal([]byte("- {on: pass, gpo: x}\n- {on: pass, gpo: [1, y]}\n- {on: pass, gpo: 3}\n"), &rules)
	var te *yaml.TypeError
	if !asTypeError(err, &te) || len(te.Errors) != 2 || !strings.HasPrefix(te.Errors[1], "line 2: gpo:") {
		t.Fatalf("error %v, want two type errors, lines 1 and 2", err)
	}
	if len(rules) != 3 || !slices.Equal(rules[2].GPO, Ports{3}) {
		t.Errorf("rules %+v: the good one not decoded", rules)
	}
}

func asTypeError(err error, te **yaml.TypeError) bool {
	e, ok := err.(*yaml.TypeError)
	*te = e
	return ok
}

func TestDefaults(t *testing.T) {
	r := Rule{On: EventPass, GPO: Ports{1}}.WithDefaults()
	if r.For != DefaultFor || r.Pattern != PatternSteady || r.Period != 0 {
		t.Errorf("steady defaults %+v", r)
	}
	r = Rule{On: EventPass, GPO: Ports{1}, Pattern: PatternBlink}.WithDefaults()
	if r.For != DefaultFor || r.Period != DefaultPeriod {
		t.Errorf("blink defaults %+v", r)
	}
	if WithDefaults(nil) != nil {
		t.Error("no rules became some")
	}
}

// A rule without a label or colour gets its event's: red and the alert in
// plain words for the alerts, green for the good outcomes, white for any
// pass; a rule's own are kept (its label trimmed).
func TestLampDefaults(t *testing.T) {
	for _, tc := range []struct {
		rule         Rule
		color, label string
	}{
		{Rule{On: EventHoldAlert}, ColorRed, "Held lot"},
		{Rule{On: EventUnexpected}, ColorRed, "Carton not expected here"},
		{Rule{On: EventMismatch}, ColorRed, "Carton not for this shipment"},
		{Rule{On: EventPassMatched}, ColorGreen, "Pass OK"},
		{Rule{On: EventPass}, ColorWhite, "Pass"},
		{Rule{On: EventLoaded}, ColorGreen, "Shipment loaded"},
		{Rule{On: EventShipped}, ColorGreen, "Shipment shipped"},
		{Rule{On: EventHoldAlert, Color: ColorAmber, Label: "  Held lot — stop the forklift "}, ColorAmber, "Held lot — stop the forklift"},
		{Rule{On: EventPass, Color: ColorYellow, Label: " "}, ColorYellow, "Pass"},
		{Rule{On: "nope"}, "", ""}, // Problems says why
	} {
		r := tc.rule.WithDefaults()
		if r.Color != tc.color || r.Label != tc.label {
			t.Errorf("%+v: color %q label %q, want %q %q", tc.rule, r.Color, r.Label, tc.color, tc.label)
		}
	}
	for _, e := range Events {
		if l := eventLamps[e]; l.color == "" || l.label == "" || !slices.Contains(Colors, l.color) {
			t.Errorf("event %s has no default lamp: %+v", e, l)
		}
	}
}

func TestProblems(t *testing.T) {
	for _, tc := range []struct {
		rule Rule
		want []string
	}{
		{Rule{On: EventHoldAlert, GPO: Ports{2}, For: 10 * time.Second}, nil},
		{Rule{On: EventUnexpected, GPO: Ports{2, 3}, Pattern: PatternBlink, Period: 600 * time.Millisecond}, nil},
		{Rule{GPO: Ports{1}}, []string{`signals[0]: door "D1": on is required: the event that lights the rule, one of lot.hold.alert, carton.unexpected, shipment.mismatch, pass.matched, pass, shipment.loaded, shipment.shipped`}},
		{Rule{On: "lot.hold", GPO: Ports{1}}, []string{`signals[0]: door "D1": on: "lot.hold" is not an event a door signals; use one of lot.hold.alert,`}},
		{Rule{On: EventPass}, []string{`signals[0]: door "D1": gpo is required: the output port of the reader to drive, or a list of them (e.g. gpo: 2 or gpo: [2, 3])`}},
		{Rule{On: EventPass, GPO: Ports{0}}, []string{`signals[0]: door "D1": gpo: port 0: outputs are numbered from 1 (e.g. gpo: 1 for the reader's first output)`}},
		{Rule{On: EventPass, GPO: Ports{2, 2}}, []string{`gpo: port 2 is listed twice; list each port once`}},
		{Rule{On: EventPass, GPO: Ports{1}, For: -time.Second}, []string{`signals[0]: door "D1": for: -1s must not be negative: how long the outputs stay on, e.g. 10s (leave it out for 5s)`}},
		{Rule{On: EventPass, GPO: Ports{1}, Pattern: "flash"}, []string{`pattern: "flash" is not steady or blink`}},
		{Rule{On: EventPass, GPO: Ports{1}, Period: time.Second}, []string{`period: 1s is for pattern: blink; remove it or set pattern: blink`}},
		{Rule{On: EventPass, GPO: Ports{1}, Pattern: PatternBlink, Period: 100 * time.Millisecond}, []string{`period: 100ms is too short for a light stack: give at least 200ms`}},
		{Rule{On: EventPass, GPO: Ports{1}, Color: ColorBlue, Label: strings.Repeat("é", MaxLabel)}, nil},
		{Rule{On: EventPass, GPO: Ports{1}, Color: "purple"}, []string{`signals[0]: door "D1": color: "purple" is not a lamp colour; use one of red, amber, yellow, green, blue, white`}},
		{Rule{On: EventPass, GPO: Ports{1}, Color: "Red"}, []string{`color: "Red" is not a lamp colour`}},
		{Rule{On: EventPass, GPO: Ports{1}, Label: strings.Repeat("é", MaxLabel+1)}, []string{`é" is 61 characters: give at most 60, the words read beside the lamp on the door board`}},
		{Rule{On: EventPass, GPO: Ports{1}, Label: "Held\nlot"}, []string{`signals[0]: door "D1": label: "Held\nlot" has a control character (U+000A) at position 5: give one line of plain text`}},
	} {
		got := Problems("D1", []Rule{tc.rule.WithDefaults()})
		if len(got) != len(tc.want) {
			t.Errorf("%+v: problems %q, want %q", tc.rule, got, tc.want)
			continue
		}
		for i := range got {
			if !strings.Contains(got[i], tc.want[i]) {
				t.Errorf("%+v: problem %q, want %q", tc.rule, got[i], tc.want[i])
			}
		}
	}
}

func TestIsAlert(t *testing.T) {
	var alerts []string
	for _, e := range Events {
		if IsAlert(e) {
			alerts = append(alerts, e)
		}
	}
	if want := []string{EventHoldAlert, EventUnexpected, EventMismatch}; !slices.Equal(alerts, want) {
		t.Errorf("alerts %v, want %v", alerts, want)
	}
}

// FuzzPortsYAML: any YAML under gpo either decodes into ports or is a
// type error with its line; it never panics.
func FuzzPortsYAML(f *testing.F) {
	for _, s := range []string{"2", "[2, 3]", "[]", "red", "-1", "{a: 1}", "[[1]]", "&a 2", "!!binary AAAA", "0x10", "1_000"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		var p Ports
		var n yaml.Node
		if yaml.Unmarshal([]byte("gpo: "+v), &n) != nil || len(n.Content) == 0 || len(n.Content[0].Content) < 2 {
			return
		}
		if err := p.UnmarshalYAML(n.Content[0].Content[1]); err != nil {
			if _, ok := err.(*yaml.TypeError); !ok {
				t.Fatalf("%q: error %T %v, want a *yaml.TypeError", v, err, err)
			}
		}
	})
}
