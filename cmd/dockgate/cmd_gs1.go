package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/dockgate/dockgate/encoder/gs1"
)

func init() {
	register(&command{
		name:    "gs1",
		summary: "gs1 parse [--domain D] INPUT: read GS1 AI data (HRI, ^element string, scan data, Digital Link; - for stdin) and print every form as JSON",
		subs:    map[string]func(context.Context, *cliEnv, []string) error{"parse": gs1Parse},
	})
}

// gs1AI is one element in the JSON output.
type gs1AI struct {
	AI    string `json:"ai"`
	Value string `json:"value"`
	Title string `json:"title"`
}

// gs1ParseOutput is what "dockgate gs1 parse" prints.
type gs1ParseOutput struct {
	HRI           string  `json:"hri"`
	ElementString string  `json:"element_string"`
	ScanData      string  `json:"scan_data"`
	DigitalLink   string  `json:"digital_link,omitempty"`
	AIs           []gs1AI `json:"ais"`
}

func gs1Parse(_ context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "gs1 parse", "dockgate gs1 parse [--domain D] INPUT   (INPUT - reads stdin)")
	domain := fs.String("domain", "", "Digital Link domain for the digital_link output (default id.gs1.org, https)")
	// Flags may come before or after INPUT.
	var pos []string
	rest := args
	for {
		if err := fs.parse(rest); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	if len(pos) != 1 {
		return fs.usageError("give one INPUT, got %d", len(pos))
	}
	input := pos[0]
	if input == "-" {
		b, err := io.ReadAll(env.stdin)
		if err != nil {
			return fmt.Errorf("reading stdin: %v", err)
		}
		input = stripOneEOL(string(b))
	}
	m, sym, err := parseAny(input)
	if err != nil {
		var ge *gs1.Error
		if errors.As(err, &ge) {
			return errors.New(ge.Detail())
		}
		return err
	}
	out := gs1ParseOutput{
		HRI:           m.HRI(),
		ElementString: m.ElementString(),
		ScanData:      m.ScanData(sym),
		AIs:           make([]gs1AI, 0, len(m.Elements)),
	}
	// digital_link is left out when the message has no primary key or holds
	// an AI a URI cannot carry; a bad --domain is an error.
	dl, err := m.DigitalLink(*domain)
	switch {
	case err == nil:
		out.DigitalLink = dl
	case errors.Is(err, gs1.ErrSyntax):
		return fmt.Errorf("--domain: %v", err)
	}
	for _, e := range m.Elements {
		out.AIs = append(out.AIs, gs1AI{AI: e.AI, Value: e.Value, Title: e.Title()})
	}
	enc := json.NewEncoder(env.stdout)
	enc.SetEscapeHTML(false)
	return enc.Encode(out)
}

// parseAny reads any of the four forms and returns the symbology identifier
// to write scan data with: the one the input carried when it was AI scan
// data, ]C1 otherwise.
func parseAny(input string) (gs1.Message, string, error) {
	if strings.HasPrefix(input, "]") || strings.IndexByte(input, gs1.GS) >= 0 {
		m, sym, err := gs1.ParseScanData([]byte(input))
		if sym == gs1.SymQRPlain || sym == gs1.SymDataMatrixPl {
			sym = gs1.SymGS1128
		}
		return m, sym, err
	}
	m, err := gs1.Parse(input)
	return m, gs1.SymGS1128, err
}

// stripOneEOL removes one trailing CRLF, LF or CR.
func stripOneEOL(s string) string {
	switch {
	case strings.HasSuffix(s, "\r\n"):
		return s[:len(s)-2]
	case strings.HasSuffix(s, "\n"), strings.HasSuffix(s, "\r"):
		return s[:len(s)-1]
	}
	return s
}
