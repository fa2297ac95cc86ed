package main

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/dockgate/dockgate/edge/config"
)

// The packaged configuration passes what check-config runs (config.Parse
// is config.Load on bytes), with no secret in the environment, and keeps
// its data where the unit's StateDirectory is.
func TestConffileChecks(t *testing.T) {
	b, err := packaging.ReadFile(confFile)
	if err != nil {
		t.Fatal(err)
	}
	c, err := config.Parse(b, func(string) string { return "" })
	if err != nil {
		t.Fatalf("%s does not pass check-config:\n%v", confFile, err)
	}
	if c.DataDir != "/var/lib/dockgate" {
		t.Errorf("data_dir %q, want /var/lib/dockgate (the unit's StateDirectory=dockgate)", c.DataDir)
	}
	unit, err := packaging.ReadFile(unitFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"ExecStart=" + binPath + " run -c " + confPath,
		"StateDirectory=dockgate", "DynamicUser=yes", "Restart=on-failure",
		"ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes", "NoNewPrivileges=yes",
		"CapabilityBoundingSet=", "SupplementaryGroups=dialout",
	} {
		if !hasLine(unit, want) {
			t.Errorf("%s has no line starting %q", unitFile, want)
		}
	}
}

func hasLine(b []byte, prefix string) bool {
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, prefix) {
			return true
		}
	}
	return false
}

// One target built end to end: the .deb holds the binary, the conffile
// (marked as one), the unit and the Debian documents, and the tarball the
// binary and its documents.
func TestBuildAmd64(t *testing.T) {
	if testing.Short() {
		t.Skip("cross-builds the gateway")
	}
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"-out", out, "-arch", "amd64", "-version", "v1.2.3"}, &stdout, &stderr); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	arts := strings.Fields(stdout.String())
	wantDeb := filepath.Join(out, "dockgate_1.2.3_amd64.deb")
	wantTgz := filepath.Join(out, "dockgate_v1.2.3_linux_amd64.tar.gz")
	if len(arts) != 2 || arts[0] != wantTgz || arts[1] != wantDeb {
		t.Fatalf("artifacts %q, want %s and %s", arts, wantTgz, wantDeb)
	}

	members := readAr(t, wantDeb)
	if got := string(members["debian-binary"]); got != "2.0\n" {
		t.Errorf("debian-binary %q", got)
	}
	control := readTarGz(t, members["control.tar.gz"])
	if got := string(control["conffiles"].body); got != confPath+"\n" {
		t.Errorf("conffiles %q, want %s", got, confPath)
	}
	fields := controlFields(string(control["control"].body))
	for k, v := range map[string]string{"Package": "dockgate", "Version": "1.2.3", "Architecture": "amd64"} {
		if fields[k] != v {
			t.Errorf("control %s: %q, want %q", k, fields[k], v)
		}
	}
	if fields["Maintainer"] == "" || fields["Description"] == "" {
		t.Errorf("control lacks Maintainer or Description: %q", control["control"].body)
	}
	for _, s := range []string{"postinst", "prerm", "postrm"} {
		if f, ok := control[s]; !ok || f.mode&0o111 == 0 {
			t.Errorf("control.tar.gz: %s missing or not executable", s)
		}
	}

	data := readTarGz(t, members["data.tar.gz"])
	conf, _ := packaging.ReadFile(confFile)
	unit, _ := packaging.ReadFile(unitFile)
	for path, want := range map[string][]byte{confPath: conf, unitPath: unit} {
		if f, ok := data[strings.TrimPrefix(path, "/")]; !ok || !bytes.Equal(f.body, want) {
			t.Errorf("data.tar.gz: %s missing or not the embedded file", path)
		}
	}
	bin, ok := data[strings.TrimPrefix(binPath, "/")]
	if !ok || bin.mode != 0o755 || !bytes.HasPrefix(bin.body, []byte("\x7fELF")) {
		t.Fatalf("data.tar.gz: %s missing, not 0755 or not an ELF file", binPath)
	}
	for _, doc := range []string{"copyright", "changelog.Debian.gz", "README.md", "examples/dockgate.example.yaml"} {
		if _, ok := data[strings.TrimPrefix(docDir, "/")+"/"+doc]; !ok {
			t.Errorf("data.tar.gz: %s/%s missing", docDir, doc)
		}
	}
	// Every relative link of the shipped README and docs resolves to a
	// file or a directory shipped beside them.
	docRoot := strings.TrimPrefix(docDir, "/")
	link := regexp.MustCompile(`\]\(([^)#\s]+)`)
	code := regexp.MustCompile("`[^`]*`")
	for name, f := range data {
		if !strings.HasPrefix(name, docRoot+"/") || !strings.HasSuffix(name, ".md") {
			continue
		}
		for _, m := range link.FindAllStringSubmatch(code.ReplaceAllString(string(f.body), ""), -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			want := path.Clean(path.Join(path.Dir(name), target))
			found := false
			for other := range data {
				if other == want || strings.HasPrefix(other, want+"/") {
					found = true
					break
				}
			}
			if !found {
				t.Errorf("%s links to %s, which the package does not ship (%s)", name, target, want)
			}
		}
	}
	copyright := string(data[strings.TrimPrefix(docDir, "/")+"/copyright"].body)
	for _, want := range []string{"Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/", "github.com/dgraph-io/badger/v4", "License: EPL-2.0", "the Go standard library"} {
		if !strings.Contains(copyright, want) {
			t.Errorf("copyright lacks %q", want)
		}
	}
	zr, err := gzip.NewReader(bytes.NewReader(data[strings.TrimPrefix(docDir, "/")+"/changelog.Debian.gz"].body))
	if err != nil {
		t.Fatal(err)
	}
	changelog, _ := io.ReadAll(zr)
	if !strings.HasPrefix(string(changelog), "dockgate (1.2.3) unstable; urgency=medium\n") {
		t.Errorf("changelog.Debian:\n%s", changelog)
	}

	tgz, err := os.ReadFile(wantTgz)
	if err != nil {
		t.Fatal(err)
	}
	inTar := readTarGz(t, tgz)
	for _, name := range []string{"dockgate", "README.md", "dockgate.yaml", "dockgate.example.yaml", "dockgate.service", "copyright"} {
		if _, ok := inTar["dockgate_v1.2.3_linux_amd64/"+name]; !ok {
			t.Errorf("tarball lacks %s", name)
		}
	}

	// The packaged binary itself, on its packaged configuration.
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		return
	}
	dir := t.TempDir()
	exe := filepath.Join(dir, "dockgate")
	confCopy := filepath.Join(dir, "dockgate.yaml")
	if err := os.WriteFile(exe, bin.body, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(confCopy, conf, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "check-config", "-c", confCopy)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")} // no DOCKGATE_* secrets
	if b, err := cmd.CombinedOutput(); err != nil || string(b) != "ok\n" {
		t.Errorf("dockgate check-config on the conffile: %v\n%s", err, b)
	}
	if b, err := exec.Command(exe, "version").Output(); err != nil || !strings.HasPrefix(string(b), "dockgate v1.2.3 ") {
		t.Errorf("dockgate version: %q, %v (want the -version stamped in)", b, err)
	}
}

func TestDebVersion(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"v1.2.3", "1.2.3"},
		{"1.2.3", "1.2.3"},
		{"v1.2.3-dirty", "1.2.3+dirty"},
		{"v1.2.3-rc.1", "1.2.3~rc.1"},
		{"v1.2.3-4-gabc1234", "1.2.3+git4.gabc1234"},
		{"v1.2.3-4-gabc1234-dirty", "1.2.3+git4.gabc1234.dirty"},
		{"v1.2.3-rc.1-4-gabc1234", "1.2.3~rc.1+git4.gabc1234"},
		{"7ffc35c", "0.0.0~7ffc35c"},
		{"7ffc35c-dirty", "0.0.0~7ffc35c.dirty"},
		{"dev", "0.0.0~dev"},
		{"my_build", "0.0.0~my.build"},
	} {
		if got := debVersion(tc.in); got != tc.want {
			t.Errorf("debVersion(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	// dpkg's order is git's order.
	order := []string{"0.0.0~dev", "1.2.3~rc.1", "1.2.3", "1.2.3+dirty", "1.2.3+git4.gabc1234", "1.2.4"}
	if _, err := exec.LookPath("dpkg"); err == nil {
		for i := 1; i < len(order); i++ {
			if err := exec.Command("dpkg", "--compare-versions", order[i-1], "lt", order[i]).Run(); err != nil {
				t.Errorf("dpkg: %s is not before %s", order[i-1], order[i])
			}
		}
	}
}

func TestParseTargets(t *testing.T) {
	ts, err := parseTargets("armv7, amd64,armv7")
	if err != nil || len(ts) != 2 || ts[0].debArch != "armhf" || ts[0].goarm != "7" || ts[1].name != "amd64" {
		t.Fatalf("parseTargets: %+v, %v", ts, err)
	}
	for _, bad := range []string{"", "arm", "amd64,mips"} {
		if _, err := parseTargets(bad); err == nil {
			t.Errorf("parseTargets(%q): no error", bad)
		}
	}
}

func TestLicenseName(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"Apache License\n Version 2.0, January 2004", "Apache-2.0"},
		{"Permission is hereby granted, free of charge, to any person", "Expat"},
		{"Redistribution and use in source and binary forms ... Neither the name of Google", "BSD-3-clause"},
		{"Redistribution and use in source and binary forms, with or without", "BSD-2-clause"},
		{"Eclipse Public License - v 2.0", "EPL-2.0"},
		{"do what you want", "other"},
	} {
		if got := licenseName([]byte(tc.text)); got != tc.want {
			t.Errorf("licenseName(%q) = %s, want %s", tc.text, got, tc.want)
		}
	}
}

// readAr returns the members of an ar archive (a .deb) by name.
func readAr(t *testing.T, path string) map[string][]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("!<arch>\n")) {
		t.Fatalf("%s is not an ar archive", path)
	}
	members := map[string][]byte{}
	for b = b[8:]; len(b) > 0; {
		if len(b) < 60 {
			t.Fatalf("%s: truncated ar header", path)
		}
		name := strings.TrimSuffix(strings.TrimSpace(string(b[:16])), "/")
		size, err := strconv.Atoi(strings.TrimSpace(string(b[48:58])))
		if err != nil || 60+size > len(b) {
			t.Fatalf("%s: bad ar member size %q", path, b[48:58])
		}
		members[name] = b[60 : 60+size]
		b = b[60+size:]
		if size%2 == 1 && len(b) > 0 {
			b = b[1:] // members are 2-byte aligned
		}
	}
	return members
}

type tarEntry struct {
	mode int64
	body []byte
}

// readTarGz returns the regular files of a .tar.gz by name, without a
// leading "./".
func readTarGz(t *testing.T, b []byte) map[string]tarEntry {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]tarEntry{}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return files
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		body, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		files[strings.TrimPrefix(h.Name, "./")] = tarEntry{mode: h.Mode, body: body}
	}
}

// controlFields are the fields of a Debian control file, continuation
// lines dropped.
func controlFields(s string) map[string]string {
	fields := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && !strings.HasPrefix(k, " ") {
			fields[k] = strings.TrimSpace(v)
		}
	}
	return fields
}
