package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dockgate/dockgate/encoder/epc"
	"github.com/dockgate/dockgate/rfid"
	"github.com/dockgate/dockgate/rfid/llrp"
	"github.com/dockgate/dockgate/rfid/portal"
	"github.com/dockgate/dockgate/rfid/serialrdr"
)

func init() {
	register(&command{
		name:    "reader",
		summary: "reader watch --llrp HOST:PORT | --serial DEV --protocol P [--portal]: print tag reads or passes (and GPI changes) as JSON lines; reader capabilities: the reader's tables; reader gpo: set an output; reader rf ID: retune a running gateway's reader",
		subs: map[string]func(context.Context, *cliEnv, []string) error{"watch": readerWatch, "gpo": readerGPO,
			"capabilities": readerCapabilities, "rf": readerRF},
	})
}

const readerWatchUsage = `dockgate reader watch --llrp HOST[:PORT] [--antennas 1,2,…] [--keepalive D] [--portal …] [--duration D] [--count N] [--connect-timeout D]
dockgate reader watch --serial DEV --protocol m100|ru5102|ascii [--baud N] [--pattern RE] [--portal …] [--duration D] [--count N] [--connect-timeout D]
(portal flags: --door ID --outside 1,2 --inside 3,4 --min-reads N --rssi-floor DBM --presence-timeout D)
(tuning: --tune [--every D] prints reads per second and RSSI per antenna; try settings with --tx-power-dbm DBM,
 and on LLRP readers --rx-sensitivity-dbm DBM --session N --target A|B|AB; on LLRP readers --tune also takes lines
 on its input while it runs, e.g. "tx_power_dbm 27", "antenna 2 session 1", applied without reconnecting)`

// readLine is one tag read as "reader watch" prints it.
type readLine struct {
	EPC     string `json:"epc"`
	URI     string `json:"uri,omitempty"`
	Antenna uint16 `json:"antenna"`
	RSSI    *int   `json:"rssi,omitempty"`
	Time    string `json:"time"`
}

// passLine is one pass as "reader watch --portal" prints it.
type passLine struct {
	Door      string           `json:"door"`
	Direction string           `json:"direction"`
	Start     string           `json:"start"`
	End       string           `json:"end"`
	Count     int              `json:"count"`
	EPCs      []string         `json:"epcs"`
	Parent    string           `json:"parent,omitempty"`
	Pallets   []string         `json:"pallets,omitempty"`
	Cases     int              `json:"cases"`
	Items     int              `json:"items"`
	Others    int              `json:"others"`
	GTINs     map[string]int   `json:"gtins,omitempty"`
	Tags      []portal.PassTag `json:"tags"`
}

const rfc3339Milli = "2006-01-02T15:04:05.000Z07:00"

func parseAntennas(s string) ([]uint16, error) {
	if s == "" {
		return nil, nil
	}
	var out []uint16
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > 0xFFFF {
			return nil, fmt.Errorf("antenna %q is not a port number (1, 2, …); write e.g. --antennas 1,2", f)
		}
		out = append(out, uint16(n))
	}
	return out, nil
}

func readerWatch(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "reader watch", readerWatchUsage)
	addr := fs.String("llrp", "", "LLRP reader `HOST[:PORT]` (port 5084 by default)")
	dev := fs.String("serial", "", "serial reader `DEVICE`, e.g. /dev/ttyUSB0")
	proto := fs.String("protocol", "", "serial protocol: m100, ru5102 or ascii")
	baud := fs.Int("baud", 115200, "serial baud rate")
	pattern := fs.String("pattern", "", "ASCII line pattern (regexp with (?P<epc>…), optional (?P<ant>…), (?P<rssi>…))")
	ants := fs.String("antennas", "", "antennas to read, e.g. 1,2 (default all)")
	keepalive := fs.Duration("keepalive", 5*time.Second, "LLRP keepalive period; silence for twice this reconnects")
	usePortal := fs.Bool("portal", false, "print one line per pass through the door instead of per read")
	door := fs.String("door", "door", "door id in --portal output")
	outside := fs.String("outside", "1,2", "antennas outside the door (--portal)")
	inside := fs.String("inside", "3,4", "antennas inside the door (--portal)")
	minReads := fs.Int("min-reads", portal.DefaultMinReads, "reads above the floor for a tag to arrive (--portal)")
	floor := fs.Int("rssi-floor", portal.DefaultRSSIFloor, "dBm below which reads are ignored (--portal)")
	presence := fs.Duration("presence-timeout", portal.DefaultPresenceTimeout, "no reads for this long and a tag has left (--portal)")
	duration := fs.Duration("duration", 0, "stop after this long (default: until interrupted)")
	count := fs.Int("count", 0, "stop after this many lines of reads, passes or --tune (GPI lines are not counted; default: no limit)")
	connectTimeout := fs.Duration("connect-timeout", 30*time.Second, "give up (exit 1) when the reader has not connected within this long")
	tune := fs.Bool("tune", false, "print reads per second, tags and RSSI per antenna every --every instead of each read")
	every := fs.Duration("every", time.Second, "interval of the --tune lines")
	rf := addRFFlags(fs)
	if err := fs.parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q; see dockgate reader watch -h", fs.Arg(0))
	}
	if (*addr == "") == (*dev == "") {
		return errors.New("give exactly one of --llrp HOST:PORT or --serial DEVICE")
	}
	antennas, err := parseAntennas(*ants)
	if err != nil {
		return err
	}
	if *tune && (*usePortal || *every <= 0) {
		return errors.New("--tune prints per-antenna rates every --every (a positive duration); it does not go with --portal")
	}
	if *connectTimeout <= 0 {
		return fmt.Errorf("--connect-timeout %v: give a positive duration, e.g. 30s", *connectTimeout)
	}
	start := time.Now()
	if *duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *duration)
		defer cancel()
	}
	ctx, stop := context.WithCancel(ctx)
	defer stop()

	out := &lineWriter{w: env.stdout, limit: *count, done: stop}
	var onReads func([]rfid.Read)
	var engine *portal.Engine
	var tn *tuner
	if *tune {
		tn = newTuner(time.Now())
		onReads = tn.observe
	} else if *usePortal {
		outAnts, err1 := parseAntennas(*outside)
		inAnts, err2 := parseAntennas(*inside)
		if err := errors.Join(err1, err2); err != nil {
			return err
		}
		engine, err = portal.New(portal.Config{
			Doors: []portal.DoorConfig{{ID: *door, AntennasOutside: outAnts, AntennasInside: inAnts,
				MinReads: *minReads, RSSIFloor: *floor, PresenceTimeout: *presence}},
			Sink: func(e portal.Event) {
				if p, ok := e.(*portal.PassEvent); ok {
					out.write(passJSON(p))
				}
			},
		})
		if err != nil {
			return err
		}
		onReads = engine.Observe
	} else {
		onReads = func(b []rfid.Read) {
			for i := range b {
				out.write(readJSON(&b[i]))
			}
		}
	}
	// The watch ends with an error, not exit 0, when the reader never
	// connected: within --connect-timeout, or before --duration or an
	// interrupt ended it.
	conn := &connectWatch{connected: make(chan struct{})}
	onEvent := func(e rfid.ReaderEvent) {
		conn.observe(e)
		if tn != nil && e.Kind == rfid.EventConnected {
			tn.connected(time.Now())
		}
		if e.Kind == rfid.EventGPI {
			out.aside(gpiJSON(e)) // the inputs at connect, then their changes
			return
		}
		msg := "reader " + e.Kind.String()
		if e.Antenna != 0 {
			msg += fmt.Sprintf(" antenna %d", e.Antenna)
		}
		switch {
		case e.Err != nil && ctx.Err() != nil && (errors.Is(e.Err, context.Canceled) || errors.Is(e.Err, context.DeadlineExceeded)):
			msg += ": the watch ended" // --duration, --count or an interrupt, not a fault
		case e.Err != nil:
			msg += ": " + e.Err.Error()
		}
		if e.Message != "" {
			msg += " (" + e.Message + ")"
		}
		out.stderr(env.stderr, msg)
	}

	var run func(context.Context) error
	var live *liveTune
	target := *dev
	if *addr != "" {
		target = *addr
		s, err := llrp.NewSession(llrp.Config{ReaderID: *addr, Address: *addr, Antennas: antennas,
			KeepalivePeriod: *keepalive, WatchGPI: true, RF: rf.settings(), OnReads: onReads, OnEvent: onEvent})
		if err != nil {
			return err
		}
		run = s.Run
		if tn != nil {
			live = newLiveTune(s, rf)
		}
	} else {
		if err := rf.serialErr(); err != nil {
			return err
		}
		r, err := serialrdr.New(serialrdr.Config{ReaderID: *dev, Protocol: *proto, Device: *dev, Baud: *baud,
			Pattern: *pattern, TxPowerDBm: rf.txPower, OnReads: onReads, OnEvent: onEvent})
		if err != nil {
			return err
		}
		run = r.Run
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTimer(*connectTimeout)
		defer t.Stop()
		select {
		case <-conn.connected:
		case <-ctx.Done():
		case <-t.C:
			stop()
		}
	}()
	if tn != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tn.run(ctx, *every, out)
		}()
	}
	if live != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Lines given before the reader is up (piped in, or typed
			// while it connects) wait for it instead of being refused.
			select {
			case <-conn.connected:
			case <-ctx.Done():
				return
			}
			live.run(ctx, env.stdin, out)
		}()
	}
	if engine != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = engine.Run(ctx, 100*time.Millisecond) // flushes open passes at the end
		}()
	}
	err = run(ctx)
	stop()
	wg.Wait()
	if err != nil {
		return err
	}
	return conn.err(target, time.Since(start))
}

// connectWatch remembers whether a reader connected, and why it did not.
type connectWatch struct {
	mu        sync.Mutex
	connected chan struct{} // closed at the first connection
	ok        bool
	last      error // the last connection failure
}

func (w *connectWatch) observe(e rfid.ReaderEvent) {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case e.Kind == rfid.EventConnected && !w.ok:
		w.ok = true
		close(w.connected)
	case (e.Kind == rfid.EventConnectFailed || e.Kind == rfid.EventDisconnected) && e.Err != nil:
		w.last = e.Err
	}
}

// err is nil once the reader connected, else what the watch tried.
func (w *connectWatch) err(target string, waited time.Duration) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ok {
		return nil
	}
	why := "no answer"
	if w.last != nil {
		why = w.last.Error()
	}
	return fmt.Errorf("reader %s never connected in %v: %s (check the address or device, and that no other client holds the reader)", target, waited.Round(100*time.Millisecond), why)
}

func readJSON(r *rfid.Read) any {
	l := readLine{EPC: r.EPC.String(), Antenna: r.Antenna, Time: r.Time.UTC().Format(rfc3339Milli)}
	if r.HasRSSI {
		v := int(r.RSSI)
		l.RSSI = &v
	}
	if e, err := epc.Decode(r.EPC.Bytes(), r.EPC.BitLen()); err == nil && !e.IsRaw() {
		l.URI = e.PureURI()
	}
	return l
}

func passJSON(p *portal.PassEvent) any {
	return passLine{Door: p.Door, Direction: p.Direction, Start: p.Start.UTC().Format(rfc3339Milli),
		End: p.End.UTC().Format(rfc3339Milli), Count: len(p.Tags), EPCs: p.EPCs(), Parent: p.Parent,
		Pallets: p.Pallets, Cases: p.Cases, Items: p.Items, Others: p.Others, GTINs: p.GTINs, Tags: p.Tags}
}

// lineWriter prints JSON lines from any goroutine and ends the watch after
// limit lines.
type lineWriter struct {
	mu    sync.Mutex
	w     io.Writer
	n     int
	limit int
	done  func()
}

func (l *lineWriter) write(v any) { l.line(v, true) }

// aside writes a line that --count does not count (a GPI line beside the
// reads), until the count is reached.
func (l *lineWriter) aside(v any) { l.line(v, false) }

func (l *lineWriter) line(v any, counted bool) {
	b, err := json.Marshal(v)
	if err != nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.limit > 0 && l.n >= l.limit {
		return
	}
	_, _ = l.w.Write(append(b, '\n'))
	if !counted {
		return
	}
	l.n++
	if l.limit > 0 && l.n >= l.limit {
		l.done()
	}
}

func (l *lineWriter) stderr(w io.Writer, msg string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintln(w, msg)
}
