package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"os"

	firmwareprofiles "github.com/dockgate/dockgate/firmware-profiles"
	"github.com/dockgate/dockgate/printers/printersim"
	"golang.org/x/sync/errgroup"
)

func init() { simSubcommands["printer"] = simPrinter }

// simPrinter runs the ZPL printer simulator on raw TCP with an optional
// line-based control port for fault injection.
func simPrinter(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "sim printer", "dockgate sim printer [--listen HOST:PORT] [--control HOST:PORT] [--profile ID] [--dir DIR] [--speed LABELS/S] [--silent=true|false] [--bad-tags F] [--seed N] [--miscalibrated]")
	listen := fs.String("listen", "127.0.0.1:9100", "raw TCP `HOST:PORT` to take ZPL on")
	control := fs.String("control", "", "control port `HOST:PORT` for fault injection (paper-out, head-open, pause, resume, drop, slow N, refuse on|off, silent on|off, speed N, bad-tags F, fail-tags N, miscalibrate on|off, power-cycle [S], count, counters, status); empty: none")
	profile := fs.String("profile", "generic-zpl-203", "firmware profile `ID` to pretend to be")
	dir := fs.String("dir", "", "write each received format to `DIR` as fmt-NNNNNN.zpl with a PNG preview fmt-NNNNNN.png")
	speed := fs.Float64("speed", 0, "print speed in labels per second (0: instantly)")
	silent := fs.Bool("silent", true, "do not answer ~HS while paper, ribbon or head is faulted, like real printers")
	badTags := fs.Float64("bad-tags", 0, "fraction `F` (0-1) of RFID tags that take no write: the label is voided and the next one tried, up to the format's ^RS tries")
	seed := fs.Uint64("seed", 1, "`N` chooses which tags are bad (the same seed, the same tags)")
	miscal := fs.Bool("miscalibrated", false, "the \"previous EPC\" fault: each tag is written with the EPC of the RFID format before it, and the write reported a success")
	if err := fs.parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q; see dockgate sim printer -h", fs.Arg(0))
	}
	if _, err := firmwareprofiles.Lookup(*profile); err != nil {
		return fmt.Errorf("--profile: %w", err)
	}
	if *speed < 0 {
		return fmt.Errorf("--speed %v must not be negative", *speed)
	}
	if *badTags < 0 || *badTags > 1 {
		return fmt.Errorf("--bad-tags %v: give a fraction from 0 to 1, e.g. 0.2 for one tag in five", *badTags)
	}
	if *dir != "" {
		if err := os.MkdirAll(*dir, 0o755); err != nil {
			return fmt.Errorf("--dir: %w", err)
		}
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (is another printer or simulator using it? choose another --listen port)", *listen, err)
	}
	var cln net.Listener
	if *control != "" {
		if cln, err = net.Listen("tcp", *control); err != nil {
			ln.Close()
			return fmt.Errorf("control port %s: %w", *control, err)
		}
	}
	var preview func([]byte) ([]byte, error)
	if *dir != "" {
		preview = printersim.Preview
	}
	sim := printersim.New(printersim.Options{
		Profile: *profile, Dir: *dir, LabelsPerSecond: *speed, Silent: *silent,
		BadTags: *badTags, Seed: *seed, Miscalibrated: *miscal,
		Logger:  slog.New(slog.NewTextHandler(env.stderr, nil)),
		Preview: preview,
	})
	info := map[string]string{"listen": ln.Addr().String(), "profile": *profile, "dir": *dir}
	if cln != nil {
		info["control"] = cln.Addr().String()
	}
	if err := json.NewEncoder(env.stdout).Encode(info); err != nil {
		return err
	}
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return sim.Serve(ctx, ln) })
	if cln != nil {
		g.Go(func() error { return sim.ServeControl(ctx, cln) })
	}
	return g.Wait()
}
