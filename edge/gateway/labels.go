package gateway

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/dgraph-io/badger/v4"

	"github.com/dockgate/dockgate/edge/api"
	"github.com/dockgate/dockgate/edge/labels"
	"github.com/dockgate/dockgate/edge/lots"
	"github.com/dockgate/dockgate/edge/outbox"
	"github.com/dockgate/dockgate/edge/receiving"
	"github.com/dockgate/dockgate/printers"
)

// The label audit trail: records staged with the job events that make
// them (StageJobEvent), its routes, and what it adds to traces.

type actorKey struct{}

// WithActor marks ctx as a request of a: the jobs it spools (a receipt's
// labels, a print) name a as who asked for them in the label audit trail.
func WithActor(ctx context.Context, a printers.Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// actorOf is who ctx's request comes from: WithActor's, the HTTP API's
// caller, or the gateway itself (a receipt finished at start).
func actorOf(ctx context.Context) printers.Actor {
	if a, ok := ctx.Value(actorKey{}).(printers.Actor); ok {
		return a
	}
	if name, ok := api.Caller(ctx); ok {
		return printers.Actor{Via: printers.ViaAPI, Name: name}
	}
	return printers.Actor{Via: printers.ViaGateway}
}

// stageLabels appends the audit records a job event makes (none for most)
// and stages their label.* events in txn, the transaction that changes the
// job: the change, its records and their events commit together.
func (p *printing) stageLabels(txn *badger.Txn, e printers.Event) error {
	for _, r := range labels.FromEvent(e) {
		r.ID = outbox.NewID()
		if r.EPC == "" && r.Carton != "" && p.rfid(r.Printer) && p.g.recv != nil {
			// The tag the label writes: the carton's EPC, as recorded
			// at receiving.
			if c, err := p.g.recv.Carton(r.Carton); err == nil {
				r.EPC = c.EPC
			}
		}
		if err := p.trail.Append(txn, &r); err != nil {
			return err
		}
		typ := r.Action.EventType()
		if err := p.g.stage(txn, outbox.Event{ID: r.ID, Type: typ, Time: r.Time, Source: "printer/" + r.Printer,
			Priority: outbox.PriorityLot}, r); err != nil {
			return err
		}
		if r.Lot != "" {
			if err := receiving.RecordEventIn(txn, r.Lot, receiving.EventRef{EventID: r.ID, Type: typ, Time: r.Time, Subject: r.Job}); err != nil {
				return err
			}
		}
	}
	return nil
}

// rfid reports whether a printer writes tags (its profile encodes RFID).
func (p *printing) rfid(printer string) bool {
	prof := p.profile[printer]
	return prof != nil && prof.RFID.Supported
}

// The trail is what traces show of labels.
var _ receiving.TraceLabels = (*printing)(nil)

// Reconcile is a lot trace's reconciliation.
func (p *printing) Reconcile(t *receiving.LotTrace) (any, error) {
	return p.reconcile(t.Lot, "", t.Cartons)
}

// CartonLabels is a carton's label records, for its trace.
func (p *printing) CartonLabels(sscc string) (any, error) { return p.trail.Carton(sscc) }

// reconcile compares cartons with the trail; receipt "" is the whole lot.
func (p *printing) reconcile(lot, receipt string, cartons []receiving.CartonTrace) (*labels.Reconciliation, error) {
	recs, err := p.trail.LotCartons(lot)
	if err != nil {
		return nil, err
	}
	facts := make([]labels.CartonFacts, 0, len(cartons))
	for _, c := range cartons {
		if receipt != "" && c.Receipt != receipt {
			continue
		}
		facts = append(facts, labels.CartonFacts{SSCC: c.SSCC, EPC: c.EPC, Receipt: c.Receipt, Job: c.Job,
			JobState: c.JobState, Passes: len(c.Passes)})
	}
	return labels.Reconcile(lot, receipt, facts, recs), nil
}

// ReconcileReceipt reconciles one receipt's cartons.
func (g *Gateway) ReconcileReceipt(id string) (*labels.Reconciliation, error) {
	rc, err := g.recv.Receipt(id)
	if err != nil {
		return nil, err
	}
	cartons, err := g.recv.CartonTraces(rc.Lot)
	if err != nil {
		return nil, err
	}
	return g.printing.reconcile(rc.Lot, rc.ID, cartons)
}

// ReconcileLot reconciles every carton of a lot, with a summary per
// receipt.
func (g *Gateway) ReconcileLot(lot string) (*labels.Reconciliation, error) {
	cartons, err := g.recv.CartonTraces(lot)
	if err != nil {
		return nil, err
	}
	if len(cartons) == 0 {
		if _, err := g.lots.Get(lot); errors.Is(err, lots.ErrNotFound) {
			return nil, fmt.Errorf("lot %q: %w", lot, receiving.ErrNotFound)
		}
	}
	return g.printing.reconcile(lot, "", cartons)
}

// LabelTrail is the label audit trail.
func (g *Gateway) LabelTrail() *labels.Trail { return g.printing.trail }

// LotLabels is the label history of a lot: up to limit records (0: all)
// after the sequence number after. A lot neither registered nor labelled
// is an error wrapping receiving.ErrNotFound.
func (g *Gateway) LotLabels(lot string, after uint64, limit int) ([]labels.Record, error) {
	recs, err := g.printing.trail.Lot(lot, after, limit)
	if err != nil || len(recs) > 0 || after > 0 {
		return recs, err
	}
	if _, err := g.lots.Get(lot); errors.Is(err, lots.ErrNotFound) {
		return nil, fmt.Errorf("lot %q: no such lot and no labels printed for it: %w", lot, receiving.ErrNotFound)
	}
	return recs, nil
}

// CartonLabels is the label history of a carton by its SSCC, with or
// without (00). A carton neither received nor labelled is an error
// wrapping receiving.ErrNotFound.
func (g *Gateway) CartonLabels(sscc string) ([]labels.Record, error) {
	sscc = strings.TrimPrefix(sscc, "(00)")
	if len(sscc) == 20 && strings.HasPrefix(sscc, "00") {
		sscc = sscc[2:]
	}
	recs, err := g.printing.trail.Carton(sscc)
	if err != nil || len(recs) > 0 {
		return recs, err
	}
	if _, err := g.recv.Carton(sscc); err != nil {
		return nil, fmt.Errorf("carton %s: not received here and no labels printed for it: %w", sscc, receiving.ErrNotFound)
	}
	return recs, nil
}

// maxLabelsPage bounds one page of GET /lots/{code}/labels.
const maxLabelsPage = 10000

// labelRoutes registers the audit trail's routes:
//
//	GET /lots/{code}/labels?after=SEQ&limit=N   a lot's label history (Link: rel="next" when cut off)
//	GET /cartons/{sscc}/labels, GET /jobs/{id}/labels
//	GET /lots/{code}/reconcile, GET /receipts/{id}/reconcile
func (g *Gateway) labelRoutes(a *api.Server) {
	a.Handle("GET /lots/{code}/labels", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		limit := 1000
		if v := q.Get("limit"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > maxLabelsPage {
				api.Error(w, http.StatusBadRequest, fmt.Errorf("limit %q: give 1 to %d records; page on with the Link header's next URL", v, maxLabelsPage))
				return
			}
			limit = n
		}
		var after uint64
		if v := q.Get("after"); v != "" {
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				api.Error(w, http.StatusBadRequest, fmt.Errorf("after %q: give the seq of the last record of the previous page", v))
				return
			}
			after = n
		}
		lot := r.PathValue("code")
		recs, err := g.LotLabels(lot, after, limit+1)
		if err != nil {
			labelStatuses.Reply(w, nil, err)
			return
		}
		if len(recs) > limit {
			recs = recs[:limit]
			next := url.Values{"after": {strconv.FormatUint(recs[limit-1].Seq, 10)}, "limit": {strconv.Itoa(limit)}}
			w.Header().Set("Link", fmt.Sprintf(`</lots/%s/labels?%s>; rel="next"`, url.PathEscape(lot), next.Encode()))
		}
		api.JSON(w, http.StatusOK, recs)
	})
	a.Handle("GET /cartons/{sscc}/labels", api.Lookup(labelStatuses, "sscc", g.CartonLabels))
	a.Handle("GET /jobs/{id}/labels", func(w http.ResponseWriter, r *http.Request) {
		id := localID(r.PathValue("id"), maxJobID)
		if _, err := g.printing.spool.Get(id); err != nil {
			if recs, terr := g.printing.trail.Job(id); terr != nil || len(recs) == 0 {
				spoolReply(w, nil, err) // a pruned job keeps its records
				return
			}
		}
		recs, err := g.printing.trail.Job(id)
		labelStatuses.Reply(w, recs, err)
	})
	a.Handle("GET /lots/{code}/reconcile", api.Lookup(labelStatuses, "code", g.ReconcileLot))
	a.Handle("GET /receipts/{id}/reconcile", api.Lookup(labelStatuses, "id", g.ReconcileReceipt))
}

// labelStatuses answers the audit trail's errors over HTTP.
var labelStatuses = api.Statuses{{Err: receiving.ErrNotFound, Code: http.StatusNotFound}}
