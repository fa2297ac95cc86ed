package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os/user"
	"strings"
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
	// Via is the running gateway's API the status was asked of (its last
	// reading of the printer); empty when the printer itself was asked.
	Via string `json:"via,omitempty"`
}

func init() {
	register(&command{name: "printer", summary: "printer status HOST:PORT|ID [-c FILE] | printer jobs|reprint|cancel -c FILE [JOB-ID] | printer rfid-calibrate|rfid-test HOST:PORT|ID: printer status, spooled jobs, RFID encoder checks",
		subs: map[string]func(context.Context, *cliEnv, []string) error{
			"status": printerStatus,
			"jobs": func(ctx context.Context, env *cliEnv, args []string) error {
				return runPrinterJobs(ctx, env, "jobs", args)
			},
			"reprint": func(ctx context.Context, env *cliEnv, args []string) error {
				return runPrinterJobs(ctx, env, "reprint", args)
			},
			"cancel": func(ctx context.Context, env *cliEnv, args []string) error {
				return runPrinterJobs(ctx, env, "cancel", args)
			},
			"rfid-calibrate": printerRFIDCalibrate,
			"rfid-test":      printerRFIDTest,
		}})
}

var printerSynopsis = map[string]string{
	"status":  "dockgate printer status [-c FILE] [--profile ID] [--timeout D] HOST:PORT|ID",
	"jobs":    "dockgate printer jobs -c FILE [--data-dir DIR] [--printer ID] [--state S] [--limit N]",
	"reprint": "dockgate printer reprint -c FILE [--data-dir DIR] --reason TEXT JOB-ID",
	"cancel":  "dockgate printer cancel -c FILE [--data-dir DIR] --reason TEXT JOB-ID",
}

// printerStatus asks a printer for its status: HOST:PORT directly, a
// printer ID of -c FILE (or of the defaults "dockgate run" uses without
// -c) where the running gateway says it is, or where the configuration
// does when no gateway answers.
func printerStatus(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "printer status", printerSynopsis["status"])
	profile := fs.String("profile", "", "firmware profile `ID` (selects ~HS/~HQES)")
	cfgPath := fs.String("c", "", "gateway config `FILE` naming the printer ID (default: the embedded defaults \"dockgate run\" uses without -c)")
	timeout := fs.Duration("timeout", 0, "status reply timeout (default the printer's timeouts.status, 2s)")
	if err := fs.parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fs.usageError("give one printer: HOST:PORT, or a printer ID")
	}
	spec := fs.Arg(0)
	var cfg printers.Config
	var err error
	via := ""
	if strings.Contains(spec, ":") {
		cfg, err = resolvePrinter(env, spec, *profile, "")
	} else {
		var done bool
		cfg, via, done, err = printerOfGateway(ctx, env, spec, *profile, *cfgPath)
		if done {
			return err
		}
	}
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
		// Not reached is no answer, as a printer that takes the connection
		// and says nothing: exit 4, with what to check.
		return &exitError{code: exitPrinterUnknown, msg: fmt.Sprintf("dockgate printer: %v: no answer from the printer; check its address and port (raw TCP 9100 unless given), that it is on and on the network", err)}
	}
	defer conn.Close()
	st, err := zebra.NewQuerier(conn, cfg.Status, time.Now).Status(ctx, cfg.Timeouts.Status)
	if err != nil && !errors.Is(err, printers.ErrStatusTimeout) {
		return fmt.Errorf("read status of %s: %w", cfg.Target(), err)
	}
	return writePrinterStatus(env, printerStatusResult{Printer: cfg.ID, Target: cfg.Target(), Status: st, Via: via})
}

// writePrinterStatus prints res and exits 0 ready, 3 faulted, 4 unknown.
func writePrinterStatus(env *cliEnv, res printerStatusResult) error {
	st := res.Status
	res.Ready, res.Summary = st.Ready(), st.Summary()
	if err := printJSON(env, res); err != nil {
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

// printerOfGateway finds printer id of -c FILE (or of the defaults
// "dockgate run" uses without -c). While that gateway runs, its HTTP API
// says where the printer is (a simulated one listens on a port of the
// gateway's) and via is the API's address; a printer the gateway holds by
// a port the CLI cannot share (serial, USB) is then reported as the
// gateway last read it, and done is true. With no gateway answering, the
// printer is the configuration's, and a simulated one is an error naming
// what was tried.
func printerOfGateway(ctx context.Context, env *cliEnv, id, profile, cfgPath string) (_ printers.Config, via string, done bool, err error) {
	var pc printers.Config
	cfg, err := loadConfig(cfgPath, env.getenv)
	if err != nil {
		return pc, "", true, err
	}
	from := cfgPath
	if from == "" {
		from = "the embedded defaults (\"dockgate run\" without -c; give -c FILE for a gateway's printers)"
	}
	p, ok := cfg.Printer(id)
	if !ok {
		ids := make([]string, 0, len(cfg.Printers))
		for _, p := range cfg.Printers {
			ids = append(ids, p.ID)
		}
		return pc, "", true, fmt.Errorf("no printer %q in %s; configured: %s", id, from, strings.Join(ids, ", "))
	}
	pc = *p
	if profile != "" {
		pc.Profile = profile
	}
	var c *apiClient
	perr := errors.New("its HTTP API is disabled (http.listen)")
	if cfg.HTTP.Listen != "" {
		c, perr = probeAPI(ctx, cfg.HTTP.Listen, cfg.HTTP.Token)
	}
	switch {
	case perr != nil && pc.Transport == config.TransportSim:
		return pc, "", true, fmt.Errorf("printer %s of %s is the gateway's built-in simulator, and %v: start the gateway (dockgate run), or run dockgate sim printer and pass its HOST:PORT", id, from, perr)
	case perr != nil:
		return checkedPrinter(pc)
	}
	var list []struct {
		ID     string           `json:"id"`
		Target string           `json:"target"`
		Status *printers.Status `json:"status"`
	}
	if err := c.do(http.MethodGet, "/printers", nil, &list); err != nil {
		return pc, "", true, fmt.Errorf("the gateway at %s: %w", c.base, err)
	}
	for _, g := range list {
		if g.ID != id {
			continue
		}
		if addr, ok := strings.CutPrefix(g.Target, "tcp://"); ok {
			pc.Transport, pc.Address = printers.TransportTCP, addr
			pc, _, _, err = checkedPrinter(pc)
			return pc, c.base, false, err
		}
		res := printerStatusResult{Printer: g.ID, Target: g.Target, Via: c.base}
		if g.Status != nil {
			res.Status = *g.Status
		}
		return pc, c.base, true, writePrinterStatus(env, res)
	}
	return pc, "", true, fmt.Errorf("the gateway at %s has no printer %q (it runs another configuration than %s: give its -c FILE)", c.base, id, from)
}

// checkedPrinter is pc with its defaults, validated.
func checkedPrinter(pc printers.Config) (printers.Config, string, bool, error) {
	pc = pc.WithDefaults()
	return pc, "", false, pc.Validate()
}

// runPrinterJobs lists, reprints or cancels spooled jobs in the gateway's
// data directory while the gateway is stopped (a running gateway holds the
// data directory; use its API then).
func runPrinterJobs(_ context.Context, env *cliEnv, op string, args []string) error {
	fs := newFlags(env, "printer "+op, printerSynopsis[op])
	cfgPath := fs.String("c", "", "gateway config `FILE` (its printers and data_dir)")
	dataDir := fs.String("data-dir", "", "data `DIR` (default the config's data_dir)")
	printer := fs.String("printer", "", "jobs: only this printer `ID`")
	state := fs.String("state", "", "jobs: only this `STATE` (queued, held, sending, sent, confirmed, failed, cancelled, unknown)")
	limit := fs.Int("limit", 100, "jobs: at most `N` jobs (0: all)")
	var reason *string
	if op != "jobs" {
		reason = fs.String("reason", "", "why the job is "+map[string]string{"reprint": "reprinted", "cancel": "cancelled"}[op]+" (required; the label audit trail records it with your user name)")
	}
	if err := fs.parse(args); err != nil {
		return err
	}
	if op == "jobs" && fs.NArg() > 0 {
		return fs.usageError("unexpected argument %q", fs.Arg(0))
	}
	if op != "jobs" && fs.NArg() != 1 {
		return fs.usageError("give one JOB-ID")
	}
	if reason != nil && strings.TrimSpace(*reason) == "" {
		return fs.usageError("--reason is required: say why, e.g. --reason \"label smudged\"; the label audit trail records it")
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
	req := spool.Request{By: printers.Actor{Via: printers.ViaCLI, Name: cliUser(env)}, Reason: *reason}
	switch op {
	case "reprint":
		err = sp.ReprintBy(fs.Arg(0), req)
	case "cancel":
		err = sp.CancelBy(fs.Arg(0), req)
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

// cliUser is who runs the command, for the label audit trail: the user
// behind sudo, else the login name.
func cliUser(env *cliEnv) string {
	for _, v := range []string{"SUDO_USER", "USER", "LOGNAME"} {
		if u := env.getenv(v); u != "" {
			return u
		}
	}
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return "unknown"
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
