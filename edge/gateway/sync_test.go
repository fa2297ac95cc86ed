package gateway

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dockgate/dockgate/edge/config"
	"github.com/dockgate/dockgate/edge/lots"
	"github.com/dockgate/dockgate/edge/outbox"
	"github.com/dockgate/dockgate/edge/receiving"
	sitesync "github.com/dockgate/dockgate/edge/sync"
	"github.com/dockgate/dockgate/rfid"
	"github.com/dockgate/dockgate/rfid/portal"
	"github.com/dockgate/dockgate/rfid/readers"
)

// siteConfig is gateway name of site "dc" with sync on, on the broker at
// url ("": the embedded one, on a free port): a receiving door DOOR1
// (antennas 1, 2 outside, 3, 4 inside) and a shipping door DOOR2 (5, 6 and
// 7, 8) on reader R1, which never connects: the test gives the reads.
func siteConfig(t testing.TB, name, url string) *config.Config {
	door := func(id, role string, out, in []uint16) config.Door {
		return config.Door{DoorConfig: portal.DoorConfig{ID: id, Role: role, Reader: "R1",
			AntennasOutside: out, AntennasInside: in, PresenceTimeout: 500 * time.Millisecond}}
	}
	return &config.Config{Site: "dc", Gateway: name, DataDir: t.TempDir(),
		MQTT:    config.MQTT{URL: url, KeepAlive: 2 * time.Second, ConnectTimeout: 2 * time.Second, AckTimeout: 3 * time.Second},
		Sync:    config.Sync{Enabled: true},
		Readers: []readers.Config{{ID: "R1", Type: readers.TypeLLRP, Address: "127.0.0.1:1"}},
		Doors: []config.Door{door("DOOR1", portal.RoleReceiving, []uint16{1, 2}, []uint16{3, 4}),
			door("DOOR2", portal.RoleShipping, []uint16{5, 6}, []uint16{7, 8})},
	}
}

// runSiteGateway opens and runs a gateway on cfg until stop (or the test's end).
func runSiteGateway(t testing.TB, cfg *config.Config) (g *Gateway, stop func()) {
	t.Helper()
	c, err := config.Complete(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.HTTP.Listen, c.Broker.Listen = "", "127.0.0.1:0"
	g, err = Open(c, Info{}, slog.New(slog.DiscardHandler), Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- g.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("gateway %s: %v", c.Gateway, err)
			}
		})
	}
	t.Cleanup(stop)
	return g, stop
}

// siteReads are the reads of a tag carried through a door (antennas
// outside and inside) over a second from start.
func siteReads(epc string, outside, inside uint16, dir string, start time.Time) []rfid.Read {
	first, second := outside, inside
	if dir == portal.DirectionOut {
		first, second = inside, outside
	}
	e := rfid.MustParseEPC(epc)
	var rs []rfid.Read
	for i := 0; i < 10; i++ {
		at := start.Add(time.Duration(i) * 50 * time.Millisecond)
		rs = append(rs, rfid.Read{EPC: e, Reader: "R1", Antenna: first, RSSI: int8(-40 - 3*siteAbs(i-2)), HasRSSI: true, Time: at},
			rfid.Read{EPC: e, Reader: "R1", Antenna: second, RSSI: int8(-40 - 3*siteAbs(i-7)), HasRSSI: true, Time: at.Add(20 * time.Millisecond)})
	}
	return rs
}

func siteAbs(i int) int { return max(i, -i) }

func siteConnected(g *Gateway) bool { return g.site.sub.Stats().Connected }

// Three gateways of one site on one broker: a receipt at A is known at C,
// a hold made at B (which never received the lot) is mirrored at A
// without A publishing it again, and the carton leaving through C's
// shipping door raises C's lot.hold.alert naming the lot.
func TestSiteHoldReachesEveryGateway(t *testing.T) {
	a, _ := runSiteGateway(t, siteConfig(t, "gw-a", ""))
	url := a.MQTTURL
	b, _ := runSiteGateway(t, siteConfig(t, "gw-b", url))
	c, _ := runSiteGateway(t, siteConfig(t, "gw-c", url))
	central := subscribe(t, url, "dockgate/v1/dc/#")
	eventually(t, 10*time.Second, "the site subscriptions", func() bool {
		return siteConnected(a) && siteConnected(b) && siteConnected(c)
	})

	ctx := context.Background()
	rc, err := a.Receiving().Receive(ctx, receiving.Request{ID: "R-1", Door: "DOOR1",
		Scan: "(01)09520123456788(10)SUP-4711(17)270531", Supplier: "Acme", Cartons: 3})
	if err != nil {
		t.Fatal(err)
	}
	carton, err := a.Receiving().Carton(rc.Cartons[1])
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "A's cartons at C", func() bool {
		lot, ok := c.site.index.Lot(carton.EPC)
		return ok && lot == "SUP-4711"
	})

	// B never received the lot: the hold goes through the site.
	l, err := b.Lots().Hold(ctx, "SUP-4711", "listeria suspected", "qa")
	if err != nil {
		t.Fatal(err)
	}
	if l.Status != lots.StatusOnHold || l.Source != "site" || l.GTIN != "09520123456788" {
		t.Fatalf("hold at B: %+v", l)
	}
	eventually(t, 5*time.Second, "the hold at A and C", func() bool {
		held, _ := a.Lots().IsHeld("SUP-4711")
		h, _, _ := c.site.state.Held("SUP-4711")
		return held && h
	})
	got, err := a.Lots().Get("SUP-4711")
	if err != nil {
		t.Fatal(err)
	}
	last := got.History[len(got.History)-1]
	if last.Action != "hold" || last.By != "qa at gw-b" || got.HoldReason != "listeria suspected" {
		t.Fatalf("A's record: %+v", got)
	}

	c.observeReads(siteReads(carton.EPC, 5, 7, portal.DirectionOut, time.Now()))
	eventually(t, 10*time.Second, "C's alert", func() bool {
		for _, ev := range central.events("lot.hold.alert") {
			body, _ := ev["body"].(map[string]any)
			if ev["source"] == "portal/DOOR2" && body["lot"] == "SUP-4711" && body["epc"] == carton.EPC {
				return true
			}
		}
		return false
	})

	// One hold, published once, by B: A mirrors it and says nothing.
	time.Sleep(300 * time.Millisecond)
	holds := central.events("lot.hold")
	if len(holds) != 1 || !strings.Contains(central.topicOf(holds[0]), "/gw-b/") {
		t.Fatalf("lot.hold events: %v", holds)
	}
	if n := central.count("/lots/SUP-4711/status"); n != 1 {
		t.Fatalf("%d status messages, want B's one", n)
	}
	var st sitesync.LotStatus
	central.mu.Lock()
	for _, m := range central.msgs {
		if strings.HasSuffix(m.Topic, "/lots/SUP-4711/status") {
			_ = json.Unmarshal(m.Payload, &st)
		}
	}
	central.mu.Unlock()
	if st.Gateway != "gw-b" || st.Status != "on_hold" || st.By != "qa" || st.Version == 0 {
		t.Fatalf("status %+v", st)
	}

	// A release at A (which has the record) reaches B and C; B's hold
	// check then lets the carton go.
	if _, err := a.Lots().Release(ctx, "SUP-4711", "qa"); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "the release at B and C", func() bool {
		hb, _, _ := b.site.state.Held("SUP-4711")
		hc, _, _ := c.site.state.Held("SUP-4711")
		return !hb && !hc
	})
	if h, _ := a.health(); !h {
		t.Fatal("A unhealthy")
	}
}

// topicOf is the topic an event envelope came on.
func (s *subscriber) topicOf(ev map[string]any) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range s.msgs {
		if strings.Contains(string(m.Payload), ev["eventID"].(string)) {
			return m.Topic
		}
	}
	return ""
}

// A hold of a lot no gateway of the site has told of is refused as before
// (a typo stays a 404); a gateway without sync is as it was.
func TestSiteChangeOfUnknownLot(t *testing.T) {
	g := openGateway(t, siteConfig(t, "gw-x", ""), Options{})
	if _, err := g.Lots().Hold(context.Background(), "NOWHERE", "qa", "qa"); err == nil || !strings.Contains(err.Error(), "no gateway of the site") {
		t.Fatalf("hold of an unknown lot: %v", err)
	}
	cfg := siteConfig(t, "gw-y", "")
	cfg.Sync.Enabled = false
	g2 := openGateway(t, cfg, Options{})
	if g2.site != nil || g2.lotResolver() != g2.recv {
		t.Fatal("a gateway without sync has a site")
	}
	if _, d := g2.health(); d.(*healthDetail).Sync != nil {
		t.Fatal("a gateway without sync reports the site's health")
	}
}

// A gateway that has not heard the site for longer than sync.stale_after
// says so in /healthz, and stays healthy: it enforces what it knew.
func TestSiteStaleWarning(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	var ns atomic.Int64
	clock := func() time.Time { return time.Unix(0, ns.Load()).UTC() }
	ns.Store(t0.UnixNano())
	cfg := siteConfig(t, "gw-s", "tcp://127.0.0.1:1")
	cfg.Sync.StaleAfter = time.Minute
	g := openGateway(t, cfg, Options{Now: clock})
	stale := func() (bool, *siteHealth, []string) {
		ok, d := g.health()
		hd := d.(*healthDetail)
		return ok, hd.Sync, hd.Warnings
	}
	if _, h, w := stale(); h == nil || h.Stale || strings.Contains(strings.Join(w, "\n"), "site not heard") {
		t.Fatalf("stale at start: %+v %v", h, w)
	}
	ns.Store(t0.Add(2 * time.Minute).UnixNano())
	ok, h, w := stale()
	if !ok || !h.Stale || h.Connected || !strings.Contains(strings.Join(w, "\n"), "site not heard for 2m0s (sync.stale_after 1m0s)") {
		t.Fatalf("after 2 minutes: ok %v %+v %v", ok, h, w)
	}
}

// The broker keeps the status published last, which may be a loser: the
// gateway whose status won publishes it again when it hears a loser from
// another gateway, and one whose own status lost to an older recall
// publishes that recall again. Its own echoes and repeats change nothing.
func TestSiteStatusPublishedAgainWhenALoserMayBeRetained(t *testing.T) {
	g := openGateway(t, siteConfig(t, "gw-x", "tcp://127.0.0.1:1"), Options{})
	ctx := context.Background()
	receiveCfg := receiving.Request{ID: "R-x", Door: "DOOR1", Scan: "(01)09520123456788(10)SUP-X(17)270531", Supplier: "Acme", Cartons: 1}
	if _, err := g.Receiving().Receive(ctx, receiveCfg); err != nil {
		t.Fatal(err)
	}
	if _, err := g.Lots().Hold(ctx, "SUP-X", "lab", "qa"); err != nil {
		t.Fatal(err)
	}
	own, _, _ := g.site.state.Status("SUP-X")
	statuses := func() []sitesync.LotStatus {
		t.Helper()
		var out []sitesync.LotStatus
		for _, ev := range takeSiteEvents(t, g)["lot.status"] {
			var st sitesync.LotStatus
			if err := json.Unmarshal(ev.Body, &st); err != nil || !ev.Retain || !ev.RawTopic || ev.Topic != "dockgate/v1/dc/lots/SUP-X/status" {
				t.Fatalf("status event %+v: %v", ev, err)
			}
			out = append(out, st)
		}
		return out
	}
	if got := statuses(); len(got) != 1 || got[0] != own {
		t.Fatalf("the hold's status: %+v, want %+v", got, own)
	}
	apply := func(st sitesync.LotStatus) {
		t.Helper()
		if err := g.applySiteStatus(st); err != nil {
			t.Fatal(err)
		}
	}
	apply(own) // its own echo
	older := sitesync.LotStatus{Code: "SUP-X", Status: "released", By: "ops", Time: own.Time, Gateway: "gw-y", Version: own.Version - 1}
	apply(older)
	if got := statuses(); len(got) != 1 || got[0] != own {
		t.Fatalf("after an older release from gw-y: %+v", got)
	}
	recall := sitesync.LotStatus{Code: "SUP-X", Status: "recalled", Reason: "supplier", By: "qa", Time: own.Time, Gateway: "gw-z", Version: own.Version - 5}
	apply(recall)
	apply(recall) // a repeat
	if got := statuses(); len(got) != 1 || got[0] != recall {
		t.Fatalf("after an older recall: %+v", got)
	}
	if l, _ := g.Lots().Get("SUP-X"); l.Status != lots.StatusRecalled {
		t.Fatalf("the record: %s", l.Status)
	}
	if n := len(takeSiteEvents(t, g)["lot.recall"]); n != 0 {
		t.Fatalf("%d lot.recall events for a recall made elsewhere", n)
	}
}

// takeSiteEvents returns the outbox events not handed out yet, by type
// (none: an empty map).
func takeSiteEvents(t *testing.T, g *Gateway) map[string][]outbox.Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	out := map[string][]outbox.Event{}
	evs, err := g.ob.Next(ctx, 100000)
	if err != nil && ctx.Err() == nil {
		t.Fatal(err)
	}
	for _, ev := range evs {
		out[ev.Type] = append(out[ev.Type], ev)
	}
	return out
}
