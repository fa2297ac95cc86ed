package main

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// packaging holds the files the packages install: the configuration
// (conffile), the systemd unit, the copyright header and the maintainer
// scripts.
//
//go:embed packaging
var packaging embed.FS

// Paths inside packaging.
const (
	confFile      = "packaging/dockgate.yaml"
	unitFile      = "packaging/dockgate.service"
	copyrightFile = "packaging/copyright"
	postinstFile  = "packaging/postinst"
	prermFile     = "packaging/prerm"
	postrmFile    = "packaging/postrm"
)

// Where the .deb installs things.
const (
	binPath  = "/usr/bin/dockgate"
	confPath = "/etc/dockgate/dockgate.yaml"
	unitPath = "/lib/systemd/system/dockgate.service"
	docDir   = "/usr/share/doc/dockgate"
)

// defaultMaintainer is the .deb's Maintainer unless DEBFULLNAME and
// DEBEMAIL (the Debian tools' variables) say otherwise.
const defaultMaintainer = "dockgate maintainers <maintainers@dockgate.invalid>"

// target is one platform of the release.
type target struct {
	name    string // amd64, arm64, armv7: the -arch value and the tarball's suffix
	goarch  string
	goarm   string
	debArch string
}

var targets = []target{
	{name: "amd64", goarch: "amd64", debArch: "amd64"},
	{name: "arm64", goarch: "arm64", debArch: "arm64"},
	{name: "armv7", goarch: "arm", goarm: "7", debArch: "armhf"},
}

func targetNames() []string {
	var names []string
	for _, t := range targets {
		names = append(names, t.name)
	}
	return names
}

// parseTargets is the -arch list, in the order given, without duplicates.
func parseTargets(list string) ([]target, error) {
	var ts []target
	seen := map[string]bool{}
	for _, name := range strings.Split(list, ",") {
		name = strings.TrimSpace(name)
		if name == "" || seen[name] {
			continue
		}
		seen[name] = true
		found := false
		for _, t := range targets {
			if t.name == name {
				ts = append(ts, t)
				found = true
			}
		}
		if !found {
			return nil, fmt.Errorf("-arch: unknown target %q (use %s)", name, strings.Join(targetNames(), ", "))
		}
	}
	if len(ts) == 0 {
		return nil, fmt.Errorf("-arch: no target given (use %s)", strings.Join(targetNames(), ", "))
	}
	return ts, nil
}

// release is one release build: its version and where things go.
type release struct {
	root       string // the module's directory
	out        string // absolute artifact directory
	version    string // as given or described: file names, `dockgate version`
	debVersion string
	commit     string
	mtime      time.Time // of every file in the archives
	maintainer string
	stage      string // scratch directory: binaries and generated files
	copyright  []byte // generated once, shared by all targets
}

func newRelease(ctx context.Context, out, version string) (*release, error) {
	root, err := moduleRoot(ctx)
	if err != nil {
		return nil, err
	}
	if version == "" {
		version = gitOutput(ctx, root, "describe", "--tags", "--always", "--dirty")
	}
	if version == "" {
		version = "dev"
	}
	if !versionPattern.MatchString(version) {
		return nil, fmt.Errorf("-version %q: use letters, digits, '.', '_', '+', '~' and '-' (it is part of file names)", version)
	}
	if out, err = filepath.Abs(out); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, fmt.Errorf("-out: %w", err)
	}
	stage, err := os.MkdirTemp("", "dockgate-release-")
	if err != nil {
		return nil, err
	}
	r := &release{
		root:       root,
		out:        out,
		version:    version,
		debVersion: debVersion(version),
		commit:     gitOutput(ctx, root, "rev-parse", "HEAD"),
		mtime:      sourceDate(ctx, root),
		maintainer: maintainer(os.Getenv),
		stage:      stage,
	}
	if r.copyright, err = r.buildCopyright(ctx); err != nil {
		r.close()
		return nil, err
	}
	return r, nil
}

func (r *release) close() { os.RemoveAll(r.stage) }

// build cross-compiles the binary for t and packs its tarball and .deb,
// returning their paths.
func (r *release) build(ctx context.Context, t target) ([]string, error) {
	dir := filepath.Join(r.stage, t.name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	bin := filepath.Join(dir, "dockgate")
	if err := r.buildBinary(ctx, t, bin); err != nil {
		return nil, err
	}
	tgz, err := r.writeTarball(t, bin)
	if err != nil {
		return nil, err
	}
	deb, err := r.writeDeb(t, bin)
	if err != nil {
		return nil, err
	}
	return []string{tgz, deb}, nil
}

// buildBinary is `go build` of cmd/dockgate for t: static, trimmed,
// stripped, with the version stamped in.
func (r *release) buildBinary(ctx context.Context, t target, dst string) error {
	ldflags := "-s -w -X main.version=" + r.version
	if r.commit != "" {
		ldflags += " -X main.commit=" + r.commit
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags", ldflags, "-o", dst, "./cmd/dockgate")
	cmd.Dir = r.root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+t.goarch, "GOARM="+t.goarm)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build: %w\n%s", err, out)
	}
	return nil
}

// moduleRoot is the directory of the main module's go.mod.
func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w (is the go command on PATH?)", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("not inside the dockgate module: run it from the repository")
	}
	return filepath.Dir(gomod), nil
}

// gitOutput is git's trimmed output, or "" when git fails or is missing.
func gitOutput(ctx context.Context, dir string, args ...string) string {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// sourceDate is the time stamped on archive entries: SOURCE_DATE_EPOCH
// when set (reproducible builds), else the commit's time, else now.
func sourceDate(ctx context.Context, root string) time.Time {
	for _, s := range []string{os.Getenv("SOURCE_DATE_EPOCH"), gitOutput(ctx, root, "log", "-1", "--format=%ct")} {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil && n > 0 {
			return time.Unix(n, 0).UTC()
		}
	}
	return time.Now().UTC().Truncate(time.Second)
}

func maintainer(getenv func(string) string) string {
	name, mail := getenv("DEBFULLNAME"), getenv("DEBEMAIL")
	if name == "" || mail == "" {
		return defaultMaintainer
	}
	return name + " <" + mail + ">"
}

var (
	versionPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._+~-]*$`)
	// describePattern is a tag version as git describe prints it:
	// 1.2.3, 1.2.3-rc.1, either followed by -N-gHASH.
	describePattern = regexp.MustCompile(`^([0-9]+(?:\.[0-9]+)*)(?:-([0-9A-Za-z.]+?))?(?:-([0-9]+)-g([0-9a-f]+))?$`)
	debInvalid      = regexp.MustCompile(`[^A-Za-z0-9.+~]+`)
)

// debVersion is the Debian version of a release version, chosen so that
// dpkg orders releases as git does: v1.2.3 → 1.2.3, v1.2.3-rc.1 →
// 1.2.3~rc.1 (before 1.2.3), v1.2.3-4-gabc → 1.2.3+git4.gabc (after it),
// -dirty → .dirty; a version without a tag (a commit hash, "dev") →
// 0.0.0~hash, before every tagged release.
func debVersion(v string) string {
	v = strings.TrimPrefix(v, "v")
	dirty := ""
	if s, ok := strings.CutSuffix(v, "-dirty"); ok {
		v, dirty = s, ".dirty"
	}
	m := describePattern.FindStringSubmatch(v)
	if m == nil {
		return "0.0.0~" + strings.Trim(debInvalid.ReplaceAllString(v, "."), ".") + dirty
	}
	var b bytes.Buffer
	b.WriteString(m[1])
	if m[2] != "" {
		b.WriteString("~" + m[2])
	}
	switch {
	case m[3] != "":
		b.WriteString("+git" + m[3] + ".g" + m[4] + dirty)
	case dirty != "":
		b.WriteString("+dirty")
	}
	return b.String()
}
