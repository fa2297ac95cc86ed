package lot

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

func mustCompile(t testing.TB, tmpl string) *Format {
	t.Helper()
	f, err := Compile("t", FormatConfig{Format: tmpl}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestSeedExample(t *testing.T) {
	f, err := Compile("std", FormatConfig{Format: "{YYMM}-{BRAND}-{PRODUCT}-{SEQ:3}", Brand: "LWX"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if f.Scope() != ScopeMonth || f.Per() != PerProduct {
		t.Fatalf("defaults: scope %s per %s, want month product", f.Scope(), f.Per())
	}
	for _, c := range []struct {
		date string
		seq  uint64
		want string
	}{
		{"2025-05-07", 1, "2505-LWX-WLD01-001"},
		{"2025-05-20", 2, "2505-LWX-WLD01-002"},
		{"2025-06-01", 1, "2506-LWX-WLD01-001"},
	} {
		got, err := f.Generate(Values{Date: day(c.date), Product: "WLD01"}, c.seq)
		if err != nil || got != c.want {
			t.Errorf("Generate(%s, %d) = %q, %v; want %q", c.date, c.seq, got, err, c.want)
		}
	}
	if f.Period(day("2025-05-07")) != f.Period(day("2025-05-31")) || f.Period(day("2025-05-31")) == f.Period(day("2025-06-01")) {
		t.Error("month periods wrong")
	}
	fl, err := f.Decode("2505-LWX-WLD01-002")
	if err != nil {
		t.Fatal(err)
	}
	if fl.Year != 2025 || fl.Month != 5 || fl.Brand != "LWX" || fl.Product != "WLD01" || fl.Seq != 2 || fl.Date != "" {
		t.Errorf("Decode = %+v", fl)
	}
	if _, err := f.Generate(Values{Date: day("2025-05-07"), Product: "WLD01"}, 1000); !errors.Is(err, ErrSeqRange) {
		t.Errorf("seq 1000 of {SEQ:3}: %v, want ErrSeqRange", err)
	}
}

func TestCheckChar(t *testing.T) {
	// GRid A1-2425G-ABC1234002-M (ISO/IEC 7064 MOD 37,36).
	if c := CheckChar("A12425GABC1234002"); c != 'M' {
		t.Errorf("CheckChar = %c, want M", c)
	}
	if CheckChar("A1-2425G-ABC1234002") != 'M' || CheckChar("a12425gabc1234002") != 'M' {
		t.Error("separators and case must not change the check character")
	}
	// Every single-character substitution is detected.
	base := "2505LWXWLD01001"
	want := CheckChar(base)
	for i := range len(base) {
		for _, c := range []byte(checkAlphabet) {
			if c == base[i] {
				continue
			}
			s := base[:i] + string(c) + base[i+1:]
			if CheckChar(s) == want {
				t.Fatalf("substitution %q not detected", s)
			}
		}
	}
	// And every adjacent transposition of different characters.
	for i := range len(base) - 1 {
		if base[i] == base[i+1] {
			continue
		}
		s := base[:i] + string(base[i+1]) + string(base[i]) + base[i+2:]
		if CheckChar(s) == want {
			t.Fatalf("transposition %q not detected", s)
		}
	}
}

func TestCheckToken(t *testing.T) {
	f := mustCompile(t, "{YYMMDD}{PRODUCT}{SEQ:2}{CHECK}")
	code, err := f.Generate(Values{Date: day("2024-02-29"), Product: "AB"}, 7)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(code, "240229AB07") || len(code) != 11 {
		t.Fatalf("code %q", code)
	}
	fl, err := f.Decode(code)
	if err != nil || fl.Date != "2024-02-29" || fl.DayOfYear != 60 || fl.Check != code[10:] {
		t.Fatalf("Decode = %+v, %v", fl, err)
	}
	bad := code[:9] + "8" + code[10:]
	if _, err := f.Decode(bad); !errors.Is(err, ErrCheck) {
		t.Errorf("Decode(%q) = %v, want ErrCheck", bad, err)
	}
}

func TestCompileErrors(t *testing.T) {
	for _, c := range []struct {
		fc   FormatConfig
		max  map[string]int
		err  error
		frag string
	}{
		{FormatConfig{Format: ""}, nil, ErrFormat, "empty"},
		{FormatConfig{Format: "{YYMM}-{FOO}-{SEQ:3}"}, nil, ErrFormat, "unknown token {FOO}"},
		{FormatConfig{Format: "{YYMM-{SEQ:3}"}, nil, ErrFormat, "unknown token"},
		{FormatConfig{Format: "{YYMM}-{SEQ:3"}, nil, ErrFormat, "not closed"},
		{FormatConfig{Format: "A}{SEQ:3}"}, nil, ErrFormat, "has no '{'"},
		{FormatConfig{Format: "{YYMM}-{SEQ}"}, nil, ErrFormat, "{SEQ:n}"},
		{FormatConfig{Format: "{YYMM}-{SEQ:0}"}, nil, ErrFormat, "1 to 9"},
		{FormatConfig{Format: "{YYMM}-{PRODUCT}"}, nil, ErrFormat, "no {SEQ:n}"},
		{FormatConfig{Format: "{YYMM} {SEQ:3}"}, nil, ErrCharset, "' '"},
		{FormatConfig{Format: "{YYMM}#{SEQ:3}"}, nil, ErrCharset, "'#'"},
		{FormatConfig{Format: "{CHECK}{YYMM}{SEQ:3}"}, nil, ErrFormat, "last"},
		{FormatConfig{Format: "{YY}{SEQ:3}{YY}"}, nil, ErrFormat, "twice"},
		{FormatConfig{Format: "{YYMM}-{BRAND}{PRODUCT}-{SEQ:3}"}, nil, ErrFormat, "{BRAND} and {PRODUCT}"},
		{FormatConfig{Format: "{YYMM}-{BRAND}-{PRODUCT}-{SEQ:3}"}, map[string]int{"PRODUCT": 8}, ErrTooLong, `worst case "9912-BBBB-PPPPPPPP-999"`},
		{FormatConfig{Format: "{YYYYMM}"}, nil, ErrFormat, "unknown token"},
		{FormatConfig{Format: "{PRODUCT}-{SEQ:3}", SeqScope: ScopeMonth}, nil, ErrConfig, "seq_scope month"},
		{FormatConfig{Format: "{YYMM}-{SEQ:3}", SeqScope: ScopeDay}, nil, ErrConfig, "seq_scope day"},
		{FormatConfig{Format: "{MMDD}-{SEQ:3}"}, nil, ErrFormat, "unknown"},
		{FormatConfig{Format: "{MM}{DD}-{SEQ:3}", SeqScope: ScopeYear}, nil, ErrConfig, "seq_scope year"},
		{FormatConfig{Format: "{YYMM}-{SEQ:3}", SeqScope: "week"}, nil, ErrConfig, "not one of"},
		{FormatConfig{Format: "{YYMM}-{SEQ:3}", SeqPer: PerProduct}, nil, ErrConfig, "needs {PRODUCT}"},
		{FormatConfig{Format: "{YYMM}-{SEQ:3}", SeqPer: "brand"}, nil, ErrConfig, "not one of"},
		{FormatConfig{Format: "{YYMM}-{PRODUCT}-{SEQ:3}", Shared: true}, nil, ErrConfig, "shared"},
		{FormatConfig{Format: "{YYMM}-{PRODUCT}-{SEQ:3}", Brand: "LWX"}, nil, ErrConfig, "no {BRAND}"},
		{FormatConfig{Format: "{YYMM}-{BRAND}-{SEQ:3}", Brand: "TOOLONG"}, nil, ErrValue, "{BRAND}"},
		{FormatConfig{Format: "{YYMM}-{BRAND}-{SEQ:3}", MaxLen: map[string]int{"BRAND": 0}}, nil, ErrConfig, "max_len of BRAND"},
	} {
		_, err := Compile("x", c.fc, c.max)
		if !errors.Is(err, c.err) || !strings.Contains(err.Error(), c.frag) {
			t.Errorf("Compile(%+v) = %v; want %v containing %q", c.fc, err, c.err, c.frag)
		}
	}
}

func TestWarningsAndShared(t *testing.T) {
	f, err := Compile("x", FormatConfig{Format: "{YY}_{SITE}>{SEQ:4}", Shared: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if w := f.Warnings(); len(w) != 2 || !strings.Contains(w[0], "'_'") || !strings.Contains(w[1], "'>'") {
		t.Errorf("warnings %q", w)
	}
	if f.Scope() != ScopeYear || f.Per() != PerGlobal {
		t.Errorf("defaults: %s %s", f.Scope(), f.Per())
	}
}

func TestValueChecks(t *testing.T) {
	f := mustCompile(t, "{YYMM}-{BRAND}-{PRODUCT}-{SEQ:3}")
	d := day("2025-05-01")
	for _, c := range []struct {
		v    Values
		err  error
		frag string
	}{
		{Values{Date: d, Brand: "LWX"}, ErrValue, "{PRODUCT}"},
		{Values{Date: d, Brand: "LWX", Product: "ABCDEFG"}, ErrValue, "{PRODUCT} value \"ABCDEFG\" has 7"},
		{Values{Date: d, Brand: "L X", Product: "A"}, ErrCharset, "{BRAND}"},
		{Values{Date: d, Brand: "LWX", Product: "A~"}, ErrCharset, "{PRODUCT}"},
		{Values{Date: d, Brand: "LWX", Product: "A-B"}, ErrValue, "separator"},
		{Values{Brand: "LWX", Product: "AB"}, ErrValue, "production date"},
	} {
		_, err := f.Generate(c.v, 1)
		if !errors.Is(err, c.err) || !strings.Contains(err.Error(), c.frag) {
			t.Errorf("Generate(%+v) = %v; want %v containing %q", c.v, err, c.err, c.frag)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	f := mustCompile(t, "{YYMMDD}-{PRODUCT}-{SEQ:3}")
	for _, c := range []struct {
		code string
		err  error
		frag string
	}{
		{"251301-A-001", ErrNoMatch, "month 13"},
		{"250230-A-001", ErrNoMatch, "day 30"},
		{"250229-A-001", ErrNoMatch, "day 29"},
		{"250101-A-000", ErrSeqRange, "never issued"},
		{"250101-A-01", ErrNoMatch, "position 9"},
		{"250101-A-0011", ErrNoMatch, "extra"},
		{"2501-A-001", ErrNoMatch, "expected"},
		{"250101-ABCDEFG-001", ErrNoMatch, "{PRODUCT}"},
		{"250101-A~-001", ErrCharset, "position 8"},
		{"250101-AAAAAAAAAAAAAAAAAAAAAA-001", ErrTooLong, "AI (10)"},
	} {
		_, err := f.Decode(c.code)
		if !errors.Is(err, c.err) || !strings.Contains(err.Error(), c.frag) {
			t.Errorf("Decode(%q) = %v; want %v containing %q", c.code, err, c.err, c.frag)
		}
	}
	g := mustCompile(t, "{YY}{JJJ}{MM}-{SEQ:2}")
	if _, err := g.Decode("2406003-01"); err == nil || !strings.Contains(err.Error(), "day of year 060 is not in month 03") {
		t.Errorf("inconsistent JJJ/MM: %v", err)
	}
	if fl, err := g.Decode("2406002-01"); err != nil || fl.Date != "2024-02-29" {
		t.Errorf("JJJ: %+v %v", fl, err)
	}
	h := mustCompile(t, "{YY}{JJJ}-{SEQ:2}")
	if _, err := h.Decode("25366-01"); err == nil || !strings.Contains(err.Error(), "001 … 365") {
		t.Errorf("day 366 of 2025: %v", err)
	}
}

func TestConfig(t *testing.T) {
	c := Config{
		DefaultFormat: "std",
		MaxLen:        map[string]int{"PRODUCT": 5},
		Formats: map[string]FormatConfig{
			"std":  {Format: "{YYMM}-{BRAND}-{PRODUCT}-{SEQ:3}", Brand: "LWX"},
			"dock": {Format: "{YY}{JJJ}{DOOR}-{SEQ:4}", Shared: true, SeqScope: ScopeDay},
		},
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	f, err := c.Format("")
	if err != nil || f.Name() != "std" || f.MaxLenOf("PRODUCT") != 5 {
		t.Fatalf("default format: %v %v", f, err)
	}
	if f, err := c.Format("{YY}-{SEQ:5}"); err != nil || f.Scope() != ScopeYear {
		t.Fatalf("ad-hoc: %v", err)
	}
	if _, err := c.Format("nope"); err == nil || !strings.Contains(err.Error(), "dock, std") {
		t.Errorf("unknown name: %v", err)
	}
	bad := Config{
		DefaultFormat: "x",
		MaxLen:        map[string]int{"COLOR": 3, "SITE": 40},
		Formats: map[string]FormatConfig{
			"long": {Format: "{YYYY}-{SUPPLIER}-{PRODUCT}-{SEQ:6}"},
			"odd":  {Format: "{YY}-{SEQ:2}", MaxLen: map[string]int{"FOO": 1}},
		},
	}
	err = bad.Validate()
	for _, frag := range []string{"lots.max_len.COLOR", "lots.max_len.SITE", "lots.formats.long", "lots.formats.odd.max_len.FOO", "lots.default_format"} {
		if err == nil || !strings.Contains(err.Error(), frag) {
			t.Errorf("Validate: %v; want it to name %s", err, frag)
		}
	}
	if w := (Config{Formats: map[string]FormatConfig{"u": {Format: "{YY}_{SEQ:2}"}}}).Warnings(); len(w) != 1 || !strings.HasPrefix(w[0], "lots.formats.u:") {
		t.Errorf("warnings %q", w)
	}
}

// randomFormat builds a valid random template.
func randomFormat(r *rand.Rand) string {
	dates := [][]string{{"YYMM"}, {"YYMMDD"}, {"YY", "JJJ"}, {"YYYY", "MM", "DD"}, {"YY", "WW"}, {}, {"YY"}}
	codes := []string{"BRAND", "SITE", "GATEWAY", "DOOR", "LINE", "PRODUCT", "SUPPLIER"}
	seps := []string{"-", ".", "/", "", "L"}
	var toks []string
	for _, d := range dates[r.IntN(len(dates))] {
		toks = append(toks, "{"+d+"}")
	}
	r.Shuffle(len(codes), func(i, j int) { codes[i], codes[j] = codes[j], codes[i] })
	for _, c := range codes[:r.IntN(3)] {
		toks = append(toks, "{"+c+"}")
	}
	toks = append(toks, fmt.Sprintf("{SEQ:%d}", 1+r.IntN(5)))
	r.Shuffle(len(toks), func(i, j int) { toks[i], toks[j] = toks[j], toks[i] })
	var b strings.Builder
	for i, t := range toks {
		if i > 0 {
			b.WriteString(seps[r.IntN(len(seps))])
		}
		b.WriteString(t)
	}
	if r.IntN(3) == 0 {
		b.WriteString("{CHECK}")
	}
	return b.String()
}

func randomValue(r *rand.Rand, maxLen int, forbidden string) string {
	const alpha = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-./"
	n := 1 + r.IntN(maxLen)
	b := make([]byte, 0, n)
	for len(b) < n {
		c := alpha[r.IntN(len(alpha))]
		if strings.IndexByte(forbidden, c) < 0 {
			b = append(b, c)
		}
	}
	return string(b)
}

// TestRoundTrip: format → code → decode gives back what made the code.
func TestRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	tested := 0
	for range 3000 {
		tmpl := randomFormat(r)
		f, err := Compile("p", FormatConfig{Format: tmpl}, nil)
		if err != nil {
			if errors.Is(err, ErrTooLong) || errors.Is(err, ErrFormat) {
				continue // adjacent code tokens or too long: Compile said why
			}
			t.Fatalf("Compile(%q): %v", tmpl, err)
		}
		var v Values
		v.Date = time.Date(2000+r.IntN(100), time.Month(1+r.IntN(12)), 1+r.IntN(28), 0, 0, 0, 0, time.UTC)
		for _, tok := range f.Tokens() {
			*v.field(tok) = randomValue(r, f.MaxLenOf(tok), f.litChars)
		}
		seq := 1 + r.Uint64N(f.SeqMax())
		code, err := f.Generate(v, seq)
		if err != nil {
			t.Fatalf("Generate(%q, %+v): %v", tmpl, v, err)
		}
		if len(code) > MaxLength || firstOutsideCSET82(code) >= 0 {
			t.Fatalf("%q made %q", tmpl, code)
		}
		fl, err := f.Decode(code)
		if err != nil {
			t.Fatalf("Decode(%q) with %q: %v", code, tmpl, err)
		}
		for _, tok := range f.Tokens() {
			if *fl.field(tok) != *v.field(tok) {
				t.Fatalf("%q %q: %s = %q, want %q", tmpl, code, tok, *fl.field(tok), *v.field(tok))
			}
		}
		if fl.Seq != seq {
			t.Fatalf("%q %q: seq %d want %d", tmpl, code, fl.Seq, seq)
		}
		if fl.Year != 0 && fl.Year != v.Date.Year() || fl.Month != 0 && fl.Month != int(v.Date.Month()) || fl.Day != 0 && fl.Day != v.Date.Day() {
			t.Fatalf("%q %q: date %+v want %s", tmpl, code, fl, v.Date)
		}
		if _, w := v.Date.ISOWeek(); fl.ISOWeek != 0 && fl.ISOWeek != w {
			t.Fatalf("%q %q: week %d want %d", tmpl, code, fl.ISOWeek, w)
		}
		if again, _ := f.Generate(v, seq); again != code {
			t.Fatal("Generate is not deterministic")
		}
		tested++
	}
	if tested < 1000 {
		t.Fatalf("only %d formats were valid", tested)
	}
}

func FuzzDecode(f *testing.F) {
	formats := []string{"{YYMM}-{BRAND}-{PRODUCT}-{SEQ:3}", "{YYMMDD}{PRODUCT}{SEQ:2}{CHECK}", "{YY}{JJJ}{MM}-{SEQ:2}", "{SITE}.{YYYY}{WW}.{LINE}{SEQ:4}"}
	for _, s := range []string{"2505-LWX-WLD01-001", "240229AB07X", "2406002-01", "S1.202452.L1", "", "----", "9999-AAAA-AAAAAA-999"} {
		for i := range formats {
			f.Add(uint8(i), s)
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, code string) {
		fm := mustCompile(t, formats[int(which)%len(formats)])
		fl, err := fm.Decode(code)
		if err != nil {
			return
		}
		if fl.Code != code || len(code) > MaxLength {
			t.Fatalf("Decode(%q) = %+v", code, fl)
		}
	})
}

func FuzzCompile(f *testing.F) {
	for _, s := range []string{"{YYMM}-{BRAND}-{PRODUCT}-{SEQ:3}", "{SEQ:9}", "{", "}", "{SEQ:}", "{YY}{CHECK}", "{BRAND}{SITE}{SEQ:1}", "{YY}_{SEQ:2}>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, tmpl string) {
		fm, err := Compile("f", FormatConfig{Format: tmpl}, nil)
		if err != nil {
			return
		}
		if len(fm.WorstCase()) > MaxLength {
			t.Fatalf("%q compiled with worst case %q", tmpl, fm.WorstCase())
		}
		v := Values{Date: time.Date(2099, 12, 31, 0, 0, 0, 0, time.UTC)}
		for _, tok := range fm.Tokens() {
			*v.field(tok) = strings.Repeat("Z", fm.MaxLenOf(tok))
		}
		code, err := fm.Generate(v, fm.SeqMax())
		if err != nil {
			if errors.Is(err, ErrValue) { // 'Z' is one of the format's literals
				return
			}
			t.Fatalf("Generate: %v", err)
		}
		if len(code) > MaxLength {
			t.Fatalf("%q made %q", tmpl, code)
		}
		if _, err := fm.Decode(code); err != nil {
			t.Fatalf("Decode(%q) with %q: %v", code, tmpl, err)
		}
	})
}

func BenchmarkGenerate(b *testing.B) {
	f := mustCompile(b, "{YYMM}-{BRAND}-{PRODUCT}-{SEQ:2}{CHECK}")
	v := Values{Date: day("2025-05-07"), Brand: "LWX", Product: "WLD01"}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := f.Generate(v, uint64(i%99+1)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "codes/s")
}

func BenchmarkDecode(b *testing.B) {
	f := mustCompile(b, "{YYMM}-{BRAND}-{PRODUCT}-{SEQ:3}")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.Decode("2505-LWX-WLD01-042"); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "codes/s")
}

// A character beyond ASCII is quoted whole ('Ü', not the 'Ã' of its first
// byte), a format's literal keeps it, positions count characters, and it is
// named before a length that counts its bytes.
func TestErrorsQuoteCharacters(t *testing.T) {
	f := mustCompile(t, "{YYMM}-{PRODUCT}-{SEQ:3}")
	gen := func(product string) error {
		_, err := f.Generate(Values{Date: day("2025-05-01"), Product: product}, 1)
		return err
	}
	compile := func(tmpl string) error { _, err := Compile("t", FormatConfig{Format: tmpl}, nil); return err }
	decode := func(code string) error { _, err := f.Decode(code); return err }
	for _, c := range []struct {
		name string
		err  error
		is   error
		want string
	}{
		{"value", gen("ÜBER"), ErrCharset, `{PRODUCT} value "ÜBER" has 'Ü' at position 0;`},
		{"value, emoji", gen("A😀"), ErrCharset, `{PRODUCT} value "A😀" has '😀' at position 1;`},
		{"value longer in bytes", gen("ÜÜÜÜ"), ErrCharset, `has 'Ü' at position 0`},
		{"literal", compile("ÜBER-{SEQ:3}"), ErrCharset, `literal "ÜBER-" has 'Ü', which`},
		{"brace position", compile("Ü-{SEQ:3}-{"), ErrFormat, `'{' at position 10 is not closed`},
		{"code", decode("2505-ÄB-001"), ErrCharset, `code "2505-ÄB-001" has 'Ä' at position 5`},
		{"code, not UTF-8", decode("2505-\xffB-001"), ErrCharset, `has byte 0xFF at position 5`},
		{"code longer in bytes", decode(strings.Repeat("Ü", 11)), ErrCharset, `has 'Ü' at position 0`},
	} {
		if !errors.Is(c.err, c.is) || !strings.Contains(c.err.Error(), c.want) {
			t.Errorf("%s: %v; want %v with %q", c.name, c.err, c.is, c.want)
		}
	}
}
