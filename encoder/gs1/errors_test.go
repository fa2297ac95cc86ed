package gs1

import (
	"errors"
	"strings"
	"testing"
)

// Invalid inputs: the sentinel, the AI, the rule and (where stable) the exact
// message.
func TestParseErrors(t *testing.T) {
	tests := []struct {
		in       string
		sentinel error
		ai       string
		rule     string
		msg      string // exact Error() when not ""
		pos      int    // -2: don't check
	}{
		{"(01)09520123456788(17)250229", ErrDate, "17", "yymmd0", `AI (17): illegal day 29 for month 02 in "250229"`, 26},
		{"(01)09520123456788(17)251301", ErrDate, "17", "yymmd0", `AI (17): illegal month 13 in "251301"`, 24},
		{"(01)09520123456788(17)250431", ErrDate, "17", "yymmd0", `AI (17): illegal day 31 for month 04 in "250431"`, 26},
		{"(01)09520123456789", ErrCheckDigit, "01", "csum", `AI (01): check digit 9 should be 8 in "09520123456789"`, 17},
		{"(00)095012345678901235", ErrCheckDigit, "00", "csum", "", 21},
		{"(01)0952012345678", ErrLength, "01", "length", `AI (01): value "0952012345678" is too short: needs exactly 14 characters`, -2},
		{"(01)09520123456788(10)ABCDEFGHIJKLMNOPQRSTU", ErrLength, "10", "length", "", -2},
		{"(01)09520123456788(10)AB C", ErrCharset, "10", "charset", "", 24},
		{"(01)09520123456788(10)AB#C", ErrCharset, "10", "charset", "", 24},
		{"(01)0952012345678A", ErrCharset, "01", "charset", "", 17},
		{"(01)09520123456788(99)", ErrLength, "99", "length", "", -2},
		{"(04)123", ErrUnknownAI, "04", "ai", "", -2},
		{"(1)123", ErrUnknownAI, "", "ai", "", -2},
		{"(01)09520123456788(10", ErrSyntax, "", "syntax", "", -2},
		{"01)0952", ErrLength, "01", "length", "", -2},
		{"(10)ABC", ErrAssociation, "10", "req", "", -1},
		{"(21)ABC", ErrAssociation, "21", "req", "", -1},
		{"(02)09520123456788", ErrAssociation, "02", "req", "", -1},
		{"(01)09520123456788(37)5", ErrAssociation, "01", "ex", "", -1},
		{"(01)09520123456788(02)09520123456788(37)5", ErrAssociation, "", "", "", -1},
		{"(00)095012345678901237(37)5", ErrAssociation, "37", "req", "", -1},
		{"(01)09520123456788(3103)000100(3102)000200", ErrAssociation, "3103", "ex", "", -1},
		{"(01)09520123456788(21)A(235)B", ErrAssociation, "", "ex", "", -1},
		{"(422)999(01)09520123456788", ErrLint, "422", "iso3166", "", -2},
		{"(415)9520123456788(8020)R1(3910)000100", ErrLint, "3910", "iso4217", "", -2},
		{"(00)095012345678901237(4307)XX", ErrLint, "4307", "iso3166alpha2", "", -2},
		{"(00)095012345678901237(4300)AB%4", ErrLint, "4300", "pcenc", "", -2},
		{"(00)095012345678901237(4300)AB%G1", ErrLint, "4300", "pcenc", "", -2},
		{"(8006)095201234567880305(01)09520123456788", ErrAssociation, "", "ex", "", -1},
		{"(8006)095201234567880302", ErrLint, "8006", "pieceoftotal", "", -2},
		{"(8006)095201234567880003", ErrLint, "8006", "pieceoftotal", "", -2},
		{"(415)9520123456788(8020)R1(8007)GB82WEST12345698765431", ErrCheckDigit, "8007", "iban", "", -2},
		{"(01)09520123456788(7006)250100", ErrDate, "7006", "yymmdd", "", -2},
		{"(00)095012345678901237(4324)2501011260", ErrDate, "4324", "hhmi", "", -2},
		{"(00)095012345678901237(4321)2", ErrLint, "4321", "yesno", "", -2},
		{"(8013)1987654Ad4X4bL5ttr2310cXK", ErrCheckDigit, "8013", "csumalpha", "", -2},
		{"(8010)ABC(8011)0123", ErrLint, "8010", "gcppos1", "", -2},
		{"(01)09520123456788(7041)PX", ErrAssociation, "7041", "req", "", -1},
		{"(01)09520123456788(7041)QQQ", ErrLint, "7041", "packagetype", "", -2},
		{"(00)095012345678901237(7041)QQQ", ErrLint, "7041", "packagetype", "", -2},
		{"^", ErrEmpty, "", "syntax", "", -2},
		{"^0109520123456788^", ErrSyntax, "01", "syntax", "", -2},
		{"^10AB^^0109520123456788", ErrSyntax, "", "syntax", "", -2},
		{"", ErrEmpty, "", "syntax", "", -2},
		{"^0409520123456788", ErrUnknownAI, "04", "ai", "", 1},
		{"^ABC", ErrUnknownAI, "", "ai", "", 1},
	}
	for _, tt := range tests {
		_, err := Parse(tt.in)
		if err == nil {
			t.Errorf("Parse(%q) succeeded", tt.in)
			continue
		}
		if !errors.Is(err, tt.sentinel) {
			t.Errorf("Parse(%q) = %v, want %v", tt.in, err, tt.sentinel)
			continue
		}
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("Parse(%q) error %T is not *Error", tt.in, err)
			continue
		}
		if tt.ai != "" && e.AI != tt.ai {
			t.Errorf("Parse(%q): AI = %q, want %q (%v)", tt.in, e.AI, tt.ai, err)
		}
		if tt.rule != "" && e.Rule != tt.rule {
			t.Errorf("Parse(%q): Rule = %q, want %q (%v)", tt.in, e.Rule, tt.rule, err)
		}
		if tt.msg != "" && err.Error() != tt.msg {
			t.Errorf("Parse(%q): %q, want %q", tt.in, err.Error(), tt.msg)
		}
		if tt.pos != -2 && e.Pos != tt.pos {
			t.Errorf("Parse(%q): Pos = %d, want %d (%v)", tt.in, e.Pos, tt.pos, err)
		}
		if !strings.Contains(e.Detail(), "rule "+e.Rule) {
			t.Errorf("Detail() = %q", e.Detail())
		}
	}
}

func TestValidDates(t *testing.T) {
	for _, in := range []string{
		"(01)09520123456788(17)240229", // leap year
		"(01)09520123456788(17)250200", // DD=00: last day of the month
		"(01)09520123456788(11)250100",
		"(01)09520123456788(15)000229", // 2000 was a leap year
		"(01)09520123456788(7006)241231",
		"(8018)123456789012345675(7250)20000229",
	} {
		if _, err := Parse(in); err != nil {
			t.Errorf("Parse(%q): %v", in, err)
		}
	}
	if _, err := Parse("(8018)123456789012345675(7250)19000229"); !errors.Is(err, ErrDate) {
		t.Errorf("1900-02-29 accepted: %v", err)
	}
}

func TestValidLinters(t *testing.T) {
	for _, in := range []string{
		"(01)09520123456788(422)276",
		"(415)9520123456788(8020)R1(3912)978100",
		"(00)095012345678901237(4307)DE",
		"(00)095012345678901237(4300)AB%2FC",
		"(415)9520123456788(8020)R1(8007)GB82WEST12345698765432",
		"(8013)1987654Ad4X4bL5ttr2310c2K",
		"(00)095012345678901237(4309)01234567890123456789",
		"(00)095012345678901237(7041)PX",
		"(8018)123456789012345675(7259)BABY(7258)1/2",
		"(01)09520123456788(8001)12345678901001",
		"(8006)095201234567880203",
		"(00)095012345678901237(4330)012345-",
		"(01)09520123456788(7030)999ABC",
		"(8010)0123ABC(8011)0",
		"(01)09520123456788(21)S1(8040)123456789012345",
	} {
		if _, err := Parse(in); err != nil {
			t.Errorf("Parse(%q): %v", in, err)
		}
	}
}

func TestValidateBuiltMessage(t *testing.T) {
	err := Validate(Message{Elements: els("01", "09520123456788", "17", "250229")})
	var e *Error
	if !errors.As(err, &e) || e.AI != "17" || e.Pos != 4 || e.Rule != "yymmd0" {
		t.Fatalf("Validate = %#v", err)
	}
	if err := Validate(Message{}); !errors.Is(err, ErrEmpty) {
		t.Errorf("Validate(empty) = %v", err)
	}
	if err := Validate(Message{Elements: els("04", "1")}); !errors.Is(err, ErrUnknownAI) {
		t.Errorf("Validate(04) = %v", err)
	}
	if err := ValidateValue("01", "09520123456788"); err != nil {
		t.Error(err)
	}
	if err := ValidateValue("77", "1"); !errors.Is(err, ErrUnknownAI) {
		t.Errorf("ValidateValue(77) = %v", err)
	}
}

func TestCSET64Padding(t *testing.T) {
	for v, ok := range map[string]bool{"QUJD": true, "12=": true, "1==": true, "12": true, "123=": false, "1===": false, "AB:C": false, "=": false} {
		err := ValidateValue("8030", v)
		if (err == nil) != ok {
			t.Errorf("(8030) %q: %v", v, err)
		}
		if err != nil && !errors.Is(err, ErrCharset) {
			t.Errorf("(8030) %q: %v, want ErrCharset", v, err)
		}
	}
}

// A character beyond ASCII is quoted whole ('Ü', not the 'Ã' of its first
// byte) and its position counts characters; a byte that is not UTF-8 and a
// control character show as bytes.
func TestErrorsQuoteCharacters(t *testing.T) {
	for _, c := range []struct {
		name string
		err  func() error
		want string
	}{
		{"charset", func() error { return ValidateValue("10", "ABÜ") }, `AI (10): character 'Ü' is not in CSET 82 in "ABÜ"`},
		{"emoji", func() error { return ValidateValue("10", "A😀") }, `AI (10): character '😀' is not in CSET 82 in "A😀"`},
		{"not UTF-8", func() error { return ValidateValue("10", "A\xff") }, `AI (10): character byte 0xFF is not in CSET 82`},
		{"control", func() error { return ValidateValue("10", "A\x1dB") }, `AI (10): character byte 0x1D is not in CSET 82`},
		{"check digit, last character", func() error { _, err := CheckDigit("12Ü"); return err }, `non-digit 'Ü' at position 2 of "12Ü"`},
		{"check digit, after one", func() error { _, err := CheckDigit("ÜÄ1"); return err }, `non-digit 'Ä' at position 1 of "ÜÄ1"`},
		{"check pair", func() error { _, err := CheckPair("AÜ"); return err }, `character 'Ü' is not in CSET 82`},
		{"domain", func() error {
			m, err := ParseHRI("(01)09520123456788")
			if err != nil {
				return err
			}
			_, err = m.DigitalLink("bücher.example")
			return err
		}, `has 'ü' at position 1;`},
	} {
		err := c.err()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v; want %q", c.name, err, c.want)
		}
	}
}
