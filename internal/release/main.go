package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "release:", err)
		os.Exit(1)
	}
}

// run parses the flags and builds every requested target, naming each
// artifact on stdout and the time each target took on stderr.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("release", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "dist", "directory the artifacts are written to (created)")
	version := fs.String("version", "", "release version (default: git describe --tags --always --dirty, or dev)")
	arch := fs.String("arch", strings.Join(targetNames(), ","), "comma-separated targets: "+strings.Join(targetNames(), ", "))
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (flags only: -out, -version, -arch)", fs.Arg(0))
	}
	ts, err := parseTargets(*arch)
	if err != nil {
		return err
	}
	r, err := newRelease(ctx, *out, *version)
	if err != nil {
		return err
	}
	defer r.close()
	fmt.Fprintf(stderr, "release %s (deb %s) into %s\n", r.version, r.debVersion, r.out)
	for _, t := range ts {
		start := time.Now()
		arts, err := r.build(ctx, t)
		if err != nil {
			return fmt.Errorf("%s: %w", t.name, err)
		}
		for _, a := range arts {
			fmt.Fprintln(stdout, a)
		}
		fmt.Fprintf(stderr, "%s: %.1fs\n", t.name, time.Since(start).Seconds())
	}
	return nil
}
