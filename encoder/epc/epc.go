package epc

// EPC is one decoded EPC: its bits and the fields they carry. The zero value
// is an empty raw EPC. EPC holds no pointers; copy it freely and compare it
// with ==.
type EPC struct {
	raw       [maxBytes]byte // the bits, zero past nbits
	nbits     uint16         // significant bits (the scheme's length)
	scheme    Scheme
	filter    uint8
	partition uint8 // GIAI+: the digits written as 4-bit digits
	strLen    uint8
	enc       uint8 // '+' schemes: the serial's encoding indicator
	dateType  uint8 // DSGTIN+
	aidc      bool  // '+' schemes: +AIDC data follows the EPC
	aidcAt    uint16
	hostAt    uint16   // '++' schemes: where the hostname starts
	date      uint16   // DSGTIN+: YY 7 bits, MM 4 bits, DD 5 bits
	cp        uint64   // company prefix
	ref       uint64   // reference after the company prefix; '+' schemes: the key's fixed digits
	serial    uint64   // integer serial, extension or GIAI-96 asset reference
	str       [30]byte // character serial or extension, GIAI-202 asset reference, GIAI+ value
}

// Scheme returns the binary coding scheme.
func (e EPC) Scheme() Scheme { return e.scheme }

// Filter returns the filter value; 0 for a raw EPC.
func (e EPC) Filter() Filter { return Filter(e.filter) }

// BitLen returns the number of significant bits: the scheme's length (96,
// 198 …), the bits a '+' scheme uses, or a raw EPC's given length.
func (e EPC) BitLen() int { return int(e.nbits) }

// IsRaw reports whether e is not a GS1 scheme this package knows.
func (e EPC) IsRaw() bool { return e.scheme == SchemeRaw }

// Bytes returns the bits as they are written to the EPC bank: whole 16-bit
// words, zero-padded. A raw EPC returns its bits rounded up to whole bytes.
func (e EPC) Bytes() []byte {
	return append([]byte(nil), e.raw[:e.byteLen()]...)
}

// AppendBytes appends [EPC.Bytes] to dst.
func (e EPC) AppendBytes(dst []byte) []byte { return append(dst, e.raw[:e.byteLen()]...) }

func (e *EPC) byteLen() int {
	if e.scheme == SchemeRaw {
		return (int(e.nbits) + 7) / 8
	}
	return (int(e.nbits) + 15) / 16 * 2
}

const hexDigits = "0123456789ABCDEF"

// Hex returns the bits in upper-case hexadecimal, ⌈bits/4⌉ digits with the
// last one zero-padded, as TDS Annex E writes them (an SGTIN-198 has 50
// digits). [EPC.Bytes] gives the whole words written to a tag.
func (e EPC) Hex() string {
	buf := make([]byte, (int(e.nbits)+3)/4)
	for i := range buf {
		b := e.raw[i/2]
		if i%2 == 0 {
			b >>= 4
		}
		buf[i] = hexDigits[b&15]
	}
	return string(buf)
}

// String returns the tag URI, or the GS1 Digital Link URI for a '+' scheme.
func (e EPC) String() string {
	if e.scheme.Plus() {
		s, err := e.DigitalLink("")
		if err != nil {
			return "urn:epc:raw:" + itoa(uint64(e.nbits)) + ".x" + e.Hex()
		}
		return s
	}
	return e.TagURI()
}
