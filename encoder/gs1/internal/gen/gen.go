// Package gen turns the GS1 Barcode Syntax Dictionary into the Go table that
// package gs1 compiles in. It is run by "go generate" in encoder/gs1 and by
// that package's test that checks the committed table is up to date.
package gen

import (
	"bufio"
	"bytes"
	"fmt"
	"go/format"
	"sort"
	"strconv"
	"strings"
)

// Entry is one AI of the dictionary, ranges expanded.
type Entry struct {
	Code        string
	Title       string
	Predefined  bool // flag '*'
	DLAttribute bool // flag '?'
	Components  []Component
	Req         [][][]string // each req= key: alternatives, each a '+' group
	Ex          []string
	DLPKey      bool
	DLQuals     [][]string // dlpkey=a,b|c alternatives
	Line        int
}

// Component is one part of an AI's data field.
type Component struct {
	Charset  byte // 'N', 'X', 'Y', 'Z'
	Min, Max int
	Optional bool
	Linters  []string
}

// Dictionary is the parsed file.
type Dictionary struct {
	Release string
	Entries []Entry
	Linters []string // every linter name used, sorted
}

const flagChars = "*!?\"$%&'()+,-./:;<=>@[\\]^_`{|}~"

// Parse reads the dictionary text.
func Parse(src []byte) (*Dictionary, error) {
	d := &Dictionary{}
	lint := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(src))
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			if rest, ok := strings.CutPrefix(strings.TrimSpace(strings.TrimPrefix(line, "#")), "Release:"); ok && d.Release == "" {
				d.Release = strings.TrimSpace(rest)
			}
			continue
		}
		if strings.TrimSpace(line) == "" {
			continue
		}
		body, title, _ := strings.Cut(line, "#")
		title = strings.TrimSpace(title)
		f := strings.Fields(body)
		if len(f) < 2 {
			return nil, fmt.Errorf("dictionary line %d: want AI and specification, got %q", n, line)
		}
		codes, err := expandRange(f[0])
		if err != nil {
			return nil, fmt.Errorf("dictionary line %d: %v", n, err)
		}
		e := Entry{Title: title, Line: n}
		i := 1
		if isFlags(f[i]) {
			e.Predefined = strings.Contains(f[i], "*")
			e.DLAttribute = strings.Contains(f[i], "?")
			i++
		}
		for ; i < len(f) && isComponent(f[i]); i++ {
			c, err := parseComponent(f[i])
			if err != nil {
				return nil, fmt.Errorf("dictionary line %d: %v", n, err)
			}
			for _, l := range c.Linters {
				lint[l] = true
			}
			e.Components = append(e.Components, c)
		}
		if len(e.Components) == 0 {
			return nil, fmt.Errorf("dictionary line %d: no data components", n)
		}
		for ; i < len(f); i++ {
			k, v, hasV := strings.Cut(f[i], "=")
			switch k {
			case "req":
				var alts [][]string
				for _, a := range strings.Split(v, ",") {
					alts = append(alts, strings.Split(a, "+"))
				}
				e.Req = append(e.Req, alts)
			case "ex":
				e.Ex = append(e.Ex, strings.Split(v, ",")...)
			case "dlpkey":
				e.DLPKey = true
				if hasV {
					for _, alt := range strings.Split(v, "|") {
						e.DLQuals = append(e.DLQuals, strings.Split(alt, ","))
					}
				}
			default:
				return nil, fmt.Errorf("dictionary line %d: unknown attribute %q", n, f[i])
			}
		}
		for _, c := range codes {
			ec := e
			ec.Code = c
			d.Entries = append(d.Entries, ec)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if d.Release == "" {
		return nil, fmt.Errorf("dictionary has no \"# Release:\" line")
	}
	sort.SliceStable(d.Entries, func(a, b int) bool { return d.Entries[a].Code < d.Entries[b].Code })
	for k := range lint {
		d.Linters = append(d.Linters, k)
	}
	sort.Strings(d.Linters)
	return d, nil
}

func isFlags(s string) bool {
	for i := 0; i < len(s); i++ {
		if !strings.ContainsRune(flagChars, rune(s[i])) {
			return false
		}
	}
	return s != ""
}

func isComponent(s string) bool {
	if s == "" {
		return false
	}
	if s[0] == '[' {
		return true
	}
	return strings.ContainsRune("NXYZ", rune(s[0])) && len(s) > 1 && (s[1] >= '0' && s[1] <= '9' || s[1] == '.')
}

func expandRange(s string) ([]string, error) {
	lo, hi, ok := strings.Cut(s, "-")
	if !ok {
		if !allDigits(s) || len(s) < 2 || len(s) > 4 {
			return nil, fmt.Errorf("bad AI %q", s)
		}
		return []string{s}, nil
	}
	if len(lo) != len(hi) || !allDigits(lo) || !allDigits(hi) {
		return nil, fmt.Errorf("bad AI range %q", s)
	}
	a, _ := strconv.Atoi(lo)
	b, _ := strconv.Atoi(hi)
	if b < a {
		return nil, fmt.Errorf("bad AI range %q", s)
	}
	var out []string
	for v := a; v <= b; v++ {
		out = append(out, fmt.Sprintf("%0*d", len(lo), v))
	}
	return out, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func parseComponent(s string) (Component, error) {
	var c Component
	typ, rest, _ := strings.Cut(s, ",")
	if strings.HasPrefix(typ, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return c, fmt.Errorf("unclosed optional component %q", s)
		}
		c.Optional = true
		typ = s[1:end]
		rest = strings.TrimPrefix(s[end+1:], ",")
	}
	if len(typ) < 2 {
		return c, fmt.Errorf("bad component %q", s)
	}
	c.Charset = typ[0]
	ln := typ[1:]
	if m, ok := strings.CutPrefix(ln, ".."); ok {
		v, err := strconv.Atoi(m)
		if err != nil {
			return c, fmt.Errorf("bad length in %q", s)
		}
		c.Min, c.Max = 1, v
	} else {
		v, err := strconv.Atoi(ln)
		if err != nil {
			return c, fmt.Errorf("bad length in %q", s)
		}
		c.Min, c.Max = v, v
	}
	if rest != "" {
		c.Linters = strings.Split(rest, ",")
	}
	return c, nil
}

// Generate renders the Go source of the table for package gs1.
func Generate(src []byte) ([]byte, error) {
	d, err := Parse(src)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	p := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	p("// Code generated by encoder/gs1/mktable.go from internal/gen/gs1-syntax-dictionary.txt; DO NOT EDIT.\n\n")
	p("package gs1\n\n")
	p("// DictionaryRelease is the release date of the GS1 Barcode Syntax Dictionary\n// the AI table was generated from.\n")
	p("const DictionaryRelease = %q\n\n", d.Release)
	p("// Linters named by the dictionary, in sorted order.\nconst (\n")
	for i, l := range d.Linters {
		if i == 0 {
			p("\t%s Linter = iota\n", linterIdent(l))
		} else {
			p("\t%s\n", linterIdent(l))
		}
	}
	p(")\n\n")
	p("var linterNames = [...]string{\n")
	for _, l := range d.Linters {
		p("\t%s: %q,\n", linterIdent(l), l)
	}
	p("}\n\n")
	p("var table = [...]AI{\n")
	for _, e := range d.Entries {
		p("\t{Code: %q, Title: %q", e.Code, e.Title)
		if e.Predefined {
			p(", Predefined: true")
		}
		if e.DLAttribute {
			p(", DLAttribute: true")
		}
		p(", Components: []Component{")
		for i, c := range e.Components {
			if i > 0 {
				p(", ")
			}
			p("{Charset: %s, Min: %d, Max: %d", charsetIdent(c.Charset), c.Min, c.Max)
			if c.Optional {
				p(", Optional: true")
			}
			if len(c.Linters) > 0 {
				p(", Linters: []Linter{")
				for j, l := range c.Linters {
					if j > 0 {
						p(", ")
					}
					p("%s", linterIdent(l))
				}
				p("}")
			}
			p("}")
		}
		p("}")
		if len(e.Req) > 0 {
			p(", Req: []Requirement{")
			for i, r := range e.Req {
				if i > 0 {
					p(", ")
				}
				p("{")
				for j, alt := range r {
					if j > 0 {
						p(", ")
					}
					p("%s", strList(alt))
				}
				p("}")
			}
			p("}")
		}
		if len(e.Ex) > 0 {
			p(", Ex: []string%s", strList(e.Ex))
		}
		if e.DLPKey {
			p(", DLPrimaryKey: true")
		}
		if len(e.DLQuals) > 0 {
			p(", DLQualifiers: [][]string{")
			for i, q := range e.DLQuals {
				if i > 0 {
					p(", ")
				}
				p("%s", strList(q))
			}
			p("}")
		}
		p("},\n")
	}
	p("}\n")
	out, err := format.Source(b.Bytes())
	if err != nil {
		return nil, fmt.Errorf("formatting generated table: %v", err)
	}
	return out, nil
}

func strList(s []string) string {
	q := make([]string, len(s))
	for i, v := range s {
		q[i] = strconv.Quote(v)
	}
	return "{" + strings.Join(q, ", ") + "}"
}

func linterIdent(name string) string {
	return "Lint" + strings.ToUpper(name[:1]) + name[1:]
}

func charsetIdent(c byte) string {
	switch c {
	case 'N':
		return "CharsetN"
	case 'X':
		return "CharsetX"
	case 'Y':
		return "CharsetY"
	case 'Z':
		return "CharsetZ"
	}
	return fmt.Sprintf("Charset(%d)", c)
}
