package signals

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/dockgate/dockgate/edge/outbox"
	"github.com/dockgate/dockgate/rfid"
)

// Clock is the engine's time. The default is the system's; tests give a
// fake one that fires its timers as they move it.
type Clock interface {
	Now() time.Time
	// AfterFunc calls f in its own goroutine after d; stop keeps it
	// from being called if it has not been yet.
	AfterFunc(d time.Duration, f func()) (stop func() bool)
}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }
func (systemClock) AfterFunc(d time.Duration, f func()) func() bool {
	return time.AfterFunc(d, f).Stop
}

// Door is one door's rules and the reader whose outputs they drive.
type Door struct {
	ID     string
	Reader string
	Rules  []Rule // their defaults are filled by New
}

// Timing of the writes to a reader.
const (
	// DefaultStaleAfter: an event heard longer than this after it
	// happened (replayed after a restart, a backlog) lights nothing.
	DefaultStaleAfter = 30 * time.Second
	// writeTimeout bounds one output write.
	writeTimeout = 5 * time.Second
	// retryAfter is how long a reader whose write failed is left alone
	// before the engine writes again; it doubles with each failure in a
	// row, up to maxRetryAfter (a port the reader does not have fails
	// every time).
	retryAfter    = time.Second
	maxRetryAfter = 30 * time.Second
	// shutdownTimeout bounds the writes that set every output low when
	// the engine stops.
	shutdownTimeout = 3 * time.Second
	// maxMarks bounds the alert and mismatch marks a door remembers for
	// the passes they belong to.
	maxMarks = 64
)

// Config configures an Engine.
type Config struct {
	Doors []Door
	// Clock is the engine's time (the system's when nil).
	Clock Clock
	// Logger receives write failures, once per streak of them; nil
	// discards.
	Logger *slog.Logger
	// OnWrite, when set, is told of every output write, for each door
	// with a rule on the port: err is nil when the reader took it.
	OnWrite func(door string, port uint16, err error)
	// OnChange, when set, is told that a door's rules changed: one lit,
	// lit again (its time starts over) or put out. It is called without
	// the engine's lock held, from the goroutine that made the change, and
	// must not wait (a screen marks the door to render it again; see
	// Lights). A blinking rule's phases are not changes.
	OnChange func(door string)
	// StaleAfter is DefaultStaleAfter when zero. A pass's events carry the
	// time of its last read, heard a presence timeout later at least:
	// give the doors' longest presence timeout on top.
	StaleAfter time.Duration
}

// Engine decides which outputs of each reader are lit from the events the
// gateway queues, and keeps the readers set to that.
type Engine struct {
	clock    Clock
	log      *slog.Logger
	onWrite  func(string, uint16, error)
	onChange func(string)
	stale    time.Duration

	mu sync.Mutex
	// doors and outputs are made by New and not changed after: their
	// maps are read without mu, their entries' fields with it.
	doors    map[string]*door
	outputs  map[string]*output // by reader id
	stopping bool
	running  bool
}

// door is one door's rules and what it remembers of its passes.
type door struct {
	id    string
	out   *output
	rules []*rule
	// alerted are the passes with a hold alert; marred the end times of
	// those with an unexpected carton or a shipment mismatch (the time
	// their events carry). Oldest first.
	alerted []alertMark
	marred  []time.Time
}

// alertMark is a pass with a hold alert: its start, and whether the alert
// lit its rule. A hold alert carries the time of the held carton's last
// read, which a long pass leaves far behind the pass's end: the alert may
// be heard stale while its pass is not, and then the pass lights it.
type alertMark struct {
	start time.Time
	lit   bool
}

// rule is a Rule and whether it is lit.
type rule struct {
	Rule
	until time.Time // lit until then; zero when off
	high  bool      // its ports are high now (a blinking rule's phase)
	// gen and blinks are bumped when the rule is lit again or put out,
	// so that a timer set before does nothing.
	gen, blinks int
	stop, blink func() bool
}

// output is one reader's outputs, and the goroutine that sets them.
type output struct {
	reader string
	set    rfid.GPOSetter
	ports  []uint16            // every port a rule drives, sorted
	doors  map[uint16][]string // the doors with a rule on each port
	// connected: the reader's session is up; session counts
	// connections, so that a write made on an earlier one is not
	// taken for the state of this one.
	connected bool
	session   int
	// applied is what the reader's outputs were last set to; a port
	// missing is unknown and is written.
	applied map[uint16]bool
	failing error         // the last write failed, and why
	retry   time.Duration // the wait before the next try after a failure
	kick    chan struct{}
}

// New builds an engine for doors. Each door's reader gets its outputs from
// Attach.
func New(cfg Config) (*Engine, error) {
	e := &Engine{clock: cfg.Clock, log: cfg.Logger, onWrite: cfg.OnWrite, onChange: cfg.OnChange, stale: cfg.StaleAfter,
		doors: map[string]*door{}, outputs: map[string]*output{}}
	if e.clock == nil {
		e.clock = systemClock{}
	}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	if e.stale == 0 {
		e.stale = DefaultStaleAfter
	}
	var probs []string
	for _, dc := range cfg.Doors {
		if len(dc.Rules) == 0 {
			continue
		}
		if dc.Reader == "" {
			probs = append(probs, fmt.Sprintf("door %q: signals need the door's reader, whose outputs they drive", dc.ID))
			continue
		}
		rules := WithDefaults(dc.Rules)
		probs = append(probs, Problems(dc.ID, rules)...)
		o := e.outputs[dc.Reader]
		if o == nil {
			o = &output{reader: dc.Reader, doors: map[uint16][]string{}, applied: map[uint16]bool{}, kick: make(chan struct{}, 1)}
			e.outputs[dc.Reader] = o
		}
		d := &door{id: dc.ID, out: o}
		for _, r := range rules {
			d.rules = append(d.rules, &rule{Rule: r})
			for _, p := range r.GPO {
				if !slices.Contains(o.ports, p) {
					o.ports = append(o.ports, p)
				}
				if !slices.Contains(o.doors[p], dc.ID) {
					o.doors[p] = append(o.doors[p], dc.ID)
				}
			}
		}
		slices.Sort(o.ports)
		e.doors[dc.ID] = d
	}
	if len(probs) > 0 {
		return nil, fmt.Errorf("signals: %s", strings.Join(probs, "; "))
	}
	return e, nil
}

// Readers returns the readers whose outputs the rules drive, sorted.
func (e *Engine) Readers() []string {
	ids := make([]string, 0, len(e.outputs))
	for id := range e.outputs {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// Attach gives the engine a reader's outputs; call it before Run. A reader
// never attached is never written to.
func (e *Engine) Attach(reader string, set rfid.GPOSetter) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if o := e.outputs[reader]; o != nil {
		o.set = set
	}
}

// Queued takes the events the outbox queued (outbox.Options.OnQueued). It
// never waits on a reader: it decides what is lit and wakes the readers'
// writers.
func (e *Engine) Queued(evs []outbox.Event) {
	for i := range evs {
		e.handle(&evs[i])
	}
}

// eventBody is what the engine reads of an event's body.
type eventBody struct {
	Door      string    `json:"door"`
	Start     time.Time `json:"start"`      // portal.pass
	PassStart time.Time `json:"pass_start"` // lot.hold.alert
	Part      int       `json:"part"`       // portal.pass in parts
	Parts     int       `json:"parts"`
}

func (e *Engine) handle(ev *outbox.Event) {
	switch ev.Type {
	case "portal.pass", EventHoldAlert, EventUnexpected, EventMismatch, EventLoaded, EventShipped:
	default:
		return
	}
	if door, ok := strings.CutPrefix(ev.Source, "portal/"); ok && e.doors[door] == nil {
		return // a pass or alert at a door without rules: its body is not read
	}
	var b eventBody
	if err := json.Unmarshal(ev.Body, &b); err != nil {
		return // not an event of the gateway's own making
	}
	if e.light(ev, &b) {
		e.changed(b.Door)
	}
}

// light lights the rules of the door of ev on it, and reports whether any
// rule was lit.
func (e *Engine) light(ev *outbox.Event, b *eventBody) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	d := e.doors[b.Door]
	if d == nil {
		return false
	}
	// A stale event lights nothing, but its pass is marked all the same:
	// a pass with an alert is never a matched one.
	stale := e.clock.Now().Sub(ev.Time) > e.stale
	switch ev.Type {
	case EventHoldAlert:
		lit := !stale && e.trigger(d, EventHoldAlert)
		d.alerted = mark(d.alerted, alertMark{start: b.PassStart, lit: lit})
		return lit
	case EventUnexpected, EventMismatch:
		d.marred = mark(d.marred, ev.Time)
		return !stale && e.trigger(d, ev.Type)
	case "portal.pass":
		if b.Parts > 1 && b.Part != b.Parts {
			return false // the pass is told once its last part is in
		}
		matched, lit := true, false
		if i := slices.IndexFunc(d.alerted, func(m alertMark) bool { return m.start.Equal(b.Start) }); i >= 0 {
			if !d.alerted[i].lit && !stale {
				lit = e.trigger(d, EventHoldAlert) // its alert was heard stale
			}
			d.alerted, matched = slices.Delete(d.alerted, i, i+1), false
		}
		if i := slices.IndexFunc(d.marred, ev.Time.Equal); i >= 0 {
			d.marred, matched = slices.Delete(d.marred, i, i+1), false
		}
		if stale {
			return lit
		}
		lit = e.trigger(d, EventPass) || lit
		if matched {
			lit = e.trigger(d, EventPassMatched) || lit
		}
		return lit
	default:
		return !stale && e.trigger(d, ev.Type)
	}
}

// changed tells Config.OnChange that door's rules changed (e.mu not held).
func (e *Engine) changed(door string) {
	if e.onChange != nil {
		e.onChange(door)
	}
}

// mark remembers t, forgetting the oldest beyond maxMarks.
func mark[T any](ts []T, t T) []T {
	if len(ts) >= maxMarks {
		ts = slices.Delete(ts, 0, len(ts)-maxMarks+1)
	}
	return append(ts, t)
}

// trigger lights d's rules on event (e.mu held) and reports whether one
// was. An alert's rule puts out the door's other rules; they are not lit
// while it is.
func (e *Engine) trigger(d *door, event string) bool {
	if e.stopping {
		return false // the outputs are low for good: nothing shows lit
	}
	alert := IsAlert(event)
	if !alert && d.alertLit() {
		return false
	}
	now := e.clock.Now()
	lit := false
	for _, r := range d.rules {
		if r.On != event {
			continue
		}
		lit = true
		if r.until.IsZero() {
			r.high = true
			if r.Pattern == PatternBlink {
				e.blinkLater(d, r, r.blinks)
			}
		}
		r.gen++ // the running timer, if any, does nothing
		if r.stop != nil {
			r.stop()
		}
		r.until = now.Add(r.For)
		gen := r.gen
		r.stop = e.clock.AfterFunc(r.For, func() { e.expire(d, r, gen) })
	}
	if !lit {
		return false
	}
	if alert {
		for _, r := range d.rules {
			if !IsAlert(r.On) {
				e.putOut(r)
			}
		}
	}
	e.kick(d.out)
	return true
}

// blinkLater turns a blinking rule's phase after half its period, and
// again after each half until the rule is put out (which bumps blinks).
func (e *Engine) blinkLater(d *door, r *rule, blinks int) {
	r.blink = e.clock.AfterFunc(r.Period/2, func() {
		e.mu.Lock()
		defer e.mu.Unlock()
		if r.blinks != blinks {
			return
		}
		r.high = !r.high
		e.blinkLater(d, r, blinks)
		e.kick(d.out)
	})
}

// expire puts out a rule whose time is up.
func (e *Engine) expire(d *door, r *rule, gen int) {
	e.mu.Lock()
	if r.gen != gen {
		e.mu.Unlock()
		return // lit again since
	}
	e.putOut(r)
	e.kick(d.out)
	e.mu.Unlock()
	e.changed(d.id)
}

// putOut turns r off (e.mu held).
func (e *Engine) putOut(r *rule) {
	r.gen++
	r.blinks++
	for _, stop := range []func() bool{r.stop, r.blink} {
		if stop != nil {
			stop()
		}
	}
	r.stop, r.blink, r.until, r.high = nil, nil, time.Time{}, false
}

func (d *door) alertLit() bool {
	for _, r := range d.rules {
		if IsAlert(r.On) && !r.until.IsZero() {
			return true
		}
	}
	return false
}

// kick wakes o's writer (e.mu held).
func (e *Engine) kick(o *output) {
	select {
	case o.kick <- struct{}{}:
	default: // a wake-up is pending: the writer reads the latest state
	}
}

// desired is what o's ports should be now (e.mu held): high where a lit
// rule of a door on the reader drives it high.
func (e *Engine) desired(o *output) map[uint16]bool {
	want := make(map[uint16]bool, len(o.ports))
	for _, p := range o.ports {
		want[p] = false
	}
	if e.stopping {
		return want
	}
	for _, d := range e.doors {
		if d.out != o {
			continue
		}
		for _, r := range d.rules {
			if r.high {
				for _, p := range r.GPO {
					want[p] = true
				}
			}
		}
	}
	return want
}

// Lit returns the ports the rules want high on reader now, sorted.
func (e *Engine) Lit(reader string) []uint16 {
	e.mu.Lock()
	defer e.mu.Unlock()
	o := e.outputs[reader]
	if o == nil {
		return nil
	}
	var lit []uint16
	want := e.desired(o)
	for _, p := range o.ports {
		if want[p] {
			lit = append(lit, p)
		}
	}
	return lit
}

// Light is one of a door's rules as a screen shows it: the rule (with its
// defaults) and whether it is lit, until when.
type Light struct {
	Rule
	// Lit: the rule's event happened less than For ago (a blinking rule
	// is lit in both its phases); its ports are high, or blinking, until
	// Until. An alert's rule puts the door's other rules out.
	Lit   bool
	Until time.Time
	// Alert: the rule is on an alert (IsAlert), which wins over the
	// others.
	Alert bool
}

// MarshalJSON writes l the gateway's way (snake_case, durations in
// seconds, times in UTC):
//
//	{"on":"lot.hold.alert","label":"Held lot","color":"red","gpo":[2],
//	 "for_seconds":10,"pattern":"blink","period_seconds":1,
//	 "alert":true,"lit":true,"until":"2026-03-02T08:00:10Z"}
//
// period_seconds is left out for a steady rule, until for a rule that is
// off.
func (l Light) MarshalJSON() ([]byte, error) {
	j := struct {
		On            string     `json:"on"`
		Label         string     `json:"label"`
		Color         string     `json:"color"`
		GPO           []uint16   `json:"gpo"`
		ForSeconds    float64    `json:"for_seconds"`
		Pattern       string     `json:"pattern"`
		PeriodSeconds float64    `json:"period_seconds,omitempty"`
		Alert         bool       `json:"alert"`
		Lit           bool       `json:"lit"`
		Until         *time.Time `json:"until,omitempty"`
	}{On: l.On, Label: l.Label, Color: l.Color, GPO: l.GPO, ForSeconds: l.For.Seconds(), Pattern: l.Pattern,
		PeriodSeconds: l.Period.Seconds(), Alert: l.Alert, Lit: l.Lit}
	if j.GPO == nil {
		j.GPO = []uint16{}
	}
	if l.Lit {
		until := l.Until.UTC()
		j.Until = &until
	}
	return json.Marshal(j)
}

// Lights returns door's rules in their configured order, each with whether
// it is lit now; nil for a door without rules.
func (e *Engine) Lights(door string) []Light {
	d := e.doors[door]
	if d == nil {
		return nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]Light, 0, len(d.rules))
	for _, r := range d.rules {
		out = append(out, Light{Rule: r.Rule, Lit: !r.until.IsZero(), Until: r.until, Alert: IsAlert(r.On)})
	}
	return out
}

// ReaderEvent follows a reader's connection (readers.Handlers.OnEvent):
// on each connection every output the rules drive is set, low unless a
// rule is lit, so that the lights start from a known state.
func (e *Engine) ReaderEvent(ev rfid.ReaderEvent) {
	e.mu.Lock()
	defer e.mu.Unlock()
	o := e.outputs[ev.Reader]
	if o == nil {
		return
	}
	switch ev.Kind {
	case rfid.EventConnected:
		o.connected = true
	case rfid.EventDisconnected, rfid.EventConnectFailed:
		o.connected = false
	default:
		return
	}
	o.session++
	clear(o.applied)
	e.kick(o)
}

// Warnings says, for each connected reader whose last output write failed,
// which doors' lights may be wrong and why (for /healthz).
func (e *Engine) Warnings() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for _, id := range e.Readers() {
		o := e.outputs[id]
		if o.connected && o.failing != nil {
			var doors []string
			for _, ds := range o.doors {
				for _, d := range ds {
					if !slices.Contains(doors, d) {
						doors = append(doors, d)
					}
				}
			}
			slices.Sort(doors)
			out = append(out, fmt.Sprintf("door signals of reader %s not set, the light stack of %s may be wrong: %v", id, strings.Join(doors, ", "), o.failing))
		}
	}
	return out
}

// Run sets the readers' outputs until ctx ends, then sets every output the
// rules drive low, while the readers still run: stop the readers after Run
// returns.
func (e *Engine) Run(ctx context.Context) error {
	e.mu.Lock()
	if e.running {
		e.mu.Unlock()
		return errors.New("signals: Run called twice")
	}
	e.running = true
	var outs []*output
	for _, id := range e.Readers() {
		if o := e.outputs[id]; o.set != nil {
			outs = append(outs, o)
		}
	}
	e.mu.Unlock()
	var wg sync.WaitGroup
	for _, o := range outs {
		wg.Go(func() {
			for {
				select {
				case <-ctx.Done():
					return
				case <-o.kick:
					e.apply(ctx, o)
				}
			}
		})
	}
	<-ctx.Done()
	wg.Wait()

	// Every output low, whatever it was last set to.
	e.mu.Lock()
	e.stopping = true
	var wereLit []string
	for _, d := range e.doors {
		for _, r := range d.rules {
			if !r.until.IsZero() && !slices.Contains(wereLit, d.id) {
				wereLit = append(wereLit, d.id)
			}
			e.putOut(r)
		}
	}
	for _, o := range outs {
		clear(o.applied)
	}
	e.mu.Unlock()
	for _, d := range wereLit {
		e.changed(d)
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	for _, o := range outs {
		wg.Go(func() { e.apply(sctx, o) })
	}
	wg.Wait()
	return nil
}

// apply writes o's ports until they are as desired, or a write fails (it
// is tried again after retryAfter, or at the next connection).
func (e *Engine) apply(ctx context.Context, o *output) {
	for {
		e.mu.Lock()
		if !o.connected {
			e.mu.Unlock()
			return
		}
		session, want := o.session, e.desired(o)
		var port uint16
		for _, p := range o.ports {
			if st, known := o.applied[p]; !known || st != want[p] {
				port = p
				break
			}
		}
		e.mu.Unlock()
		if port == 0 {
			return
		}
		wctx, cancel := context.WithTimeout(ctx, writeTimeout)
		err := o.set.SetGPO(wctx, port, want[port])
		cancel()
		if err != nil && errors.Is(ctx.Err(), context.Canceled) {
			// Cut short by the shutdown, whose own writes follow (a
			// shutdown write out of time is a failure, logged).
			return
		}
		e.mu.Lock()
		if err == nil && o.session == session {
			o.applied[port] = want[port]
		}
		e.mu.Unlock()
		if err != nil && ctx.Err() == nil {
			e.clock.AfterFunc(e.backoff(o), func() {
				e.mu.Lock()
				defer e.mu.Unlock()
				e.kick(o)
			})
		}
		e.wrote(o, port, want[port], err)
		if err != nil {
			return
		}
	}
}

// backoff is how long to wait after a failed write to o: retryAfter
// after the first failure, doubling up to maxRetryAfter.
func (e *Engine) backoff(o *output) time.Duration {
	e.mu.Lock()
	defer e.mu.Unlock()
	o.retry = min(max(o.retry*2, retryAfter), maxRetryAfter)
	return o.retry
}

// wrote counts a write and logs the first failure of a streak, and the
// success that ends it.
func (e *Engine) wrote(o *output, port uint16, high bool, err error) {
	if e.onWrite != nil {
		for _, d := range o.doors[port] {
			e.onWrite(d, port, err)
		}
	}
	e.mu.Lock()
	was := o.failing != nil
	o.failing = err
	if err == nil {
		o.retry = 0
	}
	e.mu.Unlock()
	switch {
	case err != nil && !was:
		e.log.Warn("door signal not set: the light stack may show the wrong state (tried again while the reader is connected)",
			"reader", o.reader, "doors", strings.Join(o.doors[port], ","), "gpo", port, "high", high, "err", err)
	case err == nil && was:
		e.log.Info("door signals set again", "reader", o.reader)
	}
}
