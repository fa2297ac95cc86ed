package main

import (
	"context"
	"encoding/json"

	"github.com/dockgate/dockgate/edge/gateway"
)

func init() {
	register(&command{name: "recall", summary: "recall report LOT: every customer and order that received a lot, what is in stock, what came back",
		subs: map[string]func(context.Context, *cliEnv, []string) error{"report": runRecallReport}})
}

func runRecallReport(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "recall report", "dockgate recall report [-c FILE] [--data-dir DIR] LOT")
	var f storeFlags
	fs.StringVar(&f.file, "c", "", "configuration file")
	fs.StringVar(&f.dataDir, "data-dir", "", "data directory (default: the configuration's)")
	if err := fs.parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fs.usageError("give the lot code")
	}
	lot := fs.Arg(0)
	v, err := onGateway(ctx, env, f, func(g *gateway.Gateway) (any, error) {
		return g.Shipping().RecallReport(lot)
	}, func(c *apiClient) (any, error) {
		var out json.RawMessage
		return out, c.do("GET", "/lots/"+escape(lot)+"/recall-report", nil, &out)
	})
	if err != nil {
		return err
	}
	return printJSON(env, v)
}
