package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/dockgate/dockgate/edge/command"
	"github.com/dockgate/dockgate/edge/receiving"
)

// registerCommands binds the MQTT commands (cmd/{name}) to the gateway:
//
//	receive      a receipt request (see receiving.Request); the command id is the receipt id
//	print        {"printer","template","values":{…},"qty"} or {"printer","zpl"}
//	reprint      {"job"}: print a job again (after a failed confirmation or on request)
//	lot.hold     {"lot","reason"}
//	lot.release  {"lot"}
func (g *Gateway) registerCommands() {
	// A command started is finished even if shutdown begins meanwhile: a
	// receipt cut in the middle would be remembered as failed under its id.
	g.cmds.Handle("receive", func(ctx context.Context, c command.Command) (any, error) {
		ctx = context.WithoutCancel(ctx)
		var req receiving.Request
		if err := json.Unmarshal(c.Payload, &req); err != nil {
			return nil, fmt.Errorf("payload: %v", err)
		}
		req.ID, req.Source = jobID(c.ID), "mqtt"
		return g.recv.Receive(ctx, req)
	})
	g.cmds.Handle("lot.hold", func(ctx context.Context, c command.Command) (any, error) {
		ctx = context.WithoutCancel(ctx)
		var p struct{ Lot, Reason, By string }
		if err := json.Unmarshal(c.Payload, &p); err != nil {
			return nil, fmt.Errorf("payload: %v", err)
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
		var p struct{ Lot, By string }
		if err := json.Unmarshal(c.Payload, &p); err != nil {
			return nil, fmt.Errorf("payload: %v", err)
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
}
