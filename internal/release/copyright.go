package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// module is a Go module linked into the binary.
type module struct {
	path, version, dir string
}

// buildCopyright is the machine-readable Debian copyright file: the
// embedded header, dockgate's own licence (LICENSE, when the tree has
// one), then one paragraph per linked module and the Go standard library
// with the module's licence, NOTICE and PATENTS files. Licences Debian
// ships in /usr/share/common-licenses are referenced, others quoted.
func (r *release) buildCopyright(ctx context.Context) ([]byte, error) {
	header, err := packaging.ReadFile(copyrightFile)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.Write(header)
	own, err := os.ReadFile(filepath.Join(r.root, "LICENSE"))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		b.WriteString("License: not-specified\n The source tree this package was built from has no LICENSE file: ask the\n dockgate maintainers under which terms it may be used and redistributed.\n")
	case err != nil:
		return nil, err
	default:
		writeLicense(&b, own)
	}

	mods, err := r.linkedModules(ctx)
	if err != nil {
		return nil, err
	}
	for _, m := range mods {
		texts, err := licenseFiles(m.dir)
		if err != nil {
			return nil, err
		}
		if len(texts) == 0 {
			return nil, fmt.Errorf("module %s %s has no LICENSE or COPYING file in %s: its licence cannot ship with the package", m.path, m.version, m.dir)
		}
		b.WriteString("\n")
		if m.path == "std" {
			fmt.Fprintf(&b, "Files: go/src/*\nCopyright: The Go Authors\nComment: the Go standard library and runtime, %s\n", m.version)
		} else {
			fmt.Fprintf(&b, "Files: go/pkg/mod/%s/*\nCopyright: the authors of %s (see the licence text)\nComment: Go module %s %s\n", m.path, m.path, m.path, m.version)
		}
		license := texts[0]
		for _, t := range texts[1:] { // NOTICE, PATENTS
			b.WriteString(" .\n")
			writeIndented(&b, fmt.Sprintf("%s:\n%s", t.name, t.body))
		}
		writeLicense(&b, license.body)
	}
	return b.Bytes(), nil
}

// linkedModules is every module cmd/dockgate links on linux (the same for
// every target), sorted, and the standard library.
func (r *release) linkedModules(ctx context.Context) ([]module, error) {
	cmd := exec.CommandContext(ctx, "go", "list", "-deps", "-f", "{{with .Module}}{{if not .Main}}{{.Path}} {{.Version}} {{.Dir}}{{end}}{{end}}", "./cmd/dockgate")
	cmd.Dir = r.root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list -deps ./cmd/dockgate: %w\n%s", err, stderr.Bytes())
	}
	seen := map[string]bool{}
	var mods []module
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.SplitN(line, " ", 3)
		if len(f) != 3 || seen[f[0]] {
			continue
		}
		if f[2] == "" {
			return nil, fmt.Errorf("module %s %s is not downloaded (run go mod download)", f[0], f[1])
		}
		seen[f[0]] = true
		mods = append(mods, module{path: f[0], version: f[1], dir: f[2]})
	}
	sort.Slice(mods, func(i, j int) bool { return mods[i].path < mods[j].path })

	env, err := exec.CommandContext(ctx, "go", "env", "GOROOT", "GOVERSION").Output()
	if err != nil {
		return nil, fmt.Errorf("go env GOROOT: %w", err)
	}
	goroot, goversion, _ := strings.Cut(strings.TrimSpace(string(env)), "\n")
	return append([]module{{path: "std", version: goversion, dir: goroot}}, mods...), nil
}

// licenseText is one licence-related file of a module.
type licenseText struct {
	name string
	body []byte
}

// copyrightLine is a copyright notice with a year, not the "[yyyy]" of
// the Apache licence's appendix.
var copyrightLine = regexp.MustCompile(`Copyright (\([cC]\) |© )?[0-9]{4}`)

var licenseFileName = regexp.MustCompile(`(?i)^(licen[cs]e|copying|notice|patents)([.-].*)?$`)

// licenseFiles are the licence files at the top of a module's directory,
// the licence itself (LICENSE, COPYING) first.
func licenseFiles(dir string) ([]licenseText, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var lic, other []licenseText
	for _, e := range entries {
		m := licenseFileName.FindStringSubmatch(e.Name())
		if m == nil || !e.Type().IsRegular() {
			continue
		}
		body, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		t := licenseText{name: e.Name(), body: body}
		if k := strings.ToLower(m[1]); k == "license" || k == "licence" || k == "copying" {
			lic = append(lic, t)
		} else {
			other = append(other, t)
		}
	}
	if len(lic) == 0 {
		return nil, nil
	}
	return append(lic[:1], other...), nil
}

// commonLicenses are the licences Debian ships in /usr/share/common-licenses,
// referenced rather than quoted, with where to read them elsewhere.
var commonLicenses = map[string]string{
	"Apache-2.0": "https://www.apache.org/licenses/LICENSE-2.0",
	"MPL-2.0":    "https://mozilla.org/MPL/2.0/",
}

// licenseName is the SPDX-style short name of a licence text, or "other".
func licenseName(text []byte) string {
	s := strings.Join(strings.Fields(string(text)), " ")
	switch {
	case strings.Contains(s, "Apache License") && strings.Contains(s, "Version 2.0"):
		return "Apache-2.0"
	case strings.Contains(s, "Mozilla Public License") && strings.Contains(s, "2.0"):
		return "MPL-2.0"
	case strings.Contains(s, "Eclipse Public License") && strings.Contains(s, "2.0"):
		return "EPL-2.0"
	case strings.Contains(s, "Permission is hereby granted, free of charge"):
		return "Expat"
	case strings.Contains(s, "Redistribution and use in source and binary forms"):
		if strings.Contains(s, "Neither the name") || strings.Contains(s, "names of its contributors") {
			return "BSD-3-clause"
		}
		return "BSD-2-clause"
	case strings.Contains(s, "Permission to use, copy, modify, and/or distribute"):
		return "ISC"
	}
	return "other"
}

// writeLicense writes a License field: the short name, then the text, or
// for a licence Debian ships, a reference to it. A text that holds more
// than the bare licence (a copyright line, a second licence) is quoted.
func writeLicense(b *bytes.Buffer, text []byte) {
	name := licenseName(text)
	fmt.Fprintf(b, "License: %s\n", name)
	if url, ok := commonLicenses[name]; ok && !copyrightLine.Match(text) {
		fmt.Fprintf(b, " On Debian systems the full text of the %s licence is in\n /usr/share/common-licenses/%s; elsewhere see %s.\n", name, name, url)
		return
	}
	writeIndented(b, string(text))
}

// writeIndented writes text as the continuation lines of a field: each
// line indented by one space, an empty line as " .".
func writeIndented(b *bytes.Buffer, text string) {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	for _, line := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		line = strings.TrimRight(line, " \t")
		if line == "" {
			b.WriteString(" .\n")
			continue
		}
		b.WriteString(" " + line + "\n")
	}
}
