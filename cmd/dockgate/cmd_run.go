package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
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
		return defaultConfig(), nil
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

// firstMissing is the outermost directory of dir's path that does not
// exist (what MkdirAll would create first), or "" when dir exists or
// cannot be told.
func firstMissing(dir string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return ""
	}
	missing := ""
	for p := abs; ; p = filepath.Dir(p) {
		if _, err := os.Lstat(p); !errors.Is(err, fs.ErrNotExist) {
			return missing
		}
		missing = p
		if filepath.Dir(p) == p {
			return missing
		}
	}
}

// removeCreated undoes what a failed start made: the data dir, when it
// holds nothing but the fresh store opening it wrote (its lock file and an
// empty Badger directory), and the parents of it up to created, the
// outermost directory the start made, as long as they are empty. It takes
// the store's lock first, so that a directory another process has begun
// to use meanwhile stays; it removes nothing when created is "" (the data
// dir was there before: existing data is never touched).
func removeCreated(created, dataDir string) {
	if created == "" {
		return
	}
	entries, err := os.ReadDir(dataDir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if e.Name() != "dockgate.lock" && e.Name() != "badger" {
			return
		}
	}
	if lock, err := os.OpenFile(filepath.Join(dataDir, "dockgate.lock"), os.O_RDWR, 0); err == nil {
		defer lock.Close()
		if syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil {
			return
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return
	}
	if os.RemoveAll(dataDir) != nil {
		return
	}
	abs, err := filepath.Abs(dataDir)
	if err != nil {
		return
	}
	for p := filepath.Dir(abs); strings.HasPrefix(p, created) && p != filepath.Dir(p); p = filepath.Dir(p) {
		if os.Remove(p) != nil { // not empty: something else is in it
			return
		}
	}
}

func runGateway(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "run", "dockgate run [-c FILE] [--log-format text|json] [--log-level LEVEL]")
	file := fs.String("c", "", "configuration file (default: embedded defaults)")
	logFormat := fs.String("log-format", "text", "log format: text or json")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn, error")
	if err := fs.parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fs.usageError("unexpected argument %q", fs.Arg(0))
	}
	log, err := newLogger(env.stderr, *logFormat, *logLevel)
	if err != nil {
		return err
	}
	cfg, err := loadConfig(*file, env.getenv)
	if err != nil {
		return err
	}
	if env.getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent) // memlimit.go
	}
	if env.getenv("GOMEMLIMIT") == "" {
		// Edge boxes are small: keep the heap Badger's flushes and
		// compactions free from staying with the process (memlimit.go).
		limitCtx, stopLimit := context.WithCancel(ctx)
		defer stopLimit()
		go followLiveHeap(limitCtx)
	}
	ver, rev := buildVersion()
	created := firstMissing(cfg.DataDir)
	g, err := gateway.Open(cfg, gateway.Info{Version: ver, Commit: rev}, log, gateway.Options{})
	if err != nil {
		// A start that failed leaves no data dir behind that it made
		// itself (the next start, or a command without -c, would take
		// it for a gateway's).
		removeCreated(created, cfg.DataDir)
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
