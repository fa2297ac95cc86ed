package api

import (
	"context"
	"errors"
	"net/http"
)

// Status pairs a package's sentinel error with the HTTP status that
// answers an error wrapping it.
type Status struct {
	Err  error
	Code int
}

// Statuses is a package's table of sentinel errors and their statuses, in
// the order they are tried.
type Statuses []Status

// Reply answers the outcome of a call: v with 200 when err is nil,
// otherwise err with the status of the first sentinel it wraps, 500 when it
// wraps none.
func (st Statuses) Reply(w http.ResponseWriter, v any, err error) {
	st.answer(w, http.StatusOK, v, err)
}

// Created is Reply for a call that created v: 201 when err is nil.
func (st Statuses) Created(w http.ResponseWriter, v any, err error) {
	st.answer(w, http.StatusCreated, v, err)
}

func (st Statuses) answer(w http.ResponseWriter, ok int, v any, err error) {
	if err == nil {
		JSON(w, ok, v)
		return
	}
	for _, s := range st {
		if errors.Is(err, s.Err) {
			Error(w, s.Code, err)
			return
		}
	}
	Error(w, http.StatusInternalServerError, err)
}

// Create is the handler of a POST that creates a thing from its JSON
// body: the body decoded strictly into a Req (DecodeBody answers a bad
// one), do called with it, and the thing answered with 201 or do's error
// by st.
func Create[Req, Res any](st Statuses, do func(ctx context.Context, req Req) (Res, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req Req
		if !DecodeBody(w, r, &req) {
			return
		}
		res, err := do(r.Context(), req)
		st.Created(w, res, err)
	}
}

// Lookup is the handler of a GET of one thing by the path value named
// param: get called with it, and its answer replied by st (Reply).
func Lookup[T any](st Statuses, param string, get func(string) (T, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v, err := get(r.PathValue(param))
		st.Reply(w, v, err)
	}
}
