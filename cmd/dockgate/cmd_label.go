package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/dockgate/dockgate/encoder/label"
	"github.com/dockgate/dockgate/encoder/raster"
	"github.com/dockgate/dockgate/encoder/zpl"
	firmwareprofiles "github.com/dockgate/dockgate/firmware-profiles"
)

func init() {
	register(&command{
		name:    "label",
		summary: "label render --template NAME|FILE --profile ID [--set key=value]… [--qty N] --out FILE.zpl|FILE.png|- ; label templates; label history --lot CODE|--carton SSCC",
		subs: map[string]func(context.Context, *cliEnv, []string) error{
			"render":    runLabelRender,
			"templates": runLabelTemplates,
			"history":   runLabelHistory,
		},
	})
}

// setFlags collects repeated --set key=value.
type setFlags map[string]string

func (s setFlags) String() string { return fmt.Sprint(map[string]string(s)) }

func (s setFlags) Set(v string) error {
	k, val, ok := strings.Cut(v, "=")
	k = strings.TrimSpace(k)
	if !ok || k == "" {
		return fmt.Errorf("%q is not key=value (e.g. --set lot=LOT-2026-0042)", v)
	}
	if _, dup := s[k]; dup {
		return fmt.Errorf("key %q set twice", k)
	}
	s[k] = val
	return nil
}

// labelRenderOutput is what "label render" prints when it writes a file.
type labelRenderOutput struct {
	Template string   `json:"template"`
	Profile  string   `json:"profile"`
	Out      string   `json:"out"`
	Format   string   `json:"format"`
	Bytes    int      `json:"bytes"`
	Labels   int      `json:"labels"`
	Warnings []string `json:"warnings,omitempty"`
}

func runLabelRender(_ context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "label render", "dockgate label render --template NAME|FILE --profile ID [--set key=value]... [--qty N] --out FILE.zpl|FILE.png|-")
	tmplName := fs.String("template", "", "built-in template name (carton, item, pallet, pallet-ship) or a template YAML file")
	profID := fs.String("profile", "", "firmware profile id (see dockgate profiles list)")
	qty := fs.Int("qty", 1, "number of identical labels (^PQ)")
	out := fs.String("out", "", "output: FILE.zpl, FILE.png, or - for ZPL on stdout")
	sets := setFlags{}
	fs.Var(sets, "set", "a template value as key=value; repeat for each key")
	if err := fs.parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q; values go in --set key=value", fs.Arg(0))
	}
	if *tmplName == "" || *profID == "" || *out == "" {
		return errors.New("--template, --profile and --out are required")
	}
	format := ""
	switch {
	case *out == "-":
		format = "zpl"
	case strings.EqualFold(filepath.Ext(*out), ".zpl"):
		format = "zpl"
	case strings.EqualFold(filepath.Ext(*out), ".png"):
		format = "png"
	default:
		return fmt.Errorf("--out %q: use a .zpl or .png file, or - for ZPL on stdout", *out)
	}
	tmpl, ok := label.Builtin(*tmplName)
	if !ok {
		if _, err := os.Stat(*tmplName); err != nil {
			return fmt.Errorf("--template %q is neither a built-in (carton, item, pallet, pallet-ship) nor a readable file", *tmplName)
		}
		var err error
		if tmpl, err = label.LoadTemplate(*tmplName); err != nil {
			return err
		}
	}
	prof, err := firmwareprofiles.Lookup(*profID)
	if err != nil {
		return err
	}
	layout, err := label.Render(tmpl, sets, prof, *qty)
	if err != nil {
		return err
	}
	var data []byte
	if format == "png" {
		data, err = raster.PNG(layout, prof)
	} else {
		data, err = zpl.Encode(layout, prof)
	}
	if err != nil {
		return err
	}
	for _, w := range layout.Warnings {
		fmt.Fprintln(env.stderr, "dockgate label: warning:", w)
	}
	if *out == "-" {
		_, err := env.stdout.Write(data)
		return err
	}
	if err := os.WriteFile(*out, data, 0o644); err != nil {
		return err
	}
	enc := json.NewEncoder(env.stdout)
	return enc.Encode(labelRenderOutput{Template: tmpl.Name, Profile: prof.ID, Out: *out, Format: format,
		Bytes: len(data), Labels: layout.Quantity, Warnings: layout.Warnings})
}

type templateVarJSON struct {
	Name     string   `json:"name"`
	Type     string   `json:"type"`
	Required bool     `json:"required"`
	Default  string   `json:"default,omitempty"`
	Choices  []string `json:"choices,omitempty"`
	Help     string   `json:"help,omitempty"`
}

type templateJSON struct {
	Name        string            `json:"name"`
	Description string            `json:"description"`
	WidthMM     float64           `json:"width_mm"`
	LengthMM    float64           `json:"length_mm"`
	Variables   []templateVarJSON `json:"variables"`
}

func runLabelTemplates(_ context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "label templates", "dockgate label templates")
	if err := fs.parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fs.usageError("unexpected argument %q", fs.Arg(0))
	}
	var out []templateJSON
	for _, t := range label.Builtins() {
		tj := templateJSON{Name: t.Name, Description: t.Description, WidthMM: t.WidthMM, LengthMM: t.LengthMM}
		for _, v := range t.Variables {
			tj.Variables = append(tj.Variables, templateVarJSON{Name: v.Name, Type: v.Type, Required: v.Required,
				Default: v.Default, Choices: v.Choices, Help: v.Help})
		}
		out = append(out, tj)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	enc := json.NewEncoder(env.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
