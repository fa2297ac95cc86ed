package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/dockgate/dockgate/edge/config"
	"github.com/dockgate/dockgate/edge/gateway"
	"github.com/dockgate/dockgate/edge/lots"
	"github.com/dockgate/dockgate/edge/store"
	"github.com/dockgate/dockgate/encoder/lot"
)

// lotSubcommands are the "dockgate lot" subcommands.
var lotSubcommands = map[string]func(context.Context, *cliEnv, []string) error{
	"new":      lotNew,
	"register": lotRegister,
	"decode":   lotDecode,
	"show":     lotShow,
	"list":     lotList,
	"hold":     lotHold,
	"release":  lotRelease,
	"recall":   lotRecall,
	"expiring": lotExpiring,
}

func init() {
	subs := map[string]func(context.Context, *cliEnv, []string) error{}
	for n, f := range lotSubcommands {
		subs[n] = func(ctx context.Context, env *cliEnv, args []string) error { return lotCLIError(f(ctx, env, args)) }
	}
	register(&command{name: "lot", summary: "lot codes and the lot registry: lot new|register|decode|show|list|hold|release|recall|expiring", subs: subs})
}

// lotSynopsis is each subcommand's command line.
var lotSynopsis = map[string]string{
	"new": `dockgate lot new [-c FILE] [--data-dir DIR] [--format F] --product P [--brand B] [--site S] [--door D] [--line L]
    [--supplier X] [--supplier-lot L] [--gtin G] [--date YYYY-MM-DD] [--expiry YYYY-MM-DD]
    [--best-before YYYY-MM-DD] [--qty N] [--unit U] [--po PO] [--despatch-advice DA] [--by WHO] [--id KEY] [--json]`,
	"register": "dockgate lot register CODE [-c FILE] [--data-dir DIR] --product P --supplier X [detail flags as lot new]",
	"decode":   "dockgate lot decode [-c FILE] [--format F] CODE",
	"show":     "dockgate lot show CODE [-c FILE] [--data-dir DIR]",
	"list":     "dockgate lot list [-c FILE] [--data-dir DIR] [--product P] [--supplier X] [--status S] [--from D] [--to D] [--order fefo|fifo] [--limit N]",
	"hold":     "dockgate lot hold CODE [-c FILE] [--data-dir DIR] --reason R [--by WHO]",
	"release":  "dockgate lot release CODE [-c FILE] [--data-dir DIR] [--by WHO]",
	"recall":   "dockgate lot recall CODE [-c FILE] [--data-dir DIR] --reason R [--by WHO]",
	"expiring": "dockgate lot expiring [-c FILE] [--data-dir DIR] [--days N]",
}

// lotCLIError drops the package prefix of encoder/lot and edge/lots errors:
// the command already names itself.
func lotCLIError(err error) error {
	var ee *exitError
	if err == nil || errors.As(err, &ee) || errors.Is(err, errHelp) {
		return err
	}
	msg := err.Error()
	for _, p := range []string{"lots: ", "lot: "} {
		msg = strings.TrimPrefix(msg, p)
	}
	return errors.New(msg)
}

// lotFlags are the flags every registry subcommand shares.
type lotFlags struct {
	fs      *cmdFlags
	dataDir *string
	config  *string
}

func newLotFlags(env *cliEnv, name string) *lotFlags {
	fs := newFlags(env, "lot "+name, lotSynopsis[name])
	return &lotFlags{
		fs:      fs,
		dataDir: fs.String("data-dir", "", "data directory of the gateway's store (default: data_dir of -c FILE, else ./dockgate-data as \"dockgate run\" without -c)"),
		config:  fs.String("c", "", "gateway configuration file: lots formats, site, gateway, data_dir, http.listen (default: the embedded defaults \"dockgate run\" uses without -c)"),
	}
}

// parse parses flags given before and after positional arguments
// ("hold CODE --reason R") and returns the positional arguments.
func (lf *lotFlags) parse(args []string) ([]string, error) { return parseInterspersed(lf.fs, args) }

// lotEnv is what a registry subcommand works with.
type lotEnv struct {
	cfg     lot.Config
	site    string
	gateway string
	dataDir string
	// apiAddr and apiToken reach the running gateway's HTTP API (from
	// http.listen and http.token_file of -c FILE, or the defaults').
	apiAddr  string
	apiToken string
	// onDefaults: neither -c nor --data-dir, so the gateway looked for is
	// the one "dockgate run" starts without -c.
	onDefaults bool
	// full is the whole configuration (-c FILE, or the embedded
	// defaults): a change made here goes through the gateway opened
	// offline, so that its event waits in the outbox.
	full *config.Config
}

func (lf *lotFlags) load(env *cliEnv) (*lotEnv, error) {
	le := &lotEnv{dataDir: *lf.dataDir}
	// Without -c, the embedded defaults `dockgate run` uses: lot formats,
	// site and gateway, and without --data-dir too, its data dir and API.
	d := defaultConfig()
	le.cfg, le.site, le.gateway, le.full = d.Lots, d.Site, d.Gateway, d
	if *lf.config == "" && le.dataDir == "" {
		le.onDefaults = true
		le.dataDir = d.DataDir
		le.apiAddr, le.apiToken = apiDialAddr(d.HTTP.Listen), d.HTTP.Token
	}
	if *lf.config != "" {
		c, err := loadConfig(*lf.config, env.getenv)
		if err != nil {
			return nil, err
		}
		le.cfg, le.site, le.gateway, le.full = c.Lots, c.Site, c.Gateway, c
		le.apiAddr, le.apiToken = apiDialAddr(c.HTTP.Listen), c.HTTP.Token
		if le.dataDir == "" {
			le.dataDir = c.DataDir
		}
	}
	return le, nil
}

// open opens the store and the registry. create is false for commands that
// only read or change existing lots: a missing data dir is then an error
// rather than a new empty store.
func (le *lotEnv) open(env *cliEnv, create bool) (*lots.Registry, func(), error) {
	if le.dataDir == "" {
		return nil, nil, errors.New("give --data-dir DIR (or -c FILE with data_dir)")
	}
	if !create {
		if _, err := os.Stat(le.dataDir); err != nil {
			return nil, nil, fmt.Errorf("data dir %s: %w (check --data-dir)", le.dataDir, errors.Unwrap(err))
		}
	}
	// The gateway opened offline: a change's event waits in the outbox
	// (published at the gateway's next start), and a change whose event
	// could not be queued is refused, as on the running gateway. A store
	// that fails to open is left as it is: setting it aside is the
	// gateway's decision (with its alarm), not a lot command's.
	cfg := *le.full
	cfg.DataDir = le.dataDir
	g, err := gateway.Open(&cfg, gateway.Info{}, slog.New(slog.NewTextHandler(env.stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		gateway.Options{Offline: true, NoRecover: true})
	if err != nil {
		var locked *store.LockedError
		if errors.As(err, &locked) || errors.Is(err, store.ErrOpen) {
			return nil, nil, storeLine(err)
		}
		return nil, nil, err
	}
	return g.Lots(), g.Close, nil
}

// storeLine adds to a store's open failure what the CLI cannot do about it
// (a data dir of another user's says itself what to do).
func storeLine(err error) error {
	var locked *store.LockedError
	if errors.As(err, &locked) {
		return lockedLine(err)
	}
	if errors.Is(err, store.ErrNotOwner) {
		return err
	}
	return fmt.Errorf("%w (the CLI leaves a store that fails to open as it is; `dockgate run` sets a damaged one aside and raises an alarm)", err)
}

// lockedLine turns "data dir in use" into the one line the CLI prints.
func lockedLine(err error) error {
	var locked *store.LockedError
	if errors.As(err, &locked) {
		return &exitError{code: 1, msg: locked.Error() + ": stop the gateway or use its HTTP API"}
	}
	return err
}

// lotBackend is what the registry subcommands need: the
// registry itself, or the running gateway's HTTP API when the gateway holds
// the data dir.
type lotBackend interface {
	Get(code string) (lots.Lot, error)
	List(ctx context.Context, q lots.Query) ([]lots.Lot, error)
	Hold(ctx context.Context, code, reason, by string) (lots.Lot, error)
	Release(ctx context.Context, code, by string) (lots.Lot, error)
	Recall(ctx context.Context, code, reason, by string) (lots.Lot, error)
	Expiring(ctx context.Context, days int) ([]lots.Lot, error)
	Issue(ctx context.Context, req lots.IssueRequest) (lots.Lot, error)
	Register(ctx context.Context, code string, d lots.Details) (lots.Lot, error)
}

// backend opens the registry or, while a gateway holds the data dir and -c
// FILE (or the defaults) names its HTTP API, a client of that API. create:
// as for open. On the defaults, a data dir that is not here is never
// created: the gateway is then the one whose API answers on the default
// address.
func (le *lotEnv) backend(ctx context.Context, env *cliEnv, create bool) (lotBackend, func(), error) {
	if le.onDefaults && !dirExists(le.dataDir) {
		c, err := findDefaultGateway(ctx, le.full)
		if err != nil {
			return nil, nil, err
		}
		return &lotAPI{ctx: ctx, base: c.base, token: c.token, client: &http.Client{Timeout: 30 * time.Second}}, func() {}, nil
	}
	r, closeStore, err := le.open(env, create)
	if err == nil {
		return r, closeStore, nil
	}
	var ee *exitError
	if errors.As(err, &ee) && strings.Contains(ee.msg, " is in use by ") && le.apiAddr != "" {
		return &lotAPI{ctx: ctx, base: "http://" + le.apiAddr, token: le.apiToken, client: &http.Client{Timeout: 30 * time.Second}}, func() {}, nil
	}
	return nil, nil, err
}

// apiDialAddr turns a listen address into one to dial (a wildcard host is
// reached on loopback).
func apiDialAddr(listen string) string {
	if listen == "" {
		return ""
	}
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return listen
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// lotAPI is the gateway's lot routes (GET|POST /lots, POST /lots/register,
// GET /lots/{code}, POST /lots/{code}/hold|release|recall,
// GET /lots-expiring).
type lotAPI struct {
	ctx    context.Context
	base   string
	token  string
	client *http.Client
}

func (a *lotAPI) do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if a.token != "" {
		req.Header.Set("Authorization", "Bearer "+a.token)
	}
	resp, err := a.client.Do(req)
	if err != nil {
		return fmt.Errorf("the gateway holds the data dir and its HTTP API at %s did not answer: %v", a.base, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return fmt.Errorf("gateway HTTP API %s %s: %v", method, path, err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(b, &e) != nil || e.Error == "" {
			e.Error = resp.Status
		}
		return fmt.Errorf("gateway HTTP API: %s", e.Error)
	}
	return json.Unmarshal(b, out)
}

func (a *lotAPI) Get(code string) (lots.Lot, error) {
	var l lots.Lot
	return l, a.do(a.ctx, http.MethodGet, "/lots/"+url.PathEscape(code), nil, &l)
}

func (a *lotAPI) List(ctx context.Context, q lots.Query) ([]lots.Lot, error) {
	v := url.Values{}
	for k, s := range map[string]string{"product": q.Product, "supplier": q.Supplier, "status": string(q.Status), "order": string(q.Order)} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if !q.From.IsZero() {
		v.Set("from", q.From.Format(time.DateOnly))
	}
	if !q.To.IsZero() {
		v.Set("to", q.To.Format(time.DateOnly))
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	var ls []lots.Lot
	return ls, a.do(ctx, http.MethodGet, "/lots?"+v.Encode(), nil, &ls)
}

func (a *lotAPI) Hold(ctx context.Context, code, reason, by string) (lots.Lot, error) {
	var l lots.Lot
	return l, a.do(ctx, http.MethodPost, "/lots/"+url.PathEscape(code)+"/hold", map[string]string{"reason": reason, "by": by}, &l)
}

func (a *lotAPI) Release(ctx context.Context, code, _ string) (lots.Lot, error) {
	var l lots.Lot
	return l, a.do(ctx, http.MethodPost, "/lots/"+url.PathEscape(code)+"/release", nil, &l)
}

func (a *lotAPI) Recall(ctx context.Context, code, reason, by string) (lots.Lot, error) {
	var l lots.Lot
	return l, a.do(ctx, http.MethodPost, "/lots/"+url.PathEscape(code)+"/recall", map[string]string{"reason": reason, "by": by}, &l)
}

func (a *lotAPI) Issue(ctx context.Context, req lots.IssueRequest) (lots.Lot, error) {
	body := lots.RequestOf(req.Details)
	body.Format, body.Brand, body.ID = req.Format, req.Brand, req.ID
	var l lots.Lot
	return l, a.do(ctx, http.MethodPost, "/lots", body, &l)
}

func (a *lotAPI) Register(ctx context.Context, code string, d lots.Details) (lots.Lot, error) {
	body := lots.RequestOf(d)
	body.Code = code
	var l lots.Lot
	return l, a.do(ctx, http.MethodPost, "/lots/register", body, &l)
}

func (a *lotAPI) Expiring(ctx context.Context, days int) ([]lots.Lot, error) {
	var ls []lots.Lot
	return ls, a.do(ctx, http.MethodGet, "/lots-expiring?days="+strconv.Itoa(days), nil, &ls)
}

func lotJSON(env *cliEnv, v any) error {
	enc := json.NewEncoder(env.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func parseDateFlag(name, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.DateOnly, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("--%s %q: give a date as YYYY-MM-DD", name, v)
	}
	return t, nil
}

// detailFlags are the lot details new and register take.
type detailFlags struct {
	product, gtin, supplier, supplierLot, site, door, line *string
	date, expiry, bestBefore, qty, unit, po, despatch, by  *string
}

func addDetailFlags(fs *flag.FlagSet, env *cliEnv) *detailFlags {
	by := env.getenv("USER")
	if by == "" {
		by = "cli"
	}
	return &detailFlags{
		product:     fs.String("product", "", "product (SKU); required"),
		gtin:        fs.String("gtin", "", "GTIN of the product (8, 12, 13 or 14 digits)"),
		supplier:    fs.String("supplier", "", "supplier"),
		supplierLot: fs.String("supplier-lot", "", "the supplier's lot code, kept and linked (needs --supplier)"),
		site:        fs.String("site", "", "site ({SITE}; default: site of -c FILE)"),
		door:        fs.String("door", "", "dock door ({DOOR})"),
		line:        fs.String("line", "", "line ({LINE})"),
		date:        fs.String("date", "", "production date YYYY-MM-DD (new: default today)"),
		expiry:      fs.String("expiry", "", "expiry date YYYY-MM-DD"),
		bestBefore:  fs.String("best-before", "", "best-before date YYYY-MM-DD"),
		qty:         fs.String("qty", "", "quantity"),
		unit:        fs.String("unit", "", "unit of the quantity (default EA when --qty is given)"),
		po:          fs.String("po", "", "purchase order"),
		despatch:    fs.String("despatch-advice", "", "despatch advice (ASN) number"),
		by:          fs.String("by", by, "who asks, for the lot's history"),
	}
}

func (d *detailFlags) details(le *lotEnv) (lots.Details, error) {
	out := lots.Details{Product: *d.product, GTIN: *d.gtin, Supplier: *d.supplier, SupplierLot: *d.supplierLot,
		Site: *d.site, Door: *d.door, Line: *d.line, Unit: *d.unit, PO: *d.po, DespatchAdvice: *d.despatch, By: *d.by}
	if out.Site == "" {
		out.Site = le.site
	}
	var err error
	if out.Production, err = parseDateFlag("date", *d.date); err != nil {
		return out, err
	}
	if out.Expiry, err = parseDateFlag("expiry", *d.expiry); err != nil {
		return out, err
	}
	if out.BestBefore, err = parseDateFlag("best-before", *d.bestBefore); err != nil {
		return out, err
	}
	if *d.qty != "" {
		if out.Quantity, err = strconv.ParseFloat(*d.qty, 64); err != nil || !(out.Quantity > 0 && out.Quantity <= 1e9) {
			return out, fmt.Errorf("--qty %q: give a positive number up to 1e9", *d.qty)
		}
		if out.Unit == "" {
			out.Unit = "EA"
		}
	}
	if out.Product == "" {
		return out, errors.New("--product is required")
	}
	return out, nil
}

func lotNew(ctx context.Context, env *cliEnv, args []string) error {
	lf := newLotFlags(env, "new")
	format := lf.fs.String("format", "", "format: a template such as \"{YYMM}-{BRAND}-{PRODUCT}-{SEQ:3}\", or the name of a format in -c FILE (default: lots.default_format)")
	brand := lf.fs.String("brand", "", "brand ({BRAND}; default: the format's brand)")
	id := lf.fs.String("id", "", "idempotency key: running again with the same id prints the lot it issued instead of issuing another")
	jsonOut := lf.fs.Bool("json", false, "print the lot record as JSON instead of the code")
	df := addDetailFlags(lf.fs.FlagSet, env)
	pos, err := lf.parse(args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("unexpected argument %q", pos[0])
	}
	le, err := lf.load(env)
	if err != nil {
		return err
	}
	d, err := df.details(le)
	if err != nil {
		return err
	}
	if *format == "" && le.cfg.DefaultFormat == "" {
		return errors.New("--format is required (a template such as \"{YYMM}-{PRODUCT}-{SEQ:3}\", or a format name with -c FILE)")
	}
	// Check the format before touching the store.
	if _, err := le.cfg.Format(*format); err != nil {
		return err
	}
	r, closeStore, err := le.backend(ctx, env, true)
	if err != nil {
		return err
	}
	defer closeStore()
	l, err := r.Issue(ctx, lots.IssueRequest{Format: *format, Brand: *brand, ID: *id, Details: d})
	if err != nil {
		return err
	}
	if *jsonOut {
		return lotJSON(env, l)
	}
	fmt.Fprintln(env.stdout, l.Code)
	return nil
}

func lotRegister(ctx context.Context, env *cliEnv, args []string) error {
	lf := newLotFlags(env, "register")
	df := addDetailFlags(lf.fs.FlagSet, env)
	pos, err := lf.parse(args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return errors.New("give the supplier's lot code: lot register CODE --product P --supplier S")
	}
	le, err := lf.load(env)
	if err != nil {
		return err
	}
	d, err := df.details(le)
	if err != nil {
		return err
	}
	r, closeStore, err := le.backend(ctx, env, true)
	if err != nil {
		return err
	}
	defer closeStore()
	l, err := r.Register(ctx, pos[0], d)
	if err != nil {
		return err
	}
	return lotJSON(env, l)
}

func lotDecode(_ context.Context, env *cliEnv, args []string) error {
	lf := newLotFlags(env, "decode")
	format := lf.fs.String("format", "", "format: a template, or the name of a format in -c FILE (default: lots.default_format)")
	pos, err := lf.parse(args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return errors.New("give one code: lot decode --format F CODE")
	}
	le, err := lf.load(env)
	if err != nil {
		return err
	}
	if *format == "" && le.cfg.DefaultFormat == "" {
		return errors.New("--format is required (a template such as \"{YYMM}-{PRODUCT}-{SEQ:3}\", or a format name with -c FILE)")
	}
	f, err := le.cfg.Format(*format)
	if err != nil {
		return err
	}
	fields, err := f.Decode(pos[0])
	if err != nil {
		return err
	}
	return lotJSON(env, fields)
}

// lotWithCode runs a registry command on one existing lot code.
func lotWithCode(ctx context.Context, env *cliEnv, name string, args []string, extra func(fs *flag.FlagSet) func(context.Context, lotBackend, string) (any, error)) error {
	lf := newLotFlags(env, name)
	run := extra(lf.fs.FlagSet)
	pos, err := lf.parse(args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("give one lot code: lot %s CODE", name)
	}
	le, err := lf.load(env)
	if err != nil {
		return err
	}
	r, closeStore, err := le.backend(ctx, env, false)
	if err != nil {
		return err
	}
	defer closeStore()
	v, err := run(ctx, r, pos[0])
	if err != nil {
		return err
	}
	return lotJSON(env, v)
}

func byFlag(fs *flag.FlagSet, env *cliEnv) *string {
	by := env.getenv("USER")
	if by == "" {
		by = "cli"
	}
	return fs.String("by", by, "who asks, for the lot's history")
}

func lotShow(ctx context.Context, env *cliEnv, args []string) error {
	return lotWithCode(ctx, env, "show", args, func(*flag.FlagSet) func(context.Context, lotBackend, string) (any, error) {
		return func(_ context.Context, r lotBackend, code string) (any, error) { return r.Get(code) }
	})
}

func lotHold(ctx context.Context, env *cliEnv, args []string) error {
	return lotWithCode(ctx, env, "hold", args, func(fs *flag.FlagSet) func(context.Context, lotBackend, string) (any, error) {
		reason := fs.String("reason", "", "why the lot is held; required")
		by := byFlag(fs, env)
		return func(ctx context.Context, r lotBackend, code string) (any, error) {
			if *reason == "" {
				return nil, errors.New("--reason is required")
			}
			return r.Hold(ctx, code, *reason, *by)
		}
	})
}

func lotRelease(ctx context.Context, env *cliEnv, args []string) error {
	return lotWithCode(ctx, env, "release", args, func(fs *flag.FlagSet) func(context.Context, lotBackend, string) (any, error) {
		by := byFlag(fs, env)
		return func(ctx context.Context, r lotBackend, code string) (any, error) {
			return r.Release(ctx, code, *by)
		}
	})
}

func lotRecall(ctx context.Context, env *cliEnv, args []string) error {
	return lotWithCode(ctx, env, "recall", args, func(fs *flag.FlagSet) func(context.Context, lotBackend, string) (any, error) {
		reason := fs.String("reason", "", "why the lot is recalled; required")
		by := byFlag(fs, env)
		return func(ctx context.Context, r lotBackend, code string) (any, error) {
			if *reason == "" {
				return nil, errors.New("--reason is required")
			}
			return r.Recall(ctx, code, *reason, *by)
		}
	})
}

func lotList(ctx context.Context, env *cliEnv, args []string) error {
	lf := newLotFlags(env, "list")
	product := lf.fs.String("product", "", "only this product")
	supplier := lf.fs.String("supplier", "", "only this supplier")
	status := lf.fs.String("status", "", "only this status: active, on_hold, released, recalled, expired")
	from := lf.fs.String("from", "", "production date on or after YYYY-MM-DD")
	to := lf.fs.String("to", "", "production date on or before YYYY-MM-DD")
	order := lf.fs.String("order", "", "fefo or fifo: a product's available lots in that order (needs --product)")
	limit := lf.fs.Int("limit", 0, "at most this many lots (0: all)")
	pos, err := lf.parse(args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("unexpected argument %q", pos[0])
	}
	q := lots.Query{Product: *product, Supplier: *supplier, Order: lots.Order(*order), Limit: *limit}
	if *status != "" {
		if q.Status, err = lots.ParseStatus(*status); err != nil {
			return err
		}
	}
	if q.From, err = parseDateFlag("from", *from); err != nil {
		return err
	}
	if q.To, err = parseDateFlag("to", *to); err != nil {
		return err
	}
	if *limit < 0 {
		return fmt.Errorf("--limit %d: give 0 or more", *limit)
	}
	le, err := lf.load(env)
	if err != nil {
		return err
	}
	r, closeStore, err := le.backend(ctx, env, false)
	if err != nil {
		return err
	}
	defer closeStore()
	ls, err := r.List(ctx, q)
	if err != nil {
		return err
	}
	if ls == nil {
		ls = []lots.Lot{}
	}
	return lotJSON(env, ls)
}

func lotExpiring(ctx context.Context, env *cliEnv, args []string) error {
	lf := newLotFlags(env, "expiring")
	days := lf.fs.Int("days", 7, "expiry date within this many days from today")
	pos, err := lf.parse(args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("unexpected argument %q", pos[0])
	}
	le, err := lf.load(env)
	if err != nil {
		return err
	}
	r, closeStore, err := le.backend(ctx, env, false)
	if err != nil {
		return err
	}
	defer closeStore()
	ls, err := r.Expiring(ctx, *days)
	if err != nil {
		return err
	}
	if ls == nil {
		ls = []lots.Lot{}
	}
	return lotJSON(env, ls)
}
