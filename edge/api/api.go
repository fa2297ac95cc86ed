// Package api is the gateway's local HTTP API: health, Prometheus metrics,
// and the routes the gateway's parts register (receipts, lots, trace,
// printers, readers, label previews).
//
// It listens on loopback by default. On any other address every request
// needs the bearer token (Authorization: Bearer <token>); /healthz stays open
// so a supervisor can probe it.
package api

import (
	"cmp"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/dockgate/dockgate/edge/broker"
)

// ErrTokenRequired: a non-loopback listener was configured without a token.
var ErrTokenRequired = errors.New("the HTTP API needs a token on a non-loopback address")

// Server is the local HTTP API.
type Server struct {
	mux   *http.ServeMux
	token string
	// tokenName is who a request with the token is (Caller).
	tokenName string
	log       *slog.Logger
	Registry  *prometheus.Registry
	health    func() (ok bool, detail any)
	ln        net.Listener
	srv       *http.Server
	pages     Pages
}

// Pages are web pages served beside the API on its listener (the dock
// console). A request they claim is theirs: it does not pass the API's
// bearer check, and they authenticate it themselves by the same rule
// (Token). Every other request is the API's.
type Pages interface {
	http.Handler
	Claims(r *http.Request) bool
}

// Mount serves p beside the API.
func (s *Server) Mount(p Pages) { s.pages = p }

// Token is the token every request must carry: "" on a loopback listener
// (after Listen), where none is asked for.
func (s *Server) Token() string { return s.token }

// New makes a server with /healthz and /metrics. health reports readiness
// and a JSON-able detail; nil means always healthy.
func New(token string, log *slog.Logger, health func() (bool, any)) *Server {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	s := &Server{mux: http.NewServeMux(), token: token, log: log, Registry: reg, health: health}
	s.mux.HandleFunc("GET /healthz", s.healthz)
	s.mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	return s
}

// SetTokenName names the token's holder (http.token_name), as Caller
// reports requests made with it; "" is "token".
func (s *Server) SetTokenName(name string) { s.tokenName = name }

// Callers of a request without a name of their own.
const (
	// CallerLocal: a request on a loopback API, where no token is asked for.
	CallerLocal = "local"
	// CallerToken: a request with the token when it has no name.
	CallerToken = "token"
)

type callerKey struct{}

// Caller is who made the request whose context ctx is, as the label audit
// trail names them: the token's name (SetTokenName) on an API that asks
// for the token, CallerLocal on one that does not (loopback). It is false
// for a context that did not come through the API.
func Caller(ctx context.Context) (string, bool) {
	name, ok := ctx.Value(callerKey{}).(string)
	return name, ok
}

// Handle registers a route (Go 1.22 pattern syntax, e.g. "GET /lots/{code}").
func (s *Server) Handle(pattern string, h http.HandlerFunc) { s.mux.HandleFunc(pattern, h) }

// Listen binds addr. A non-loopback address without a token is refused.
func (s *Server) Listen(addr string) error {
	if !broker.IsLoopback(addr) && s.token == "" {
		return fmt.Errorf("http listen %s: %w (set http.token_file, or listen on 127.0.0.1)", addr, ErrTokenRequired)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("http API: %w", err)
	}
	s.ln = ln
	if broker.IsLoopback(addr) {
		// Loopback: local processes are trusted, as with Mosquitto 2's
		// default listener; no token is asked for.
		s.token = ""
	}
	return nil
}

// Addr is the bound address.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Handler is the whole API with authentication, and the pages mounted
// beside it.
func (s *Server) Handler() http.Handler {
	api := s.auth(s.mux)
	if s.pages == nil {
		return api
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.pages.Claims(r) {
			s.pages.ServeHTTP(w, r)
			return
		}
		api.ServeHTTP(w, r)
	})
}

// Run serves until ctx ends, then shuts down gracefully.
func (s *Server) Run(ctx context.Context) error {
	s.srv = &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- s.srv.Serve(s.ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.srv.Shutdown(sctx)
		<-errc
		return nil
	}
}

func (s *Server) auth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.token != "" && r.URL.Path != "/healthz" {
			got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(s.token)) != 1 {
				w.Header().Set("WWW-Authenticate", `Bearer realm="dockgate"`)
				Error(w, http.StatusUnauthorized, errors.New("missing or wrong bearer token"))
				return
			}
		}
		caller := CallerLocal
		if s.token != "" {
			caller = cmp.Or(s.tokenName, CallerToken)
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), callerKey{}, caller)))
	})
}

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	ok, detail := true, any(nil)
	if s.health != nil {
		ok, detail = s.health()
	}
	code := http.StatusOK
	if !ok {
		code = http.StatusServiceUnavailable
	}
	JSON(w, code, map[string]any{"ok": ok, "detail": detail})
}

// JSON writes v as the response.
func JSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// Error writes {"error": "..."}.
func Error(w http.ResponseWriter, code int, err error) {
	JSON(w, code, map[string]string{"error": err.Error()})
}
