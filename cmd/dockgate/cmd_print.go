package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"time"

	"github.com/dockgate/dockgate/edge/config"
	"github.com/dockgate/dockgate/printers"
	"github.com/dockgate/dockgate/printers/spool"
	"github.com/dockgate/dockgate/printers/transport"
	"github.com/dockgate/dockgate/printers/zebra"
)

// Exit codes of print and printer status beyond 0, 1 and 2.
const (
	exitPrinterFaulted = 3 // the printer reports a fault (not printed)
	exitPrinterUnknown = 4 // no status answer, or not confirmed in time
)

// printResult is the JSON "dockgate print" writes.
type printResult struct {
	Printer string           `json:"printer"`
	Target  string           `json:"target"`
	File    string           `json:"file"`
	Bytes   int              `json:"bytes"`
	Formats int              `json:"formats"`
	Copies  int              `json:"copies"`
	Labels  int              `json:"labels"` // labels printed: ^PQ quantities × copies
	State   string           `json:"state"`  // confirmed, sent, held, failed, unknown
	Reason  string           `json:"reason,omitempty"`
	Status  *printers.Status `json:"status,omitempty"`
}

func init() {
	register(&command{name: "print", summary: "send a ZPL file to a printer and confirm it printed: print --printer HOST:PORT|ID [-c FILE] FILE.zpl", run: runPrint})
}

// resolvePrinter turns HOST:PORT or a configured printer ID into a config.
// An ID never contains ':' (printer ids are letters, digits, '.', '_', '-').
func resolvePrinter(env *cliEnv, spec, profile, configPath string) (printers.Config, error) {
	var cfg printers.Config
	switch {
	case spec == "":
		return cfg, fmt.Errorf("--printer is required: HOST:PORT, or a printer id with -c CONFIG")
	case strings.Contains(spec, ":"):
		cfg = printers.Config{ID: "cli", Address: spec, Profile: profile}
	case configPath == "":
		return cfg, fmt.Errorf("printer %q is not HOST:PORT; to use a printer id pass the gateway config with -c FILE", spec)
	default:
		c, err := config.Load(configPath, env.getenv)
		if err != nil {
			return cfg, err
		}
		p, ok := c.Printer(spec)
		if !ok {
			ids := make([]string, 0, len(c.Printers))
			for _, p := range c.Printers {
				ids = append(ids, p.ID)
			}
			return cfg, fmt.Errorf("no printer %q in %s; configured: %s", spec, configPath, strings.Join(ids, ", "))
		}
		if p.Transport == config.TransportSim {
			return cfg, fmt.Errorf("printer %q is the gateway's built-in simulator; reach it through the gateway, or run dockgate sim printer and pass its HOST:PORT", spec)
		}
		cfg = *p
		if profile != "" {
			cfg.Profile = profile
		}
	}
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return cfg, err
	}
	return cfg, nil
}

func runPrint(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "print", "dockgate print --printer HOST:PORT|ID [--profile ID] [-c FILE] [--copies N] [--timeout D] [--no-confirm] FILE.zpl|-")
	spec := fs.String("printer", "", "`HOST:PORT` (raw TCP) or a printer ID from the -c config")
	profile := fs.String("profile", "", "firmware profile `ID` (default from the config, else generic)")
	cfgPath := fs.String("c", "", "gateway config `FILE` (needed for a printer ID)")
	copies := fs.Int("copies", 1, "send the file this many times")
	timeout := fs.Duration("timeout", 60*time.Second, "how long the printer may take to print the job; time while it reports a fault does not count")
	noConfirm := fs.Bool("no-confirm", false, "do not wait for the printer to take the job")
	if err := fs.parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fs.usageError("give one file to print (- for stdin)")
	}
	if *copies < 1 || *copies > spool.MaxCopies {
		return fmt.Errorf("--copies %d is not 1-%d", *copies, spool.MaxCopies)
	}
	cfg, err := resolvePrinter(env, *spec, *profile, *cfgPath)
	if err != nil {
		return err
	}
	file := fs.Arg(0)
	var zpl []byte
	if file == "-" {
		zpl, err = io.ReadAll(env.stdin)
	} else {
		zpl, err = os.ReadFile(file)
	}
	if err != nil {
		return err
	}
	// The file must be what the spooler takes in a job: whole formats,
	// nothing between them, no command whose reply or effect outlasts the
	// print (a host query in it would answer the status polls that confirm
	// it).
	n, err := spool.CheckZPL(string(zpl))
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	// The same bound as a spooled job's, counted the same way: a ^PQ in
	// the file prints that many labels of its format.
	labels := int(min(int64(n.Labels)*int64(*copies), math.MaxInt32))
	if labels > spool.MaxCopies {
		return fmt.Errorf("%s: %w: it prints %d labels (%d per copy, the ^PQ quantities of its %d format(s) summed, times --copies %d); print at most %d at a time: lower --copies or ^PQ, or print the rest in further runs",
			file, spool.ErrTooManyLabels, labels, n.Labels, n.Formats, *copies, spool.MaxCopies)
	}
	res := printResult{Printer: cfg.ID, Target: cfg.Target(), File: file, Bytes: len(zpl) * *copies, Formats: n.Formats * *copies, Copies: *copies, Labels: labels}
	report := func(code int) error {
		enc := json.NewEncoder(env.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			return err
		}
		if code != 0 {
			return &exitError{code: code, msg: fmt.Sprintf("dockgate print: %s: %s", res.State, res.Reason)}
		}
		return nil
	}
	conn, err := transport.Dial(ctx, cfg)
	if err != nil {
		return err
	}
	defer conn.Close()
	q := zebra.NewQuerier(conn, cfg.Status, nil)
	if cfg.Status != printers.StatusNone {
		st, err := q.Status(ctx, cfg.Timeouts.Status)
		if err != nil && !errors.Is(err, printers.ErrStatusTimeout) {
			return fmt.Errorf("read status of %s: %w", cfg.Target(), err)
		}
		res.Status = &st
		if !st.Ready() {
			res.State, res.Reason = "held", "not sent: printer "+st.Summary()
			if !st.Known {
				return report(exitPrinterUnknown)
			}
			return report(exitPrinterFaulted)
		}
	}
	for i := 0; i < *copies; i++ {
		if _, err := conn.Write(zpl); err != nil {
			res.State, res.Reason = "unknown", "connection lost while writing: "+err.Error()+"; the printer may have printed part of it"
			return report(exitPrinterUnknown)
		}
	}
	if f, ok := conn.(printers.Flusher); ok {
		if err := f.Flush(); err != nil {
			return err
		}
	}
	res.State = "sent"
	if *noConfirm || cfg.Status == printers.StatusNone || cfg.Status == printers.StatusHQES {
		return report(0)
	}
	// As in the spooler, time while the printer reports a fault (head open,
	// paper out …) does not count: the job waits in the printer until an
	// operator clears it, and failing it then would invite a re-run that
	// prints it twice. Time without an answer counts.
	var counted time.Duration
	var fault string
	last := time.Now()
	wait := time.Duration(0)
	for {
		if !sleepCtx(ctx, wait) {
			return ctx.Err()
		}
		wait = min(max(2*wait, 5*time.Millisecond), cfg.Timeouts.Poll)
		st, err := q.Status(ctx, cfg.Timeouts.Status)
		if err != nil && !errors.Is(err, printers.ErrStatusTimeout) {
			res.State, res.Reason = "unknown", "status lost after sending: "+err.Error()
			return report(exitPrinterUnknown)
		}
		res.Status = &st
		if st.Drained() {
			res.State = "confirmed"
			return report(0)
		}
		now := time.Now()
		if err != nil || !st.Held() {
			counted += now.Sub(last)
		}
		last = now
		switch {
		case !st.Held():
			fault = ""
		case st.Summary() != fault:
			// said once per fault, so a wait that looks hung is explained
			fault = st.Summary()
			fmt.Fprintf(env.stderr, "dockgate print: printer %s; waiting for it to be cleared (this time does not count against --timeout)\n", fault)
		}
		if counted >= *timeout {
			res.State = "failed"
			res.Reason = fmt.Sprintf("the printer did not take the job within %v, not counting time while it reported a fault (printer %s, %d formats in buffer, %d labels remaining); check the labels before printing again: some may have printed", *timeout, st.Summary(), st.FormatsInBuffer, st.LabelsRemaining)
			return report(exitPrinterUnknown)
		}
	}
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
