package epc

// fields are the text fields of a partitioned scheme, as the pure identity
// URI writes them.
type fields struct {
	cp   string // company prefix digits
	ref  string // reference digits (with the indicator or extension digit); GIAI: asset reference
	tail string // serial or extension, unescaped
}

func checkFilter(s Scheme, filter int) error {
	if filter < 0 || filter > 7 {
		return newErr(s, "filter", itoa(uint64(max(filter, 0))), ErrFilter, "filter values are 0–7")
	}
	return nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func parseDigits(s string) uint64 {
	var v uint64
	for i := 0; i < len(s); i++ {
		v = v*10 + uint64(s[i]-'0')
	}
	return v
}

// build validates the fields for scheme s and encodes them.
func build(s Scheme, filter int, f fields) (EPC, error) {
	if s == SchemeRaw || s >= numSchemes || s.Plus() {
		return EPC{}, newErr(s, "scheme", s.String(), ErrScheme, "has no partition table")
	}
	if err := checkFilter(s, filter); err != nil {
		return EPC{}, err
	}
	L := &layouts[s]
	if !allDigits(f.cp) {
		return EPC{}, newErr(s, "company prefix", f.cp, ErrDigits, "must be digits")
	}
	p, ok := partitionFor(L.part, len(f.cp))
	if !ok {
		return EPC{}, newErr(s, "company prefix", f.cp, ErrCompanyPrefix, "must have 6 to 12 digits")
	}
	r := L.part[p]
	var w writer
	w.put(uint64(L.header), 8)
	w.put(uint64(filter), 3)
	w.put(uint64(p), 3)
	w.put(parseDigits(f.cp), int(r.cpBits))
	switch {
	case L.refString:
		if err := putString(&w, s, "asset reference", f.ref, int(r.refBits), int(r.refDigits)); err != nil {
			return EPC{}, err
		}
	case s == GIAI96:
		v, err := canonicalInteger(s, "asset reference", f.ref, int(r.refBits), "; use giai-202 for other asset references")
		if err != nil {
			return EPC{}, err
		}
		w.put(v, int(r.refBits))
	default:
		if len(f.ref) != int(r.refDigits) || !allDigits(f.ref) {
			return EPC{}, newErr(s, refName(L.family), f.ref, ErrDigits,
				"must be "+itoa(uint64(r.refDigits))+" digits with a "+itoa(uint64(len(f.cp)))+"-digit company prefix")
		}
		w.put(parseDigits(f.ref), int(r.refBits))
	}
	switch L.tail {
	case tailInteger:
		hint := ""
		switch s {
		case SGTIN96:
			hint = "; use sgtin-198 for other serials"
		case GRAI96:
			hint = "; use grai-170 for other serials"
		case SGLN96:
			hint = "; use sgln-195 for other extensions"
		}
		v, err := canonicalInteger(s, L.tailField, f.tail, L.tailBits, hint)
		if err != nil {
			return EPC{}, err
		}
		w.put(v, L.tailBits)
	case tailString:
		if err := putString(&w, s, L.tailField, f.tail, L.tailBits, L.tailChars); err != nil {
			return EPC{}, err
		}
	case tailReserved:
		w.put(0, L.tailBits)
	}
	return Decode(w.raw[:(L.bits+7)/8], L.bits)
}

// canonicalInteger parses a numeric field that must have no leading zeros
// and fit in nbits.
func canonicalInteger(s Scheme, field, v string, nbits int, hint string) (uint64, error) {
	switch {
	case v == "":
		return 0, newErr(s, field, v, ErrSerial, "is empty")
	case !allDigits(v):
		return 0, newErr(s, field, v, ErrSerial, "must be all digits in "+s.String()+hint)
	case len(v) > 1 && v[0] == '0':
		return 0, newErr(s, field, v, ErrSerial, "must not have leading zeros in "+s.String()+hint)
	case len(v) > 19:
		return 0, newErr(s, field, v, ErrSerial, "must be less than "+itoa(1<<nbits)+" in "+s.String()+hint)
	}
	n := parseDigits(v)
	if n>>nbits != 0 {
		return 0, newErr(s, field, v, ErrSerial, "must be less than "+itoa(1<<nbits)+" in "+s.String()+hint)
	}
	return n, nil
}

// putString writes TDS "String" encoding: 7-bit characters of CSET 82,
// zero-padded to nbits.
func putString(w *writer, s Scheme, field, v string, nbits, maxChars int) error {
	if err := checkCSET82(s, field, v, maxChars); err != nil {
		return err
	}
	for i := 0; i < len(v); i++ {
		w.put(uint64(v[i]), 7)
	}
	w.put(0, nbits-7*len(v))
	return nil
}

func checkCSET82(s Scheme, field, v string, maxChars int) error {
	if v == "" {
		return newErr(s, field, v, ErrSerial, "is empty")
	}
	// The characters first: the length counts bytes, which are characters
	// only in CSET 82.
	for i := 0; i < len(v); i++ {
		if !inCSET82(v[i]) {
			return newErr(s, field, v, ErrCharset, "character "+quoteChar(v, i)+" is not in the GS1 character set 82 (A–Z a–z 0–9 ! \" % & ' ( ) * + , - . / : ; < = > ? _)")
		}
	}
	if len(v) > maxChars {
		return newErr(s, field, v, ErrSerial, "has more than the "+itoa(uint64(maxChars))+" characters "+s.String()+" holds")
	}
	return nil
}

// normalizeKey checks a numeric GS1 key of one of the lengths given and its
// check digit, and returns it left-padded with zeros to the first length.
func normalizeKey(s Scheme, field, v string, lengths ...int) (string, error) {
	if !allDigits(v) || v == "" {
		return "", newErr(s, field, v, ErrDigits, "must be digits")
	}
	ok := false
	for _, n := range lengths {
		ok = ok || len(v) == n
	}
	if !ok {
		want := ""
		for i, n := range lengths {
			if i > 0 {
				want += " or "
			}
			want += itoa(uint64(n))
		}
		return "", newErr(s, field, v, ErrDigits, "must have "+want+" digits")
	}
	n := len(v)
	if c := checkDigit(parseDigits(v[:n-1]), n-1); c != uint64(v[n-1]-'0') {
		return "", newErr(s, field, v, ErrCheckDigit, "check digit should be "+itoa(c))
	}
	for len(v) < lengths[0] {
		v = "0" + v
	}
	return v, nil
}

func checkCPLen(s Scheme, cpLen, lo, hi int) error {
	if cpLen < lo || cpLen > hi {
		return newErr(s, "company prefix length", itoa(uint64(max(cpLen, 0))), ErrCompanyPrefix,
			"must be "+itoa(uint64(lo))+"–"+itoa(uint64(hi))+" digits; pass the length GS1 assigned to the company")
	}
	return nil
}

// sgtinFields splits a GTIN at the company prefix.
func sgtinFields(s Scheme, cpLen int, gtin string) (fields, error) {
	g, err := normalizeKey(s, "gtin", gtin, 14, 13, 12, 8)
	if err != nil {
		return fields{}, err
	}
	if err := checkCPLen(s, cpLen, 6, 12); err != nil {
		return fields{}, err
	}
	return fields{cp: g[1 : 1+cpLen], ref: g[:1] + g[1+cpLen:13]}, nil
}

// NewSGTIN96 encodes an SGTIN-96 from a GTIN (8, 12, 13 or 14 digits with
// its check digit), the length of its company prefix (6–12) and a serial
// below 2^38.
func NewSGTIN96(filter, companyPrefixLen int, gtin string, serial uint64) (EPC, error) {
	f, err := sgtinFields(SGTIN96, companyPrefixLen, gtin)
	if err != nil {
		return EPC{}, err
	}
	f.tail = itoa(serial)
	return build(SGTIN96, filter, f)
}

// NewSGTIN198 encodes an SGTIN-198: the serial is 1–20 characters of GS1
// character set 82, leading zeros allowed.
func NewSGTIN198(filter, companyPrefixLen int, gtin, serial string) (EPC, error) {
	f, err := sgtinFields(SGTIN198, companyPrefixLen, gtin)
	if err != nil {
		return EPC{}, err
	}
	f.tail = serial
	return build(SGTIN198, filter, f)
}

// NewSSCC96 encodes an SSCC-96 from an 18-digit SSCC with its check digit.
func NewSSCC96(filter, companyPrefixLen int, sscc string) (EPC, error) {
	v, err := normalizeKey(SSCC96, "sscc", sscc, 18)
	if err != nil {
		return EPC{}, err
	}
	if err := checkCPLen(SSCC96, companyPrefixLen, 6, 12); err != nil {
		return EPC{}, err
	}
	return build(SSCC96, filter, fields{cp: v[1 : 1+companyPrefixLen], ref: v[:1] + v[1+companyPrefixLen:17]})
}

// glnFields splits a 13-digit key (GLN, GRAI, GDTI) at the company prefix.
func glnFields(s Scheme, field string, cpLen int, key string) (fields, error) {
	v, err := normalizeKey(s, field, key, 13)
	if err != nil {
		return fields{}, err
	}
	if err := checkCPLen(s, cpLen, 6, 12); err != nil {
		return fields{}, err
	}
	return fields{cp: v[:cpLen], ref: v[cpLen:12]}, nil
}

// NewSGLN96 encodes an SGLN-96 from a 13-digit GLN and an extension: digits
// without leading zeros below 2^41; "" or "0" for none.
func NewSGLN96(filter, companyPrefixLen int, gln, extension string) (EPC, error) {
	return newSGLN(SGLN96, filter, companyPrefixLen, gln, extension)
}

// NewSGLN195 encodes an SGLN-195: the extension is 1–20 characters of GS1
// character set 82; "" or "0" for none.
func NewSGLN195(filter, companyPrefixLen int, gln, extension string) (EPC, error) {
	return newSGLN(SGLN195, filter, companyPrefixLen, gln, extension)
}

func newSGLN(s Scheme, filter, cpLen int, gln, ext string) (EPC, error) {
	f, err := glnFields(s, "gln", cpLen, gln)
	if err != nil {
		return EPC{}, err
	}
	if ext == "" {
		ext = "0"
	}
	f.tail = ext
	return build(s, filter, f)
}

// graiFields accepts a GRAI as 13 digits, or as the AI (8003) value: "0",
// the 13 digits, then the serial (which serial must then be empty).
func graiFields(s Scheme, cpLen int, grai, serial string) (fields, error) {
	if len(grai) > 13 && grai[0] == '0' {
		if serial != "" && len(grai) > 14 {
			return fields{}, newErr(s, "grai", grai, ErrGS1, "give the serial either inside the AI (8003) value or separately, not both")
		}
		if len(grai) > 14 {
			serial = grai[14:]
		}
		grai = grai[1:14]
	}
	f, err := glnFields(s, "grai", cpLen, grai)
	f.tail = serial
	return f, err
}

// NewGRAI96 encodes a GRAI-96 from a 13-digit GRAI (or the 14-digit AI
// (8003) form with its leading 0) and a numeric serial without leading
// zeros below 2^38.
func NewGRAI96(filter, companyPrefixLen int, grai, serial string) (EPC, error) {
	f, err := graiFields(GRAI96, companyPrefixLen, grai, serial)
	if err != nil {
		return EPC{}, err
	}
	return build(GRAI96, filter, f)
}

// NewGRAI170 encodes a GRAI-170: the serial is 1–16 characters of GS1
// character set 82.
func NewGRAI170(filter, companyPrefixLen int, grai, serial string) (EPC, error) {
	f, err := graiFields(GRAI170, companyPrefixLen, grai, serial)
	if err != nil {
		return EPC{}, err
	}
	return build(GRAI170, filter, f)
}

func giaiFields(s Scheme, cpLen int, giai string) (fields, error) {
	if err := checkCPLen(s, cpLen, 6, 12); err != nil {
		return fields{}, err
	}
	if len(giai) <= cpLen || !allDigits(giai[:cpLen]) {
		return fields{}, newErr(s, "giai", giai, ErrDigits,
			"must start with the "+itoa(uint64(cpLen))+"-digit company prefix and have an asset reference after it")
	}
	if len(giai) > 30 {
		return fields{}, newErr(s, "giai", giai, ErrRange, "has more than 30 characters")
	}
	return fields{cp: giai[:cpLen], ref: giai[cpLen:]}, nil
}

// NewGIAI96 encodes a GIAI-96 from a GIAI (company prefix then individual
// asset reference); the asset reference must be digits without leading
// zeros that fit the partition's bits.
func NewGIAI96(filter, companyPrefixLen int, giai string) (EPC, error) {
	f, err := giaiFields(GIAI96, companyPrefixLen, giai)
	if err != nil {
		return EPC{}, err
	}
	return build(GIAI96, filter, f)
}

// NewGIAI202 encodes a GIAI-202: the asset reference is characters of GS1
// character set 82, up to 30 characters in all with the company prefix.
func NewGIAI202(filter, companyPrefixLen int, giai string) (EPC, error) {
	f, err := giaiFields(GIAI202, companyPrefixLen, giai)
	if err != nil {
		return EPC{}, err
	}
	return build(GIAI202, filter, f)
}

// NewGDTI96 encodes a GDTI-96 from a 13-digit GDTI (or the AI (253) value,
// the 13 digits followed by the serial) and a numeric serial without
// leading zeros below 2^41.
func NewGDTI96(filter, companyPrefixLen int, gdti, serial string) (EPC, error) {
	if len(gdti) > 13 {
		if serial != "" {
			return EPC{}, newErr(GDTI96, "gdti", gdti, ErrGS1, "give the serial either inside the AI (253) value or separately, not both")
		}
		gdti, serial = gdti[:13], gdti[13:]
	}
	f, err := glnFields(GDTI96, "gdti", companyPrefixLen, gdti)
	if err != nil {
		return EPC{}, err
	}
	f.tail = serial
	return build(GDTI96, filter, f)
}

// NewGSRN96 encodes a GSRN-96 from an 18-digit GSRN.
func NewGSRN96(filter, companyPrefixLen int, gsrn string) (EPC, error) {
	v, err := normalizeKey(GSRN96, "gsrn", gsrn, 18)
	if err != nil {
		return EPC{}, err
	}
	if err := checkCPLen(GSRN96, companyPrefixLen, 6, 12); err != nil {
		return EPC{}, err
	}
	return build(GSRN96, filter, fields{cp: v[:companyPrefixLen], ref: v[companyPrefixLen:17]})
}
