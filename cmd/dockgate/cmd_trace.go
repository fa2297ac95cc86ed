package main

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/dockgate/dockgate/edge/gateway"
)

func init() {
	register(&command{name: "trace", summary: "trace [-c FILE] [--data-dir DIR] lot CODE | epc HEX|URI | sscc N | customer ID | order ID: forward or backward trace as JSON", run: runTrace})
}

func runTrace(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "trace", "dockgate trace [-c FILE] [--data-dir DIR] lot CODE | epc HEX|URI | sscc N | customer ID | order ID")
	var f storeFlags
	fs.StringVar(&f.file, "c", "", "configuration file (its data_dir and http.listen)")
	fs.StringVar(&f.dataDir, "data-dir", "", "data directory (default: the configuration's, ./dockgate-data)")
	if err := fs.parse(args); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		return fmt.Errorf("give what to trace: lot CODE, epc HEX|URI, sscc N, customer ID or order ID")
	}
	kind, key := fs.Arg(0), fs.Arg(1)
	switch kind {
	case "lot", "epc", "sscc", "customer", "order":
	default:
		return fmt.Errorf("cannot trace %q: trace a lot, an epc, an sscc, a customer (its id, GLN or name) or an order", kind)
	}
	v, err := onGateway(ctx, env, f, func(g *gateway.Gateway) (any, error) {
		switch kind {
		case "lot":
			return g.Receiving().TraceLot(key)
		case "epc":
			return g.Receiving().TraceEPC(key)
		case "customer":
			return g.Shipping().TraceCustomer(key)
		case "order":
			return g.Shipping().TraceOrder(key)
		default:
			return g.Receiving().TraceSSCC(key)
		}
	}, func(c *apiClient) (any, error) {
		var out json.RawMessage
		return out, c.do("GET", "/trace/"+kind+"/"+escape(key), nil, &out)
	})
	if err != nil {
		return err
	}
	return printJSON(env, v)
}

func printJSON(env *cliEnv, v any) error {
	enc := json.NewEncoder(env.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
