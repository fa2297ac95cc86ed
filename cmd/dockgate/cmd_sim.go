package main

import "context"

// simSubcommands holds the simulators ("printer", "reader"); each simulator's
// file adds itself from init.
var simSubcommands = map[string]func(context.Context, *cliEnv, []string) error{}

func init() {
	register(&command{name: "sim", summary: "run a device simulator: sim printer|reader [flags]", subs: simSubcommands})
}
