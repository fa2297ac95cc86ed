package signals

import (
	"fmt"
	"slices"
	"strings"
	"time"

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
