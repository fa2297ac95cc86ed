package epc

import (
	"math/big"

	"github.com/dockgate/dockgate/encoder/gs1"
)

// +AIDC data (TDS 2.x §15.3): further GS1 AIs written after the EPC of a
// '+' scheme, each an AI in 4-bit digits followed by its value in the
// encoding Table F gives it.

// method is a TDS §14.5 encoding method of one component of an AI value.
type method uint8

const (
	mNone         method = iota
	mFixedNumeric        // §14.5.4: 4 bits a digit
	mFixedBitNum         // §14.5.2: a fixed number of digits as one integer of fixed bits
	mDelimited           // §14.5.5: 4-bit digits, then terminator or delimiter and §14.5.6
	mAlnum               // §14.5.6: variable-length alphanumeric
	mSingleBit           // §14.5.7
	mDate                // §14.5.8: YYMMDD in 16 bits
	mDateTime            // §14.5.9: YYMMDDhhmm in 27 bits
	mDateRange           // §14.5.10: YYMMDD or YYMMDDYYMMDD
	mVarDateTime         // §14.5.11: YYMMDD[hh[mm[ss]]]
	mCountry             // §14.5.12: ISO 3166 alpha-2 in 12 bits
	mVarNumeric          // §14.5.13: length, then the digits as one integer
	mMinus               // §14.5.14: optional minus sign in 1 bit
	mSequence            // §14.5.15: "n/m" as two 4-bit digits 1–9
)

// comp is one component of a Table F row: fixed characters and bits for
// fixed-length methods, length-indicator bits and maximum characters for
// variable-length ones.
type comp struct {
	m       method
	chars   uint8
	bits    uint8
	lenBits uint8
	max     uint8
}

// tableFRow covers the AIs from..to (same number of digits).
type tableFRow struct {
	from, to string
	c1, c2   comp
}

func fixedNum(chars int) comp {
	return comp{m: mFixedNumeric, chars: uint8(chars), bits: uint8(4 * chars)}
}
func fixedBits(chars, b int) comp { return comp{m: mFixedBitNum, chars: uint8(chars), bits: uint8(b)} }
func alnum(lenBits, max int) comp { return comp{m: mAlnum, lenBits: uint8(lenBits), max: uint8(max)} }
func varNum(lenBits, max int) comp {
	return comp{m: mVarNumeric, lenBits: uint8(lenBits), max: uint8(max)}
}

var (
	date6     = comp{m: mDate, chars: 6, bits: 16}
	dateTime  = comp{m: mDateTime, chars: 10, bits: 27}
	delimited = comp{m: mDelimited, lenBits: 5, max: 30}
)

// tableF is TDS 2.3 Table F: how each AI's value is written as +AIDC data.
var tableF = []tableFRow{
	{"00", "00", fixedNum(18), comp{}},
	{"01", "02", fixedNum(14), comp{}},
	{"10", "10", alnum(5, 20), comp{}},
	{"11", "13", date6, comp{}},
	{"15", "17", date6, comp{}},
	{"20", "20", fixedBits(2, 7), comp{}},
	{"21", "22", alnum(5, 20), comp{}},
	{"235", "235", alnum(5, 28), comp{}},
	{"240", "241", alnum(5, 30), comp{}},
	{"242", "242", varNum(3, 6), comp{}},
	{"243", "243", alnum(5, 20), comp{}},
	{"250", "251", alnum(5, 30), comp{}},
	{"253", "253", fixedNum(13), alnum(5, 17)},
	{"254", "254", alnum(5, 20), comp{}},
	{"255", "255", fixedNum(13), varNum(4, 12)},
	{"30", "30", varNum(4, 8), comp{}},
	{"3100", "3105", fixedBits(6, 20), comp{}},
	{"3110", "3115", fixedBits(6, 20), comp{}},
	{"3120", "3125", fixedBits(6, 20), comp{}},
	{"3130", "3135", fixedBits(6, 20), comp{}},
	{"3140", "3145", fixedBits(6, 20), comp{}},
	{"3150", "3155", fixedBits(6, 20), comp{}},
	{"3160", "3165", fixedBits(6, 20), comp{}},
	{"3200", "3205", fixedBits(6, 20), comp{}},
	{"3210", "3215", fixedBits(6, 20), comp{}},
	{"3220", "3225", fixedBits(6, 20), comp{}},
	{"3230", "3235", fixedBits(6, 20), comp{}},
	{"3240", "3245", fixedBits(6, 20), comp{}},
	{"3250", "3255", fixedBits(6, 20), comp{}},
	{"3260", "3265", fixedBits(6, 20), comp{}},
	{"3270", "3275", fixedBits(6, 20), comp{}},
	{"3280", "3285", fixedBits(6, 20), comp{}},
	{"3290", "3295", fixedBits(6, 20), comp{}},
	{"3300", "3305", fixedBits(6, 20), comp{}},
	{"3310", "3315", fixedBits(6, 20), comp{}},
	{"3320", "3325", fixedBits(6, 20), comp{}},
	{"3330", "3335", fixedBits(6, 20), comp{}},
	{"3340", "3345", fixedBits(6, 20), comp{}},
	{"3350", "3355", fixedBits(6, 20), comp{}},
	{"3360", "3365", fixedBits(6, 20), comp{}},
	{"3370", "3375", fixedBits(6, 20), comp{}},
	{"3400", "3405", fixedBits(6, 20), comp{}},
	{"3410", "3415", fixedBits(6, 20), comp{}},
	{"3420", "3425", fixedBits(6, 20), comp{}},
	{"3430", "3435", fixedBits(6, 20), comp{}},
	{"3440", "3445", fixedBits(6, 20), comp{}},
	{"3450", "3455", fixedBits(6, 20), comp{}},
	{"3460", "3465", fixedBits(6, 20), comp{}},
	{"3470", "3475", fixedBits(6, 20), comp{}},
	{"3480", "3485", fixedBits(6, 20), comp{}},
	{"3490", "3495", fixedBits(6, 20), comp{}},
	{"3500", "3505", fixedBits(6, 20), comp{}},
	{"3510", "3515", fixedBits(6, 20), comp{}},
	{"3520", "3525", fixedBits(6, 20), comp{}},
	{"3530", "3535", fixedBits(6, 20), comp{}},
	{"3540", "3545", fixedBits(6, 20), comp{}},
	{"3550", "3555", fixedBits(6, 20), comp{}},
	{"3560", "3565", fixedBits(6, 20), comp{}},
	{"3570", "3575", fixedBits(6, 20), comp{}},
	{"3600", "3605", fixedBits(6, 20), comp{}},
	{"3610", "3615", fixedBits(6, 20), comp{}},
	{"3620", "3625", fixedBits(6, 20), comp{}},
	{"3630", "3635", fixedBits(6, 20), comp{}},
	{"3640", "3645", fixedBits(6, 20), comp{}},
	{"3650", "3655", fixedBits(6, 20), comp{}},
	{"3660", "3665", fixedBits(6, 20), comp{}},
	{"3670", "3675", fixedBits(6, 20), comp{}},
	{"3680", "3685", fixedBits(6, 20), comp{}},
	{"3690", "3695", fixedBits(6, 20), comp{}},
	{"37", "37", varNum(4, 8), comp{}},
	{"3900", "3909", varNum(4, 15), comp{}},
	{"3910", "3919", fixedBits(3, 10), varNum(4, 15)},
	{"3920", "3929", varNum(4, 15), comp{}},
	{"3930", "3939", fixedBits(3, 10), varNum(4, 15)},
	{"3940", "3943", fixedBits(4, 14), comp{}},
	{"3950", "3953", fixedBits(6, 20), comp{}},
	{"400", "401", alnum(5, 30), comp{}},
	{"402", "402", fixedBits(17, 57), comp{}},
	{"403", "403", alnum(5, 30), comp{}},
	{"410", "417", fixedNum(13), comp{}},
	{"420", "420", alnum(5, 20), comp{}},
	{"421", "421", fixedBits(3, 10), alnum(4, 9)},
	{"422", "422", fixedBits(3, 10), comp{}},
	{"423", "423", varNum(4, 15), comp{}},
	{"424", "424", fixedBits(3, 10), comp{}},
	{"425", "425", varNum(4, 15), comp{}},
	{"426", "426", fixedBits(3, 10), comp{}},
	{"427", "427", alnum(2, 3), comp{}},
	{"4300", "4301", alnum(6, 35), comp{}},
	{"4302", "4306", alnum(7, 70), comp{}},
	{"4307", "4307", comp{m: mCountry, chars: 2, bits: 12}, comp{}},
	{"4308", "4308", alnum(5, 30), comp{}},
	{"4309", "4309", fixedBits(20, 67), comp{}},
	{"4310", "4311", alnum(6, 35), comp{}},
	{"4312", "4316", alnum(7, 70), comp{}},
	{"4317", "4317", comp{m: mCountry, chars: 2, bits: 12}, comp{}},
	{"4318", "4318", alnum(5, 20), comp{}},
	{"4319", "4319", alnum(5, 30), comp{}},
	{"4320", "4320", alnum(6, 35), comp{}},
	{"4321", "4323", comp{m: mSingleBit, chars: 1, bits: 1}, comp{}},
	{"4324", "4325", dateTime, comp{}},
	{"4326", "4326", date6, comp{}},
	{"4330", "4333", fixedBits(6, 20), comp{m: mMinus, bits: 1}},
	{"7001", "7001", fixedBits(13, 44), comp{}},
	{"7002", "7002", alnum(5, 30), comp{}},
	{"7003", "7003", dateTime, comp{}},
	{"7004", "7004", varNum(3, 4), comp{}},
	{"7005", "7005", alnum(4, 12), comp{}},
	{"7006", "7006", date6, comp{}},
	{"7007", "7007", comp{m: mDateRange}, comp{}},
	{"7008", "7008", alnum(2, 3), comp{}},
	{"7009", "7009", alnum(4, 10), comp{}},
	{"7010", "7010", alnum(2, 2), comp{}},
	{"7011", "7011", comp{m: mVarDateTime}, comp{}},
	{"7020", "7022", alnum(5, 20), comp{}},
	{"7023", "7023", delimited, comp{}},
	{"7030", "7039", fixedBits(3, 10), alnum(5, 27)},
	{"7040", "7041", alnum(3, 4), comp{}},
	{"710", "716", alnum(5, 20), comp{}},
	{"7230", "7239", alnum(5, 30), comp{}},
	{"7240", "7240", alnum(5, 20), comp{}},
	{"7241", "7241", fixedNum(2), comp{}},
	{"7242", "7242", alnum(5, 25), comp{}},
	{"7250", "7250", fixedBits(8, 27), comp{}},
	{"7251", "7251", fixedBits(12, 40), comp{}},
	{"7252", "7252", fixedBits(1, 4), comp{}},
	{"7253", "7253", alnum(6, 40), comp{}},
	{"7254", "7254", alnum(6, 30), comp{}},
	{"7255", "7255", alnum(4, 10), comp{}},
	{"7256", "7256", alnum(7, 90), comp{}},
	{"7257", "7257", alnum(7, 70), comp{}},
	{"7258", "7258", comp{m: mSequence, chars: 3, bits: 8}, comp{}},
	{"7259", "7259", alnum(6, 40), comp{}},
	{"8001", "8001", fixedBits(14, 47), comp{}},
	{"8002", "8002", alnum(5, 20), comp{}},
	{"8003", "8003", fixedNum(14), alnum(5, 16)},
	{"8004", "8004", delimited, comp{}},
	{"8005", "8005", fixedBits(6, 20), comp{}},
	{"8006", "8006", fixedNum(18), comp{}},
	{"8007", "8007", alnum(5, 24), comp{}},
	{"8008", "8008", comp{m: mVarDateTime}, comp{}},
	{"8009", "8009", alnum(6, 50), comp{}},
	{"8010", "8010", delimited, comp{}},
	{"8011", "8011", varNum(4, 12), comp{}},
	{"8012", "8012", alnum(5, 20), comp{}},
	{"8013", "8013", alnum(5, 25), comp{}},
	{"8017", "8018", fixedNum(18), comp{}},
	{"8019", "8019", varNum(4, 10), comp{}},
	{"8020", "8020", alnum(5, 25), comp{}},
	{"8026", "8026", fixedNum(18), comp{}},
	{"8030", "8030", alnum(7, 90), comp{}},
	{"8110", "8110", alnum(7, 70), comp{}},
	{"8111", "8111", fixedBits(4, 14), comp{}},
	{"8112", "8112", alnum(7, 70), comp{}},
	{"8200", "8200", alnum(7, 70), comp{}},
	{"90", "90", alnum(5, 30), comp{}},
	{"91", "99", alnum(7, 90), comp{}},
}

func lookupF(ai string) (*tableFRow, bool) {
	for i := range tableF {
		r := &tableF[i]
		if len(r.from) == len(ai) && r.from <= ai && ai <= r.to {
			return r, true
		}
	}
	return nil, false
}

// aiDigits is Table K: the length of the AIs that start with two digits, 0
// where none does. (30 is missing from TDS 2.3's printed Table K; AI (30)
// is two digits long, as GS1 General Specifications Figure 7.8.1-2 says.)
var aiDigits = func() (t [100]uint8) {
	for _, d := range []int{0, 1, 2, 10, 11, 12, 13, 15, 16, 17, 20, 21, 22, 30, 37, 90, 91, 92, 93, 94, 95, 96, 97, 98, 99} {
		t[d] = 2
	}
	for _, d := range []int{23, 24, 25, 40, 41, 42, 71} {
		t[d] = 3
	}
	for _, d := range []int{31, 32, 33, 34, 35, 36, 39, 43, 70, 72, 80, 81, 82} {
		t[d] = 4
	}
	return t
}()

// maxAIDCValue is the longest value Table F allows (90 characters) plus
// room for a second component.
const maxAIDCValue = 112

// readAIDC decodes the +AIDC data from bit off to have, calling emit (if
// not nil) with each AI and its value. It returns the bit offset after the
// last element.
func (e *EPC) readAIDC(s Scheme, off, have int, own []string, emit func(ai string, value []byte)) (int, error) {
	var buf [maxAIDCValue]byte
	count := 0
	for have-off >= 8 {
		hdr := e.get(off, 8)
		if hdr == 0 {
			// TDS §15.3: 00000000 is AI (00) when 72 bits follow; all-zero
			// bits are taken as padding, as an all-zero SSCC is no SSCC.
			if have-off < 8+72 || e.zero(off, min(have, off+80)) {
				break
			}
		}
		d1, d2 := hdr>>4, hdr&15
		if d1 > 9 || d2 > 9 {
			return 0, newErr(s, "+AIDC data", "", ErrAIDC, "data header 0x"+string([]byte{hexDigits[d1], hexDigits[d2]})+" is not an AI (headers A–F are reserved)")
		}
		n := int(aiDigits[d1*10+d2])
		if n == 0 {
			return 0, newErr(s, "+AIDC data", string([]byte{byte('0' + d1), byte('0' + d2)}), ErrAIDC, "no GS1 AI starts with these two digits")
		}
		if off+4*n > have {
			return 0, newErr(s, "+AIDC data", "", ErrLength, "the bits end inside an AI")
		}
		var aib [4]byte
		for i := 0; i < n; i++ {
			d := e.get(off+4*i, 4)
			if d > 9 {
				return 0, newErr(s, "+AIDC data", string(aib[:i]), ErrAIDC, "an AI digit is the nibble "+itoa(d))
			}
			aib[i] = byte('0' + d)
		}
		off += 4 * n
		ai := aib[:n]
		for _, o := range own {
			if string(ai) == o {
				return 0, newErr(s, "AI ("+o+")", "", ErrAIDC, "is already part of the "+s.String()+" EPC")
			}
		}
		row, ok := lookupF(string(ai))
		if !ok {
			return 0, newErr(s, "AI ("+string(ai)+")", "", ErrAIDC, "is not in TDS Table F: it cannot follow an EPC")
		}
		v := buf[:0]
		var err error
		if v, off, err = e.readComp(s, string(ai), row.c1, off, have, v); err != nil {
			return 0, err
		}
		if row.c2.m != mNone {
			if v, off, err = e.readComp(s, string(ai), row.c2, off, have, v); err != nil {
				return 0, err
			}
		}
		if err := gs1.ValidateValue(string(ai), string(v)); err != nil {
			return 0, newErr(s, "AI ("+string(ai)+")", string(v), ErrAIDC, err.Error())
		}
		if emit != nil {
			emit(string(ai), v)
		}
		count++
	}
	if count == 0 {
		return 0, newErr(s, "+AIDC data", "", ErrAIDC, "the +AIDC toggle is set but no AI follows the EPC")
	}
	return off, nil
}

func compErr(s Scheme, ai, rule string) error {
	return newErr(s, "AI ("+ai+")", "", ErrAIDC, rule)
}

// readComp decodes one component, appending its characters to v.
func (e *EPC) readComp(s Scheme, ai string, c comp, off, have int, v []byte) ([]byte, int, error) {
	need := func(n int) error {
		if off+n > have {
			return newErr(s, "AI ("+ai+")", "", ErrLength, "the bits end inside its value")
		}
		return nil
	}
	switch c.m {
	case mFixedNumeric:
		if err := need(int(c.bits)); err != nil {
			return nil, 0, err
		}
		for i := 0; i < int(c.chars); i++ {
			d := e.get(off+4*i, 4)
			if d > 9 {
				return nil, 0, compErr(s, ai, "digit "+itoa(uint64(i+1))+" is the nibble "+itoa(d))
			}
			v = append(v, byte('0'+d))
		}
		return v, off + int(c.bits), nil
	case mFixedBitNum:
		if err := need(int(c.bits)); err != nil {
			return nil, 0, err
		}
		k := len(v)
		v = append(v, make([]byte, c.chars)...)
		if !e.getNumber(off, int(c.bits), v[k:]) {
			return nil, 0, compErr(s, ai, "the number has more than "+itoa(uint64(c.chars))+" digits")
		}
		return v, off + int(c.bits), nil
	case mVarNumeric:
		if err := need(int(c.lenBits)); err != nil {
			return nil, 0, err
		}
		n := int(e.get(off, int(c.lenBits)))
		off += int(c.lenBits)
		if n == 0 || n > int(c.max) {
			return nil, 0, compErr(s, ai, "length "+itoa(uint64(n))+" is not 1–"+itoa(uint64(c.max)))
		}
		nb := int(numericBits[n])
		if err := need(nb); err != nil {
			return nil, 0, err
		}
		k := len(v)
		v = append(v, make([]byte, n)...)
		if !e.getNumber(off, nb, v[k:]) {
			return nil, 0, compErr(s, ai, "the number has more than its "+itoa(uint64(n))+" digits")
		}
		return v, off + nb, nil
	case mAlnum:
		var tmp [maxAIDCValue]byte
		n, _, end, err := e.readAlnum(s, "AI ("+ai+")", off, have, int(c.lenBits), int(c.max), true, tmp[:])
		if err != nil {
			return nil, 0, err
		}
		return append(v, tmp[:n]...), end, nil
	case mDelimited:
		for {
			if err := need(4); err != nil {
				return nil, 0, err
			}
			d := e.get(off, 4)
			off += 4
			switch {
			case d <= 9:
				v = append(v, byte('0'+d))
				continue
			case d == 15:
				return v, off, nil
			case d == 14:
				var tmp [maxAIDCValue]byte
				n, _, end, err := e.readAlnum(s, "AI ("+ai+")", off, have, int(c.lenBits), int(c.max), true, tmp[:])
				if err != nil {
					return nil, 0, err
				}
				return append(v, tmp[:n]...), end, nil
			}
			return nil, 0, compErr(s, ai, "nibble "+itoa(d)+" is neither a digit, a delimiter nor a terminator")
		}
	case mSingleBit:
		if err := need(1); err != nil {
			return nil, 0, err
		}
		return append(v, byte('0'+e.get(off, 1))), off + 1, nil
	case mMinus:
		if err := need(1); err != nil {
			return nil, 0, err
		}
		if e.get(off, 1) == 1 {
			v = append(v, '-')
		}
		return v, off + 1, nil
	case mDate:
		if err := need(16); err != nil {
			return nil, 0, err
		}
		return appendDate(v, e.get(off, 16)), off + 16, nil
	case mDateTime:
		if err := need(27); err != nil {
			return nil, 0, err
		}
		x := e.get(off, 27)
		v = appendDate(v, x>>11)
		v = appendPadded(v, x>>6&31, 2)
		return appendPadded(v, x&63, 2), off + 27, nil
	case mDateRange:
		if err := need(17); err != nil {
			return nil, 0, err
		}
		rng := e.get(off, 1) == 1
		v = appendDate(v, e.get(off+1, 16))
		off += 17
		if rng {
			if err := need(16); err != nil {
				return nil, 0, err
			}
			v = appendDate(v, e.get(off, 16))
			off += 16
		}
		return v, off, nil
	case mVarDateTime:
		if err := need(18); err != nil {
			return nil, 0, err
		}
		f := e.get(off, 2)
		v = appendDate(v, e.get(off+2, 16))
		off += 18
		extra := [4][]int{{5}, {5, 6}, {5, 6, 6}, {}}[f]
		for _, nb := range extra {
			if err := need(nb); err != nil {
				return nil, 0, err
			}
			v = appendPadded(v, e.get(off, nb), 2)
			off += nb
		}
		return v, off, nil
	case mSequence:
		if err := need(8); err != nil {
			return nil, 0, err
		}
		n, m := e.get(off, 4), e.get(off+4, 4)
		if n < 1 || n > 9 || m < 1 || m > 9 {
			return nil, 0, compErr(s, ai, "sequence digits must be 1–9")
		}
		return append(v, byte('0'+n), '/', byte('0'+m)), off + 8, nil
	case mCountry:
		if err := need(12); err != nil {
			return nil, 0, err
		}
		return append(v, alphaBase64[e.get(off, 6)], alphaBase64[e.get(off+6, 6)]), off + 12, nil
	}
	return nil, 0, compErr(s, ai, "has no encoding method")
}

// appendDate appends a 16-bit YY MM DD date as six digits; gs1
// validation of the value checks the ranges.
func appendDate(v []byte, d uint64) []byte {
	v = appendPadded(v, d>>9, 2)
	v = appendPadded(v, d>>5&15, 2)
	return appendPadded(v, d&31, 2)
}

// AIDCElements returns the +AIDC data that follows the EPC of a '+' scheme
// (nil when there is none).
func (e EPC) AIDCElements() []gs1.Element {
	if !e.aidc {
		return nil
	}
	var els []gs1.Element
	_, err := e.readAIDC(e.scheme, int(e.aidcAt), int(e.nbits), nil, func(ai string, v []byte) {
		els = append(els, gs1.Element{AI: ai, Value: string(v)})
	})
	if err != nil {
		return nil // cannot happen: Decode checked the data
	}
	return els
}

// WithAIDC returns the '+' scheme EPC e with els written after it as +AIDC
// data (replacing any it had), the toggle bit set. No elements clear it.
// Each element must be an AI of TDS Table F with a valid value, and the AIs
// the EPC itself carries cannot be repeated.
func (e EPC) WithAIDC(els ...gs1.Element) (EPC, error) {
	s := e.scheme
	if !s.Plus() {
		return EPC{}, newErr(s, "scheme", s.String(), ErrScheme, "+AIDC data follows only the '+' and '++' schemes")
	}
	in := e.plusInput()
	in.aidc = els
	return encodePlus(in)
}

// plusInput returns what e was encoded from, with the encoding choices the
// bits record, so that encoding it again gives the same bits.
func (e *EPC) plusInput() plusIn {
	sp := &plusSpecs[e.scheme.base()]
	in := plusIn{s: e.scheme, filter: int(e.filter), enc: int(e.enc), forced: true, split: -1}
	if e.scheme.PlusPlus() {
		in.host, in.hostFrom = e, int(e.hostAt)
	}
	switch {
	case e.scheme.base() == GIAIPlus:
		in.key, in.split = string(e.str[:e.strLen]), int(e.partition)
	default:
		in.key = padded(e.ref, sp.keyDigits)
		if sp.tailField != "" {
			in.tail = string(e.str[:e.strLen])
		}
	}
	if d, dt, ok := e.Date(); ok {
		in.date, in.dt = d, dt
	}
	return in
}

// putAIDC writes els as +AIDC data.
func putAIDC(w *writer, s Scheme, own []string, els []gs1.Element) error {
	for _, el := range els {
		for _, o := range own {
			if el.AI == o {
				return newErr(s, "AI ("+el.AI+")", el.Value, ErrAIDC, "is already part of the "+s.String()+" EPC")
			}
		}
		row, ok := lookupF(el.AI)
		if !ok || !allDigits(el.AI) {
			return newErr(s, "AI ("+el.AI+")", el.Value, ErrAIDC, "is not in TDS Table F: it cannot follow an EPC")
		}
		if err := gs1.ValidateValue(el.AI, el.Value); err != nil {
			return newErr(s, "AI ("+el.AI+")", el.Value, ErrAIDC, err.Error())
		}
		for i := 0; i < len(el.AI); i++ {
			w.put(uint64(el.AI[i]-'0'), 4)
		}
		v1, v2 := el.Value, ""
		if row.c2.m != mNone {
			// Every two-component AI has a fixed-length first component.
			n := min(int(row.c1.chars), len(v1))
			v1, v2 = el.Value[:n], el.Value[n:]
		}
		if err := putComp(w, s, el.AI, row.c1, v1); err != nil {
			return err
		}
		if row.c2.m != mNone {
			if err := putComp(w, s, el.AI, row.c2, v2); err != nil {
				return err
			}
		}
	}
	if w.err {
		return newErr(s, "bit length", "", ErrLength, "the EPC (with its hostname and +AIDC data) takes more than the 496 bits of an EPC bank")
	}
	return nil
}

func putDateDigits(w *writer, v string) {
	w.put(parseDigits(v[0:2]), 7)
	w.put(parseDigits(v[2:4]), 4)
	w.put(parseDigits(v[4:6]), 5)
}

// putNumber writes the digits of v as one nb-bit integer.
func putNumber(w *writer, v string, nb int) {
	if len(v) <= 38 {
		hi, lo := digits128(v)
		w.put128(hi, lo, nb)
		return
	}
	x, _ := new(big.Int).SetString(v, 10)
	for i := nb - 1; i >= 0; i-- {
		w.put(uint64(x.Bit(i)), 1)
	}
}

// putComp writes one component; the value has passed gs1 validation, so
// only what that does not check is checked here.
func putComp(w *writer, s Scheme, ai string, c comp, v string) error {
	bad := func(rule string) error { return newErr(s, "AI ("+ai+")", v, ErrAIDC, rule) }
	switch c.m {
	case mFixedNumeric:
		if len(v) != int(c.chars) || !allDigits(v) {
			return bad("must be " + itoa(uint64(c.chars)) + " digits")
		}
		for i := 0; i < len(v); i++ {
			w.put(uint64(v[i]-'0'), 4)
		}
	case mFixedBitNum:
		if len(v) != int(c.chars) || !allDigits(v) {
			return bad("must be " + itoa(uint64(c.chars)) + " digits")
		}
		putNumber(w, v, int(c.bits))
	case mVarNumeric:
		if len(v) == 0 || len(v) > int(c.max) || !allDigits(v) {
			return bad("must be 1–" + itoa(uint64(c.max)) + " digits")
		}
		w.put(uint64(len(v)), int(c.lenBits))
		putNumber(w, v, int(numericBits[len(v)]))
	case mAlnum:
		return putAlnumLen(w, s, "AI ("+ai+")", v, int(c.lenBits), int(c.max), -1, true)
	case mDelimited:
		i := 0
		for i < len(v) && v[i] >= '0' && v[i] <= '9' {
			w.put(uint64(v[i]-'0'), 4)
			i++
		}
		if i == len(v) {
			w.put(15, 4)
			return nil
		}
		w.put(14, 4)
		return putAlnumLen(w, s, "AI ("+ai+")", v[i:], int(c.lenBits), int(c.max), -1, true)
	case mSingleBit:
		if v != "0" && v != "1" {
			return bad("must be 0 or 1")
		}
		w.put(uint64(v[0]-'0'), 1)
	case mMinus:
		if v != "" && v != "-" {
			return bad("the sign must be '-' or nothing")
		}
		w.put(uint64(len(v)), 1)
	case mDate:
		putDateDigits(w, v)
	case mDateTime:
		putDateDigits(w, v)
		w.put(parseDigits(v[6:8]), 5)
		w.put(parseDigits(v[8:10]), 6)
	case mDateRange:
		w.put(uint64(len(v)/12), 1)
		putDateDigits(w, v)
		if len(v) == 12 {
			putDateDigits(w, v[6:])
		}
	case mVarDateTime:
		f := map[int]uint64{6: 3, 8: 0, 10: 1, 12: 2}[len(v)]
		w.put(f, 2)
		putDateDigits(w, v)
		for i, nb := range []int{5, 6, 6} {
			if len(v) >= 8+2*i {
				w.put(parseDigits(v[6+2*i:8+2*i]), nb)
			}
		}
	case mSequence:
		if len(v) != 3 || v[1] != '/' || v[0] < '1' || v[0] > '9' || v[2] < '1' || v[2] > '9' {
			return bad("must be n/m with digits 1–9")
		}
		w.put(uint64(v[0]-'0'), 4)
		w.put(uint64(v[2]-'0'), 4)
	case mCountry:
		for i := 0; i < 2; i++ {
			k := indexByte(alphaBase64, v[i])
			if k < 0 || v[i] < 'A' || v[i] > 'Z' {
				return bad("must be two upper-case letters")
			}
			w.put(uint64(k), 6)
		}
	default:
		return bad("has no encoding method")
	}
	return nil
}

// plusOwnAIs are the AIs a '+' EPC carries itself.
func plusOwnAIs(s Scheme, dt DateType) []string {
	if s.base() == DSGTINPlus {
		return []string{"01", "21", dt.AI()}
	}
	return plusSpecs[s.base()].own
}
