package console_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/dockgate/dockgate/edge/config"
	"github.com/dockgate/dockgate/printers/spool"
)

// The browser tests drive Debian's chromium, one browser for the whole
// test binary and a tab per test. Without chromium they skip, but in CI
// (CI set), where .ci/run installs it, they fail instead.

var (
	browserCtx  context.Context
	browserSkip string
)

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	bin := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			bin = p
			break
		}
	}
	if bin == "" {
		browserSkip = "chromium is not installed (apt-get install -y chromium): browser tests skipped"
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "dockgate-console-chromium-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.UserDataDir(dir),
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"), chromedp.WindowSize(1280, 800))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()
	if err := chromedp.Do(bctx); err != nil {
		browserSkip = "chromium does not start: " + err.Error()
	}
	browserCtx = bctx
	return m.Run()
}

// tab opens a tab for the test; on failure a screenshot of the page is
// saved and its path logged.
func tab(t *testing.T) context.Context {
	t.Helper()
	if browserSkip != "" {
		if os.Getenv("CI") != "" {
			t.Fatal(browserSkip + " (CI is set: .ci/run installs chromium)")
		}
		t.Skip(browserSkip)
	}
	base, cancel := chromedp.NewContext(browserCtx)
	ctx, cancelT := context.WithTimeout(base, 60*time.Second)
	t.Cleanup(func() {
		if t.Failed() {
			sctx, c := context.WithTimeout(base, 5*time.Second)
			url, _ := chromedp.Run(sctx, chromedp.Location())
			if png, err := chromedp.Run(sctx, chromedp.FullScreenshot(80)); err == nil {
				dir, _ := os.MkdirTemp("", "dockgate-console-"+t.Name()+"-")
				p := filepath.Join(dir, "page.jpg")
				if os.WriteFile(p, png, 0o644) == nil {
					t.Logf("screenshot of %s: %s", url, p)
				}
			}
			c()
		}
		cancelT()
		cancel()
	})
	return ctx
}

// steps runs actions in the test's tab.
func steps(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// within runs actions with their own deadline.
func within(t *testing.T, ctx context.Context, d time.Duration, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	if err := chromedp.Do(c, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// value runs one action that gives a value.
func value[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func css(s string) chromedp.CSS { return chromedp.CSS(s) }

// A shipment received through the form with a keyboard-wedge scan; the door
// board then follows it live, without a reload, to complete as the
// simulated printer prints and the simulated portal reads the cartons.
func TestBrowserReceiveToComplete(t *testing.T) {
	ctx := tab(t)
	r := newRig(t)
	steps(t, ctx, "the receive form",
		chromedp.Navigate(r.base+"/receive"),
		chromedp.WaitVisible(chromedp.ID("scan")),
		// A wedge types the scan data and Enter; GS comes as ␝.
		chromedp.SendKeys(chromedp.ID("scan"), "]C10109520123456788\u241d10BROWSER-1\u241d17300531\r"),
		chromedp.WaitVisible(css(`#ais tr[data-ai="10"]`)),
	)
	if ais := value(t, ctx, chromedp.Text(chromedp.ID("ais"))); !strings.Contains(ais, "BROWSER-1") || !strings.Contains(ais, "2030-05-31") {
		t.Fatalf("the parsed AIs: %q", ais)
	}
	steps(t, ctx, "submit",
		chromedp.SendKeys(chromedp.ID("cartons"), "3"),
		chromedp.SendKeys(chromedp.ID("supplier"), "Acme"),
		chromedp.Click(chromedp.ID("submit")),
		chromedp.WaitVisible(css(`#board .receipt [data-status="open"]`)),
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := chromedp.Evaluate[int](`window.__noReload = 1`)(ctx, t)
			return err
		}),
	)
	rcs, err := r.g.Receiving().DoorReceipts("DOOR1", 1)
	if err != nil || len(rcs) != 1 || rcs[0].Lot != "BROWSER-1" || len(rcs[0].Cartons) != 3 {
		t.Fatalf("receipt %+v %v", rcs, err)
	}
	within(t, ctx, 20*time.Second, "the labels printed, live",
		chromedp.WaitVisible(css(`#board dl.counts[data-printed="3"]`)))
	r.movePortal(rcs[0])
	within(t, ctx, 30*time.Second, "the receipt complete, live",
		chromedp.WaitVisible(css(`#board .receipt [data-status="complete"]`)),
		chromedp.WaitVisible(css(`#board dl.counts[data-seen="3"]`)))
	if kept := value(t, ctx, chromedp.Evaluate[int](`window.__noReload || 0`)); kept != 1 {
		t.Fatal("the page was reloaded")
	}
}

// A lot put on hold over MQTT shows as a red banner on the board of the
// door that received it, without a reload; acknowledged, it goes.
func TestBrowserHoldBanner(t *testing.T) {
	ctx := tab(t)
	r := newRig(t)
	rc := r.receive("ASN-B", 1)
	steps(t, ctx, "the door board",
		chromedp.Navigate(r.base+"/doors/DOOR1"),
		chromedp.WaitVisible(css(`#live-state[data-state="live"]`)),
		chromedp.WaitVisible(css(`#board .receipt`)),
	)
	value(t, ctx, chromedp.Evaluate[int](`window.__noReload = 1`))
	start := time.Now()
	r.holdOverMQTT(rc.Lot, "temperature excursion")
	within(t, ctx, 10*time.Second, "the red banner", chromedp.WaitVisible(css(`#board .alert-banner`)))
	t.Logf("banner shown %s after the hold command was published (goal: 2 s)", time.Since(start).Round(time.Millisecond))
	banner := value(t, ctx, chromedp.Text(css(`#board .alert-banner`)))
	if !strings.Contains(banner, rc.Lot) || !strings.Contains(banner, "STOP") || !strings.Contains(banner, "temperature excursion") {
		t.Fatalf("banner %q", banner)
	}
	if kept := value(t, ctx, chromedp.Evaluate[int](`window.__noReload || 0`)); kept != 1 {
		t.Fatal("the banner came with a reload")
	}
	steps(t, ctx, "acknowledge",
		chromedp.SetValue(css(`#board .alert-banner input[name=by]`), "Ana"),
		chromedp.Click(css(`#board .alert-banner .ack-button`)),
		chromedp.WaitVisible(css(`.flash`)),
		chromedp.WaitNotPresent(css(`#board .alert-banner`)),
	)
}

// A printed job is reprinted from the printer's page, with a reason.
func TestBrowserReprint(t *testing.T) {
	ctx := tab(t)
	r := newRig(t)
	rc := r.receive("ASN-R", 1)
	sim := r.g.PrinterSim("P1")
	job := "ASN-R:" + rc.Cartons[0]
	eventually(t, 20*time.Second, "the label printed and confirmed", func() bool {
		j, err := r.g.Spooler().Get(job)
		return err == nil && j.State == spool.Confirmed
	})
	row := fmt.Sprintf(`tr[data-job=%q]`, job)
	steps(t, ctx, "the printer's page", chromedp.Navigate(r.base+"/printers/P1"))
	within(t, ctx, 10*time.Second, "the job confirmed", chromedp.WaitVisible(css(row+` [data-state="confirmed"]`)))
	within(t, ctx, 10*time.Second, "the reason typed", chromedp.SendKeys(css(row+` input[name=reason]`), "label torn"))
	within(t, ctx, 10*time.Second, "reprint clicked", chromedp.Click(css(row+` button[value=reprint]`)))
	within(t, ctx, 10*time.Second, "reprint asked", chromedp.WaitVisible(css(`.flash`)))
	if flash := value(t, ctx, chromedp.Text(css(`.flash`))); !strings.Contains(flash, "reprint") || !strings.Contains(flash, "label torn") {
		t.Fatalf("flash %q", flash)
	}
	eventually(t, 20*time.Second, "the label printed again", func() bool { f, _ := sim.Count(); return f == 2 })
}

// Off loopback the console is refused without the token and opens with a
// login that gives it.
func TestBrowserLogin(t *testing.T) {
	ctx := tab(t)
	srv := tokenServer(t, "s3cret")
	steps(t, ctx, "refused without the token",
		chromedp.Navigate(srv.URL+"/?from=login"),
		chromedp.WaitVisible(chromedp.ID("token")),
	)
	if url := value(t, ctx, chromedp.Location()); !strings.Contains(url, "/login?next=") {
		t.Fatalf("without the token at %s", url)
	}
	steps(t, ctx, "a wrong token",
		chromedp.SendKeys(chromedp.ID("name"), "Ana"),
		chromedp.SendKeys(chromedp.ID("token"), "guess"),
		chromedp.Submit(chromedp.ID("token")),
		chromedp.WaitVisible(css(`.error`)),
	)
	if e := value(t, ctx, chromedp.Text(css(`.error`))); !strings.Contains(e, "Wrong token") {
		t.Fatalf("error %q", e)
	}
	steps(t, ctx, "log in",
		chromedp.SetValue(chromedp.ID("name"), "Ana"),
		chromedp.SendKeys(chromedp.ID("token"), "s3cret"),
		chromedp.Submit(chromedp.ID("token")),
		chromedp.WaitVisible(css(`.who`)),
	)
	if who, url := value(t, ctx, chromedp.Text(css(`.who`))), value(t, ctx, chromedp.Location()); !strings.Contains(who, "Ana") || !strings.HasSuffix(url, "/?from=login") {
		t.Fatalf("logged in as %q at %s", who, url)
	}
}

// The light stack on a board in the browser: a lamp lights in its rule's
// colour, with its label and words, and goes out again, without a reload.
func TestBrowserLightStack(t *testing.T) {
	ctx := tab(t)
	// Lit for 5 s: long enough to be read while lit on a loaded machine.
	r := newRig(t, withSignals, func(c *config.Config) { c.Doors[0].Signals[1].For = 5 * time.Second })
	rc := r.receive("ASN-LS", 1)
	const pass, hold = `#board .light[data-rule="pass"]`, `#board .light[data-rule="lot.hold.alert"]`
	steps(t, ctx, "the door board",
		chromedp.Navigate(r.base+"/doors/DOOR1"),
		chromedp.WaitVisible(css(`#live-state[data-state="live"]`)),
		chromedp.WaitVisible(css(pass+`[data-lit="false"]`)),
	)
	value(t, ctx, chromedp.Evaluate[int](`window.__noReload = 1`))
	lamp := func(sel string) string {
		return value(t, ctx, chromedp.Evaluate[string](`getComputedStyle(document.querySelector('`+sel+` .lamp')).backgroundColor`))
	}
	const blue, red = "rgb(31, 111, 224)", "rgb(215, 38, 30)"
	if off := lamp(pass); off == blue {
		t.Errorf("the pass's lamp is lit blue while off")
	}
	r.movePortal(rc)
	within(t, ctx, 30*time.Second, "the blue lamp lit, live", chromedp.WaitVisible(css(pass+`[data-lit="true"]`)))
	if on := lamp(pass); on != blue {
		t.Errorf("the lit pass lamp is %s, want blue %s", on, blue)
	}
	words := value(t, ctx, chromedp.Text(css(pass)))
	for _, w := range []string{"Pallet through — drive on", "ON", "blue lamp", "s left", "GPO 1 · pass"} {
		if !strings.Contains(words, w) {
			t.Errorf("the lit light says %q, want %q in it", words, w)
		}
	}
	if held := value(t, ctx, chromedp.Text(css(hold))); !strings.Contains(held, "Held lot") || !strings.Contains(held, "off · red lamp") {
		t.Errorf("the hold light says %q", held)
	}
	if off := lamp(hold); off == red {
		t.Errorf("the hold lamp is lit red while off")
	}
	within(t, ctx, 15*time.Second, "the blue lamp out, live", chromedp.WaitVisible(css(pass+`[data-lit="false"]`)))
	if kept := value(t, ctx, chromedp.Evaluate[int](`window.__noReload || 0`)); kept != 1 {
		t.Fatal("the page was reloaded")
	}
}
