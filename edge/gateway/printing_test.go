package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/dockgate/dockgate/edge/api"
	"github.com/dockgate/dockgate/edge/command"
	"github.com/dockgate/dockgate/edge/config"
	"github.com/dockgate/dockgate/edge/receiving"
	"github.com/dockgate/dockgate/printers"
	"github.com/dockgate/dockgate/printers/spool"
	"github.com/dockgate/dockgate/rfid/portal"
)

// A template named from outside (HTTP, MQTT) is a built-in or configured
// one, never a file of the gateway's disk.
func TestRequestTemplateIsNeverAnArbitraryFile(t *testing.T) {
	cfg, err := config.Complete(&config.Config{Site: "t", Gateway: "gw", DataDir: t.TempDir(),
		Broker: config.Broker{Listen: "127.0.0.1:0"},
		Doors:  []config.Door{{DoorConfig: portal.DoorConfig{ID: "DOOR1"}}},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg.HTTP.Listen = ""
	g, err := Open(cfg, Info{}, slog.New(slog.DiscardHandler), Options{Offline: true})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if _, err := g.printing.requestTemplate(cfg.Labels.Carton); err != nil {
		t.Fatalf("the carton template: %v", err)
	}
	for _, name := range []string{"/etc/passwd", "../../etc/hostname", "testdata/x.yaml"} {
		_, err := g.printing.requestTemplate(name)
		if err == nil || !strings.Contains(err.Error(), "not a template of this gateway") || strings.Contains(err.Error(), "root:") {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// printGateway opens an offline gateway with one simulated printer P1 at
// DOOR1 and returns it with its printing HTTP routes (offline, no
// listener: jobs only queue).
func printGateway(t *testing.T, change func(*config.Config)) (*Gateway, http.Handler) {
	t.Helper()
	c := &config.Config{Site: "t", Gateway: "gw", DataDir: t.TempDir(),
		Printers: []printers.Config{{ID: "P1", Profile: "zebra-zt411-203", Transport: config.TransportSim}},
		Doors:    []config.Door{{DoorConfig: portal.DoorConfig{ID: "DOOR1"}, Printer: "P1"}},
	}
	if change != nil {
		change(c)
	}
	cfg, err := config.Complete(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	g, err := Open(cfg, Info{}, slog.New(slog.DiscardHandler), Options{Offline: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.Close)
	a := api.New("", slog.New(slog.DiscardHandler), g.health)
	g.printing.routes(a)
	return g, a.Handler()
}

// handlerMap records the handlers of commands.
type handlerMap map[string]command.Handler

func (m handlerMap) Handle(name string, h command.Handler) { m[name] = h }

func serve(t *testing.T, h http.Handler, method, target string, body any, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(method, target, rd))
	if out != nil && w.Code == http.StatusOK {
		if err := json.Unmarshal(w.Body.Bytes(), out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, target, err, w.Body)
		}
	}
	return w.Code
}

const testZPL = "^XA^FO50,50^A0N,40,40^FDx^FS^XZ"

// Command ids that differ only in characters a job id cannot hold are
// different jobs: none is taken for a retry of another, and each is found
// under the id its result reports and under its own.
func TestDistinctCommandIDsAreDistinctJobs(t *testing.T) {
	g, h := printGateway(t, nil)
	cmds := handlerMap{}
	g.printing.commands(cmds)
	printCmd := func(id, zpl string) (spool.Job, error) {
		t.Helper()
		body, _ := json.Marshal(map[string]string{"id": id, "printer": "P1", "zpl": zpl})
		v, err := cmds["print"](context.Background(), command.Command{Name: "print", ID: id, Payload: body})
		j, _ := v.(spool.Job)
		return j, err
	}
	seen := map[string]string{}
	for _, id := range []string{"po@7", "po$7", "po-7", "po!7"} {
		zpl := testZPL
		if id == "po!7" {
			zpl = strings.Replace(testZPL, "^FDx", "^FDother", 1)
		}
		j, err := printCmd(id, zpl)
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		if other, dup := seen[j.ID]; dup {
			t.Fatalf("%s and %s both became job %s", other, id, j.ID)
		}
		seen[j.ID] = id
		for _, path := range []string{j.ID, id} {
			var got spool.Job
			if code := serve(t, h, "GET", "/jobs/"+url.PathEscape(path), nil, &got); code != http.StatusOK || got.ID != j.ID {
				t.Errorf("GET /jobs/%s: %d %+v; want job %s", path, code, got, j.ID)
			}
		}
	}
	if jobs, _ := g.Spooler().List(spool.Filter{Printer: "P1"}); len(jobs) != 4 {
		t.Fatalf("%d jobs queued, want 4", len(jobs))
	}
	// A retry of the same command id is the same job.
	j1, _ := printCmd("po@7", testZPL)
	j2, err := printCmd("po@7", testZPL)
	if err != nil || j1.ID != j2.ID {
		t.Fatalf("retry: %s then %s (%v)", j1.ID, j2.ID, err)
	}
	// A reprint names the job by either id.
	if _, err := g.Spooler().Get(j1.ID); err != nil {
		t.Fatal(err)
	}
	if err := g.Spooler().Cancel(j1.ID); err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(map[string]string{"job": "po@7", "reason": "test"})
	if v, err := cmds["reprint"](context.Background(), command.Command{Name: "reprint", ID: "r1", Payload: body}); err != nil || v.(spool.Job).State != spool.Queued {
		t.Fatalf("reprint by the command id: %v %v", v, err)
	}
}

// A WMS id with '/', '#' or '@' prints over HTTP and is found again.
func TestHTTPPrintWithWMSID(t *testing.T) {
	_, h := printGateway(t, nil)
	ids := map[string]bool{}
	for _, id := range []string{"PO/4711#2", "PO#4711/2", "ASN@4711", strings.Repeat("x/", 100)} {
		var j spool.Job
		if code := serve(t, h, "POST", "/print", map[string]string{"id": id, "printer": "P1", "zpl": testZPL}, &j); code != http.StatusOK {
			t.Fatalf("POST /print id %q: %d", id, code)
		}
		if ids[j.ID] || len(j.ID) > maxJobID {
			t.Fatalf("id %q became job %q", id, j.ID)
		}
		ids[j.ID] = true
		var got spool.Job
		if code := serve(t, h, "GET", "/jobs/"+url.PathEscape(id), nil, &got); code != http.StatusOK || got.ID != j.ID {
			t.Errorf("GET /jobs/%s: %d %q; want %q", url.PathEscape(id), code, got.ID, j.ID)
		}
	}
}

func TestLocalID(t *testing.T) {
	for _, tc := range []struct {
		id   string
		max  int
		keep bool
	}{
		{"po-7", maxJobID, true},
		{"A.b_c:d-9", maxJobID, true},
		{strings.Repeat("a", maxJobID), maxJobID, true},
		{strings.Repeat("a", maxJobID+1), maxJobID, false},
		{strings.Repeat("a", maxReceiptID+1), maxReceiptID, false},
		{"po@7", maxJobID, false},
		{strings.Repeat("#", maxJobID), maxReceiptID, false},
	} {
		got := localID(tc.id, tc.max)
		if (got == tc.id) != tc.keep {
			t.Errorf("localID(%q) = %q; kept %v, want %v", tc.id, got, got == tc.id, tc.keep)
		}
		if len(got) > tc.max || !inIDAlphabet(got) || got == "" {
			t.Errorf("localID(%q, %d) = %q: not a job id", tc.id, tc.max, got)
		}
		if again := localID(got, tc.max); again != got {
			t.Errorf("localID(%q) = %q is not stable: %q", tc.id, got, again)
		}
	}
	if localID("po@7", maxJobID) == localID("po$7", maxJobID) {
		t.Error("po@7 and po$7 give the same id")
	}
}

// qty is bounded the same way for a template and for raw ZPL, and the job
// record counts the labels.
func TestPrintQty(t *testing.T) {
	g, h := printGateway(t, func(c *config.Config) {
		c.Printers = append(c.Printers, printers.Config{ID: "R1", Profile: "zebra-zt411r-203", Transport: config.TransportSim})
	})
	vals := map[string]string{"gtin": "09520123456788", "lot": "L1", "sscc": "095201230000000011"}
	for _, tc := range []struct {
		name string
		req  printRequest
		code int
		copy int
	}{
		{"template", printRequest{Printer: "P1", Template: "carton", Values: vals, Qty: 3}, 200, 3},
		{"template default", printRequest{Printer: "P1", Template: "carton", Values: vals}, 200, 1},
		{"template at the cap", printRequest{Printer: "P1", Template: "carton", Values: vals, Qty: spool.MaxCopies}, 200, spool.MaxCopies},
		{"template over the cap", printRequest{Printer: "P1", Template: "carton", Values: vals, Qty: 100000}, 400, 0},
		{"zpl", printRequest{Printer: "P1", ZPL: testZPL, Qty: 5}, 200, 5},
		{"zpl over the cap", printRequest{Printer: "P1", ZPL: testZPL, Qty: spool.MaxCopies + 1}, 400, 0},
		{"zpl formats times qty over the cap", printRequest{Printer: "P1", ZPL: testZPL + testZPL, Qty: 600}, 400, 0},
		{"zpl ^PQ over the cap", printRequest{Printer: "P1", ZPL: "^XA^FDx^FS^PQ2000^XZ"}, 400, 0},
		{"zpl lower-case ^pq over the cap", printRequest{Printer: "P1", ZPL: "^XA^FDx^FS^PQ1^pq2000^XZ"}, 400, 0},
		{"zpl SGD between formats", printRequest{Printer: "P1", ZPL: testZPL + "\r\n! U1 getvar \"device.host_status\"\r\n" + testZPL}, 400, 0},
		{"negative", printRequest{Printer: "P1", ZPL: testZPL, Qty: -1}, 400, 0},
		{"one EPC on several tags", printRequest{Printer: "R1", Template: "carton", Qty: 2,
			Values: map[string]string{"gtin": "09520123456788", "lot": "L1", "epc": "3074257BF7194E4000001A85"}}, 400, 0},
	} {
		body := struct {
			ID string `json:"id"`
			printRequest
		}{strings.ReplaceAll(tc.name, " ", "-"), tc.req}
		w := httptest.NewRecorder()
		b, _ := json.Marshal(body)
		h.ServeHTTP(w, httptest.NewRequest("POST", "/print", bytes.NewReader(b)))
		if w.Code != tc.code {
			t.Errorf("%s: %d %s; want %d", tc.name, w.Code, w.Body, tc.code)
			continue
		}
		if tc.code != 200 {
			if (tc.req.Qty > spool.MaxCopies || tc.req.Values["epc"] != "" || (tc.req.Qty > 1 && tc.req.ZPL != "")) && !strings.Contains(w.Body.String(), "qty") {
				t.Errorf("%s: the error does not name qty: %s", tc.name, w.Body)
			}
			if strings.Contains(tc.req.ZPL, "PQ") && !strings.Contains(w.Body.String(), "2000 labels") {
				t.Errorf("%s: the error does not count the labels: %s", tc.name, w.Body)
			}
			continue
		}
		j, err := g.Spooler().Get(body.ID)
		if err != nil {
			t.Fatal(err)
		}
		if j.Copies != tc.copy {
			t.Errorf("%s: job copies %d, want %d", tc.name, j.Copies, tc.copy)
		}
		if j.Labels != tc.copy {
			t.Errorf("%s: job labels %d, want %d", tc.name, j.Labels, tc.copy)
		}
		// The labels are the job's copies: a ^PQ of its own would multiply them.
		if tc.req.Template != "" && !strings.Contains(j.ZPL, "^PQ1,") {
			t.Errorf("%s: the format prints more than one label:\n%s", tc.name, j.ZPL)
		}
	}
}

// labels.preview_dir is made at start for every printer, not only for the
// simulators; one that cannot be made is reported once, at start.
func TestPreviewDir(t *testing.T) {
	open := func(dir string) (*Gateway, *lockedWriter) {
		t.Helper()
		cfg, err := config.Complete(&config.Config{Site: "t", Gateway: "gw", DataDir: t.TempDir(),
			Labels:   config.Labels{PreviewDir: dir},
			Printers: []printers.Config{{ID: "P1", Profile: "zebra-zt411-203", Address: "127.0.0.1:9100"}},
			Doors:    []config.Door{{DoorConfig: portal.DoorConfig{ID: "DOOR1"}, Printer: "P1"}},
		}, nil)
		if err != nil {
			t.Fatal(err)
		}
		logs := &lockedWriter{}
		g, err := Open(cfg, Info{}, slog.New(slog.NewTextHandler(logs, nil)), Options{Offline: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(g.Close)
		return g, logs
	}
	vals := map[string]string{"gtin": "09520123456788", "lot": "L1", "sscc": "095201230000000011"}

	dir := filepath.Join(t.TempDir(), "previews", "dock")
	g, logs := open(dir)
	if _, err := g.printing.print(context.Background(), "J1", printRequest{Printer: "P1", Template: "carton", Values: vals}); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "label-095201230000000011.png")); err != nil || !bytes.HasPrefix(b, []byte("\x89PNG")) {
		t.Fatalf("preview: %v; log: %s", err, logs)
	}
	// A print refused by the spooler leaves no preview.
	if _, err := g.printing.print(context.Background(), "J0", printRequest{Printer: "P1", Template: "carton", Qty: 5000,
		Values: map[string]string{"gtin": "09520123456788", "lot": "L2", "sscc": "095201230000000028"}}); err == nil {
		t.Fatal("5000 labels in one job were taken")
	}
	// A receipt writes the previews of its cartons' labels, and its
	// pre-flight check (a stand-in lot) writes none.
	rc, err := g.Receiving().Receive(context.Background(), receiving.Request{ID: "R-prev", Door: "DOOR1", GTIN: "09520123456788", Product: "WLD01", Cartons: 2})
	if err != nil {
		t.Fatal(err)
	}
	names, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"label-095201230000000011.png", "label-" + rc.Cartons[0] + ".png", "label-" + rc.Cartons[1] + ".png"}
	slices.Sort(want)
	var got []string
	for _, n := range names {
		got = append(got, n.Name())
	}
	if !slices.Equal(got, want) {
		t.Fatalf("previews %v, want %v", got, want)
	}
	// The next receipt's pre-flight (its stand-in carton is the range's
	// first SSCC) does not overwrite the first receipt's preview.
	first := filepath.Join(dir, "label-"+rc.Cartons[0]+".png")
	before, err := os.ReadFile(first)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.Receiving().Receive(context.Background(), receiving.Request{ID: "R-prev2", Door: "DOOR1", GTIN: "09520123456788", Product: "WLD02", Cartons: 1}); err != nil {
		t.Fatal(err)
	}
	if after, err := os.ReadFile(first); err != nil || !bytes.Equal(after, before) {
		t.Fatalf("the first receipt's preview was written over (%v)", err)
	}

	file := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	g, logs = open(filepath.Join(file, "previews"))
	if n := strings.Count(logs.String(), "preview_dir"); n != 1 {
		t.Fatalf("%d reports of the preview dir at start, want 1: %s", n, logs)
	}
	for i := range 3 {
		if _, err := g.printing.print(context.Background(), "J"+strconv.Itoa(i), printRequest{Printer: "P1", Template: "carton", Values: vals}); err != nil {
			t.Fatal(err)
		}
	}
	if n := strings.Count(logs.String(), "\n"); n != 1 {
		t.Fatalf("%d log lines, want the one at start: %s", n, logs)
	}
}

// lockedWriter is a log destination safe for concurrent use.
type lockedWriter struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(b)
}

func (l *lockedWriter) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// GET /printers/{id}/jobs pages with limit and after, and says in a Link
// header when a page was cut off; the body stays an array of jobs.
func TestJobsPages(t *testing.T) {
	g, h := printGateway(t, func(c *config.Config) {
		c.Printers = append(c.Printers, printers.Config{ID: "P2", Profile: "zebra-zt411-203", Transport: config.TransportSim})
	})
	var want []string
	for i := range 7 {
		id := fmt.Sprintf("J%02d", i)
		want = append(want, id)
		for _, pr := range []string{"P1", "P2"} {
			if err := g.Spooler().Submit(context.Background(), spool.Job{ID: pr + "-" + id, Printer: pr, ZPL: testZPL}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := g.Spooler().Cancel("P1-J03"); err != nil {
		t.Fatal(err)
	}
	page := func(target string) ([]string, string) {
		t.Helper()
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", target, nil))
		var jobs []spool.Job
		if w.Code != http.StatusOK || json.Unmarshal(w.Body.Bytes(), &jobs) != nil {
			t.Fatalf("GET %s: %d %s", target, w.Code, w.Body)
		}
		var ids []string
		for _, j := range jobs {
			if j.Printer != "P1" || j.ZPL != "" {
				t.Fatalf("GET %s: job %+v", target, j)
			}
			ids = append(ids, strings.TrimPrefix(j.ID, "P1-"))
		}
		link := w.Header().Get("Link")
		if link == "" {
			return ids, ""
		}
		next, ok := strings.CutSuffix(strings.TrimPrefix(link, "<"), `>; rel="next"`)
		if !ok {
			t.Fatalf("GET %s: Link %q", target, link)
		}
		return ids, next
	}
	if ids, next := page("/printers/P1/jobs"); strings.Join(ids, ",") != strings.Join(want, ",") || next != "" {
		t.Fatalf("all jobs: %v, next %q", ids, next)
	}
	var got []string
	pages := 0
	for next := "/printers/P1/jobs?limit=3"; next != ""; pages++ {
		var ids []string
		ids, next = page(next)
		got = append(got, ids...)
		if len(ids) > 3 || pages > 5 {
			t.Fatalf("page %d: %v", pages, ids)
		}
	}
	if strings.Join(got, ",") != strings.Join(want, ",") || pages != 3 {
		t.Fatalf("%d pages of %v, want 3 of %v", pages, got, want)
	}
	// the state filter is kept from page to page
	got, pages = nil, 0
	for next := "/printers/P1/jobs?state=queued&limit=2"; next != ""; pages++ {
		var ids []string
		ids, next = page(next)
		got = append(got, ids...)
		if next != "" && !strings.Contains(next, "state=queued") {
			t.Fatalf("next %q lost the state", next)
		}
	}
	if strings.Join(got, ",") != "J00,J01,J02,J04,J05,J06" || pages != 3 {
		t.Fatalf("queued: %d pages of %v", pages, got)
	}
	// a page that ends exactly at the last job has no next
	if ids, next := page("/printers/P1/jobs?after=P1-J03&limit=3"); strings.Join(ids, ",") != "J04,J05,J06" || next != "" {
		t.Fatalf("last page: %v, next %q", ids, next)
	}
	for _, bad := range []string{"0", "-1", "1001", "x"} {
		if code := serve(t, h, "GET", "/printers/P1/jobs?limit="+bad, nil, nil); code != http.StatusBadRequest {
			t.Errorf("limit %s: %d, want 400", bad, code)
		}
	}
	// an unknown printer or state is an error that says what to give,
	// not an empty list
	for _, c := range []struct {
		target string
		code   int
		want   []string
	}{
		{"/printers/NOPE/jobs", http.StatusNotFound, []string{"NOPE", "P1"}},
		{"/printers/P1/jobs?state=bogus", http.StatusBadRequest, []string{"bogus", "queued", "confirmed", "unknown"}},
		{"/printers/P1/jobs?state=Queued", http.StatusBadRequest, []string{"Queued"}},
	} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", c.target, nil))
		if w.Code != c.code {
			t.Errorf("%s: %d %s; want %d", c.target, w.Code, w.Body, c.code)
		}
		for _, part := range c.want {
			if !strings.Contains(w.Body.String(), part) {
				t.Errorf("%s: %s does not name %s", c.target, w.Body, part)
			}
		}
	}
}
