package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/dockgate/dockgate/edge/config"
	"github.com/dockgate/dockgate/edge/gateway"
)

func init() {
	register(&command{name: "run", summary: "run [-c FILE] [--log-format text|json] [--log-level LEVEL]: run the gateway (embedded defaults without -c)", run: runGateway})
}

// newLogger builds the process logger from the --log-format and --log-level
// flags.
func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: use debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch strings.ToLower(format) {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: use text or json", format)
}

// loadConfig loads file, or the embedded defaults when file is empty.
func loadConfig(file string, getenv func(string) string) (*config.Config, error) {
	if file == "" {
		return config.Default(), nil
	}
	c, err := config.Load(file, getenv)
	if err != nil {
		probs := loadProblems(err)
		if len(probs) > 1 {
			return nil, fmt.Errorf("%s: %s (and %d more: run \"dockgate check-config -c %s\" for every problem)", file, probs[0], len(probs)-1, file)
		}
		return nil, fmt.Errorf("%s: %s", file, probs[0])
	}
	return c, nil
}

// memoryLimit is the gateway's soft memory limit (runtime/debug), measured
// to keep RSS near 128 MB with a million events queued.
const memoryLimit = 112 << 20

func runGateway(ctx context.Context, env *cliEnv, args []string) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	file := fs.String("c", "", "configuration file (default: embedded defaults)")
	logFormat := fs.String("log-format", "text", "log format: text or json")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn, error")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	log, err := newLogger(env.stderr, *logFormat, *logLevel)
	if err != nil {
		return err
	}
	cfg, err := loadConfig(*file, env.getenv)
	if err != nil {
		return err
	}
	if env.getenv("GOMEMLIMIT") == "" {
		// Edge boxes are small: keep the heap Badger's compactions free
		// from staying with the process (GOMEMLIMIT overrides).
		debug.SetMemoryLimit(memoryLimit)
	}
	ver, rev := buildVersion()
	g, err := gateway.Open(cfg, gateway.Info{Version: ver, Commit: rev}, log, gateway.Options{})
	if err != nil {
		if *file == "" && errors.Is(err, syscall.EADDRINUSE) {
			return fmt.Errorf("%w (the embedded defaults listen on %s for HTTP and %s for MQTT: stop what holds the port, or run with -c FILE setting http.listen and broker.listen)", err, cfg.HTTP.Listen, cfg.Broker.Listen)
		}
		return err
	}
	log.Info("dockgate running", "version", ver, "site", cfg.Site, "gateway", cfg.Gateway, "data_dir", cfg.DataDir)
	if err := g.Run(ctx); err != nil {
		return err
	}
	log.Info("dockgate stopped")
	return nil
}
