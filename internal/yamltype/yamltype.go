package yamltype

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

var (
	durationType    = reflect.TypeFor[time.Duration]()
	unmarshalerType = reflect.TypeFor[yaml.Unmarshaler]()
)

// lineRE is the line a YAML decoding error starts with.
var lineRE = regexp.MustCompile(`^line [0-9]+: `)

// Problems walks node n against type t and returns every problem, each
// with its line: a key t does not have, a value of the wrong type, a
// duration without its unit. path is the path of n ("" for the document).
func Problems(n *yaml.Node, t reflect.Type, path string) []string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	if n.Kind == yaml.AliasNode && n.Alias != nil && n.Alias.Kind == yaml.ScalarNode {
		a := *n.Alias
		a.Line = n.Line // where the key uses it
		return Problems(&a, t, path)
	}
	if msg := Problem(n, t, path); msg != "" {
		return []string{msg}
	}
	if reflect.PointerTo(t).Implements(unmarshalerType) {
		return nil // the type reads its own node (Problem)
	}
	var probs []string
	switch {
	case n.Kind == yaml.MappingNode && t.Kind() == reflect.Struct:
		fields := map[string]reflect.Type{}
		var names []string
		var collect func(t reflect.Type)
		collect = func(t reflect.Type) {
			for i := 0; i < t.NumField(); i++ {
				f := t.Field(i)
				tag := f.Tag.Get("yaml")
				if strings.Contains(tag, ",inline") {
					collect(f.Type)
					continue
				}
				name := strings.Split(tag, ",")[0]
				if name == "" || name == "-" {
					continue
				}
				fields[name] = f.Type
				names = append(names, name)
			}
		}
		collect(t)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			ft, ok := fields[k.Value]
			if !ok {
				sort.Strings(names)
				where := "at the top level"
				if path != "" {
					where = "in " + path
				}
				probs = append(probs, fmt.Sprintf("line %d: unknown key %q %s; known keys: %s", k.Line, k.Value, where, strings.Join(names, ", ")))
				continue
			}
			probs = append(probs, Problems(v, ft, join(path, k.Value))...)
		}
	case n.Kind == yaml.MappingNode && t.Kind() == reflect.Map:
		for i := 0; i+1 < len(n.Content); i += 2 {
			probs = append(probs, Problems(n.Content[i+1], t.Elem(), join(path, n.Content[i].Value))...)
		}
	case n.Kind == yaml.SequenceNode && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array):
		for i, item := range n.Content {
			probs = append(probs, Problems(item, t.Elem(), fmt.Sprintf("%s[%d]", path, i))...)
		}
	}
	return probs
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// Problem says, naming the key and what it takes, why node n itself cannot
// hold a value of type t (its keys and items are not looked at), or ""
// when it can. Null fits anything: the key is then left at its default. A
// fraction for a whole number is refused: the decoder would cut 1.5 to 1.
func Problem(n *yaml.Node, t reflect.Type, path string) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" || n.Kind == yaml.AliasNode {
		return ""
	}
	where := path
	if where == "" {
		where = "the file"
	}
	if reflect.PointerTo(t).Implements(unmarshalerType) {
		// The type reads its own node and says what it takes: its
		// message, at its line, under the key's full path.
		err := n.Decode(reflect.New(t).Interface())
		if err == nil {
			return ""
		}
		msg := err.Error()
		var te *yaml.TypeError
		if errors.As(err, &te) && len(te.Errors) > 0 {
			msg = te.Errors[0]
		}
		msg = lineRE.ReplaceAllString(msg, "")
		msg = strings.TrimPrefix(msg, path[strings.LastIndexByte(path, '.')+1:]+": ")
		return fmt.Sprintf("line %d: %s: %s", n.Line, where, msg)
	}
	if t == durationType {
		var d time.Duration
		switch {
		case n.Kind == yaml.ScalarNode && n.Decode(&d) == nil:
			return ""
		case n.Kind != yaml.ScalarNode:
			return fmt.Sprintf("line %d: %s: want a duration with its unit, e.g. 20s, 500ms or 1m30s, got %s", n.Line, where, gotWords(n))
		case n.ShortTag() == "!!int" || n.ShortTag() == "!!float":
			return fmt.Sprintf("line %d: %s: %s has no unit: write a duration with its unit, e.g. %ss", n.Line, where, n.Value, n.Value)
		}
		return fmt.Sprintf("line %d: %s: %q is not a duration: write it with its unit, e.g. 20s, 500ms or 1m30s", n.Line, where, n.Value)
	}
	switch t.Kind() {
	case reflect.Struct, reflect.Map:
		if n.Kind == yaml.MappingNode {
			return ""
		}
	case reflect.Slice, reflect.Array:
		if n.Kind == yaml.SequenceNode {
			return ""
		}
	case reflect.Interface:
		return ""
	default:
		if n.Kind != yaml.ScalarNode || n.Decode(reflect.New(t).Interface()) != nil {
			break
		}
		if k := t.Kind(); n.ShortTag() == "!!float" && k >= reflect.Int && k <= reflect.Uintptr {
			if f, err := strconv.ParseFloat(n.Value, 64); err != nil || f != math.Trunc(f) {
				break
			}
		}
		return ""
	}
	return fmt.Sprintf("line %d: %s: want %s, got %s", n.Line, where, wantWords(t, path), gotWords(n))
}

// wantWords says what a key of type t takes: a whole number, a number of
// bytes, true or false, a mapping of keys (listen, token_file)…
func wantWords(t reflect.Type, path string) string {
	key := path[strings.LastIndexByte(path, '.')+1:]
	ofBytes := strings.HasSuffix(key, "bytes")
	switch k := t.Kind(); {
	case k == reflect.Bool:
		return "true or false"
	case k >= reflect.Int && k <= reflect.Int64 && ofBytes, k >= reflect.Uint && k <= reflect.Uintptr && ofBytes:
		return "a number of bytes"
	case k >= reflect.Int && k <= reflect.Int64:
		return "a whole number"
	case k >= reflect.Uint && k <= reflect.Uintptr && t.Bits() < 64:
		return fmt.Sprintf("a whole number from 0 to %d", uint64(1)<<t.Bits()-1)
	case k >= reflect.Uint && k <= reflect.Uintptr:
		return "a whole number, 0 or more"
	case k == reflect.Float32 || k == reflect.Float64:
		return "a number"
	case k == reflect.String:
		return "a string"
	case k == reflect.Slice || k == reflect.Array:
		return "a list (items on lines starting with -, or [a, b])"
	case k == reflect.Map:
		return "a mapping of names to values"
	case k == reflect.Struct:
		var names []string
		for i := 0; i < t.NumField(); i++ {
			tag := t.Field(i).Tag.Get("yaml")
			if strings.Contains(tag, ",inline") {
				return "a mapping of keys"
			}
			if name := strings.Split(tag, ",")[0]; name != "" && name != "-" {
				names = append(names, name)
			}
		}
		if len(names) == 0 || len(names) > 6 {
			return "a mapping of keys"
		}
		return "a mapping of keys (" + strings.Join(names, ", ") + ")"
	}
	return "another kind of value"
}

// gotWords describes a YAML node in a problem: a string quoted, a number or
// true/false as written, a list, a mapping.
func gotWords(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	}
	if n.ShortTag() == "!!str" {
		return strconv.Quote(n.Value)
	}
	return n.Value
}
