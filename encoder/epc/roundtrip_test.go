package epc

import (
	"math/big"
	"math/rand/v2"
	"strings"
	"testing"
)

const cset82Chars = "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"

func randDigits(r *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + r.IntN(10))
	}
	return string(b)
}

// randNumber returns a decimal number below limit without leading zeros.
func randNumber(r *rand.Rand, limit uint64) string {
	// Favour the edges: 0, the limit - 1, and short and long values.
	switch r.IntN(6) {
	case 0:
		return "0"
	case 1:
		return itoa(limit - 1)
	case 2:
		return itoa(r.Uint64N(1000))
	}
	return itoa(r.Uint64N(limit))
}

func randString(r *rand.Rand, alphabet string, maxLen int) string {
	n := 1 + r.IntN(maxLen)
	if r.IntN(4) == 0 {
		n = maxLen
	}
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return string(b)
}

func withCheckDigit(body string) string {
	return body + itoa(checkDigit(parseDigits(body), len(body)))
}

// expectBits is an independent encoder for the partitioned schemes, on
// math/big, following the TDS coding tables field by field.
func expectBits(s Scheme, filter, partition int, cp, ref, tail string) []byte {
	L := layouts[s]
	r := L.part[partition]
	v := new(big.Int)
	push := func(x *big.Int, bits int) {
		v.Lsh(v, uint(bits))
		v.Or(v, x)
	}
	num := func(d string) *big.Int {
		x, ok := new(big.Int).SetString("0"+d, 10)
		if !ok {
			panic(d)
		}
		return x
	}
	str := func(c string, bits int) {
		for i := 0; i < len(c); i++ {
			push(big.NewInt(int64(c[i])), 7)
		}
		push(new(big.Int), bits-7*len(c))
	}
	push(big.NewInt(int64(L.header)), 8)
	push(big.NewInt(int64(filter)), 3)
	push(big.NewInt(int64(partition)), 3)
	push(num(cp), int(r.cpBits))
	if L.refString {
		str(ref, int(r.refBits))
	} else {
		push(num(ref), int(r.refBits))
	}
	switch L.tail {
	case tailInteger:
		push(num(tail), L.tailBits)
	case tailString:
		str(tail, L.tailBits)
	case tailReserved:
		push(new(big.Int), L.tailBits)
	}
	words := (L.bits + 15) / 16
	v.Lsh(v, uint(words*16-L.bits))
	return v.FillBytes(make([]byte, words*2))
}

func TestRoundTripPartitioned(t *testing.T) {
	r := rand.New(rand.NewPCG(20261126, 5))
	const perPartition = 60
	for s := SGTIN96; s <= GSRN96; s++ {
		L := layouts[s]
		for p := 0; p < 7; p++ {
			row := L.part[p]
			cpLen := int(row.cpDigits)
			for i := 0; i < perPartition; i++ {
				filter := r.IntN(8)
				cp := randDigits(r, cpLen)
				var ref, tail string
				switch {
				case L.refString:
					ref = randString(r, cset82Chars, int(row.refDigits))
				case s == GIAI96:
					ref = randNumber(r, 1<<row.refBits)
				default:
					ref = randDigits(r, int(row.refDigits))
				}
				switch L.tail {
				case tailInteger:
					tail = randNumber(r, 1<<L.tailBits)
				case tailString:
					tail = randString(r, cset82Chars, L.tailChars)
				}
				var v Values
				switch L.family {
				case famSGTIN:
					v.GTIN = withCheckDigit(ref[:1] + cp + ref[1:])
					v.Serial = tail
				case famSSCC:
					v.SSCC = withCheckDigit(ref[:1] + cp + ref[1:])
				case famSGLN:
					v.GLN = withCheckDigit(cp + ref)
					v.Extension = tail
				case famGRAI:
					v.GRAI = withCheckDigit(cp + ref)
					v.Serial = tail
				case famGIAI:
					v.GIAI = cp + ref
				case famGDTI:
					v.GDTI = withCheckDigit(cp + ref)
					v.Serial = tail
				case famGSRN:
					v.GSRN = withCheckDigit(cp + ref)
				}
				e, err := Encode(s, filter, cpLen, v)
				if err != nil {
					t.Fatalf("%v partition %d: Encode(%+v): %v", s, p, v, err)
				}
				want := expectBits(s, filter, p, cp, ref, tail)
				if got := e.Bytes(); string(got) != string(want) {
					t.Fatalf("%v %+v: bits\n%X, want\n%X", s, v, got, want)
				}
				if e.Scheme() != s || int(e.Filter()) != filter || e.CompanyPrefix() != cp {
					t.Fatalf("%v %+v: scheme %v filter %d cp %s", s, v, e.Scheme(), e.Filter(), e.CompanyPrefix())
				}
				roundTrip(t, e, cpLen)
			}
		}
	}
}

// roundTrip checks that every form of e parses back to e.
func roundTrip(t *testing.T, e EPC, cpLen int) {
	t.Helper()
	s, f := e.Scheme(), int(e.Filter())
	d, err := Decode(e.Bytes(), 0)
	if err != nil || d != e {
		t.Fatalf("%s: Decode(Bytes) = %v", e.Hex(), err)
	}
	h, err := DecodeHex(e.Hex())
	if err != nil || h != e {
		t.Fatalf("%s: DecodeHex(Hex) = %v", e.Hex(), err)
	}
	if !s.Plus() {
		tu, err := ParseURI(e.TagURI())
		if err != nil || tu != e {
			t.Fatalf("%s: ParseURI(%s) = %s, %v", e.Hex(), e.TagURI(), tu.Hex(), err)
		}
		pu, err := ParsePureURI(e.PureURI(), s, f)
		if err != nil || pu != e {
			t.Fatalf("%s: ParsePureURI(%s) = %s, %v", e.Hex(), e.PureURI(), pu.Hex(), err)
		}
	}
	// An element string has no hostname for a '++' scheme.
	if !s.PlusPlus() {
		g, err := ParseGS1(e.GS1(), s, f, cpLen)
		if err != nil || g != e {
			t.Fatalf("%s: ParseGS1(%s) = %s, %v", e.Hex(), e.GS1(), g.Hex(), err)
		}
	}
	dl, err := e.DigitalLink("")
	if err != nil {
		t.Fatalf("%s: DigitalLink: %v", e.Hex(), err)
	}
	// A Digital Link URI puts +AIDC data in its own order: then only the
	// data must agree.
	g, err := ParseGS1(dl, s, f, cpLen)
	if err != nil || g != e && !(e.AIDC() && sameElements(g, e)) && !(s.PlusPlus() && g.Hostname() == e.Hostname() && g.GS1() == e.GS1()) {
		t.Fatalf("%s: ParseGS1(%s) = %s, %v", e.Hex(), dl, g.Hex(), err)
	}
}

func TestRoundTripPlus(t *testing.T) {
	r := rand.New(rand.NewPCG(20261126, 6))
	alphabets := []string{"0123456789", alphaUpper, alphaLower, alphaBase64, alphaCode40[1:], cset82Chars}
	for i := 0; i < 800; i++ {
		filter := r.IntN(8)
		serial := randString(r, alphabets[r.IntN(len(alphabets))], 20)
		var e EPC
		var err error
		switch i % 8 {
		case 0:
			gtin := withCheckDigit(randDigits(r, 13))
			e, err = NewSGTINPlus(filter, gtin, serial)
			if err == nil && (e.GTIN() != gtin || e.Serial() != serial) {
				t.Fatalf("SGTIN+ %s %s: got %s %s", gtin, serial, e.GTIN(), e.Serial())
			}
		case 1:
			gtin := withCheckDigit(randDigits(r, 13))
			typ := DateType(r.IntN(numDateTypes))
			mm := 1 + r.IntN(12)
			dd := r.IntN(int(daysIn[mm]) + 1)
			if dd == 0 && typ > DateExpiration {
				dd = 1 // (7006) and (7007) need a day
			}
			yy := r.IntN(100)
			if mm == 2 && dd == 29 && yy%4 != 0 {
				dd = 28
			}
			date := padded(uint64(yy), 2) + padded(uint64(mm), 2) + padded(uint64(dd), 2)
			e, err = NewDSGTINPlus(filter, typ, date, gtin, serial)
			if d, gt, _ := e.Date(); err == nil && (d != date || gt != typ || e.Serial() != serial) {
				t.Fatalf("DSGTIN+ %s %v: got %s %v", date, typ, d, gt)
			}
		case 2:
			sscc := withCheckDigit(randDigits(r, 17))
			e, err = NewSSCCPlus(filter, sscc)
			if err == nil && (e.SSCC() != sscc || e.BitLen() != 84) {
				t.Fatalf("SSCC+ %s: got %s, %d bits", sscc, e.SSCC(), e.BitLen())
			}
		case 3:
			gln := withCheckDigit(randDigits(r, 12))
			e, err = NewSGLNPlus(filter, gln, serial)
			if err == nil && (e.GLN() != gln || e.Extension() != serial) {
				t.Fatalf("SGLN+ %s %s: got %s %s", gln, serial, e.GLN(), e.Extension())
			}
		case 4:
			grai := withCheckDigit(randDigits(r, 12))
			serial = serial[:min(len(serial), 16)]
			e, err = NewGRAIPlus(filter, grai, serial)
			if err == nil && e.GRAI() != "0"+grai+serial {
				t.Fatalf("GRAI+ %s %s: got %s", grai, serial, e.GRAI())
			}
		case 5:
			giai := randDigits(r, 6+r.IntN(7)) + randString(r, alphabets[r.IntN(len(alphabets))], 10)
			if r.IntN(3) == 0 {
				giai = randDigits(r, 6+r.IntN(24))
			}
			e, err = NewGIAIPlus(filter, giai)
			if err == nil && e.GIAI() != giai {
				t.Fatalf("GIAI+ %s: got %s", giai, e.GIAI())
			}
		case 6:
			gsrn := withCheckDigit(randDigits(r, 17))
			e, err = NewGSRNPlus(filter, gsrn)
			if err == nil && e.GSRN() != gsrn {
				t.Fatalf("GSRN+ %s: got %s", gsrn, e.GSRN())
			}
		case 7:
			gdti := withCheckDigit(randDigits(r, 12))
			serial = serial[:min(len(serial), 17)]
			e, err = NewGDTIPlus(filter, gdti, serial)
			if err == nil && (e.GDTI() != gdti+serial || e.Serial() != serial) {
				t.Fatalf("GDTI+ %s %s: got %s", gdti, serial, e.GDTI())
			}
		}
		if err != nil {
			t.Fatalf("case %d serial %q: %v", i, serial, err)
		}
		if int(e.Filter()) != filter || e.TagURI() != "" || e.PureURI() != "" || strings.HasPrefix(e.String(), "urn:") {
			t.Fatalf("%s: filter %d tag %q pure %q string %q", e.Hex(), e.Filter(), e.TagURI(), e.PureURI(), e.String())
		}
		roundTrip(t, e, 0)
	}
}
