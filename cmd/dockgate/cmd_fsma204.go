package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"

	"github.com/dockgate/dockgate/edge/gateway"
	"github.com/dockgate/dockgate/edge/shipping"
)

func init() {
	register(&command{name: "fsma204", summary: "fsma204 --from DATE --to DATE [--lot L] [--format csv|xlsx] [--out FILE]: the FSMA 204 sortable spreadsheet", run: runFSMA204})
}

func runFSMA204(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "fsma204", "dockgate fsma204 [-c FILE] [--data-dir DIR] --from YYYY-MM-DD --to YYYY-MM-DD [--lot L] [--format csv|xlsx] [--out FILE]")
	var f storeFlags
	var q shipping.FSMAQuery
	var format, out string
	fs.StringVar(&f.file, "c", "", "configuration file")
	fs.StringVar(&f.dataDir, "data-dir", "", "data directory (default: the configuration's)")
	fs.StringVar(&q.From, "from", "", "first date, YYYY-MM-DD (where the site is)")
	fs.StringVar(&q.To, "to", "", "last date, YYYY-MM-DD, inclusive")
	fs.StringVar(&q.Lot, "lot", "", "one traceability lot code (default: all lots)")
	fs.StringVar(&format, "format", "csv", "csv or xlsx")
	fs.StringVar(&out, "out", "", "write to FILE instead of stdout")
	if err := fs.parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fs.usageError("unexpected argument %q: fsma204 takes flags only", fs.Arg(0))
	}
	if q.From == "" || q.To == "" {
		return fs.usageError("--from and --to: give the dates of the events to export")
	}
	if format != "csv" && format != "xlsx" {
		return fs.usageError("--format %q: csv or xlsx", format)
	}
	v, err := onGateway(ctx, env, f, func(g *gateway.Gateway) (any, error) {
		rows, err := g.Shipping().FSMA204(q)
		if err != nil {
			return nil, err
		}
		var buf bytes.Buffer
		err = shipping.WriteFSMA(&buf, format, rows)
		return buf.Bytes(), err
	}, func(c *apiClient) (any, error) {
		p := url.Values{"from": {q.From}, "to": {q.To}, "format": {format}}
		if q.Lot != "" {
			p.Set("lot", q.Lot)
		}
		return c.raw("/fsma204?" + p.Encode())
	})
	if err != nil {
		return err
	}
	b := v.([]byte)
	if out == "" {
		_, err = env.stdout.Write(b)
		return err
	}
	return os.WriteFile(out, b, 0o644)
}

// raw GETs path and returns the answer's body as it is (a file), or the
// API's error.
func (c *apiClient) raw(path string) ([]byte, error) {
	req, err := http.NewRequestWithContext(c.ctx, http.MethodGet, c.base+path, nil)
	if err != nil {
		return nil, err
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode >= 300 {
		var e struct{ Error string }
		if json.Unmarshal(b, &e) == nil && e.Error != "" {
			return nil, fmt.Errorf("GET %s: %s", path, e.Error)
		}
		return nil, fmt.Errorf("GET %s: HTTP %d", path, resp.StatusCode)
	}
	return b, nil
}
