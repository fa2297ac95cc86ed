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
	{"designer setup format", "^XA~TA000~JSN^LT0^MNW^MTT^PON^PMN^LH0,0^JMA^PR4,4~SD15^JUS^LRN^CI27^XZ", "^JU"},
	{"designer setup format without ^JUS", "^XA~TA000~JSN^LT0^MNW^MTT^PON^PMN^LH0,0^JMA^PR4,4~SD15^LRN^CI27^XZ", "~TA"},
	{"label settings that are label content", "^XA^MMT^MNW^MTT^PON^PMN^LT0^LS0^LRN^JMA^PR4,4^MD-5^FH^CI28^CWZ,E:ARI000.TTF^FS^XZ", ""},
	{"RFID label commands", "^XA^RS8,,,1^RR3^RW20,20^WT,,,^FD1234^FS^WV1^RFR,H^FN1^FS^XZ", ""},
	{"serial settings", "^XA^SC9600,8,N,1,X,N^XZ", "^SC"},
	{"network settings", "^XA^ND2,P,10.0.0.9,255.255.255.0^XZ", "^ND"},
	{"wired network settings", "^XA^NSS,10.0.0.9^XZ", "^NS"},
	{"primary network device", "^XA^NC1^XZ", "^NC"},
	{"network connect", "~NC001^XA^XZ", "~NC"},
	{"wireless settings", "^XA^WIS,10.0.0.9^XZ", "^WI"},
	{"wireless password", "^XA^WPsecret^XZ", "^WP"},
	{"reset the wireless card", "^XA^XZ~WR", "~WR"},
	{"printer name", "^XA^KNDOCK4,back door^XZ", "^KN"},
	{"password", "^XA^KP1234^XZ", "^KP"},
	{"ZPL mode", "^XA^SZ1^XZ", "^SZ"},
	{"real-time clock", "^XA^ST01,01,2030,00,00,00,M^XZ", "^ST"},
	{"media calibration", "~JC^XA^FDx^FS^XZ", "~JC"},
	{"label length calibration, lower case", "~jl^XA^XZ", "~JL"},
	{"sensor graph", "^XA^XZ~JG", "~JG"},
	{"head test", "^XA~JN^XZ", "~JN"},
	{"media sensors", "^XA^SST,50,,,^XZ", "^SS"},
	{"printhead resistance", "^XA^SR1200^XZ", "^SR"},
	{"darkness setting", "~SD25^XA^FDx^FS^XZ", "~SD"},
	{"tear-off position", "^XA~TA010^XZ", "~TA"},
	{"backfeed sequence", "^XA~JSN^XZ", "~JS"},
	{"reprint after error", "^XA^JZY^XZ", "^JZ"},
	{"start ZBI", "^XA^JIE:PROG.BAS^XZ", "^JI"},
	{"start ZBI, control form", "~JI^XA^XZ", "~JI"},
	{"configuration label", "^XA^XZ~WC", "~WC"},
	{"network configuration label", "~WL^XA^XZ", "~WL"},
	{"directory label", "^XA^WDE:*.*^XZ", "^WD"},
	{"applicator reprint", "^XA^XZ~PR", "~PR"},
	{"print start", "^XA^XZ~PS", "~PS"},
	{"programmed pause, format form", "^XA^PP^XZ", "^PP"},
	{"write query", "^XA^XZ~WQES", "~WQ"},
	{"RFID encoding results", "~RV^XA^XZ", "~RV"},
	{"darkness split by a line break", "~S\r\nD25^XA^XZ", "~SD"},
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

// zplJobCases are whole job ZPL for CheckZPL: its shape, what stands
// between formats, and the labels it prints. Shared by the table test and
// the fuzz seeds.
var zplJobCases = []struct {
	desc    string
	zpl     string
	formats int
	labels  int
	refused string // a part of the error; "" when accepted
}{
	{"one label", "^XA^FDx^FS^XZ", 1, 1, ""},
	{"two formats", "^XA^FDx^FS^XZ^XA^FDy^FS^XZ", 2, 2, ""},
	{"lower-case boundaries", "^xa^FDx^FS^xz", 1, 1, ""},
	{"mixed-case boundaries and a trailing line break", "^Xa^FDx^FS^xZ\r\n", 1, 1, ""},
	{"a boundary split by a line break", "^X\r\nA^FDx^FS^X\nZ", 1, 1, ""},
	{"whitespace between formats", "^XA^XZ \r\n\t^XA^XZ\n", 2, 2, ""},
	{"a download before the first format", "~DGR:LOGO.GRF,2,1,FF00\r\n^XA^XGR:LOGO.GRF^FS^XZ", 1, 1, ""},
	{"a multi-line download between formats", "^XA^XZ\r\n~DGR:A.GRF,4,2,\r\nFF00\r\n00FF\r\n^XA^XZ", 2, 2, ""},
	{"a compressed download", "~DGR:A.GRF,8,2,:Z64:eNr7/x8GGhj+/2cAYUZsLCjNAFKJjQUDAOLDM1I=:8f39\n^XA^XZ", 1, 1, ""},
	{"^PQ quantity", "^XA^FDx^FS^PQ5^XZ", 1, 5, ""},
	{"^PQ with all parameters", "^XA^FDx^FS^PQ50,10,1,Y^XZ", 1, 50, ""},
	{"^PQ replicates add no labels", "^XA^SN001,1,Y^FS^PQ4,0,3,N^XZ", 1, 4, ""},
	{"^PQ without a quantity", "^XA^FDx^FS^PQ,2^XZ", 1, 1, ""},
	{"^PQ0 is the default", "^XA^FDx^FS^PQ0^XZ", 1, 1, ""},
	{"the last ^PQ wins", "^XA^PQ2000^FDx^FS^PQ3^XZ", 1, 3, ""},
	{"the last ^PQ wins, large", "^XA^PQ1^FDx^FS^PQ2000^XZ", 1, 2000, ""},
	{"lower-case ^pq", "^xa^fdx^fs^pq2000^xz", 1, 2000, ""},
	{"^PQ split by a line break", "^XA^P\r\nQ20\r\n00^XZ", 1, 2000, ""},
	{"^PQ per format, summed", "^XA^PQ2^XZ^XA^XZ^XA^PQ10^XZ", 3, 13, ""},
	{"a quantity beyond the printer's range", "^XA^PQ99999999999999999999^XZ", 1, maxCount, ""},

	{"no format", "  \r\n", 0, 0, "no label format"},
	{"a download only", "~DGR:A.GRF,2,1,FF00", 0, 0, "no label format"},
	{"open format", "^XA^FDx^FS", 0, 0, "no ^XZ"},
	{"nested formats", "^XA^XA^FDx^FS^XZ^XZ", 0, 0, "second ^XA"},
	{"a stray ^XZ", "^XA^XZ^XZ", 0, 0, "closes no format"},
	{"text after the last format", "^XA^XZ trailing", 0, 0, "after the last ^XZ"},
	{"a download after the last format", "^XA^XZ~DGR:A.GRF,2,1,FF00", 0, 0, "after the last ^XZ"},
	{"SGD before the first format", "! U1 getvar \"device.host_status\"\r\n^XA^XZ", 0, 0, `"! U1 getvar`},
	{"SGD between formats", "^XA^XZ\r\n! U1 do \"device.reset\" \"\"\r\n^XA^XZ", 0, 0, "SGD"},
	{"SGD setvar between formats", "^XA^XZ! U1 setvar \"ip.addr\" \"10.0.0.9\"\n^XA^XZ", 0, 0, "between format 1 and format 2"},
	{"SGD after a download's data", "~DGR:A.GRF,2,1,FF00\r\n! U1 do \"device.reset\" \"\"\r\n^XA^XZ", 0, 0, "SGD"},
	{"SGD after a download, no line break", "~DGR:A.GRF,2,1,FF00! U1 do \"device.reset\"^XA^XZ", 0, 0, `"! U1 do`},
	{"JSON SGD between formats", "^XA^XZ{}{\"sgd.get\":{\"device.host_status\":null}}^XA^XZ", 0, 0, "JSON"},
	{"JSON SGD after a download", "~DGR:A.GRF,2,1,FF00{\"sgd.get\":null}^XA^XZ", 0, 0, "JSON"},
	{"a format command between formats", "^XA^XZ^FDx^FS^XA^XZ", 0, 0, "format command outside a format"},
	{"text before the first format", "hello^XA^XZ", 0, 0, "text outside a format"},
	{"a forbidden command is named first", "~HS! U1 getvar \"x\"^XA^XZ", 0, 0, "~HS"},
}

func TestCheckZPL(t *testing.T) {
	for _, c := range zplJobCases {
		n, err := CheckZPL(c.zpl)
		switch {
		case c.refused == "" && err != nil:
			t.Errorf("%s: %q refused: %v", c.desc, c.zpl, err)
		case c.refused == "" && (n.Formats != c.formats || n.Labels != c.labels):
			t.Errorf("%s: %q: %d formats, %d labels; want %d, %d", c.desc, c.zpl, n.Formats, n.Labels, c.formats, c.labels)
		case c.refused != "" && err == nil:
			t.Errorf("%s: %q accepted: %+v", c.desc, c.zpl, n)
		case c.refused != "" && !strings.Contains(err.Error(), c.refused):
			t.Errorf("%s: %q: error %q does not name %s", c.desc, c.zpl, err, c.refused)
		}
	}
}

// The spooler counts a job's labels, records them, and refuses a job over
// MaxCopies labels however they are reached.
func TestJobLabels(t *testing.T) {
	for _, c := range []struct {
		desc   string
		zpl    string
		copies int
		labels int // 0: refused
	}{
		{"one", "^XA^FDx^FS^XZ", 0, 1},
		{"copies", "^XA^FDx^FS^XZ", 7, 7},
		{"^PQ times copies", "^XA^FDx^FS^PQ3^XZ^XA^XZ", 5, 20},
		{"at the cap", "^XA^FDx^FS^PQ1000^XZ", 1, MaxCopies},
		{"^PQ over the cap", "^XA^FDx^FS^PQ2000^XZ", 1, 0},
		{"formats times copies over the cap", "^XA^FDx^FS^XZ^XA^FDy^FS^XZ", 600, 0},
		{"a later ^PQ over the cap", "^XA^PQ1^FDx^FS^PQ2000^XZ", 1, 0},
		{"lower-case ^pq over the cap", "^XA^FDx^FS^pq2000^XZ", 1, 0},
		{"a huge ^PQ times copies", "^XA^PQ99999999^XZ", MaxCopies, 0},
	} {
		j := Job{ID: "j1", Printer: "p1", ZPL: c.zpl, Copies: c.copies}
		err := j.validate()
		switch {
		case c.labels == 0 && !(errors.Is(err, ErrTooManyLabels) && errors.Is(err, ErrInvalidJob)):
			t.Errorf("%s: %v; want a refusal for too many labels", c.desc, err)
		case c.labels == 0 && !strings.Contains(err.Error(), "at most 1000"):
			t.Errorf("%s: %v does not name the limit", c.desc, err)
		case c.labels != 0 && err != nil:
			t.Errorf("%s: %v", c.desc, err)
		case c.labels != 0 && j.Labels != c.labels:
			t.Errorf("%s: %d labels, want %d", c.desc, j.Labels, c.labels)
		}
	}
}

// FuzzCheckZPL: CheckZPL does not panic, its count is consistent, it
// applies CheckCommands, and it does not depend on the case of the ZPL.
func FuzzCheckZPL(f *testing.F) {
	for _, c := range zplJobCases {
		f.Add(c.zpl)
	}
	for _, c := range zplCommandCases {
		f.Add(c.zpl)
	}
	f.Fuzz(func(t *testing.T, zpl string) {
		n, err := CheckZPL(zpl)
		if err == nil {
			if n.Formats < 1 || n.Labels < n.Formats || n.Labels > maxCount {
				t.Fatalf("%q: %+v", zpl, n)
			}
			if err := CheckCommands(zpl); err != nil {
				t.Fatalf("%q accepted with %v", zpl, err)
			}
		} else if !errors.Is(err, ErrMalformedZPL) && !errors.Is(err, ErrForbiddenCommand) {
			t.Fatalf("%q: error %v wraps neither ErrMalformedZPL nor ErrForbiddenCommand", zpl, err)
		}
		for _, other := range []string{asciiUpper(zpl), asciiLower(zpl)} {
			m, oerr := CheckZPL(other)
			if (err == nil) != (oerr == nil) || m != n {
				t.Fatalf("%q: %+v %v, but %q: %+v %v", zpl, n, err, other, m, oerr)
			}
		}
	})
}

func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c - 'A' + 'a'
		}
	}
	return string(b)
}
