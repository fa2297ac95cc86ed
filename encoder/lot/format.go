package lot

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Scope is the period after which a format's sequence starts again at 1.
type Scope string

// The sequence reset scopes.
const (
	ScopeDay   Scope = "day"
	ScopeMonth Scope = "month"
	ScopeYear  Scope = "year"
	ScopeNever Scope = "never"
)

// Per says whether a format keeps one sequence per product or one for all.
type Per string

// The sequence partitions.
const (
	PerProduct Per = "product"
	PerGlobal  Per = "global"
)

// Code token names.
const (
	TokenBrand    = "BRAND"
	TokenSite     = "SITE"
	TokenGateway  = "GATEWAY"
	TokenDoor     = "DOOR"
	TokenLine     = "LINE"
	TokenProduct  = "PRODUCT"
	TokenSupplier = "SUPPLIER"
)

// DefaultMaxLen is the maximum length of each code token's value unless the
// configuration (Config.MaxLen, FormatConfig.MaxLen) says otherwise. The
// defaults let "{YYMM}-{BRAND}-{PRODUCT}-{SEQ:3}" fit 20 characters.
var DefaultMaxLen = map[string]int{
	TokenBrand:    4,
	TokenSite:     4,
	TokenGateway:  4,
	TokenDoor:     3,
	TokenLine:     2,
	TokenProduct:  6,
	TokenSupplier: 6,
}

// dateWidth is the width of each date token.
var dateWidth = map[string]int{
	"YY": 2, "YYYY": 4, "MM": 2, "DD": 2, "YYMM": 4, "YYMMDD": 6, "JJJ": 3, "WW": 2,
}

type partKind uint8

const (
	partLit partKind = iota
	partDate
	partCode
	partSeq
	partCheck
)

type part struct {
	kind  partKind
	name  string // token name without braces; "" for literals
	lit   string // literal text
	width int    // fixed width (date, seq, check) or maximum length (code)
}

func (p part) String() string {
	switch p.kind {
	case partLit:
		return strconv.Quote(p.lit)
	case partSeq:
		return "{SEQ:" + strconv.Itoa(p.width) + "}"
	}
	return "{" + p.name + "}"
}

// Values are what a code is made from at issue time.
type Values struct {
	// Date is the production date: it fills the date tokens and picks the
	// sequence period. Only its calendar date counts.
	Date     time.Time
	Brand    string
	Site     string
	Gateway  string
	Door     string
	Line     string
	Product  string
	Supplier string
}

func (v *Values) field(name string) *string {
	switch name {
	case TokenBrand:
		return &v.Brand
	case TokenSite:
		return &v.Site
	case TokenGateway:
		return &v.Gateway
	case TokenDoor:
		return &v.Door
	case TokenLine:
		return &v.Line
	case TokenProduct:
		return &v.Product
	case TokenSupplier:
		return &v.Supplier
	}
	return nil
}

// Format is a compiled lot-code format. It is immutable and safe for
// concurrent use.
type Format struct {
	name     string
	template string
	parts    []part
	scope    Scope
	per      Per
	shared   bool
	brand    string
	seqWidth int
	litChars string // every character used in a literal
	worst    string // a longest code the format can produce
	warnings []string
}

// Name is the format's name in the configuration ("" for an ad-hoc template).
func (f *Format) Name() string { return f.name }

// Template is the format string.
func (f *Format) Template() string { return f.template }

// Scope is the sequence reset scope.
func (f *Format) Scope() Scope { return f.scope }

// Per is the sequence partition.
func (f *Format) Per() Per { return f.per }

// Shared reports whether several gateways issue codes of this format.
func (f *Format) Shared() bool { return f.shared }

// Brand is the configured value of {BRAND}, used when none is given.
func (f *Format) Brand() string { return f.brand }

// SeqMax is the largest sequence number the format's {SEQ:n} holds (10^n − 1).
func (f *Format) SeqMax() uint64 {
	m := uint64(1)
	for range f.seqWidth {
		m *= 10
	}
	return m - 1
}

// WorstCase is a longest code the format can produce; its length is the
// format's maximum code length.
func (f *Format) WorstCase() string { return f.worst }

// Warnings lists what is allowed but unwise in the format ('_' and '>' in
// literals).
func (f *Format) Warnings() []string { return append([]string(nil), f.warnings...) }

// Tokens lists the code tokens the format needs values for, in order.
func (f *Format) Tokens() []string {
	var out []string
	for _, p := range f.parts {
		if p.kind == partCode {
			out = append(out, p.name)
		}
	}
	return out
}

// MaxLenOf is the maximum length of a code token's value in this format, or 0
// when the format does not use the token.
func (f *Format) MaxLenOf(token string) int {
	for _, p := range f.parts {
		if p.kind == partCode && p.name == token {
			return p.width
		}
	}
	return 0
}

// Uses reports whether the format contains the token (e.g. "PRODUCT",
// "YYMM", "SEQ", "CHECK").
func (f *Format) Uses(token string) bool {
	for _, p := range f.parts {
		if p.kind != partLit && (p.name == token || token == "SEQ" && p.kind == partSeq) {
			return true
		}
	}
	return false
}

// parseTemplate splits a template into literals and tokens.
func parseTemplate(t string) ([]part, error) {
	var parts []part
	addLit := func(s string) {
		if n := len(parts); n > 0 && parts[n-1].kind == partLit {
			parts[n-1].lit += s
			return
		}
		parts = append(parts, part{kind: partLit, lit: s})
	}
	for i := 0; i < len(t); {
		c := t[i]
		switch c {
		case '{':
			j := strings.IndexByte(t[i:], '}')
			if j < 0 {
				return nil, fmt.Errorf("%w: %q: '{' at position %d is not closed; write tokens as {NAME}", ErrFormat, t, charPos(t, i))
			}
			name := t[i+1 : i+j]
			p, err := parseToken(name)
			if err != nil {
				return nil, fmt.Errorf("%w: %q: %v", ErrFormat, t, err)
			}
			parts = append(parts, p)
			i += j + 1
		case '}':
			return nil, fmt.Errorf("%w: %q: '}' at position %d has no '{'", ErrFormat, t, charPos(t, i))
		default:
			addLit(t[i : i+1]) // a byte: a character beyond ASCII is its bytes in a row
			i++
		}
	}
	return parts, nil
}

func parseToken(name string) (part, error) {
	if w, ok := dateWidth[name]; ok {
		return part{kind: partDate, name: name, width: w}, nil
	}
	if _, ok := DefaultMaxLen[name]; ok {
		return part{kind: partCode, name: name}, nil
	}
	if name == "CHECK" {
		return part{kind: partCheck, name: name, width: 1}, nil
	}
	if rest, ok := strings.CutPrefix(name, "SEQ:"); ok {
		n, err := strconv.Atoi(rest)
		if err != nil || n < 1 || n > 9 {
			return part{}, fmt.Errorf("{%s}: the sequence width must be 1 to 9 digits, e.g. {SEQ:3}", name)
		}
		return part{kind: partSeq, name: "SEQ", width: n}, nil
	}
	if name == "SEQ" {
		return part{}, fmt.Errorf("{SEQ} needs a width: write {SEQ:n}, e.g. {SEQ:3} for 001 … 999")
	}
	return part{}, fmt.Errorf("unknown token {%s}; known: {YY} {YYYY} {MM} {DD} {YYMM} {YYMMDD} {JJJ} {WW} {BRAND} {SITE} {GATEWAY} {DOOR} {LINE} {PRODUCT} {SUPPLIER} {SEQ:n} {CHECK}", name)
}

// FormatConfig configures one named format (lots.formats.NAME).
type FormatConfig struct {
	// Format is the template, e.g. "{YYMM}-{BRAND}-{PRODUCT}-{SEQ:3}".
	Format string `yaml:"format" json:"format"`
	// SeqScope is when the sequence starts again: day, month, year or never.
	// Default: the finest period the format's date tokens name (day for
	// {YYMMDD}, month for {YYMM}, …, never without date tokens).
	SeqScope Scope `yaml:"seq_scope,omitempty" json:"seq_scope,omitempty"`
	// SeqPer is product (one sequence per product; the format must contain
	// {PRODUCT}) or global. Default: product when the format has {PRODUCT}.
	SeqPer Per `yaml:"seq_per,omitempty" json:"seq_per,omitempty"`
	// Shared marks a format several gateways issue codes of. They do not
	// talk to each other, so the format must contain {SITE}, {GATEWAY} or
	// {DOOR}, and each gateway must be given a different value for it.
	Shared bool `yaml:"shared,omitempty" json:"shared,omitempty"`
	// Brand is the value of {BRAND} when the issuer gives none.
	Brand string `yaml:"brand,omitempty" json:"brand,omitempty"`
	// MaxLen overrides Config.MaxLen for this format.
	MaxLen map[string]int `yaml:"max_len,omitempty" json:"max_len,omitempty"`
}

// Compile checks a format and prepares it for Generate and Decode. maxLen
// gives code token maximum lengths (missing tokens use fc.MaxLen, then
// DefaultMaxLen). Errors name what is wrong and how to fix it.
func Compile(name string, fc FormatConfig, maxLen map[string]int) (*Format, error) {
	t := fc.Format
	if t == "" {
		return nil, fmt.Errorf("%w: the format is empty; write a template such as \"{YYMM}-{BRAND}-{PRODUCT}-{SEQ:3}\"", ErrFormat)
	}
	parts, err := parseTemplate(t)
	if err != nil {
		return nil, err
	}
	f := &Format{name: name, template: t, parts: parts, shared: fc.Shared, brand: fc.Brand}
	seen := map[string]bool{}
	var lits strings.Builder
	for i := range parts {
		p := &parts[i]
		switch p.kind {
		case partLit:
			if k := firstOutsideCSET82(p.lit); k >= 0 {
				return nil, fmt.Errorf("%w: format %q: literal %q has %s, which GS1 AI (10) cannot carry; use letters, digits or '-'", ErrCharset, t, p.lit, quoteChar(p.lit, k))
			}
			for _, c := range []byte{'_', '>'} {
				if strings.IndexByte(p.lit, c) >= 0 {
					f.warnings = append(f.warnings, fmt.Sprintf("format %q: literal %q contains %q, an escape character in ZPL fields; prefer '-'", t, p.lit, c))
				}
			}
			lits.WriteString(p.lit)
			continue
		case partCode:
			p.width = DefaultMaxLen[p.name]
			if n, ok := maxLen[p.name]; ok {
				p.width = n
			}
			if n, ok := fc.MaxLen[p.name]; ok {
				p.width = n
			}
			if p.width < 1 || p.width > MaxLength {
				return nil, fmt.Errorf("%w: format %q: max_len of %s is %d; give 1 to %d", ErrConfig, t, p.name, p.width, MaxLength)
			}
		case partSeq:
			f.seqWidth = p.width
		case partCheck:
			if i != len(parts)-1 {
				return nil, fmt.Errorf("%w: format %q: {CHECK} must be the last token", ErrFormat, t)
			}
		}
		if seen[p.name] {
			return nil, fmt.Errorf("%w: format %q: %s appears twice; use each token once", ErrFormat, t, p)
		}
		seen[p.name] = true
	}
	f.litChars = lits.String()
	if f.seqWidth == 0 {
		return nil, fmt.Errorf("%w: format %q has no {SEQ:n}; add one (e.g. {SEQ:3}) so that every code is different", ErrFormat, t)
	}
	// Code tokens have variable length: two of them with no literal in
	// between could not be told apart when reading a code back.
	prev := ""
	for _, p := range parts {
		switch p.kind {
		case partLit:
			prev = ""
		case partCode:
			if prev != "" {
				return nil, fmt.Errorf("%w: format %q: {%s} and {%s} have no literal between them, so codes could not be read back; put a separator such as '-' between them", ErrFormat, t, prev, p.name)
			}
			prev = p.name
		}
	}
	f.worst = worstCase(parts)
	if len(f.worst) > MaxLength {
		return nil, fmt.Errorf("%w: format %q can produce %d characters (worst case %q) but AI (10) allows %d; shorten the literals, lower max_len of its code tokens or the {SEQ:n} width",
			ErrTooLong, t, len(f.worst), f.worst, MaxLength)
	}
	hasYear := seen["YY"] || seen["YYYY"] || seen["YYMM"] || seen["YYMMDD"]
	hasMonth := seen["MM"] || seen["YYMM"] || seen["YYMMDD"]
	hasDay := seen["YYMMDD"] || seen["JJJ"] || seen["DD"] && hasMonth
	f.scope = fc.SeqScope
	if f.scope == "" {
		switch {
		case hasYear && hasDay:
			f.scope = ScopeDay
		case hasYear && hasMonth:
			f.scope = ScopeMonth
		case hasYear:
			f.scope = ScopeYear
		default:
			f.scope = ScopeNever
		}
	}
	switch f.scope {
	case ScopeDay:
		if !hasYear || !hasDay {
			return nil, fmt.Errorf("%w: format %q: seq_scope day needs the year and the day in the code ({YYMMDD}, {YY}{JJJ} or {YY}{MM}{DD}); otherwise codes of different days repeat", ErrConfig, t)
		}
	case ScopeMonth:
		if !hasYear || !hasMonth {
			return nil, fmt.Errorf("%w: format %q: seq_scope month needs the year and the month in the code (e.g. {YYMM}); otherwise codes of different months repeat", ErrConfig, t)
		}
	case ScopeYear:
		if !hasYear {
			return nil, fmt.Errorf("%w: format %q: seq_scope year needs the year in the code ({YY} or {YYYY}); otherwise codes of different years repeat", ErrConfig, t)
		}
	case ScopeNever:
	default:
		return nil, fmt.Errorf("%w: format %q: seq_scope %q is not one of day, month, year, never", ErrConfig, t, f.scope)
	}
	f.per = fc.SeqPer
	if f.per == "" {
		f.per = PerGlobal
		if seen[TokenProduct] {
			f.per = PerProduct
		}
	}
	switch f.per {
	case PerProduct:
		if !seen[TokenProduct] {
			return nil, fmt.Errorf("%w: format %q: seq_per product needs {PRODUCT} in the code, otherwise codes of different products repeat; add {PRODUCT} or set seq_per: global", ErrConfig, t)
		}
	case PerGlobal:
	default:
		return nil, fmt.Errorf("%w: format %q: seq_per %q is not one of product, global", ErrConfig, t, f.per)
	}
	if f.shared && !seen[TokenSite] && !seen[TokenGateway] && !seen[TokenDoor] {
		return nil, fmt.Errorf("%w: format %q is shared between gateways but has no {SITE}, {GATEWAY} or {DOOR}; gateways that do not talk to each other would issue the same codes: add one and give each gateway its own value", ErrConfig, t)
	}
	if f.brand != "" {
		if !seen[TokenBrand] {
			return nil, fmt.Errorf("%w: format %q sets brand %q but has no {BRAND}; remove brand or add {BRAND}", ErrConfig, t, f.brand)
		}
		if err := f.checkValue(TokenBrand, f.brand); err != nil {
			return nil, err
		}
	}
	return f, nil
}

// worstCase builds a longest code: code tokens at their maximum length shown
// by their initial, numbers at their largest.
func worstCase(parts []part) string {
	var b strings.Builder
	for _, p := range parts {
		switch p.kind {
		case partLit:
			b.WriteString(p.lit)
		case partCode:
			b.WriteString(strings.Repeat(p.name[:1], p.width))
		case partCheck:
			b.WriteByte('C')
		case partDate:
			b.WriteString(map[string]string{"YY": "99", "YYYY": "2099", "MM": "12", "DD": "31", "YYMM": "9912", "YYMMDD": "991231", "JJJ": "366", "WW": "53"}[p.name])
		case partSeq:
			b.WriteString(strings.Repeat("9", p.width))
		}
	}
	return b.String()
}

// checkValue checks a code token's value against its maximum length, CSET 82
// and the format's literals.
func (f *Format) checkValue(token, v string) error {
	maxLen := f.MaxLenOf(token)
	if v == "" {
		return fmt.Errorf("%w: format %q needs a value for {%s}", ErrValue, f.template, token)
	}
	// The characters first: the length counts bytes, which are
	// characters only in CSET 82.
	if k := firstOutsideCSET82(v); k >= 0 {
		return fmt.Errorf("%w: {%s} value %q has %s at position %d; AI (10) allows GS1 CSET 82 only (letters, digits, -./ and a few more)", ErrCharset, token, v, quoteChar(v, k), charPos(v, k))
	}
	if len(v) > maxLen {
		return fmt.Errorf("%w: {%s} value %q has %d characters; format %q allows %d (raise max_len.%s or use a shorter value)", ErrValue, token, v, len(v), f.template, maxLen, token)
	}
	if k := strings.IndexAny(v, f.litChars); k >= 0 {
		return fmt.Errorf("%w: {%s} value %q contains %q, which format %q uses as a separator, so the code could not be read back; remove it from the value", ErrValue, token, v, v[k], f.template)
	}
	return nil
}

// CheckValues checks the values the format's code tokens need (with the
// configured brand for an empty Brand) without making a code.
func (f *Format) CheckValues(v Values) error {
	if v.Brand == "" {
		v.Brand = f.brand
	}
	for _, p := range f.parts {
		if p.kind == partCode {
			if err := f.checkValue(p.name, *v.field(p.name)); err != nil {
				return err
			}
		}
	}
	if f.Uses("YY") || f.Uses("YYYY") || f.Uses("YYMM") || f.Uses("YYMMDD") || f.Uses("MM") || f.Uses("DD") || f.Uses("JJJ") || f.Uses("WW") || f.scope != ScopeNever {
		if v.Date.IsZero() {
			return fmt.Errorf("%w: format %q needs the production date", ErrValue, f.template)
		}
		if y := v.Date.Year(); y < 1 || y > 9999 {
			return fmt.Errorf("%w: production date year %d is outside 1 … 9999", ErrValue, y)
		}
	}
	return nil
}

// Period names the sequence period a production date falls in: "20250507"
// (day), "202505" (month), "2025" (year) or "" (never).
func (f *Format) Period(date time.Time) string {
	switch f.scope {
	case ScopeDay:
		return date.Format("20060102")
	case ScopeMonth:
		return date.Format("200601")
	case ScopeYear:
		return date.Format("2006")
	}
	return ""
}

// Generate makes the code for values and sequence number seq (1 … SeqMax).
func (f *Format) Generate(v Values, seq uint64) (string, error) {
	if err := f.CheckValues(v); err != nil {
		return "", err
	}
	if seq < 1 || seq > f.SeqMax() {
		return "", fmt.Errorf("%w: sequence %d does not fit {SEQ:%d} (1 … %d)", ErrSeqRange, seq, f.seqWidth, f.SeqMax())
	}
	if v.Brand == "" {
		v.Brand = f.brand
	}
	buf := make([]byte, 0, MaxLength)
	d := v.Date
	for _, p := range f.parts {
		switch p.kind {
		case partLit:
			buf = append(buf, p.lit...)
		case partCode:
			buf = append(buf, *v.field(p.name)...)
		case partSeq:
			buf = appendPadded(buf, seq, p.width)
		case partDate:
			switch p.name {
			case "YY":
				buf = appendPadded(buf, uint64(d.Year()%100), 2)
			case "YYYY":
				buf = appendPadded(buf, uint64(d.Year()), 4)
			case "MM":
				buf = appendPadded(buf, uint64(d.Month()), 2)
			case "DD":
				buf = appendPadded(buf, uint64(d.Day()), 2)
			case "YYMM":
				buf = appendPadded(buf, uint64(d.Year()%100*100+int(d.Month())), 4)
			case "YYMMDD":
				buf = appendPadded(buf, uint64(d.Year()%100*10000+int(d.Month())*100+d.Day()), 6)
			case "JJJ":
				buf = appendPadded(buf, uint64(d.YearDay()), 3)
			case "WW":
				_, w := d.ISOWeek()
				buf = appendPadded(buf, uint64(w), 2)
			}
		case partCheck:
			buf = append(buf, CheckChar(string(buf)))
		}
	}
	return string(buf), nil
}

func appendPadded(buf []byte, n uint64, width int) []byte {
	var tmp [20]byte
	s := strconv.AppendUint(tmp[:0], n, 10)
	for i := len(s); i < width; i++ {
		buf = append(buf, '0')
	}
	return append(buf, s...)
}
