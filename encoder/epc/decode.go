package epc

import (
	"encoding/binary"
	"math/big"
	"math/bits"

	"github.com/dockgate/dockgate/encoder/gs1"
)

// Decode decodes the first bitLen bits of b, most significant bit first, as
// an EPC reader delivers them (LLRP EPCData, or the EPC bank after the PC
// word). bitLen 0 means all of b. Bits past a scheme's length are ignored
// (TDS §14.4: word padding, or the rest of a larger EPC bank). A header that is not a GS1 scheme gives a
// raw EPC and no error; a GS1 header whose fields break the TDS rules gives
// an error (use [NewRaw] to keep such a read as a raw EPC).
func Decode(b []byte, bitLen int) (e EPC, err error) {
	if bitLen == 0 {
		bitLen = len(b) * 8
	}
	if bitLen <= 0 || bitLen > len(b)*8 {
		return EPC{}, newErr(SchemeRaw, "bit length", itoa(uint64(max(bitLen, 0))), ErrLength,
			"must be between 1 and the "+itoa(uint64(len(b)*8))+" bits given")
	}
	if bitLen > MaxBits {
		return EPC{}, newErr(SchemeRaw, "bit length", itoa(uint64(bitLen)), ErrLength,
			"an EPC has at most 496 bits")
	}
	n := (bitLen + 7) / 8
	copy(e.raw[:n], b)
	if r := bitLen % 8; r != 0 {
		e.raw[n-1] &= 0xFF << (8 - r)
	}
	e.nbits = uint16(bitLen)
	if err = e.parse(); err != nil {
		return EPC{}, err
	}
	return e, nil
}

var hexVal = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xFF
	}
	for i := byte(0); i < 10; i++ {
		t['0'+i] = i
	}
	for i := byte(0); i < 6; i++ {
		t['A'+i] = 10 + i
		t['a'+i] = 10 + i
	}
	return t
}()

// DecodeHex decodes an EPC written in hexadecimal (either case, optional
// "0x"), 4 bits per digit, as [Decode] does.
func DecodeHex(s string) (e EPC, err error) {
	if len(s) >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') {
		s = s[2:]
	}
	if len(s) == 0 {
		return EPC{}, newErr(SchemeRaw, "hex", "", ErrHex, "empty; give the EPC as hexadecimal digits, e.g. 3074257BF7194E4000001A85")
	}
	if len(s)*4 > MaxBits {
		return EPC{}, newErr(SchemeRaw, "hex", s, ErrLength, "an EPC has at most 496 bits (124 hex digits)")
	}
	// Two digits a byte; invalid digits (0xFF) are collected in bad and
	// looked for only when there is one.
	var bad byte
	n := len(s) / 2
	for i := 0; i < n; i++ {
		hi, lo := hexVal[s[2*i]], hexVal[s[2*i+1]]
		bad |= hi | lo
		e.raw[i] = hi<<4 | lo
	}
	if len(s)%2 == 1 {
		v := hexVal[s[len(s)-1]]
		bad |= v
		e.raw[n] = v << 4
	}
	if bad > 15 {
		for i := 0; i < len(s); i++ {
			if hexVal[s[i]] == 0xFF {
				return EPC{}, newErr(SchemeRaw, "hex", s, ErrHex,
					"character "+quoteChar(s, i)+" at position "+itoa(uint64(charPos(s, i)+1))+" is not a hexadecimal digit")
			}
		}
	}
	e.nbits = uint16(len(s) * 4)
	if err = e.parse(); err != nil {
		return EPC{}, err
	}
	return e, nil
}

// NewRaw returns the first bitLen bits of b as a raw EPC, whatever the
// header says.
func NewRaw(b []byte, bitLen int) (EPC, error) {
	if bitLen <= 0 || bitLen > len(b)*8 || bitLen > MaxBits {
		return EPC{}, newErr(SchemeRaw, "bit length", itoa(uint64(max(bitLen, 0))), ErrLength,
			"must be between 1 and the bits given, at most 496")
	}
	var e EPC
	n := (bitLen + 7) / 8
	copy(e.raw[:n], b)
	if r := bitLen % 8; r != 0 {
		e.raw[n-1] &= 0xFF << (8 - r)
	}
	e.nbits = uint16(bitLen)
	return e, nil
}

// parse fills the fields from e.raw and e.nbits.
func (e *EPC) parse() error {
	if e.nbits < 8 {
		return nil // too short for a header: raw
	}
	s := byHeader[e.raw[0]]
	switch {
	case s == SchemeRaw:
		return nil
	case s.Plus():
		return e.parsePlus(s)
	default:
		return e.parsePartitioned(s)
	}
}

var pow10 = [20]uint64{1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19}

func (e *EPC) parsePartitioned(s Scheme) error {
	L := &layouts[s]
	have := int(e.nbits)
	if have < L.bits {
		return newErr(s, "bit length", itoa(uint64(have)), ErrLength,
			s.String()+" has "+itoa(uint64(L.bits))+" bits; give the whole EPC (as many words as the tag's PC word says)")
	}
	// TDS §14.4 step 3: bits past the scheme's length are word padding
	// (or whatever a larger EPC bank holds); they are not part of the EPC.
	if have > L.bits {
		e.clear(L.bits)
	}
	// Every integer field of these schemes lies in the first 96 bits.
	hi := binary.BigEndian.Uint64(e.raw[0:8])
	lo := uint64(binary.BigEndian.Uint32(e.raw[8:12])) << 32
	f := bits96(hi, lo, 8, 3)
	p := bits96(hi, lo, 11, 3)
	if p == 7 {
		return newErr(s, "partition", "7", ErrPartition, "partition values are 0–6: these bits are not a valid "+s.String())
	}
	r := L.part[p]
	off := 14
	cp := bits96(hi, lo, uint(off), uint(r.cpBits))
	if cp >= pow10[r.cpDigits] {
		return newErr(s, "company prefix", itoa(cp), ErrRange,
			"has more than the "+itoa(uint64(r.cpDigits))+" digits partition "+itoa(p)+" allows")
	}
	off += int(r.cpBits)
	e.scheme, e.filter, e.partition, e.cp = s, uint8(f), uint8(p), cp
	e.nbits = uint16(L.bits)
	if L.refString {
		if err := e.getString(s, "asset reference", off, int(r.refBits), int(r.refDigits)); err != nil {
			return err
		}
		return nil
	}
	ref := bits96(hi, lo, uint(off), uint(r.refBits))
	if r.refDigits < uint8(len(pow10)) && ref >= pow10[r.refDigits] {
		return newErr(s, refName(L.family), itoa(ref), ErrRange,
			"has more than the "+itoa(uint64(r.refDigits))+" digits partition "+itoa(p)+" allows")
	}
	e.ref = ref
	off += int(r.refBits)
	switch L.tail {
	case tailInteger:
		e.serial = bits96(hi, lo, uint(off), uint(L.tailBits))
	case tailString:
		return e.getString(s, L.tailField, off, L.tailBits, L.tailChars)
	case tailReserved:
		if bits96(hi, lo, uint(off), uint(L.tailBits)) != 0 {
			return newErr(s, "reserved bits", "", ErrPadding, "the last 24 bits of "+s.String()+" must be zero")
		}
	}
	return nil
}

func refName(f family) string {
	switch f {
	case famSGTIN:
		return "item reference"
	case famSSCC:
		return "serial reference"
	case famSGLN:
		return "location reference"
	case famGRAI:
		return "asset type"
	case famGIAI:
		return "asset reference"
	case famGDTI:
		return "document type"
	case famGSRN:
		return "service reference"
	}
	return "reference"
}

// getString decodes TDS "String" encoding: 7-bit characters of the GS1 set
// (CSET 82), ended by the first all-zero character; the rest must be zero.
func (e *EPC) getString(s Scheme, field string, off, nbits, maxChars int) error {
	n := 0
	end := off + nbits
	p := off
	for ; p+7 <= end; p += 7 {
		c := byte(e.get(p, 7))
		if c == 0 {
			break
		}
		if n == maxChars {
			return newErr(s, field, string(e.str[:n]), ErrRange,
				"has more than "+itoa(uint64(maxChars))+" characters")
		}
		if !cset82[c] {
			return newErr(s, field, string(e.str[:n]), ErrCharset,
				"character 0x"+string([]byte{hexDigits[c>>4], hexDigits[c&15]})+" after it is not in the GS1 character set 82")
		}
		e.str[n] = c
		n++
	}
	if n == 0 {
		return newErr(s, field, "", ErrSerial, "is empty")
	}
	if !e.zero(p, end) {
		return newErr(s, field, string(e.str[:n]), ErrPadding, "the bits after its last character must be zero")
	}
	e.strLen = uint8(n)
	return nil
}

// cset82 is GS1 AI encodable character set 82 (TDS Table A-1).
var cset82 = func() (t [128]bool) {
	for _, c := range "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz" {
		t[c] = true
	}
	return t
}()

func inCSET82(c byte) bool { return c < 128 && cset82[c] }

// checkDigit returns the GS1 mod-10 check digit of the digits in v, which
// has n digits.
func checkDigit(v uint64, n int) uint64 {
	sum := uint64(0)
	for i := 0; i < n; i++ {
		d := v % 10
		v /= 10
		if i%2 == 0 {
			sum += 3 * d
		} else {
			sum += d
		}
	}
	return (10 - sum%10) % 10
}

// '+' schemes (TDS 2.0 §14.5, §15).

// Serial encoding indicators of TDS §14.5.6.
const (
	encNumeric  = 0 // all-numeric, as one integer
	encUpperHex = 1
	encLowerHex = 2
	encBase64   = 3 // file-safe URI-safe base 64
	encASCII7   = 4
	encCode40   = 5 // URN Code 40
)

const (
	alphaCode40 = " ABCDEFGHIJKLMNOPQRSTUVWXYZ-.:0123456789"
	alphaBase64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	alphaUpper  = "0123456789ABCDEF"
	alphaLower  = "0123456789abcdef"
)

// numericBits[n] is the bits an n-digit number takes: ⌈n·log2 10⌉, the
// bit length of 10^n − 1 (TDS Table B, "integer encoding").
var numericBits = func() (t [91]uint8) {
	p := big.NewInt(1)
	ten := big.NewInt(10)
	for n := 1; n < len(t); n++ {
		p.Mul(p, ten)
		t[n] = uint8(new(big.Int).Sub(p, big.NewInt(1)).BitLen())
	}
	return t
}()

func (e *EPC) parsePlus(s Scheme) error {
	sp := &plusSpecs[s.base()]
	have := int(e.nbits)
	need := 12 + 4*sp.keyDigits
	if s.base() == DSGTINPlus {
		need += 20
	}
	if have < need {
		return newErr(s, "bit length", itoa(uint64(have)), ErrLength,
			s.String()+" needs at least "+itoa(uint64(need))+" bits; give the whole EPC (as many words as the tag's PC word says)")
	}
	e.scheme = s
	e.aidc = e.get(8, 1) == 1
	e.filter = uint8(e.get(9, 3))
	off := 12
	if s.base() == DSGTINPlus {
		dt := e.get(off, 4)
		if dt > 6 {
			return newErr(s, "date type", itoa(dt), ErrDate, "date types are 0–6 (AI 11, 13, 15, 16, 17, 7006, 7007)")
		}
		d := e.get(off+4, 16)
		if err := checkPackedDate(s, uint16(d), DateType(dt)); err != nil {
			return err
		}
		e.dateType, e.date = uint8(dt), uint16(d)
		off += 20
	}
	if sp.keyDigits > 0 {
		var key uint64
		for i := 0; i < sp.keyDigits; {
			// Up to 14 digits (56 bits) a read.
			k := min(14, sp.keyDigits-i)
			w := e.get(off, 4*k)
			for j := k - 1; j >= 0; j-- {
				d := w >> (4 * j) & 15
				if d > 9 {
					return newErr(s, sp.keyField, "", ErrDigits, "digit "+itoa(uint64(i+k-j))+" is the nibble "+itoa(d)+", not a decimal digit")
				}
				key = key*10 + d
			}
			i += k
			off += 4 * k
		}
		n := sp.keyDigits
		if sp.padDigit {
			if key >= pow10[n-1] {
				return newErr(s, sp.keyField, padded(key, n), ErrDigits, "must start with the pad digit 0")
			}
			n--
		}
		if c := checkDigit(key/10, n-1); c != key%10 {
			return newErr(s, sp.keyField, padded(key, sp.keyDigits), ErrCheckDigit, "check digit should be "+itoa(c))
		}
		e.ref = key
		if sp.tailField != "" {
			end, err := e.getAlnum(s, sp.tailField, off, have, sp.tailMax)
			if err != nil {
				return err
			}
			off = end
		}
	} else {
		end, err := e.getDelimited(s, off, have)
		if err != nil {
			return err
		}
		off = end
	}
	if s.PlusPlus() {
		var buf [maxHostname]byte
		_, end, err := e.readHostname(s, off, have, buf[:])
		if err != nil {
			return err
		}
		e.hostAt = uint16(off)
		off = end
	}
	if e.aidc {
		end, err := e.readAIDC(s, off, have, plusOwnAIs(s, DateType(e.dateType)), nil)
		if err != nil {
			return err
		}
		e.aidcAt, e.nbits = uint16(off), uint16(end)
		// TDS §15.3: the EPC's AIs and the +AIDC data together follow
		// the GS1 rules of mandatory and invalid pairs.
		if err := gs1.Validate(e.GS1Message()); err != nil {
			return newErr(s, "+AIDC data", "", ErrAIDC, err.Error())
		}
		off = end
	}
	// TDS §14.4 step 4: trailing padding after the last segment is ignored.
	e.clear(off)
	e.nbits = uint16(off)
	return nil
}

// getDelimited decodes a GIAI+ value: TDS §14.5.5 4-bit digits ended by a
// terminator, or by a delimiter and §14.5.6 alphanumeric data, at most 30
// characters in all. It records how many digits were 4-bit digits (the
// rest is alphanumeric) so the EPC re-encodes to the same bits.
func (e *EPC) getDelimited(s Scheme, off, have int) (int, error) {
	n := 0
	for {
		if off+4 > have {
			return 0, newErr(s, "giai", string(e.str[:n]), ErrLength, "the bits end before its terminator")
		}
		d := e.get(off, 4)
		off += 4
		switch {
		case d <= 9:
			if n == len(e.str) {
				return 0, newErr(s, "giai", string(e.str[:n]), ErrRange, "has more than 30 characters")
			}
			e.str[n] = byte('0' + d)
			n++
			continue
		case d == 14:
			if n == len(e.str) {
				return 0, newErr(s, "giai", string(e.str[:n]), ErrRange, "has more than 30 characters")
			}
			k, ind, end, err := e.readAlnum(s, "giai", off, have, 5, len(e.str)-n, false, e.str[n:])
			if err != nil {
				return 0, err
			}
			e.partition, e.enc, e.strLen = uint8(n), uint8(ind), uint8(n+k)
			off = end
		case d == 15:
			e.partition, e.strLen = uint8(n), uint8(n)
		default:
			return 0, newErr(s, "giai", string(e.str[:n]), ErrDigits, "nibble "+itoa(d)+" is neither a digit, a delimiter nor a terminator")
		}
		break
	}
	if err := gs1.ValidateValue("8004", string(e.str[:e.strLen])); err != nil {
		return 0, newErr(s, "giai", string(e.str[:e.strLen]), ErrGS1, err.Error())
	}
	return off, nil
}

var daysIn = [13]uint8{0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}

// checkPackedDate checks a YY(7) MM(4) DD(5) date of date type dt. DD 00
// (a month without a day) is allowed for the AIs whose GS1 rule allows it:
// (11), (13), (15), (16) and (17), not (7006) or (7007).
func checkPackedDate(s Scheme, d uint16, dt DateType) error {
	yy, mm, dd := d>>9, d>>5&15, d&31
	ok := yy <= 99 && mm >= 1 && mm <= 12 && dd <= uint16(daysIn[mm])
	if ok && mm == 2 && dd == 29 && yy%4 != 0 {
		ok = false
	}
	rule := "is not a valid YYMMDD date"
	if ok && dd == 0 && dt > DateExpiration {
		ok, rule = false, "has day 00, which AI ("+dt.AI()+") does not allow"
	}
	if !ok {
		return newErr(s, "date", padded(uint64(yy), 2)+padded(uint64(mm), 2)+padded(uint64(dd), 2), ErrDate, rule)
	}
	return nil
}

// getAlnum decodes the serial of a '+' scheme: TDS §14.5.6
// variable-length alphanumeric data with a 5-bit length, at most 20
// characters of CSET 82. It stores them in e.str and returns the bit
// offset after them.
func (e *EPC) getAlnum(s Scheme, field string, off, have, maxChars int) (int, error) {
	n, ind, end, err := e.readAlnum(s, field, off, have, 5, maxChars, false, e.str[:])
	if err != nil {
		return 0, err
	}
	e.enc, e.strLen = uint8(ind), uint8(n)
	return end, nil
}

// readAlnum decodes TDS §14.5.6 variable-length alphanumeric data at bit
// off: a 3-bit encoding indicator, a lenBits-bit length in characters, then
// the characters, written to dst. 7-bit characters must be in CSET 82, or
// also '#' (CSET 39) when hash is set. It returns the number of characters,
// the encoding indicator and the bit offset after the data.
func (e *EPC) readAlnum(s Scheme, field string, off, have, lenBits, maxChars int, hash bool, dst []byte) (n, ind, end int, err error) {
	if off+3+lenBits > have {
		return 0, 0, 0, newErr(s, field, "", ErrLength, "the bits end before its length indicator")
	}
	ind = int(e.get(off, 3))
	n = int(e.get(off+3, lenBits))
	off += 3 + lenBits
	if n == 0 || n > maxChars {
		return 0, 0, 0, newErr(s, field, "", ErrRange, "length "+itoa(uint64(n))+" is not 1–"+itoa(uint64(maxChars))+" characters")
	}
	if ind > encCode40 {
		return 0, 0, 0, newErr(s, field, "", ErrSerial, "encoding indicator "+itoa(uint64(ind))+" is reserved")
	}
	nb := alnumBits(ind, n)
	if off+nb > have {
		return 0, 0, 0, newErr(s, field, "", ErrLength, "the bits end inside it")
	}
	dst = dst[:n]
	switch ind {
	case encNumeric:
		if !e.getNumber(off, nb, dst) {
			return 0, 0, 0, newErr(s, field, "", ErrRange, "the number has more than its "+itoa(uint64(n))+" digits")
		}
	case encUpperHex, encLowerHex:
		a := alphaUpper
		if ind == encLowerHex {
			a = alphaLower
		}
		for i := range dst {
			dst[i] = a[e.get(off+4*i, 4)]
		}
	case encBase64:
		for i := range dst {
			dst[i] = alphaBase64[e.get(off+6*i, 6)]
		}
	case encASCII7:
		for i := range dst {
			c := byte(e.get(off+7*i, 7))
			if !cset82[c] && !(hash && c == '#') {
				return 0, 0, 0, newErr(s, field, string(dst[:i]), ErrCharset,
					"character 0x"+string([]byte{hexDigits[c>>4], hexDigits[c&15]})+" after it is not in the GS1 character set 82")
			}
			dst[i] = c
		}
	case encCode40:
		k := 0
		for t := 0; t < (n+2)/3; t++ {
			v := e.get(off+16*t, 16)
			if v == 0 || v > 64000 {
				return 0, 0, 0, newErr(s, field, "", ErrCharset, "URN Code 40 triple "+itoa(v)+" is out of range 1–64000")
			}
			v--
			for _, c := range [3]byte{alphaCode40[v/1600], alphaCode40[v/40%40], alphaCode40[v%40]} {
				if k < n {
					if c == ' ' {
						return 0, 0, 0, newErr(s, field, "", ErrCharset, "URN Code 40 space inside the value")
					}
					dst[k] = c
				} else if c != ' ' {
					return 0, 0, 0, newErr(s, field, "", ErrPadding, "URN Code 40 padding after the value must be spaces")
				}
				k++
			}
		}
	}
	return n, ind, off + nb, nil
}

// getNumber decodes the nb-bit unsigned integer at off into the decimal
// digits of dst, zero-padded; false if it has more digits than dst.
func (e *EPC) getNumber(off, nb int, dst []byte) bool {
	if nb <= 128 {
		var hi, lo uint64
		if nb > 64 {
			hi, lo = e.get(off, nb-64), e.get(off+nb-64, 64)
		} else {
			lo = e.get(off, nb)
		}
		if len(dst) <= 38 && fitsDigits(hi, lo, len(dst)) {
			putDigits128(dst, hi, lo)
			return true
		}
	}
	v := new(big.Int)
	for i := 0; i < nb; i += 32 {
		k := min(32, nb-i)
		v.Lsh(v, uint(k))
		v.Or(v, new(big.Int).SetUint64(e.get(off+i, k)))
	}
	d := v.String()
	if len(d) > len(dst) {
		return false
	}
	for i := range dst {
		dst[i] = '0'
	}
	copy(dst[len(dst)-len(d):], d)
	return true
}

// fitsDigits reports whether hi:lo < 10^n (n ≤ 38).
func fitsDigits(hi, lo uint64, n int) bool {
	if n < 20 {
		return hi == 0 && lo < pow10[n]
	}
	// 10^n = 10^19 · 10^(n-19)
	mh, ml := bits.Mul64(pow10[19], pow10[n-19])
	return hi < mh || (hi == mh && lo < ml)
}

// putDigits128 writes hi:lo (< 10^len(dst), at most 38 digits) zero-padded.
func putDigits128(dst []byte, hi, lo uint64) {
	q, r := lo, uint64(0)
	if hi != 0 {
		q, r = bits.Div64(hi, lo, pow10[19]) // hi < 10^19 for values < 10^38
		q, r = r, q                          // r: the digits above the low 19
	}
	// q holds the low digits, r the high ones.
	for i := len(dst) - 1; i >= 0; i-- {
		if hi != 0 && len(dst)-i == 20 {
			q = r
		}
		dst[i] = byte('0' + q%10)
		q /= 10
	}
}
