package main

import (
	"context"
	"encoding/json"
	"fmt"

	firmwareprofiles "github.com/dockgate/dockgate/firmware-profiles"
)

func init() {
	register(&command{
		name:    "profiles",
		summary: "profiles list | profiles show ID: the embedded printer firmware profiles as JSON",
		run:     runProfiles,
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

func runProfiles(_ context.Context, env *cliEnv, args []string) error {
	if err := firmwareprofiles.LoadError(); err != nil {
		return err
	}
	enc := json.NewEncoder(env.stdout)
	enc.SetIndent("", "  ")
	switch {
	case len(args) == 1 && args[0] == "list":
		var out []profileSummary
		for _, p := range firmwareprofiles.List() {
			out = append(out, profileSummary{ID: p.ID, Vendor: p.Vendor, Model: p.Model, DPI: p.DPI,
				PrintWidthDots: p.PrintWidthDots, Language: p.Language, Supported: p.Supported(),
				Emulation: p.Emulation, RFID: p.RFID.Supported})
		}
		return enc.Encode(out)
	case len(args) == 2 && args[0] == "show":
		p, err := firmwareprofiles.Lookup(args[1])
		if err != nil {
			return err
		}
		return enc.Encode(p)
	}
	fmt.Fprintln(env.stderr, "usage: dockgate profiles list | dockgate profiles show ID")
	return errUsage
}
