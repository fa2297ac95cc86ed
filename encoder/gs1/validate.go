package gs1

import (
	"strconv"
	"strings"
)

// charsetBad returns the index of the first character outside the set, or -1.
func charsetBad(cs Charset, v string) int {
	if cs == CharsetZ {
		return cset64Bad(v)
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch cs {
		case CharsetN:
			if c < '0' || c > '9' {
				return i
			}
		case CharsetX:
			if cset82Value[c] == 0 {
				return i
			}
		case CharsetY:
			if !(c == '#' || c == '-' || c == '/' || c >= '0' && c <= '9' || c >= 'A' && c <= 'Z') {
				return i
			}
		}
	}
	return -1
}

// cset64Bad checks base64url (CSET 64) with optional '=' padding: at most
// two pad characters, and with padding the length is a multiple of 3, as
// the GS1 syntax tests require.
func cset64Bad(v string) int {
	n := len(v)
	pads := 0
	for n > 0 && v[n-1] == '=' {
		n--
		pads++
	}
	if pads > 2 || pads > 0 && len(v)%3 != 0 {
		return n
	}
	for i := 0; i < n; i++ {
		c := v[i]
		if !(c == '-' || c == '_' || c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z') {
			return i
		}
	}
	return -1
}

// ValidateValue checks one AI's value against its components: lengths,
// character sets and linters. Error positions are offsets in the value.
func ValidateValue(ai, value string) error {
	a, ok := Lookup(ai)
	if !ok {
		return newErr(ai, -1, "ai", ErrUnknownAI, "unknown AI; check the AI digits against the GS1 General Specifications")
	}
	if err := checkValue(a, value); err != nil {
		return err
	}
	return nil
}

func checkValue(a *AI, v string) *Error {
	if v == "" {
		return newErr(a.Code, 0, "length", ErrLength, "empty value; "+lengthWant(a))
	}
	pos := 0
	for i := range a.Components {
		c := &a.Components[i]
		if pos == len(v) && c.Optional {
			break
		}
		rest := len(v) - pos
		n := c.Max
		if c.Min != c.Max {
			n = rest
			if n > c.Max {
				n = c.Max
			}
		}
		if rest < c.Min || (c.Min == c.Max && rest < n) {
			return newErr(a.Code, pos, "length", ErrLength, "value "+strconv.Quote(v)+" is too short: "+lengthWant(a))
		}
		part := v[pos : pos+n]
		if bad := charsetBad(c.Charset, part); bad >= 0 {
			return newErr(a.Code, pos+bad, "charset", ErrCharset, "character "+quoteChar(part, bad)+" is not in "+c.Charset.String()+" in "+strconv.Quote(v))
		}
		for _, l := range c.Linters {
			f := linterFuncs[l]
			if f == nil {
				continue
			}
			if r := f(part); r.err != nil {
				return newErr(a.Code, pos+r.pos, l.String(), r.err, r.msg)
			}
		}
		pos += n
	}
	if pos < len(v) {
		return newErr(a.Code, pos, "length", ErrLength, "value "+strconv.Quote(v)+" is too long: "+lengthWant(a))
	}
	return nil
}

func lengthWant(a *AI) string {
	mn, mx := a.MinLen(), a.MaxLen()
	if mn == mx {
		return "needs exactly " + strconv.Itoa(mn) + " characters"
	}
	return "needs " + strconv.Itoa(mn) + " to " + strconv.Itoa(mx) + " characters"
}

// Validate checks a whole message: every value (ValidateValue), no AI twice
// with different values, every req= association satisfied and no ex=
// association broken. Error positions are offsets within the value.
func Validate(m Message) error {
	if len(m.Elements) == 0 {
		return newErr("", -1, "syntax", ErrEmpty, "no AI elements")
	}
	for i, e := range m.Elements {
		k := lookupIndex(e.AI)
		if k == 0 {
			return newErr(e.AI, -1, "ai", ErrUnknownAI, "unknown AI; check the AI digits against the GS1 General Specifications")
		}
		if err := checkValue(&table[k-1], e.Value); err != nil {
			return err
		}
		for _, p := range m.Elements[:i] {
			if p.AI == e.AI && p.Value != e.Value {
				return newErr(e.AI, -1, "duplicate", ErrDuplicate, "appears twice with different values "+strconv.Quote(p.Value)+" and "+strconv.Quote(e.Value))
			}
		}
	}
	return checkAssociations(m.Elements)
}

func checkAssociations(els []Element) error {
	for _, e := range els {
		a := &table[lookupIndex(e.AI)-1]
		for _, req := range a.Req {
			if !reqSatisfied(req, els) {
				return newErr(e.AI, -1, "req", ErrAssociation, "requires "+describeReq(req)+" in the same message")
			}
		}
		for _, pat := range a.Ex {
			for _, o := range els {
				if o.AI != e.AI && patternMatch(pat, o.AI) {
					return newErr(e.AI, -1, "ex", ErrAssociation, "must not appear together with AI ("+o.AI+")")
				}
			}
		}
	}
	return nil
}

func reqSatisfied(req Requirement, els []Element) bool {
	for _, group := range req {
		all := true
		for _, pat := range group {
			found := false
			for _, o := range els {
				if patternMatch(pat, o.AI) {
					found = true
					break
				}
			}
			if !found {
				all = false
				break
			}
		}
		if all {
			return true
		}
	}
	return false
}

func describeReq(req Requirement) string {
	var alts []string
	for _, g := range req {
		var parts []string
		for _, p := range g {
			parts = append(parts, "("+p+")")
		}
		alts = append(alts, strings.Join(parts, " with "))
	}
	if len(alts) == 1 {
		return alts[0]
	}
	return "one of " + strings.Join(alts, ", ")
}
