package main

import (
	"bufio"
	"context"
	"fmt"
	"strings"

	"github.com/dockgate/dockgate/edge/gateway"
	"github.com/dockgate/dockgate/edge/receiving"
	"github.com/dockgate/dockgate/printers"
)

func init() {
	register(&command{name: "receive", summary: "receive [-c FILE] [--data-dir DIR] --door D (--scan DATA|- | --gtin G …) [--cartons N]: record a receipt, print its labels", run: runReceive})
}

func runReceive(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "receive", "dockgate receive [-c FILE] [--data-dir DIR] --door D (--scan DATA|- | --gtin G …) [--cartons N] …")
	var f storeFlags
	var r receiving.Request
	fs.StringVar(&f.file, "c", "", "configuration file")
	fs.StringVar(&f.dataDir, "data-dir", "", "data directory (default: the configuration's)")
	fs.StringVar(&r.ID, "id", "", "receipt id (idempotency key; default: generated)")
	fs.StringVar(&r.Door, "door", "", "receiving door (required)")
	fs.StringVar(&r.Scan, "scan", "", "supplier label as scanned (any GS1 form); - reads one label per line from stdin (keyboard-wedge scanner)")
	fs.StringVar(&r.GTIN, "gtin", "", "GTIN of the goods")
	fs.StringVar(&r.Product, "product", "", "product code (SKU)")
	fs.StringVar(&r.Description, "description", "", "product description for the label")
	fs.StringVar(&r.Supplier, "supplier", "", "supplier")
	fs.StringVar(&r.SupplierLot, "supplier-lot", "", "supplier's lot: kept and linked instead of a new lot")
	fs.StringVar(&r.PO, "po", "", "purchase order")
	fs.StringVar(&r.DespatchAdvice, "despatch-advice", "", "despatch advice (ASN) number")
	fs.StringVar(&r.Production, "production", "", "production date YYYY-MM-DD")
	fs.StringVar(&r.Expiry, "expiry", "", "expiry date YYYY-MM-DD")
	fs.StringVar(&r.Format, "format", "", "lot format name (default lots.default_format)")
	fs.IntVar(&r.Cartons, "cartons", 1, "number of cartons")
	fs.IntVar(&r.QtyPerCarton, "qty-per-carton", 0, "items per carton")
	fs.StringVar(&r.Unit, "unit", "", "unit of the quantity (UN/CEFACT, e.g. EA)")
	if err := fs.parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q: receive takes flags only (quote a value with spaces: --supplier \"Acme Atelier\")", fs.Arg(0))
	}
	if r.Door == "" {
		return fmt.Errorf("--door: name the receiving door")
	}
	r.Source = "cli"
	// One gateway (or API client) for every receipt; with --scan - each
	// line a scanner types is received as soon as it is read.
	_, err := onGateway(ctx, env, f, func(g *gateway.Gateway) (any, error) {
		return nil, eachRequest(env, r, func(req receiving.Request) (any, error) {
			// The labels name the user as who asked for them.
			return g.Receiving().Receive(gateway.WithActor(ctx, printers.Actor{Via: printers.ViaCLI, Name: cliUser(env)}), req)
		})
	}, func(c *apiClient) (any, error) {
		return nil, eachRequest(env, r, func(req receiving.Request) (any, error) {
			var out receiving.Receipt
			return out, c.do("POST", "/receipts", req, &out)
		})
	})
	return err
}

// eachRequest runs receive on r, or with --scan - on one request per line
// of stdin, printing each receipt as it is made.
func eachRequest(env *cliEnv, r receiving.Request, receive func(receiving.Request) (any, error)) error {
	if r.Scan != "-" {
		v, err := receive(r)
		if err != nil {
			return err
		}
		return printJSON(env, v)
	}
	// A scan that is refused is reported and the next one read: one bad
	// label does not stop the dock.
	sc := bufio.NewScanner(env.stdin)
	n, refused := 0, 0
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if line == "" {
			continue
		}
		n++
		one := r
		one.Scan, one.Source, one.ID = line, "scan", ""
		v, err := receive(one)
		if err != nil {
			refused++
			fmt.Fprintf(env.stderr, "dockgate receive: scan %d (%.60q): %v\n", n, line, err)
			continue
		}
		if err := printJSON(env, v); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("stdin: %w", err)
	}
	if refused > 0 {
		return fmt.Errorf("%d of %d scans refused (see above)", refused, n)
	}
	return nil
}
