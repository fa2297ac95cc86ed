package gateway

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/dockgate/dockgate/edge/console"
	"github.com/dockgate/dockgate/edge/lots"
	"github.com/dockgate/dockgate/edge/signals"
	"github.com/dockgate/dockgate/encoder/label"
	"github.com/dockgate/dockgate/encoder/raster"
	"github.com/dockgate/dockgate/printers"
	"github.com/dockgate/dockgate/printers/spool"
	"github.com/dockgate/dockgate/rfid/readers"
)

// openConsole mounts the dock console (edge/console) beside the API, on
// the same listener and with the same token. Its live updates are the
// events the outbox queues (g.hub, fed by outbox.Options.OnQueued).
func (g *Gateway) openConsole() error {
	var doors []console.Door
	for _, d := range g.cfg.Doors {
		doors = append(doors, console.Door{ID: d.ID, Role: d.Role, Printer: d.Printer, Reader: d.Reader})
	}
	p := g.printing
	c, err := console.New(console.Options{
		Token: g.api.Token(), Site: g.cfg.Site, Gateway: g.cfg.Gateway, Version: g.info.Version,
		Store: g.store, Stage: g.ob.Stage, Receiving: g.recv, Lots: g.lots, Spool: p.spool, Doors: doors,
		Printers: g.consolePrinters, Readers: g.consoleReaders, Health: g.consoleHealth, Lights: g.consoleLights,
		Templates: p.templates, Preview: p.previewPNG,
		// The label audit trail records the console's operator and reason.
		Reprint: func(_ context.Context, job, reason, by string) error {
			return p.spool.ReprintBy(localID(job, maxJobID), spool.Request{By: printers.Actor{Via: printers.ViaConsole, Name: by}, Reason: reason})
		},
		Cancel: func(_ context.Context, job, reason, by string) error {
			return p.spool.CancelBy(localID(job, maxJobID), spool.Request{By: printers.Actor{Via: printers.ViaConsole, Name: by}, Reason: reason})
		},
		Hub: g.hub, Now: g.now, Logger: g.log.With("component", "console"),
	})
	if err != nil {
		return fmt.Errorf("console: %w", err)
	}
	g.console = c
	g.api.Mount(c)
	return nil
}

// Console is the dock console, or nil without the HTTP API.
func (g *Gateway) Console() *console.Console { return g.console }

func (g *Gateway) consolePrinters() []console.Printer {
	p := g.printing
	out := make([]console.Printer, 0, len(g.cfg.Printers))
	for _, pc := range g.cfg.Printers {
		n, _ := p.spool.QueueLen(pc.ID)
		cp := console.Printer{ID: pc.ID, Profile: pc.Profile, Target: p.cfgs[pc.ID].Target(), Door: p.cfgs[pc.ID].Door, Queued: n}
		p.mu.Lock()
		if st := p.status[pc.ID]; st != nil {
			s := *st
			cp.Status = &s
		}
		p.mu.Unlock()
		out = append(out, cp)
	}
	return out
}

func (g *Gateway) consoleReaders() []console.Reader {
	g.readerMu.Lock()
	defer g.readerMu.Unlock()
	out := make([]console.Reader, 0, len(g.cfg.Readers))
	for _, rc := range g.cfg.Readers {
		_, known := g.readerStatus[rc.ID]
		why, down := g.readerDown[rc.ID]
		cr := console.Reader{ID: rc.ID, Type: rc.Type, Address: rc.Address, Known: known, Connected: known && !down,
			Why: why, AntennasDown: slices.Sorted(maps.Keys(g.antennasDown[rc.ID]))}
		for _, port := range slices.Sorted(maps.Keys(g.readerGPI[rc.ID])) {
			in := g.readerGPI[rc.ID][port]
			gpi := console.GPI{Port: port, High: in.high, Time: in.at, AtConnect: in.initial}
			if t := rc.Trigger; (t.Start == readers.TriggerGPI || t.Stop == readers.TriggerGPI) && t.Port == port {
				gpi.Name = "read trigger"
			}
			cr.GPI = append(cr.GPI, gpi)
		}
		out = append(out, cr)
	}
	return out
}

// consoleLights are a door's signal rules and which are lit (nil without
// door signals).
func (g *Gateway) consoleLights(door string) []signals.Light {
	if g.signals == nil {
		return nil
	}
	return g.signals.Lights(door)
}

func (g *Gateway) consoleHealth() console.Health {
	ok, detail := g.health()
	d := detail.(*healthDetail)
	return console.Health{OK: ok, Problems: d.Problems, Warnings: d.Warnings, Outbox: d.Outbox, Publisher: d.Publisher}
}

// templates are the label templates of this gateway: the built-in ones,
// those of labels.templates and the carton template.
func (p *printing) templates() []*label.Template {
	byName := map[string]*label.Template{}
	for _, t := range label.Builtins() {
		byName[t.Name] = t
	}
	for name := range p.g.cfg.Labels.Templates {
		if t, err := p.requestTemplate(name); err == nil {
			byName[name] = t
		}
	}
	byName[p.carton.Name] = p.carton
	out := make([]*label.Template, 0, len(byName))
	for _, name := range slices.Sorted(maps.Keys(byName)) {
		out = append(out, byName[name])
	}
	return out
}

// previewPNG renders a label as a printer's labels are rendered (the
// layout its ZPL is encoded from), as a PNG; nothing is written.
func (p *printing) previewPNG(template, printer string, vals map[string]string) ([]byte, error) {
	t := p.carton
	if template != p.carton.Name {
		var err error
		if t, err = p.requestTemplate(template); err != nil {
			return nil, fmt.Errorf("%w: %w", label.ErrTemplate, err)
		}
		t = withDomain(t, p.g.cfg.GS1.DigitalLinkDomain)
	}
	r, err := p.render(t, printer, vals, 1)
	if err != nil {
		return nil, err
	}
	return raster.PNG(r.label, r.prof)
}

// doorAlertDays is how long after its receipt a lot's hold or recall is
// an alert at the door that received it: its cartons may still be there.
const doorAlertDays = 7

// openLotAlert records the hold or recall of a lot received at a door in
// the last doorAlertDays as an alert on that door's board, in the
// transaction of the change (eventID is the change's event).
func (g *Gateway) openLotAlert(txn *badger.Txn, c lots.Change, eventID string) error {
	if (c.Action != "hold" && c.Action != "recall") || c.Lot.Door == "" || g.now().Sub(c.Lot.Created) > doorAlertDays*24*time.Hour {
		return nil
	}
	return console.OpenAlertIn(txn, console.Alert{ID: eventID, Kind: "lot." + c.Action, Door: c.Lot.Door, Lot: c.Code,
		Reason: c.Reason, Time: c.At})
}
