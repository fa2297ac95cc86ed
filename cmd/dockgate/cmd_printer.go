package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/dockgate/dockgate/printers"
	"github.com/dockgate/dockgate/printers/transport"
	"github.com/dockgate/dockgate/printers/zebra"
)

// printerStatusResult is the JSON "dockgate printer status" writes.
type printerStatusResult struct {
	Printer string          `json:"printer"`
	Target  string          `json:"target"`
	Ready   bool            `json:"ready"`
	Summary string          `json:"summary"`
	Status  printers.Status `json:"status"`
}

func init() {
	register(&command{name: "printer", summary: "printer tools: printer status HOST:PORT|ID [-c FILE]", run: runPrinter})
}

func runPrinter(ctx context.Context, env *cliEnv, args []string) error {
	if len(args) == 0 || args[0] != "status" {
		fmt.Fprintln(env.stderr, "usage: dockgate printer status [-c FILE] [--profile ID] [--timeout D] HOST:PORT|ID")
		return errUsage
	}
	fs := flag.NewFlagSet("printer status", flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	profile := fs.String("profile", "", "firmware profile `ID` (selects ~HS/~HQES)")
	cfgPath := fs.String("c", "", "gateway config `FILE` (needed for a printer ID)")
	timeout := fs.Duration("timeout", 0, "status reply timeout (default the printer's timeouts.status, 2s)")
	if err := fs.Parse(args[1:]); err != nil {
		return errUsage
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(env.stderr, "usage: dockgate printer status [-c FILE] [--profile ID] [--timeout D] HOST:PORT|ID")
		return errUsage
	}
	cfg, err := resolvePrinter(env, fs.Arg(0), *profile, *cfgPath)
	if err != nil {
		return err
	}
	if *timeout > 0 {
		cfg.Timeouts.Status = *timeout
	}
	if cfg.Status == printers.StatusNone {
		return fmt.Errorf("printer %s (%s) has no status channel (status: none)", cfg.ID, cfg.Target())
	}
	dctx, cancel := context.WithTimeout(ctx, cfg.Timeouts.Dial)
	conn, err := transport.Dial(dctx, cfg)
	cancel()
	if err != nil {
		return err
	}
	defer conn.Close()
	st, err := zebra.NewQuerier(conn, cfg.Status, time.Now).Status(ctx, cfg.Timeouts.Status)
	if err != nil && !errors.Is(err, printers.ErrStatusTimeout) {
		return fmt.Errorf("read status of %s: %w", cfg.Target(), err)
	}
	res := printerStatusResult{Printer: cfg.ID, Target: cfg.Target(), Ready: st.Ready(), Summary: st.Summary(), Status: st}
	enc := json.NewEncoder(env.stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(res); err != nil {
		return err
	}
	switch {
	case !st.Known:
		return &exitError{code: exitPrinterUnknown}
	case !st.Ready():
		return &exitError{code: exitPrinterFaulted}
	}
	return nil
}
