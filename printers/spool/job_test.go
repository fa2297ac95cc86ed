package spool

import (
	"errors"
	"strings"
	"testing"
	"unicode"
)

// zplCommandCases are raw ZPL a job may or may not carry, shared by the
// table test and the fuzz seeds.
var zplCommandCases = []struct {
	desc    string
	zpl     string
	refused string // the command named in the error; "" when accepted
}{
	{"a plain label", "^XA^FO50,50^A0N,40,40^FDlot 42^FS^XZ", ""},
	{"hex field data", "^XA^FO10,10^FH\\^FDPRICE_5E1^FS^XZ", ""},
	{"field text that spells commands", "^XA^FDHH HZ JUS ID PP JD^FS^XZ", ""},
	{"fonts A..Z", "^XA^AHN,20,20^FDx^FS^AJN,20,20^FDy^FS^XZ", ""},
	{"stored format and graphic", "~DGR:LOGO.GRF,2,1,FF00^XA^DFR:F.ZPL^FS^FN1^XZ^XA^XFR:F.ZPL^FN1^FDa^FS^XGR:LOGO.GRF^FS^XZ", ""},
	{"settings within the format", "^XA^MD10^PR4^LH0,0^PW812^LL1218^PQ2^XZ", ""},
	{"RFID write", "^XA^RS8^RFW,H,,,A^FD3034257BF7194E4000001A85^FS^XZ", ""},

	{"status query", "~HS^XA^FDx^FS^XZ", "~HS"},
	{"extended status", "^XA^FDx^FS^XZ~HQES", "~HQ"},
	{"cancel all", "^XA^FDx^FS^XZ~JA^XA^XZ", "~JA"},
	{"power-on reset, lower case", "^XA~jr^XZ", "~JR"},
	{"a new control prefix, then a query with it", "^XA^CT+^XZ^XA+HS^XZ", "^CT"},
	{"format prefix", "^XA^CC!^XZ", "^CC"},
	{"delimiter", "~CD;^XA^XZ", "~CD"},
	{"configuration label return", "^XA^HH^XZ", "^HH"},
	{"XML description", "^XA^HZA^XZ", "^HZ"},
	{"XML description, lower case", "^xa^hzo,R:SAMPLE.GRF^xz", "^HZ"},
	{"field verification", "^XA^FO1,1^FDx^FS^HV1,64^XZ", "^HV"},
	{"directory list", "^XA^HWE:*.GRF^XZ", "^HW"},
	{"font links list", "^XA^HT^XZ", "^HT"},
	{"upload graphic", "^XA^HYR:LOGO.GRF^XZ", "^HY"},
	{"host graphic", "^XA^HGR:LOGO.GRF^XZ", "^HG"},
	{"host format", "^XA^HFR:F.ZPL^XZ", "^HF"},
	{"RFID log", "^XA^HL^XZ", "^HL"},
	{"save the configuration", "^XA^JUS^XZ", "^JU"},
	{"factory defaults, lower case", "^XA^juf^XZ", "^JU"},
	{"object delete", "^XA^IDR:*.*^XZ", "^ID"},
	{"initialise flash", "^XA^JBE^XZ", "^JB"},
	{"erase graphics", "~EG^XA^XZ", "~EG"},
	{"communication diagnostics", "~JD^XA^FDx^FS^XZ", "~JD"},
	{"programmed pause", "^XA^FDx^FS^XZ~PP", "~PP"},
	{"reset counters", "^XA~RO1^XZ", "~RO"},
	{"a query split by a line break", "^XA^FDx^FS^XZ~H\r\nS", "~HS"},
	{"a caret query split by a line break", "^XA^H\nH^XZ", "^HH"},
}

func TestCheckCommands(t *testing.T) {
	for _, c := range zplCommandCases {
		err := CheckCommands(c.zpl)
		switch {
		case c.refused == "" && err != nil:
			t.Errorf("%s: %q refused: %v", c.desc, c.zpl, err)
		case c.refused != "" && !errors.Is(err, ErrForbiddenCommand):
			t.Errorf("%s: %q accepted (%v)", c.desc, c.zpl, err)
		case c.refused != "" && !strings.Contains(err.Error(), c.refused):
			t.Errorf("%s: %q: error %q does not name %s", c.desc, c.zpl, err, c.refused)
		}
	}
}

// FuzzCheckCommands: accepted ZPL carries no forbidden command in any case
// or split by line breaks, and any ZPL with one inserted is refused.
func FuzzCheckCommands(f *testing.F) {
	for _, c := range zplCommandCases {
		f.Add(c.zpl, uint(len(c.zpl)/2), uint(0))
	}
	f.Fuzz(func(t *testing.T, zpl string, at, which uint) {
		if err := CheckCommands(zpl); err == nil {
			z := strings.ToUpper(strings.NewReplacer("\r", "", "\n", "").Replace(zpl))
			for _, g := range forbiddenCommands {
				for _, c := range g.cmds {
					if strings.Contains(z, c) {
						t.Fatalf("%q accepted with %s", zpl, c)
					}
				}
			}
		} else if !errors.Is(err, ErrForbiddenCommand) {
			t.Fatalf("%q: error %v does not wrap ErrForbiddenCommand", zpl, err)
		}
		var all []string
		for _, g := range forbiddenCommands {
			all = append(all, g.cmds...)
		}
		cmd := all[which%uint(len(all))]
		if which&1 == 1 {
			cmd = strings.Map(unicode.ToLower, cmd)
		}
		i := int(at % uint(len(zpl)+1))
		with := zpl[:i] + cmd + zpl[i:]
		if err := CheckCommands(with); !errors.Is(err, ErrForbiddenCommand) {
			t.Fatalf("%q accepted (%v)", with, err)
		}
	})
}
