package epc

// Scheme is an EPC binary coding scheme, named by the header (first 8 bits).
type Scheme uint8

// The binary coding schemes. SchemeRaw is any header that is not a GS1
// scheme this package knows.
const (
	SchemeRaw Scheme = iota
	SGTIN96
	SGTIN198
	SSCC96
	SGLN96
	SGLN195
	GRAI96
	GRAI170
	GIAI96
	GIAI202
	GDTI96
	GSRN96
	SGTINPlus
	DSGTINPlus
	SSCCPlus
	SGLNPlus
	GRAIPlus
	GIAIPlus
	GSRNPlus
	GDTIPlus
	SGTINPlusPlus
	DSGTINPlusPlus
	SSCCPlusPlus
	SGLNPlusPlus
	GRAIPlusPlus
	GIAIPlusPlus
	GSRNPlusPlus
	GDTIPlusPlus
	numSchemes
)

var schemeNames = [numSchemes]string{
	SchemeRaw:  "raw",
	SGTIN96:    "sgtin-96",
	SGTIN198:   "sgtin-198",
	SSCC96:     "sscc-96",
	SGLN96:     "sgln-96",
	SGLN195:    "sgln-195",
	GRAI96:     "grai-96",
	GRAI170:    "grai-170",
	GIAI96:     "giai-96",
	GIAI202:    "giai-202",
	GDTI96:     "gdti-96",
	GSRN96:     "gsrn-96",
	SGTINPlus:  "sgtin+",
	DSGTINPlus: "dsgtin+",
	SSCCPlus:   "sscc+",
	SGLNPlus:   "sgln+",
	GRAIPlus:   "grai+",
	GIAIPlus:   "giai+",
	GSRNPlus:   "gsrn+",
	GDTIPlus:   "gdti+",

	SGTINPlusPlus:  "sgtin++",
	DSGTINPlusPlus: "dsgtin++",
	SSCCPlusPlus:   "sscc++",
	SGLNPlusPlus:   "sgln++",
	GRAIPlusPlus:   "grai++",
	GIAIPlusPlus:   "giai++",
	GSRNPlusPlus:   "gsrn++",
	GDTIPlusPlus:   "gdti++",
}

// String returns the scheme's name as the tag URI spells it: "sgtin-96",
// "sscc+", "raw".
func (s Scheme) String() string {
	if s < numSchemes {
		return schemeNames[s]
	}
	return "scheme(" + itoa(uint64(s)) + ")"
}

// ParseScheme returns the scheme named name ("sgtin-96", "SGTIN-96", "sgtin+").
func ParseScheme(name string) (Scheme, error) {
	for s := SchemeRaw + 1; s < numSchemes; s++ {
		if equalFoldASCII(schemeNames[s], name) {
			return s, nil
		}
	}
	return SchemeRaw, newErr(SchemeRaw, "scheme", name, ErrScheme,
		"unknown scheme; use one of sgtin-96, sgtin-198, sscc-96, sgln-96, sgln-195, grai-96, grai-170, giai-96, giai-202, gdti-96, gsrn-96, sgtin+, dsgtin+, sscc+, sgln+, grai+, giai+, gsrn+, gdti+ and their '++' forms")
}

// Header returns the scheme's 8-bit header; 0 for SchemeRaw.
func (s Scheme) Header() byte {
	if s < numSchemes {
		return layouts[s].header
	}
	return 0
}

// Bits returns the scheme's bit length; 0 for the variable-length '+'
// schemes and for SchemeRaw.
func (s Scheme) Bits() int {
	if s < numSchemes {
		return layouts[s].bits
	}
	return 0
}

// Plus reports whether s is a TDS 2.0 '+' scheme or a TDS 2.3 '++' one.
func (s Scheme) Plus() bool { return s >= SGTINPlus && s < numSchemes }

// PlusPlus reports whether s is a TDS 2.3 '++' scheme: a '+' scheme that
// carries the hostname of its GS1 Digital Link URI.
func (s Scheme) PlusPlus() bool { return s >= SGTINPlusPlus && s < numSchemes }

// base returns the '+' scheme of a '++' one, and s itself otherwise.
func (s Scheme) base() Scheme {
	if s.PlusPlus() {
		return s - SGTINPlusPlus + SGTINPlus
	}
	return s
}

// plusPlus returns the '++' scheme of a '+' one.
func (s Scheme) plusPlus() Scheme {
	if s.Plus() && !s.PlusPlus() {
		return s - SGTINPlus + SGTINPlusPlus
	}
	return s
}

// identity returns the pure identity URI's scheme name: "sgtin", "sscc"…
func (s Scheme) identity() string {
	if s < numSchemes {
		return layouts[s].family.String()
	}
	return ""
}

// Filter is the 3-bit filter value that tells a reader what kind of object
// carries the tag. Its meaning depends on the scheme; the constants are the
// SGTIN and SSCC values a receiving dock uses.
type Filter uint8

// Filter values of TDS table 10-x (SGTIN) and the SSCC ones that share them.
const (
	FilterAllOthers   Filter = 0 // all others
	FilterPointOfSale Filter = 1 // point-of-sale (POS) trade item
	FilterFullCase    Filter = 2 // full case for transport
	FilterInnerPack   Filter = 4 // inner pack trade item grouping for handling
	FilterUnitLoad    Filter = 6 // unit load (pallet)
	FilterComponent   Filter = 7 // unit inside a trade item or component
)

// family is the GS1 key an EPC scheme carries.
type family uint8

const (
	famNone family = iota
	famSGTIN
	famSSCC
	famSGLN
	famGRAI
	famGIAI
	famGDTI
	famGSRN
)

func (f family) String() string {
	return [...]string{"", "sgtin", "sscc", "sgln", "grai", "giai", "gdti", "gsrn"}[f]
}

// partRow is one row of a partition table: the company prefix field and
// the field after it, in bits and decimal digits (or characters).
type partRow struct {
	cpBits, cpDigits   uint8
	refBits, refDigits uint8
}

type partTable [7]partRow

// Partition tables, TDS §14.2.
var (
	// SGTIN: company prefix / indicator + item reference (44 bits).
	partSGTIN = partTable{{40, 12, 4, 1}, {37, 11, 7, 2}, {34, 10, 10, 3}, {30, 9, 14, 4}, {27, 8, 17, 5}, {24, 7, 20, 6}, {20, 6, 24, 7}}
	// SSCC and GSRN: company prefix / serial or service reference (58 bits).
	partSSCC = partTable{{40, 12, 18, 5}, {37, 11, 21, 6}, {34, 10, 24, 7}, {30, 9, 28, 8}, {27, 8, 31, 9}, {24, 7, 34, 10}, {20, 6, 38, 11}}
	// SGLN and GDTI: company prefix / location reference or document type (41 bits).
	partSGLN = partTable{{40, 12, 1, 0}, {37, 11, 4, 1}, {34, 10, 7, 2}, {30, 9, 11, 3}, {27, 8, 14, 4}, {24, 7, 17, 5}, {20, 6, 21, 6}}
	// GRAI: company prefix / asset type (44 bits).
	partGRAI = partTable{{40, 12, 4, 0}, {37, 11, 7, 1}, {34, 10, 10, 2}, {30, 9, 14, 3}, {27, 8, 17, 4}, {24, 7, 20, 5}, {20, 6, 24, 6}}
	// GIAI-96: company prefix / individual asset reference as an integer (82 bits).
	partGIAI96 = partTable{{40, 12, 42, 13}, {37, 11, 45, 14}, {34, 10, 48, 15}, {30, 9, 52, 16}, {27, 8, 55, 17}, {24, 7, 58, 18}, {20, 6, 62, 19}}
	// GIAI-202: company prefix / individual asset reference as 7-bit characters (188 bits).
	partGIAI202 = partTable{{40, 12, 148, 18}, {37, 11, 151, 19}, {34, 10, 154, 20}, {30, 9, 158, 21}, {27, 8, 161, 22}, {24, 7, 164, 23}, {20, 6, 168, 24}}
)

// tailKind is what follows the company prefix and reference fields.
type tailKind uint8

const (
	tailNone     tailKind = iota // GIAI: nothing
	tailInteger                  // numeric serial or extension, no leading zeros
	tailString                   // 7-bit characters, zero-padded
	tailReserved                 // bits that must be zero (SSCC-96, GSRN-96)
)

// layout describes one binary scheme with a partition table.
type layout struct {
	header    byte
	bits      int
	family    family
	part      *partTable
	refString bool // the field after the company prefix is 7-bit characters (GIAI-202)
	tail      tailKind
	tailBits  int
	tailChars int // maximum characters of a string tail
	tailField string
}

var layouts = [numSchemes]layout{
	SchemeRaw:  {},
	SGTIN96:    {header: 0x30, bits: 96, family: famSGTIN, part: &partSGTIN, tail: tailInteger, tailBits: 38, tailField: "serial"},
	SGTIN198:   {header: 0x36, bits: 198, family: famSGTIN, part: &partSGTIN, tail: tailString, tailBits: 140, tailChars: 20, tailField: "serial"},
	SSCC96:     {header: 0x31, bits: 96, family: famSSCC, part: &partSSCC, tail: tailReserved, tailBits: 24},
	SGLN96:     {header: 0x32, bits: 96, family: famSGLN, part: &partSGLN, tail: tailInteger, tailBits: 41, tailField: "extension"},
	SGLN195:    {header: 0x39, bits: 195, family: famSGLN, part: &partSGLN, tail: tailString, tailBits: 140, tailChars: 20, tailField: "extension"},
	GRAI96:     {header: 0x33, bits: 96, family: famGRAI, part: &partGRAI, tail: tailInteger, tailBits: 38, tailField: "serial"},
	GRAI170:    {header: 0x37, bits: 170, family: famGRAI, part: &partGRAI, tail: tailString, tailBits: 112, tailChars: 16, tailField: "serial"},
	GIAI96:     {header: 0x34, bits: 96, family: famGIAI, part: &partGIAI96},
	GIAI202:    {header: 0x38, bits: 202, family: famGIAI, part: &partGIAI202, refString: true},
	GDTI96:     {header: 0x2C, bits: 96, family: famGDTI, part: &partSGLN, tail: tailInteger, tailBits: 41, tailField: "serial"},
	GSRN96:     {header: 0x2D, bits: 96, family: famGSRN, part: &partSSCC, tail: tailReserved, tailBits: 24},
	SGTINPlus:  {header: 0xF7, family: famSGTIN},
	DSGTINPlus: {header: 0xFB, family: famSGTIN},
	SSCCPlus:   {header: 0xF9, family: famSSCC},
	SGLNPlus:   {header: 0xF2, family: famSGLN},
	GRAIPlus:   {header: 0xF1, family: famGRAI},
	GIAIPlus:   {header: 0xFA, family: famGIAI},
	GSRNPlus:   {header: 0xF4, family: famGSRN},
	GDTIPlus:   {header: 0xF6, family: famGDTI},

	SGTINPlusPlus:  {header: 0xFD, family: famSGTIN},
	DSGTINPlusPlus: {header: 0xFC, family: famSGTIN},
	SSCCPlusPlus:   {header: 0xEF, family: famSSCC},
	SGLNPlusPlus:   {header: 0xE9, family: famSGLN},
	GRAIPlusPlus:   {header: 0xEB, family: famGRAI},
	GIAIPlusPlus:   {header: 0xEE, family: famGIAI},
	GSRNPlusPlus:   {header: 0xE7, family: famGSRN},
	GDTIPlusPlus:   {header: 0xEA, family: famGDTI},
}

// plusSpec describes a TDS 2.0 '+' scheme after its header, toggle and
// filter (and DSGTIN+'s date): the GS1 key as fixed-length numeric digits
// (TDS §14.5.4), then a variable-length alphanumeric part (§14.5.6) — or,
// for GIAI+, the whole key as delimited numeric (§14.5.5). The layout is
// that of the key's AIs in TDS Table F.
type plusSpec struct {
	keyField  string
	keyDigits int  // fixed-length numeric digits; 0 for GIAI+
	padDigit  bool // GRAI+: a leading '0' the check digit does not cover
	tailField string
	tailMax   int
	own       []string // the AIs the EPC stands for
}

var plusSpecs = [numSchemes]plusSpec{
	SGTINPlus:  {keyField: "gtin", keyDigits: 14, tailField: "serial", tailMax: 20, own: []string{"01", "21"}},
	DSGTINPlus: {keyField: "gtin", keyDigits: 14, tailField: "serial", tailMax: 20, own: []string{"01", "21"}},
	SSCCPlus:   {keyField: "sscc", keyDigits: 18, own: []string{"00"}},
	SGLNPlus:   {keyField: "gln", keyDigits: 13, tailField: "extension", tailMax: 20, own: []string{"414", "254"}},
	GRAIPlus:   {keyField: "grai", keyDigits: 14, padDigit: true, tailField: "serial", tailMax: 16, own: []string{"8003"}},
	GIAIPlus:   {keyField: "giai", tailMax: 30, own: []string{"8004"}},
	GSRNPlus:   {keyField: "gsrn", keyDigits: 18, own: []string{"8018"}},
	GDTIPlus:   {keyField: "gdti", keyDigits: 13, tailField: "serial", tailMax: 17, own: []string{"253"}},
}

// byHeader maps a header byte to its scheme; SchemeRaw for the rest.
var byHeader = func() (t [256]Scheme) {
	for s := SchemeRaw + 1; s < numSchemes; s++ {
		t[layouts[s].header] = s
	}
	return t
}()

// partitionFor returns the partition value for a company prefix of cpLen
// digits.
func partitionFor(t *partTable, cpLen int) (int, bool) {
	for p, r := range t {
		if int(r.cpDigits) == cpLen {
			return p, true
		}
	}
	return 0, false
}
