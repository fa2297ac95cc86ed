package shipping

import (
	"bytes"
	"errors"
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
	a.Handle("POST /shipments", func(w http.ResponseWriter, r *http.Request) {
		var req Request
		if !api.DecodeBody(w, r, &req) {
			return
		}
		if req.Source == "" {
			req.Source = "http"
		}
		sh, err := s.Create(r.Context(), req)
		created(w, sh, err)
	})
	a.Handle("GET /shipments/{id}", func(w http.ResponseWriter, r *http.Request) {
		sh, err := s.Get(r.PathValue("id"))
		reply(w, sh, err)
	})
	a.Handle("GET /shipments/{id}/cartons", func(w http.ResponseWriter, r *http.Request) {
		c, err := s.Cartons(r.PathValue("id"))
		reply(w, c, err)
	})
	a.Handle("POST /shipments/{id}/close", func(w http.ResponseWriter, r *http.Request) {
		sh, err := s.Close(r.Context(), r.PathValue("id"))
		reply(w, sh, err)
	})
	a.Handle("POST /returns", func(w http.ResponseWriter, r *http.Request) {
		var req ReturnRequest
		if !api.DecodeBody(w, r, &req) {
			return
		}
		if req.Source == "" {
			req.Source = "http"
		}
		ret, err := s.Return(req)
		created(w, ret, err)
	})
	a.Handle("GET /returns/{id}", func(w http.ResponseWriter, r *http.Request) {
		ret, err := s.Returned(r.PathValue("id"))
		reply(w, ret, err)
	})
	a.Handle("POST /counts", func(w http.ResponseWriter, r *http.Request) {
		var req CountRequest
		if !api.DecodeBody(w, r, &req) {
			return
		}
		if req.Source == "" {
			req.Source = "http"
		}
		c, err := s.Count(r.Context(), req)
		created(w, c, err)
	})
	a.Handle("GET /counts/{id}", func(w http.ResponseWriter, r *http.Request) {
		c, err := s.Counted(r.PathValue("id"))
		reply(w, c, err)
	})
	a.Handle("GET /lots/{code}/recall-report", func(w http.ResponseWriter, r *http.Request) {
		rep, err := s.RecallReport(r.PathValue("code"))
		reply(w, rep, err)
	})
	a.Handle("GET /lots/{code}/stock", func(w http.ResponseWriter, r *http.Request) {
		st, err := s.StockOf(r.PathValue("code"))
		reply(w, st, err)
	})
	a.Handle("GET /trace/customer/{id}", func(w http.ResponseWriter, r *http.Request) {
		t, err := s.TraceCustomer(r.PathValue("id"))
		reply(w, t, err)
	})
	a.Handle("GET /trace/order/{id}", func(w http.ResponseWriter, r *http.Request) {
		t, err := s.TraceOrder(r.PathValue("id"))
		reply(w, t, err)
	})
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
		reply(w, nil, err)
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

func created(w http.ResponseWriter, v any, err error) {
	if err != nil {
		reply(w, nil, err)
		return
	}
	api.JSON(w, http.StatusCreated, v)
}

func reply(w http.ResponseWriter, v any, err error) {
	switch {
	case err == nil:
		api.JSON(w, http.StatusOK, v)
	case errors.Is(err, ErrNotFound):
		api.Error(w, http.StatusNotFound, err)
	case errors.Is(err, ErrInvalid), errors.Is(err, ErrUnknownDoor):
		api.Error(w, http.StatusBadRequest, err)
	case errors.Is(err, ErrConflict):
		api.Error(w, http.StatusConflict, err)
	case errors.Is(err, ErrUnavailable):
		api.Error(w, http.StatusServiceUnavailable, err)
	default:
		api.Error(w, http.StatusInternalServerError, err)
	}
}
