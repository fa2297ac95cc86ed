package api

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHealthAndMetrics(t *testing.T) {
	s := New("", nil, func() (bool, any) { return true, map[string]string{"store": "ok"} })
	if err := s.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	for _, path := range []string{"/healthz", "/metrics"} {
		resp, err := http.Get("http://" + s.Addr() + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, b)
		}
		if path == "/metrics" && !strings.Contains(string(b), "go_goroutines") {
			t.Fatalf("metrics lack go_goroutines")
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestTokenRequiredOffLoopback(t *testing.T) {
	s := New("", nil, nil)
	if err := s.Listen("0.0.0.0:0"); !errors.Is(err, ErrTokenRequired) {
		t.Fatalf("got %v", err)
	}
	s = New("tok", nil, nil)
	s.Handle("GET /lots", func(w http.ResponseWriter, r *http.Request) { JSON(w, 200, []string{}) })
	h := s.Handler()
	for _, tc := range []struct {
		path, auth string
		code       int
	}{
		{"/lots", "", 401}, {"/lots", "Bearer nope", 401}, {"/lots", "Bearer tok", 200}, {"/healthz", "", 200},
	} {
		r := httptest.NewRequest("GET", tc.path, nil)
		if tc.auth != "" {
			r.Header.Set("Authorization", tc.auth)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != tc.code {
			t.Errorf("%s %q: %d, want %d", tc.path, tc.auth, w.Code, tc.code)
		}
	}
}

// A request knows who made it: the token's name where the token is asked
// for, local on a loopback API; a context from elsewhere knows no one.
func TestCaller(t *testing.T) {
	var got string
	who := func(w http.ResponseWriter, r *http.Request) {
		name, ok := Caller(r.Context())
		if !ok {
			name = "(none)"
		}
		got = name
	}
	for _, tc := range []struct{ token, name, want string }{
		{"", "", CallerLocal},
		{"s3cret", "", CallerToken},
		{"s3cret", "wms-central", "wms-central"},
	} {
		s := New(tc.token, nil, nil)
		s.SetTokenName(tc.name)
		s.Handle("GET /who", who)
		r := httptest.NewRequest("GET", "/who", nil)
		r.Header.Set("Authorization", "Bearer s3cret")
		got = ""
		s.Handler().ServeHTTP(httptest.NewRecorder(), r)
		if got != tc.want {
			t.Errorf("token %q named %q: caller %q, want %q", tc.token, tc.name, got, tc.want)
		}
	}
	if _, ok := Caller(context.Background()); ok {
		t.Error("a context from outside the API has a caller")
	}
}
