package gateway

import (
	"context"
	"io"
	"time"

	"github.com/dockgate/dockgate/edge/outbox"
	"github.com/dockgate/dockgate/edge/receiving"
	"github.com/dockgate/dockgate/edge/scanner"
	"github.com/dockgate/dockgate/printers"
)

// openScanner opens a scanner's device; tests replace it.
var openScanner = func(c scanner.Config) (io.ReadCloser, error) { return scanner.Open(c) }

// runScanners reads every configured scanner until ctx ends: each scanned
// supplier label is a receipt at the scanner's door. A scan that cannot be
// received is logged and published as a scan.rejected event naming why.
func (g *Gateway) runScanners(ctx context.Context) func() error {
	return func() error {
		done := make(chan struct{}, len(g.cfg.Scanners))
		for _, sc := range g.cfg.Scanners {
			go func() {
				defer func() { done <- struct{}{} }()
				_ = scanner.Run(ctx, sc, openScanner, func(line string) { g.onScan(ctx, sc, line) },
					g.log.With("component", "scanner"))
			}()
		}
		for range g.cfg.Scanners {
			<-done
		}
		return nil
	}
}

func (g *Gateway) onScan(ctx context.Context, sc scanner.Config, line string) {
	ctx = context.WithoutCancel(ctx) // a scan read is received even if shutdown begins
	ctx = WithActor(ctx, printers.Actor{Via: printers.ViaScanner, Name: sc.ID})
	rc, err := g.recv.Receive(ctx, receiving.Request{Door: sc.Door, Source: "scan", Scan: line,
		Supplier: sc.Supplier, Cartons: sc.Cartons})
	if err != nil {
		g.log.Warn("scan not received", "scanner", sc.ID, "door", sc.Door, "err", err)
		_ = g.emit(ctx, outbox.Event{Type: "scan.rejected", Time: time.Now(), Source: "scanner/" + sc.ID,
			Priority: outbox.PriorityLot}, map[string]string{"scanner": sc.ID, "door": sc.Door, "scan": line, "reason": err.Error()})
		return
	}
	g.log.Info("scan received", "scanner", sc.ID, "receipt", rc.ID, "lot", rc.Lot, "cartons", len(rc.Cartons))
}
