package main

import (
	"context"
	"fmt"
	"strconv"

	"github.com/dockgate/dockgate/edge/gateway"
)

func init() {
	register(&command{name: "outbox", summary: "outbox [-c FILE] [--data-dir DIR] stats | quarantined [--max N] | requeue SEQ: the MQTT outbox (through the HTTP API while the gateway runs)", run: runOutbox})
}

func runOutbox(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "outbox", "dockgate outbox [-c FILE] [--data-dir DIR] stats\ndockgate outbox [-c FILE] [--data-dir DIR] quarantined [--max N]\ndockgate outbox [-c FILE] [--data-dir DIR] requeue SEQ")
	var f storeFlags
	fs.StringVar(&f.file, "c", "", "configuration file (its data_dir)")
	fs.StringVar(&f.dataDir, "data-dir", "", "data directory (default: the configuration's, ./dockgate-data)")
	max := fs.Int("max", 100, "quarantined: list at most N events")
	if err := fs.parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return fmt.Errorf("give what to do: stats, quarantined or requeue SEQ")
	}
	op := fs.Arg(0)
	// Flags may follow the operation too: outbox quarantined --max 5.
	if err := fs.parse(fs.Args()[1:]); err != nil {
		return err
	}
	rest := fs.Args()
	var seq uint64
	switch op {
	case "stats", "quarantined":
		if len(rest) != 0 {
			return fmt.Errorf("outbox %s takes no argument, got %q", op, rest[0])
		}
	case "requeue":
		if len(rest) != 1 {
			return fmt.Errorf("give the sequence number to requeue: outbox requeue SEQ (see outbox quarantined)")
		}
		var err error
		if seq, err = strconv.ParseUint(rest[0], 10, 64); err != nil || seq == 0 {
			return fmt.Errorf("sequence number %q is not a positive integer", rest[0])
		}
	default:
		return fmt.Errorf("unknown outbox operation %q: use stats, quarantined or requeue SEQ", op)
	}
	if *max < 1 {
		return fmt.Errorf("--max %d: use at least 1", *max)
	}
	v, err := onGateway(ctx, env, f, func(g *gateway.Gateway) (any, error) {
		ob := g.Outbox()
		switch op {
		case "stats":
			return ob.Stats(), nil
		case "quarantined":
			return ob.Quarantined(*max)
		default:
			if err := ob.Requeue(ctx, seq); err != nil {
				return nil, err
			}
			return map[string]uint64{"requeued": seq}, nil
		}
	}, func(c *apiClient) (any, error) {
		var v any
		var err error
		switch op {
		case "stats":
			err = c.do("GET", "/outbox", nil, &v)
		case "quarantined":
			err = c.do("GET", "/outbox/quarantined?max="+strconv.Itoa(*max), nil, &v)
		default:
			err = c.do("POST", "/outbox/quarantined/"+strconv.FormatUint(seq, 10)+"/requeue", nil, &v)
		}
		return v, err
	})
	if err != nil {
		return err
	}
	return printJSON(env, v)
}
