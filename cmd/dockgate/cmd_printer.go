package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"time"

	"github.com/dockgate/dockgate/edge/config"
	"github.com/dockgate/dockgate/edge/gateway"
	"github.com/dockgate/dockgate/edge/store"
	"github.com/dockgate/dockgate/printers"
	"github.com/dockgate/dockgate/printers/spool"
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
	register(&command{name: "printer", summary: "printer status HOST:PORT|ID [-c FILE] | printer jobs|reprint|cancel -c FILE [JOB-ID]: printer status and spooled jobs", run: runPrinter})
}

const printerUsage = `usage:
  dockgate printer status [-c FILE] [--profile ID] [--timeout D] HOST:PORT|ID
  dockgate printer jobs -c FILE [--data-dir DIR] [--printer ID] [--state S] [--limit N]
  dockgate printer reprint -c FILE [--data-dir DIR] JOB-ID
  dockgate printer cancel -c FILE [--data-dir DIR] JOB-ID`

func runPrinter(ctx context.Context, env *cliEnv, args []string) error {
	if len(args) == 0 {
		fmt.Fprintln(env.stderr, printerUsage)
		return errUsage
	}
	switch args[0] {
	case "status":
	case "jobs", "reprint", "cancel":
		return runPrinterJobs(ctx, env, args[0], args[1:])
	default:
		fmt.Fprintln(env.stderr, printerUsage)
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
		fmt.Fprintln(env.stderr, printerUsage)
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

// runPrinterJobs lists, reprints or cancels spooled jobs in the gateway's
// data directory while the gateway is stopped (a running gateway holds the
// data directory; use its API then).
func runPrinterJobs(_ context.Context, env *cliEnv, op string, args []string) error {
	fs := flag.NewFlagSet("printer "+op, flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	cfgPath := fs.String("c", "", "gateway config `FILE` (its printers and data_dir)")
	dataDir := fs.String("data-dir", "", "data `DIR` (default the config's data_dir)")
	printer := fs.String("printer", "", "jobs: only this printer `ID`")
	state := fs.String("state", "", "jobs: only this `STATE` (queued, held, sending, sent, confirmed, failed, cancelled, unknown)")
	limit := fs.Int("limit", 100, "jobs: at most `N` jobs (0: all)")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if (op == "jobs") != (fs.NArg() == 0) || fs.NArg() > 1 {
		fmt.Fprintln(env.stderr, printerUsage)
		return errUsage
	}
	if *cfgPath == "" {
		return fmt.Errorf("-c FILE is required: the gateway config names the printers and the data directory")
	}
	cfg, err := config.Load(*cfgPath, env.getenv)
	if err != nil {
		return err
	}
	if *dataDir != "" {
		cfg.DataDir = *dataDir
	}
	enc := json.NewEncoder(env.stdout)
	enc.SetIndent("", "  ")
	if op == "jobs" {
		s := spool.State(*state)
		switch s {
		case "", spool.Queued, spool.Held, spool.Sending, spool.Sent, spool.Confirmed, spool.Failed, spool.Cancelled, spool.Unknown:
		default:
			return fmt.Errorf("--state %q is not queued, held, sending, sent, confirmed, failed, cancelled or unknown", *state)
		}
		jobs, err := listJobs(cfg.DataDir, spool.Filter{Printer: *printer, State: s, Limit: *limit})
		if err != nil {
			return err
		}
		return enc.Encode(jobs)
	}
	// A reprint or a cancel goes through the gateway opened offline, so
	// that its events wait in the outbox as the running gateway's would
	// (and jobs a crash left in sending become unknown, with their event).
	g, err := gateway.Open(cfg, gateway.Info{}, slog.New(slog.NewTextHandler(env.stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		gateway.Options{Offline: true, NoRecover: true})
	if err != nil {
		return lockedHint(err)
	}
	defer g.Close()
	sp := g.Spooler()
	switch op {
	case "reprint":
		err = sp.Reprint(fs.Arg(0))
	case "cancel":
		err = sp.Cancel(fs.Arg(0))
	}
	if err != nil {
		return err
	}
	j, err := sp.Get(fs.Arg(0))
	if err != nil {
		return err
	}
	j.ZPL = ""
	return enc.Encode(j)
}

// lockedHint says what to do when the running gateway holds the data
// directory.
func lockedHint(err error) error {
	var le *store.LockedError
	if errors.As(err, &le) {
		return fmt.Errorf("%w; the gateway is running: list, reprint or cancel through its API, or stop it first", err)
	}
	return err
}

// listJobs reads the spooled jobs matching f without opening a spooler:
// spool.New recovers (a job found in sending becomes unknown, and its event
// would be lost here), and a listing must change nothing. The gateway's
// next start recovers such a job and reports it.
func listJobs(dir string, f spool.Filter) ([]spool.Job, error) {
	st, err := store.Open(dir, store.Options{NoRecover: true})
	if err != nil {
		if errors.As(err, new(*store.LockedError)) {
			return nil, lockedHint(err)
		}
		return nil, storeLine(err)
	}
	defer st.Close()
	jobs, err := spool.ListJobs(st.DB(), f)
	if jobs == nil {
		jobs = []spool.Job{}
	}
	return jobs, err
}
