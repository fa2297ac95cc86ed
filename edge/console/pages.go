package console

import (
	"cmp"
	"context"
	"encoding/base64"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dockgate/dockgate/edge/lots"
	"github.com/dockgate/dockgate/edge/outbox"
	"github.com/dockgate/dockgate/edge/receiving"
	"github.com/dockgate/dockgate/edge/signals"
	"github.com/dockgate/dockgate/encoder/gs1"
	"github.com/dockgate/dockgate/encoder/label"
	"github.com/dockgate/dockgate/printers/spool"
)

// receiptView is a receipt with its cartons counted.
type receiptView struct {
	receiving.Receipt
	Expected, Labelled, Printed, Seen int
	// Missing are the cartons not seen by the portal yet (of a closed
	// receipt: those it closed without).
	Missing []string
	// Trouble are the cartons whose label is not printed for a reason
	// (held, failed, unknown), with it.
	Trouble []cartonTrouble
}

type cartonTrouble struct {
	SSCC, Job, State, Reason string
}

// view counts a receipt's cartons: labelled (a label job spooled), printed
// (confirmed by the printer), seen (by the door's portal).
func (c *Console) view(rc receiving.Receipt) receiptView {
	v := receiptView{Receipt: rc, Expected: len(rc.Cartons)}
	for _, sscc := range rc.Cartons {
		ct, err := c.o.Receiving.Carton(sscc)
		if err != nil {
			continue
		}
		if !ct.SeenAt.IsZero() {
			v.Seen++
		} else if rc.Status == "open" {
			v.Missing = append(v.Missing, sscc)
		}
		if ct.Job == "" || c.o.Spool == nil {
			continue
		}
		j, err := c.o.Spool.Get(ct.Job)
		if err != nil {
			continue
		}
		v.Labelled++
		switch j.State {
		case spool.Confirmed:
			v.Printed++
		case spool.Held, spool.Failed, spool.Unknown, spool.Cancelled:
			v.Trouble = append(v.Trouble, cartonTrouble{SSCC: sscc, Job: j.ID, State: string(j.State), Reason: j.Reason})
		}
	}
	if rc.Status != "open" {
		v.Missing = rc.Missing
	}
	return v
}

// boardData is a door board.
type boardData struct {
	Door    Door
	Receipt *receiptView // the receipt in progress, or the last one
	Earlier []receiving.Receipt
	Passes  []passSeen
	Alerts  []Alert
	Printer *Printer
	Reader  *Reader
	// Lights are the door's signal rules, lit or not (none without
	// signals).
	Lights []signals.Light
	At     time.Time
}

// boardsShown is how many receipts a board looks at.
const boardsShown = 6

func (c *Console) board(id string) (*boardData, error) {
	d, ok := c.door1(id)
	if !ok {
		return nil, fmt.Errorf("%w: door %q is not configured", receiving.ErrNotFound, id)
	}
	b := &boardData{Door: d, At: c.o.Now()}
	rcs, err := c.o.Receiving.DoorReceipts(id, boardsShown)
	if err != nil {
		return nil, err
	}
	// In progress: the newest open receipt, else the newest.
	cur := slices.IndexFunc(rcs, func(rc receiving.Receipt) bool { return rc.Status == "open" })
	if cur < 0 && len(rcs) > 0 {
		cur = 0
	}
	if cur >= 0 {
		v := c.view(rcs[cur])
		b.Receipt = &v
		b.Earlier = slices.Delete(slices.Clone(rcs), cur, cur+1)
	}
	c.mu.Lock()
	b.Passes = slices.Clone(c.passes[id])
	c.mu.Unlock()
	if b.Alerts, err = c.openAlerts(id); err != nil {
		return nil, err
	}
	if d.Printer != "" && c.o.Printers != nil {
		for _, p := range c.o.Printers() {
			if p.ID == d.Printer {
				b.Printer = &p
			}
		}
	}
	if d.Reader != "" && c.o.Readers != nil {
		for _, r := range c.o.Readers() {
			if r.ID == d.Reader {
				b.Reader = &r
			}
		}
	}
	if c.o.Lights != nil {
		b.Lights = c.o.Lights(id)
	}
	return b, nil
}

func (c *Console) door1(id string) (Door, bool) {
	for _, d := range c.o.Doors {
		if d.ID == id {
			return d, true
		}
	}
	return Door{}, false
}

// boardHTML is a door's board as the page and the live stream show it.
func (c *Console) boardHTML(id string) ([]byte, error) {
	b, err := c.board(id)
	if err != nil {
		return nil, err
	}
	var s strings.Builder
	if err := c.pages["door"].ExecuteTemplate(&s, "board", b); err != nil {
		return nil, err
	}
	return []byte(s.String()), nil
}

func (c *Console) door(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	b, err := c.board(id)
	if err != nil {
		c.errorPage(w, r, err)
		return
	}
	p := c.newPage(r, "Door "+id, "doors", b)
	p.Board, p.Topics = true, []string{doorTopic(id)}
	c.render(w, http.StatusOK, "door", p)
}

func (c *Console) boardFragment(w http.ResponseWriter, r *http.Request) {
	b, err := c.board(r.PathValue("id"))
	if err != nil {
		http.Error(w, err.Error(), statusOf(err))
		return
	}
	c.fragment(w, http.StatusOK, "door", "board", b)
}

// ack is POST /doors/{id}/alerts/{alert}/ack: who is the person logged in,
// or the name given in the form.
func (c *Console) ack(w http.ResponseWriter, r *http.Request) {
	door, id := r.PathValue("id"), r.PathValue("alert")
	back := "/doors/" + url.PathEscape(door)
	by := c.by(r)
	if msg := checkName(by); msg != "" {
		c.actionError(w, r, back, badRequestf("%s", msg))
		return
	}
	if _, err := c.acknowledge(door, id, by); err != nil {
		c.actionError(w, r, back, err)
		return
	}
	c.done(w, r, back, "Alert acknowledged by "+by+".")
}

// done answers a form that did what it asked: back to the page, with what
// was done.
func (c *Console) done(w http.ResponseWriter, r *http.Request, to, what string) {
	http.Redirect(w, r, to+"?done="+url.QueryEscape(what), http.StatusSeeOther)
}

// actionError shows why a form's action was refused, on an error page
// that links back.
func (c *Console) actionError(w http.ResponseWriter, r *http.Request, back string, err error) {
	p := c.newPage(r, "Not done", "", map[string]string{"Back": back})
	p.Error = errText(err)
	c.render(w, statusOf(err), "error", p)
}

func (c *Console) errorPage(w http.ResponseWriter, r *http.Request, err error) {
	p := c.newPage(r, "Not found", "", map[string]string{"Back": "/"})
	p.Error = errText(err)
	c.render(w, statusOf(err), "error", p)
}

func errText(err error) string {
	s := err.Error()
	return strings.TrimPrefix(s, errBadRequest.Error()+": ")
}

// homeDoor is a door on the home page.
type homeDoor struct {
	Door    Door
	Receipt *receiptView
	Alerts  int
	Printer *Printer
	Reader  *Reader
}

func (c *Console) home(w http.ResponseWriter, r *http.Request) {
	var doors []homeDoor
	for _, d := range c.o.Doors {
		b, err := c.board(d.ID)
		if err != nil {
			c.errorPage(w, r, err)
			return
		}
		doors = append(doors, homeDoor{Door: d, Receipt: b.Receipt, Alerts: len(b.Alerts), Printer: b.Printer, Reader: b.Reader})
	}
	p := c.newPage(r, "Doors", "doors", doors)
	p.Topics = []string{topicDoors}
	c.render(w, http.StatusOK, "home", p)
}

// scanText is a keyboard wedge's scan as scan data: a scanner that cannot
// type GS (FNC1) may be set to send ␝ (U+241D), <GS> or {GS} instead.
func scanText(s string) string {
	s = strings.TrimSpace(s)
	for _, gs := range []string{"\u241d", "<GS>", "{GS}", "<gs>", "{gs}"} {
		s = strings.ReplaceAll(s, gs, "\x1d")
	}
	return s
}

// parsedScan is a scan's AIs, shown before the receipt is made.
type parsedScan struct {
	Scan     string
	Elements []aiView
	Error    string
}

type aiView struct{ AI, Title, Value, Note string }

func parseForForm(raw string) *parsedScan {
	s := scanText(raw)
	if s == "" {
		return nil
	}
	ps := &parsedScan{Scan: raw}
	m, err := receiving.ParseScan(s)
	if err != nil {
		ps.Error = err.Error()
		return ps
	}
	for _, e := range m.Elements {
		v := aiView{AI: e.AI, Title: e.Title(), Value: e.Value}
		switch e.AI {
		case "01", "02":
			v.Note = "GTIN"
		case "10":
			v.Note = "kept as the lot (the supplier's lot)"
		case "11", "17":
			if len(e.Value) == 6 {
				v.Note = dateNote(e.Value)
			}
		case "00":
			v.Note = "the carton's SSCC: one carton"
		}
		ps.Elements = append(ps.Elements, v)
	}
	if err := gs1.Validate(m); err != nil {
		ps.Error = err.Error()
	}
	return ps
}

// dateNote reads a GS1 date YYMMDD (DD 00: the month's last day).
func dateNote(v string) string {
	yy, _ := strconv.Atoi(v[:2])
	mm, _ := strconv.Atoi(v[2:4])
	dd, _ := strconv.Atoi(v[4:])
	y := gs1.ResolveYear(yy, time.Now().Year())
	if dd == 0 {
		return time.Date(y, time.Month(mm)+1, 0, 0, 0, 0, 0, time.UTC).Format("2006-01-02")
	}
	return fmt.Sprintf("%04d-%02d-%02d", y, mm, dd)
}

// receiveData is the receive form.
type receiveData struct {
	Doors  []Door
	Door   string
	ID     string // the idempotency key: a form sent twice is one receipt
	Scan   string
	Parsed *parsedScan
	Fields url.Values
}

func (c *Console) receiveData(vals url.Values) receiveData {
	d := receiveData{Door: vals.Get("door"), ID: vals.Get("id"), Scan: vals.Get("scan"), Fields: vals}
	for _, door := range c.o.Doors {
		if door.Role != "shipping" && door.Printer != "" {
			d.Doors = append(d.Doors, door)
		}
	}
	if len(d.Doors) == 0 {
		d.Doors = c.o.Doors
	}
	if d.Door == "" && len(d.Doors) > 0 {
		d.Door = d.Doors[0].ID
	}
	if d.ID == "" {
		d.ID = "C" + strconv.FormatInt(c.o.Now().UnixNano(), 36)
	}
	d.Parsed = parseForForm(d.Scan)
	return d
}

func (c *Console) receiveForm(w http.ResponseWriter, r *http.Request) {
	p := c.newPage(r, "Receive", "receive", c.receiveData(r.URL.Query()))
	c.render(w, http.StatusOK, "receive", p)
}

// receiveParse is the AIs of a scan, as it is typed or scanned.
func (c *Console) receiveParse(w http.ResponseWriter, r *http.Request) {
	c.fragment(w, http.StatusOK, "receive", "ais", parseForForm(r.URL.Query().Get("scan")))
}

// receive makes the receipt that POST /receipts makes, with the form's
// fields, and shows the door's board.
func (c *Console) receive(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f := r.PostForm
	req := receiving.Request{ID: f.Get("id"), Door: f.Get("door"), Source: "console", Scan: scanText(f.Get("scan")),
		Supplier: strings.TrimSpace(f.Get("supplier")), Product: strings.TrimSpace(f.Get("product")),
		Description: strings.TrimSpace(f.Get("description")), PO: strings.TrimSpace(f.Get("po")),
		GTIN: strings.TrimSpace(f.Get("gtin")), Expiry: f.Get("expiry"), Production: f.Get("production")}
	var err error
	for _, n := range []struct {
		name string
		dst  *int
	}{{"cartons", &req.Cartons}, {"qty_per_carton", &req.QtyPerCarton}} {
		if v := strings.TrimSpace(f.Get(n.name)); v != "" && err == nil {
			if *n.dst, err = strconv.Atoi(v); err != nil || *n.dst < 0 {
				err = badRequestf("%s: %q is not a number of cartons", n.name, v)
			}
		}
	}
	var rc *receiving.Receipt
	if err == nil {
		rc, err = c.o.Receiving.Receive(r.Context(), req)
	}
	if err != nil {
		p := c.newPage(r, "Receive", "receive", c.receiveData(f))
		p.Error = errText(err)
		c.render(w, statusOf(err), "receive", p)
		return
	}
	c.done(w, r, "/doors/"+url.PathEscape(rc.Door), fmt.Sprintf("Receipt %s recorded: lot %s, %d cartons.", rc.ID, rc.Lot, len(rc.Cartons)))
}

// lotsData is the lot search.
type lotsData struct {
	Q        url.Values
	Lots     []lots.Lot
	Statuses []lots.Status
	Limit    int
	More     bool
}

// lotsShown is how many lots a search shows at most.
const lotsShown = 200

func (c *Console) lotsPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	d := lotsData{Q: q, Statuses: []lots.Status{lots.StatusActive, lots.StatusOnHold, lots.StatusReleased, lots.StatusRecalled, lots.StatusExpired}, Limit: lotsShown}
	lq := lots.Query{Code: strings.TrimSpace(q.Get("code")), Product: strings.TrimSpace(q.Get("product")),
		Supplier: strings.TrimSpace(q.Get("supplier")), Order: lots.Order(q.Get("order")), Limit: lotsShown + 1}
	var err error
	if s := q.Get("status"); s != "" {
		lq.Status, err = lots.ParseStatus(s)
	}
	for _, dt := range []struct {
		name string
		dst  *time.Time
	}{{"from", &lq.From}, {"to", &lq.To}} {
		if v := q.Get(dt.name); v != "" && err == nil {
			if *dt.dst, err = time.Parse(time.DateOnly, v); err != nil {
				err = badRequestf("%s: %q is not a date YYYY-MM-DD", dt.name, v)
			}
		}
	}
	if err == nil {
		d.Lots, err = c.o.Lots.List(r.Context(), lq)
	}
	if len(d.Lots) > lotsShown {
		d.Lots, d.More = d.Lots[:lotsShown], true
	}
	p := c.newPage(r, "Lots", "lots", d)
	p.Topics = []string{topicLots}
	code := http.StatusOK
	if err != nil {
		p.Error, code = errText(err), statusOf(err)
	}
	c.render(w, code, "lots", p)
}

// lotData is a lot's page.
type lotData struct {
	Lot     lots.Lot
	Trace   *receiving.LotTrace
	Actions []string
}

func (c *Console) lotPage(w http.ResponseWriter, r *http.Request) {
	code := r.PathValue("code")
	l, err := c.o.Lots.Get(code)
	if err != nil {
		c.errorPage(w, r, err)
		return
	}
	d := lotData{Lot: l}
	d.Trace, _ = c.o.Receiving.TraceLot(code)
	switch {
	case l.Status.Available():
		d.Actions = []string{"hold", "recall"}
	case l.Status == lots.StatusOnHold:
		d.Actions = []string{"release", "recall"}
	case l.Status != lots.StatusRecalled:
		d.Actions = []string{"recall"}
	}
	p := c.newPage(r, "Lot "+code, "lots", d)
	p.Topics = []string{topicLots}
	c.render(w, http.StatusOK, "lot", p)
}

// lotAction is POST /lots/{code}/change: hold, release or recall, each with its
// reason.
func (c *Console) lotAction(w http.ResponseWriter, r *http.Request) {
	code := r.PathValue("code")
	back := "/lots/" + url.PathEscape(code)
	action, reason := r.FormValue("action"), strings.TrimSpace(r.FormValue("reason"))
	by := c.by(r)
	if msg := checkName(by); msg != "" {
		c.actionError(w, r, back, badRequestf("%s", msg))
		return
	}
	if reason == "" {
		c.actionError(w, r, back, badRequestf("give the reason for the %s: it is recorded in the lot's history and its event", action))
		return
	}
	var err error
	switch action {
	case "hold":
		_, err = c.o.Lots.Hold(r.Context(), code, reason, by)
	case "release":
		_, err = c.o.Lots.ReleaseBecause(r.Context(), code, reason, by)
	case "recall":
		_, err = c.o.Lots.Recall(r.Context(), code, reason, by)
	default:
		err = badRequestf("action %q: give hold, release or recall", action)
	}
	if err != nil {
		c.actionError(w, r, back, err)
		return
	}
	c.done(w, r, back, fmt.Sprintf("Lot %s: %s recorded (%s, by %s).", code, action, reason, by))
}

// traceData is a backward trace.
type traceData struct {
	Key   string
	Item  *receiving.ItemTrace
	Lot   string // a scan that names a lot: its page
	Error string
}

// tracePage is GET /trace?key=: from an EPC (hex or URI), an SSCC or a
// scanned label to its carton, lot and receipt.
func (c *Console) tracePage(w http.ResponseWriter, r *http.Request) {
	key := scanText(r.URL.Query().Get("key"))
	d := traceData{Key: r.URL.Query().Get("key")}
	code := http.StatusOK
	if key != "" {
		var err error
		d.Item, d.Lot, err = c.trace(key)
		if d.Item == nil && d.Lot != "" {
			http.Redirect(w, r, "/lots/"+url.PathEscape(d.Lot), http.StatusSeeOther)
			return
		}
		if err != nil {
			d.Error, code = errText(err), statusOf(err)
		}
	}
	p := c.newPage(r, "Trace", "lots", d)
	c.render(w, code, "trace", p)
}

func (c *Console) trace(key string) (*receiving.ItemTrace, string, error) {
	digits := strings.Trim(key, "0123456789") == ""
	switch {
	case strings.HasPrefix(key, "urn:epc:"), len(key) == 24 && strings.Trim(strings.ToUpper(key), "0123456789ABCDEF") == "":
		t, err := c.o.Receiving.TraceEPC(key)
		return t, "", err
	case digits && (len(key) == 18 || len(key) == 20):
		t, err := c.o.Receiving.TraceSSCC(key)
		return t, "", err
	}
	if _, err := c.o.Lots.Get(key); err == nil {
		return nil, key, nil
	}
	m, err := receiving.ParseScan(key)
	if err != nil {
		return nil, "", badRequestf("%q is no EPC (24 hex digits or urn:epc:…), SSCC (18 digits), lot code or GS1 label: %v", key, err)
	}
	if sscc, ok := m.Get("00"); ok {
		t, err := c.o.Receiving.TraceSSCC(sscc)
		return t, "", err
	}
	if lot, ok := m.Get("10"); ok {
		if _, err := c.o.Lots.Get(lot); err == nil {
			return nil, lot, nil
		}
		if g, ok := m.Get("01"); ok {
			// The supplier's lot kept under a lot of the gateway's own.
			for _, l := range c.lotsBySupplierLot(g, lot) {
				return nil, l, nil
			}
		}
		return nil, "", fmt.Errorf("%w: no lot %s received here", receiving.ErrNotFound, lot)
	}
	return nil, "", badRequestf("the label names no carton (00) and no lot (10)")
}

// lotsBySupplierLot finds the lots of a GTIN whose supplier lot is lot.
func (c *Console) lotsBySupplierLot(gtin, lot string) []string {
	ls, err := c.o.Lots.List(context.Background(), lots.Query{Limit: 10000})
	if err != nil {
		return nil
	}
	var out []string
	for _, l := range ls {
		if l.SupplierLot == lot && (l.GTIN == "" || l.GTIN == gtin) {
			out = append(out, l.Code)
		}
	}
	return out
}

// printersData is the printers' page.
type printersData struct {
	Printers []Printer
}

func (c *Console) printersPage(w http.ResponseWriter, r *http.Request) {
	p := c.newPage(r, "Printers", "printers", printersData{Printers: c.o.Printers()})
	p.Topics = []string{topicPrinters}
	c.render(w, http.StatusOK, "printers", p)
}

// printerData is a printer's page.
type printerData struct {
	Printer Printer
	Queue   []spool.Job
	History []spool.Job
}

// historyShown is how many finished jobs a printer's page shows.
const historyShown = 50

func (c *Console) printerPage(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var d printerData
	found := false
	for _, p := range c.o.Printers() {
		if p.ID == id {
			d.Printer, found = p, true
		}
	}
	if !found {
		c.errorPage(w, r, fmt.Errorf("%w: printer %q is not configured", receiving.ErrNotFound, id))
		return
	}
	// Jobs are listed by id; the page shows the queue in queue order and
	// the latest finished jobs first.
	jobs, err := c.o.Spool.List(spool.Filter{Printer: id, Limit: 20000})
	if err != nil {
		c.errorPage(w, r, err)
		return
	}
	for _, j := range jobs {
		if j.State.Active() {
			d.Queue = append(d.Queue, j)
		} else {
			d.History = append(d.History, j)
		}
	}
	slices.SortFunc(d.Queue, func(a, b spool.Job) int { return cmp.Compare(a.Seq, b.Seq) })
	slices.SortFunc(d.History, func(a, b spool.Job) int { return b.Updated.Compare(a.Updated) })
	d.History = d.History[:min(len(d.History), historyShown)]
	p := c.newPage(r, "Printer "+id, "printers", d)
	p.Topics = []string{topicPrinters}
	c.render(w, http.StatusOK, "printer", p)
}

// jobAction is POST /printers/{id}/jobs/{job}: reprint or cancel, with the
// reason a person gave.
func (c *Console) jobAction(w http.ResponseWriter, r *http.Request) {
	printer, job := r.PathValue("id"), r.PathValue("job")
	back := "/printers/" + url.PathEscape(printer)
	action, reason := r.FormValue("action"), strings.TrimSpace(r.FormValue("reason"))
	by := c.by(r)
	if msg := checkName(by); msg != "" {
		c.actionError(w, r, back, badRequestf("%s", msg))
		return
	}
	if reason == "" {
		c.actionError(w, r, back, badRequestf("give the reason for the %s: it is recorded with the job", action))
		return
	}
	if j, err := c.o.Spool.Get(job); err != nil || j.Printer != printer {
		c.actionError(w, r, back, fmt.Errorf("%w: job %s of printer %s", spool.ErrNotFound, job, printer))
		return
	}
	var err error
	switch action {
	case "reprint":
		err = c.o.Reprint(r.Context(), job, reason, by)
	case "cancel":
		err = c.o.Cancel(r.Context(), job, reason, by)
	default:
		err = badRequestf("action %q: give reprint or cancel", action)
	}
	if err != nil {
		c.actionError(w, r, back, err)
		return
	}
	c.done(w, r, back, fmt.Sprintf("Job %s: %s asked (%s, by %s).", job, action, reason, by))
}

// labelsData is the labels' page: the templates, one of them with a form
// of its values and its preview.
type labelsData struct {
	Templates []*label.Template
	Template  *label.Template
	Printers  []Printer
	Printer   string
	Values    map[string]string
	Preview   *previewData
}

type previewData struct {
	PNG   template.URL // a data: URL
	Error string
}

func (c *Console) labelsData(r *http.Request) labelsData {
	q := r.URL.Query()
	d := labelsData{Templates: c.o.Templates(), Printers: c.o.Printers(), Printer: q.Get("printer"), Values: map[string]string{}}
	name := q.Get("template")
	for _, t := range d.Templates {
		if t.Name == name || name == "" && d.Template == nil {
			d.Template = t
		}
	}
	if d.Printer == "" && len(d.Printers) > 0 {
		d.Printer = d.Printers[0].ID
	}
	if d.Template == nil {
		return d
	}
	given := false
	for _, v := range d.Template.Variables {
		if val := q.Get(v.Name); val != "" {
			d.Values[v.Name], given = val, true
		}
	}
	if !given {
		// A first look: example values, so that there is a label to see.
		for _, v := range d.Template.Variables {
			if ex := example(v); ex != "" {
				d.Values[v.Name] = ex
			}
		}
	}
	d.Preview = &previewData{}
	png, err := c.o.Preview(d.Template.Name, d.Printer, d.Values)
	if err != nil {
		d.Preview.Error = err.Error()
	} else {
		d.Preview.PNG = template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png))
	}
	return d
}

// labelsPage is GET /labels; asked by htmx, only the preview.
func (c *Console) labelsPage(w http.ResponseWriter, r *http.Request) {
	d := c.labelsData(r)
	if r.Header.Get("HX-Request") != "" && r.Header.Get("HX-Target") == "preview" {
		c.fragment(w, http.StatusOK, "labels", "preview", d)
		return
	}
	code := http.StatusOK
	if d.Template == nil && len(d.Templates) > 0 {
		code = http.StatusNotFound // a template asked for by a name it does not have
	}
	c.render(w, code, "labels", c.newPage(r, "Labels", "labels", d))
}

// labelImage is GET /labels/image?template=&printer=&KEY=VALUE…: the PNG.
func (c *Console) labelImage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	vals := map[string]string{}
	for k, v := range q {
		if k != "template" && k != "printer" && len(v) > 0 && v[0] != "" {
			vals[k] = v[0]
		}
	}
	png, err := c.o.Preview(q.Get("template"), q.Get("printer"), vals)
	if err != nil {
		http.Error(w, err.Error(), statusOf(err))
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(png)
}

// healthData is the health page.
type healthData struct {
	Health
	Readers []Reader
	Pending uint64
	Queued  []queuedCount
}

type queuedCount struct {
	Priority string
	Events   uint64
	Bytes    uint64
}

func (c *Console) healthPage(w http.ResponseWriter, r *http.Request) {
	h := c.o.Health()
	d := healthData{Health: h, Readers: c.o.Readers(), Pending: h.Outbox.Pending()}
	for p := outbox.PriorityLifecycle; p <= outbox.PriorityTelemetry; p++ {
		d.Queued = append(d.Queued, queuedCount{Priority: p.String(), Events: h.Outbox.Queued[p].Events, Bytes: h.Outbox.Queued[p].Bytes})
	}
	p := c.newPage(r, "Health", "health", d)
	p.Topics = []string{topicHealth}
	code := http.StatusOK
	if !h.OK {
		code = http.StatusServiceUnavailable
	}
	c.render(w, code, "health", p)
}

// example is a value of a template variable's type for a first preview.
func example(v label.Variable) string {
	if v.Default != "" || !v.Required && v.Type != "int" && v.Type != "date" {
		return ""
	}
	switch v.Type {
	case "gtin":
		return "09520123456788"
	case "lot", "cset82", "text":
		return "EXAMPLE-1"
	case "date":
		if v.Name == "production" {
			return time.Now().Format(time.DateOnly)
		}
		return time.Now().AddDate(1, 0, 0).Format(time.DateOnly)
	case "int":
		return "12"
	case "sscc":
		return "095201230000000018"
	}
	return ""
}

// by is who makes a change: the person logged in, else the name given in
// the form, else who the API would name (local on loopback, token
// otherwise), as the label audit trail does.
func (c *Console) by(r *http.Request) string {
	if name := cmp.Or(who(r), strings.TrimSpace(r.FormValue("by"))); name != "" {
		return name
	}
	if c.o.Token == "" {
		return "local"
	}
	return "token"
}
