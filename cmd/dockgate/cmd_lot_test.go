package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dockgate/dockgate/edge/config"
	"github.com/dockgate/dockgate/edge/gateway"
	"github.com/dockgate/dockgate/edge/lots"
	"github.com/dockgate/dockgate/edge/store"
)

func lotRun(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	env := &cliEnv{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(k string) string {
		if k == "USER" {
			return "tester"
		}
		return ""
	}}
	code = runMain(context.Background(), env, append([]string{"lot"}, args...))
	return out.String(), errb.String(), code
}

func mustLot(t *testing.T, args ...string) string {
	t.Helper()
	out, errs, code := lotRun(t, args...)
	if code != 0 {
		t.Fatalf("lot %q: exit %d: %s", args, code, errs)
	}
	return out
}

const seedFormat = "{YYMM}-{BRAND}-{PRODUCT}-{SEQ:3}"

func TestLotNewAndRegistry(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "d")
	nw := func(date string) string {
		return strings.TrimSpace(mustLot(t, "new", "--data-dir", dir, "--format", seedFormat, "--product", "WLD01", "--brand", "LWX",
			"--date", date, "--expiry", "2099-09-30", "--supplier", "ACME", "--supplier-lot", "S-1", "--qty", "12", "--gtin", "09520123456788"))
	}
	got := []string{nw("2025-05-07"), nw("2025-05-20"), nw("2025-06-01")}
	want := []string{"2505-LWX-WLD01-001", "2505-LWX-WLD01-002", "2506-LWX-WLD01-001"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("codes %q, want %q", got, want)
	}

	var l lots.Lot
	if err := json.Unmarshal([]byte(mustLot(t, "show", "--data-dir", dir, "2505-LWX-WLD01-002")), &l); err != nil {
		t.Fatal(err)
	}
	if l.Product != "WLD01" || l.SupplierLot != "S-1" || l.Quantity != 12 || l.Unit != "EA" || l.Production != "2025-05-20" ||
		l.Status != lots.StatusActive || len(l.History) != 1 || l.History[0].By != "tester" {
		t.Fatalf("show: %+v", l)
	}

	// Flags after the code, as documented.
	out := mustLot(t, "hold", "2505-LWX-WLD01-001", "--data-dir", dir, "--reason", "lab test")
	if err := json.Unmarshal([]byte(out), &l); err != nil || l.Status != lots.StatusOnHold || l.HoldReason != "lab test" {
		t.Fatalf("hold: %s %v", out, err)
	}
	var ls []lots.Lot
	if err := json.Unmarshal([]byte(mustLot(t, "list", "--data-dir", dir, "--status", "on_hold")), &ls); err != nil || len(ls) != 1 || ls[0].Code != "2505-LWX-WLD01-001" {
		t.Fatalf("list on_hold: %+v %v", ls, err)
	}
	if err := json.Unmarshal([]byte(mustLot(t, "list", "--data-dir", dir, "--product", "WLD01", "--order", "fifo")), &ls); err != nil || len(ls) != 2 || ls[0].Code != "2505-LWX-WLD01-002" {
		t.Fatalf("list fifo: %+v %v", ls, err)
	}
	if err := json.Unmarshal([]byte(mustLot(t, "list", "--data-dir", dir, "--from", "2025-05-10", "--to", "2025-05-31")), &ls); err != nil || len(ls) != 1 {
		t.Fatalf("list dates: %+v %v", ls, err)
	}
	if out := mustLot(t, "list", "--data-dir", dir, "--supplier", "NOBODY"); strings.TrimSpace(out) != "[]" {
		t.Fatalf("empty list prints %q", out)
	}
	mustLot(t, "release", "2505-LWX-WLD01-001", "--data-dir", dir)
	mustLot(t, "recall", "2505-LWX-WLD01-001", "--data-dir", dir, "--reason", "supplier recall")
	if err := json.Unmarshal([]byte(mustLot(t, "expiring", "--data-dir", dir, "--days", "100000")), &ls); err != nil || len(ls) != 2 {
		t.Fatalf("expiring: %+v %v", ls, err)
	}

	out = mustLot(t, "register", "--data-dir", dir, "SUPLOT9", "--product", "WLD01", "--supplier", "ACME")
	if err := json.Unmarshal([]byte(out), &l); err != nil || l.Source != lots.SourceSupplier || l.SupplierLot != "SUPLOT9" {
		t.Fatalf("register: %s %v", out, err)
	}
}

func TestLotDecode(t *testing.T) {
	out := mustLot(t, "decode", "--format", seedFormat, "2505-LWX-WLD01-002")
	want := `{"code":"2505-LWX-WLD01-002","format":"{YYMM}-{BRAND}-{PRODUCT}-{SEQ:3}","brand":"LWX","product":"WLD01","year":2025,"month":5,"seq":2}`
	var got, exp any
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	_ = json.Unmarshal([]byte(want), &exp)
	if fmt.Sprint(got) != fmt.Sprint(exp) {
		t.Fatalf("decode = %s, want %s", out, want)
	}
	if _, errs, code := lotRun(t, "decode", "--format", seedFormat, "2513-LWX-WLD01-002"); code != 1 || !strings.Contains(errs, "month 13") {
		t.Fatalf("bad month: %d %s", code, errs)
	}
}

func TestLotConfigFile(t *testing.T) {
	tmp := t.TempDir()
	cfg := filepath.Join(tmp, "gw.yaml")
	dir := filepath.Join(tmp, "data")
	yaml := "site: dc1\ngateway: gw1\ndata_dir: " + dir + "\nlots:\n  default_format: shared\n  formats:\n    shared:\n      format: \"{YYMMDD}-{SITE}-{SEQ:4}\"\n      shared: true\n      seq_per: global\n"
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	code := strings.TrimSpace(mustLot(t, "new", "-c", cfg, "--product", "P", "--date", "2025-05-07"))
	if code != "250507-dc1-0001" {
		t.Fatalf("code %q", code)
	}
	out := mustLot(t, "decode", "-c", cfg, code)
	if !strings.Contains(out, `"site": "dc1"`) || !strings.Contains(out, `"date": "2025-05-07"`) {
		t.Fatalf("decode with the default format: %s", out)
	}
	if _, errs, c := lotRun(t, "new", "-c", cfg, "--format", "nope", "--product", "P"); c != 1 || !strings.Contains(errs, `no format "nope"`) {
		t.Fatalf("unknown format: %d %s", c, errs)
	}
}

func TestLotErrors(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		frag string
	}{
		{[]string{"new", "--data-dir", dir, "--format", seedFormat}, "--product is required"},
		{[]string{"new", "--data-dir", dir, "--format", "{YYMM}-{BRAND}-{PRODUCT}-{SEQ:5}", "--product", "P"}, "worst case"},
		{[]string{"new", "--data-dir", dir, "--format", seedFormat, "--product", "P"}, "needs a value for {BRAND}"},
		{[]string{"new", "--data-dir", dir, "--format", seedFormat, "--product", "P", "--brand", "B", "--date", "7/5/25"}, "YYYY-MM-DD"},
		{[]string{"new", "--data-dir", dir, "--format", seedFormat, "--product", "P", "--brand", "B", "--qty", "-1"}, "positive"},
		{[]string{"new", "--data-dir", dir, "--format", seedFormat, "--product", "P", "--brand", "B", "--qty", "NaN"}, "positive number up to 1e9"},
		{[]string{"show", "--data-dir", dir, "NOPE"}, "no such lot"},
		{[]string{"show", "--data-dir", filepath.Join(dir, "missing"), "X"}, "check --data-dir"},
		{[]string{"hold", "--data-dir", dir, "X"}, "--reason is required"},
		{[]string{"list", "--data-dir", dir, "--order", "fefo"}, "needs a product"},
		{[]string{"list", "--data-dir", dir, "--status", "lost"}, "not one of"},
	} {
		_, errs, code := lotRun(t, c.args...)
		if code != 1 || !strings.Contains(errs, c.frag) || strings.Count(strings.TrimSpace(errs), "\n") != 0 {
			t.Errorf("lot %q: exit %d, stderr %q; want 1 and one line containing %q", c.args, code, errs, c.frag)
		}
	}
	// Usage errors: exit 2, what is wrong and the usage on stderr.
	for _, c := range []struct {
		args []string
		frag string
	}{
		{[]string{"list", "--bogus"}, "-bogus"},
		{[]string{"frobnicate"}, "unknown subcommand"},
		{nil, "name a subcommand"},
	} {
		if _, errs, code := lotRun(t, c.args...); code != 2 || !strings.Contains(errs, c.frag) || !strings.Contains(errs, "usage:") {
			t.Errorf("lot %q: exit %d, stderr %q; want 2, %q and the usage", c.args, code, errs, c.frag)
		}
	}
	// Neither -c nor --data-dir, and no gateway on the defaults: the
	// command names what it tried and creates nothing.
	var dataDir atomic.Value
	missing := filepath.Join(t.TempDir(), "dockgate-data")
	dataDir.Store(missing)
	httpAddr := defaultsOnFreePorts(t, &dataDir)
	_, errs, code := lotRun(t, "new", "--format", seedFormat, "--product", "P", "--brand", "B")
	if code != 1 || !strings.Contains(errs, "no data dir "+missing+" here") || !strings.Contains(errs, httpAddr) || !strings.Contains(errs, "--data-dir DIR") {
		t.Errorf("lot new on the defaults with no gateway: exit %d, stderr %q", code, errs)
	}
	if _, err := os.Stat(missing); err == nil {
		t.Errorf("lot new made %s", missing)
	}
	// Without -c or --format: the default format `dockgate run` uses.
	if out, errs, code := lotRun(t, "new", "--data-dir", t.TempDir(), "--product", "P", "--date", "2025-05-01"); code != 0 || !strings.HasPrefix(out, "2505-") {
		t.Errorf("lot new on the defaults: exit %d, %q %q", code, out, errs)
	}
}

// TestLotDataDirInUse: while the gateway holds the data dir, commands fail
// with one line naming the pid and leave the store alone.
func TestLotDataDirInUse(t *testing.T) {
	dir := t.TempDir()
	s, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	want := fmt.Sprintf("data dir %s is in use by pid %d: stop the gateway or use its HTTP API\n", dir, os.Getpid())
	for _, args := range [][]string{
		{"new", "--data-dir", dir, "--format", seedFormat, "--product", "P", "--brand", "B"},
		{"show", "--data-dir", dir, "X"},
		{"list", "--data-dir", dir},
		{"hold", "X", "--data-dir", dir, "--reason", "r"},
	} {
		_, errs, code := lotRun(t, args...)
		if code != 1 || errs != want {
			t.Errorf("lot %q: exit %d, stderr %q; want %q", args, code, errs, want)
		}
	}
}

func TestLotHelp(t *testing.T) {
	out, _, code := lotRun(t, "-h")
	if code != 0 || !strings.Contains(out, "decode, expiring, hold, list, new, recall, register, release, show") {
		t.Fatalf("lot -h: %d %q", code, out)
	}
	_, errs, code := lotRun(t, "decode", "--format", "{YYMM}-{SEQ:30}", "X")
	if code != 1 || strings.HasPrefix(errs, "dockgate lot: lot:") {
		t.Fatalf("error prefix: %q", errs)
	}
}

// TestLotThroughGatewayAPI: while a running gateway holds the data dir, the
// registry commands go through its HTTP API.
func TestLotThroughGatewayAPI(t *testing.T) {
	dir := t.TempDir()
	code := strings.TrimSpace(mustLot(t, "new", "--data-dir", dir, "--format", seedFormat, "--product", "WLD01", "--brand", "LWX", "--date", "2025-05-07", "--expiry", "2099-01-31"))
	_, cfg, _ := startGateway(t, dir)
	var out, errs string
	rc := -1
	for range 100 { // bounded wait for the HTTP API
		if out, errs, rc = lotRun(t, "show", "-c", cfg, code); rc == 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	var l lots.Lot
	if rc != 0 || json.Unmarshal([]byte(out), &l) != nil || l.Code != code || len(l.History) != 1 {
		t.Fatalf("show through the API: exit %d %s %s", rc, out, errs)
	}
	out = mustLot(t, "hold", code, "-c", cfg, "--reason", "lab")
	if json.Unmarshal([]byte(out), &l) != nil || l.Status != lots.StatusOnHold {
		t.Fatalf("hold through the API: %s", out)
	}
	var ls []lots.Lot
	if out = mustLot(t, "list", "-c", cfg, "--status", "on_hold"); json.Unmarshal([]byte(out), &ls) != nil || len(ls) != 1 {
		t.Fatalf("list through the API: %s", out)
	}
	if out = mustLot(t, "expiring", "-c", cfg, "--days", "100000"); json.Unmarshal([]byte(out), &ls) != nil || len(ls) != 1 {
		t.Fatalf("expiring through the API: %s", out)
	}
	if out = mustLot(t, "release", code, "-c", cfg); json.Unmarshal([]byte(out), &l) != nil || l.Status != lots.StatusReleased {
		t.Fatalf("release through the API: %s", out)
	}
	if _, errs, rc = lotRun(t, "show", "-c", cfg, "NOPE"); rc != 1 || !strings.Contains(errs, "no such lot") {
		t.Fatalf("unknown lot through the API: %d %s", rc, errs)
	}
	// Issue, register and recall go through the API too.
	code2 := strings.TrimSpace(mustLot(t, "new", "-c", cfg, "--format", seedFormat, "--product", "WLD01", "--brand", "LWX", "--date", "2025-05-08", "--expiry", "2099-02-28", "--qty", "12"))
	if code2 == code || !strings.HasSuffix(code2, "-002") {
		t.Fatalf("new through the API: %q after %q", code2, code)
	}
	if out = mustLot(t, "show", "-c", cfg, code2); json.Unmarshal([]byte(out), &l) != nil || l.Production != "2025-05-08" || l.Expiry != "2099-02-28" || l.Quantity != 12 || l.Unit != "EA" || l.Site != "test" {
		t.Fatalf("issued lot through the API: %s", out)
	}
	// With an id, running again (a retry) prints the same lot.
	idArgs := []string{"new", "-c", cfg, "--id", "po-1:line-1", "--format", seedFormat, "--product", "WLD01", "--brand", "LWX", "--date", "2025-05-08"}
	code3 := strings.TrimSpace(mustLot(t, idArgs...))
	if again := strings.TrimSpace(mustLot(t, idArgs...)); again != code3 || code3 == code2 {
		t.Fatalf("new --id through the API: %q then %q (after %q)", code3, again, code2)
	}
	out = mustLot(t, "register", "SUP-778", "-c", cfg, "--product", "WLD01", "--supplier", "ACME", "--expiry", "2099-03-31")
	if json.Unmarshal([]byte(out), &l) != nil || l.Code != "SUP-778" || l.Source != "supplier" || l.Supplier != "ACME" {
		t.Fatalf("register through the API: %s", out)
	}
	if _, errs, rc = lotRun(t, "register", "SUP-778", "-c", cfg, "--product", "WLD01", "--supplier", "OTHER"); rc != 1 || !strings.Contains(errs, "already registered") {
		t.Fatalf("second register through the API: %d %s", rc, errs)
	}
	if out = mustLot(t, "recall", code2, "-c", cfg, "--reason", "complaint 4411"); json.Unmarshal([]byte(out), &l) != nil || l.Status != lots.StatusRecalled {
		t.Fatalf("recall through the API: %s", out)
	}
	if _, errs, rc = lotRun(t, "new", "-c", cfg, "--format", seedFormat, "--product", "WLD01", "--brand", "LWX", "--date", "2025-13-01"); rc != 1 || !strings.Contains(errs, "--date") {
		t.Fatalf("bad date: %d %s", rc, errs)
	}
}

// Lot changes made offline wait in the outbox, as the running gateway's
// would: central hears of them at the gateway's next start.
func TestOfflineLotChangesQueueEvents(t *testing.T) {
	dir := t.TempDir()
	code := strings.TrimSpace(mustLot(t, "new", "--data-dir", dir, "--product", "P", "--date", "2025-05-01"))
	mustLot(t, "hold", code, "--data-dir", dir, "--reason", "lab")
	cfg := config.Default()
	cfg.DataDir = dir
	g, err := gateway.Open(cfg, gateway.Info{}, slog.New(slog.DiscardHandler), gateway.Options{Offline: true, NoRecover: true})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	evs, err := g.Outbox().Next(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, ev := range evs {
		types = append(types, ev.Type)
	}
	if got := strings.Join(types, " "); !strings.Contains(got, "lot.created") || !strings.Contains(got, "lot.hold") {
		t.Fatalf("outbox holds %q, want lot.created and lot.hold", got)
	}
}

// Root refused on another user's data dir: the store's line says what to
// do, with nothing about damaged stores added.
func TestStoreLineKeepsAnOwnerError(t *testing.T) {
	err := fmt.Errorf("open: %w", &store.OwnerError{Dir: "/var/lib/dockgate", UID: 61796})
	if got := storeLine(err); got != err {
		t.Fatalf("storeLine(%q) = %q, want it unchanged", err, got)
	}
}
