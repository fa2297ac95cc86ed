package spool

import (
	"errors"
	"fmt"
	"math"
	"strings"
)

// ErrMalformedZPL is wrapped by CheckZPL's errors about the shape of the
// ZPL: formats that are not closed, nested or missing, and anything
// outside the formats a job may not carry.
var ErrMalformedZPL = errors.New("ZPL is not a sequence of complete label formats")

// ErrTooManyLabels is wrapped by the error of a job that would print more
// than MaxCopies labels.
var ErrTooManyLabels = errors.New("job prints too many labels")

// ZPLCount is what CheckZPL counts in ZPL.
type ZPLCount struct {
	// Formats is the number of ^XA … ^XZ formats.
	Formats int
	// Labels is the number of labels the formats print when the ZPL is
	// sent once: each format's ^PQ quantity (1 without one), summed.
	Labels int
}

// maxCount bounds a count so that it fits an int on 32-bit ARM even when
// multiplied: a count this high is refused anyway.
const maxCount = math.MaxInt32

// CheckZPL refuses ZPL a job may not carry, and counts its formats and the
// labels they print. The ZPL must be one or more complete formats (^XA …
// ^XZ, not nested, in any case and even split by a line break, as the
// printer reads them), ending with ^XZ. Between formats, and before the
// first, only whitespace and ~ commands (downloads such as ~DG) may
// stand: a Link-OS SGD line (! U1 …), a JSON SGD object ({"sgd.get": …}),
// a ^ command or any other text there would run outside the formats,
// reading or changing the printer's settings beyond the job or answering
// on the status connection. CheckCommands' refusals apply too.
//
// A format's quantity is its last ^PQ's first parameter: the printer keeps
// the last value a format gives. ^PQ's replicates parameter repeats a
// serial number across labels of that quantity and adds none. A format
// that stores itself (^DF) is counted as if it printed, so the count errs
// high, never low.
func CheckZPL(zpl string) (ZPLCount, error) {
	if err := CheckCommands(zpl); err != nil {
		return ZPLCount{}, err
	}
	// The printer ignores CR and LF in the command stream; raw keeps the
	// case for messages, up (same offsets) is what is matched.
	raw := strings.NewReplacer("\r", "", "\n", "").Replace(zpl)
	up := asciiUpper(raw)
	var n ZPLCount
	i := 0
	for {
		a := strings.Index(up[i:], "^XA")
		if a < 0 {
			if strings.TrimSpace(raw[i:]) == "" {
				break
			}
			if n.Formats == 0 {
				return ZPLCount{}, fmt.Errorf("%w: no label format: ZPL formats start with ^XA and end with ^XZ", ErrMalformedZPL)
			}
			return ZPLCount{}, fmt.Errorf("%w: %s after the last ^XZ: %s; end the ZPL with ^XZ (nothing may follow the last format)", ErrMalformedZPL, quoteFound(raw[i:]), describeFound(strings.TrimSpace(up[i:])))
		}
		if err := checkBetween(raw[i:i+a], up[i:i+a], n.Formats); err != nil {
			return ZPLCount{}, err
		}
		start := i + a + len("^XA")
		z := strings.Index(up[start:], "^XZ")
		if z < 0 {
			return ZPLCount{}, fmt.Errorf("%w: format %d opens with ^XA and has no ^XZ: close every format, or it swallows the next job", ErrMalformedZPL, n.Formats+1)
		}
		body := up[start : start+z]
		if strings.Contains(body, "^XA") {
			return ZPLCount{}, fmt.Errorf("%w: format %d has a second ^XA before its ^XZ: close every format with ^XZ before the next ^XA", ErrMalformedZPL, n.Formats+1)
		}
		n.Formats++
		n.Labels = min(n.Labels+quantity(body), maxCount)
		i = start + z + len("^XZ")
	}
	if n.Formats == 0 {
		return ZPLCount{}, fmt.Errorf("%w: no label format: ZPL formats start with ^XA and end with ^XZ", ErrMalformedZPL)
	}
	return n, nil
}

// quantity is the number of labels one format prints: the first
// parameter of its last ^PQ, 1 without one or when it is empty or 0 (the
// printer's default). Digits beyond the printer's range still count, so
// such a format is refused rather than taken for one label.
func quantity(body string) int {
	k := strings.LastIndex(body, "^PQ")
	if k < 0 {
		return 1
	}
	p := strings.TrimLeft(body[k+len("^PQ"):], " \t")
	q := 0
	for j := 0; j < len(p) && p[j] >= '0' && p[j] <= '9'; j++ {
		q = min(q*10+int(p[j]-'0'), maxCount)
	}
	return max(q, 1)
}

// checkBetween refuses what stands between two formats (or before the
// first) other than whitespace and ~ commands with plain parameters.
// before is the number of formats before it.
func checkBetween(raw, up string, before int) error {
	where := "before the first ^XA"
	if before > 0 {
		where = fmt.Sprintf("between format %d and format %d", before, before+1)
	}
	refuse := func(at int, after string) error {
		return fmt.Errorf("%w: %s%s %s: %s; outside ^XA … ^XZ a job may carry only whitespace and ~ download commands (such as ~DG): remove it and query or set up the printer outside print jobs", ErrMalformedZPL, quoteFound(raw[at:]), after, where, describeFound(up[at:]))
	}
	for p := 0; p < len(up); {
		c := up[p]
		switch {
		case isSpace(c):
			p++
			continue
		case c != '~':
			return refuse(p, "")
		}
		// A ~ command's parameters and data run to the next prefix. Only
		// the characters of names, numbers, hex, compressed hex and
		// base64 may stand there: a space, quote or brace starts
		// something else (an SGD or JSON command the printer would run
		// once the download's data ends).
		end := len(up)
		if k := strings.IndexAny(up[p+1:], "^~"); k >= 0 {
			end = p + 1 + k
		}
		for q := p + 1; q < end; q++ {
			c := up[q]
			if isDataChar(c) {
				continue
			}
			if isSpace(c) {
				r := q
				for r < end && isSpace(up[r]) {
					r++
				}
				if r == end {
					break
				}
				if up[q-1] == '!' {
					// "! U1": the "!" ends the data and starts an SGD line
					r = q - 1
				}
				return refuse(r, " after the parameters of "+raw[p:min(p+3, end)])
			}
			return refuse(q, " in the parameters of "+raw[p:min(p+3, end)])
		}
		p = end
	}
	return nil
}

// describeFound names the kind of text found outside the formats.
func describeFound(s string) string {
	switch {
	case strings.HasPrefix(s, "!"):
		return "a Link-OS SGD command (! U1 getvar/setvar/do), which reads or changes the printer's settings"
	case strings.HasPrefix(s, "{"):
		return "a JSON SGD command, which reads or changes the printer's settings"
	case strings.HasPrefix(s, "^XZ"):
		return "a ^XZ that closes no format"
	case strings.HasPrefix(s, "^"):
		return "a format command outside a format"
	default:
		return "text outside a format"
	}
}

// quoteFound quotes the start of s for a message.
func quoteFound(s string) string {
	s = strings.TrimSpace(s)
	const most = 40
	if len(s) > most {
		return fmt.Sprintf("%q…", s[:most])
	}
	return fmt.Sprintf("%q", s)
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\f' || c == '\v' }

// isDataChar reports whether c may stand in a ~ command's parameters
// outside a format: names (R:LOGO.GRF), numbers, hex and compressed hex
// (G-Z, g-z, ',', ':', '!'), and base64 with its :Z64: and :B64: marks.
// up is upper case, so letters are A-Z here.
func isDataChar(c byte) bool {
	switch {
	case c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte(",:._-+/=!", c) >= 0
}

// asciiUpper upper-cases ASCII letters only, so that offsets in the result
// are offsets in s whatever bytes s holds.
func asciiUpper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}
