package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/dockgate/dockgate/edge/config"
)

func init() {
	register(&command{name: "check-config", summary: "check-config -c FILE: validate a configuration file", run: checkConfig})
}

func checkConfig(_ context.Context, env *cliEnv, args []string) error {
	fs := flag.NewFlagSet("check-config", flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	file := fs.String("c", "", "configuration file to check")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if *file == "" {
		return errors.New("name the file to check with -c FILE")
	}
	if _, err := config.Load(*file, env.getenv); err != nil {
		var probs config.Problems
		if errors.As(err, &probs) {
			for _, p := range probs {
				fmt.Fprintf(env.stdout, "%s: %s\n", *file, p)
			}
		} else {
			fmt.Fprintf(env.stdout, "%s: %s\n", *file, errors.Unwrap(err))
		}
		return &exitError{code: 1}
	}
	fmt.Fprintln(env.stdout, "ok")
	return nil
}
