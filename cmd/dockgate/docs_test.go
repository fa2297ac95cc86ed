package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"unicode"

	"go.yaml.in/yaml/v3"

	"github.com/dockgate/dockgate/edge/config"
	"github.com/dockgate/dockgate/encoder/label"
	"github.com/dockgate/dockgate/rfid/readersim"
)

// The documentation is checked like code: its links lead somewhere, and
// the configurations it tells a user to write are ones the gateway takes.

// repoRoot is the module root: the parent of this package's parent,
// resolved before a test changes directory.
var repoRoot = func() string {
	dir, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		panic(err)
	}
	return dir
}()

// docFiles are README.md and docs/*.md, relative to repoRoot.
func docFiles(t *testing.T) []string {
	t.Helper()
	docs, err := filepath.Glob(filepath.Join(repoRoot, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) == 0 {
		t.Fatal("no docs/*.md found")
	}
	files := []string{"README.md"}
	for _, d := range docs {
		rel, _ := filepath.Rel(repoRoot, d)
		files = append(files, rel)
	}
	return files
}

func readDoc(t *testing.T, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, rel))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var (
	fencePattern  = regexp.MustCompile("^\\s*(```|~~~)")
	headPattern   = regexp.MustCompile(`^(#{1,6})\s+(.*?)\s*#*\s*$`)
	codeSpan      = regexp.MustCompile("(`+)[^`]*?(`+)")
	inlineLink    = regexp.MustCompile(`\]\(([^)\s]+)(?:\s+"[^"]*")?\)`)
	linkText      = regexp.MustCompile(`\[([^\]]*)\]\([^)]*\)`)
	schemePattern = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9+.-]*:`)
)

// proseLines is text without its fenced code blocks (each line of a block
// becomes empty, so line numbers stay).
func proseLines(text string) []string {
	lines := strings.Split(text, "\n")
	in := false
	for i, l := range lines {
		if fencePattern.MatchString(l) {
			in = !in
			lines[i] = ""
			continue
		}
		if in {
			lines[i] = ""
		}
	}
	return lines
}

// slug is GitHub's anchor of a heading: lower case, letters, digits, '-'
// and '_' kept, spaces made '-', everything else dropped.
func slug(heading string) string {
	heading = linkText.ReplaceAllString(heading, "$1")
	var b strings.Builder
	for _, r := range strings.ToLower(heading) {
		switch {
		case unicode.IsLetter(r), unicode.IsDigit(r), r == '-', r == '_':
			b.WriteRune(r)
		case r == ' ':
			b.WriteByte('-')
		}
	}
	return b.String()
}

// anchors are the anchors of a Markdown file's headings; a repeated one
// gets -1, -2 … as on GitHub.
func anchors(text string) map[string]bool {
	out := map[string]bool{}
	seen := map[string]int{}
	for _, l := range proseLines(text) {
		m := headPattern.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		s := slug(m[2])
		if n := seen[s]; n > 0 {
			out[fmt.Sprintf("%s-%d", s, n)] = true
		} else {
			out[s] = true
		}
		seen[s]++
	}
	return out
}

// Every relative link of README.md and docs/*.md leads to a file or
// directory of the repository, and an #anchor to a heading of its file.
func TestDocsLinks(t *testing.T) {
	heads := map[string]map[string]bool{}
	anchorsOf := func(rel string) map[string]bool {
		if heads[rel] == nil {
			heads[rel] = anchors(readDoc(t, rel))
		}
		return heads[rel]
	}
	links := 0
	for _, file := range docFiles(t) {
		for n, line := range proseLines(readDoc(t, file)) {
			line = codeSpan.ReplaceAllString(line, "")
			for _, m := range inlineLink.FindAllStringSubmatch(line, -1) {
				target := m[1]
				if schemePattern.MatchString(target) {
					continue // http:, https:, mailto:
				}
				links++
				where := fmt.Sprintf("%s:%d: link %q", file, n+1, target)
				path, anchor, _ := strings.Cut(target, "#")
				rel := file
				if path != "" {
					rel = filepath.Clean(filepath.Join(filepath.Dir(file), path))
					if strings.HasPrefix(rel, "..") {
						t.Errorf("%s leaves the repository", where)
						continue
					}
					if _, err := os.Stat(filepath.Join(repoRoot, rel)); err != nil {
						t.Errorf("%s: no such file %s", where, rel)
						continue
					}
				}
				if anchor == "" {
					continue
				}
				if !strings.HasSuffix(rel, ".md") {
					t.Errorf("%s: an anchor into %s, which is not Markdown", where, rel)
					continue
				}
				if !anchorsOf(rel)[anchor] {
					t.Errorf("%s: %s has no heading with anchor #%s", where, rel, anchor)
				}
			}
		}
	}
	if links < 50 {
		t.Fatalf("only %d relative links found: the documentation was not read", links)
	}
}

func TestDocsSlug(t *testing.T) {
	for heading, want := range map[string]string{
		"MQTT commands (`cmd/{name}`)": "mqtt-commands-cmdname",
		"4. Configure the gateway":     "4-configure-the-gateway",
		"EPCIS 2.0":                    "epcis-20",
		"Topics (under `mqtt.topic_prefix`, default `dockgate/v1/{site}/{gateway}`)": "topics-under-mqtttopic_prefix-default-dockgatev1sitegateway",
	} {
		if got := slug(heading); got != want {
			t.Errorf("slug(%q) = %q, want %q", heading, got, want)
		}
	}
}

// yamlBlock is one fenced ```yaml block of a Markdown file.
type yamlBlock struct {
	file string
	line int
	text string
}

// yamlBlocks are the ```yaml blocks of a file, indentation (a block in a
// list item) removed.
func yamlBlocks(t *testing.T, rel string) []yamlBlock {
	t.Helper()
	var out []yamlBlock
	lines := strings.Split(readDoc(t, rel), "\n")
	for i := 0; i < len(lines); i++ {
		open := strings.TrimLeft(lines[i], " ")
		if open != "```yaml" {
			continue
		}
		indent := len(lines[i]) - len(open)
		var body []string
		j := i + 1
		for ; j < len(lines) && strings.TrimSpace(lines[j]) != "```"; j++ {
			l := lines[j]
			if len(l) >= indent && strings.TrimSpace(l[:indent]) == "" {
				l = l[indent:]
			}
			body = append(body, l)
		}
		if j == len(lines) {
			t.Fatalf("%s:%d: ```yaml block never closed", rel, i+1)
		}
		out = append(out, yamlBlock{file: rel, line: i + 1, text: strings.Join(body, "\n") + "\n"})
		i = j
	}
	return out
}

// kind tells a block's content: a scenario (its first line is a comment
// starting "# scenario"), a gateway configuration (a top-level key of the
// configuration), a label template (elements:), or something else (a
// Prometheus configuration …).
func (b yamlBlock) kind(t *testing.T) string {
	if strings.HasPrefix(b.text, "# scenario") {
		return "scenario"
	}
	var top map[string]any
	if err := yaml.Unmarshal([]byte(b.text), &top); err != nil {
		t.Errorf("%s:%d: not YAML: %v", b.file, b.line, err)
		return ""
	}
	ct := reflect.TypeOf(config.Config{})
	for i := 0; i < ct.NumField(); i++ {
		if _, ok := top[strings.Split(ct.Field(i).Tag.Get("yaml"), ",")[0]]; ok {
			return "config"
		}
	}
	if _, ok := top["elements"]; ok {
		return "template"
	}
	return "other"
}

// checkConfigBlock runs "dockgate check-config" on a block, as a user would on
// the file, with the MQTT password in the environment.
func checkConfigBlock(t *testing.T, dir string, b yamlBlock) (string, int) {
	t.Helper()
	path := filepath.Join(dir, fmt.Sprintf("config-%s-%d.yaml", strings.NewReplacer("/", "_", ".", "_").Replace(b.file), b.line))
	if err := os.WriteFile(path, []byte(b.text), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errb syncBuffer
	env := &cliEnv{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(k string) string {
		if k == config.EnvMQTTPassword {
			return "a-password"
		}
		return ""
	}}
	code := runMain(context.Background(), env, []string{"check-config", "-c", path})
	return out.String() + errb.String(), code
}

// The walkthrough's configuration in README.md, and the configurations and
// scenarios of docs/simulators.md, are whole files that check-config and
// the scenario loader accept; the YAML fragments of the other docs use
// only keys the configuration has, with values of the right types; label
// templates load.
func TestDocsConfigSnippets(t *testing.T) {
	dir := t.TempDir()
	// Relative paths in the snippets (a scenario file of a sim reader)
	// are relative to where the gateway runs: here, the temp dir.
	t.Chdir(dir)
	whole := map[string]bool{"README.md": true, "docs/simulators.md": true}
	var blocks []yamlBlock
	for _, file := range docFiles(t) {
		blocks = append(blocks, yamlBlocks(t, file)...)
	}
	// Scenarios first: a configuration may name one by its file.
	for _, b := range blocks {
		if b.kind(t) != "scenario" {
			continue
		}
		sc, err := readersim.Parse(strings.NewReader(b.text))
		if err != nil {
			t.Errorf("%s:%d: scenario: %v", b.file, b.line, err)
			continue
		}
		if sc.Name == "" {
			t.Errorf("%s:%d: scenario without a name (its file is NAME.yaml)", b.file, b.line)
			continue
		}
		if err := os.WriteFile(filepath.Join(dir, sc.Name+".yaml"), []byte(b.text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	configs := map[string]int{}
	for _, b := range blocks {
		switch kind := b.kind(t); {
		case kind == "config" && whole[b.file]:
			configs[b.file]++
			out, code := checkConfigBlock(t, dir, b)
			if code != 0 || out != "ok\n" {
				t.Errorf("%s:%d: dockgate check-config says (exit %d):\n%s", b.file, b.line, code, out)
			}
		case kind == "config":
			// A fragment (a readers: or lots: list alone) need not be
			// complete, but every key and value type must be right.
			out, _ := checkConfigBlock(t, dir, b)
			for _, l := range strings.Split(out, "\n") {
				if _, p, ok := strings.Cut(l, ".yaml: "); ok && strings.HasPrefix(p, "line ") {
					t.Errorf("%s:%d: %s", b.file, b.line, p)
				}
			}
		case kind == "template":
			path := filepath.Join(dir, fmt.Sprintf("template-%d.yaml", b.line))
			if err := os.WriteFile(path, []byte(b.text), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := label.LoadTemplate(path); err != nil {
				t.Errorf("%s:%d: label template: %v", b.file, b.line, err)
			}
		case kind == "other" && whole[b.file]:
			t.Errorf("%s:%d: a ```yaml block that is no gateway configuration (mark a scenario with a first line \"# scenario …\")", b.file, b.line)
		}
	}
	if configs["README.md"] == 0 {
		t.Error("README.md has no ```yaml configuration: the walkthrough's was not found")
	}
	if configs["docs/simulators.md"] == 0 {
		t.Error("docs/simulators.md has no ```yaml configuration")
	}
}
