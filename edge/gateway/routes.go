package gateway

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/dockgate/dockgate/edge/api"
	"github.com/dockgate/dockgate/edge/lots"
	"github.com/dockgate/dockgate/edge/outbox"
	"github.com/dockgate/dockgate/encoder/lot"
)

// routes registers the gateway's HTTP API:
//
//	POST /receipts, GET /receipts/{id}, POST /receipts/{id}/close, GET /receipts/{id}/reconcile
//	GET  /trace/lot/{code}, /trace/epc/{epc}, /trace/sscc/{sscc}
//	shipments, returns, counts, recall reports, FSMA 204: see shipping.Service.Routes
//	GET  /lots?product=&supplier=&status=&from=&to=&order=fefo|fifo&limit=
//	POST /lots (issue: lots.Request; "id" makes a retry return the same lot), POST /lots/register (a supplier's lot: lots.Request with code)
//	GET  /lots/{code}, POST /lots/{code}/hold|recall {"reason","by"}, POST /lots/{code}/release
//	GET  /lots-expiring?days=N
//	GET  /printers, GET /printers/{id}/jobs?state=&limit=&after=, GET /jobs/{id}, POST /jobs/{id}/reprint|cancel {"reason"}, POST /print
//	GET  /lots/{code}/labels?after=&limit=, GET /cartons/{sscc}/labels, GET /jobs/{id}/labels, GET /lots/{code}/reconcile (labels.go)
//	GET  /readers, POST /readers/{id}/rf (RF settings over those in force; reader_rf.go)
//	GET  /doors/{id}/lights (the door's light stack; signals.go)
//	GET  /labels/preview?template=&profile=&qty=&KEY=VALUE… (PNG)
//	GET  /outbox, GET /outbox/quarantined?max=N, POST /outbox/quarantined/{seq}/requeue
//	GET  /healthz, /metrics
func (g *Gateway) routes() {
	a := g.api
	a.Handle("GET /outbox", func(w http.ResponseWriter, _ *http.Request) { api.JSON(w, http.StatusOK, g.ob.Stats()) })
	a.Handle("GET /outbox/quarantined", func(w http.ResponseWriter, r *http.Request) {
		max := 100
		if v := r.URL.Query().Get("max"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				api.Error(w, http.StatusBadRequest, fmt.Errorf("max %q: give a positive number of events", v))
				return
			}
			max = n
		}
		q, err := g.ob.Quarantined(max)
		if err != nil {
			api.Error(w, http.StatusInternalServerError, err)
			return
		}
		if q == nil {
			q = []outbox.Quarantined{} // [] rather than null
		}
		api.JSON(w, http.StatusOK, q)
	})
	a.Handle("POST /outbox/quarantined/{seq}/requeue", func(w http.ResponseWriter, r *http.Request) {
		seq, err := strconv.ParseUint(r.PathValue("seq"), 10, 64)
		if err != nil || seq == 0 {
			api.Error(w, http.StatusBadRequest, fmt.Errorf("sequence number %q is not a positive integer", r.PathValue("seq")))
			return
		}
		switch err := g.ob.Requeue(r.Context(), seq); {
		case errors.Is(err, outbox.ErrNotQuarantined):
			api.Error(w, http.StatusNotFound, fmt.Errorf("event %d: %w (see GET /outbox/quarantined)", seq, err))
		case err != nil:
			api.Error(w, http.StatusInternalServerError, err)
		default:
			api.JSON(w, http.StatusOK, map[string]uint64{"requeued": seq})
		}
	})
	g.recv.Routes(a)
	g.ship.Routes(a)
	a.Handle("GET /lots", g.httpListLots)
	a.Handle("POST /lots", func(w http.ResponseWriter, r *http.Request) {
		req, d, ok := lotRequest(w, r)
		if !ok {
			return
		}
		if req.Code != "" {
			api.Error(w, http.StatusBadRequest, errors.New("code: an issued lot gets its code from the format; to keep a supplier's lot, POST /lots/register"))
			return
		}
		l, err := g.lots.Issue(r.Context(), lots.IssueRequest{Format: req.Format, Brand: req.Brand, ID: req.ID, Details: d})
		lotReply(w, l, err)
	})
	a.Handle("POST /lots/register", func(w http.ResponseWriter, r *http.Request) {
		req, d, ok := lotRequest(w, r)
		if !ok {
			return
		}
		if req.Format != "" || req.Brand != "" || req.ID != "" {
			api.Error(w, http.StatusBadRequest, errors.New("format, brand, id: a registered lot keeps the supplier's code (registering it again returns it); to generate one, POST /lots"))
			return
		}
		l, err := g.lots.Register(r.Context(), req.Code, d)
		lotReply(w, l, err)
	})
	a.Handle("GET /lots/{code}", func(w http.ResponseWriter, r *http.Request) {
		l, err := g.lots.Get(r.PathValue("code"))
		lotReply(w, l, err)
	})
	for _, action := range []string{"hold", "recall"} {
		a.Handle("POST /lots/{code}/"+action, func(w http.ResponseWriter, r *http.Request) {
			var body struct {
				Reason string `json:"reason"`
				By     string `json:"by"`
			}
			if !api.DecodeBody(w, r, &body) {
				return
			}
			if body.By == "" {
				body.By = "http"
			}
			change := g.lots.Hold
			if action == "recall" {
				change = g.lots.Recall
			}
			l, err := change(r.Context(), r.PathValue("code"), body.Reason, body.By)
			lotReply(w, l, err)
		})
	}
	a.Handle("POST /lots/{code}/release", func(w http.ResponseWriter, r *http.Request) {
		l, err := g.lots.Release(r.Context(), r.PathValue("code"), "http")
		lotReply(w, l, err)
	})
	a.Handle("GET /lots-expiring", func(w http.ResponseWriter, r *http.Request) {
		days, err := strconv.Atoi(r.URL.Query().Get("days"))
		if err != nil || days < 0 {
			api.Error(w, http.StatusBadRequest, errors.New("days: give a whole number of days, e.g. ?days=30"))
			return
		}
		l, err := g.lots.Expiring(r.Context(), days)
		lotReply(w, l, err)
	})
	a.Handle("GET /readers", func(w http.ResponseWriter, _ *http.Request) {
		g.readerMu.Lock()
		defer g.readerMu.Unlock()
		out := []map[string]any{}
		for _, rc := range g.cfg.Readers {
			m := map[string]any{"id": rc.ID, "type": rc.Type, "address": rc.Address, "status": g.readerStatus[rc.ID]}
			if _, rd, _ := g.reader(rc.ID); rd != nil {
				if f := rfSettings(rd); f != nil {
					m["rf_settings"] = f
				}
			}
			out = append(out, m)
		}
		var stats any
		if g.eng != nil {
			stats = g.eng.Stats()
		}
		api.JSON(w, http.StatusOK, map[string]any{"readers": out, "portal": stats, "portal_events_dropped": g.portalDropped.Load()})
	})
	a.Handle("POST /readers/{id}/rf", g.httpReaderRF)
	a.Handle("GET /doors/{id}/lights", g.httpDoorLights)
	g.printing.routes(a)
	g.labelRoutes(a)
}

func (g *Gateway) httpListLots(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	lq := lots.Query{Product: q.Get("product"), Supplier: q.Get("supplier"), Order: lots.Order(q.Get("order"))}
	if s := q.Get("status"); s != "" {
		st, err := lots.ParseStatus(s)
		if err != nil {
			api.Error(w, http.StatusBadRequest, err)
			return
		}
		lq.Status = st
	}
	for _, d := range []struct {
		name string
		dst  *time.Time
	}{{"from", &lq.From}, {"to", &lq.To}} {
		if v := q.Get(d.name); v != "" {
			t, err := time.Parse("2006-01-02", v)
			if err != nil {
				api.Error(w, http.StatusBadRequest, fmt.Errorf("%s: %q is not a date YYYY-MM-DD", d.name, v))
				return
			}
			*d.dst = t
		}
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			api.Error(w, http.StatusBadRequest, fmt.Errorf("limit: %q is not a count", v))
			return
		}
		lq.Limit = n
	}
	l, err := g.lots.List(r.Context(), lq)
	lotReply(w, l, err)
}

func lotReply(w http.ResponseWriter, v any, err error) {
	switch {
	case err == nil:
		api.JSON(w, http.StatusOK, v)
	case errors.Is(err, lots.ErrNotFound):
		api.Error(w, http.StatusNotFound, err)
	case errors.Is(err, lots.ErrStoreFull):
		api.Error(w, http.StatusServiceUnavailable, err) // nothing changed: retry later
	case errors.Is(err, lots.ErrExhausted), errors.Is(err, lot.ErrSeqRange):
		api.Error(w, http.StatusConflict, err) // the format's sequence is used up for its period
	case isClientError(err):
		api.Error(w, http.StatusBadRequest, err)
	default:
		api.Error(w, http.StatusInternalServerError, err)
	}
}

// lotRequest decodes the body of POST /lots and /lots/register; on an
// error it answers (400, or 413 for a body too large) and returns false.
func lotRequest(w http.ResponseWriter, r *http.Request) (lots.Request, lots.Details, bool) {
	var req lots.Request
	if !api.DecodeBody(w, r, &req) {
		return req, lots.Details{}, false
	}
	if req.By == "" {
		req.By = "http"
	}
	d, err := req.Details()
	if err != nil {
		api.Error(w, http.StatusBadRequest, err)
		return req, d, false
	}
	return req, d, true
}

// isClientError reports whether err is the caller's mistake (HTTP 400).
func isClientError(err error) bool {
	return errors.Is(err, lots.ErrInvalid) || errors.Is(err, lots.ErrStatus) || errors.Is(err, lots.ErrExists) ||
		// a format named or written in the request, a value its tokens refuse
		errors.Is(err, lot.ErrConfig) || errors.Is(err, lot.ErrFormat) || errors.Is(err, lot.ErrValue) ||
		errors.Is(err, lot.ErrCharset) || errors.Is(err, lot.ErrTooLong)
}
