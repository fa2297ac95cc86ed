package gs1

import (
	"strconv"
	"strings"
)

// DefaultDLDomain is the domain DigitalLink uses when given "".
const DefaultDLDomain = "id.gs1.org"

// DigitalLinkOptions relax ParseDigitalLinkWith.
type DigitalLinkOptions struct {
	// AllowZeroSuppressedGTIN accepts a GTIN-8, -12 or -13 in the path and
	// pads it to 14 digits. Off by default: the Digital Link standard wants
	// GTIN-14.
	AllowZeroSuppressedGTIN bool
}

// ParseDigitalLink reads a GS1 Digital Link URI on any domain (and any path
// prefix before the primary key) with default options.
func ParseDigitalLink(uri string) (Message, error) {
	return ParseDigitalLinkWith(uri, DigitalLinkOptions{})
}

type dlSeg struct {
	raw string
	off int
}

// ParseDigitalLinkWith reads a GS1 Digital Link URI: the primary key and its
// key qualifiers (in the dictionary's order) from the path, data attributes
// from the query string. Query parameters that are not AIs (linkType, ...)
// and the fragment are ignored. Error positions are offsets in the URI.
func ParseDigitalLinkWith(uri string, opt DigitalLinkOptions) (Message, error) {
	rest := ""
	off := 0
	switch {
	case len(uri) >= 8 && strings.EqualFold(uri[:8], "https://"):
		off = 8
	case len(uri) >= 7 && strings.EqualFold(uri[:7], "http://"):
		off = 7
	default:
		return Message{}, newErr("", 0, "dl", ErrSyntax, "Digital Link URI must start with https:// or http://")
	}
	rest = uri[off:]
	if h := strings.IndexAny(rest, "#"); h >= 0 {
		rest = rest[:h]
	}
	pathEnd := strings.IndexByte(rest, '?')
	query := ""
	qoff := 0
	if pathEnd >= 0 {
		query = rest[pathEnd+1:]
		qoff = off + pathEnd + 1
		rest = rest[:pathEnd]
	}
	slash := strings.IndexByte(rest, '/')
	if slash <= 0 {
		return Message{}, newErr("", off, "dl", ErrDigitalLink, "Digital Link URI needs a domain and a path with a primary key, e.g. https://id.gs1.org/01/09520123456788")
	}
	// Path segments after the domain.
	var segs []dlSeg
	p := off + slash + 1
	for _, s := range strings.Split(rest[slash+1:], "/") {
		segs = append(segs, dlSeg{raw: s, off: p})
		p += len(s) + 1
	}
	if n := len(segs); n > 0 && segs[n-1].raw == "" {
		segs = segs[:n-1] // trailing slash
	}
	var firstErr error
	for i := 0; i+1 < len(segs); i++ {
		a, ok := Lookup(segs[i].raw)
		if !ok || !a.DLPrimaryKey || (len(segs)-i)%2 != 0 {
			continue
		}
		m, err := readDLPath(a, segs[i:], opt)
		if err == nil {
			return readDLQuery(m, a, query, qoff)
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	if firstErr != nil {
		return Message{}, firstErr
	}
	return Message{}, newErr("", off+slash, "dl", ErrDigitalLink, "no GS1 Digital Link primary key (01, 00, 414, 8003, ...) followed by its value in the URI path")
}

func pctDecode(s string, off int) (string, error) {
	if strings.IndexByte(s, '%') < 0 {
		return s, nil
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '%' {
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				return "", newErr("", off+i, "dl", ErrSyntax, "bad percent-encoding at position "+strconv.Itoa(off+i)+": '%' must be followed by two hex digits")
			}
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
			continue
		}
		b = append(b, c)
	}
	return string(b), nil
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

func readDLPath(key *AI, segs []dlSeg, opt DigitalLinkOptions) (Message, error) {
	els := make([]Element, 0, len(segs)/2+2)
	seqPos := -1 // index into the chosen qualifier alternative
	alt := -1
	for i := 0; i < len(segs); i += 2 {
		a, ok := Lookup(segs[i].raw)
		if !ok {
			return Message{}, newErr(segs[i].raw, segs[i].off, "dl", ErrUnknownAI, "path segment "+strconv.Quote(segs[i].raw)+" is not an AI")
		}
		v, err := pctDecode(segs[i+1].raw, segs[i+1].off)
		if err != nil {
			return Message{}, err
		}
		if v == "" {
			return Message{}, newErr(a.Code, segs[i+1].off, "dl", ErrSyntax, "empty value in the URI path")
		}
		if i == 0 && a.Code == "01" && len(v) != 14 && isDigits(v) && (len(v) == 8 || len(v) == 12 || len(v) == 13) {
			if !opt.AllowZeroSuppressedGTIN {
				return Message{}, newErr(a.Code, segs[i+1].off, "dl", ErrDigitalLink, "zero-suppressed GTIN "+strconv.Quote(v)+" in a Digital Link URI; write it as 14 digits ("+strings.Repeat("0", 14-len(v))+v+")")
			}
			v = strings.Repeat("0", 14-len(v)) + v
		}
		if i > 0 {
			// Qualifier: must follow the dictionary's order within one alternative.
			found := false
			for ai, seq := range key.DLQualifiers {
				if alt >= 0 && ai != alt {
					continue
				}
				start := 0
				if alt == ai {
					start = seqPos + 1
				}
				for k := start; k < len(seq); k++ {
					if seq[k] == a.Code {
						alt, seqPos, found = ai, k, true
						break
					}
				}
				if found {
					break
				}
			}
			if !found {
				return Message{}, newErr(a.Code, segs[i].off, "dl", ErrDigitalLink, "not a key qualifier of ("+key.Code+") at this place; qualifiers must follow the order "+describeQuals(key))
			}
		}
		if err := checkValue(a, v); err != nil {
			err.Pos += segs[i+1].off
			return Message{}, err
		}
		els = add(els, Element{AI: a.Code, Value: v})
		if d := dupAt(els); d >= 0 {
			return Message{}, newErr(a.Code, segs[i].off, "duplicate", ErrDuplicate, "appears twice with different values")
		}
	}
	return Message{Elements: els}, nil
}

func describeQuals(key *AI) string {
	if len(key.DLQualifiers) == 0 {
		return "(none accepted)"
	}
	var alts []string
	for _, seq := range key.DLQualifiers {
		alts = append(alts, "("+strings.Join(seq, ") then (")+")")
	}
	return strings.Join(alts, ", or ")
}

func isQualifierOf(key *AI, ai string) bool {
	for _, seq := range key.DLQualifiers {
		for _, q := range seq {
			if q == ai {
				return true
			}
		}
	}
	return false
}

func readDLQuery(m Message, key *AI, query string, qoff int) (Message, error) {
	p := qoff
	for _, kv := range strings.Split(query, "&") {
		start := p
		p += len(kv) + 1
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		if !isDigits(k) {
			continue // not an AI: linkType, context and other extensions
		}
		a, ok := Lookup(k)
		if !ok {
			return Message{}, newErr(k, start, "ai", ErrUnknownAI, "unknown AI in the query string")
		}
		if a.Code == key.Code || isQualifierOf(key, a.Code) {
			return Message{}, newErr(a.Code, start, "dl", ErrDigitalLink, "key qualifier of ("+key.Code+") given as a query parameter; it belongs in the path in the order "+describeQuals(key))
		}
		if !a.DLAttribute {
			return Message{}, newErr(a.Code, start, "dl", ErrDigitalLink, "not permitted as a Digital Link data attribute")
		}
		val, err := pctDecode(v, start+len(k)+1)
		if err != nil {
			return Message{}, err
		}
		if err := checkValue(a, val); err != nil {
			err.Pos += start + len(k) + 1
			return Message{}, err
		}
		m.Elements = add(m.Elements, Element{AI: a.Code, Value: val})
		if d := dupAt(m.Elements); d >= 0 {
			return Message{}, newErr(a.Code, start, "duplicate", ErrDuplicate, "appears twice with different values "+strconv.Quote(m.Elements[d].Value)+" and "+strconv.Quote(val))
		}
	}
	if err := checkAssociations(m.Elements); err != nil {
		return Message{}, err
	}
	return m, nil
}

// unreserved reports RFC 3986 unreserved characters, which are written as
// they are; every other byte of a value is percent-encoded.
func unreserved(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~'
}

func writeEscaped(b *strings.Builder, v string) {
	const hexd = "0123456789ABCDEF"
	for i := 0; i < len(v); i++ {
		c := v[i]
		if unreserved(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexd[c>>4])
		b.WriteByte(hexd[c&15])
	}
}

// DigitalLink writes the message as a GS1 Digital Link URI: the first
// primary key in the message, then its key qualifiers in the dictionary's
// order in the path, then the other elements as query parameters in message
// order. domain "" means https://id.gs1.org; a domain without a scheme gets
// https://; a path prefix ("example.com/dl") is kept. Values are
// percent-encoded except for RFC 3986 unreserved characters. The message is
// not validated here: call Validate first.
func (m Message) DigitalLink(domain string) (string, error) {
	var key *AI
	ki := -1
	for i, e := range m.Elements {
		if a, ok := Lookup(e.AI); ok && a.DLPrimaryKey {
			key, ki = a, i
			break
		}
	}
	if key == nil {
		return "", newErr("", -1, "dl", ErrDigitalLink, "no Digital Link primary key in the message (needs one of 00, 01, 253, 255, 401, 402, 414, 415, 417, 8003, 8004, 8006, 8010, 8013, 8017, 8018)")
	}
	// Choose the qualifier alternative that holds every qualifier present.
	alt := -1
	for ai, seq := range key.DLQualifiers {
		ok := true
		for i, e := range m.Elements {
			if i != ki && isQualifierOf(key, e.AI) && !contains(seq, e.AI) {
				ok = false
				break
			}
		}
		if ok {
			alt = ai
			break
		}
	}
	if alt < 0 && len(key.DLQualifiers) > 0 {
		return "", newErr(key.Code, -1, "dl", ErrDigitalLink, "key qualifiers present cannot be combined; ("+key.Code+") accepts "+describeQuals(key))
	}
	for i := 0; i < len(domain); i++ {
		if c := domain[i]; c <= ' ' || c >= 0x7f || c == '?' || c == '#' || c == '"' || c == '<' || c == '>' || c == '\\' {
			return "", newErr("", i, "dl", ErrSyntax, "Digital Link domain "+strconv.Quote(domain)+" has "+quoteChar(domain, i)+" at position "+charPos(domain, i)+"; give a host name with an optional path, e.g. id.example.com/dl")
		}
	}
	var b strings.Builder
	b.Grow(64 + 8*len(m.Elements))
	switch {
	case domain == "":
		b.WriteString("https://" + DefaultDLDomain)
	case hasHTTPPrefix(domain):
		b.WriteString(strings.TrimRight(domain, "/"))
	default:
		b.WriteString("https://")
		b.WriteString(strings.TrimRight(domain, "/"))
	}
	b.WriteByte('/')
	b.WriteString(key.Code)
	b.WriteByte('/')
	writeEscaped(&b, m.Elements[ki].Value)
	if alt >= 0 {
		for _, q := range key.DLQualifiers[alt] {
			for i, e := range m.Elements {
				if i != ki && e.AI == q {
					b.WriteByte('/')
					b.WriteString(q)
					b.WriteByte('/')
					writeEscaped(&b, e.Value)
					break
				}
			}
		}
	}
	sep := byte('?')
	for i, e := range m.Elements {
		if i == ki || isQualifierOf(key, e.AI) {
			continue
		}
		a, ok := Lookup(e.AI)
		if !ok {
			return "", newErr(e.AI, -1, "ai", ErrUnknownAI, "unknown AI")
		}
		if !a.DLAttribute {
			return "", newErr(e.AI, -1, "dl", ErrDigitalLink, "cannot be carried in a Digital Link URI: it is neither a key qualifier of ("+key.Code+") nor a data attribute")
		}
		b.WriteByte(sep)
		sep = '&'
		b.WriteString(e.AI)
		b.WriteByte('=')
		writeEscaped(&b, e.Value)
	}
	return b.String(), nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
