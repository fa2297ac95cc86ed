package epc

import (
	"errors"
	"strings"
	"testing"
)

// TDS 2.3 Annex E.3, "Summary examples of all EPC schemes", for every
// scheme this package codes (the printed SGTIN-96 EPC URI erratum is not
// used: only its hex, tag URI and element string are).
var annexE = []struct {
	scheme Scheme
	filter Filter
	cpLen  int
	hex    string // as printed: some are padded to whole words
	gs1    string
	dl     string
	tag    string
}{
	{SGTIN96, 3, 11, "3066C4409047E140075BCD15", "(01)09506000134352(21)123456789",
		"https://id.gs1.org/01/09506000134352/21/123456789", "urn:epc:tag:sgtin-96:3.95060001343.05.123456789"},
	{SGTIN198, 3, 11, "3666C4409047E159B2C2BF100000000000000000000000000000", "(01)09506000134352(21)32a/b",
		"https://id.gs1.org/01/09506000134352/21/32a%2Fb", "urn:epc:tag:sgtin-198:3.95060001343.05.32a%2Fb"},
	{SGTINPlus, 3, 0, "F73795211411234538566CB0AFC4", "(01)79521141123453(21)32a/b",
		"https://id.gs1.org/01/79521141123453/21/32a%2Fb", ""},
	{DSGTINPlus, 3, 0, "FB342CDE795211411234538566CB0AFC4", "(01)79521141123453(21)32a/b(17)220630",
		"https://id.gs1.org/01/79521141123453/21/32a%2Fb?17=220630", ""},
	{SSCC96, 0, 6, "311BA1B300CE0A6A83000000", "(00)095201234567891235",
		"https://example.com/00/095201234567891235", "urn:epc:tag:sscc-96:0.952012.03456789123"},
	{SSCCPlus, 0, 0, "F90095201234567891235", "(00)095201234567891235",
		"https://id.gs1.org/00/095201234567891235", ""},
	{SGLN96, 3, 7, "3276451FD46072000000162E", "(414)9521141123454(254)5678",
		"https://example.com/414/9521141123454/254/5678", "urn:epc:tag:sgln-96:3.9521141.12345.5678"},
	{SGLN195, 3, 7, "3976451FD46072CD9615F8800000000000000000000000000000", "(414)9521141123454(254)32a/b",
		"https://example.com/414/9521141123454/254/32a%2Fb", "urn:epc:tag:sgln-195:3.9521141.12345.32a%2Fb"},
	{SGLNPlus, 3, 0, "F2395211411234548566CB0AFC4", "(414)9521141123454(254)32a/b",
		"https://id.gs1.org/414/9521141123454/254/32a%2Fb", ""},
	{GRAI96, 3, 7, "3376451FD40C0E400000162E", "(8003)095211411234545678",
		"https://example.com/8003/095211411234545678", "urn:epc:tag:grai-96:3.9521141.12345.5678"},
	{GRAI170, 3, 7, "3776451FD40C0E59B2C2BF1000000000000000000000", "(8003)0952114112345432a/b",
		"https://example.com/8003/0952114112345432a%2Fb", "urn:epc:tag:grai-170:3.9521141.12345.32a%2Fb"},
	{GRAIPlus, 3, 0, "F13095211411234548566CB0AFC4", "(8003)0952114112345432a/b",
		"https://id.gs1.org/8003/0952114112345432a%2Fb", ""},
	{GIAI96, 3, 7, "3476451FD40000000000162E", "(8004)95211415678",
		"https://example.com/8004/95211415678", "urn:epc:tag:giai-96:3.9521141.5678"},
	{GIAI202, 3, 7, "3876451FD59B2C2BF10000000000000000000000000000000000", "(8004)952114132a/b",
		"https://example.com/8004/952114132a%2Fb", "urn:epc:tag:giai-202:3.9521141.32a%2Fb"},
	{GIAIPlus, 3, 0, "FA3952114132E83C2BF10", "(8004)952114132a/b",
		"https://id.gs1.org/8004/952114132a%2Fb", ""},
	{GSRN96, 3, 7, "2D76451FD4499602D2000000", "(8018)952114112345678906",
		"https://example.com/8018/952114112345678906", "urn:epc:tag:gsrn-96:3.9521141.1234567890"},
	{GSRNPlus, 3, 0, "F43952114112345678906", "(8018)952114112345678906",
		"https://id.gs1.org/8018/952114112345678906", ""},
	{GDTI96, 3, 7, "2C76451FD46072000000162E", "(253)95211411234545678",
		"https://example.com/253/95211411234545678", "urn:epc:tag:gdti-96:3.9521141.12345.5678"},
	{GDTIPlus, 3, 0, "F6395211411234540458B8", "(253)95211411234545678",
		"https://id.gs1.org/253/95211411234545678", ""},
}

func TestAnnexE(t *testing.T) {
	for _, x := range annexE {
		t.Run(x.scheme.String(), func(t *testing.T) {
			e, err := DecodeHex(x.hex)
			if err != nil {
				t.Fatal(err)
			}
			if e.Scheme() != x.scheme || e.Filter() != x.filter {
				t.Errorf("scheme %v filter %d", e.Scheme(), e.Filter())
			}
			if !strings.HasPrefix(x.hex, e.Hex()) || strings.Trim(x.hex[len(e.Hex()):], "0") != "" {
				t.Errorf("hex %s is not %s", e.Hex(), x.hex)
			}
			if e.GS1() != x.gs1 || e.TagURI() != x.tag {
				t.Errorf("GS1 %s tag %s", e.GS1(), e.TagURI())
			}
			domain := "id.gs1.org"
			if strings.HasPrefix(x.dl, "https://example.com/") {
				domain = "example.com"
			}
			if dl, err := e.DigitalLink(domain); err != nil || dl != x.dl {
				t.Errorf("DigitalLink %s %v", dl, err)
			}
			// And back: from the element string and from the Digital Link.
			for _, in := range []string{x.gs1, x.dl} {
				g, err := ParseGS1(in, x.scheme, int(x.filter), x.cpLen)
				if err != nil || g != e {
					t.Errorf("ParseGS1(%s) = %s %v", in, g.Hex(), err)
				}
			}
			if x.tag != "" {
				if g, err := ParseURI(x.tag); err != nil || g != e {
					t.Errorf("ParseURI(%s) = %s %v", x.tag, g.Hex(), err)
				}
			}
		})
	}
}

// The '++' examples of TDS 2.3 Annex E.3, with the printed errata
// corrected: the bits encode the hostname id.example.com (the text says
// example.com), and SSCC++ has header EF (printed with SSCC+'s F9).
var annexEPlusPlus = []struct {
	scheme Scheme
	hex    string
	gs1    string
	dl     string
}{
	{SGTINPlusPlus, "FD3795211411234538566CB0AFC525065F1876F0D996D800", "(01)79521141123453(21)32a/b",
		"https://id.example.com/01/79521141123453/21/32a%2Fb"},
	{DSGTINPlusPlus, "FC342CDE795211411234538566CB0AFC525065F1876F0D996D80", "(01)79521141123453(21)32a/b(17)220630",
		"https://id.example.com/01/79521141123453/21/32a%2Fb?17=220630"},
	{SSCCPlusPlus, "EF009520123456789123592832F8C3B786CCB6C0", "(00)095201234567891235",
		"https://id.example.com/00/095201234567891235"},
	{SGLNPlusPlus, "E9395211411234548566CB0AFC525065F1876F0D996D8000", "(414)9521141123454(254)32a/b",
		"https://id.example.com/414/9521141123454/254/32a%2Fb"},
	{GRAIPlusPlus, "EB3095211411234548566CB0AFC525065F1876F0D996D800", "(8003)0952114112345432a/b",
		"https://id.example.com/8003/0952114112345432a%2Fb"},
	{GIAIPlusPlus, "EE3952114132E83C2BF1494197C61DBC3665B600", "(8004)952114132a/b",
		"https://id.example.com/8004/952114132a%2Fb"},
	{GSRNPlusPlus, "E7395211411234567890692832F8C3B786CCB6C0", "(8018)952114112345678906",
		"https://id.example.com/8018/952114112345678906"},
	{GDTIPlusPlus, "EA395211411234540458BA4A0CBE30EDE1B32DB0", "(253)95211411234545678",
		"https://id.example.com/253/95211411234545678"},
}

func TestAnnexEPlusPlus(t *testing.T) {
	for _, x := range annexEPlusPlus {
		t.Run(x.scheme.String(), func(t *testing.T) {
			e, err := DecodeHex(x.hex)
			if err != nil {
				t.Fatal(err)
			}
			if e.Scheme() != x.scheme || e.Filter() != 3 && x.scheme != SSCCPlusPlus || e.Hostname() != "id.example.com" {
				t.Errorf("scheme %v filter %d hostname %q", e.Scheme(), e.Filter(), e.Hostname())
			}
			if !strings.HasPrefix(x.hex, e.Hex()) || strings.Trim(x.hex[len(e.Hex()):], "0") != "" {
				t.Errorf("hex %s is not %s", e.Hex(), x.hex)
			}
			if dl, err := e.DigitalLink(""); e.GS1() != x.gs1 || err != nil || dl != x.dl {
				t.Errorf("GS1 %s DigitalLink %s %v", e.GS1(), dl, err)
			}
			if g, err := ParseGS1(x.dl, x.scheme, int(e.Filter()), 0); err != nil || g != e {
				t.Errorf("ParseGS1(%s) = %s %v", x.dl, g.Hex(), err)
			}
			// The '+' form without the hostname, and back.
			p, err := e.WithHostname("")
			if err != nil || p.Scheme() != x.scheme.base() || p.Hostname() != "" {
				t.Fatalf("WithHostname(\"\") = %v %v", p.Scheme(), err)
			}
			if pp, err := p.WithHostname("id.example.com"); err != nil || pp != e {
				t.Errorf("WithHostname = %s %v", pp.Hex(), err)
			}
			roundTrip(t, e, 0)
		})
	}
}

func TestHostnameTables(t *testing.T) {
	// Sizes and spot checks against TDS 2.3 Tables 14-12 to 14-15.
	if len(hostSeqB[0]) != 128 || len(hostSeqB[1]) != 117 || len(hostSeqB[2]) != 32 || len(hostSeqB[3]) != 1 {
		t.Fatalf("table sizes %d %d %d %d", len(hostSeqB[0]), len(hostSeqB[1]), len(hostSeqB[2]), len(hostSeqB[3]))
	}
	for _, c := range []struct {
		t, x int
		want string
	}{{0, 0x37, ".de"}, {0, 0x7F, ".li"}, {1, 0x64, ".us"}, {1, 0x74, ".zw"}, {2, 0x19, ".co.uk"}, {2, 0x1F, ".gov.cn"}, {3, 0, ".tech"}} {
		if got := hostSeqB[c.t][c.x]; got != c.want {
			t.Errorf("B%d[%#x] = %s, want %s", c.t+1, c.x, got, c.want)
		}
	}
}

func TestHostnames(t *testing.T) {
	base, _ := NewSGTINPlus(1, "09506000134352", "1")
	for _, h := range []string{
		"example.com", "id.gs1.org", "www.brand.co.uk", "qr.shop.com.au", "brand.tech", "b.de", "x.org.cn",
		"DL.EXAMPLE.COM", "A-1.EXAMPLE.NET:8443", "localhost", "x.y", strings.Repeat("a", 50),
	} {
		e, err := base.WithHostname(h)
		if err != nil {
			t.Errorf("%s: %v", h, err)
			continue
		}
		if e.Hostname() != h || e.Scheme() != SGTINPlusPlus || e.Serial() != "1" {
			t.Errorf("%s: hostname %q scheme %v", h, e.Hostname(), e.Scheme())
		}
		dl, _ := e.DigitalLink("")
		if !strings.HasPrefix(dl, "https://"+h+"/01/") {
			t.Errorf("%s: %s", h, dl)
		}
		roundTrip(t, e, 0)
	}
	for _, h := range []string{"https://example.com", "example.com/path", "ex ample.com", strings.Repeat("ab", 40)} {
		if _, err := base.WithHostname(h); err == nil {
			t.Errorf("%q accepted", h)
		}
	}
	if _, err := ParseGS1("(01)09506000134352(21)1", SGTINPlusPlus, 0, 0); !errors.Is(err, ErrGS1) {
		t.Errorf("'++' from an element string: %v", err)
	}
	sg, _ := DecodeHex("3074257BF7194E4000001A85")
	if _, err := sg.WithHostname("example.com"); !errors.Is(err, ErrScheme) {
		t.Errorf("sgtin-96: %v", err)
	}
	// A hostname unit that is reserved.
	if _, err := DecodeHex("FD3795211411234538566CB0AFC5" + "0" + "4000"); err == nil {
		t.Error("empty hostname accepted")
	}
}
