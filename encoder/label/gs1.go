package label

import (
	"fmt"
	"strings"

	"github.com/dockgate/dockgate/encoder/gs1"
)

// gs1Parse reads a template's ais, a bracketed element string whose
// values may hold {{var}} references ("(01){{gtin}}[(17){{expiry|yymmdd}}]"),
// binds the values and validates each element on its own. An AI in [ ] is
// left out when a variable in its value is empty. The template is split into
// AIs before the values are bound, so a value holding "(" cannot shift an AI
// boundary. The association rules (req=, ex=) are applied to all GS1
// elements of the label together by gs1ValidateLabel, since a logistics
// label spreads its AIs over several symbols.
func gs1Parse(spec string, vals map[string]string) (gs1.Message, error) {
	var m gs1.Message
	optional := false
	for i := 0; i < len(spec); {
		switch spec[i] {
		case '[':
			if optional {
				return m, fmt.Errorf("%w: nested [ in %q", ErrTemplate, spec)
			}
			optional = true
			i++
			continue
		case ']':
			if !optional {
				return m, fmt.Errorf("%w: ] without [ in %q", ErrTemplate, spec)
			}
			optional = false
			i++
			continue
		case '(':
		default:
			return m, fmt.Errorf("%w: expected '(' at %d in %q; write AIs as (01){{gtin}}(10){{lot}}", ErrTemplate, i, spec)
		}
		end := strings.IndexByte(spec[i:], ')')
		if end < 0 {
			return m, fmt.Errorf("%w: unclosed '(' at %d in %q", ErrTemplate, i, spec)
		}
		ai := spec[i+1 : i+end]
		i += end + 1
		j := i
		for j < len(spec) && spec[j] != '(' && spec[j] != '[' && spec[j] != ']' {
			if strings.HasPrefix(spec[j:], "{{") {
				k := strings.Index(spec[j:], "}}")
				if k < 0 {
					return m, fmt.Errorf("%w: unclosed {{ in %q", ErrTemplate, spec)
				}
				j += k + 2
				continue
			}
			j++
		}
		valTmpl := spec[i:j]
		i = j
		val, err := expand(valTmpl, vals)
		if err != nil {
			return m, err
		}
		if optional && val == "" {
			continue
		}
		if optional {
			empty := false
			for _, ref := range refs(valTmpl) {
				empty = empty || vals[ref] == ""
			}
			if empty {
				continue
			}
		}
		if err := gs1.ValidateValue(ai, val); err != nil {
			return m, err
		}
		m.Elements = append(m.Elements, gs1.Element{AI: ai, Value: val})
	}
	if optional {
		return m, fmt.Errorf("%w: unclosed [ in %q", ErrTemplate, spec)
	}
	if len(m.Elements) == 0 {
		return m, fmt.Errorf("%w: no AIs in %q", ErrData, spec)
	}
	return m, nil
}

// gs1ValidateLabel applies the whole-message rules to every GS1 element
// printed on the label; the same AI with the same value in two symbols
// counts once.
func gs1ValidateLabel(all []gs1.Element) error {
	if len(all) == 0 {
		return nil
	}
	seen := map[gs1.Element]bool{}
	var m gs1.Message
	for _, e := range all {
		if !seen[e] {
			seen[e] = true
			m.Elements = append(m.Elements, e)
		}
	}
	if err := gs1.Validate(m); err != nil {
		return fmt.Errorf("%w: GS1 data on the label: %v", ErrData, err)
	}
	return nil
}

// gs1SymbolData orders the elements for a symbol (predefined-length AIs
// first, one variable-length AI last) and returns the data with FNC1 (0x1D)
// after every variable-length AI that is not last, without the leading FNC1.
func gs1SymbolData(m gs1.Message) (gs1.Message, string) {
	ordered := gs1.Message{Elements: gs1.OrderForSymbol(m.Elements)}
	var b strings.Builder
	for i, e := range ordered.Elements {
		b.WriteString(e.AI)
		b.WriteString(e.Value)
		if i < len(ordered.Elements)-1 {
			if ai, ok := gs1.Lookup(e.AI); !ok || !ai.Predefined {
				b.WriteByte(FNC1)
			}
		}
	}
	return ordered, b.String()
}

// gs1Check128 applies the GS1-128 capacity rule.
func gs1Check128(m gs1.Message) error {
	if err := gs1.CheckGS1128Capacity(m); err != nil {
		return fmt.Errorf("%w: %v", ErrData, err)
	}
	return nil
}

// gs1DigitalLink builds a GS1 Digital Link URI: the primary key, its key
// qualifiers in dictionary order in the path, data attributes as query
// parameters.
func gs1DigitalLink(m gs1.Message, domain string) (string, error) {
	uri, err := m.DigitalLink(domain)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrData, err)
	}
	return uri, nil
}
