package lot

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Fields are a code read back with its format. Date fields are 0 when the
// format does not carry them. A two-digit year {YY} is read as 20YY.
type Fields struct {
	Code      string `json:"code"`
	Format    string `json:"format"`
	Brand     string `json:"brand,omitempty"`
	Site      string `json:"site,omitempty"`
	Gateway   string `json:"gateway,omitempty"`
	Door      string `json:"door,omitempty"`
	Line      string `json:"line,omitempty"`
	Product   string `json:"product,omitempty"`
	Supplier  string `json:"supplier,omitempty"`
	Year      int    `json:"year,omitempty"`
	Month     int    `json:"month,omitempty"`
	Day       int    `json:"day,omitempty"`
	DayOfYear int    `json:"day_of_year,omitempty"`
	ISOWeek   int    `json:"iso_week,omitempty"`
	// Date is the production date (YYYY-MM-DD) when the code carries the
	// whole of it.
	Date  string `json:"date,omitempty"`
	Seq   uint64 `json:"seq"`
	Check string `json:"check,omitempty"`
}

// Decode reads code back into its fields. It fails, naming the position, when
// the code does not match the format, carries an impossible date, or its
// {CHECK} character is wrong.
func (f *Format) Decode(code string) (Fields, error) {
	// The characters first: the length counts bytes, which are
	// characters only in CSET 82.
	if k := firstOutsideCSET82(code); k >= 0 {
		return Fields{}, fmt.Errorf("%w: code %q has %s at position %d", ErrCharset, code, quoteChar(code, k), charPos(code, k))
	}
	if len(code) > MaxLength {
		return Fields{}, fmt.Errorf("%w: code %q has %d characters; AI (10) allows %d", ErrTooLong, code, len(code), MaxLength)
	}
	m := matcher{f: f, code: code, vals: make([]string, len(f.parts))}
	if !m.match(0, 0) {
		return Fields{}, fmt.Errorf("%w: code %q does not match format %q (%s)", ErrNoMatch, code, f.template, m.why())
	}
	out := Fields{Code: code, Format: f.template}
	set := func(dst *int, v int, what string) error {
		if *dst != 0 && *dst != v {
			return fmt.Errorf("%w: code %q: the %s is given twice, as %d and %d", ErrNoMatch, code, what, *dst, v)
		}
		*dst = v
		return nil
	}
	for i, p := range f.parts {
		s := m.vals[i]
		var err error
		switch p.kind {
		case partCode:
			*out.field(p.name) = s
		case partSeq:
			out.Seq, _ = strconv.ParseUint(s, 10, 64)
			if out.Seq == 0 {
				return Fields{}, fmt.Errorf("%w: code %q: sequence %s is never issued (sequences start at 1)", ErrSeqRange, code, s)
			}
		case partCheck:
			out.Check = s
			if want := CheckChar(code[:len(code)-1]); s[0] != want {
				return Fields{}, fmt.Errorf("%w: code %q ends in %q but its MOD 37,36 check character is %q; the code was mistyped or misread", ErrCheck, code, s, want)
			}
		case partDate:
			n, _ := strconv.Atoi(s)
			switch p.name {
			case "YY":
				err = set(&out.Year, 2000+n, "year")
			case "YYYY":
				err = set(&out.Year, n, "year")
			case "MM":
				err = set(&out.Month, n, "month")
			case "DD":
				err = set(&out.Day, n, "day")
			case "YYMM":
				if err = set(&out.Year, 2000+n/100, "year"); err == nil {
					err = set(&out.Month, n%100, "month")
				}
			case "YYMMDD":
				if err = set(&out.Year, 2000+n/10000, "year"); err == nil {
					if err = set(&out.Month, n/100%100, "month"); err == nil {
						err = set(&out.Day, n%100, "day")
					}
				}
			case "JJJ":
				err = set(&out.DayOfYear, n, "day of year")
			case "WW":
				err = set(&out.ISOWeek, n, "ISO week")
			}
		}
		if err != nil {
			return Fields{}, err
		}
	}
	if err := out.checkDate(f); err != nil {
		return Fields{}, err
	}
	return out, nil
}

func (o *Fields) field(name string) *string {
	switch name {
	case TokenBrand:
		return &o.Brand
	case TokenSite:
		return &o.Site
	case TokenGateway:
		return &o.Gateway
	case TokenDoor:
		return &o.Door
	case TokenLine:
		return &o.Line
	case TokenProduct:
		return &o.Product
	}
	return &o.Supplier
}

// checkDate rejects impossible dates and fills Date (and the day of year or
// month/day from each other) when the year is known.
func (o *Fields) checkDate(f *Format) error {
	bad := func(what string) error {
		return fmt.Errorf("%w: code %q: %s", ErrNoMatch, o.Code, what)
	}
	if f.Uses("MM") || f.Uses("YYMM") || f.Uses("YYMMDD") {
		if o.Month < 1 || o.Month > 12 {
			return bad(fmt.Sprintf("month %02d is not 01 … 12", o.Month))
		}
	}
	if f.Uses("DD") || f.Uses("YYMMDD") {
		year := o.Year
		if year == 0 {
			year = 2000 // a leap year: 29 February is possible
		}
		if o.Day < 1 || o.Day > daysIn(year, o.Month) {
			return bad(fmt.Sprintf("day %02d does not exist in month %02d", o.Day, o.Month))
		}
	}
	if f.Uses("JJJ") {
		maxDay := 366
		if o.Year != 0 && daysIn(o.Year, 2) == 28 {
			maxDay = 365
		}
		if o.DayOfYear < 1 || o.DayOfYear > maxDay {
			return bad(fmt.Sprintf("day of year %03d is not 001 … %03d", o.DayOfYear, maxDay))
		}
	}
	if f.Uses("WW") && (o.ISOWeek < 1 || o.ISOWeek > 53) {
		return bad(fmt.Sprintf("ISO week %02d is not 01 … 53", o.ISOWeek))
	}
	if o.Year == 0 {
		return nil
	}
	switch {
	case o.Month != 0 && o.Day != 0:
		d := time.Date(o.Year, time.Month(o.Month), o.Day, 0, 0, 0, 0, time.UTC)
		if o.DayOfYear != 0 && o.DayOfYear != d.YearDay() {
			return bad(fmt.Sprintf("day of year %03d does not match %s", o.DayOfYear, d.Format(time.DateOnly)))
		}
		o.DayOfYear = d.YearDay()
		o.Date = d.Format(time.DateOnly)
	case o.DayOfYear != 0:
		d := time.Date(o.Year, 1, o.DayOfYear, 0, 0, 0, 0, time.UTC)
		if o.Month != 0 && o.Month != int(d.Month()) {
			return bad(fmt.Sprintf("day of year %03d is not in month %02d", o.DayOfYear, o.Month))
		}
		o.Month, o.Day = int(d.Month()), d.Day()
		o.Date = d.Format(time.DateOnly)
	}
	return nil
}

func daysIn(year, month int) int {
	if month < 1 || month > 12 {
		return 31
	}
	return time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// matcher finds how a code splits into the format's parts. Code tokens have
// variable length, so it backtracks; Compile's rules (one code token between
// literals, values without literal characters) make the split unique.
type matcher struct {
	f        *Format
	code     string
	vals     []string
	farthest int // the farthest position any attempt reached, for errors
	at       int // the part that failed there
}

func (m *matcher) match(i, pos int) bool {
	if pos > m.farthest || pos == m.farthest && i > m.at {
		m.farthest, m.at = pos, i
	}
	if i == len(m.f.parts) {
		return pos == len(m.code)
	}
	p := m.f.parts[i]
	rest := m.code[pos:]
	switch p.kind {
	case partLit:
		if !strings.HasPrefix(rest, p.lit) {
			return false
		}
		m.vals[i] = p.lit
		return m.match(i+1, pos+len(p.lit))
	case partDate, partSeq:
		if len(rest) < p.width {
			return false
		}
		for k := 0; k < p.width; k++ {
			if rest[k] < '0' || rest[k] > '9' {
				return false
			}
		}
		m.vals[i] = rest[:p.width]
		return m.match(i+1, pos+p.width)
	case partCheck:
		if len(rest) < 1 || strings.IndexByte(checkAlphabet, rest[0]) < 0 {
			return false
		}
		m.vals[i] = rest[:1]
		return m.match(i+1, pos+1)
	case partCode:
		n := 0
		for n < len(rest) && n < p.width && strings.IndexByte(m.f.litChars, rest[n]) < 0 {
			n++
		}
		for ; n >= 1; n-- {
			m.vals[i] = rest[:n]
			if m.match(i+1, pos+n) {
				return true
			}
		}
	}
	return false
}

func (m *matcher) why() string {
	if m.at >= len(m.f.parts) {
		return fmt.Sprintf("%d extra characters at position %d", len(m.code)-m.farthest, m.farthest)
	}
	p := m.f.parts[m.at]
	want := ""
	switch p.kind {
	case partLit:
		want = "literal " + strconv.Quote(p.lit)
	case partDate, partSeq:
		want = fmt.Sprintf("%s (%d digits)", p, p.width)
	case partCheck:
		want = "{CHECK} (0-9 or A-Z)"
	case partCode:
		want = fmt.Sprintf("{%s} (1 … %d characters)", p.name, p.width)
	}
	return fmt.Sprintf("expected %s at position %d", want, m.farthest)
}
