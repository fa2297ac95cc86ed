package main

import (
	"context"
	"fmt"
	"sort"
	"strings"
)

// simSubcommands holds the simulators ("printer", "reader"); each simulator's
// file adds itself from init.
var simSubcommands = map[string]func(context.Context, *cliEnv, []string) error{}

func init() {
	register(&command{name: "sim", summary: "run a device simulator: sim printer|reader [flags]", run: func(ctx context.Context, env *cliEnv, args []string) error {
		names := make([]string, 0, len(simSubcommands))
		for n := range simSubcommands {
			names = append(names, n)
		}
		sort.Strings(names)
		if len(args) == 0 {
			return fmt.Errorf("name a simulator: %s", strings.Join(names, ", "))
		}
		f, ok := simSubcommands[args[0]]
		if !ok {
			return fmt.Errorf("unknown simulator %q; choose one of: %s", args[0], strings.Join(names, ", "))
		}
		return f(ctx, env, args[1:])
	}})
}
