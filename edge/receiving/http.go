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
	a.Handle("GET /receipts/{id}", func(w http.ResponseWriter, r *http.Request) {
		rc, err := s.Receipt(r.PathValue("id"))
		reply(w, rc, err)
	})
	a.Handle("POST /receipts/{id}/close", func(w http.ResponseWriter, r *http.Request) {
		rc, err := s.Close(r.Context(), r.PathValue("id"))
		reply(w, rc, err)
	})
	a.Handle("GET /trace/lot/{code}", func(w http.ResponseWriter, r *http.Request) {
		t, err := s.TraceLot(r.PathValue("code"))
		reply(w, t, err)
	})
	a.Handle("GET /trace/epc/{epc}", func(w http.ResponseWriter, r *http.Request) {
		t, err := s.TraceEPC(r.PathValue("epc"))
		reply(w, t, err)
	})
	a.Handle("GET /trace/sscc/{sscc}", func(w http.ResponseWriter, r *http.Request) {
		t, err := s.TraceSSCC(r.PathValue("sscc"))
		reply(w, t, err)
	})
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

func reply(w http.ResponseWriter, v any, err error) { statuses.Reply(w, v, err) }
