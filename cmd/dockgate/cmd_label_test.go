package main

import (
	"bytes"
	"context"
	"encoding/json"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dockgate/dockgate/encoder/zpl"
)

func labelCLI(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	env := &cliEnv{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(string) string { return "" }}
	code = runMain(context.Background(), env, args)
	return out.String(), errb.String(), code
}

var cartonArgs = []string{"label", "render", "--template", "carton", "--profile", "zebra-zt411-203",
	"--set", "gtin=09520123456788", "--set", "lot=LOT-2026-0042", "--set", "expiry=2027-03-31",
	"--set", "qty=24", "--set", "sscc=095201230000000011", "--set", "product=Oat ^XZ^XA^FDX^FS^XZ drink"}

func TestLabelRenderStdout(t *testing.T) {
	out, errOut, code := labelCLI(t, append(cartonArgs, "--qty", "2", "--out", "-")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	fs, err := zpl.Interpret([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 1 || zpl.Labels(fs) != 2 || strings.Count(out, "^XA") != 1 {
		t.Errorf("formats %d labels %d", len(fs), zpl.Labels(fs))
	}
}

func TestLabelRenderFiles(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"c.zpl", "c.png"} {
		path := filepath.Join(dir, name)
		out, errOut, code := labelCLI(t, append(cartonArgs, "--out", path)...)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", name, code, errOut)
		}
		var res labelRenderOutput
		if err := json.Unmarshal([]byte(out), &res); err != nil || res.Labels != 1 || res.Profile != "zebra-zt411-203" {
			t.Fatalf("%s: output %q (%v)", name, out, err)
		}
		data, err := os.ReadFile(path)
		if err != nil || len(data) != res.Bytes {
			t.Fatalf("%s: %d bytes on disk, %d reported (%v)", name, len(data), res.Bytes, err)
		}
		if strings.HasSuffix(name, ".png") {
			img, err := png.Decode(bytes.NewReader(data))
			if err != nil || img.Bounds().Dx() != 812 || img.Bounds().Dy() != 1218 {
				t.Errorf("PNG: %v %v", err, img.Bounds())
			}
		}
	}
}

func TestLabelRenderFromFile(t *testing.T) {
	dir := t.TempDir()
	tmpl := filepath.Join(dir, "shelf.yaml")
	src := "name: shelf\nwidth_mm: 50\nlength_mm: 25\nvariables:\n  - {name: lot, type: lot, required: true}\n" +
		"elements:\n  - {type: code128, name: lot_bar, x: 2, y: 2, height: 10, value: \"{{lot}}\"}\n"
	if err := os.WriteFile(tmpl, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := labelCLI(t, "label", "render", "--template", tmpl, "--profile", "zebra-zd421-203", "--set", "lot=A>1", "--out", "-")
	if code != 0 || !strings.Contains(out, "^FD>:A>0>51^FS") && !strings.Contains(out, "^FD>:A>01^FS") {
		t.Errorf("exit %d %s\n%s", code, errOut, out)
	}
}

func TestLabelRenderErrors(t *testing.T) {
	cases := []struct {
		args []string
		want string
		code int
	}{
		{[]string{"label", "render", "--template", "carton", "--profile", "zebra-zt411-203", "--set", "lot=L1", "--out", "-"}, "gtin", 1},
		{[]string{"label", "render", "--template", "carton", "--profile", "zebra-zt411-203", "--set", "gtin=09520123456789", "--set", "lot=L1", "--out", "-"}, "gtin", 1},
		{[]string{"label", "render", "--template", "carton", "--profile", "zebra-zt411-203", "--set", "gtin=09520123456788", "--set", "lot=L1", "--set", "expiry=2027-02-30", "--out", "-"}, "expiry", 1},
		{[]string{"label", "render", "--template", "carton", "--profile", "zebra-zt411-203", "--set", "gtin=09520123456788", "--set", "lot=L 1", "--out", "-"}, "lot", 1},
		{[]string{"label", "render", "--template", "carton", "--profile", "nope", "--out", "-"}, "unknown firmware profile", 1},
		{[]string{"label", "render", "--template", "nope", "--profile", "zebra-zt411-203", "--out", "-"}, "neither a built-in", 1},
		{[]string{"label", "render", "--template", "carton", "--profile", "zebra-zt411-203", "--out", "x.pdf"}, ".zpl or .png", 1},
		{[]string{"label", "render", "--template", "carton", "--profile", "zebra-zt411-203", "--set", "nokey", "--out", "-"}, "key=value", 2},
		{[]string{"label"}, "usage", 2},
	}
	for _, c := range cases {
		out, errOut, code := labelCLI(t, c.args...)
		if code != c.code || !strings.Contains(errOut, c.want) || (code == 1 && out != "") {
			t.Errorf("%v: exit %d, stderr %q, stdout %q; want exit %d naming %q", c.args, code, errOut, out, c.code, c.want)
		}
		if code == 1 && strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
			t.Errorf("%v: more than one line on stderr: %q", c.args, errOut)
		}
	}
}

func TestLabelTemplatesAndProfiles(t *testing.T) {
	out, _, code := labelCLI(t, "label", "templates")
	var ts []templateJSON
	if code != 0 || json.Unmarshal([]byte(out), &ts) != nil || len(ts) != 4 || ts[0].Name != "carton" || ts[3].Name != "pallet-ship" {
		t.Fatalf("templates: exit %d %s", code, out)
	}
	out, _, code = labelCLI(t, "profiles", "list")
	var ps []profileSummary
	if code != 0 || json.Unmarshal([]byte(out), &ps) != nil || len(ps) < 8 {
		t.Fatalf("profiles list: exit %d %s", code, out)
	}
	out, _, code = labelCLI(t, "profiles", "show", "zebra-zt411r-203")
	var p map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &p) != nil || p["dpi"] != 203.0 || p["rfid"].(map[string]any)["write_epc"] != "^RFW,H,,,A" {
		t.Fatalf("profiles show: exit %d %s", code, out)
	}
	if _, errOut, code := labelCLI(t, "profiles", "show", "nope"); code != 1 || !strings.Contains(errOut, "zebra-zt411-203") {
		t.Errorf("profiles show nope: exit %d %q", code, errOut)
	}
}
