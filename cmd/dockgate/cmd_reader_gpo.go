package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/dockgate/dockgate/rfid"
	"github.com/dockgate/dockgate/rfid/llrp"
	"github.com/dockgate/dockgate/rfid/readersim"
)

const readerGPOUsage = `dockgate reader gpo --llrp HOST[:PORT] --port N --state on|off [--connect-timeout D]`

// gpoLine is what "reader gpo" prints once the reader has set the output.
type gpoLine struct {
	Reader string `json:"reader"`
	GPO    uint16 `json:"gpo"`
	State  string `json:"state"` // on | off
	Time   string `json:"time"`
}

// gpiLine is a GPI change as "reader watch" prints it; Initial marks an
// input's state read when the reader connected.
type gpiLine struct {
	GPI     uint16 `json:"gpi"`
	State   string `json:"state"` // high | low
	Initial bool   `json:"initial,omitempty"`
	Time    string `json:"time"`
}

func gpiJSON(e rfid.ReaderEvent) any {
	st := "low"
	if e.High {
		st = "high"
	}
	return gpiLine{GPI: e.Port, State: st, Initial: e.Initial, Time: e.Time.UTC().Format(rfc3339Milli)}
}

// readerGPO connects to an LLRP reader, sets one general purpose output
// (a light, a buzzer) and disconnects: for installers wiring a light stack.
func readerGPO(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "reader gpo", readerGPOUsage)
	addr := fs.String("llrp", "", "LLRP reader `HOST[:PORT]` (port 5084 by default)")
	port := fs.Int("port", 0, "GPO port, numbered from 1")
	state := fs.String("state", "", "on or off (high or low)")
	connectTimeout := fs.Duration("connect-timeout", 10*time.Second, "give up (exit 1) when the reader has not connected within this long")
	if err := fs.parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q; see dockgate reader gpo -h", fs.Arg(0))
	}
	if *addr == "" {
		return errors.New("--llrp HOST[:PORT] is required: the reader whose output to set")
	}
	if *port < 1 || *port > 0xFFFF {
		return fmt.Errorf("--port %d: give the GPO port, numbered from 1 (dockgate reader capabilities lists the reader's count)", *port)
	}
	var high bool
	switch *state {
	case "on", "high":
		high = true
	case "off", "low":
	default:
		return fmt.Errorf("--state %q: give on or off", *state)
	}
	if *connectTimeout <= 0 {
		return fmt.Errorf("--connect-timeout %v: give a positive duration, e.g. 10s", *connectTimeout)
	}
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	conn := &connectWatch{connected: make(chan struct{})}
	s, err := llrp.NewSession(llrp.Config{ReaderID: *addr, Address: *addr, NoInventory: true, OnEvent: conn.observe,
		ResponseTimeout: min(*connectTimeout, 5*time.Second)})
	if err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	start := time.Now()
	t := time.NewTimer(*connectTimeout)
	defer t.Stop()
	select {
	case <-conn.connected:
		err = s.SetGPO(ctx, uint16(*port), high)
	case <-ctx.Done():
	case <-t.C:
	}
	stop()
	if runErr := <-done; runErr != nil && err == nil {
		err = runErr
	}
	if err != nil {
		return err
	}
	if err := conn.err(*addr, time.Since(start)); err != nil {
		return err
	}
	st := "off"
	if high {
		st = "on"
	}
	return json.NewEncoder(env.stdout).Encode(gpoLine{Reader: *addr, GPO: uint16(*port), State: st, Time: time.Now().UTC().Format(rfc3339Milli)})
}

// gpoPrinter prints each output change of a simulated reader as a JSON
// line ({"gpo":1,"state":"high","time":…}).
func gpoPrinter(enc *json.Encoder) func(readersim.GPOWrite) {
	var mu sync.Mutex
	return func(w readersim.GPOWrite) {
		st := "low"
		if w.High {
			st = "high"
		}
		mu.Lock()
		defer mu.Unlock()
		_ = enc.Encode(struct {
			GPO   uint16 `json:"gpo"`
			State string `json:"state"`
			Time  string `json:"time"`
		}{w.Port, st, w.Time.UTC().Format(rfc3339Milli)})
	}
}
