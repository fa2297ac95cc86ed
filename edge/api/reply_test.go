package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

var (
	errMissing = errors.New("missing")
	errBad     = errors.New("bad")
)

var testStatuses = Statuses{
	{Err: errMissing, Code: http.StatusNotFound},
	{Err: errBad, Code: http.StatusBadRequest},
}

func TestStatusesReply(t *testing.T) {
	for _, tc := range []struct {
		name    string
		err     error
		created bool
		code    int
		body    string
	}{
		{name: "ok", code: http.StatusOK, body: `"thing"`},
		{name: "created", created: true, code: http.StatusCreated, body: `"thing"`},
		{name: "wrapped sentinel", err: fmt.Errorf("shipment S1: %w", errMissing), code: http.StatusNotFound, body: `"error": "shipment S1: missing"`},
		{name: "second sentinel", err: errBad, created: true, code: http.StatusBadRequest, body: `"error": "bad"`},
		{name: "no sentinel", err: errors.New("disk"), code: http.StatusInternalServerError, body: `"error": "disk"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			if tc.created {
				testStatuses.Created(w, "thing", tc.err)
			} else {
				testStatuses.Reply(w, "thing", tc.err)
			}
			if w.Code != tc.code || !strings.Contains(w.Body.String(), tc.body) {
				t.Errorf("got %d %s, want %d with %s", w.Code, w.Body, tc.code, tc.body)
			}
			if tc.err != nil && strings.Contains(w.Body.String(), "thing") {
				t.Errorf("an error's answer carries the value: %s", w.Body)
			}
		})
	}
}

func TestCreate(t *testing.T) {
	type request struct {
		Name string `json:"name"`
	}
	h := Create(testStatuses, func(_ context.Context, req request) (string, error) {
		if req.Name == "" {
			return "", fmt.Errorf("name: %w", errBad)
		}
		return "made " + req.Name, nil
	})
	for _, tc := range []struct {
		body string
		code int
		want string
	}{
		{`{"name":"a"}`, http.StatusCreated, `"made a"`},
		{`{}`, http.StatusBadRequest, `"error": "name: bad"`},
		{`{"nme":"a"}`, http.StatusBadRequest, `unknown field \"nme\"`},
	} {
		w := httptest.NewRecorder()
		h(w, httptest.NewRequest(http.MethodPost, "/things", strings.NewReader(tc.body)))
		if w.Code != tc.code || !strings.Contains(w.Body.String(), tc.want) {
			t.Errorf("%s: got %d %s, want %d with %s", tc.body, w.Code, w.Body, tc.code, tc.want)
		}
	}
}

func TestLookup(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /things/{id}", Lookup(testStatuses, "id", func(id string) ([]string, error) {
		if id != "a" {
			return nil, fmt.Errorf("thing %q: %w", id, errMissing)
		}
		return []string{"the thing a"}, nil
	}))
	for path, want := range map[string]string{"/things/a": `"the thing a"`, "/things/b": `"error": "thing \"b\": missing"`} {
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
		code := http.StatusOK
		if path == "/things/b" {
			code = http.StatusNotFound
		}
		if w.Code != code || !strings.Contains(w.Body.String(), want) {
			t.Errorf("%s: %d %s, want %d with %s", path, w.Code, w.Body, code, want)
		}
	}
}
