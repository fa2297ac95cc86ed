package epc

// The GS1 keys an EPC carries. Each accessor returns "" when the EPC's
// scheme does not carry that key.

func (e *EPC) row() partRow { return layouts[e.scheme].part[e.partition] }

func (e *EPC) partitioned() bool {
	return e.scheme != SchemeRaw && !e.scheme.Plus()
}

// CompanyPrefix returns the GS1 company prefix with its leading zeros; ""
// for '+' schemes (which do not record its length) and raw EPCs.
func (e EPC) CompanyPrefix() string {
	if !e.partitioned() {
		return ""
	}
	return padded(e.cp, int(e.row().cpDigits))
}

// body returns company prefix and reference joined as one number of
// cpDigits+refDigits digits, with the reference's first digit moved in
// front when lead is set (SGTIN indicator, SSCC extension digit).
func (e *EPC) body(lead bool) (v uint64, digits int) {
	r := e.row()
	rd := int(r.refDigits)
	if !lead {
		return e.cp*pow10[rd] + e.ref, int(r.cpDigits) + rd
	}
	first := e.ref / pow10[rd-1]
	rest := e.ref % pow10[rd-1]
	digits = int(r.cpDigits) + rd
	return first*pow10[digits-1] + e.cp*pow10[rd-1] + rest, digits
}

func withCheck(v uint64, digits int) string {
	return padded(v*10+checkDigit(v, digits), digits+1)
}

// GTIN returns the 14-digit GTIN of an SGTIN, SGTIN+ or DSGTIN+.
func (e EPC) GTIN() string {
	switch {
	case e.scheme.base() == SGTINPlus || e.scheme.base() == DSGTINPlus:
		return padded(e.ref, 14)
	case layouts[e.scheme].family == famSGTIN:
		return withCheck(e.body(true))
	}
	return ""
}

// SSCC returns the 18-digit SSCC of an SSCC-96 or SSCC+.
func (e EPC) SSCC() string {
	switch e.scheme.base() {
	case SSCCPlus:
		return padded(e.ref, 18)
	case SSCC96:
		return withCheck(e.body(true))
	}
	return ""
}

// GLN returns the 13-digit GLN of an SGLN.
func (e EPC) GLN() string {
	switch {
	case layouts[e.scheme].family != famSGLN:
		return ""
	case e.scheme.Plus():
		return padded(e.ref, 13)
	}
	return withCheck(e.body(false))
}

// Extension returns an SGLN's GLN extension, "0" when there is none.
func (e EPC) Extension() string {
	if layouts[e.scheme].family != famSGLN {
		return ""
	}
	return e.tail()
}

// Serial returns the serial of an SGTIN, SGTIN+, DSGTIN+, GRAI or GDTI.
func (e EPC) Serial() string {
	switch layouts[e.scheme].family {
	case famSGTIN, famGRAI, famGDTI:
		return e.tail()
	}
	return ""
}

func (e *EPC) tail() string {
	if e.scheme.Plus() || layouts[e.scheme].tail == tailString {
		return string(e.str[:e.strLen])
	}
	return itoa(e.serial)
}

// GRAI returns the AI (8003) value of a GRAI: "0", the 13-digit GRAI with
// its check digit, then the serial.
func (e EPC) GRAI() string {
	switch {
	case layouts[e.scheme].family != famGRAI:
		return ""
	case e.scheme.Plus():
		return padded(e.ref, 14) + e.tail()
	}
	return "0" + withCheck(e.body(false)) + e.tail()
}

// GIAI returns the AI (8004) value of a GIAI: company prefix and individual
// asset reference.
func (e EPC) GIAI() string {
	switch {
	case layouts[e.scheme].family != famGIAI:
		return ""
	case e.scheme.Plus():
		return string(e.str[:e.strLen])
	}
	return e.CompanyPrefix() + e.assetRef()
}

func (e *EPC) assetRef() string {
	if e.scheme == GIAI202 {
		return string(e.str[:e.strLen])
	}
	return itoa(e.ref)
}

// GDTI returns the AI (253) value of a GDTI: the 13-digit GDTI with its
// check digit, then the serial.
func (e EPC) GDTI() string {
	switch {
	case layouts[e.scheme].family != famGDTI:
		return ""
	case e.scheme.Plus():
		return padded(e.ref, 13) + e.tail()
	}
	return withCheck(e.body(false)) + e.tail()
}

// GSRN returns the 18-digit GSRN of a GSRN-96 or GSRN+.
func (e EPC) GSRN() string {
	switch {
	case layouts[e.scheme].family != famGSRN:
		return ""
	case e.scheme.Plus():
		return padded(e.ref, 18)
	}
	return withCheck(e.body(false))
}

// DateType is the kind of date a DSGTIN+ carries (TDS §14.5.3), named by
// the AI the date stands for.
type DateType uint8

// DSGTIN+ date types.
const (
	DateProduction  DateType = 0 // AI (11)
	DatePackaging   DateType = 1 // AI (13)
	DateBestBefore  DateType = 2 // AI (15)
	DateSellBy      DateType = 3 // AI (16)
	DateExpiration  DateType = 4 // AI (17)
	DateFirstFreeze DateType = 5 // AI (7006)
	DateHarvest     DateType = 6 // AI (7007)
	numDateTypes             = 7
)

var dateAIs = [numDateTypes]string{"11", "13", "15", "16", "17", "7006", "7007"}
var dateNames = [numDateTypes]string{"production", "packaging", "best-before", "sell-by", "expiration", "first-freeze", "harvest"}

// AI returns the GS1 Application Identifier of the date type.
func (t DateType) AI() string {
	if t < numDateTypes {
		return dateAIs[t]
	}
	return ""
}

// String returns the date type's name: "production", "expiration"…
func (t DateType) String() string {
	if t < numDateTypes {
		return dateNames[t]
	}
	return "date-type(" + itoa(uint64(t)) + ")"
}

// DateTypeForAI returns the DSGTIN+ date type of a date AI (11, 13, 15, 16,
// 17, 7006, 7007).
func DateTypeForAI(ai string) (DateType, bool) {
	for i, a := range dateAIs {
		if a == ai {
			return DateType(i), true
		}
	}
	return 0, false
}

// ParseDateType accepts a date type's name or its AI.
func ParseDateType(s string) (DateType, error) {
	for i, n := range dateNames {
		if equalFoldASCII(n, s) {
			return DateType(i), nil
		}
	}
	if t, ok := DateTypeForAI(s); ok {
		return t, nil
	}
	return 0, newErr(DSGTINPlus, "date type", s, ErrDate,
		"use production, packaging, best-before, sell-by, expiration, first-freeze, harvest or the AI 11, 13, 15, 16, 17, 7006, 7007")
}

// Date returns a DSGTIN+'s date as YYMMDD and its type; ok is false for
// other schemes.
func (e EPC) Date() (yymmdd string, t DateType, ok bool) {
	if e.scheme.base() != DSGTINPlus {
		return "", 0, false
	}
	d := uint64(e.date)
	return padded(d>>9, 2) + padded(d>>5&15, 2) + padded(d&31, 2), DateType(e.dateType), true
}

// AIDC reports whether +AIDC data (further AIs, TDS §15.3) follows the EPC
// of a '+' scheme.
func (e EPC) AIDC() bool { return e.aidc }
