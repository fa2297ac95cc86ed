package epc

import "github.com/dockgate/dockgate/encoder/gs1"

// Encoders of the TDS 2.0 '+' schemes. They store the GS1 key's digits
// directly, so they need no company prefix length.

// NewSGTINPlus encodes an SGTIN+ from a GTIN and a serial of 1–20
// characters of GS1 character set 82.
func NewSGTINPlus(filter int, gtin, serial string) (EPC, error) {
	return newPlus(SGTINPlus, filter, gtin, serial, 0, "", -1)
}

// NewDSGTINPlus encodes a DSGTIN+: an SGTIN with a date (YYMMDD, DD may be
// 00) of the given type.
func NewDSGTINPlus(filter int, dateType DateType, yymmdd, gtin, serial string) (EPC, error) {
	return newPlus(DSGTINPlus, filter, gtin, serial, dateType, yymmdd, -1)
}

// NewSSCCPlus encodes an SSCC+ from an 18-digit SSCC.
func NewSSCCPlus(filter int, sscc string) (EPC, error) {
	return newPlus(SSCCPlus, filter, sscc, "", 0, "", -1)
}

// newPlus encodes a '+' scheme without +AIDC data; enc is the serial's
// encoding indicator, or -1 for the one that takes the fewest bits.
func newPlus(s Scheme, filter int, key, serial string, dt DateType, date string, enc int) (EPC, error) {
	return encodePlus(s, filter, key, serial, dt, date, enc, nil)
}

// encodePlus encodes a '+' scheme followed by the +AIDC data aidc.
func encodePlus(s Scheme, filter int, key, serial string, dt DateType, date string, enc int, aidc []gs1.Element) (EPC, error) {
	if err := checkFilter(s, filter); err != nil {
		return EPC{}, err
	}
	var k string
	var err error
	if s == SSCCPlus {
		k, err = normalizeKey(s, "sscc", key, 18)
	} else {
		k, err = normalizeKey(s, "gtin", key, 14, 13, 12, 8)
	}
	if err != nil {
		return EPC{}, err
	}
	var w writer
	w.put(uint64(s.Header()), 8)
	if len(aidc) > 0 {
		w.put(1, 1) // +AIDC data follows
	} else {
		w.put(0, 1)
	}
	w.put(uint64(filter), 3)
	if s == DSGTINPlus {
		if dt >= numDateTypes {
			return EPC{}, newErr(s, "date type", itoa(uint64(dt)), ErrDate, "date types are 0–6")
		}
		d, err := packDate(s, date, dt)
		if err != nil {
			return EPC{}, err
		}
		w.put(uint64(dt), 4)
		w.put(uint64(d), 16)
	}
	for i := 0; i < len(k); i++ {
		w.put(uint64(k[i]-'0'), 4)
	}
	if s != SSCCPlus {
		if err := putAlnum(&w, s, "serial", serial, 20, enc); err != nil {
			return EPC{}, err
		}
	}
	if err := putAIDC(&w, s, plusOwnAIs(s, dt), aidc); err != nil {
		return EPC{}, err
	}
	if w.err {
		return EPC{}, newErr(s, "+AIDC data", "", ErrLength, "the EPC and its +AIDC data take more than 496 bits")
	}
	return Decode(w.raw[:(w.n+15)/16*2], w.n)
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
	if n == 0 || n > maxChars {
		return newErr(s, field, v, ErrSerial, "must have 1–"+itoa(uint64(maxChars))+" characters")
	}
	for i := 0; i < n; i++ {
		if !inCSET82(v[i]) && !(hash && v[i] == '#') {
			return newErr(s, field, v, ErrCharset, "character "+quoteByte(v[i])+" cannot be encoded")
		}
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
