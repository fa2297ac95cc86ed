package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/goreleaser/nfpm/v2"
	"github.com/goreleaser/nfpm/v2/deb"
	"github.com/goreleaser/nfpm/v2/files"
)

// description is the .deb's Description: a synopsis line, then the
// extended description.
const description = `label-printing and RFID edge gateway for warehouse docks
dockgate runs on a dock door's box: it generates lot codes at receiving,
renders GS1 labels in ZPL for the printer at the door and drives thermal
printers without losing or duplicating jobs, reads RFID portals over LLRP
or serial, and buffers every event durably before publishing it over MQTT
(EPCIS 2.0 JSON for traceability).`

// tarFile is one file of a tarball.
type tarFile struct {
	name string // inside the tarball's top directory
	mode int64
	body []byte
}

// writeTarball writes dockgate_<version>_linux_<arch>.tar.gz: one
// directory of that name holding the binary and its documents.
func (r *release) writeTarball(t target, bin string) (string, error) {
	base := fmt.Sprintf("dockgate_%s_linux_%s", r.version, t.name)
	binBody, err := os.ReadFile(bin)
	if err != nil {
		return "", err
	}
	tfs := []tarFile{{name: "dockgate", mode: 0o755, body: binBody}}
	for _, f := range []struct{ name, src string }{
		{"README.md", "README.md"},
		{"dockgate.example.yaml", "testdata/dockgate.example.yaml"},
		{"LICENSE", "LICENSE"},
	} {
		b, err := os.ReadFile(filepath.Join(r.root, f.src))
		if errors.Is(err, fs.ErrNotExist) && f.name == "LICENSE" {
			continue // only when the tree has one
		}
		if err != nil {
			return "", err
		}
		tfs = append(tfs, tarFile{name: f.name, mode: 0o644, body: b})
	}
	for _, f := range []struct{ name, src string }{{"dockgate.yaml", confFile}, {"dockgate.service", unitFile}} {
		b, err := packaging.ReadFile(f.src)
		if err != nil {
			return "", err
		}
		tfs = append(tfs, tarFile{name: f.name, mode: 0o644, body: b})
	}
	tfs = append(tfs, tarFile{name: "copyright", mode: 0o644, body: r.copyright})
	docs, err := r.docFiles()
	if err != nil {
		return "", err
	}
	for _, d := range docs {
		b, err := os.ReadFile(filepath.Join(r.root, d))
		if err != nil {
			return "", err
		}
		tfs = append(tfs, tarFile{name: d, mode: 0o644, body: b})
	}

	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return "", err
	}
	tw := tar.NewWriter(zw)
	hdr := func(name string, typ byte, mode, size int64) *tar.Header {
		return &tar.Header{Name: name, Typeflag: typ, Mode: mode, Size: size, ModTime: r.mtime, Uname: "root", Gname: "root", Format: tar.FormatPAX}
	}
	if err := tw.WriteHeader(hdr(base+"/", tar.TypeDir, 0o755, 0)); err != nil {
		return "", err
	}
	for _, f := range tfs {
		if err := tw.WriteHeader(hdr(base+"/"+f.name, tar.TypeReg, f.mode, int64(len(f.body)))); err != nil {
			return "", err
		}
		if _, err := tw.Write(f.body); err != nil {
			return "", err
		}
	}
	if err := tw.Close(); err != nil {
		return "", err
	}
	if err := zw.Close(); err != nil {
		return "", err
	}
	path := filepath.Join(r.out, base+".tar.gz")
	return path, os.WriteFile(path, buf.Bytes(), 0o644)
}

// writeDeb writes dockgate_<debversion>_<debarch>.deb with nfpm.
func (r *release) writeDeb(t target, bin string) (string, error) {
	dir := filepath.Join(r.stage, t.name, "deb")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	// nfpm reads its sources from disk: stage the embedded and generated
	// files next to the binary.
	staged := map[string]string{}
	stage := func(name string, body []byte, mode os.FileMode) error {
		p := filepath.Join(dir, name)
		staged[name] = p
		return os.WriteFile(p, body, mode)
	}
	for _, f := range []struct {
		name string
		mode os.FileMode
	}{{confFile, 0o644}, {unitFile, 0o644}, {postinstFile, 0o755}, {prermFile, 0o755}, {postrmFile, 0o755}} {
		b, err := packaging.ReadFile(f.name)
		if err != nil {
			return "", err
		}
		if err := stage(filepath.Base(f.name), b, f.mode); err != nil {
			return "", err
		}
	}
	changelog, err := r.changelog()
	if err != nil {
		return "", err
	}
	if err := stage("changelog.Debian.gz", changelog, 0o644); err != nil {
		return "", err
	}
	if err := stage("copyright", r.copyright, 0o644); err != nil {
		return "", err
	}

	file := func(src, dst string, mode os.FileMode) *files.Content {
		return &files.Content{Source: src, Destination: dst, FileInfo: &files.ContentFileInfo{Mode: mode, Owner: "root", Group: "root"}}
	}
	conf := file(staged["dockgate.yaml"], confPath, 0o644)
	conf.Type = files.TypeConfig
	docs, err := r.docFiles()
	if err != nil {
		return "", err
	}
	var docContents files.Contents
	for _, d := range docs {
		docContents = append(docContents, file(filepath.Join(r.root, d), docDir+"/"+d, 0o644))
	}
	info := &nfpm.Info{
		Name:          "dockgate",
		Arch:          t.debArch,
		Platform:      "linux",
		Version:       r.debVersion,
		VersionSchema: "none", // debVersion is already a Debian version
		Section:       "net",
		Priority:      "optional",
		Maintainer:    r.maintainer,
		Description:   description,
		MTime:         r.mtime,
		Overridables: nfpm.Overridables{
			Contents: append(files.Contents{
				file(bin, binPath, 0o755),
				conf,
				file(staged["dockgate.service"], unitPath, 0o644),
				file(staged["copyright"], docDir+"/copyright", 0o644),
				file(staged["changelog.Debian.gz"], docDir+"/changelog.Debian.gz", 0o644),
				file(filepath.Join(r.root, "README.md"), docDir+"/README.md", 0o644),
				file(filepath.Join(r.root, "testdata/dockgate.example.yaml"), docDir+"/examples/dockgate.example.yaml", 0o644),
			}, docContents...),
			Scripts: nfpm.Scripts{
				PostInstall: staged["postinst"],
				PreRemove:   staged["prerm"],
				PostRemove:  staged["postrm"],
			},
			Deb: nfpm.Deb{Compression: "gzip"},
		},
	}
	info = nfpm.WithDefaults(info)
	var buf bytes.Buffer
	if err := deb.Default.Package(info, &buf); err != nil {
		return "", fmt.Errorf("nfpm deb: %w", err)
	}
	path := filepath.Join(r.out, fmt.Sprintf("dockgate_%s_%s.deb", r.debVersion, t.debArch))
	return path, os.WriteFile(path, buf.Bytes(), 0o644)
}

// changelog is changelog.Debian.gz: one entry for this build.
func (r *release) changelog() ([]byte, error) {
	var text strings.Builder
	fmt.Fprintf(&text, "dockgate (%s) unstable; urgency=medium\n\n", r.debVersion)
	fmt.Fprintf(&text, "  * Release %s", r.version)
	if r.commit != "" {
		fmt.Fprintf(&text, ", built from commit %s", r.commit)
	}
	fmt.Fprintf(&text, ".\n\n -- %s  %s\n", r.maintainer, r.mtime.Format("Mon, 02 Jan 2006 15:04:05 -0700"))
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write([]byte(text.String())); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// docFiles are the reference pages the README links to (docs/, relative to
// the tree's root), with their pictures, the Grafana dashboard, and the
// simulator's scenarios and reader replies docs/simulators.md links to,
// shipped beside it so that its links work where it is installed.
func (r *release) docFiles() ([]string, error) {
	var out []string
	for _, pattern := range []string{"docs/*.md", "docs/*.png", "docs/grafana/*.json", "rfid/readersim/scenarios/*.yaml", "rfid/llrp/testdata/*-capabilities.hex"} {
		m, err := filepath.Glob(filepath.Join(r.root, pattern))
		if err != nil {
			return nil, err
		}
		for _, f := range m {
			rel, err := filepath.Rel(r.root, f)
			if err != nil {
				return nil, err
			}
			out = append(out, filepath.ToSlash(rel))
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no docs/*.md under %s: run the release from the source tree", r.root)
	}
	return out, nil
}
