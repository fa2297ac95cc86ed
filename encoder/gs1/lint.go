package gs1

import (
	"sort"
	"strconv"
	"strings"
)

// lintFail describes a failed linter: where in the component and why.
type lintFail struct {
	pos int
	err error
	msg string
}

// lintFunc checks one component; ok is the zero lintFail with err == nil.
type lintFunc func(v string) lintFail

var linterFuncs [len(linterNames)]lintFunc

// implemented maps dictionary linter names to their checks. A linter named by
// the dictionary but missing here is listed by UnimplementedLinters and not
// checked.
var implemented = map[string]lintFunc{
	"csum":           lintCsum,
	"csumalpha":      lintCsumAlpha,
	"gcppos1":        lintGCPPos1,
	"gcppos2":        lintGCPPos2,
	"hasnondigit":    lintHasNonDigit,
	"hh":             func(v string) lintFail { return lintRange(v, 0, 23, "hour") },
	"mi":             func(v string) lintFail { return lintRange(v, 0, 59, "minute") },
	"ss":             func(v string) lintFail { return lintRange(v, 0, 59, "second") },
	"hhmi":           lintHHMI,
	"hyphen":         lintHyphen,
	"iban":           lintIBAN,
	"importeridx":    lintImporterIdx,
	"iso3166":        func(v string) lintFail { return lintSet(v, setISO3166, "ISO 3166 numeric country code") },
	"iso3166999":     lintISO3166999,
	"iso3166alpha2":  func(v string) lintFail { return lintSet(v, setAlpha2, "ISO 3166 alpha-2 country code") },
	"iso4217":        func(v string) lintFail { return lintSet(v, setISO4217, "ISO 4217 numeric currency code") },
	"iso5218":        lintISO5218,
	"latitude":       func(v string) lintFail { return lintMax(v, 1800000000, "latitude") },
	"longitude":      func(v string) lintFail { return lintMax(v, 3600000000, "longitude") },
	"mediatype":      lintMediaType,
	"nonzero":        lintNonZero,
	"nozeroprefix":   lintNoZeroPrefix,
	"packagetype":    func(v string) lintFail { return lintSet(v, setPackTypes, "GS1 package type code") },
	"pcenc":          lintPcenc,
	"pieceoftotal":   lintPieceOfTotal,
	"posinseqslash":  lintPosInSeqSlash,
	"winding":        lintWinding,
	"yesno":          lintYesNo,
	"yymmd0":         func(v string) lintFail { return lintDate(v, false, true) },
	"yymmdd":         func(v string) lintFail { return lintDate(v, false, false) },
	"yyyymmdd":       func(v string) lintFail { return lintDate(v, true, false) },
	"yyyymmd0":       func(v string) lintFail { return lintDate(v, true, true) },
	"zero":           lintZero,
	"couponcode":     lintCouponCode,
	"couponposoffer": lintCouponPosOffer,
}

func init() {
	for i, n := range linterNames {
		linterFuncs[i] = implemented[n]
	}
}

// UnimplementedLinters lists the linters the dictionary names that this
// package does not check. Values of AIs using them are still checked for
// length and character set.
func UnimplementedLinters() []string {
	var out []string
	for i, n := range linterNames {
		if linterFuncs[i] == nil {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

func fail(pos int, err error, msg string) lintFail { return lintFail{pos: pos, err: err, msg: msg} }

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// CheckDigit returns the GS1 mod-10 check digit ('0'..'9') for the digits
// that precede it (e.g. the first 13 digits of a GTIN-14).
func CheckDigit(digits string) (byte, error) {
	if digits == "" {
		return 0, newErr("", 0, "csum", ErrSyntax, "no digits to compute a check digit for")
	}
	sum := 0
	w := 3
	for i := len(digits) - 1; i >= 0; i-- {
		c := digits[i]
		if c < '0' || c > '9' {
			return 0, newErr("", charStart(digits, i), "csum", ErrCharset, "non-digit "+quoteChar(digits, i)+" at position "+charPos(digits, i)+" of "+strconv.Quote(digits))
		}
		sum += int(c-'0') * w
		w = 4 - w
	}
	return byte('0' + (10-sum%10)%10), nil
}

// GTIN14 writes a GTIN-8, -12 or -13 as the GTIN-14 it is (leading zeros),
// so that every form of one GTIN compares and records alike. Anything else
// (already 14 digits, or not a GTIN) is returned as it is, for validation
// to name.
func GTIN14(g string) string {
	switch len(g) {
	case 8, 12, 13:
		if strings.Trim(g, "0123456789") == "" {
			return strings.Repeat("0", 14-len(g)) + g
		}
	}
	return g
}

func lintCsum(v string) lintFail {
	if len(v) < 2 || !isDigits(v) {
		return fail(0, ErrCheckDigit, "cannot check digit of "+strconv.Quote(v))
	}
	want, _ := CheckDigit(v[:len(v)-1])
	if got := v[len(v)-1]; got != want {
		return fail(len(v)-1, ErrCheckDigit, "check digit "+string(got)+" should be "+string(want)+" in "+strconv.Quote(v))
	}
	return lintFail{}
}

const cset82 = "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
const cset32 = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"

var cset82Value [256]int16 // 1 + index in CSET 82, 0 if absent

func init() {
	for i := 0; i < len(cset82); i++ {
		cset82Value[cset82[i]] = int16(i + 1)
	}
}

// CheckPair returns the two GS1 alphanumeric check characters (GenSpecs
// "check character calculation for alphanumeric keys", used by GMN and MUDI)
// for the CSET 82 data before them.
func CheckPair(data string) (string, error) {
	sum := 0
	p := 0
	for i := len(data) - 1; i >= 0; i-- {
		c := cset82Value[data[i]]
		if c == 0 {
			return "", newErr("", charStart(data, i), "csumalpha", ErrCharset, "character "+quoteChar(data, i)+" is not in CSET 82")
		}
		for {
			p++
			if isPrime(p) {
				break
			}
		}
		sum += int(c-1) * p
	}
	sum %= 1021
	return string([]byte{cset32[sum>>5], cset32[sum&31]}), nil
}

func isPrime(n int) bool {
	if n < 2 {
		return false
	}
	for d := 2; d*d <= n; d++ {
		if n%d == 0 {
			return false
		}
	}
	return true
}

func lintCsumAlpha(v string) lintFail {
	if len(v) < 2 {
		return fail(0, ErrCheckDigit, "too short for a check character pair in "+strconv.Quote(v))
	}
	want, err := CheckPair(v[:len(v)-2])
	if err != nil {
		return fail(err.(*Error).Pos, ErrCharset, err.(*Error).Msg)
	}
	if got := v[len(v)-2:]; got != want {
		return fail(len(v)-2, ErrCheckDigit, "check character pair "+got+" should be "+want+" in "+strconv.Quote(v))
	}
	return lintFail{}
}

func lintGCPPos1(v string) lintFail {
	if len(v) < 4 {
		return fail(0, ErrLint, "too short to start with a GS1 Company Prefix in "+strconv.Quote(v))
	}
	for i := 0; i < 4; i++ {
		if v[i] < '0' || v[i] > '9' {
			return fail(i, ErrLint, "GS1 Company Prefix must start with 4 digits in "+strconv.Quote(v))
		}
	}
	return lintFail{}
}

func lintGCPPos2(v string) lintFail {
	if len(v) < 1 {
		return fail(0, ErrLint, "empty value")
	}
	f := lintGCPPos1(v[1:])
	if f.err != nil {
		f.pos++
	}
	return f
}

func lintHasNonDigit(v string) lintFail {
	if isDigits(v) {
		return fail(0, ErrLint, "must contain a non-digit in "+strconv.Quote(v))
	}
	return lintFail{}
}

func lintRange(v string, lo, hi int, what string) lintFail {
	n, err := strconv.Atoi(v)
	if err != nil || !isDigits(v) || n < lo || n > hi {
		return fail(0, ErrDate, "illegal "+what+" "+v)
	}
	return lintFail{}
}

func lintHHMI(v string) lintFail {
	if len(v) != 4 {
		return fail(0, ErrDate, "time must be HHMI in "+strconv.Quote(v))
	}
	if f := lintRange(v[:2], 0, 23, "hour"); f.err != nil {
		f.msg += " in " + strconv.Quote(v)
		return f
	}
	if f := lintRange(v[2:], 0, 59, "minute"); f.err != nil {
		f.pos = 2
		f.msg += " in " + strconv.Quote(v)
		return f
	}
	return lintFail{}
}

func lintHyphen(v string) lintFail {
	for i := 0; i < len(v); i++ {
		if v[i] != '-' {
			return fail(i, ErrLint, "only '-' is allowed here in "+strconv.Quote(v))
		}
	}
	return lintFail{}
}

func lintIBAN(v string) lintFail {
	if len(v) < 5 {
		return fail(0, ErrLint, "IBAN too short in "+strconv.Quote(v))
	}
	if !setAlpha2.has(v[:2]) {
		return fail(0, ErrLint, "IBAN country "+strconv.Quote(v[:2])+" is not an ISO 3166 alpha-2 code")
	}
	if !isDigits(v[2:4]) {
		return fail(2, ErrLint, "IBAN check digits must be numeric in "+strconv.Quote(v))
	}
	rem := 0
	add := func(c byte) {
		switch {
		case c >= '0' && c <= '9':
			rem = (rem*10 + int(c-'0')) % 97
		default:
			rem = (rem*100 + int(c-'A') + 10) % 97
		}
	}
	for i := 4; i < len(v); i++ {
		c := v[i]
		if (c < '0' || c > '9') && (c < 'A' || c > 'Z') {
			return fail(i, ErrLint, "IBAN allows only 0-9 and A-Z in "+strconv.Quote(v))
		}
		add(c)
	}
	for i := 0; i < 4; i++ {
		add(v[i])
	}
	if rem != 1 {
		return fail(2, ErrCheckDigit, "IBAN check digits are wrong in "+strconv.Quote(v))
	}
	return lintFail{}
}

func lintImporterIdx(v string) lintFail {
	if len(v) == 1 {
		c := v[0]
		if c == '-' || c == '_' || c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' {
			return lintFail{}
		}
	}
	return fail(0, ErrLint, "importer index must be one of 0-9 A-Z a-z - _ in "+strconv.Quote(v))
}

func lintSet(v string, s codeSet, what string) lintFail {
	if !s.has(v) {
		return fail(0, ErrLint, strconv.Quote(v)+" is not an "+what)
	}
	return lintFail{}
}

func lintISO3166999(v string) lintFail {
	if v == "999" {
		return lintFail{}
	}
	return lintSet(v, setISO3166, "ISO 3166 numeric country code or 999")
}

func lintISO5218(v string) lintFail {
	switch v {
	case "0", "1", "2", "9":
		return lintFail{}
	}
	return fail(0, ErrLint, "sex code must be 0, 1, 2 or 9 (ISO/IEC 5218), not "+strconv.Quote(v))
}

func lintMax(v string, max uint64, what string) lintFail {
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil || n > max {
		return fail(0, ErrLint, what+" out of range in "+strconv.Quote(v))
	}
	return lintFail{}
}

func lintMediaType(v string) lintFail {
	if len(v) == 2 && isDigits(v) {
		n := int(v[0]-'0')*10 + int(v[1]-'0')
		if n >= 1 && n <= 10 || n >= 80 {
			return lintFail{}
		}
	}
	return fail(0, ErrLint, "AIDC media type must be 01-10 or 80-99, not "+strconv.Quote(v))
}

func lintNonZero(v string) lintFail {
	for i := 0; i < len(v); i++ {
		if v[i] != '0' {
			return lintFail{}
		}
	}
	return fail(0, ErrLint, "must not be all zeros in "+strconv.Quote(v))
}

func lintNoZeroPrefix(v string) lintFail {
	if len(v) > 1 && v[0] == '0' {
		return fail(0, ErrLint, "must not start with 0 in "+strconv.Quote(v))
	}
	return lintFail{}
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'A' && c <= 'F' || c >= 'a' && c <= 'f'
}

func lintPcenc(v string) lintFail {
	for i := 0; i < len(v); i++ {
		if v[i] == '%' {
			if i+2 >= len(v) || !isHex(v[i+1]) || !isHex(v[i+2]) {
				return fail(i, ErrLint, "'%' must be followed by two hex digits in "+strconv.Quote(v))
			}
			i += 2
		}
	}
	return lintFail{}
}

func lintPieceOfTotal(v string) lintFail {
	if len(v)%2 != 0 || !isDigits(v) {
		return fail(0, ErrLint, "piece and total must be digits of equal length in "+strconv.Quote(v))
	}
	h := len(v) / 2
	p, t := v[:h], v[h:]
	if f := lintNonZero(p); f.err != nil {
		return fail(0, ErrLint, "piece number must not be zero in "+strconv.Quote(v))
	}
	if f := lintNonZero(t); f.err != nil {
		return fail(h, ErrLint, "total must not be zero in "+strconv.Quote(v))
	}
	if p > t {
		return fail(0, ErrLint, "piece number "+p+" exceeds total "+t)
	}
	return lintFail{}
}

func lintPosInSeqSlash(v string) lintFail {
	i := 0
	for i < len(v) && v[i] >= '0' && v[i] <= '9' {
		i++
	}
	if i == 0 || i >= len(v)-1 || v[i] != '/' || !isDigits(v[i+1:]) {
		return fail(0, ErrLint, "must be <position>/<end> in "+strconv.Quote(v))
	}
	p, e := v[:i], v[i+1:]
	if p[0] == '0' {
		return fail(0, ErrLint, "position must not be zero or start with 0 in "+strconv.Quote(v))
	}
	if e[0] == '0' {
		return fail(i+1, ErrLint, "end must not be zero or start with 0 in "+strconv.Quote(v))
	}
	if len(p) > len(e) || len(p) == len(e) && p > e {
		return fail(0, ErrLint, "position "+p+" exceeds end "+e)
	}
	return lintFail{}
}

func lintWinding(v string) lintFail {
	switch v {
	case "0", "1", "9":
		return lintFail{}
	}
	return fail(0, ErrLint, "winding direction must be 0, 1 or 9, not "+strconv.Quote(v))
}

func lintYesNo(v string) lintFail {
	switch v {
	case "0", "1":
		return lintFail{}
	}
	return fail(0, ErrLint, "must be 0 (no) or 1 (yes), not "+strconv.Quote(v))
}

func lintZero(v string) lintFail {
	if v != "0" {
		return fail(0, ErrLint, "must be 0, not "+strconv.Quote(v))
	}
	return lintFail{}
}

var daysIn = [13]int{0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}

// lintDate checks YYMMDD (or YYYYMMDD with long). With day0, DD=00 is
// allowed and means the last day of the month. For YYMMDD a year divisible
// by 4 is a leap year: within the GenSpecs §7.12 window this is exact for
// 2000-2099.
func lintDate(v string, long, day0 bool) lintFail {
	n := 6
	if long {
		n = 8
	}
	if len(v) != n || !isDigits(v) {
		form := "YYMMDD"
		if long {
			form = "YYYYMMDD"
		}
		return fail(0, ErrDate, "date must be "+form+" in "+strconv.Quote(v))
	}
	y := v[:n-4]
	mm := v[n-4 : n-2]
	dd := v[n-2:]
	year, _ := strconv.Atoi(y)
	month := int(mm[0]-'0')*10 + int(mm[1]-'0')
	day := int(dd[0]-'0')*10 + int(dd[1]-'0')
	if month < 1 || month > 12 {
		return fail(n-4, ErrDate, "illegal month "+mm+" in "+strconv.Quote(v))
	}
	if day == 0 {
		if day0 {
			return lintFail{}
		}
		return fail(n-2, ErrDate, "illegal day 00 for month "+mm+" in "+strconv.Quote(v))
	}
	max := daysIn[month]
	if month == 2 {
		leap := year%4 == 0
		if long {
			leap = year%4 == 0 && (year%100 != 0 || year%400 == 0)
		}
		if !leap {
			max = 28
		}
	}
	if day > max {
		return fail(n-2, ErrDate, "illegal day "+dd+" for month "+mm+" in "+strconv.Quote(v))
	}
	return lintFail{}
}

// ResolveYear turns a two-digit year into a full year by the GenSpecs §7.12
// sliding window: the result lies within 49 years before and 50 years after
// currentYear.
func ResolveYear(yy, currentYear int) int {
	century := currentYear / 100 * 100
	y := century + yy
	switch {
	case y-currentYear > 50:
		y -= 100
	case currentYear-y > 49:
		y += 100
	}
	return y
}
