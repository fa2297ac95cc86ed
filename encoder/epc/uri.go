package epc

import (
	"math/big"
	"strings"
)

// appendBody appends the fields of the pure identity URI after its scheme
// name: company prefix, reference and serial, separated by dots.
func (e *EPC) appendBody(dst []byte) []byte {
	r := e.row()
	L := &layouts[e.scheme]
	dst = appendPadded(dst, e.cp, int(r.cpDigits))
	dst = append(dst, '.')
	if L.family == famGIAI {
		return appendURIEscaped(dst, e.assetRef())
	}
	dst = appendPadded(dst, e.ref, int(r.refDigits))
	switch L.tail {
	case tailInteger:
		dst = append(dst, '.')
		dst = appendPadded(dst, e.serial, 1)
	case tailString:
		dst = append(dst, '.')
		dst = appendURIEscaped(dst, string(e.str[:e.strLen]))
	}
	return dst
}

// PureURI returns the pure identity URI, urn:epc:id:sgtin:0614141.812345.6789;
// the raw URI for a raw EPC; "" for a '+' scheme, whose canonical form is
// the GS1 Digital Link URI.
func (e EPC) PureURI() string {
	switch {
	case e.scheme == SchemeRaw:
		return e.RawURI()
	case e.scheme.Plus():
		return ""
	}
	var buf [96]byte
	dst := append(buf[:0], "urn:epc:id:"...)
	dst = append(dst, e.scheme.identity()...)
	dst = append(dst, ':')
	return string(e.appendBody(dst))
}

// TagURI returns the EPC tag URI, urn:epc:tag:sgtin-96:3.0614141.812345.6789;
// the raw URI for a raw EPC; "" for a '+' scheme.
func (e EPC) TagURI() string {
	switch {
	case e.scheme == SchemeRaw:
		return e.RawURI()
	case e.scheme.Plus():
		return ""
	}
	var buf [112]byte
	dst := append(buf[:0], "urn:epc:tag:"...)
	dst = append(dst, e.scheme.String()...)
	dst = append(dst, ':', '0'+e.filter, '.')
	return string(e.appendBody(dst))
}

// RawURI returns the raw form of the bits, urn:epc:raw:96.x3074257BF7194E4000001A85,
// whatever the scheme.
func (e EPC) RawURI() string {
	return "urn:epc:raw:" + itoa(uint64(e.nbits)) + ".x" + e.Hex()
}

// ParseURI parses an EPC tag URI (urn:epc:tag:…), a pure identity URI
// (urn:epc:id:…) or a raw URI (urn:epc:raw:<bits>.x<hex> or .<decimal>);
// the bits of a raw URI are decoded as [Decode] does, and stay a raw EPC
// when they are no valid GS1 scheme.
//
// A pure identity URI names no binary scheme and no filter: ParseURI picks
// the 96-bit scheme when the serial fits it and the longer one otherwise
// (SGTIN-198, SGLN-195, GRAI-170, GIAI-202), with filter 0. Use
// [ParsePureURI] to choose them.
func ParseURI(s string) (EPC, error) {
	const (
		tag = "urn:epc:tag:"
		id  = "urn:epc:id:"
		raw = "urn:epc:raw:"
	)
	switch {
	case hasPrefixFold(s, tag):
		rest := s[len(tag):]
		name, body, ok := strings.Cut(rest, ":")
		if !ok {
			return EPC{}, uriErr(s, "missing ':' after the scheme")
		}
		sch, err := ParseScheme(name)
		if err != nil || sch.Plus() {
			return EPC{}, uriErr(s, "unknown tag URI scheme "+quote(name))
		}
		fs, body, ok := strings.Cut(body, ".")
		if !ok || len(fs) != 1 || fs[0] < '0' || fs[0] > '7' {
			return EPC{}, newErr(sch, "filter", fs, ErrFilter, "the tag URI must start with a filter value 0–7 and a '.'")
		}
		return fromURIBody(sch, int(fs[0]-'0'), body, s)
	case hasPrefixFold(s, id):
		return ParsePureURI(s, SchemeRaw, 0)
	case hasPrefixFold(s, raw):
		return parseRawURI(s, s[len(raw):])
	}
	return EPC{}, uriErr(s, "an EPC URI starts with urn:epc:tag:, urn:epc:id: or urn:epc:raw:")
}

// ParsePureURI parses a pure identity URI into the binary scheme s with the
// given filter. s SchemeRaw picks the scheme as [ParseURI] does.
func ParsePureURI(uri string, s Scheme, filter int) (EPC, error) {
	const id = "urn:epc:id:"
	if !hasPrefixFold(uri, id) {
		return EPC{}, uriErr(uri, "a pure identity URI starts with urn:epc:id:")
	}
	name, body, ok := strings.Cut(uri[len(id):], ":")
	if !ok {
		return EPC{}, uriErr(uri, "missing ':' after the scheme")
	}
	var fam family
	for f := famSGTIN; f <= famGSRN; f++ {
		if equalFoldASCII(f.String(), name) {
			fam = f
		}
	}
	if fam == famNone {
		return EPC{}, uriErr(uri, "unknown pure identity scheme "+quote(name)+"; known are sgtin, sscc, sgln, grai, giai, gdti, gsrn")
	}
	if s != SchemeRaw {
		if layouts[s].family != fam || s.Plus() {
			return EPC{}, newErr(s, "scheme", s.String(), ErrScheme, "does not encode urn:epc:id:"+fam.String())
		}
		return fromURIBody(s, filter, body, uri)
	}
	short, long := shortLong(fam)
	e, err := fromURIBody(short, filter, body, uri)
	if err != nil && long != SchemeRaw && isSerialTooBig(err) {
		return fromURIBody(long, filter, body, uri)
	}
	return e, err
}

func shortLong(f family) (Scheme, Scheme) {
	switch f {
	case famSGTIN:
		return SGTIN96, SGTIN198
	case famSSCC:
		return SSCC96, SchemeRaw
	case famSGLN:
		return SGLN96, SGLN195
	case famGRAI:
		return GRAI96, GRAI170
	case famGIAI:
		return GIAI96, GIAI202
	case famGDTI:
		return GDTI96, SchemeRaw
	}
	return GSRN96, SchemeRaw
}

// isSerialTooBig reports whether err is the 96-bit scheme refusing a serial
// (or GIAI asset reference) the longer scheme may take.
func isSerialTooBig(err error) bool {
	var e *Error
	if !asError(err, &e) {
		return false
	}
	return e.Field == "serial" || e.Field == "extension" || e.Field == "asset reference"
}

func asError(err error, target **Error) bool {
	e, ok := err.(*Error)
	if ok {
		*target = e
	}
	return ok
}

// fromURIBody parses "cp.ref.tail" (or "cp.assetref" for GIAI) and encodes it.
func fromURIBody(s Scheme, filter int, body, uri string) (EPC, error) {
	L := &layouts[s]
	want := 3
	if L.tail == tailNone || L.tail == tailReserved {
		want = 2
	}
	// Only the last field may hold dots: serials, extensions and GIAI
	// asset references allow '.' unescaped.
	parts := strings.SplitN(body, ".", want)
	if len(parts) != want {
		return EPC{}, uriErr(uri, s.identity()+" needs "+itoa(uint64(want))+" dot-separated fields: "+uriShape(L.family))
	}
	var f fields
	f.cp = parts[0]
	if L.family == famGIAI {
		ref, err := unescape(parts[1])
		if err != nil {
			return EPC{}, newErr(s, "asset reference", parts[1], ErrURI, err.Error())
		}
		f.ref = ref
	} else {
		f.ref = parts[1]
	}
	if want == 3 {
		t, err := unescape(parts[2])
		if err != nil {
			return EPC{}, newErr(s, L.tailField, parts[2], ErrURI, err.Error())
		}
		f.tail = t
	}
	return build(s, filter, f)
}

func parseRawURI(uri, rest string) (EPC, error) {
	ns, hx, ok := strings.Cut(rest, ".")
	if !ok || hx == "" {
		return EPC{}, uriErr(uri, "a raw URI is urn:epc:raw:<bits>.x<hex> (or .<decimal>)")
	}
	n := 0
	for i := 0; i < len(ns); i++ {
		if ns[i] < '0' || ns[i] > '9' || n > MaxBits {
			return EPC{}, uriErr(uri, "the bit length must be a number 1–496")
		}
		n = n*10 + int(ns[i]-'0')
	}
	if hx[0] != 'x' && hx[0] != 'X' {
		// TDS §12.3.3: the value may be written as a decimal number.
		if !allDigits(hx) || n == 0 || n > MaxBits {
			return EPC{}, uriErr(uri, "a raw URI is urn:epc:raw:<bits>.x<hex> or urn:epc:raw:<bits>.<decimal>, bits 1–496")
		}
		v, _ := new(big.Int).SetString(hx, 10)
		if v.BitLen() > n {
			return EPC{}, uriErr(uri, "the decimal value has more than the "+itoa(uint64(n))+" bits given")
		}
		b := v.FillBytes(make([]byte, (n+7)/8))
		v.Lsh(v, uint(len(b)*8-n))
		e, err := NewRaw(v.FillBytes(b), n)
		return rawOrDecoded(e), err
	}
	hx = hx[1:]
	if n == 0 || n > MaxBits || len(hx) != (n+3)/4 {
		return EPC{}, uriErr(uri, "the bit length must be 1–496 and match the number of hex digits")
	}
	var e EPC
	for i := 0; i < len(hx); i++ {
		v := hexVal[hx[i]]
		if v == 0xFF {
			return EPC{}, newErr(SchemeRaw, "hex", hx, ErrHex, "character "+quoteChar(hx, i)+" is not a hexadecimal digit")
		}
		if i%2 == 0 {
			e.raw[i/2] = v << 4
		} else {
			e.raw[i/2] |= v
		}
	}
	if n%8 != 0 && e.raw[(n-1)/8]&(0xFF>>(n%8)) != 0 {
		return EPC{}, newErr(SchemeRaw, "hex", hx, ErrPadding, "the hex digits carry bits past the bit length")
	}
	e.nbits = uint16(n)
	return rawOrDecoded(e), nil
}

// rawOrDecoded returns the EPC the bits of the raw EPC e decode to, or e
// when they decode to none: a raw URI of a valid SGTIN-96 is that SGTIN.
func rawOrDecoded(e EPC) EPC {
	if d, err := Decode(e.raw[:(e.nbits+7)/8], int(e.nbits)); err == nil {
		return d
	}
	return e
}

func uriShape(f family) string {
	switch f {
	case famSGTIN:
		return "company prefix, indicator and item reference, serial"
	case famSSCC:
		return "company prefix, extension digit and serial reference"
	case famSGLN:
		return "company prefix, location reference, extension"
	case famGRAI:
		return "company prefix, asset type, serial"
	case famGIAI:
		return "company prefix, individual asset reference"
	case famGDTI:
		return "company prefix, document type, serial"
	}
	return "company prefix, service reference"
}

func uriErr(uri, rule string) error { return newErr(SchemeRaw, "URI", uri, ErrURI, rule) }

func quote(s string) string { return "\"" + s + "\"" }

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && equalFoldASCII(s[:len(prefix)], prefix)
}

// unescape undoes %XX escapes.
func unescape(s string) (string, error) {
	if strings.IndexByte(s, '%') < 0 {
		return s, nil
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b = append(b, s[i])
			continue
		}
		if i+2 >= len(s) || hexVal[s[i+1]] == 0xFF || hexVal[s[i+2]] == 0xFF {
			return "", errString("'%' must be followed by two hex digits")
		}
		b = append(b, hexVal[s[i+1]]<<4|hexVal[s[i+2]])
		i += 2
	}
	return string(b), nil
}

type errString string

func (e errString) Error() string { return string(e) }
