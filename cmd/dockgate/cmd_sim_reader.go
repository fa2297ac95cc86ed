package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"strings"

	"github.com/dockgate/dockgate/rfid/readersim"
	"github.com/dockgate/dockgate/rfid/serialrdr"
)

func init() {
	simSubcommands["reader"] = simReader
}

const simReaderUsage = `dockgate sim reader [--listen HOST:PORT] --scenario FILE|NAME [--model sim|r700|fx9600] [--time-scale X] [--duration D]
dockgate sim reader --serial DEVICE --protocol m100|ru5102|ascii --scenario FILE|NAME [--time-scale X] [--duration D]
dockgate sim reader --list
(built-in scenarios: `

// simReader serves a scenario as an LLRP reader on TCP, or as a serial
// reader on a device (one end of a pty pair, e.g. from socat).
func simReader(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "sim reader", simReaderUsage+strings.Join(readersim.BuiltinNames(), ", ")+")")
	listen := fs.String("listen", "127.0.0.1:5084", "LLRP `HOST:PORT` to listen on")
	scenario := fs.String("scenario", "dock-in", "scenario: a built-in name or a YAML file")
	scale := fs.Float64("time-scale", 1, "run the scenario this many times faster than real time")
	duration := fs.Duration("duration", 0, "stop after this long (default: until interrupted)")
	dev := fs.String("serial", "", "serve a serial reader on this `DEVICE` instead of LLRP")
	proto := fs.String("protocol", serialrdr.ProtocolM100, "serial protocol: m100, ru5102 or ascii")
	list := fs.Bool("list", false, "list the built-in scenarios and exit")
	model := fs.String("model", readersim.ModelSim, "reader model the capabilities present: "+strings.Join(readersim.Models(), ", "))
	if err := fs.parse(args); err != nil {
		return err
	}
	if *list {
		for _, n := range readersim.BuiltinNames() {
			fmt.Fprintln(env.stdout, n)
		}
		return nil
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q; see dockgate sim reader -h", fs.Arg(0))
	}
	if *scale <= 0 {
		return fmt.Errorf("--time-scale %v must be positive (e.g. 10 runs ten times faster)", *scale)
	}
	if _, err := readersim.ModelCapabilities(*model, 4); err != nil {
		return fmt.Errorf("--model %q is not one of %s", *model, strings.Join(readersim.Models(), ", "))
	}
	sc, err := readersim.Load(*scenario)
	if err != nil {
		return err
	}
	if *duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *duration)
		defer cancel()
	}
	enc := json.NewEncoder(env.stdout)
	if *dev != "" {
		f, err := os.OpenFile(*dev, os.O_RDWR, 0)
		if err != nil {
			return fmt.Errorf("open %s: %w", *dev, err)
		}
		defer f.Close()
		sim := readersim.NewSerial(sc, *proto)
		sim.TimeScale = *scale
		_ = enc.Encode(map[string]string{"serial": *dev, "protocol": *proto, "scenario": sc.Name})
		return sim.Serve(ctx, f)
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (is another reader simulator running? choose another --listen port)", *listen, err)
	}
	sim := readersim.New(sc)
	sim.TimeScale, sim.Model = *scale, *model
	_ = enc.Encode(map[string]string{"listen": ln.Addr().String(), "scenario": sc.Name, "model": *model})
	sim.OnGPO = gpoPrinter(enc)
	err = sim.Serve(ctx, ln)
	st := sim.Stats()
	fmt.Fprintf(env.stderr, "served %d connections (%d refused), %d reports with %d reads; outputs %s\n",
		st.Connections, st.Refused, st.Reports, st.Reads, sim.GPOStates())
	return err
}
