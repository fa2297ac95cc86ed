package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/dockgate/dockgate/edge/gateway"
	"github.com/dockgate/dockgate/edge/labels"
)

// labelHistoryPage is the page size asked of a running gateway's API (its
// most).
const labelHistoryPage = 10000

// runLabelHistory prints the label audit trail of a lot or a carton: every
// print, reprint, void and cancel, who asked and why.
func runLabelHistory(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "label history", "dockgate label history [-c FILE] [--data-dir DIR] [--format table|json] --lot CODE | --carton SSCC")
	var f storeFlags
	fs.StringVar(&f.file, "c", "", "configuration file (its data_dir and http.listen)")
	fs.StringVar(&f.dataDir, "data-dir", "", "data directory (default: the configuration's, ./dockgate-data)")
	lot := fs.String("lot", "", "the lot `CODE` whose labels to list")
	carton := fs.String("carton", "", "the carton's `SSCC` (18 digits, with or without (00))")
	format := fs.String("format", "table", "`table` (readable) or json")
	if err := fs.parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fs.usageError("unexpected argument %q; give --lot CODE or --carton SSCC", fs.Arg(0))
	}
	if (*lot == "") == (*carton == "") {
		return fs.usageError("give one of --lot CODE or --carton SSCC")
	}
	if *format != "table" && *format != "json" {
		return fs.usageError("--format %q: give table or json", *format)
	}
	sscc := *carton
	v, err := onGateway(ctx, env, f, func(g *gateway.Gateway) (any, error) {
		if *lot != "" {
			return g.LotLabels(*lot, 0, 0)
		}
		return g.CartonLabels(sscc)
	}, func(c *apiClient) (any, error) {
		if *lot == "" {
			var recs []labels.Record
			return recs, c.do("GET", "/cartons/"+escape(sscc)+"/labels", nil, &recs)
		}
		var all []labels.Record
		var after uint64
		for {
			var page []labels.Record
			path := fmt.Sprintf("/lots/%s/labels?limit=%d&after=%d", escape(*lot), labelHistoryPage, after)
			if err := c.do("GET", path, nil, &page); err != nil {
				return nil, err
			}
			all = append(all, page...)
			if len(page) < labelHistoryPage {
				return all, nil
			}
			after = page[len(page)-1].Seq
		}
	})
	if err != nil {
		return err
	}
	recs, _ := v.([]labels.Record)
	if recs == nil {
		recs = []labels.Record{}
	}
	if *format == "json" {
		return printJSON(env, recs)
	}
	return labelTable(env.stdout, recs)
}

// labelTable writes records as a table, one line each, oldest first.
func labelTable(w io.Writer, recs []labels.Record) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tACTION\tJOB\tCARTON\tLOT\tTEMPLATE\tCOPIES\tBY\tREASON\tENCODE")
	for _, r := range recs {
		enc := "-"
		if r.Encode != nil {
			enc = r.Encode.Outcome
			if r.Encode.Voided > 0 {
				enc += " (" + strconv.Itoa(r.Encode.Voided) + " voided)"
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n", r.Time.UTC().Format(time.RFC3339), r.Action, r.Job,
			dash(r.Carton), dash(r.Lot), dash(r.Template), r.Copies, r.By, dash(oneLine(r.Reason)), enc)
	}
	if len(recs) == 0 {
		fmt.Fprintln(tw, "(no labels recorded)")
	}
	return tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
