package signals

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// Events a rule can be on. The alerts win over the others at a door.
const (
	// EventHoldAlert: a carton of a held or recalled lot went the wrong way
	// through the door (lot.hold.alert).
	EventHoldAlert = "lot.hold.alert"
	// EventUnexpected: a pass at the door held cartons no receipt
	// announced (carton.unexpected).
	EventUnexpected = "carton.unexpected"
	// EventMismatch: a carton left through a shipping door that is not for
	// its shipments (shipment.mismatch).
	EventMismatch = "shipment.mismatch"
	// EventPass: any pass through the door (portal.pass).
	EventPass = "pass"
	// EventPassMatched: a pass with no hold alert, no unexpected carton and
	// no shipment mismatch (see the package comment).
	EventPassMatched = "pass.matched"
	// EventLoaded: a shipment at the door has every carton it expects
	// (shipment.loaded).
	EventLoaded = "shipment.loaded"
	// EventShipped: a shipment at the door was closed (shipment.shipped).
	EventShipped = "shipment.shipped"
)

// Events lists every event a rule can be on, alerts first.
var Events = []string{EventHoldAlert, EventUnexpected, EventMismatch, EventPassMatched, EventPass, EventLoaded, EventShipped}

// IsAlert reports whether event is an alert: while an alert's rule is lit at
// a door, the door's other rules stay off.
func IsAlert(event string) bool {
	return event == EventHoldAlert || event == EventUnexpected || event == EventMismatch
}

// Colours of a rule's lamp (Rule.Color): the lens its outputs light on
// the light stack, as the door board shows it. Amber and yellow are both
// kept, each shown by its own name: stacks sell the same middle lens under
// either, and the board says what the installer wrote.
const (
	ColorRed    = "red"
	ColorAmber  = "amber"
	ColorYellow = "yellow"
	ColorGreen  = "green"
	ColorBlue   = "blue"
	ColorWhite  = "white"
)

// Colors lists every lamp colour a rule can have.
var Colors = []string{ColorRed, ColorAmber, ColorYellow, ColorGreen, ColorBlue, ColorWhite}

// MaxLabel is the most characters a rule's label has: it is read beside
// its lamp on the door board.
const MaxLabel = 60

// eventLamps are the colour and label of a rule on each event that gives
// neither: red for the alerts, green for a good outcome, white for any
// pass (neither good nor bad).
var eventLamps = map[string]struct{ color, label string }{
	EventHoldAlert:   {ColorRed, "Held lot"},
	EventUnexpected:  {ColorRed, "Carton not expected here"},
	EventMismatch:    {ColorRed, "Carton not for this shipment"},
	EventPassMatched: {ColorGreen, "Pass OK"},
	EventPass:        {ColorWhite, "Pass"},
	EventLoaded:      {ColorGreen, "Shipment loaded"},
	EventShipped:     {ColorGreen, "Shipment shipped"},
}

// Patterns of a lit rule's outputs.
const (
	PatternSteady = "steady"
	PatternBlink  = "blink"
)

// Defaults of a rule.
const (
	// DefaultFor is how long a rule stays lit after its event when for is
	// not given.
	DefaultFor = 5 * time.Second
	// DefaultPeriod is one on-and-off cycle of a blinking rule: on for
	// half of it, off for the other half.
	DefaultPeriod = time.Second
	// MinPeriod is the shortest blink period: a reader takes a
	// SET_READER_CONFIG per change, and a light stack blinking faster
	// reads as steady.
	MinPeriod = 200 * time.Millisecond
)

// Rule lights general purpose outputs of a door's reader when an event
// happens at the door, as configured under a door's signals: key:
//
//	signals:
//	  - {on: lot.hold.alert, gpo: 2, for: 10s}
//	  - {on: pass.matched, gpo: 1, for: 2s}
//	  - {on: carton.unexpected, gpo: [2, 3], pattern: blink}
//	  - {on: pass, gpo: 4, label: "Pallet through", color: blue}
type Rule struct {
	// On is the event (one of Events).
	On string `yaml:"on"`
	// GPO is the output port or ports (numbered from 1) the rule drives
	// high while lit.
	GPO Ports `yaml:"gpo"`
	// For is how long the rule stays lit after its event (DefaultFor); the
	// event again while lit starts the time over.
	For time.Duration `yaml:"for"`
	// Pattern is steady (the default) or blink.
	Pattern string `yaml:"pattern"`
	// Period is a blinking rule's on-and-off cycle (DefaultPeriod).
	Period time.Duration `yaml:"period"`
	// Label is what the rule means, in words for the people at the door
	// ("Held lot — stop the forklift"; at most MaxLabel characters): the
	// door board shows it beside the lamp. By default the event's in plain
	// words ("Held lot", "Pass OK").
	Label string `yaml:"label"`
	// Color is the lens the outputs light (one of Colors), shown on the
	// door board: by default red for an alert, green for pass.matched,
	// shipment.loaded and shipment.shipped, white for pass.
	Color string `yaml:"color"`
}

// WithDefaults returns a copy of r with its zero fields set to the
// defaults.
func (r Rule) WithDefaults() Rule {
	if r.For == 0 {
		r.For = DefaultFor
	}
	if r.Pattern == "" {
		r.Pattern = PatternSteady
	}
	if r.Pattern == PatternBlink && r.Period == 0 {
		r.Period = DefaultPeriod
	}
	r.Label = strings.TrimSpace(r.Label)
	if r.Label == "" {
		r.Label = eventLamps[r.On].label
	}
	if r.Color == "" {
		r.Color = eventLamps[r.On].color
	}
	return r
}

// WithDefaults returns a copy of rules with each rule's defaults filled.
func WithDefaults(rules []Rule) []Rule {
	if rules == nil {
		return nil
	}
	out := make([]Rule, len(rules))
	for i, r := range rules {
		out[i] = r.WithDefaults()
	}
	return out
}

// Problems returns what is wrong with a door's rules after WithDefaults,
// each naming the rule (signals[i]), the door and the fix.
func Problems(door string, rules []Rule) []string {
	var probs []string
	for i, r := range rules {
		for _, p := range r.problems() {
			probs = append(probs, fmt.Sprintf("signals[%d]: door %q: %s", i, door, p))
		}
	}
	return probs
}

func (r Rule) problems() []string {
	var probs []string
	add := func(format string, a ...any) { probs = append(probs, fmt.Sprintf(format, a...)) }
	switch {
	case r.On == "":
		add("on is required: the event that lights the rule, one of %s", strings.Join(Events, ", "))
	case !slices.Contains(Events, r.On):
		add("on: %q is not an event a door signals; use one of %s", r.On, strings.Join(Events, ", "))
	}
	if len(r.GPO) == 0 {
		add("gpo is required: the output port of the reader to drive, or a list of them (e.g. gpo: 2 or gpo: [2, 3])")
	}
	for i, p := range r.GPO {
		if p == 0 {
			add("gpo: port 0: outputs are numbered from 1 (e.g. gpo: 1 for the reader's first output)")
		} else if slices.Contains(r.GPO[:i], p) {
			add("gpo: port %d is listed twice; list each port once", p)
		}
	}
	if r.For < 0 {
		add("for: %s must not be negative: how long the outputs stay on, e.g. 10s (leave it out for %s)", r.For, DefaultFor)
	}
	switch r.Pattern {
	case PatternSteady:
		if r.Period != 0 {
			add("period: %s is for pattern: blink; remove it or set pattern: blink", r.Period)
		}
	case PatternBlink:
		if r.Period < MinPeriod {
			add("period: %s is too short for a light stack: give at least %s (one on-and-off cycle; %s if left out)", r.Period, MinPeriod, DefaultPeriod)
		}
	default:
		add("pattern: %q is not steady or blink", r.Pattern)
	}
	if r.Color != "" && !slices.Contains(Colors, r.Color) {
		add("color: %q is not a lamp colour; use one of %s (the lens the outputs light; leave it out for the event's)", r.Color, strings.Join(Colors, ", "))
	}
	if n := utf8.RuneCountInString(r.Label); n > MaxLabel {
		add("label: %q is %d characters: give at most %d, the words read beside the lamp on the door board", r.Label, n, MaxLabel)
	}
	for i, c := range []rune(r.Label) {
		if unicode.IsControl(c) {
			add("label: %q has a control character (%U) at position %d: give one line of plain text", r.Label, c, i+1)
			break
		}
	}
	return probs
}

// Ports are general purpose output ports, numbered from 1. In YAML a rule's
// gpo is one port (gpo: 2) or a list (gpo: [2, 3]).
type Ports []uint16

// UnmarshalYAML takes one port or a list of ports. A value that is neither
// is a *yaml.TypeError with its line, so that a configuration's other
// problems are still reported with it.
func (p *Ports) UnmarshalYAML(n *yaml.Node) error {
	bad := func() error {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: gpo: want an output port from 1 to 65535 or a list of them (e.g. 2 or [2, 3]), got %s", n.Line, nodeWords(n))}}
	}
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	var one uint16
	switch n.Kind {
	case yaml.ScalarNode:
		if n.ShortTag() != "!!int" || n.Decode(&one) != nil {
			return bad()
		}
		*p = Ports{one}
		return nil
	case yaml.SequenceNode:
		out := make(Ports, 0, len(n.Content))
		for _, item := range n.Content {
			if item.Kind != yaml.ScalarNode || item.ShortTag() != "!!int" || item.Decode(&one) != nil {
				return bad()
			}
			out = append(out, one)
		}
		*p = out
		return nil
	}
	return bad()
}

func nodeWords(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		var items []string
		for _, item := range n.Content {
			items = append(items, nodeWords(item))
		}
		return "[" + strings.Join(items, ", ") + "]"
	case yaml.MappingNode:
		return "a mapping"
	}
	if n.ShortTag() == "!!str" {
		return fmt.Sprintf("%q", n.Value)
	}
	return n.Value
}
