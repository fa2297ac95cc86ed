package yamltype

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

type inner struct {
	Listen string `yaml:"listen"`
	Token  string `yaml:"token_file"`
}

type outer struct {
	Inner    inner             `yaml:"inner"`
	MaxBytes int64             `yaml:"max_bytes"`
	Count    int               `yaml:"count"`
	Antennas []uint16          `yaml:"antennas"`
	Start    uint64            `yaml:"start"`
	Rate     float64           `yaml:"rate"`
	On       bool              `yaml:"on"`
	Wait     time.Duration     `yaml:"wait"`
	Names    map[string]string `yaml:"names"`
	Name     string            `yaml:"name"`
}

// Every problem names its line and key and says what the key takes in
// words, never in the decoder's (!!str, int64, time.Duration).
func TestProblems(t *testing.T) {
	for _, c := range []struct{ doc, want string }{
		{"max_bytes: big", `line 1: max_bytes: want a number of bytes, got "big"`},
		{"count: 1.5", `line 1: count: want a whole number, got 1.5`},
		{"count: [1]", `line 1: count: want a whole number, got a list`},
		{"antennas: [1, 70000]", `line 1: antennas[1]: want a whole number from 0 to 65535, got 70000`},
		{"antennas: 1", `line 1: antennas: want a list (items on lines starting with -, or [a, b]), got 1`},
		{"start: -1", `line 1: start: want a whole number, 0 or more, got -1`},
		{"rate: fast", `line 1: rate: want a number, got "fast"`},
		{"on: maybe", `line 1: on: want true or false, got "maybe"`},
		{"wait: 20", `line 1: wait: 20 has no unit: write a duration with its unit, e.g. 20s`},
		{"wait: soon", `line 1: wait: "soon" is not a duration: write it with its unit, e.g. 20s, 500ms or 1m30s`},
		{"wait: {a: 1}", `line 1: wait: want a duration with its unit, e.g. 20s, 500ms or 1m30s, got a mapping`},
		{"names: [a]", `line 1: names: want a mapping of names to values, got a list`},
		{"names: {a: [1]}", `line 1: names.a: want a string, got a list`},
		{"name: {a: 1}", `line 1: name: want a string, got a mapping`},
		{"inner: x", `line 1: inner: want a mapping of keys (listen, token_file), got "x"`},
		{"inner:\n  lisen: x", `line 2: unknown key "lisen" in inner; known keys: listen, token_file`},
		{"colour: red", `line 1: unknown key "colour" at the top level; known keys: antennas, count, inner, max_bytes, name, names, on, rate, start, wait`},
		{"a: &n big\ncount: *n", `line 2: count: want a whole number, got "big"`},
	} {
		var n yaml.Node
		if err := yaml.Unmarshal([]byte(c.doc), &n); err != nil {
			t.Fatalf("%q: %v", c.doc, err)
		}
		probs := Problems(&n, reflect.TypeFor[outer](), "")
		if !slices.Contains(probs, c.want) {
			t.Errorf("%q: %q; want %q", c.doc, probs, c.want)
		}
		for _, p := range probs {
			if strings.Contains(p, "!!") || strings.Contains(p, "int64") || strings.Contains(p, "time.Duration") {
				t.Errorf("%q: %q shows a Go or YAML type", c.doc, p)
			}
		}
	}
	var n yaml.Node
	if err := yaml.Unmarshal([]byte("count: 2.0\nwait: 5s\nname: 5\nstart: ~\nantennas: [1, 2]\n"), &n); err != nil {
		t.Fatal(err)
	}
	if probs := Problems(&n, reflect.TypeFor[outer](), ""); len(probs) != 0 {
		t.Errorf("good document: %q", probs)
	}
}

// oneOrMany reads itself: one number or a list of them.
type oneOrMany []int

func (o *oneOrMany) UnmarshalYAML(n *yaml.Node) error {
	var one int
	if n.Kind == yaml.ScalarNode && n.Decode(&one) == nil {
		*o = oneOrMany{one}
		return nil
	}
	var many []int
	if n.Kind == yaml.SequenceNode && n.Decode(&many) == nil {
		*o = many
		return nil
	}
	return &yaml.TypeError{Errors: []string{"line 9: ports: want a number or a list of numbers"}}
}

// A type that reads its own node is not walked: its message is kept,
// at the node's line and under the key's path.
func TestProblemsOfAnUnmarshaler(t *testing.T) {
	type rule struct {
		Ports oneOrMany `yaml:"ports"`
	}
	type doc struct {
		Rules []rule `yaml:"rules"`
	}
	for _, c := range []struct{ doc, want string }{
		{"rules:\n  - ports: 2\n  - ports: [1, 2]\n", ""},
		{"rules:\n  - ports: 2\n  - ports: x\n", `line 3: rules[1].ports: want a number or a list of numbers`},
		{"rules:\n  - ports: {a: 1}\n", `line 2: rules[0].ports: want a number or a list of numbers`},
	} {
		var n yaml.Node
		if err := yaml.Unmarshal([]byte(c.doc), &n); err != nil {
			t.Fatalf("%q: %v", c.doc, err)
		}
		probs := Problems(&n, reflect.TypeFor[doc](), "")
		if c.want == "" && len(probs) > 0 || c.want != "" && !slices.Equal(probs, []string{c.want}) {
			t.Errorf("%q: %q; want %q", c.doc, probs, c.want)
		}
	}
}
