package epc

import "github.com/dockgate/dockgate/encoder/gs1"

// Encoders of the TDS 2.0 '+' schemes. They store the GS1 key's digits
// directly, so they need no company prefix length.

// NewSGTINPlus encodes an SGTIN+ from a GTIN and a serial of 1–20
// characters of GS1 character set 82.
func NewSGTINPlus(filter int, gtin, serial string) (EPC, error) {
	return encodePlus(plusIn{s: SGTINPlus, filter: filter, key: gtin, tail: serial})
}

// NewDSGTINPlus encodes a DSGTIN+: an SGTIN with a date (YYMMDD, DD may be
// 00 for AIs 11–17) of the given type.
func NewDSGTINPlus(filter int, dateType DateType, yymmdd, gtin, serial string) (EPC, error) {
	return encodePlus(plusIn{s: DSGTINPlus, filter: filter, key: gtin, tail: serial, dt: dateType, date: yymmdd})
}

// NewSSCCPlus encodes an SSCC+ from an 18-digit SSCC.
func NewSSCCPlus(filter int, sscc string) (EPC, error) {
	return encodePlus(plusIn{s: SSCCPlus, filter: filter, key: sscc})
}

// NewSGLNPlus encodes an SGLN+ from a 13-digit GLN and an extension of 1–20
// characters; "" or "0" for none.
func NewSGLNPlus(filter int, gln, extension string) (EPC, error) {
	return encodePlus(plusIn{s: SGLNPlus, filter: filter, key: gln, tail: extension})
}

// NewGRAIPlus encodes a GRAI+ from a GRAI (13 digits, or the AI (8003)
// value with its leading 0 and serial) and a serial of 1–16 characters.
func NewGRAIPlus(filter int, grai, serial string) (EPC, error) {
	return encodePlus(plusIn{s: GRAIPlus, filter: filter, key: grai, tail: serial})
}

// NewGIAIPlus encodes a GIAI+ from a GIAI (AI (8004), up to 30 characters).
func NewGIAIPlus(filter int, giai string) (EPC, error) {
	return encodePlus(plusIn{s: GIAIPlus, filter: filter, key: giai})
}

// NewGSRNPlus encodes a GSRN+ from an 18-digit GSRN.
func NewGSRNPlus(filter int, gsrn string) (EPC, error) {
	return encodePlus(plusIn{s: GSRNPlus, filter: filter, key: gsrn})
}

// NewGDTIPlus encodes a GDTI+ from a GDTI (13 digits, or the AI (253)
// value with its serial) and a serial of 1–17 characters.
func NewGDTIPlus(filter int, gdti, serial string) (EPC, error) {
	return encodePlus(plusIn{s: GDTIPlus, filter: filter, key: gdti, tail: serial})
}

// plusIn is what a '+' EPC is encoded from.
type plusIn struct {
	s      Scheme
	filter int
	key    string // the GS1 key (GTIN, SSCC, GLN, GRAI, GIAI, GSRN, GDTI)
	tail   string // serial or extension
	dt     DateType
	date   string
	enc    int  // the tail's encoding indicator, when forced
	forced bool // enc and split are the ones to use, not the shortest
	split  int  // GIAI+: leading digits written as 4-bit digits, when forced
	aidc   []gs1.Element
	// '++' schemes: the hostname, as text or as the bits of an EPC
	// (host, from hostFrom) to copy so the same encoding is kept.
	hostname string
	host     *EPC
	hostFrom int
}

// newPlus encodes a '+' scheme without +AIDC data; enc is the serial's
// encoding indicator, or -1 for the one that takes the fewest bits.
func newPlus(s Scheme, filter int, key, serial string, dt DateType, date string, enc int) (EPC, error) {
	return encodePlus(plusIn{s: s, filter: filter, key: key, tail: serial, dt: dt, date: date, enc: enc, forced: enc >= 0})
}

// plusKey checks and normalises the key of a '+' scheme and splits a serial
// given inside it (AI 8003, AI 253) from it.
func plusKey(in *plusIn) (string, error) {
	s, sp := in.s, &plusSpecs[in.s.base()]
	switch s.base() {
	case SGTINPlus, DSGTINPlus:
		return normalizeKey(s, "gtin", in.key, 14, 13, 12, 8)
	case GRAIPlus:
		g := in.key
		if len(g) > 13 && g[0] == '0' {
			if len(g) > 14 {
				if in.tail != "" {
					return "", newErr(s, "grai", g, ErrGS1, "give the serial either inside the AI (8003) value or separately, not both")
				}
				in.tail = g[14:]
			}
			g = g[1:14]
		}
		k, err := normalizeKey(s, "grai", g, 13)
		return "0" + k, err
	case GDTIPlus:
		g := in.key
		if len(g) > 13 {
			if in.tail != "" {
				return "", newErr(s, "gdti", g, ErrGS1, "give the serial either inside the AI (253) value or separately, not both")
			}
			g, in.tail = g[:13], g[13:]
		}
		return normalizeKey(s, "gdti", g, 13)
	case GIAIPlus:
		if len(in.key) > 30 {
			return "", newErr(s, "giai", in.key, ErrRange, "has more than 30 characters")
		}
		if err := gs1.ValidateValue("8004", in.key); err != nil {
			return "", newErr(s, "giai", in.key, ErrGS1, err.Error())
		}
		return in.key, nil
	}
	return normalizeKey(s, sp.keyField, in.key, sp.keyDigits)
}

// encodePlus encodes a '+' scheme followed by its +AIDC data.
func encodePlus(in plusIn) (EPC, error) {
	s := in.s
	if !s.Plus() {
		return EPC{}, newErr(s, "scheme", s.String(), ErrScheme, "is not a '+' scheme")
	}
	sp := &plusSpecs[s.base()]
	if err := checkFilter(s, in.filter); err != nil {
		return EPC{}, err
	}
	if !in.forced {
		in.enc, in.split = -1, -1
	}
	k, err := plusKey(&in)
	if err != nil {
		return EPC{}, err
	}
	var w writer
	w.put(uint64(s.Header()), 8)
	if len(in.aidc) > 0 {
		w.put(1, 1) // +AIDC data follows
	} else {
		w.put(0, 1)
	}
	w.put(uint64(in.filter), 3)
	if s.base() == DSGTINPlus {
		if in.dt >= numDateTypes {
			return EPC{}, newErr(s, "date type", itoa(uint64(in.dt)), ErrDate, "date types are 0–6")
		}
		d, err := packDate(s, in.date, in.dt)
		if err != nil {
			return EPC{}, err
		}
		w.put(uint64(in.dt), 4)
		w.put(uint64(d), 16)
	}
	if s.base() == GIAIPlus {
		if err := putDelimited(&w, k, in.split, in.enc); err != nil {
			return EPC{}, err
		}
	} else {
		for i := 0; i < len(k); i++ {
			w.put(uint64(k[i]-'0'), 4)
		}
	}
	if sp.tailField != "" {
		t := in.tail
		if s.base() == SGLNPlus && t == "" {
			t = "0"
		}
		if err := putAlnum(&w, s, sp.tailField, t, sp.tailMax, in.enc); err != nil {
			return EPC{}, err
		}
	}
	if s.PlusPlus() {
		if err := putHostname(&w, in); err != nil {
			return EPC{}, err
		}
	}
	if err := putAIDC(&w, s, plusOwnAIs(s, in.dt), in.aidc); err != nil {
		return EPC{}, err
	}
	if w.err {
		return EPC{}, newErr(s, "bit length", "", ErrLength, "the EPC (with its hostname and +AIDC data) takes more than the 496 bits of an EPC bank")
	}
	return Decode(w.raw[:(w.n+15)/16*2], w.n)
}

// putDelimited writes a GIAI+ value: its first split characters (all its
// leading digits when split is -1) as 4-bit digits, then a terminator, or
// a delimiter and the rest as alphanumeric data with encoding enc.
func putDelimited(w *writer, v string, split, enc int) error {
	if split < 0 || split > len(v) {
		split = 0
		for split < len(v) && v[split] >= '0' && v[split] <= '9' {
			split++
		}
	}
	for i := 0; i < split; i++ {
		if v[i] < '0' || v[i] > '9' {
			return newErr(GIAIPlus, "giai", v, ErrDigits, "the 4-bit part must be digits")
		}
		w.put(uint64(v[i]-'0'), 4)
	}
	if split == len(v) {
		w.put(15, 4)
		return nil
	}
	w.put(14, 4)
	return putAlnumLen(w, GIAIPlus, "giai", v[split:], 5, 30-split, enc, false)
}

// packDate packs YYMMDD into YY 7 bits, MM 4 bits, DD 5 bits.
func packDate(s Scheme, v string, dt DateType) (uint16, error) {
	if len(v) != 6 || !allDigits(v) {
		return 0, newErr(s, "date", v, ErrDate, "must be 6 digits YYMMDD")
	}
	yy, mm, dd := parseDigits(v[:2]), parseDigits(v[2:4]), parseDigits(v[4:])
	d := uint16(yy<<9 | mm<<5 | dd)
	if mm > 15 || dd > 31 {
		return 0, newErr(s, "date", v, ErrDate, "is not a valid YYMMDD date")
	}
	return d, checkPackedDate(s, d, dt)
}

// putAlnum writes the serial of a '+' scheme: TDS §14.5.6
// variable-length alphanumeric data with a 5-bit length, CSET 82 only.
func putAlnum(w *writer, s Scheme, field, v string, maxChars, enc int) error {
	if err := checkCSET82(s, field, v, maxChars); err != nil {
		return err
	}
	return putAlnumLen(w, s, field, v, 5, maxChars, enc, false)
}

// putAlnumLen writes TDS §14.5.6 variable-length alphanumeric data with a
// lenBits-bit length and encoding indicator enc, or the encoding that
// takes the fewest bits (the lowest indicator on a tie) when enc is -1.
// 7-bit characters are CSET 82, and '#' when hash is set.
func putAlnumLen(w *writer, s Scheme, field, v string, lenBits, maxChars, enc int, hash bool) error {
	n := len(v)
	// The characters first: n counts bytes, which are characters only in
	// CSET 82.
	for i := 0; i < n; i++ {
		if !inCSET82(v[i]) && !(hash && v[i] == '#') {
			return newErr(s, field, v, ErrCharset, "character "+quoteChar(v, i)+" cannot be encoded")
		}
	}
	if n == 0 || n > maxChars {
		return newErr(s, field, v, ErrSerial, "must have 1–"+itoa(uint64(maxChars))+" characters")
	}
	best, bestBits := encASCII7, 7*n
	try := func(ind, nb int, ok bool) {
		if ok && (nb < bestBits || nb == bestBits && ind < best) {
			best, bestBits = ind, nb
		}
	}
	try(encNumeric, int(numericBits[n]), allDigits(v))
	try(encUpperHex, 4*n, allIn(v, alphaUpper))
	try(encLowerHex, 4*n, allIn(v, alphaLower))
	try(encBase64, 6*n, allIn(v, alphaBase64))
	try(encCode40, 16*((n+2)/3), allIn(v, alphaCode40[1:]))
	if enc >= 0 {
		best, bestBits = enc, alnumBits(enc, n)
		if !alnumFits(enc, v) {
			return newErr(s, field, v, ErrCharset, "cannot be written with encoding indicator "+itoa(uint64(enc)))
		}
	}
	w.put(uint64(best), 3)
	w.put(uint64(n), lenBits)
	switch best {
	case encNumeric:
		putNumber(w, v, bestBits)
	case encUpperHex, encLowerHex:
		for i := 0; i < n; i++ {
			w.put(uint64(hexVal[v[i]]), 4)
		}
	case encBase64:
		for i := 0; i < n; i++ {
			w.put(uint64(indexByte(alphaBase64, v[i])), 6)
		}
	case encASCII7:
		for i := 0; i < n; i++ {
			w.put(uint64(v[i]), 7)
		}
	case encCode40:
		for i := 0; i < n; i += 3 {
			var t [3]uint64
			for j := 0; j < 3 && i+j < n; j++ {
				t[j] = uint64(indexByte(alphaCode40, v[i+j]))
			}
			w.put(1600*t[0]+40*t[1]+t[2]+1, 16)
		}
	}
	return nil
}

func alnumBits(enc, n int) int {
	switch enc {
	case encNumeric:
		return int(numericBits[n])
	case encUpperHex, encLowerHex:
		return 4 * n
	case encBase64:
		return 6 * n
	case encCode40:
		return 16 * ((n + 2) / 3)
	}
	return 7 * n
}

func alnumFits(enc int, v string) bool {
	switch enc {
	case encNumeric:
		return allDigits(v)
	case encUpperHex:
		return allIn(v, alphaUpper)
	case encLowerHex:
		return allIn(v, alphaLower)
	case encBase64:
		return allIn(v, alphaBase64)
	case encCode40:
		return allIn(v, alphaCode40[1:])
	case encASCII7:
		return true
	}
	return false
}

func allIn(v, alphabet string) bool {
	for i := 0; i < len(v); i++ {
		if indexByte(alphabet, v[i]) < 0 {
			return false
		}
	}
	return true
}

func indexByte(s string, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
}

// digits128 parses up to 38 decimal digits into a 128-bit value.
func digits128(v string) (hi, lo uint64) {
	for i := 0; i < len(v); i++ {
		h1, l1 := mul10(hi, lo)
		var c uint64
		lo, c = add64(l1, uint64(v[i]-'0'))
		hi = h1 + c
	}
	return hi, lo
}
