package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
)

func gs1CLI(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	env := &cliEnv{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb, getenv: func(string) string { return "" }}
	code = runMain(context.Background(), env, args)
	return out.String(), errb.String(), code
}

const gs1Want = `{"hri":"(01)09520123456788(10)ABC123(17)251231",` +
	`"element_string":"^010952012345678810ABC123^17251231",` +
	`"scan_data":"]C1010952012345678810ABC123\u001d17251231",` +
	`"digital_link":"https://id.gs1.org/01/09520123456788/10/ABC123?17=251231",` +
	`"ais":[{"ai":"01","value":"09520123456788","title":"GTIN"},{"ai":"10","value":"ABC123","title":"BATCH/LOT"},{"ai":"17","value":"251231","title":"USE BY or EXPIRY"}]}` + "\n"

func TestGS1ParseAllForms(t *testing.T) {
	for _, in := range []string{
		"(01)09520123456788(10)ABC123(17)251231",
		"^010952012345678810ABC123^17251231",
		"]C1010952012345678810ABC123\x1d17251231",
		"https://id.gs1.org/01/09520123456788/10/ABC123?17=251231",
		"https://example.com/01/09520123456788/10/ABC123?17=251231",
	} {
		out, errOut, code := gs1CLI(t, "", "gs1", "parse", in)
		if code != 0 || errOut != "" {
			t.Fatalf("%q: exit %d, stderr %q", in, code, errOut)
		}
		if out != gs1Want {
			t.Errorf("%q:\n got %s\nwant %s", in, out, gs1Want)
		}
	}
}

func TestGS1ParseStdin(t *testing.T) {
	for _, in := range []string{
		"]C1010952012345678810ABC123\x1d17251231\r\n",
		"]C1010952012345678810ABC123\x1d17251231\n",
		"010952012345678810ABC123\x1d17251231",
	} {
		out, errOut, code := gs1CLI(t, in, "gs1", "parse", "-")
		if code != 0 || out != gs1Want {
			t.Errorf("stdin %q: exit %d, out %q, stderr %q", in, code, out, errOut)
		}
	}
	// The symbology identifier read from the scanner is kept.
	out, _, code := gs1CLI(t, "]d2010952012345678810ABC123\x1d17251231\n", "gs1", "parse", "-")
	var got gs1ParseOutput
	if code != 0 || json.Unmarshal([]byte(out), &got) != nil || got.ScanData != "]d2010952012345678810ABC123\x1d17251231" {
		t.Errorf("]d2: exit %d, %q", code, out)
	}
}

func TestGS1ParseDomainAndNoKey(t *testing.T) {
	out, _, code := gs1CLI(t, "", "gs1", "parse", "--domain", "dl.example.com", "(01)09520123456788(10)A&B")
	var got gs1ParseOutput
	if code != 0 || json.Unmarshal([]byte(out), &got) != nil {
		t.Fatalf("exit %d, %q", code, out)
	}
	if got.DigitalLink != "https://dl.example.com/01/09520123456788/10/A%26B" {
		t.Errorf("digital_link = %q", got.DigitalLink)
	}
	out2, _, _ := gs1CLI(t, "", "gs1", "parse", "(01)09520123456788(10)A&B", "--domain", "dl.example.com")
	if out2 != out {
		t.Errorf("flag after INPUT: %s", out2)
	}
	if strings.Contains(out, `\u0026`) {
		t.Errorf("JSON escapes '&': %s", out)
	}
	// The first primary key in the message leads the URI.
	out, _, code = gs1CLI(t, "", "gs1", "parse", "(02)09520123456788(37)10(00)095012345678901237")
	if code != 0 || !strings.Contains(out, `"digital_link":"https://id.gs1.org/00/095012345678901237?02=09520123456788&37=10"`) {
		t.Fatalf("exit %d, %s", code, out)
	}
	// No primary key: digital_link is left out.
	out, _, _ = gs1CLI(t, "", "gs1", "parse", "^400PO123")
	if strings.Contains(out, "digital_link") {
		t.Errorf("digital_link present without a primary key: %s", out)
	}
}

func TestGS1ParseInvalid(t *testing.T) {
	tests := []struct{ in, want string }{
		{"(01)09520123456788(17)250229", `AI (17): illegal day 29 for month 02 in "250229" [rule yymmd0`},
		{"(01)09520123456789", "AI (01): check digit 9 should be 8"},
		{"(10)ABC", "AI (10): requires one of (01), (02), (03), (8006), (8026)"},
		{"https://id.gs1.org/01/09520123456788?10=ABC", "AI (10): key qualifier of (01) given as a query parameter"},
	}
	for _, tt := range tests {
		out, errOut, code := gs1CLI(t, "", "gs1", "parse", tt.in)
		if code != 1 || out != "" {
			t.Errorf("%q: exit %d, stdout %q", tt.in, code, out)
		}
		if !strings.Contains(errOut, tt.want) || strings.Count(errOut, "\n") != 1 {
			t.Errorf("%q: stderr %q, want one line with %q", tt.in, errOut, tt.want)
		}
	}
}

func TestGS1BadDomain(t *testing.T) {
	out, errOut, code := gs1CLI(t, "", "gs1", "parse", "--domain", "bad host", "(01)09520123456788")
	if code != 1 || out != "" || !strings.Contains(errOut, "--domain") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

func TestGS1Usage(t *testing.T) {
	for _, args := range [][]string{{"gs1"}, {"gs1", "build"}, {"gs1", "parse"}, {"gs1", "parse", "a", "b"}, {"gs1", "parse", "--nope", "x"}} {
		if _, _, code := gs1CLI(t, "", args...); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}
