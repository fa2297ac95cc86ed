package receiving

import (
	"errors"
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
	a.Handle("POST /receipts", s.httpReceive)
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

func (s *Service) httpReceive(w http.ResponseWriter, r *http.Request) {
	var req Request
	if !api.DecodeBody(w, r, &req) {
		return
	}
	if req.Source == "" {
		req.Source = "http"
	}
	rc, err := s.Receive(r.Context(), req)
	if err != nil {
		reply(w, nil, err)
		return
	}
	api.JSON(w, http.StatusCreated, rc)
}

func reply(w http.ResponseWriter, v any, err error) {
	switch {
	case err == nil:
		api.JSON(w, http.StatusOK, v)
	case errors.Is(err, ErrNotFound):
		api.Error(w, http.StatusNotFound, err)
	case errors.Is(err, ErrInvalid), errors.Is(err, ErrUnknownDoor), errors.Is(err, ErrInvalidTrace):
		api.Error(w, http.StatusBadRequest, err)
	case errors.Is(err, ErrConflict):
		api.Error(w, http.StatusConflict, err)
	case errors.Is(err, ErrExpired):
		api.Error(w, http.StatusUnprocessableEntity, err)
	case errors.Is(err, ErrUnavailable):
		api.Error(w, http.StatusServiceUnavailable, err)
	default:
		api.Error(w, http.StatusInternalServerError, err)
	}
}
