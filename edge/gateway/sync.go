package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/dockgate/dockgate/edge/lots"
	"github.com/dockgate/dockgate/edge/mqttpub"
	"github.com/dockgate/dockgate/edge/outbox"
	"github.com/dockgate/dockgate/edge/receiving"
	sitesync "github.com/dockgate/dockgate/edge/sync"
	"github.com/dockgate/dockgate/rfid/portal"
)

// site is the gateway's part in a site of gateways on one broker
// (sync.enabled; docs/site-sync.md):
//
//	lot change here ─▶ lots registry ─▶ stageLotChange ─▶ outbox ─▶ retained lots/{code}/status
//	receipt here ──▶ receiving ─▶ receivingEmitter ─▶ outbox ─▶ retained cartons/{gw}/{receipt}/{part}
//	broker ─▶ subscriber (persistent session) ─▶ onSiteMessage ─▶ state + registry mirror | carton index
//	portal ─▶ siteResolver: own receipts, then the site's cartons; held as the site says
//
// A status heard from the site is applied in one transaction with its
// mirror on the lot's record, without events: it is the site's to publish,
// not this gateway's (no loops), and the portal enforces it from the
// commit on.
type site struct {
	state *sitesync.State
	index *sitesync.Index     // nil offline
	sub   *mqttpub.Subscriber // nil offline
}

// openSync opens the site's state when sync is enabled: before the lot
// registry, which mirrors it.
func (g *Gateway) openSync() error {
	if !g.cfg.Sync.Enabled {
		return nil
	}
	st, err := sitesync.OpenState(g.store.DB(), g.cfg.Gateway, g.now)
	if err != nil {
		return err
	}
	s := &site{state: st}
	g.site = s
	if g.offline {
		return nil // the CLI: statuses change, nothing is heard
	}
	if s.index, err = sitesync.OpenIndex(g.store.DB()); err != nil {
		return err
	}
	m := g.cfg.MQTT
	s.sub, err = mqttpub.NewSubscriber(mqttpub.Config{
		URL: g.MQTTURL, ClientID: m.ClientID + "-sync", Username: m.Username, Password: m.Password,
		CAFile: m.CAFile, CertFile: m.CertFile, KeyFile: m.KeyFile, KeepAlive: m.KeepAlive,
		ConnectTimeout: m.ConnectTimeout, AckTimeout: m.AckTimeout, HealthyAfter: m.HealthyAfter,
		Site: g.cfg.Site, Gateway: g.cfg.Gateway, Now: g.now, Getenv: func(string) string { return "" },
	}, []string{sitesync.LotStatusFilter(g.cfg.Site), sitesync.CartonFilter(g.cfg.Site)}, g.onSiteMessage,
		g.log.With("component", "sync"))
	return err
}

// runSync runs the site subscription with the middle stage.
func (g *Gateway) runSync(ctx context.Context, grp interface{ Go(func() error) }, guard func(string, func() error) func() error) {
	if g.site == nil || g.site.sub == nil {
		return
	}
	grp.Go(guard("site sync", func() error { return g.site.sub.Run(ctx) }))
}

// siteLots is the site as the lot registry sees it, nil without sync.
func (g *Gateway) siteLots() lots.SiteSync {
	if !g.cfg.Sync.Enabled {
		return nil
	}
	return siteLots{g}
}

type siteLots struct{ g *Gateway }

func (s siteLots) Status(txn *badger.Txn, code string) (lots.Status, string, bool, error) {
	st, ok, err := s.g.site.state.Get(txn, code)
	return lots.Status(st.Status), st.Reason, ok, err
}

// Change holds, releases or recalls a lot this gateway has no record of:
// one the site told of (a status, or cartons received at another gateway).
// The change and its events (lot.{action}, the retained status) commit
// together, as a change of a lot recorded here does.
func (s siteLots) Change(ctx context.Context, code string, ev lots.Event, allowed func(lots.Status) bool) (lots.Lot, error) {
	g := s.g
	var out lots.Lot
	for attempt := 0; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return lots.Lot{}, err
		}
		err := g.store.Update(func(txn *badger.Txn) error {
			cur, ok, err := g.site.state.Get(txn, code)
			if err != nil {
				return err
			}
			gtin, known := "", false
			if g.site.index != nil {
				gtin, known = g.site.index.KnowsLot(code)
			}
			if !ok && !known {
				return fmt.Errorf("%w: %q (not received here, and no gateway of the site has told of it)", lots.ErrNotFound, code)
			}
			from := lots.StatusActive
			if ok {
				from = lots.Status(cur.Status)
			}
			if !allowed(from) {
				what := string(from)
				if cur.Reason != "" {
					what += " (" + cur.Reason + ")"
				}
				return fmt.Errorf("%w: cannot %s lot %s: it is %s at the site", lots.ErrStatus, ev.Action, code, what)
			}
			ev.From = from
			out = lots.Lot{Code: code, Source: "site", GTIN: gtin, Status: ev.To}
			if ev.To.Held() {
				out.HoldReason = ev.Reason
			}
			return g.stageLotChange(txn, lots.Change{Code: code, Event: ev, Lot: out})
		})
		if errors.Is(err, badger.ErrConflict) && attempt < 10 {
			continue
		}
		return out, err
	}
}

// stageSiteStatus records a hold, release or recall made here as the
// site's status of the lot, with a new version, and stages its retained
// publish in the change's transaction.
func (g *Gateway) stageSiteStatus(txn *badger.Txn, c lots.Change) error {
	if g.site == nil || c.FromSite || (c.Action != "hold" && c.Action != "release" && c.Action != "recall") {
		return nil
	}
	st, err := g.site.state.Local(txn, c.Code, string(c.To), c.Reason, c.By, c.At)
	if err != nil {
		return err
	}
	return g.stageStatusEvent(txn, st)
}

// stageStatusEvent stages the retained publish of a lot status. Lifecycle
// priority: a hold goes out ahead of a backlog of passes and receipts.
func (g *Gateway) stageStatusEvent(txn *badger.Txn, st sitesync.LotStatus) error {
	return g.stage(txn, outbox.Event{ID: "urn:uuid:" + stableEventID("lot-status", st.Code, strconv.FormatUint(uint64(st.Version), 10)),
		Type: "lot.status", Time: st.Time, Source: "lots/" + g.cfg.Gateway, Priority: outbox.PriorityLifecycle,
		Topic: sitesync.LotStatusTopic(g.cfg.Site, st.Code), RawTopic: true, Retain: true}, st)
}

// stageSiteReceipt stages the retained receipt messages of a receipt just
// recorded, in its transaction: the site's gateways index its cartons.
func (g *Gateway) stageSiteReceipt(txn *badger.Txn, ev receiving.Event) error {
	rc := ev.Receipt
	if g.site == nil || rc == nil || ev.Type != "receipt.created" {
		return nil
	}
	m := sitesync.ReceiptMessage{Receipt: rc.ID, Gateway: g.cfg.Gateway, Lot: rc.Lot, GTIN: rc.GTIN, Expiry: rc.Expiry, Time: rc.Time}
	m.Cartons = make([]sitesync.Carton, len(ev.Cartons))
	for i, c := range ev.Cartons {
		m.Cartons[i] = sitesync.Carton{SSCC: c.SSCC, EPC: c.EPC}
	}
	// A carton takes at most about 160 bytes of JSON (a 496-bit EPC):
	// parts fit outbox.max_event_bytes whatever it is set to.
	for _, p := range m.Split(min(sitesync.MaxPartCartons, (g.maxEventBytes()-1024)/160)) {
		if err := g.stage(txn, outbox.Event{ID: "urn:uuid:" + stableEventID("site-cartons", g.cfg.Gateway, rc.ID, strconv.Itoa(p.Part)),
			Type: "site.cartons", Time: rc.Time, Source: "receiving/" + g.cfg.Gateway, Priority: outbox.PriorityLot,
			Topic: sitesync.CartonTopic(g.cfg.Site, g.cfg.Gateway, rc.ID, p.Part), RawTopic: true, Retain: true}, p); err != nil {
			return err
		}
	}
	return nil
}

// onSiteMessage takes a message of the site: a lot status, or a receipt's
// cartons. It returns an error only when the message should come again
// (the store could not take it); a malformed one is logged and dropped.
func (g *Gateway) onSiteMessage(m mqttpub.Message) error {
	if len(m.Payload) == 0 {
		return nil // a retained message cleared
	}
	kind, code := sitesync.ParseTopic(g.cfg.Site, m.Topic)
	switch kind {
	case sitesync.TopicLotStatus:
		var st sitesync.LotStatus
		if err := json.Unmarshal(m.Payload, &st); err != nil {
			g.log.Warn("lot status from the site dropped: not a lot status", "topic", m.Topic, "err", err)
			return nil
		}
		if st.Code != code {
			g.log.Warn("lot status from the site dropped: its code is not its topic's", "topic", m.Topic, "code", st.Code)
			return nil
		}
		return g.applySiteStatus(st)
	case sitesync.TopicCartons:
		var rm sitesync.ReceiptMessage
		if err := json.Unmarshal(m.Payload, &rm); err != nil {
			g.log.Warn("receipt from the site dropped: not a receipt message", "topic", m.Topic, "err", err)
			return nil
		}
		if rm.Gateway == g.cfg.Gateway {
			return nil // this gateway's own receipt: receiving has its cartons
		}
		if want := sitesync.CartonTopic(g.cfg.Site, rm.Gateway, rm.Receipt, rm.Part); want != m.Topic {
			g.log.Warn("receipt from the site dropped: it is not on its own topic", "topic", m.Topic, "want", want)
			return nil
		}
		n, err := g.site.index.Ingest(rm)
		if errors.Is(err, sitesync.ErrInvalid) {
			g.log.Warn("receipt from the site dropped", "topic", m.Topic, "err", err)
			return nil
		}
		if n > 0 {
			g.log.Debug("cartons of the site indexed", "gateway", rm.Gateway, "receipt", rm.Receipt, "part", rm.Part, "cartons", n)
		}
		return err
	}
	return nil
}

// applySiteStatus applies a lot status heard from the site: recorded when
// it supersedes the one known, and mirrored on the lot's record here, in
// one transaction and without events (it is the site's, not this
// gateway's to publish).
//
// The broker retains the status published last, which is not always the
// one that wins: a release that reaches it after a recall made at the same
// time, a status of a gateway that had not heard of a later one. So the
// winner is published again, in the same transaction: by the gateway that
// made it, when it hears a loser from another gateway; by a gateway whose
// own status lost to a recall of a lower version (its publish may be the
// broker's last). Published again, a status has its own version and
// gateway: applying it changes nothing anywhere, and nothing answers it.
func (g *Gateway) applySiteStatus(st sitesync.LotStatus) error {
	var applied bool
	for attempt := 0; ; attempt++ {
		err := g.store.Update(func(txn *badger.Txn) error {
			var cur sitesync.LotStatus
			var err error
			applied, cur, err = g.site.state.Apply(txn, st)
			if err != nil {
				return err
			}
			self := g.cfg.Gateway
			if !applied {
				if st.Gateway != self && cur.Gateway == self && cur.Supersedes(st) {
					return g.stageStatusEvent(txn, cur)
				}
				return nil
			}
			by := st.Gateway
			if st.By != "" {
				by = st.By + " at " + st.Gateway
			}
			if _, err := g.lots.ApplySite(txn, st.Code, lots.Status(st.Status), st.Reason, by, st.Time); err != nil {
				return err
			}
			if cur.Gateway == self && st.Gateway != self && st.Version < cur.Version {
				return g.stageStatusEvent(txn, st)
			}
			return nil
		})
		switch {
		case errors.Is(err, badger.ErrConflict) && attempt < 10:
			continue
		case errors.Is(err, sitesync.ErrInvalid):
			g.log.Warn("lot status from the site dropped", "err", err)
			return nil
		case err != nil:
			return err
		}
		if applied && st.Gateway != g.cfg.Gateway {
			g.log.Info("lot status from the site", "lot", st.Code, "status", st.Status, "gateway", st.Gateway, "by", st.By, "version", st.Version)
		}
		return nil
	}
}

// lotResolver is what the portal resolves tags with: receiving alone, or
// with a site, receiving then the site's cartons, held as the site says.
func (g *Gateway) lotResolver() portal.LotResolver {
	if g.site == nil || g.site.index == nil {
		return g.recv
	}
	return siteResolver{g}
}

type siteResolver struct{ g *Gateway }

func (r siteResolver) LotForEPC(epcHex string) (lot string, held, ok bool) {
	if lot, _, ok = r.g.recv.LotForEPC(epcHex); !ok {
		if lot, ok = r.g.site.index.Lot(epcHex); !ok {
			return "", false, false
		}
	}
	return lot, r.LotHeld(lot), true
}

// LotHeld tells whether a lot's goods must be stopped: as the site says
// when it has told of the lot, else as the registry says. A status that
// cannot be read counts as held.
func (r siteResolver) LotHeld(lot string) bool {
	held, known, err := r.g.site.state.Held(lot)
	if err == nil && !known {
		held, err = r.g.lots.IsHeld(lot)
		if errors.Is(err, lots.ErrNotFound) {
			return false
		}
	}
	if err != nil {
		r.g.log.Warn("hold check failed; treating the lot as held", "lot", lot, "err", err)
		return true
	}
	return held
}

// siteHealth is the "sync" part of /healthz.
type siteHealth struct {
	// Connected: the site's subscription is up. Since: when it came up, or
	// went down (the gateway's start if it never came up).
	Connected bool      `json:"connected"`
	Since     time.Time `json:"since"`
	Stale     bool      `json:"stale"`
	// Cartons of other gateways indexed here.
	Cartons int `json:"cartons"`
}

// siteHealthOf adds the site's state to /healthz: a warning when the site
// has not been heard for longer than sync.stale_after.
func (g *Gateway) siteHealthOf(warnings []string) (*siteHealth, []string) {
	if g.site == nil || g.site.sub == nil {
		return nil, warnings
	}
	st := g.site.sub.Stats()
	h := &siteHealth{Connected: st.Connected, Since: st.Since.UTC(), Cartons: g.site.index.Stats().Cartons}
	if d := sitesync.StaleFor(st.Connected, st.Since, g.now(), g.cfg.Sync.StaleAfter); d > 0 {
		h.Stale = true
		w := fmt.Sprintf("site not heard for %s (sync.stale_after %s): holds, releases and recalls made elsewhere since are not known here; this gateway enforces the last state it knew", d.Round(time.Second), g.cfg.Sync.StaleAfter)
		if st.LastError != "" {
			w += ": " + st.LastError
		}
		warnings = append(warnings, w)
	}
	return h, warnings
}
