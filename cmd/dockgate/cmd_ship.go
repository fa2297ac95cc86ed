package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/dockgate/dockgate/edge/api"
	"github.com/dockgate/dockgate/edge/gateway"
	"github.com/dockgate/dockgate/edge/shipping"
)

func init() {
	register(&command{name: "ship", summary: "ship [-c FILE] [--data-dir DIR] --door D --order O --customer NAME … | show ID | close ID | cartons ID: shipments", run: runShip})
}

// listFlag is a flag given once per value.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

const shipSynopsis = `dockgate ship [-c FILE] [--data-dir DIR] --door D --order O --customer NAME (--customer-gln GLN | --customer-id ID)
    --ship-to GLN|ADDRESS [--sscc SSCC …] [--lot LOT=N …] [--pick GTIN=N …] [--carrier C] [--po PO] [--despatch-advice DA] [--id ID]
dockgate ship [-c FILE] [--data-dir DIR] --json FILE|-
dockgate ship [-c FILE] [--data-dir DIR] show ID | close ID | cartons ID`

func runShip(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "ship", shipSynopsis)
	var f storeFlags
	var r shipping.Request
	var ssccs, lotLines, picks listFlag
	var shipTo, jsonFile string
	fs.StringVar(&f.file, "c", "", "configuration file")
	fs.StringVar(&f.dataDir, "data-dir", "", "data directory (default: the configuration's)")
	fs.StringVar(&r.ID, "id", "", "shipment id (idempotency key; default: generated)")
	fs.StringVar(&r.Door, "door", "", "shipping door (role shipping or both)")
	fs.StringVar(&r.Order, "order", "", "customer order")
	fs.StringVar(&r.Customer.Name, "customer", "", "customer name")
	fs.StringVar(&r.Customer.GLN, "customer-gln", "", "customer GLN")
	fs.StringVar(&r.Customer.ID, "customer-id", "", "customer id in the WMS")
	fs.StringVar(&shipTo, "ship-to", "", "ship-to location: a GLN (13 digits) or an address line")
	fs.StringVar(&r.Carrier, "carrier", "", "carrier")
	fs.StringVar(&r.PO, "po", "", "the customer's purchase order")
	fs.StringVar(&r.DespatchAdvice, "despatch-advice", "", "despatch advice number")
	fs.Var(&ssccs, "sscc", "a carton that should leave, by SSCC (repeat the flag)")
	fs.Var(&lotLines, "lot", "LOT=N: N cartons of a lot (repeat the flag)")
	fs.Var(&picks, "pick", "GTIN=N: N cartons of a GTIN, lots picked by FEFO (repeat the flag)")
	fs.StringVar(&jsonFile, "json", "", "the shipment request as JSON (the API's body), from FILE or - for stdin")
	if err := fs.parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		if fs.NArg() != 2 {
			return fs.usageError("give show ID, close ID or cartons ID (or flags only, to announce a shipment)")
		}
		return shipAction(ctx, env, f, fs.Arg(0), fs.Arg(1), fs)
	}
	if jsonFile != "" {
		var b []byte
		var err error
		if jsonFile == "-" {
			b, err = io.ReadAll(env.stdin)
		} else {
			b, err = os.ReadFile(jsonFile)
		}
		if err != nil {
			return err
		}
		if err := api.DecodeJSON(b, &r); err != nil {
			return fmt.Errorf("--json: %w", err)
		}
	} else {
		if r.Door == "" {
			return fs.usageError("--door: name the shipping door")
		}
		if len(shipTo) == 13 && strings.Trim(shipTo, "0123456789") == "" {
			r.ShipTo.GLN = shipTo
		} else {
			r.ShipTo.Address = shipTo
		}
		r.SSCCs = ssccs
		for _, l := range lotLines {
			lot, n, err := countPair("--lot", l)
			if err != nil {
				return err
			}
			r.Lines = append(r.Lines, shipping.LineRequest{Lot: lot, Cartons: n})
		}
		for _, p := range picks {
			gtin, n, err := countPair("--pick", p)
			if err != nil {
				return err
			}
			r.Lines = append(r.Lines, shipping.LineRequest{GTIN: gtin, Cartons: n})
		}
	}
	if r.Source == "" {
		r.Source = "cli"
	}
	v, err := onGateway(ctx, env, f, func(g *gateway.Gateway) (any, error) {
		return g.Shipping().Create(ctx, r)
	}, func(c *apiClient) (any, error) {
		var out json.RawMessage
		return out, c.do("POST", "/shipments", r, &out)
	})
	if err != nil {
		return err
	}
	return printJSON(env, v)
}

// countPair reads KEY=N with N a positive count.
func countPair(flagName, v string) (string, int, error) {
	k, n, ok := strings.Cut(v, "=")
	c, err := strconv.Atoi(n)
	if !ok || k == "" || err != nil || c < 1 {
		return "", 0, fmt.Errorf("%s %q: write KEY=N with N cartons, e.g. %s SUP-4711=3", flagName, v, flagName)
	}
	return k, c, nil
}

func shipAction(ctx context.Context, env *cliEnv, f storeFlags, action, id string, fs *cmdFlags) error {
	var method, path string
	switch action {
	case "show":
		method, path = "GET", "/shipments/"+escape(id)
	case "close":
		method, path = "POST", "/shipments/"+escape(id)+"/close"
	case "cartons":
		method, path = "GET", "/shipments/"+escape(id)+"/cartons"
	default:
		return fs.usageError("unknown action %q: show, close or cartons", action)
	}
	v, err := onGateway(ctx, env, f, func(g *gateway.Gateway) (any, error) {
		switch action {
		case "show":
			return g.Shipping().Get(id)
		case "close":
			return g.Shipping().Close(ctx, id)
		default:
			return g.Shipping().Cartons(id)
		}
	}, func(c *apiClient) (any, error) {
		var out json.RawMessage
		return out, c.do(method, path, nil, &out)
	})
	if err != nil {
		return err
	}
	return printJSON(env, v)
}
