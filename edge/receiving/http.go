package receiving

import (
	"cmp"
	"context"
	"net/http"

	"github.com/dockgate/dockgate/edge/api"
)

// Routes registers the receiving and trace routes on the API:
//
//	POST /receipts                  body: Request → the Receipt (201)
//	GET  /receipts/{id}
//	POST /receipts/{id}/close       names the missing cartons
//	GET  /trace/lot/{code}          forward trace
//	GET  /trace/epc/{epc}           backward trace from a tag (hex or URI)
//	GET  /trace/sscc/{sscc}         backward trace from a carton
func (s *Service) Routes(a *api.Server) {
	a.Handle("POST /receipts", api.Create(statuses, func(ctx context.Context, req Request) (*Receipt, error) {
		req.Source = cmp.Or(req.Source, "http")
		return s.Receive(ctx, req)
	}))
	a.Handle("GET /receipts/{id}", api.Lookup(statuses, "id", s.Receipt))
	a.Handle("POST /receipts/{id}/close", func(w http.ResponseWriter, r *http.Request) {
		rc, err := s.Close(r.Context(), r.PathValue("id"))
		statuses.Reply(w, rc, err)
	})
	a.Handle("GET /trace/lot/{code}", api.Lookup(statuses, "code", s.TraceLot))
	a.Handle("GET /trace/epc/{epc}", api.Lookup(statuses, "epc", s.TraceEPC))
	a.Handle("GET /trace/sscc/{sscc}", api.Lookup(statuses, "sscc", s.TraceSSCC))
}

// statuses answers the package's errors over HTTP.
var statuses = api.Statuses{
	{Err: ErrNotFound, Code: http.StatusNotFound},
	{Err: ErrInvalid, Code: http.StatusBadRequest},
	{Err: ErrUnknownDoor, Code: http.StatusBadRequest},
	{Err: ErrInvalidTrace, Code: http.StatusBadRequest},
	{Err: ErrConflict, Code: http.StatusConflict},
	{Err: ErrExpired, Code: http.StatusUnprocessableEntity},
	{Err: ErrUnavailable, Code: http.StatusServiceUnavailable},
}
