package shipping

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"net/http"

	"github.com/dockgate/dockgate/edge/api"
)

// Routes registers the shipping routes on the API:
//
//	POST /shipments                 body: Request → the Shipment (201)
//	GET  /shipments/{id}, GET /shipments/{id}/cartons
//	POST /shipments/{id}/close      what left, what is missing
//	POST /returns                   body: ReturnRequest → the Return (201); GET /returns/{id}
//	POST /counts                    body: CountRequest → the Count (201); GET /counts/{id}
//	GET  /lots/{code}/recall-report, GET /lots/{code}/stock
//	GET  /trace/customer/{id}, GET /trace/order/{id}
//	GET  /fsma204?from=YYYY-MM-DD&to=YYYY-MM-DD&lot=&format=csv|xlsx|json
func (s *Service) Routes(a *api.Server) {
	a.Handle("POST /shipments", api.Create(statuses, func(ctx context.Context, req Request) (*Shipment, error) {
		req.Source = cmp.Or(req.Source, "http")
		return s.Create(ctx, req)
	}))
	a.Handle("GET /shipments/{id}", api.Lookup(statuses, "id", s.Get))
	a.Handle("GET /shipments/{id}/cartons", api.Lookup(statuses, "id", s.Cartons))
	a.Handle("POST /shipments/{id}/close", func(w http.ResponseWriter, r *http.Request) {
		sh, err := s.Close(r.Context(), r.PathValue("id"))
		statuses.Reply(w, sh, err)
	})
	a.Handle("POST /returns", api.Create(statuses, func(_ context.Context, req ReturnRequest) (*Return, error) {
		req.Source = cmp.Or(req.Source, "http")
		return s.Return(req)
	}))
	a.Handle("GET /returns/{id}", api.Lookup(statuses, "id", s.Returned))
	a.Handle("POST /counts", api.Create(statuses, func(ctx context.Context, req CountRequest) (*Count, error) {
		req.Source = cmp.Or(req.Source, "http")
		return s.Count(ctx, req)
	}))
	a.Handle("GET /counts/{id}", api.Lookup(statuses, "id", s.Counted))
	a.Handle("GET /lots/{code}/recall-report", api.Lookup(statuses, "code", s.RecallReport))
	a.Handle("GET /lots/{code}/stock", api.Lookup(statuses, "code", s.StockOf))
	a.Handle("GET /trace/customer/{id}", api.Lookup(statuses, "id", s.TraceCustomer))
	a.Handle("GET /trace/order/{id}", api.Lookup(statuses, "id", s.TraceOrder))
	a.Handle("GET /fsma204", s.httpFSMA204)
}

// httpFSMA204 answers the export in the format asked for (csv by
// default), as an attachment.
func (s *Service) httpFSMA204(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	format := q.Get("format")
	if format == "" {
		format = "csv"
	}
	ctype, ok := FSMAFormats[format]
	if !ok {
		api.Error(w, http.StatusBadRequest, invalid("format: %q: use csv, xlsx or json", format))
		return
	}
	for k := range q {
		switch k {
		case "from", "to", "lot", "format":
		default:
			api.Error(w, http.StatusBadRequest, invalid("%s: not a parameter of the export (from, to, lot, format)", k))
			return
		}
	}
	rows, err := s.FSMA204(FSMAQuery{From: q.Get("from"), To: q.Get("to"), Lot: q.Get("lot")})
	if err != nil {
		statuses.Reply(w, nil, err)
		return
	}
	var buf bytes.Buffer
	if err := WriteFSMA(&buf, format, rows); err != nil {
		api.Error(w, http.StatusInternalServerError, err)
		return
	}
	w.Header().Set("Content-Type", ctype)
	if format != "json" {
		w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="fsma204-%s-%s.%s"`, q.Get("from"), q.Get("to"), format))
	}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf.Bytes())
}

// statuses answers the package's errors over HTTP.
var statuses = api.Statuses{
	{Err: ErrNotFound, Code: http.StatusNotFound},
	{Err: ErrInvalid, Code: http.StatusBadRequest},
	{Err: ErrUnknownDoor, Code: http.StatusBadRequest},
	{Err: ErrConflict, Code: http.StatusConflict},
	{Err: ErrUnavailable, Code: http.StatusServiceUnavailable},
}
