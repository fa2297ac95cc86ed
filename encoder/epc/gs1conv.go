package epc

import (
	"strings"

	"github.com/dockgate/dockgate/encoder/gs1"
)

// GS1Message returns the GS1 element string the EPC stands for: (01)+(21)
// for an SGTIN (then the date AI for a DSGTIN+), (00) for an SSCC, (414)
// and (254) for an SGLN (no (254) when the extension is "0"), (8003),
// (8004), (253), (8018). It is empty for a raw EPC.
func (e EPC) GS1Message() gs1.Message {
	var els []gs1.Element
	add := func(ai, v string) { els = append(els, gs1.Element{AI: ai, Value: v}) }
	switch layouts[e.scheme].family {
	case famSGTIN:
		add("01", e.GTIN())
		add("21", e.Serial())
		if d, t, ok := e.Date(); ok {
			add(t.AI(), d) // after the serial, as TDS Annex E writes it
		}
	case famSSCC:
		add("00", e.SSCC())
	case famSGLN:
		add("414", e.GLN())
		if x := e.Extension(); x != "0" {
			add("254", x)
		}
	case famGRAI:
		add("8003", e.GRAI())
	case famGIAI:
		add("8004", e.GIAI())
	case famGDTI:
		add("253", e.GDTI())
	case famGSRN:
		add("8018", e.GSRN())
	}
	els = append(els, e.AIDCElements()...)
	return gs1.Message{Elements: els}
}

// GS1 returns the GS1 element string in human-readable form,
// (01)80614141123458(21)6789; "" for a raw EPC.
func (e EPC) GS1() string {
	if e.scheme == SchemeRaw {
		return ""
	}
	return e.GS1Message().HRI()
}

// DigitalLink returns the GS1 Digital Link URI on domain: "" is the
// hostname a '++' scheme carries, id.gs1.org for the others;
// https://id.gs1.org/01/80614141123458/21/6789. A raw EPC is an error.
func (e EPC) DigitalLink(domain string) (string, error) {
	if e.scheme == SchemeRaw {
		return "", newErr(SchemeRaw, "scheme", "raw", ErrScheme, "a raw EPC carries no GS1 key and has no Digital Link URI")
	}
	if domain == "" {
		domain = e.Hostname()
	}
	return e.GS1Message().DigitalLink(domain)
}

// LGTINClass returns the EPC class URI of the SGTIN's GTIN with a lot,
// urn:epc:class:lgtin:<CP>.<indicator+item ref>.<lot>, as EPCIS quantity
// lists name a lot. A '+' scheme does not record the company prefix
// length: use [LGTINClassURI].
func (e EPC) LGTINClass(lot string) (string, error) {
	if !e.partitioned() || layouts[e.scheme].family != famSGTIN {
		return "", newErr(e.scheme, "scheme", e.scheme.String(), ErrScheme,
			"an LGTIN class needs an SGTIN-96 or SGTIN-198; for sgtin+ use LGTINClassURI with the company prefix length")
	}
	return LGTINClassURI(int(e.row().cpDigits), e.GTIN(), lot)
}

// LGTINClassURI returns urn:epc:class:lgtin:<CP>.<indicator+item ref>.<lot>
// for a GTIN whose company prefix has companyPrefixLen digits and a lot of
// 1–20 characters of GS1 character set 82 (percent-escaped in the URI).
func LGTINClassURI(companyPrefixLen int, gtin, lot string) (string, error) {
	f, err := sgtinFields(SGTIN96, companyPrefixLen, gtin)
	if err != nil {
		return "", err
	}
	if err := checkCSET82(SGTIN96, "lot", lot, 20); err != nil {
		return "", err
	}
	b := append([]byte("urn:epc:class:lgtin:"), f.cp...)
	b = append(b, '.')
	b = append(b, f.ref...)
	b = append(b, '.')
	return string(appendURIEscaped(b, lot)), nil
}

// Values are the GS1 data an EPC is encoded from; which fields a scheme
// reads is listed at [Encode].
type Values struct {
	GTIN      string // (01): 8, 12, 13 or 14 digits
	Serial    string // (21) of an SGTIN; the serial of a GRAI or GDTI
	SSCC      string // (00)
	GLN       string // (414)
	Extension string // (254); "" or "0" for none
	GRAI      string // 13 digits, or the whole (8003) value with its serial
	GIAI      string // (8004)
	GDTI      string // 13 digits, or the whole (253) value with its serial
	GSRN      string // (8018)
	DateType  DateType
	Date      string // YYMMDD, DSGTIN+ only
	// AIDC are further AIs written after the EPC of a '+' scheme (+AIDC
	// data, TDS §15.3): a lot (10), an expiry date (17) …
	AIDC []gs1.Element
	// Hostname is the Digital Link hostname a '++' scheme carries
	// (example.com).
	Hostname string
}

// Encode encodes v in scheme s: SGTIN schemes read GTIN and Serial (and
// DateType, Date for DSGTIN+; AIDC for the '+' schemes); SSCC schemes SSCC; SGLN GLN and Extension;
// GRAI GRAI and Serial; GIAI GIAI; GDTI GDTI and Serial; GSRN GSRN.
// companyPrefixLen is ignored by the '+' schemes. SGTIN-96 takes only a
// numeric serial without leading zeros below 2^38: choose SGTIN-198 for
// others.
func Encode(s Scheme, filter, companyPrefixLen int, v Values) (EPC, error) {
	switch s {
	case SGTIN96:
		if _, err := canonicalInteger(s, "serial", v.Serial, 38, "; use sgtin-198 for other serials"); err != nil {
			return EPC{}, err
		}
		f, err := sgtinFields(s, companyPrefixLen, v.GTIN)
		if err != nil {
			return EPC{}, err
		}
		f.tail = v.Serial
		return build(s, filter, f)
	case SGTIN198:
		return NewSGTIN198(filter, companyPrefixLen, v.GTIN, v.Serial)
	case SSCC96:
		return NewSSCC96(filter, companyPrefixLen, v.SSCC)
	case SGLN96:
		return NewSGLN96(filter, companyPrefixLen, v.GLN, v.Extension)
	case SGLN195:
		return NewSGLN195(filter, companyPrefixLen, v.GLN, v.Extension)
	case GRAI96:
		return NewGRAI96(filter, companyPrefixLen, v.GRAI, v.Serial)
	case GRAI170:
		return NewGRAI170(filter, companyPrefixLen, v.GRAI, v.Serial)
	case GIAI96:
		return NewGIAI96(filter, companyPrefixLen, v.GIAI)
	case GIAI202:
		return NewGIAI202(filter, companyPrefixLen, v.GIAI)
	case GDTI96:
		return NewGDTI96(filter, companyPrefixLen, v.GDTI, v.Serial)
	case GSRN96:
		return NewGSRN96(filter, companyPrefixLen, v.GSRN)
	}
	if s.Plus() {
		in := plusIn{s: s, filter: filter, aidc: v.AIDC, hostname: v.Hostname}
		switch s.base() {
		case SGTINPlus, DSGTINPlus:
			in.key, in.tail, in.dt, in.date = v.GTIN, v.Serial, v.DateType, v.Date
		case SSCCPlus:
			in.key = v.SSCC
		case SGLNPlus:
			in.key, in.tail = v.GLN, v.Extension
		case GRAIPlus:
			in.key, in.tail = v.GRAI, v.Serial
		case GIAIPlus:
			in.key = v.GIAI
		case GSRNPlus:
			in.key = v.GSRN
		case GDTIPlus:
			in.key, in.tail = v.GDTI, v.Serial
		}
		return encodePlus(in)
	}
	return EPC{}, newErr(s, "scheme", s.String(), ErrScheme, "cannot be encoded; choose a GS1 scheme")
}

// ValuesFromGS1 picks the data of scheme s out of a GS1 message. For a
// DSGTIN+ the first date AI of the message (11, 13, 15, 16, 17, 7006, 7007)
// is the date. For the '+' schemes every other AI of the message becomes
// +AIDC data; the other schemes ignore AIs they do not carry.
func ValuesFromGS1(s Scheme, m gs1.Message) (Values, error) {
	var v Values
	need := func(ai string, dst *string) error {
		x, ok := m.Get(ai)
		if !ok {
			return newErr(s, "AI ("+ai+")", "", ErrGS1, s.String()+" needs AI ("+ai+") in the GS1 data")
		}
		*dst = x
		return nil
	}
	var err error
	switch layouts[s].family {
	case famSGTIN:
		err = need("01", &v.GTIN)
		if err == nil {
			err = need("21", &v.Serial)
		}
		if err == nil && s.base() == DSGTINPlus {
			found := false
			for _, el := range m.Elements {
				if t, ok := DateTypeForAI(el.AI); ok {
					v.DateType, v.Date, found = t, el.Value, true
					break
				}
			}
			if !found {
				err = newErr(s, "date", "", ErrGS1, "dsgtin+ needs a date AI: (11), (13), (15), (16), (17), (7006) or (7007)")
			}
		}
	case famSSCC:
		err = need("00", &v.SSCC)
	case famSGLN:
		err = need("414", &v.GLN)
		v.Extension, _ = m.Get("254")
	case famGRAI:
		err = need("8003", &v.GRAI)
	case famGIAI:
		err = need("8004", &v.GIAI)
	case famGDTI:
		err = need("253", &v.GDTI)
	case famGSRN:
		err = need("8018", &v.GSRN)
	default:
		err = newErr(s, "scheme", s.String(), ErrScheme, "choose a GS1 scheme")
	}
	if err == nil && s.Plus() {
		own := plusOwnAIs(s, v.DateType)
		for _, el := range m.Elements {
			isOwn := false
			for _, o := range own {
				isOwn = isOwn || el.AI == o
			}
			if !isOwn {
				v.AIDC = append(v.AIDC, el)
			}
		}
	}
	return v, err
}

// ParseGS1 encodes GS1 data given as HRI, element string, scan data or a
// Digital Link URI (anything [gs1.Parse] reads) in scheme s. A '++' scheme
// takes the hostname of the Digital Link URI.
func ParseGS1(input string, s Scheme, filter, companyPrefixLen int) (EPC, error) {
	m, err := gs1.Parse(input)
	if err != nil {
		return EPC{}, err
	}
	v, err := ValuesFromGS1(s, m)
	if err != nil {
		return EPC{}, err
	}
	if s.PlusPlus() {
		rest, ok := strings.CutPrefix(input, "https://")
		if !ok {
			return EPC{}, newErr(s, "hostname", "", ErrGS1, s.String()+" carries the hostname of a Digital Link URI: give the data as https://host/…")
		}
		v.Hostname, _, _ = strings.Cut(rest, "/")
	}
	return Encode(s, filter, companyPrefixLen, v)
}
