package main

import (
	"context"

	firmwareprofiles "github.com/dockgate/dockgate/firmware-profiles"
)

func init() {
	register(&command{
		name:    "profiles",
		summary: "profiles list | profiles show ID: the embedded printer firmware profiles as JSON",
		subs: map[string]func(context.Context, *cliEnv, []string) error{
			"list": profilesList,
			"show": profilesShow,
		},
	})
}

// profileSummary is one line of "dockgate profiles list".
type profileSummary struct {
	ID             string `json:"id"`
	Vendor         string `json:"vendor"`
	Model          string `json:"model"`
	DPI            int    `json:"dpi"`
	PrintWidthDots int    `json:"print_width_dots"`
	Language       string `json:"language"`
	Supported      bool   `json:"supported"`
	Emulation      bool   `json:"emulation"`
	RFID           bool   `json:"rfid"`
}

func profilesList(_ context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "profiles list", "dockgate profiles list")
	if err := fs.parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fs.usageError("unexpected argument %q", fs.Arg(0))
	}
	if err := firmwareprofiles.LoadError(); err != nil {
		return err
	}
	var out []profileSummary
	for _, p := range firmwareprofiles.List() {
		out = append(out, profileSummary{ID: p.ID, Vendor: p.Vendor, Model: p.Model, DPI: p.DPI,
			PrintWidthDots: p.PrintWidthDots, Language: p.Language, Supported: p.Supported(),
			Emulation: p.Emulation, RFID: p.RFID.Supported})
	}
	return printJSON(env, out)
}

func profilesShow(_ context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "profiles show", "dockgate profiles show ID")
	if err := fs.parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fs.usageError("give one profile ID (see dockgate profiles list)")
	}
	if err := firmwareprofiles.LoadError(); err != nil {
		return err
	}
	p, err := firmwareprofiles.Lookup(fs.Arg(0))
	if err != nil {
		return err
	}
	return printJSON(env, p)
}
