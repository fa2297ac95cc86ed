package gateway

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/dockgate/dockgate/edge/api"
	"github.com/dockgate/dockgate/edge/command"
	"github.com/dockgate/dockgate/edge/config"
	"github.com/dockgate/dockgate/edge/labels"
	"github.com/dockgate/dockgate/edge/outbox"
	"github.com/dockgate/dockgate/edge/receiving"
	"github.com/dockgate/dockgate/encoder/gs1"
	"github.com/dockgate/dockgate/encoder/label"
	"github.com/dockgate/dockgate/encoder/raster"
	"github.com/dockgate/dockgate/encoder/zpl"
	firmwareprofiles "github.com/dockgate/dockgate/firmware-profiles"
	"github.com/dockgate/dockgate/printers"
	"github.com/dockgate/dockgate/printers/printersim"
	"github.com/dockgate/dockgate/printers/spool"
)

// printing is the gateway's printers: their spooler, their profiles, the
// carton template, and the simulators of "sim" printers.
type printing struct {
	g       *Gateway
	spool   *spool.Spooler
	cfgs    map[string]printers.Config
	profile map[string]*firmwareprofiles.Profile
	carton  *label.Template
	sims    map[string]*simPrinter
	// trail is the label audit trail; StageJobEvent appends to it.
	trail *labels.Trail
	// previewDir is labels.preview_dir, or "" when unset or when it could
	// not be created.
	previewDir string

	mu     sync.Mutex
	status map[string]*printers.Status
}

// simPrinter is an in-process printer simulator on a loopback port.
type simPrinter struct {
	sim    *printersim.Sim
	ln     interface{ Close() error }
	serve  func(ctx context.Context) error
	Target string
}

func (g *Gateway) openPrinting() error {
	p := &printing{g: g, cfgs: map[string]printers.Config{}, profile: map[string]*firmwareprofiles.Profile{},
		sims: map[string]*simPrinter{}, status: map[string]*printers.Status{}}
	g.printing = p
	var err error
	if p.trail, err = labels.Open(g.store.DB()); err != nil {
		return err
	}
	tmpl, err := loadTemplate(g.cfg.Labels.Carton, g.cfg.Labels.Templates)
	if err != nil {
		return fmt.Errorf("labels.carton: %w", err)
	}
	p.carton = withDomain(tmpl, g.cfg.GS1.DigitalLinkDomain)
	if dir := g.cfg.Labels.PreviewDir; dir != "" {
		// Previews are an aid, not a reason to stop printing: a directory
		// that cannot be made is reported once here, not at every label.
		if err := os.MkdirAll(dir, 0o750); err != nil {
			g.log.Error("labels.preview_dir cannot be created: no label previews are written; fix the path or its permissions, or unset it", "dir", dir, "err", err)
		} else {
			p.previewDir = dir
		}
	}
	var list []printers.Config
	for _, pc := range g.cfg.Printers {
		if pc.Transport == config.TransportSim && g.offline {
			// Jobs only queue offline; the simulator gets its port when the
			// gateway runs.
			pc.Transport, pc.Address = printers.TransportTCP, "127.0.0.1:9100"
		} else if pc.Transport == config.TransportSim {
			ln, err := loopbackListener()
			if err != nil {
				return fmt.Errorf("printer %s simulator: %w", pc.ID, err)
			}
			dir := ""
			if g.cfg.Labels.PreviewDir != "" {
				dir = filepath.Join(g.cfg.Labels.PreviewDir, "printer-"+pc.ID)
				if err := os.MkdirAll(dir, 0o750); err != nil {
					ln.Close()
					return fmt.Errorf("printer %s simulator: %w", pc.ID, err)
				}
			}
			so := printersim.Options{Profile: pc.Profile, Dir: dir, Logger: g.log.With("component", "printersim", "printer", pc.ID)}
			if dir != "" {
				so.Preview = printersim.Preview
			}
			sim := printersim.New(so)
			p.sims[pc.ID] = &simPrinter{sim: sim, ln: ln, Target: ln.Addr().String(),
				serve: func(ctx context.Context) error { return sim.Serve(ctx, ln) }}
			pc.Transport, pc.Address = printers.TransportTCP, ln.Addr().String()
			g.log.Info("printer simulator listening", "printer", pc.ID, "addr", pc.Address)
		}
		pc = pc.WithDefaults()
		prof, err := firmwareprofiles.Lookup(pc.Profile)
		if err != nil {
			return fmt.Errorf("printer %s: %w", pc.ID, err)
		}
		p.cfgs[pc.ID], p.profile[pc.ID] = pc, prof
		list = append(list, pc)
	}
	p.spool, err = spool.New(g.store, spool.Options{Printers: list, Events: p, Now: g.nowUTC,
		Logger: g.log.With("component", "spooler")})
	return err
}

// withDomain returns t with the Digital Link domain of its QR codes set to
// domain where the template leaves it open (gs1.digital_link_domain).
func withDomain(t *label.Template, domain string) *label.Template {
	if domain == "" || domain == gs1.DefaultDLDomain {
		return t
	}
	cp := *t
	cp.Elements = append([]label.Spec(nil), t.Elements...)
	for i := range cp.Elements {
		if cp.Elements[i].Domain == "" {
			cp.Elements[i].Domain = domain
		}
	}
	return &cp
}

// loadTemplate finds a built-in template, a named template file or a file.
func loadTemplate(name string, files map[string]string) (*label.Template, error) {
	if t, ok := label.Builtin(name); ok {
		return t, nil
	}
	if f, ok := files[name]; ok {
		return label.LoadTemplate(f)
	}
	return label.LoadTemplate(name)
}

// requestTemplate is loadTemplate for a name from outside (HTTP, MQTT): only
// a built-in template, one under labels.templates or labels.carton, never
// an arbitrary file of the gateway's disk.
func (p *printing) requestTemplate(name string) (*label.Template, error) {
	labels := p.g.cfg.Labels
	if _, ok := label.Builtin(name); ok || labels.Templates[name] != "" || name == labels.Carton {
		return loadTemplate(name, labels.Templates)
	}
	names := make([]string, 0, len(labels.Templates)+4)
	for _, t := range label.Builtins() {
		names = append(names, t.Name)
	}
	for n := range labels.Templates {
		names = append(names, n)
	}
	sort.Strings(names)
	return nil, fmt.Errorf("%q is not a template of this gateway: use one of %s (labels.templates names more)", name, strings.Join(names, ", "))
}

// Sim returns the simulator of a "sim" printer, or nil.
func (g *Gateway) PrinterSim(id string) *printersim.Sim {
	if s := g.printing.sims[id]; s != nil {
		return s.sim
	}
	return nil
}

// Spooler is the gateway's print spooler.
func (g *Gateway) Spooler() *spool.Spooler { return g.printing.spool }

func (p *printing) run(ctx context.Context, eg *errgroup.Group, guard func(string, func() error) func() error) {
	for id, s := range p.sims {
		eg.Go(guard("printer simulator "+id, func() error { return s.serve(ctx) }))
	}
	eg.Go(guard("spooler", func() error { return p.spool.Run(ctx) }))
	eg.Go(func() error { p.pruneJobs(ctx); return nil })
}

// pruneJobsEvery is how often finished print jobs past labels.keep_jobs
// are deleted (and once at start).
const pruneJobsEvery = 6 * time.Hour

// pruneJobs deletes the confirmed and cancelled jobs last updated more than
// labels.keep_jobs ago, at start and then every pruneJobsEvery, until ctx
// ends: without it the store would grow with every label ever printed. A
// failure is logged and tried again next time.
func (p *printing) pruneJobs(ctx context.Context) {
	t := time.NewTicker(pruneJobsEvery)
	defer t.Stop()
	for {
		p.pruneJobsOnce()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (p *printing) pruneJobsOnce() {
	keep := p.g.cfg.Labels.KeepJobs
	if keep <= 0 {
		keep = config.DefaultKeepJobs
	}
	n, err := p.spool.Prune(p.g.now().Add(-keep))
	switch {
	case err != nil:
		p.g.log.Warn("finished print jobs not pruned", "keep_jobs", keep, "err", err)
	case n > 0:
		p.g.log.Info("finished print jobs pruned", "count", n, "keep_jobs", keep)
	}
}

func (p *printing) close() {
	for _, s := range p.sims {
		s.ln.Close()
	}
}

// PrinterEvent publishes the spooler's printer events: status changes as
// the printer's retained status and as telemetry, connections as
// telemetry. Job events are staged with their changes (StageJobEvent).
func (p *printing) PrinterEvent(ctx context.Context, e printers.Event) error {
	g := p.g
	if e.Status != nil && (e.Kind == printers.EventStatus || e.Kind == printers.EventPrinterOnline) {
		p.mu.Lock()
		p.status[e.Printer] = e.Status
		p.mu.Unlock()
		if err := g.pub.SetDeviceStatus("printer", e.Printer, e.Status); err != nil {
			g.log.Warn("printer status not published", "printer", e.Printer, "err", err)
		}
	}
	return g.emit(ctx, outbox.Event{Type: string(e.Kind), Time: e.Time, Source: "printer/" + e.Printer, Priority: outbox.PriorityTelemetry}, e)
}

// door gives receiving a door's printer.
type door struct {
	p       *printing
	printer string
}

func (p *printing) doors() map[string]receiving.Door {
	out := map[string]receiving.Door{}
	for _, d := range p.g.cfg.Doors {
		out[d.ID] = door{p: p, printer: d.Printer}
	}
	return out
}

func (d door) Printer() string { return d.printer }

func (d door) Render(vals map[string]string) ([]byte, error) {
	r, err := d.p.render(d.p.carton, d.printer, vals, 1)
	if err != nil {
		return nil, err
	}
	d.p.preview(r) // receiving renders the labels it spools
	return r.zpl, nil
}

// Check lays a carton label out without printing it (receiving's
// pre-flight): no preview, no file.
func (d door) Check(vals map[string]string) error {
	_, err := d.p.render(d.p.carton, d.printer, vals, 1)
	return err
}

// render lays out a template for a printer's profile and encodes it as ZPL
// for one label; with labels.preview_dir set it also writes a PNG preview.
// qty is the number of labels the job will print: the layout checks it (an
// EPC on more than one tag is refused), but the copies are the spool job's
// (Job.Copies), not a ^PQ in the format, so that the job record counts the
// labels and MaxCopies bounds them.
func (p *printing) render(t *label.Template, printer string, vals map[string]string, qty int) (*rendered, error) {
	prof := p.profile[printer]
	if prof == nil {
		return nil, fmt.Errorf("%w %q: give one of %s", spool.ErrUnknownPrint, printer, strings.Join(slices.Sorted(maps.Keys(p.profile)), ", "))
	}
	if !prof.RFID.Supported {
		vals = withoutKey(vals, "epc")
	}
	l, err := label.Render(t, vals, prof, qty)
	if err != nil {
		return nil, err
	}
	l.Quantity = 1
	b, err := zpl.Encode(l, prof)
	if err != nil {
		return nil, err
	}
	return &rendered{zpl: b, label: l, prof: prof, sscc: vals["sscc"]}, nil
}

// rendered is a label laid out and encoded; nothing is written for it
// until it is printed (rendering has no side effects: a pre-flight check
// leaves no trace).
type rendered struct {
	zpl   []byte
	label *label.Layout
	prof  *label.Profile
	sscc  string
}

// preview writes the PNG preview of a label being printed, when
// labels.preview_dir is set.
func (p *printing) preview(r *rendered) {
	dir := p.previewDir
	if dir == "" {
		return
	}
	png, err := raster.PNG(r.label, r.prof)
	if err == nil {
		// The file is named after the SSCC only when it is one (the
		// values may come from a print command): never a path.
		name := r.sscc
		if len(name) != 18 || strings.Trim(name, "0123456789") != "" {
			name = strconv.FormatInt(p.g.now().UnixNano(), 10)
		}
		err = os.WriteFile(filepath.Join(dir, "label-"+name+".png"), png, 0o640)
	}
	if err != nil {
		p.g.log.Warn("label preview not written", "err", err)
	}
}

func withoutKey(m map[string]string, k string) map[string]string {
	if _, ok := m[k]; !ok {
		return m
	}
	out := make(map[string]string, len(m))
	for kk, v := range m {
		if kk != k {
			out[kk] = v
		}
	}
	return out
}

func (d door) Submit(ctx context.Context, jobs []receiving.LabelJob) error {
	sj := make([]spool.Job, len(jobs))
	by := actorOf(ctx)
	for i, j := range jobs {
		sj[i] = spool.Job{ID: j.ID, Printer: d.printer, ZPL: string(j.ZPL), Copies: 1, Lot: j.Lot, Carton: j.SSCC,
			Template: d.p.g.cfg.Labels.Carton, By: &by}
	}
	return d.p.spool.SubmitAll(ctx, sj)
}

func (d door) JobState(id string) string {
	j, err := d.p.spool.Get(id)
	if err != nil {
		return ""
	}
	return string(j.State)
}

// errBadPrint: a print request that cannot be printed as it is.
var errBadPrint = errors.New("bad print request")

// printRequest is the body of the print command and POST /print.
type printRequest struct {
	Printer  string            `json:"printer"`
	Template string            `json:"template,omitempty"`
	Values   map[string]string `json:"values,omitempty"`
	Qty      int               `json:"qty,omitempty"`
	ZPL      string            `json:"zpl,omitempty"`
}

// print spools a print request; the job names who asked for it as ctx
// does (actorOf).
func (p *printing) print(ctx context.Context, id string, r printRequest) (spool.Job, error) {
	if _, ok := p.cfgs[r.Printer]; !ok {
		return spool.Job{}, fmt.Errorf("printer: %w %q", spool.ErrUnknownPrint, r.Printer)
	}
	if r.Qty < 0 || r.Qty > spool.MaxCopies {
		return spool.Job{}, fmt.Errorf("%w: qty %d: give 1 to %d labels (or leave it out for one); print more as several jobs", errBadPrint, r.Qty, spool.MaxCopies)
	}
	copies := max(r.Qty, 1)
	data := r.ZPL
	var shown *rendered // previewed once spooled
	switch {
	case r.ZPL != "" && r.Template != "":
		return spool.Job{}, fmt.Errorf("%w: give either zpl or template with values, not both", errBadPrint)
	case r.Template != "":
		t, err := p.requestTemplate(r.Template)
		if err != nil {
			return spool.Job{}, fmt.Errorf("%w: template: %w", errBadPrint, err)
		}
		rl, err := p.render(t, r.Printer, r.Values, copies)
		if err != nil {
			return spool.Job{}, err
		}
		data, shown = string(rl.zpl), rl
	case r.ZPL == "":
		return spool.Job{}, fmt.Errorf("%w: give zpl, or template and values", errBadPrint)
	default:
		// The spooler would refuse it too, as an invalid job: refused
		// here, it is the request's zpl or qty that is named.
		n, err := spool.CheckZPL(r.ZPL)
		if err != nil {
			return spool.Job{}, fmt.Errorf("%w: zpl: %w", errBadPrint, err)
		}
		if labels := int64(n.Labels) * int64(copies); labels > spool.MaxCopies {
			return spool.Job{}, fmt.Errorf("%w: qty %d: %w: the zpl prints %d labels per copy (the ^PQ quantities of its %d format(s) summed), %d in all; a job prints at most %d: lower qty or ^PQ, or print the rest as further jobs",
				errBadPrint, copies, spool.ErrTooManyLabels, n.Labels, n.Formats, labels, spool.MaxCopies)
		}
	}
	by := actorOf(ctx)
	j := spool.Job{ID: id, Printer: r.Printer, ZPL: data, Copies: copies, Lot: r.Values["lot"], Carton: r.Values["sscc"],
		Template: r.Template, By: &by}
	if err := p.spool.Submit(ctx, j); errors.Is(err, spool.ErrTooManyLabels) {
		// The copies are the request's qty: name it.
		return spool.Job{}, fmt.Errorf("qty %d: %w", copies, err)
	} else if err != nil {
		return spool.Job{}, err
	}
	if shown != nil {
		p.preview(shown)
	}
	return p.spool.Get(id)
}

// handlers is where commands are registered (a *command.Dispatcher).
type handlers interface {
	Handle(name string, h command.Handler)
}

func (p *printing) commands(d handlers) {
	d.Handle("print", func(ctx context.Context, c command.Command) (any, error) {
		var r struct {
			printRequest
			By string `json:"by"`
		}
		if err := c.Decode(&r); err != nil {
			return nil, err
		}
		ctx = WithActor(context.WithoutCancel(ctx), printers.Actor{Via: printers.ViaMQTT, Name: r.By})
		j, err := p.print(ctx, localID(c.ID, maxJobID), r.printRequest)
		j.ZPL = ""
		return j, err
	})
	for _, op := range []string{command.Reprint, command.Cancel} {
		d.Handle(op, func(_ context.Context, c command.Command) (any, error) {
			var r struct {
				Job    string `json:"job"`
				Reason string `json:"reason"`
				By     string `json:"by"`
			}
			if err := c.Decode(&r); err != nil {
				return nil, err
			}
			if r.Job == "" {
				return nil, errors.New(`job: required: give the job id as {"job": "…", "reason": "…"}`)
			}
			id := localID(r.Job, maxJobID)
			if err := p.operate(op, id, printers.Actor{Via: printers.ViaMQTT, Name: r.By}, r.Reason); err != nil {
				return nil, err
			}
			j, err := p.spool.Get(id)
			j.ZPL = ""
			return j, err
		})
	}
}

// operate reprints or cancels a job for an operator; a missing reason is
// an error naming the field and how to give it.
func (p *printing) operate(op, id string, by printers.Actor, reason string) error {
	verb := map[string]string{command.Reprint: "reprinted", command.Cancel: "cancelled"}[op]
	if strings.TrimSpace(reason) == "" {
		return fmt.Errorf(`reason: required: say why job %s is %s, e.g. {"reason": "label smudged"} (%w; the label audit trail records it)`,
			id, verb, spool.ErrReasonRequired)
	}
	req := spool.Request{By: by, Reason: reason}
	if op == command.Cancel {
		return p.spool.CancelBy(id, req)
	}
	return p.spool.ReprintBy(id, req)
}

// Id limits: a spooler job id and a receipt id (receiving's own limit).
const (
	maxJobID     = 128
	maxReceiptID = 80
)

// localID makes a job or receipt id from an outside id: an MQTT command id
// (any printable ASCII) or the id of POST /print (anything a WMS uses, such
// as "PO/4711#2"). An id of at most max letters, digits and ". _ : -" is
// kept as it is. Any other id becomes a readable part (the other
// characters as '-', cut to fit) followed by '.' and 16 hex digits of the
// SHA-256 of the whole id, so that "po@7" and "po$7" stay two jobs instead
// of the second being taken for a retry of the first. The same outside id
// always gives the same id, so retries and lookups (GET /jobs/{id} with
// either the outside id or the id a result reports) find the job.
func localID(id string, max int) string {
	if len(id) <= max && inIDAlphabet(id) {
		return id
	}
	const hashLen = 1 + 16
	readable := strings.Map(func(r rune) rune {
		if inIDAlphabet(string(r)) {
			return r
		}
		return '-'
	}, id)
	if len(readable) > max-hashLen {
		readable = readable[:max-hashLen]
	}
	sum := sha256.Sum256([]byte(id))
	return readable + "." + hex.EncodeToString(sum[:8])
}

// inIDAlphabet reports whether s is made of letters, digits and ". _ : -",
// the characters of job and receipt ids.
func inIDAlphabet(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '_', c == ':', c == '-':
		default:
			return false
		}
	}
	return true
}

func (p *printing) routes(a *api.Server) {
	a.Handle("GET /printers", func(w http.ResponseWriter, _ *http.Request) {
		p.mu.Lock()
		defer p.mu.Unlock()
		out := []map[string]any{}
		for _, pc := range p.g.cfg.Printers {
			n, _ := p.spool.QueueLen(pc.ID)
			out = append(out, map[string]any{"id": pc.ID, "profile": pc.Profile, "target": p.cfgs[pc.ID].Target(),
				"door": p.cfgs[pc.ID].Door, "queued": n, "status": p.status[pc.ID]})
		}
		api.JSON(w, http.StatusOK, out)
	})
	a.Handle("GET /printers/{id}/jobs", p.httpJobs)
	// A job is found by its id or by the outside id it was printed under
	// (the id of POST /print or of the print command).
	a.Handle("GET /jobs/{id}", func(w http.ResponseWriter, r *http.Request) {
		j, err := p.spool.Get(localID(r.PathValue("id"), maxJobID))
		spoolReply(w, j, err)
	})
	// A reprint or a cancel says why: {"reason": "…"}, required.
	for op, state := range map[string]string{command.Reprint: "queued", command.Cancel: "cancelled"} {
		a.Handle("POST /jobs/{id}/"+op, func(w http.ResponseWriter, r *http.Request) {
			var body struct {
				Reason string `json:"reason"`
			}
			if !api.DecodeBody(w, r, &body) {
				return
			}
			id := localID(r.PathValue("id"), maxJobID)
			err := p.operate(op, id, actorOf(r.Context()), body.Reason)
			spoolReply(w, map[string]string{"job": id, "state": state}, err)
		})
	}
	a.Handle("POST /print", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			ID string `json:"id"`
			printRequest
		}
		if !api.DecodeBody(w, r, &req) {
			return
		}
		if req.ID == "" {
			req.ID = "http-" + strconv.FormatInt(p.g.now().UnixNano(), 36)
		}
		j, err := p.print(r.Context(), localID(req.ID, maxJobID), req.printRequest) // by the API's caller
		j.ZPL = ""
		spoolReply(w, j, err)
	})
	a.Handle("GET /labels/preview", p.httpPreview)
}

// maxJobsPage bounds one page of GET /printers/{id}/jobs.
const maxJobsPage = 1000

// httpJobs is GET /printers/{id}/jobs?state=&limit=&after=: the printer's
// jobs ordered by id, a JSON array as before paging existed. A page cut
// off at limit (default and most 1000) says so in a Link header (rel
// "next") whose URL asks for the jobs after the page's last id.
func (p *printing) httpJobs(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit := maxJobsPage
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxJobsPage {
			api.Error(w, http.StatusBadRequest, fmt.Errorf("limit %q: give 1 to %d jobs; page on with the Link header's next URL", v, maxJobsPage))
			return
		}
		limit = n
	}
	f := spool.Filter{Printer: r.PathValue("id"), State: spool.State(q.Get("state"))}
	// An unknown printer or state would list nothing, which reads as "no
	// jobs": say what is wrong instead.
	if _, ok := p.cfgs[f.Printer]; !ok {
		ids := make([]string, 0, len(p.g.cfg.Printers))
		for _, pc := range p.g.cfg.Printers {
			ids = append(ids, pc.ID)
		}
		api.Error(w, http.StatusNotFound, fmt.Errorf("%w %q: the configured printers are %s", spool.ErrUnknownPrint, f.Printer, strings.Join(ids, ", ")))
		return
	}
	if f.State != "" && !slices.Contains(spool.States, f.State) {
		names := make([]string, len(spool.States))
		for i, st := range spool.States {
			names[i] = string(st)
		}
		api.Error(w, http.StatusBadRequest, fmt.Errorf("state %q: give one of %s, or leave it out for all", f.State, strings.Join(names, ", ")))
		return
	}
	jobs, more, err := pageJobs(p.spool.List, f, q.Get("after"), limit)
	if err != nil {
		spoolReply(w, nil, err)
		return
	}
	if jobs == nil {
		jobs = []spool.Job{}
	}
	if more {
		next := url.Values{"after": {jobs[len(jobs)-1].ID}, "limit": {strconv.Itoa(limit)}}
		if f.State != "" {
			next.Set("state", string(f.State))
		}
		w.Header().Set("Link", fmt.Sprintf(`</printers/%s/jobs?%s>; rel="next"`, url.PathEscape(f.Printer), next.Encode()))
	}
	api.JSON(w, http.StatusOK, jobs)
}

// pageJobs returns up to limit jobs matching f whose ids sort after after,
// and whether more follow; the spooler seeks to after, so a page costs its
// own jobs (and those of other printers or states skipped on the way).
func pageJobs(list func(spool.Filter) ([]spool.Job, error), f spool.Filter, after string, limit int) ([]spool.Job, bool, error) {
	// One more than the page says whether another follows.
	f.After, f.Limit = after, limit+1
	jobs, err := list(f)
	if err != nil {
		return nil, false, err
	}
	if len(jobs) > limit {
		return jobs[:limit], true, nil
	}
	return jobs, false, nil
}

// httpPreview renders a label as PNG: ?template=carton&profile=ID&qty=N and
// every other query parameter as a template value.
func (p *printing) httpPreview(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	tname := q.Get("template")
	if tname == "" {
		tname = p.g.cfg.Labels.Carton
	}
	t, err := p.requestTemplate(tname)
	if err != nil {
		api.Error(w, http.StatusBadRequest, fmt.Errorf("template: %w", err))
		return
	}
	pid := q.Get("profile")
	if pid == "" {
		pid = "generic-zpl-203"
	}
	prof, err := firmwareprofiles.Lookup(pid)
	if err != nil {
		api.Error(w, http.StatusBadRequest, fmt.Errorf("profile: %w", err))
		return
	}
	vals := map[string]string{}
	for k, v := range q {
		if k != "template" && k != "profile" && len(v) > 0 {
			vals[k] = v[0]
		}
	}
	l, err := label.Render(t, vals, prof, 1)
	if err != nil {
		api.Error(w, http.StatusBadRequest, err)
		return
	}
	png, err := raster.PNG(l, prof)
	if err != nil {
		api.Error(w, http.StatusInternalServerError, err)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	_, _ = w.Write(png)
}

func spoolReply(w http.ResponseWriter, v any, err error) {
	switch {
	case err == nil:
		api.JSON(w, http.StatusOK, v)
	case errors.Is(err, spool.ErrNotFound):
		api.Error(w, http.StatusNotFound, err)
	case errors.Is(err, spool.ErrInvalidJob), errors.Is(err, spool.ErrUnknownPrint), errors.Is(err, label.ErrValue),
		errors.Is(err, spool.ErrReasonRequired),
		errors.Is(err, errBadPrint), errors.Is(err, label.ErrFit), errors.Is(err, label.ErrTemplate),
		// values the label's symbols or the printer cannot carry
		errors.Is(err, label.ErrData), errors.Is(err, label.ErrProfile):
		api.Error(w, http.StatusBadRequest, err)
	case errors.Is(err, spool.ErrIDConflict), errors.Is(err, spool.ErrNotReprint), errors.Is(err, spool.ErrNotCancelable),
		errors.Is(err, spool.ErrInFlight):
		api.Error(w, http.StatusConflict, err)
	case errors.Is(err, spool.ErrEventNotStored):
		api.Error(w, http.StatusServiceUnavailable, err) // nothing changed: retry later
	default:
		api.Error(w, http.StatusInternalServerError, err)
	}
}
