package command

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/dockgate/dockgate/edge/api"
	"github.com/dockgate/dockgate/edge/outbox"
	"github.com/dockgate/dockgate/edge/store"
)

// Names of the gateway's commands.
const (
	Receive    = "receive"
	Print      = "print"
	Reprint    = "reprint"
	Cancel     = "cancel"
	LotHold    = "lot.hold"
	LotRelease = "lot.release"
	// Ship announces a shipment (edge/shipping), ShipClose ends one.
	Ship      = "ship"
	ShipClose = "ship.close"
)

// Reply statuses.
const (
	StatusAccepted = "accepted"
	StatusDone     = "done"
	StatusFailed   = "failed"
)

// Errors: the reason of a failed reply wraps one of these.
var (
	ErrMalformed = errors.New("malformed command")
	ErrExpired   = errors.New("command expired")
	ErrUnknown   = errors.New("unknown command")
	ErrBusy      = errors.New("command queue full")
	ErrPanic     = errors.New("command handler failed")
	// ErrReused: a command id already used for another request.
	ErrReused = errors.New("command id reused")
)

// MaxPayload bounds a command's payload.
const MaxPayload = 64 << 10

// UnidentifiedReplyTopic receives failed replies to commands without a
// usable id (relative to the gateway's prefix).
const UnidentifiedReplyTopic = "reply/unidentified"

// Command is one parsed command.
type Command struct {
	// Name comes from the topic cmd/{name}.
	Name      string    `json:"-"`
	ID        string    `json:"id"`
	ExpiresAt time.Time `json:"expires_at"`
	ReplyTo   string    `json:"reply_to,omitempty"`
	// Payload is the whole JSON object; a handler decodes its own fields
	// from it.
	Payload json.RawMessage `json:"-"`
}

// Envelope fields, in their snake_case names and in the camelCase ones
// of earlier versions (deprecated, still accepted).
const (
	fieldExpiresAt    = "expires_at"
	fieldReplyTo      = "reply_to"
	oldFieldExpiresAt = "expiresAt"
	oldFieldReplyTo   = "replyTo"
)

// deleteEnvelope removes the envelope's fields (id, expires_at, reply_to,
// and their deprecated spellings) from a command's fields.
func deleteEnvelope[V any](fields map[string]V) {
	for _, k := range []string{"id", fieldExpiresAt, fieldReplyTo, oldFieldExpiresAt, oldFieldReplyTo} {
		delete(fields, k)
	}
}

// Decode decodes the command's own fields into v, strictly, as the HTTP
// API decodes a body (api.DecodeJSON): a field v does not have (a
// misspelt name) is an error naming it, rather than a value silently
// dropped; a value of the wrong type is named by its path and described in
// JSON's words (`payload: field "cartons": want a number, got a string`);
// text that is not UTF-8 is refused. The envelope (id, expires_at,
// reply_to) is left out.
func (c Command) Decode(v any) error {
	var fields map[string]json.RawMessage
	if err := api.DecodeJSONAs("payload", c.Payload, &fields); err != nil {
		return err
	}
	deleteEnvelope(fields)
	b, err := json.Marshal(fields)
	if err != nil {
		return fmt.Errorf("payload: %v", err)
	}
	if err := api.DecodeJSONAs("payload", b, v); errors.Is(err, api.ErrUnknownField) {
		return fmt.Errorf("%w (field names are snake_case, as in the HTTP API, e.g. supplier_lot)", err)
	} else if err != nil {
		return err
	}
	return nil
}

// Handler runs a command and returns its result (marshalled to JSON into
// the done reply) or an error (its text is the failed reply's reason).
type Handler func(ctx context.Context, cmd Command) (result any, err error)

// Reply is the JSON published for a command.
type Reply struct {
	ID      string          `json:"id"`
	Command string          `json:"command"`
	Status  string          `json:"status"`
	Reason  string          `json:"reason,omitempty"`
	Result  json.RawMessage `json:"result,omitempty"`
	// Repeat is set on the remembered outcome sent for a repeated id.
	Repeat bool      `json:"repeat,omitempty"`
	Time   time.Time `json:"time"`
}

// Parse checks a command's payload. On error the returned Command holds what
// could be read (ID and ReplyTo when valid), for the failed reply.
//
// The envelope's fields are id, expires_at and reply_to; the camelCase
// names of earlier versions, expiresAt and replyTo, are deprecated and
// still accepted (both spellings of one field must then agree).
func Parse(name string, payload []byte, now time.Time) (Command, error) {
	cmd := Command{Name: name, Payload: payload}
	if len(payload) > MaxPayload {
		// Its id and reply_to, when they can be read, still direct the
		// failed reply to the sender (within a bound on the work).
		if len(payload) <= 16*MaxPayload {
			var env struct {
				ID         string `json:"id"`
				ReplyTo    string `json:"reply_to"`
				OldReplyTo string `json:"replyTo"`
			}
			if json.Unmarshal(payload, &env) == nil && checkID(env.ID) == nil {
				cmd.ID = env.ID
				rt := cmp.Or(env.ReplyTo, env.OldReplyTo)
				if outbox.CheckTopic(rt) == nil {
					cmd.ReplyTo = rt
				}
			}
		}
		return cmd, fmt.Errorf("%w: payload of %d bytes is larger than %d; send large data (such as ZPL) in several commands or through the HTTP API", ErrMalformed, len(payload), MaxPayload)
	}
	var env struct {
		ID           json.RawMessage `json:"id"`
		ExpiresAt    json.RawMessage `json:"expires_at"`
		ReplyTo      json.RawMessage `json:"reply_to"`
		OldExpiresAt json.RawMessage `json:"expiresAt"`
		OldReplyTo   json.RawMessage `json:"replyTo"`
	}
	if t := bytes.TrimSpace(payload); len(t) == 0 || t[0] != '{' {
		return cmd, fmt.Errorf("%w: payload is not a JSON object", ErrMalformed)
	}
	if err := json.Unmarshal(payload, &env); err != nil {
		return cmd, fmt.Errorf("%w: payload is not a JSON object: %v", ErrMalformed, err)
	}
	var id string
	if len(env.ID) == 0 || json.Unmarshal(env.ID, &id) != nil {
		return cmd, fmt.Errorf("%w: \"id\" is missing or not a string: set a unique id (the idempotency key)", ErrMalformed)
	}
	if err := checkID(id); err != nil {
		return cmd, err
	}
	cmd.ID = id
	replyTo, err := envelopeField(fieldReplyTo, env.ReplyTo, oldFieldReplyTo, env.OldReplyTo)
	if err != nil {
		return cmd, err
	}
	if len(replyTo) > 0 && string(replyTo) != "null" {
		var rt string
		if err := json.Unmarshal(replyTo, &rt); err != nil {
			return cmd, fmt.Errorf("%w: \"reply_to\" is not a string", ErrMalformed)
		}
		if err := outbox.CheckTopic(rt); err != nil {
			return cmd, fmt.Errorf("%w: \"reply_to\": %v", ErrMalformed, err)
		}
		cmd.ReplyTo = rt
	}
	expiresAt, err := envelopeField(fieldExpiresAt, env.ExpiresAt, oldFieldExpiresAt, env.OldExpiresAt)
	if err != nil {
		return cmd, err
	}
	var exp string
	if len(expiresAt) == 0 || json.Unmarshal(expiresAt, &exp) != nil {
		return cmd, fmt.Errorf("%w: \"expires_at\" is missing or not a string: set an RFC 3339 time such as %q", ErrMalformed, now.Add(5*time.Minute).UTC().Format(time.RFC3339))
	}
	t, err := time.Parse(time.RFC3339Nano, exp)
	if err != nil {
		return cmd, fmt.Errorf("%w: \"expires_at\" %q is not an RFC 3339 time such as %q", ErrMalformed, exp, now.Add(5*time.Minute).UTC().Format(time.RFC3339))
	}
	cmd.ExpiresAt = t
	if name == "" || strings.ContainsAny(name, "/+#\x00") {
		return cmd, fmt.Errorf("%w %q: the topic is cmd/{name} with one level", ErrUnknown, name)
	}
	if !now.Before(t) {
		return cmd, fmt.Errorf("%w: expires_at %s is not after the gateway's time %s", ErrExpired, t.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	return cmd, nil
}

// envelopeField is an envelope field given under its name or its
// deprecated one; both given must be the same JSON value.
func envelopeField(name string, v json.RawMessage, oldName string, old json.RawMessage) (json.RawMessage, error) {
	switch {
	case len(v) == 0:
		return old, nil
	case len(old) > 0 && !bytes.Equal(bytes.TrimSpace(v), bytes.TrimSpace(old)):
		return nil, fmt.Errorf("%w: %q and %q (its deprecated name) differ: send %q only", ErrMalformed, name, oldName, name)
	}
	return v, nil
}

func checkID(id string) error {
	if id == "" || len(id) > 128 {
		return fmt.Errorf("%w: \"id\" must be 1 to 128 characters", ErrMalformed)
	}
	for _, r := range id {
		if r <= ' ' || r == 0x7f || r == '/' || r == '+' || r == '#' || r > 0x7e {
			return fmt.Errorf("%w: \"id\" %q may hold printable ASCII without spaces, / + or #", ErrMalformed, id)
		}
	}
	return nil
}

// Options of the dispatcher (the gateway config's commands section). Zero
// values take the defaults.
type Options struct {
	// TTL is how long an id's outcome is remembered (default 24h).
	TTL time.Duration `yaml:"ttl"`
	// Queue bounds the commands waiting for a worker (default 256).
	Queue int `yaml:"queue"`
	// Workers run commands concurrently (default 2).
	Workers int `yaml:"workers"`
	// Timeout bounds one handler (default 2 min).
	Timeout time.Duration    `yaml:"timeout"`
	Logger  *slog.Logger     `yaml:"-"`
	Now     func() time.Time `yaml:"-"`
	// CommandTopic is the full topic prefix commands arrive under (such
	// as "dockgate/v1/site/gw/cmd/"): a reply_to there is refused, since
	// the gateway would take its own replies for commands.
	CommandTopic string `yaml:"-"`
}

// Dispatcher receives commands, runs their handlers once per id and replies.
type Dispatcher struct {
	s    *store.Store
	ob   *outbox.Outbox
	opt  Options
	log  *slog.Logger
	q    chan incoming
	mu   sync.RWMutex
	hand map[string]Handler
	wg   sync.WaitGroup
	// overflow bounds the busy replies sent outside the workers.
	overflow chan struct{}

	// save stores an outcome (the store method; tests replace it).
	save func(cmd Command, r Reply, reply bool) error
	// unsaved holds outcomes whose store failed, by id, until a retry
	// stores them: a repeat is answered from here meanwhile.
	umu     sync.Mutex
	unsaved map[string]unsavedOutcome
}

type unsavedOutcome struct {
	cmd Command
	r   Reply
}

// unsavedRetry is the interval at which unsaved outcomes are stored again.
const unsavedRetry = 500 * time.Millisecond

type incoming struct {
	name    string
	payload []byte
}

// record is what cmd/<id> holds.
type record struct {
	Name string `json:"name"`
	// Hash identifies the request (see requestHash); "" in records of
	// older versions.
	Hash    string          `json:"hash,omitempty"`
	Status  string          `json:"status"`
	Reason  string          `json:"reason,omitempty"`
	Result  json.RawMessage `json:"result,omitempty"`
	ReplyTo string          `json:"reply_to,omitempty"`
	At      time.Time       `json:"at"`
}

// UnmarshalJSON reads a record, also one stored by a version before the
// snake_case names ("replyTo").
func (r *record) UnmarshalJSON(b []byte) error {
	type plain record // without this method
	v := struct {
		*plain
		OldReplyTo string `json:"replyTo"`
	}{plain: (*plain)(r)}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	if r.ReplyTo == "" {
		r.ReplyTo = v.OldReplyTo
	}
	return nil
}

// NewDispatcher returns a dispatcher that remembers ids in s and replies
// through ob.
func NewDispatcher(s *store.Store, ob *outbox.Outbox, o Options) *Dispatcher {
	if o.TTL <= 0 {
		o.TTL = 24 * time.Hour
	}
	if o.Queue <= 0 {
		o.Queue = 256
	}
	if o.Workers <= 0 {
		o.Workers = 2
	}
	if o.Timeout <= 0 {
		o.Timeout = 2 * time.Minute
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	d := &Dispatcher{s: s, ob: ob, opt: o, log: o.Logger.With("component", "command"), q: make(chan incoming, o.Queue), hand: map[string]Handler{},
		overflow: make(chan struct{}, overflowReplies), unsaved: map[string]unsavedOutcome{}}
	d.save = d.store
	return d
}

// Handle registers the handler of a command name.
func (d *Dispatcher) Handle(name string, h Handler) {
	d.mu.Lock()
	d.hand[name] = h
	d.mu.Unlock()
}

// Names lists the registered commands.
func (d *Dispatcher) Names() []string {
	d.mu.RLock()
	defer d.mu.RUnlock()
	names := make([]string, 0, len(d.hand))
	for n := range d.hand {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Submit queues a command received on cmd/{name}. It never blocks: when the
// queue is full the command gets a failed reply (ErrBusy).
func (d *Dispatcher) Submit(name string, payload []byte) {
	in := incoming{name, append([]byte(nil), payload...)}
	select {
	case d.q <- in:
	default:
		select {
		case d.overflow <- struct{}{}:
		default:
			// A flood: even the busy replies are bounded. The sender
			// retries until it sees a reply.
			d.log.Warn("command dropped: queue and overflow replies full", "command", name)
			return
		}
		go func() {
			defer func() { <-d.overflow }()
			cmd, _ := Parse(name, in.payload, d.opt.Now())
			// A repeat of a command already run gets its outcome, not "busy".
			if prev, ok := d.recall(cmd.ID); ok {
				d.reply(context.Background(), cmd, repeatReply(cmd, prev))
				return
			}
			d.reply(context.Background(), cmd, Reply{Status: StatusFailed, Reason: fmt.Sprintf("%v: %d commands waiting; retry later", ErrBusy, d.opt.Queue)})
		}()
	}
}

// overflowReplies bounds the busy replies under way at once.
const overflowReplies = 16

// recall returns the stored outcome of a command id.
func (d *Dispatcher) recall(id string) (record, bool) {
	if id == "" {
		return record{}, false
	}
	if u, ok := d.unsavedOutcome(id); ok {
		return record{Name: u.cmd.Name, Hash: requestHash(u.cmd), Status: u.r.Status, Reason: u.r.Reason, Result: u.r.Result}, true
	}
	var r record
	err := d.s.DB().View(func(txn *badger.Txn) error {
		item, err := txn.Get(key(id))
		if err != nil {
			return err
		}
		return item.Value(func(v []byte) error { return json.Unmarshal(v, &r) })
	})
	return r, err == nil
}

// Run reports commands interrupted by the last stop, then runs the workers
// until ctx ends. Queued commands not started are dropped without a reply
// (the sender retries until it sees one).
func (d *Dispatcher) Run(ctx context.Context) error {
	if err := d.failInterrupted(ctx); err != nil {
		return err
	}
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		t := time.NewTicker(unsavedRetry)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				d.saveUnsaved()
			}
		}
	}()
	for i := 0; i < d.opt.Workers; i++ {
		d.wg.Add(1)
		go func() {
			defer d.wg.Done()
			for {
				select {
				case <-ctx.Done():
					return
				case in := <-d.q:
					d.process(ctx, in)
				}
			}
		}()
	}
	<-ctx.Done()
	d.wg.Wait()
	d.saveUnsaved()
	return nil
}

func (d *Dispatcher) unsavedOutcome(id string) (unsavedOutcome, bool) {
	d.umu.Lock()
	defer d.umu.Unlock()
	u, ok := d.unsaved[id]
	return u, ok
}

// saveUnsaved stores the outcomes whose store failed; those that fail
// again wait for the next try. An outcome still unsaved when the process
// ends is reported as interrupted at the next start.
func (d *Dispatcher) saveUnsaved() {
	d.umu.Lock()
	list := make([]unsavedOutcome, 0, len(d.unsaved))
	for _, u := range d.unsaved {
		list = append(list, u)
	}
	d.umu.Unlock()
	for _, u := range list {
		if err := d.save(u.cmd, u.r, false); err != nil { // its reply went out
			continue
		}
		d.umu.Lock()
		delete(d.unsaved, u.cmd.ID)
		d.umu.Unlock()
		d.log.Info("command outcome stored on a retry", "id", u.cmd.ID, "status", u.r.Status)
	}
}

func key(id string) []byte { return []byte(store.PrefixCommand + id) }

// process runs one command from payload to final reply.
func (d *Dispatcher) process(ctx context.Context, in incoming) {
	cmd, err := Parse(in.name, in.payload, d.opt.Now())
	if err == nil && d.opt.CommandTopic != "" && strings.HasPrefix(cmd.ReplyTo+"/", d.opt.CommandTopic) {
		err = fmt.Errorf("%w: \"reply_to\" %q is under the gateway's own command topics %s#, where replies would be taken for commands: reply on another topic", ErrMalformed, cmd.ReplyTo, d.opt.CommandTopic)
		cmd.ReplyTo = ""
	}
	if err != nil {
		d.reply(ctx, cmd, Reply{Status: StatusFailed, Reason: err.Error()})
		return
	}
	d.mu.RLock()
	h := d.hand[cmd.Name]
	d.mu.RUnlock()
	if h == nil {
		d.reply(ctx, cmd, Reply{Status: StatusFailed, Reason: fmt.Sprintf("%v %q: the gateway knows %s", ErrUnknown, cmd.Name, strings.Join(d.Names(), ", "))})
		return
	}
	if u, ok := d.unsavedOutcome(cmd.ID); ok {
		d.reply(ctx, cmd, repeatReply(cmd, record{Name: u.cmd.Name, Hash: requestHash(u.cmd), Status: u.r.Status, Reason: u.r.Reason, Result: u.r.Result}))
		return
	}
	prev, fresh, err := d.remember(cmd)
	if err != nil {
		d.reply(ctx, cmd, Reply{Status: StatusFailed, Reason: "remember command: " + err.Error()})
		return
	}
	if !fresh {
		d.reply(ctx, cmd, repeatReply(cmd, prev))
		return
	}
	// The "accepted" reply was staged with the id; the outcome's reply is
	// staged with the outcome.
	res := d.run(ctx, h, cmd)
	var serr error
	for try := 0; try < 3; try++ {
		if serr = d.save(cmd, res, true); serr == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Kept in memory and stored again in the background; a repeat is
	// answered with it meanwhile, and the reply goes out now.
	d.umu.Lock()
	d.unsaved[cmd.ID] = unsavedOutcome{cmd, res}
	d.umu.Unlock()
	d.log.Error("command outcome not stored yet; retrying", "id", cmd.ID, "err", serr)
	d.reply(ctx, cmd, res)
}

// run calls the handler with a timeout, turning a panic into a failure.
func (d *Dispatcher) run(ctx context.Context, h Handler, cmd Command) (r Reply) {
	hctx, cancel := context.WithTimeout(ctx, d.opt.Timeout)
	defer cancel()
	defer func() {
		if p := recover(); p != nil {
			d.log.Error("command handler panicked", "command", cmd.Name, "id", cmd.ID, "panic", p)
			r = Reply{Status: StatusFailed, Reason: fmt.Sprintf("%v: internal error in %s", ErrPanic, cmd.Name)}
		}
	}()
	result, err := h(hctx, cmd)
	if err != nil {
		return Reply{Status: StatusFailed, Reason: err.Error()}
	}
	r = Reply{Status: StatusDone}
	if result != nil {
		b, err := json.Marshal(result)
		if err != nil {
			return Reply{Status: StatusFailed, Reason: fmt.Sprintf("%s result: %v", cmd.Name, err)}
		}
		r.Result = b
	}
	return r
}

// repeatReply answers a command whose id is known: with the remembered
// outcome when it is the same request, and failed when the id was used for
// another command or other fields (the remembered outcome is not its).
func repeatReply(cmd Command, prev record) Reply {
	if prev.Name != cmd.Name {
		return Reply{Status: StatusFailed, Reason: fmt.Sprintf("%v: id %q was already used for a %s command; give every command its own id", ErrReused, cmd.ID, prev.Name)}
	}
	if prev.Hash != "" && prev.Hash != requestHash(cmd) {
		return Reply{Status: StatusFailed, Reason: fmt.Sprintf("%v: id %q was already used for a %s command with other fields; give every command its own id (a retry repeats the same fields)", ErrReused, cmd.ID, cmd.Name)}
	}
	return Reply{Status: prev.Status, Reason: prev.Reason, Result: prev.Result, Repeat: true}
}

// requestHash identifies a command's request: its name and payload fields,
// without id, expires_at and reply_to (in either spelling), which a retry
// may set anew.
func requestHash(cmd Command) string {
	// Decoded whole, numbers kept as written: re-encoding sorts the keys
	// of nested objects too, so a retry that orders them otherwise is the
	// same request.
	dec := json.NewDecoder(bytes.NewReader(cmd.Payload))
	dec.UseNumber()
	var fields map[string]any
	if dec.Decode(&fields) != nil {
		return ""
	}
	deleteEnvelope(fields)
	b, _ := json.Marshal(fields) // keys sorted at every level
	sum := sha256.Sum256(append([]byte(cmd.Name+"\x00"), b...))
	return hex.EncodeToString(sum[:16])
}

// remember stores the id as accepted, or returns the outcome already stored.
func (d *Dispatcher) remember(cmd Command) (record, bool, error) {
	var prev record
	fresh := false
	err := d.update(func(txn *badger.Txn) error {
		item, err := txn.Get(key(cmd.ID))
		if err == nil {
			fresh = false
			return item.Value(func(v []byte) error { return json.Unmarshal(v, &prev) })
		}
		if !errors.Is(err, badger.ErrKeyNotFound) {
			return err
		}
		fresh = true
		b, _ := json.Marshal(record{Name: cmd.Name, Hash: requestHash(cmd), Status: StatusAccepted, ReplyTo: cmd.ReplyTo, At: d.opt.Now().UTC()})
		if err := txn.SetEntry(badger.NewEntry(key(cmd.ID), b).WithTTL(d.ttl(cmd))); err != nil {
			return err
		}
		return d.stageReply(txn, cmd, Reply{Status: StatusAccepted})
	})
	return prev, fresh, err
}

// ttl is how long a command's outcome is remembered: the configured TTL,
// and at least until the command expires (plus a margin for clock skew),
// so that a redelivery can never run it a second time.
func (d *Dispatcher) ttl(cmd Command) time.Duration {
	return max(d.opt.TTL, cmd.ExpiresAt.Sub(d.opt.Now())+time.Hour)
}

// store records a command's outcome and, with reply, stages its reply in
// the same transaction: the outcome and its reply commit together.
func (d *Dispatcher) store(cmd Command, r Reply, reply bool) error {
	b, _ := json.Marshal(record{Name: cmd.Name, Hash: requestHash(cmd), Status: r.Status, Reason: r.Reason, Result: r.Result, ReplyTo: cmd.ReplyTo, At: d.opt.Now().UTC()})
	return d.update(func(txn *badger.Txn) error {
		if err := txn.SetEntry(badger.NewEntry(key(cmd.ID), b).WithTTL(d.ttl(cmd))); err != nil {
			return err
		}
		if !reply {
			return nil
		}
		return d.stageReply(txn, cmd, r)
	})
}

// update retries on a conflict (the same id arriving twice at once).
func (d *Dispatcher) update(f func(*badger.Txn) error) error {
	var err error
	for i := 0; i < 5; i++ {
		if err = d.s.Update(f); !errors.Is(err, badger.ErrConflict) {
			return err
		}
	}
	return err
}

// failInterrupted reports commands left accepted by a stop.
func (d *Dispatcher) failInterrupted(ctx context.Context) error {
	type stuck struct {
		id string
		r  record
	}
	var list []stuck
	err := d.s.DB().View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(store.PrefixCommand), PrefetchValues: true})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			var r record
			if err := it.Item().Value(func(v []byte) error { return json.Unmarshal(v, &r) }); err != nil {
				continue
			}
			if r.Status == StatusAccepted {
				list = append(list, stuck{strings.TrimPrefix(string(it.Item().Key()), store.PrefixCommand), r})
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("commands: scan: %w", err)
	}
	for _, s := range list {
		cmd := Command{Name: s.r.Name, ID: s.id, ReplyTo: s.r.ReplyTo}
		r := Reply{Status: StatusFailed, Reason: "interrupted by a gateway restart: check the outcome before sending a new command id"}
		if err := d.store(cmd, r, true); err != nil {
			return fmt.Errorf("commands: %w", err)
		}
	}
	return nil
}

// reply queues a reply that records no change (a refusal, a repeat) in the
// outbox at the top priority.
func (d *Dispatcher) reply(ctx context.Context, cmd Command, r Reply) {
	ev, err := d.replyEvent(cmd, r)
	if err != nil {
		d.log.Error("reply not encoded", "id", cmd.ID, "err", err)
		return
	}
	if _, err := d.ob.Append(context.WithoutCancel(ctx), ev); err != nil {
		d.log.Error("reply not queued", "command", cmd.Name, "id", cmd.ID, "status", r.Status, "err", err)
	}
}

// stageReply stages the reply that reports a change in the transaction that
// records it.
func (d *Dispatcher) stageReply(txn *badger.Txn, cmd Command, r Reply) error {
	ev, err := d.replyEvent(cmd, r)
	if err != nil {
		return err
	}
	return d.ob.Stage(txn, ev)
}

func (d *Dispatcher) replyEvent(cmd Command, r Reply) (outbox.Event, error) {
	r.ID, r.Command, r.Time = cmd.ID, cmd.Name, d.opt.Now().UTC()
	body, err := json.Marshal(r)
	if err != nil {
		return outbox.Event{}, fmt.Errorf("reply to %s: %w", cmd.ID, err)
	}
	ev := outbox.Event{Type: "reply", Priority: outbox.PriorityLifecycle, Source: "command/" + cmd.Name, Body: body}
	switch {
	case cmd.ReplyTo != "":
		ev.Topic, ev.RawTopic = cmd.ReplyTo, true
	case cmd.ID != "":
		ev.Topic = "reply/" + cmd.ID
	default:
		ev.Topic = UnidentifiedReplyTopic
	}
	if r.Status == StatusFailed {
		d.log.Warn("command failed", "command", cmd.Name, "id", cmd.ID, "reason", r.Reason)
	}
	return ev, nil
}
