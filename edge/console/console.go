package console

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/dockgate/dockgate/edge/lots"
	"github.com/dockgate/dockgate/edge/mqttpub"
	"github.com/dockgate/dockgate/edge/outbox"
	"github.com/dockgate/dockgate/edge/receiving"
	"github.com/dockgate/dockgate/edge/signals"
	"github.com/dockgate/dockgate/edge/store"
	"github.com/dockgate/dockgate/encoder/label"
	"github.com/dockgate/dockgate/printers"
	"github.com/dockgate/dockgate/printers/spool"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed assets
var assetFS embed.FS

// Door is a configured door as the console shows it.
type Door struct {
	ID      string
	Role    string
	Printer string // "" without one
	Reader  string // "" without one
}

// Printer is a printer's state: its configuration, queue and last status.
type Printer struct {
	ID, Profile, Target, Door string
	Queued                    int
	Status                    *printers.Status // nil before the first
}

// Reader is a reader's state.
type Reader struct {
	ID, Type, Address string
	// Known: the reader reported at least once; Connected: its last
	// report; Why: why it is not connected.
	Known, Connected bool
	Why              string
	AntennasDown     []uint16
	// GPI are the general purpose inputs the reader reported since it
	// connected (their state at connect, then their changes), by port.
	GPI []GPI
}

// GPI is a general purpose input of a reader as it last reported it.
type GPI struct {
	Port uint16
	High bool
	// Name says what is wired to it, when the configuration tells (the
	// reader's read trigger); "" otherwise.
	Name string
	Time time.Time
	// AtConnect: the state read when the reader connected (Time), not
	// changed since.
	AtConnect bool
}

// Health is what /healthz says.
type Health struct {
	OK                 bool
	Problems, Warnings []string
	Outbox             outbox.Stats
	Publisher          mqttpub.Stats
}

// Options are what the console shows and changes: the gateway's parts.
type Options struct {
	// Token is the API's token, "" on a loopback listener (api.Server.Token).
	Token string
	// Site, Gateway and Version name the gateway in the pages' header.
	Site, Gateway, Version string

	Store     *store.Store
	Stage     func(txn *badger.Txn, ev outbox.Event) error
	Receiving *receiving.Service
	Lots      *lots.Registry
	Spool     *spool.Spooler
	Doors     []Door
	Printers  func() []Printer
	Readers   func() []Reader
	// Lights are a door's signal rules and which are lit (nil without
	// door signals: the board shows no light stack).
	Lights func(door string) []signals.Light
	Health func() Health
	// Templates are the label templates a person may preview (and print).
	Templates func() []*label.Template
	// Preview renders a template with values for a printer's profile as a
	// PNG, the same rendering the printer's labels get.
	Preview func(template, printer string, vals map[string]string) ([]byte, error)
	// Reprint and Cancel act on a job for a person, with the reason they
	// gave.
	Reprint, Cancel func(ctx context.Context, job, reason, by string) error

	// Hub feeds the live updates (nil: a hub of the console's own, fed
	// by no one).
	Hub *Hub
	// SessionTTL is how long a login lasts (default 12 h, a shift).
	SessionTTL time.Duration
	// ClientBuffer is how many messages a live client may fall behind
	// before it is dropped (default 32).
	ClientBuffer int
	Now          func() time.Time
	Logger       *slog.Logger
}

// Console is the dock console's HTTP handler.
type Console struct {
	o     Options
	log   *slog.Logger
	hub   *Hub
	own   *http.ServeMux // paths of the console only
	html  *http.ServeMux // paths the API answers too, for a browser
	all   *http.ServeMux
	csrf  *http.CrossOriginProtection
	pages map[string]*template.Template
	key   []byte // session signing key

	mu      sync.Mutex
	clients map[string]map[*client]struct{} // by topic
	passes  map[string][]passSeen           // last passes by door, newest first
}

// New makes the console; Run feeds its live updates.
func New(o Options) (*Console, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.SessionTTL <= 0 {
		o.SessionTTL = 12 * time.Hour
	}
	if o.ClientBuffer <= 0 {
		o.ClientBuffer = 32
	}
	if o.Hub == nil {
		o.Hub = NewHub()
	}
	c := &Console{o: o, log: o.Logger, hub: o.Hub, own: http.NewServeMux(), html: http.NewServeMux(), all: http.NewServeMux(),
		csrf: http.NewCrossOriginProtection(), clients: map[string]map[*client]struct{}{}, passes: map[string][]passSeen{}}
	c.key = sessionKey(o.Token)
	var err error
	if c.pages, err = parseTemplates(); err != nil {
		return nil, err
	}
	c.routes()
	return c, nil
}

func (c *Console) routes() {
	own := func(pattern string, h http.HandlerFunc) {
		c.own.HandleFunc(pattern, h)
		c.all.HandleFunc(pattern, h)
	}
	html := func(pattern string, h http.HandlerFunc) {
		c.html.HandleFunc(pattern, h)
		c.all.HandleFunc(pattern, h)
	}
	own("GET /{$}", c.home)
	own("GET /doors/{id}", c.door)
	own("GET /doors/{id}/board", c.boardFragment)
	own("POST /doors/{id}/alerts/{alert}/ack", c.ack)
	own("GET /receive", c.receiveForm)
	own("GET /receive/parse", c.receiveParse)
	own("POST /receive", c.receive)
	html("GET /lots", c.lotsPage)
	html("GET /lots/{code}", c.lotPage)
	own("POST /lots/{code}/change", c.lotAction)
	own("GET /trace", c.tracePage)
	html("GET /printers", c.printersPage)
	own("GET /printers/{id}", c.printerPage)
	own("POST /printers/{id}/jobs/{job}", c.jobAction)
	own("GET /labels", c.labelsPage)
	own("GET /labels/image", c.labelImage)
	own("GET /health", c.healthPage)
	own("GET /events", c.events)
	own("GET /login", c.loginForm)
	own("POST /login", c.login)
	own("POST /logout", c.logout)
	own("GET /assets/{file}", c.asset)
}

// Claims reports whether a request is the console's: a path of its own,
// or, for a browser (Accept: text/html), a page the API answers with JSON
// otherwise (/lots, /lots/{code}, /printers).
func (c *Console) Claims(r *http.Request) bool {
	if _, pat := c.own.Handler(r); pat != "" {
		return true
	}
	if wantsHTML(r) {
		_, pat := c.html.Handler(r)
		return pat != ""
	}
	return false
}

// wantsHTML reports whether a request prefers HTML: a browser's
// navigation, not an API client (curl sends */*, fetch too).
func wantsHTML(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err == nil && (mt == "text/html" || mt == "application/xhtml+xml") {
			return true
		}
	}
	return false
}

// ServeHTTP serves a claimed request: authenticated, cross-site forms
// refused.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Referrer-Policy", "same-origin")
	w.Header().Set("X-Frame-Options", "DENY")
	if err := c.csrf.Check(r); err != nil {
		http.Error(w, "cross-site request refused: use the console's own pages", http.StatusForbidden)
		return
	}
	if p := r.URL.Path; p != "/login" && !strings.HasPrefix(p, "/assets/") {
		who, ok := c.authenticate(r)
		if !ok {
			c.refuse(w, r)
			return
		}
		r = r.WithContext(context.WithValue(r.Context(), whoKey{}, who))
	}
	c.all.ServeHTTP(w, r)
}

// asset serves an embedded asset; their names carry their version, so
// they may be cached for long.
func (c *Console) asset(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	b, err := fs.ReadFile(assetFS, "assets/"+name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	ct := mime.TypeByExtension(name[strings.LastIndexByte(name, '.'):])
	if strings.HasSuffix(name, ".LICENSE") {
		ct = "text/plain; charset=utf-8"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Cache-Control", "public, max-age=86400")
	_, _ = w.Write(b)
}

// page is what every page's layout needs.
type page struct {
	Title   string
	Nav     string // the nav entry that is current
	Who     string
	Login   bool // a token is asked for: show log out
	Site    string
	Gateway string
	Version string
	Board   bool // the door board's layout: large type, no chrome
	Topics  []string
	Flash   string
	Error   string
	Data    any
}

func (c *Console) newPage(r *http.Request, title, nav string, data any) *page {
	return &page{Title: title, Nav: nav, Who: who(r), Login: c.o.Token != "", Site: c.o.Site, Gateway: c.o.Gateway,
		Version: c.o.Version, Flash: r.URL.Query().Get("done"), Data: data}
}

func (c *Console) render(w http.ResponseWriter, code int, name string, p *page) {
	t := c.pages[name]
	if t == nil {
		http.Error(w, "no page "+name, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Vary", "Accept")
	var b strings.Builder
	if err := t.ExecuteTemplate(&b, "layout", p); err != nil {
		c.log.Error("console page not rendered", "page", name, "err", err)
		http.Error(w, "page not rendered: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.WriteHeader(code)
	_, _ = w.Write([]byte(b.String()))
}

// fragment renders one named template alone (an htmx swap).
func (c *Console) fragment(w http.ResponseWriter, code int, page, name string, data any) {
	var b strings.Builder
	if err := c.pages[page].ExecuteTemplate(&b, name, data); err != nil {
		c.log.Error("console fragment not rendered", "fragment", name, "err", err)
		http.Error(w, "not rendered: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_, _ = w.Write([]byte(b.String()))
}

// parseTemplates parses the layout with each page: every page is its own
// set, its "content" its own.
func parseTemplates() (map[string]*template.Template, error) {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	base := template.New("").Funcs(funcs)
	for _, n := range names {
		if strings.HasPrefix(n, "templates/_") {
			if _, err := base.ParseFS(templateFS, n); err != nil {
				return nil, err
			}
		}
	}
	out := map[string]*template.Template{}
	for _, n := range names {
		if strings.HasPrefix(n, "templates/_") {
			continue
		}
		t, err := base.Clone()
		if err != nil {
			return nil, err
		}
		if _, err := t.ParseFS(templateFS, n); err != nil {
			return nil, err
		}
		out[strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")] = t
	}
	return out, nil
}

var funcs = template.FuncMap{
	"time": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.Local().Format("2006-01-02 15:04:05")
	},
	"clock": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.Local().Format("15:04:05")
	},
	"join": strings.Join,
	// ports are a rule's output ports: "2", "2 + 3".
	"ports": func(ps signals.Ports) string {
		out := make([]string, len(ps))
		for i, p := range ps {
			out[i] = strconv.Itoa(int(p))
		}
		return strings.Join(out, " + ")
	},
	// secondsLeft is the whole seconds from at to until, rounded up.
	"secondsLeft": func(until, at time.Time) int {
		return int(max(0, until.Sub(at)+time.Second-1) / time.Second)
	},
	"add": func(a, b int) int { return a + b },
	"pct": func(n, of int) int {
		if of <= 0 {
			return 0
		}
		return min(100, n*100/of)
	},
}

// badRequest is an error a person can correct (shown with the form).
var errBadRequest = errors.New("bad request")

func badRequestf(format string, a ...any) error {
	return fmt.Errorf("%w: %s", errBadRequest, fmt.Sprintf(format, a...))
}

// statusOf is the HTTP status of an error of the gateway's parts, the one
// the API gives it.
func statusOf(err error) int {
	switch {
	case err == nil:
		return http.StatusOK
	case errors.Is(err, errBadRequest), errors.Is(err, receiving.ErrInvalid), errors.Is(err, receiving.ErrUnknownDoor),
		errors.Is(err, receiving.ErrInvalidTrace), errors.Is(err, lots.ErrInvalid), errors.Is(err, lots.ErrStatus),
		errors.Is(err, spool.ErrInvalidJob), errors.Is(err, spool.ErrUnknownPrint), errors.Is(err, label.ErrValue), errors.Is(err, label.ErrFit),
		errors.Is(err, label.ErrTemplate), errors.Is(err, label.ErrData), errors.Is(err, label.ErrProfile):
		return http.StatusBadRequest
	case errors.Is(err, receiving.ErrNotFound), errors.Is(err, lots.ErrNotFound), errors.Is(err, spool.ErrNotFound),
		errors.Is(err, errNoAlert):
		return http.StatusNotFound
	case errors.Is(err, receiving.ErrConflict), errors.Is(err, spool.ErrNotReprint), errors.Is(err, spool.ErrNotCancelable),
		errors.Is(err, spool.ErrInFlight), errors.Is(err, spool.ErrIDConflict):
		return http.StatusConflict
	case errors.Is(err, receiving.ErrExpired):
		return http.StatusUnprocessableEntity
	case errors.Is(err, receiving.ErrUnavailable), errors.Is(err, lots.ErrStoreFull), errors.Is(err, outbox.ErrStoreFull),
		errors.Is(err, spool.ErrEventNotStored):
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}
