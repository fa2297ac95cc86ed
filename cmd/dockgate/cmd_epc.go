package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/dockgate/dockgate/encoder/epc"
	"github.com/dockgate/dockgate/encoder/gs1"
	"go.yaml.in/yaml/v3"
)

func init() {
	register(&command{
		name:    "epc",
		summary: "epc decode HEX|URI | epc encode --scheme S --filter F --company-prefix-length N --gtin G --serial S …: EPC Tag Data Standard codec, JSON out",
		subs: map[string]func(context.Context, *cliEnv, []string) error{
			"decode": func(_ context.Context, env *cliEnv, args []string) error { return epcDecode(env, args) },
			"encode": func(_ context.Context, env *cliEnv, args []string) error { return epcEncode(env, args) },
		},
	})
}

// epcOutput is what "dockgate epc decode" and "epc encode" print; fields
// that do not apply to the scheme are left out.
type epcOutput struct {
	Scheme      string `json:"scheme"`
	Filter      *int   `json:"filter,omitempty"`
	Hex         string `json:"hex,omitempty"`
	TagURI      string `json:"tag_uri,omitempty"`
	URI         string `json:"uri,omitempty"`
	GS1         string `json:"gs1,omitempty"`
	DigitalLink string `json:"digital_link,omitempty"`
	Date        string `json:"date,omitempty"`
	DateType    string `json:"date_type,omitempty"`
}

func epcJSON(e epc.EPC, domain string) (epcOutput, error) {
	if e.IsRaw() {
		return epcOutput{Scheme: e.Scheme().String(), URI: e.RawURI()}, nil
	}
	f := int(e.Filter())
	out := epcOutput{
		Scheme: e.Scheme().String(),
		Filter: &f,
		Hex:    e.Hex(),
		TagURI: e.TagURI(),
		URI:    e.PureURI(),
		GS1:    e.GS1(),
	}
	dl, err := e.DigitalLink(domain)
	if err != nil {
		return out, err
	}
	out.DigitalLink = dl
	if d, t, ok := e.Date(); ok {
		out.Date, out.DateType = d, t.String()
	}
	return out, nil
}

const epcEncodeUsage = `dockgate epc encode --scheme S [--filter F] (--company-prefix-length N | --company-prefixes FILE) [--domain D]
      (--gtin G --serial S [--date-type T --date YYMMDD] | --sscc S | --gln G [--extension X] |
       --grai G --serial S | --giai G | --gdti G [--serial S] | --gsrn G) [--aidc "(10)LOT(17)YYMMDD"]
      [--hostname H]   ('++' schemes)`

func writeEPC(env *cliEnv, e epc.EPC, domain string) error {
	out, err := epcJSON(e, domain)
	if err != nil {
		return cliErr(err)
	}
	enc := json.NewEncoder(env.stdout)
	enc.SetEscapeHTML(false)
	return enc.Encode(out)
}

// cliErr drops the package name the error starts with: runMain already
// prints "dockgate epc:".
func cliErr(err error) error {
	return errors.New(strings.TrimPrefix(err.Error(), "epc "))
}

func epcDecode(env *cliEnv, args []string) error {
	fs := newFlags(env, "epc decode", "dockgate epc decode [--domain D] HEX|URI")
	domain := fs.String("domain", "", "Digital Link domain (default id.gs1.org)")
	if err := fs.parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fs.usageError("give one HEX or URI, got %d arguments", fs.NArg())
	}
	in := strings.TrimSpace(fs.Arg(0))
	var e epc.EPC
	var err error
	if strings.HasPrefix(strings.ToLower(in), "urn:") {
		e, err = epc.ParseURI(in)
	} else {
		e, err = epc.DecodeHex(in)
	}
	if err != nil {
		return cliErr(err)
	}
	return writeEPC(env, e, *domain)
}

func epcEncode(env *cliEnv, args []string) error {
	fs := newFlags(env, "epc encode", epcEncodeUsage)
	var (
		scheme   = fs.String("scheme", "", "binary scheme: sgtin-96, sgtin-198, sscc-96, sgln-96, sgln-195, grai-96, grai-170, giai-96, giai-202, gdti-96, gsrn-96, sgtin+, dsgtin+, sscc+, sgln+, grai+, giai+, gsrn+, gdti+, or a '+' scheme's '++' form (with --hostname)")
		filter   = fs.Int("filter", 0, "filter value 0–7 (1 point of sale, 2 full case, 6 unit load …)")
		cpLen    = fs.Int("company-prefix-length", 0, "digits of the GS1 company prefix (6–12)")
		cpFile   = fs.String("company-prefixes", "", "YAML file listing company prefixes and their lengths (- prefix: \"0614141\"\\n  length: 7)")
		domain   = fs.String("domain", "", "Digital Link domain (default id.gs1.org)")
		dateType = fs.String("date-type", "", "DSGTIN+ date type: production, packaging, best-before, sell-by, expiration, first-freeze, harvest (or the AI)")
		aidc     = fs.String("aidc", "", "'+' schemes: further AIs written after the EPC, as HRI, e.g. (10)LOT42(17)261231")
		v        epc.Values
	)
	fs.StringVar(&v.GTIN, "gtin", "", "GTIN (8, 12, 13 or 14 digits)")
	fs.StringVar(&v.Serial, "serial", "", "serial of an SGTIN, GRAI or GDTI")
	fs.StringVar(&v.SSCC, "sscc", "", "SSCC (18 digits)")
	fs.StringVar(&v.GLN, "gln", "", "GLN (13 digits)")
	fs.StringVar(&v.Extension, "extension", "", "GLN extension (AI 254); empty or 0 for none")
	fs.StringVar(&v.GRAI, "grai", "", "GRAI (13 digits, or the AI 8003 value)")
	fs.StringVar(&v.GIAI, "giai", "", "GIAI (AI 8004 value)")
	fs.StringVar(&v.GDTI, "gdti", "", "GDTI (13 digits, or the AI 253 value with its serial)")
	fs.StringVar(&v.GSRN, "gsrn", "", "GSRN (18 digits)")
	fs.StringVar(&v.Date, "date", "", "DSGTIN+ date YYMMDD")
	fs.StringVar(&v.Hostname, "hostname", "", "'++' schemes: the Digital Link hostname the EPC carries (example.com)")
	if err := fs.parse(args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return fmt.Errorf("unexpected argument %q; all encode input is given with flags", fs.Arg(0))
	}
	if *scheme == "" {
		return errors.New("--scheme is required (e.g. --scheme sgtin-96)")
	}
	s, err := epc.ParseScheme(*scheme)
	if err != nil {
		return cliErr(err)
	}
	if *dateType != "" {
		t, err := epc.ParseDateType(*dateType)
		if err != nil {
			return cliErr(err)
		}
		v.DateType = t
	} else if s == epc.DSGTINPlus {
		return errors.New("dsgtin+ needs --date-type and --date")
	}
	if *aidc != "" && !s.Plus() {
		return fmt.Errorf("--aidc needs a '+' or '++' scheme (sgtin+, dsgtin+, sscc+, sgln+, grai+, giai+, gsrn+, gdti+); %s carries no further AIs", s)
	}
	if v.Hostname != "" && !s.PlusPlus() {
		return fmt.Errorf("--hostname needs a '++' scheme (sgtin++, dsgtin++, sscc++ …); %s carries no hostname", s)
	}
	n := *cpLen
	if !s.Plus() && n == 0 {
		if *cpFile == "" {
			return errors.New("give --company-prefix-length N (6–12) or --company-prefixes FILE: the company prefix length cannot be derived from the key")
		}
		t, err := loadCompanyPrefixes(*cpFile)
		if err != nil {
			return err
		}
		if n, err = t.ForValues(s, v); err != nil {
			return cliErr(err)
		}
	}
	e, err := epc.Encode(s, *filter, n, v)
	if err != nil {
		return cliErr(err)
	}
	if *aidc != "" {
		// Parse the further AIs together with the EPC's own, so that the
		// GS1 rules on pairs of AIs see the whole message.
		m, err := gs1.ParseHRI(e.GS1() + *aidc)
		if err != nil {
			return fmt.Errorf("--aidc: %v", err)
		}
		w, err := epc.ValuesFromGS1(s, m)
		if err != nil {
			return cliErr(err)
		}
		if e, err = e.WithAIDC(w.AIDC...); err != nil {
			return cliErr(err)
		}
	}
	return writeEPC(env, e, *domain)
}

// loadCompanyPrefixes reads a YAML list of {prefix, length} entries.
func loadCompanyPrefixes(path string) (*epc.CompanyPrefixTable, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("company prefix table: %v", err)
	}
	defer f.Close()
	var entries []epc.CompanyPrefixEntry
	dec := yaml.NewDecoder(f)
	dec.KnownFields(true)
	if err := dec.Decode(&entries); err != nil {
		return nil, fmt.Errorf("company prefix table %s: %v; expected a list of entries like - {prefix: \"0614141\", length: 7}", path, err)
	}
	t, err := epc.NewCompanyPrefixTable(entries)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, cliErr(err))
	}
	return t, nil
}
