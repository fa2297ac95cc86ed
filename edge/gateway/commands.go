package gateway

import (
	"context"
	"errors"

	"github.com/dockgate/dockgate/edge/command"
	"github.com/dockgate/dockgate/edge/receiving"
	"github.com/dockgate/dockgate/printers"
)

// registerCommands binds the MQTT commands (cmd/{name}) to the gateway:
//
//	receive      a receipt request (see receiving.Request); the command id is the receipt id (see localID)
//	print        {"printer","template","values":{…},"qty","by"} or {"printer","zpl","qty","by"}; qty 1-1000 labels
//	reprint      {"job","reason","by"}: print a job again (after a failed confirmation or on request)
//	cancel       {"job","reason","by"}: drop a job that has not printed
//	lot.hold     {"lot","reason"}
//	lot.release  {"lot"}
//	ship, ship.close  see shippingCommands
func (g *Gateway) registerCommands() {
	// A command started is finished even if shutdown begins meanwhile: a
	// receipt cut in the middle would be remembered as failed under its id.
	g.cmds.Handle("receive", func(ctx context.Context, c command.Command) (any, error) {
		ctx = context.WithoutCancel(ctx)
		var req receiving.Request
		if err := c.Decode(&req); err != nil {
			return nil, err
		}
		req.ID, req.Source = localID(c.ID, maxReceiptID), "mqtt"
		return g.recv.Receive(WithActor(ctx, printers.Actor{Via: printers.ViaMQTT}), req)
	})
	g.cmds.Handle("lot.hold", func(ctx context.Context, c command.Command) (any, error) {
		ctx = context.WithoutCancel(ctx)
		var p struct {
			Lot    string `json:"lot"`
			Reason string `json:"reason"`
			By     string `json:"by"`
		}
		if err := c.Decode(&p); err != nil {
			return nil, err
		}
		if p.Lot == "" {
			return nil, errors.New("lot: required")
		}
		if p.By == "" {
			p.By = "mqtt"
		}
		return g.lots.Hold(ctx, p.Lot, p.Reason, p.By)
	})
	g.cmds.Handle("lot.release", func(ctx context.Context, c command.Command) (any, error) {
		ctx = context.WithoutCancel(ctx)
		var p struct {
			Lot string `json:"lot"`
			By  string `json:"by"`
		}
		if err := c.Decode(&p); err != nil {
			return nil, err
		}
		if p.Lot == "" {
			return nil, errors.New("lot: required")
		}
		if p.By == "" {
			p.By = "mqtt"
		}
		return g.lots.Release(ctx, p.Lot, p.By)
	})
	g.printing.commands(g.cmds)
	g.shippingCommands()
}
