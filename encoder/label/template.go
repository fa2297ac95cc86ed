package label

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"image"
	_ "image/png" // template images are PNG
	"io"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/dockgate/dockgate/internal/yamltype"
)

// Template is a label design in millimetres with named variables.
type Template struct {
	Name        string     `yaml:"name"`
	Description string     `yaml:"description"`
	WidthMM     float64    `yaml:"width_mm"`
	LengthMM    float64    `yaml:"length_mm"`
	Variables   []Variable `yaml:"variables"`
	Elements    []Spec     `yaml:"elements"`

	images map[string]*Bitmap // decoded image files by element index
}

// Variable declares one value a template takes.
type Variable struct {
	Name string `yaml:"name"`
	// Type is one of gtin, sscc, lot, date, int, text, cset82, epc.
	Type     string `yaml:"type"`
	Required bool   `yaml:"required"`
	// MaxLen caps text and cset82 values (defaults: text 200, cset82 20).
	MaxLen int `yaml:"max_len"`
	// Default is used when the value is not given.
	Default string `yaml:"default"`
	// Choices, when given, lists the only values allowed.
	Choices []string `yaml:"choices"`
	Help    string   `yaml:"help"`
}

// Spec is one element of a template; measures are in millimetres. Values
// may contain {{var}} or {{var|filter}} (filters: yymmdd, upper); in ais, a
// part in [ ] is left out when a variable in it is empty.
type Spec struct {
	Type string `yaml:"type"`
	Name string `yaml:"name"`
	// When names a variable: the element is printed only if it is set;
	// "var=value" prints it only if the variable has that value.
	When string  `yaml:"when"`
	X    float64 `yaml:"x"`
	Y    float64 `yaml:"y"`
	// Width: text width, box width, or the region a barcode is placed in.
	Width float64 `yaml:"width"`
	// Height: font height (text), box height, bar height (1-D).
	Height    float64 `yaml:"height"`
	Thickness float64 `yaml:"thickness"`
	// Align: left, center or right (text; barcodes within their region).
	Align string `yaml:"align"`
	// Fit: shrink (default) or wrap, for text wider than Width.
	Fit      string `yaml:"fit"`
	MaxLines int    `yaml:"max_lines"`
	Value    string `yaml:"value"`
	// AIs is a bracketed element string for gs1-128, and for qr and
	// datamatrix (a Digital Link URI in a QR, GS1 data in a DataMatrix).
	AIs string `yaml:"ais"`
	// Encoding of AIs in a QR: digital-link (default) or element-string.
	Encoding string `yaml:"encoding"`
	// Domain of the Digital Link URI (default id.gs1.org).
	Domain string `yaml:"domain"`
	// Module is the module width (1-D) or module size (2-D) in mm;
	// MinModule the narrowest the engine may go to make a symbol fit.
	Module    float64 `yaml:"module"`
	MinModule float64 `yaml:"min_module"`
	// HRI prints the human-readable interpretation under a 1-D symbol.
	HRI       bool    `yaml:"hri"`
	HRIHeight float64 `yaml:"hri_height"`
	// EC is the QR error correction level: L, M (default), Q or H.
	EC string `yaml:"ec"`
	// File is a PNG image path, relative to the template file.
	File string `yaml:"file"`
	// X2, Y2 end a line.
	X2 float64 `yaml:"x2"`
	Y2 float64 `yaml:"y2"`
}

//go:embed templates/*.yaml
var builtinFS embed.FS

var builtins = map[string]*Template{}

func init() {
	entries, err := builtinFS.ReadDir("templates")
	if err != nil {
		panic(err)
	}
	for _, e := range entries {
		data, err := builtinFS.ReadFile("templates/" + e.Name())
		if err != nil {
			panic(err)
		}
		t, err := ParseTemplate(e.Name(), data, "")
		if err != nil {
			panic(err)
		}
		builtins[t.Name] = t
	}
}

// Builtin returns the built-in template with this name: carton, item,
// pallet or pallet-ship.
func Builtin(name string) (*Template, bool) {
	t, ok := builtins[name]
	return t, ok
}

// Builtins returns the built-in templates sorted by name.
func Builtins() []*Template {
	out := make([]*Template, 0, len(builtins))
	for _, t := range builtins {
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// LoadTemplate reads a YAML template file; image files it names are read
// relative to its directory.
func LoadTemplate(path string) (*Template, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrTemplate, err)
	}
	return ParseTemplate(path, data, filepath.Dir(path))
}

// ParseTemplate decodes and checks a template. name appears in errors;
// dir is where image files are read from ("" forbids image files).
func ParseTemplate(name string, data []byte, dir string) (*Template, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var t Template
	if err := dec.Decode(&t); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%w: %s: empty document", ErrTemplate, name)
		}
		var te *yaml.TypeError
		var doc yaml.Node
		if errors.As(err, &te) && yaml.Unmarshal(data, &doc) == nil {
			// Each problem with its key and what it takes, rather
			// than the decoder's "cannot unmarshal !!str into
			// float64" or "field x not found in type label.Spec".
			if probs := yamltype.Problems(&doc, reflect.TypeFor[Template](), ""); len(probs) > 0 {
				return nil, fmt.Errorf("%w: %s: %s", ErrTemplate, name, strings.Join(probs, "; "))
			}
		}
		return nil, fmt.Errorf("%w: %s: %s", ErrTemplate, name, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if err := t.check(dir); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrTemplate, name, err)
	}
	return &t, nil
}

var varTypes = map[string]bool{"gtin": true, "sscc": true, "lot": true, "date": true, "int": true, "text": true, "cset82": true, "epc": true}

func (t *Template) check(dir string) error {
	if t.Name == "" {
		return errors.New("name: missing")
	}
	if t.WidthMM <= 0 || t.WidthMM > 300 || t.LengthMM <= 0 || t.LengthMM > 3000 {
		return fmt.Errorf("width_mm %g / length_mm %g: give the label size in mm (e.g. 101.6 × 152.4 for 4×6 in)", t.WidthMM, t.LengthMM)
	}
	vars := map[string]bool{}
	for i, v := range t.Variables {
		if v.Name == "" || strings.ContainsAny(v.Name, "{}|[] ") {
			return fmt.Errorf("variables[%d]: name %q: use letters, digits and _", i, v.Name)
		}
		if vars[v.Name] {
			return fmt.Errorf("variables: %q declared twice", v.Name)
		}
		if !varTypes[v.Type] {
			return fmt.Errorf("variables.%s: type %q: use gtin, sscc, lot, date, int, text, cset82 or epc", v.Name, v.Type)
		}
		vars[v.Name] = true
	}
	names := map[string]bool{}
	for i := range t.Elements {
		s := &t.Elements[i]
		where := fmt.Sprintf("elements[%d]", i)
		if s.Name == "" {
			s.Name = fmt.Sprintf("%s%d", s.Type, i)
		}
		if names[s.Name] {
			return fmt.Errorf("%s: name %q used twice", where, s.Name)
		}
		names[s.Name] = true
		where = fmt.Sprintf("element %q", s.Name)
		if w, _, _ := strings.Cut(s.When, "="); s.When != "" && !vars[w] {
			return fmt.Errorf("%s: when: %q is not a declared variable", where, s.When)
		}
		if len(s.Value) > 2000 || len(s.AIs) > 2000 {
			return fmt.Errorf("%s: value or ais longer than 2000 bytes", where)
		}
		for _, text := range []string{s.Value, s.AIs} {
			for _, ref := range refs(text) {
				if !vars[ref] {
					return fmt.Errorf("%s: {{%s}} is not a declared variable", where, ref)
				}
			}
		}
		for _, v := range []float64{s.X, s.Y, s.Width, s.Height, s.X2, s.Y2, s.Thickness, s.HRIHeight} {
			if v < 0 || v > 3000 || v != v {
				return fmt.Errorf("%s: position or size %g mm is out of range (0 to 3000 mm)", where, v)
			}
		}
		if s.Module < 0 || s.Module > 25 || s.MinModule < 0 || s.MinModule > 25 || s.MaxLines < 0 || s.MaxLines > 50 {
			return fmt.Errorf("%s: module (0 to 25 mm) or max_lines (0 to 50) out of range", where)
		}
		switch s.Align {
		case "", "left", "center", "right":
		default:
			return fmt.Errorf("%s: align %q: use left, center or right", where, s.Align)
		}
		switch Kind(s.Type) {
		case KindText:
			if s.Height <= 0 {
				return fmt.Errorf("%s: height (font height in mm) is required", where)
			}
			if s.Fit != "" && s.Fit != "shrink" && s.Fit != "wrap" {
				return fmt.Errorf("%s: fit %q: use shrink or wrap", where, s.Fit)
			}
		case KindBox:
			if s.Width <= 0 || s.Height <= 0 {
				return fmt.Errorf("%s: a box needs width and height", where)
			}
		case KindLine:
		case KindCode128:
			if s.Value == "" {
				return fmt.Errorf("%s: value (the data) is required", where)
			}
		case KindGS1128:
			if s.AIs == "" {
				return fmt.Errorf("%s: ais (bracketed element string) is required", where)
			}
		case KindQR, KindDataMatrix:
			if (s.AIs == "") == (s.Value == "") {
				return fmt.Errorf("%s: give exactly one of ais and value", where)
			}
			if s.Encoding != "" && s.Encoding != "digital-link" && s.Encoding != "element-string" {
				return fmt.Errorf("%s: encoding %q: use digital-link or element-string", where, s.Encoding)
			}
			if s.EC != "" && (len(s.EC) != 1 || !strings.Contains("LMQH", s.EC)) {
				return fmt.Errorf("%s: ec %q: use L, M, Q or H", where, s.EC)
			}
		case KindImage:
			if s.File == "" || s.Width <= 0 {
				return fmt.Errorf("%s: an image needs file and width", where)
			}
			if dir == "" {
				return fmt.Errorf("%s: image files are only allowed in template files", where)
			}
			bm, err := loadImage(filepath.Join(dir, s.File))
			if err != nil {
				return fmt.Errorf("%s: %v", where, err)
			}
			if t.images == nil {
				t.images = map[string]*Bitmap{}
			}
			t.images[s.Name] = bm
		case KindRFID:
			if s.Value == "" {
				return fmt.Errorf("%s: value (the EPC) is required", where)
			}
		default:
			return fmt.Errorf("%s: type %q: use text, box, line, code128, gs1-128, qr, datamatrix, image or rfid", where, s.Type)
		}
	}
	return nil
}

// refs lists the variable names a value refers to.
func refs(s string) []string {
	var out []string
	for {
		i := strings.Index(s, "{{")
		if i < 0 {
			return out
		}
		j := strings.Index(s[i:], "}}")
		if j < 0 {
			return append(out, s[i:])
		}
		name, _, _ := strings.Cut(s[i+2:i+j], "|")
		out = append(out, strings.TrimSpace(name))
		s = s[i+j+2:]
	}
}

// loadImage reads a PNG and thresholds it to 1 bit.
func loadImage(path string) (*Bitmap, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("image %s: %v", path, err)
	}
	r := img.Bounds()
	if r.Dx() > 4000 || r.Dy() > 4000 {
		return nil, fmt.Errorf("image %s is %dx%d; keep images under 4000x4000", path, r.Dx(), r.Dy())
	}
	bm := &Bitmap{W: r.Dx(), H: r.Dy(), Pix: make([]bool, r.Dx()*r.Dy())}
	for y := 0; y < bm.H; y++ {
		for x := 0; x < bm.W; x++ {
			cr, cg, cb, ca := img.At(r.Min.X+x, r.Min.Y+y).RGBA()
			lum := (299*cr + 587*cg + 114*cb) / 1000
			bm.Pix[y*bm.W+x] = ca > 0x8000 && lum < 0x8000
		}
	}
	return bm, nil
}
