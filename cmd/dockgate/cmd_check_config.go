package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/dockgate/dockgate/edge/config"
)

func init() {
	register(&command{name: "check-config", summary: "check-config -c FILE: validate a configuration file", run: checkConfig})
}

func checkConfig(_ context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "check-config", "dockgate check-config -c FILE")
	file := fs.String("c", "", "configuration file to check")
	if err := fs.parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fs.usageError("unexpected argument %q (name the file to check with -c FILE)", fs.Arg(0))
	}
	if *file == "" {
		return errors.New("name the file to check with -c FILE")
	}
	if _, err := config.Load(*file, env.getenv); err != nil {
		for _, p := range loadProblems(err) {
			fmt.Fprintf(env.stdout, "%s: %s\n", *file, p)
		}
		return &exitError{code: 1}
	}
	fmt.Fprintln(env.stdout, "ok")
	return nil
}

// loadProblems is what config.Load found wrong, one line each, without the
// file name: every problem of a file that was read, or why it could not
// be read.
func loadProblems(err error) []string {
	var probs config.Problems
	var pe *fs.PathError
	switch {
	case errors.As(err, &probs):
		return probs
	case errors.Is(err, fs.ErrNotExist) && errors.As(err, &pe):
		return []string{pe.Err.Error() + " (check -c)"}
	case errors.As(err, &pe):
		return []string{pe.Err.Error() + " (-c must name a readable YAML file)"}
	}
	return []string{strings.TrimPrefix(err.Error(), config.ErrInvalid.Error()+": ")}
}
