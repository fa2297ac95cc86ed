package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func epcRun(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	env := &cliEnv{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(string) string { return "" }}
	code = runMain(context.Background(), env, append([]string{"epc"}, args...))
	return out.String(), errb.String(), code
}

func TestEPCDecodeJSON(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"sgtin-96 hex", []string{"decode", "3074257BF7194E4000001A85"},
			`{"scheme":"sgtin-96","filter":3,"hex":"3074257BF7194E4000001A85","tag_uri":"urn:epc:tag:sgtin-96:3.0614141.812345.6789","uri":"urn:epc:id:sgtin:0614141.812345.6789","gs1":"(01)80614141123458(21)6789","digital_link":"https://id.gs1.org/01/80614141123458/21/6789"}`},
		{"sgtin-96 lower-case hex", []string{"decode", "3074257bf7194e4000001a85"},
			`{"scheme":"sgtin-96","filter":3,"hex":"3074257BF7194E4000001A85","tag_uri":"urn:epc:tag:sgtin-96:3.0614141.812345.6789","uri":"urn:epc:id:sgtin:0614141.812345.6789","gs1":"(01)80614141123458(21)6789","digital_link":"https://id.gs1.org/01/80614141123458/21/6789"}`},
		{"tag uri", []string{"decode", "urn:epc:tag:sgtin-96:3.0614141.812345.6789"},
			`{"scheme":"sgtin-96","filter":3,"hex":"3074257BF7194E4000001A85","tag_uri":"urn:epc:tag:sgtin-96:3.0614141.812345.6789","uri":"urn:epc:id:sgtin:0614141.812345.6789","gs1":"(01)80614141123458(21)6789","digital_link":"https://id.gs1.org/01/80614141123458/21/6789"}`},
		{"sgtin+", []string{"decode", "F73795211411234538566CB0AFC4"},
			`{"scheme":"sgtin+","filter":3,"hex":"F73795211411234538566CB0AFC4","gs1":"(01)79521141123453(21)32a/b","digital_link":"https://id.gs1.org/01/79521141123453/21/32a%2Fb"}`},
		{"raw", []string{"decode", "E2801160600002084F4A4A11"},
			`{"scheme":"raw","uri":"urn:epc:raw:96.xE2801160600002084F4A4A11"}`},
		{"domain", []string{"decode", "--domain", "dl.example.com", "3074257BF7194E4000001A85"},
			`{"scheme":"sgtin-96","filter":3,"hex":"3074257BF7194E4000001A85","tag_uri":"urn:epc:tag:sgtin-96:3.0614141.812345.6789","uri":"urn:epc:id:sgtin:0614141.812345.6789","gs1":"(01)80614141123458(21)6789","digital_link":"https://dl.example.com/01/80614141123458/21/6789"}`},
		{"encode sgtin-96", []string{"encode", "--scheme", "sgtin-96", "--filter", "3", "--company-prefix-length", "7", "--gtin", "80614141123458", "--serial", "6789"},
			`{"scheme":"sgtin-96","filter":3,"hex":"3074257BF7194E4000001A85","tag_uri":"urn:epc:tag:sgtin-96:3.0614141.812345.6789","uri":"urn:epc:id:sgtin:0614141.812345.6789","gs1":"(01)80614141123458(21)6789","digital_link":"https://id.gs1.org/01/80614141123458/21/6789"}`},
		{"encode sscc-96", []string{"encode", "--scheme", "sscc-96", "--filter", "6", "--company-prefix-length", "7", "--sscc", "106141411234567897"},
			`{"scheme":"sscc-96","filter":6,"hex":"31D4257BF442F69715000000","tag_uri":"urn:epc:tag:sscc-96:6.0614141.1123456789","uri":"urn:epc:id:sscc:0614141.1123456789","gs1":"(00)106141411234567897","digital_link":"https://id.gs1.org/00/106141411234567897"}`},
		{"encode sgtin+", []string{"encode", "--scheme", "sgtin+", "--filter", "3", "--gtin", "79521141123453", "--serial", "32a/b"},
			`{"scheme":"sgtin+","filter":3,"hex":"F73795211411234538566CB0AFC4","gs1":"(01)79521141123453(21)32a/b","digital_link":"https://id.gs1.org/01/79521141123453/21/32a%2Fb"}`},
		{"encode sgtin+ with aidc", []string{"encode", "--scheme", "sgtin+", "--filter", "3", "--gtin", "79521141123453", "--serial", "32a/b", "--aidc", "(17)261231(10)ABC"},
			`{"scheme":"sgtin+","filter":3,"hex":"F7B795211411234538566CB0AFC42E6B3E2047578","gs1":"(01)79521141123453(21)32a/b(17)261231(10)ABC","digital_link":"https://id.gs1.org/01/79521141123453/10/ABC/21/32a%2Fb?17=261231"}`},
		{"encode dsgtin+", []string{"encode", "--scheme", "dsgtin+", "--filter", "1", "--date-type", "expiration", "--date", "261231", "--gtin", "09506000134352", "--serial", "ABC123"},
			`{"scheme":"dsgtin+","filter":1,"hex":"FB14359F0950600013435226ABC123","gs1":"(01)09506000134352(21)ABC123(17)261231","digital_link":"https://id.gs1.org/01/09506000134352/21/ABC123?17=261231","date":"261231","date_type":"expiration"}`},
		{"encode grai+ with aidc", []string{"encode", "--scheme", "grai+", "--grai", "0614141123452", "--serial", "RTI-7", "--aidc", "(90)DOCK7"},
			`{"scheme":"grai+","filter":0,"hex":"F18006141411234526545323EEE419433822BB","gs1":"(8003)00614141123452RTI-7(90)DOCK7","digital_link":"https://id.gs1.org/8003/00614141123452RTI-7?90=DOCK7"}`},
		{"decode sgtin++", []string{"decode", "FD3795211411234538566CB0AFC525065F1876F0D996D800"},
			`{"scheme":"sgtin++","filter":3,"hex":"FD3795211411234538566CB0AFC525065F1876F0D996D8","gs1":"(01)79521141123453(21)32a/b","digital_link":"https://id.example.com/01/79521141123453/21/32a%2Fb"}`},
		{"encode sgtin++", []string{"encode", "--scheme", "sgtin++", "--filter", "3", "--gtin", "79521141123453", "--serial", "32a/b", "--hostname", "id.example.com"},
			`{"scheme":"sgtin++","filter":3,"hex":"FD3795211411234538566CB0AFC525065F1876F0D996D8","gs1":"(01)79521141123453(21)32a/b","digital_link":"https://id.example.com/01/79521141123453/21/32a%2Fb"}`},
		{"decode sscc+", []string{"decode", "F96106141412345678908"},
			`{"scheme":"sscc+","filter":6,"hex":"F96106141412345678908","gs1":"(00)106141412345678908","digital_link":"https://id.gs1.org/00/106141412345678908"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errs, code := epcRun(t, tt.args...)
			if code != 0 {
				t.Fatalf("exit %d, stderr %q", code, errs)
			}
			if got := strings.TrimSuffix(out, "\n"); got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestEPCErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string // in the one line on stderr
	}{
		{"bad hex", []string{"decode", "30zz"}, "not a hexadecimal digit"},
		{"short", []string{"decode", "3074257BF7194E40"}, "sgtin-96 has 96 bits"},
		{"partition 7", []string{"decode", "307C257BF7194E4000001A85"}, "partition"},
		{"leading zero serial", []string{"encode", "--scheme", "sgtin-96", "--company-prefix-length", "7", "--gtin", "80614141123458", "--serial", "0123"}, "use sgtin-198"},
		{"serial too big", []string{"encode", "--scheme", "sgtin-96", "--company-prefix-length", "7", "--gtin", "80614141123458", "--serial", "274877906944"}, "less than 274877906944"},
		{"filter", []string{"encode", "--scheme", "sgtin-96", "--filter", "8", "--company-prefix-length", "7", "--gtin", "80614141123458", "--serial", "1"}, "filter values are 0–7"},
		{"check digit", []string{"encode", "--scheme", "sgtin-96", "--company-prefix-length", "7", "--gtin", "80614141123459", "--serial", "1"}, "check digit should be 8"},
		{"no length", []string{"encode", "--scheme", "sgtin-96", "--gtin", "80614141123458", "--serial", "1"}, "--company-prefix-length"},
		{"bad scheme", []string{"encode", "--scheme", "sgtin-97"}, "unknown scheme"},
		{"bad uri", []string{"decode", "urn:epc:id:sgtin:0614141.812345"}, "3 dot-separated fields"},
		{"aidc on sgtin-96", []string{"encode", "--scheme", "sgtin-96", "--company-prefix-length", "7", "--gtin", "80614141123458", "--serial", "1", "--aidc", "(10)A"}, "needs a '+' or '++' scheme"},
		{"hostname on sgtin+", []string{"encode", "--scheme", "sgtin+", "--gtin", "80614141123458", "--serial", "1", "--hostname", "example.com"}, "needs a '++' scheme"},
		{"sgtin++ without hostname", []string{"encode", "--scheme", "sgtin++", "--gtin", "80614141123458", "--serial", "1"}, "give one"},
		{"dsgtin+ without date", []string{"encode", "--scheme", "dsgtin+", "--gtin", "80614141123458", "--serial", "1"}, "--date-type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errs, code := epcRun(t, tt.args...)
			if code != 1 {
				t.Fatalf("exit %d, want 1; stdout %q stderr %q", code, out, errs)
			}
			if out != "" {
				t.Errorf("stdout %q, want nothing", out)
			}
			if strings.Count(errs, "\n") != 1 || !strings.Contains(errs, tt.want) {
				t.Errorf("stderr %q, want one line containing %q", errs, tt.want)
			}
		})
	}
}

func TestEPCEncodeCompanyPrefixTable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gcp.yaml")
	if err := os.WriteFile(path, []byte("- prefix: \"0614141\"\n  length: 7\n- prefix: \"95\"\n  length: 11\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errs, code := epcRun(t, "encode", "--scheme", "sgtin-96", "--filter", "3", "--company-prefixes", path, "--gtin", "09506000134352", "--serial", "123456789")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if !strings.Contains(out, `"hex":"3066C4409047E140075BCD15"`) {
		t.Errorf("got %s", out)
	}
	_, errs, code = epcRun(t, "encode", "--scheme", "sgtin-96", "--company-prefixes", path, "--gtin", "04012345000009", "--serial", "1")
	if code != 1 || !strings.Contains(errs, "no company prefix table entry matches") {
		t.Errorf("exit %d stderr %q", code, errs)
	}
}
