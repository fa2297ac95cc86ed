package console

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dockgate/dockgate/edge/outbox"
)

// Hub takes the events the outbox queues (outbox.Options.OnQueued) to the
// console, and the changes that are no events: a reader's connection,
// antennas and inputs (ReaderChanged), a door's lights (DoorChanged).
// Neither ever blocks: when the console falls behind by more than
// hubBuffer batches, batches are dropped, counted, and every page is told
// to refresh; changes are marked, and a change marked again before the
// console took it is one change.
type Hub struct {
	in      chan []outbox.Event
	dropped atomic.Uint64

	mu      sync.Mutex
	doors   map[string]bool // marked by DoorChanged
	readers map[string]bool // marked by ReaderChanged
	poke    chan struct{}   // a mark is waiting
}

// hubBuffer is how many batches (commits) the hub holds for Run.
const hubBuffer = 1024

// NewHub makes a hub.
func NewHub() *Hub {
	return &Hub{in: make(chan []outbox.Event, hubBuffer), doors: map[string]bool{}, readers: map[string]bool{}, poke: make(chan struct{}, 1)}
}

// DoorChanged tells the console that a door's board changed with no event
// of the outbox (its lights: signals.Config.OnChange). It never waits.
func (h *Hub) DoorChanged(door string) {
	h.mu.Lock()
	h.doors[door] = true
	h.mu.Unlock()
	h.wake()
}

// ReaderChanged tells the console that a reader's state changed: it
// connected or disconnected, an antenna or a general purpose input
// changed (readers.Handlers.OnEvent). The boards of the reader's doors,
// the door list and the health page are rendered again. It never waits.
func (h *Hub) ReaderChanged(reader string) {
	h.mu.Lock()
	h.readers[reader] = true
	h.mu.Unlock()
	h.wake()
}

func (h *Hub) wake() {
	select {
	case h.poke <- struct{}{}:
	default: // a wake-up is pending: Run takes every mark
	}
}

// marked returns and forgets the doors and readers marked changed.
func (h *Hub) marked() (doors, readers []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for d := range h.doors {
		doors = append(doors, d)
	}
	for r := range h.readers {
		readers = append(readers, r)
	}
	clear(h.doors)
	clear(h.readers)
	return doors, readers
}

// Publish hands a commit's events to the console without waiting.
func (h *Hub) Publish(evs []outbox.Event) {
	select {
	case h.in <- evs:
	default:
		h.dropped.Add(1)
	}
}

// Dropped is the number of batches dropped because the console fell behind.
func (h *Hub) Dropped() uint64 { return h.dropped.Load() }

// Topics of live updates. A door's topic carries its rendered board; the
// others say that their page changed.
const (
	topicDoors    = "doors" // the home page
	topicPrinters = "printers"
	topicLots     = "lots"
	topicHealth   = "health"
)

func doorTopic(id string) string { return "door/" + id }

// message is one Server-Sent Event.
type message struct {
	event string
	data  []byte
}

// client is one open event stream.
type client struct {
	ch     chan message
	gone   chan struct{} // closed when dropped
	topics []string
}

// passSeen is a pass at a door, for the board.
type passSeen struct {
	Time      time.Time
	Direction string
	Cases     int
	Items     int
	Others    int
	Lots      []string
	Recovered bool
}

// maxPasses is how many passes a door board shows.
const maxPasses = 8

// Run feeds the live updates until ctx ends: it takes the hub's events in
// batches, renders each door board that changed once and hands it to the
// clients watching that door.
func (c *Console) Run(ctx context.Context) error {
	dirty := map[string]bool{}
	for {
		select {
		case <-ctx.Done():
			c.dropAll()
			return nil
		case evs := <-c.hub.in:
			c.take(evs, dirty)
		case <-c.hub.poke:
		}
		// Take what else is queued: one render serves a burst.
	drain:
		for range hubBuffer {
			select {
			case evs := <-c.hub.in:
				c.take(evs, dirty)
			default:
				break drain
			}
		}
		c.takeMarked(dirty)
		if c.hub.dropped.Swap(0) > 0 {
			for _, d := range c.o.Doors {
				dirty[doorTopic(d.ID)] = true
			}
			dirty[topicDoors], dirty[topicPrinters], dirty[topicLots], dirty[topicHealth] = true, true, true, true
		}
		for topic := range dirty {
			c.send(topic)
			delete(dirty, topic)
		}
	}
}

// take notes what a batch of events changed.
func (c *Console) take(evs []outbox.Event, dirty map[string]bool) {
	for i := range evs {
		ev := &evs[i]
		var body struct {
			Door      string         `json:"door"`
			Printer   string         `json:"printer"`
			Direction string         `json:"direction"`
			Start     time.Time      `json:"start"`
			End       time.Time      `json:"end"`
			Cases     int            `json:"cases"`
			Items     int            `json:"items"`
			Others    int            `json:"others"`
			Lots      map[string]int `json:"lots"`
			Part      int            `json:"part"`
			Recovered bool           `json:"recovered"`
			Lot       struct {
				Door string `json:"door"`
			} `json:"lot"`
		}
		typ := ev.Type
		switch {
		case strings.HasPrefix(typ, "receipt."), typ == "carton.unexpected", strings.HasPrefix(typ, "lot.hold.alert"):
			_ = json.Unmarshal(ev.Body, &body)
			dirty[doorTopic(body.Door)], dirty[topicDoors] = true, true
		case typ == "portal.pass":
			if json.Unmarshal(ev.Body, &body) != nil || body.Part > 1 {
				continue // a pass's later parts: the first counted it
			}
			p := passSeen{Time: body.End, Direction: body.Direction, Cases: body.Cases, Items: body.Items, Others: body.Others, Recovered: body.Recovered}
			for l := range body.Lots {
				p.Lots = append(p.Lots, l)
			}
			slices.Sort(p.Lots)
			c.mu.Lock()
			ps := append([]passSeen{p}, c.passes[body.Door]...)
			c.passes[body.Door] = ps[:min(len(ps), maxPasses)]
			c.mu.Unlock()
			dirty[doorTopic(body.Door)], dirty[topicDoors] = true, true
		case strings.HasPrefix(typ, "job."), strings.HasPrefix(typ, "printer."):
			_ = json.Unmarshal(ev.Body, &body)
			for _, d := range c.o.Doors {
				if d.Printer != "" && d.Printer == body.Printer {
					dirty[doorTopic(d.ID)] = true
				}
			}
			dirty[topicPrinters], dirty[topicDoors] = true, true
		case strings.HasPrefix(typ, "lot."):
			_ = json.Unmarshal(ev.Body, &body)
			if body.Lot.Door != "" {
				dirty[doorTopic(body.Lot.Door)] = true
			}
			dirty[topicLots] = true
		case strings.HasPrefix(typ, "alarm."), typ == "store.recovered":
			dirty[topicHealth], dirty[topicDoors] = true, true
		}
	}
}

// takeMarked notes the doors and readers the hub was told changed.
func (c *Console) takeMarked(dirty map[string]bool) {
	doors, readers := c.hub.marked()
	for _, d := range doors {
		if c.hasDoor(d) {
			dirty[doorTopic(d)] = true
		}
	}
	for _, r := range readers {
		for _, d := range c.o.Doors {
			if d.Reader == r {
				dirty[doorTopic(d.ID)] = true
			}
		}
		dirty[topicDoors], dirty[topicHealth] = true, true
	}
}

// send renders a topic's update once and hands it to its clients.
func (c *Console) send(topic string) {
	c.mu.Lock()
	n := len(c.clients[topic])
	c.mu.Unlock()
	if n == 0 {
		return
	}
	m := message{event: "changed", data: []byte(topic)}
	if door, ok := strings.CutPrefix(topic, "door/"); ok {
		b, err := c.boardHTML(door)
		if err != nil {
			c.log.Warn("door board not rendered", "door", door, "err", err)
			return
		}
		m = message{event: "board", data: b}
	}
	c.broadcast(topic, m)
}

// broadcast hands m to every client of topic; a client whose buffer is
// full is dropped, never waited for.
func (c *Console) broadcast(topic string, m message) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for cl := range c.clients[topic] {
		select {
		case cl.ch <- m:
		default:
			c.dropLocked(cl)
		}
	}
}

func (c *Console) subscribe(topics []string) *client {
	cl := &client{ch: make(chan message, c.o.ClientBuffer), gone: make(chan struct{}), topics: topics}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, t := range topics {
		if c.clients[t] == nil {
			c.clients[t] = map[*client]struct{}{}
		}
		c.clients[t][cl] = struct{}{}
	}
	return cl
}

func (c *Console) unsubscribe(cl *client) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.dropLocked(cl)
}

// dropLocked removes a client (c.mu held) and tells its stream to end.
func (c *Console) dropLocked(cl *client) {
	for _, t := range cl.topics {
		delete(c.clients[t], cl)
	}
	select {
	case <-cl.gone:
	default:
		close(cl.gone)
	}
}

func (c *Console) dropAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, set := range c.clients {
		for cl := range set {
			c.dropLocked(cl)
		}
	}
}

// Clients is the number of open event streams.
func (c *Console) Clients() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	seen := map[*client]bool{}
	for _, set := range c.clients {
		for cl := range set {
			seen[cl] = true
		}
	}
	return len(seen)
}

// maxTopics bounds the topics of one stream.
const maxTopics = 8

// events is GET /events?topic=…: a Server-Sent Events stream of the
// topics' updates. A door's stream starts with its board as it is now, so
// that a browser reconnecting after a drop misses nothing.
func (c *Console) events(w http.ResponseWriter, r *http.Request) {
	topics := r.URL.Query()["topic"]
	if len(topics) == 0 || len(topics) > maxTopics {
		http.Error(w, "give 1 to 8 topics: ?topic=door/DOOR1, doors, printers, lots or health", http.StatusBadRequest)
		return
	}
	for _, t := range topics {
		door, isDoor := strings.CutPrefix(t, "door/")
		if isDoor && !c.hasDoor(door) || !isDoor && !slices.Contains([]string{topicDoors, topicPrinters, topicLots, topicHealth}, t) {
			http.Error(w, "unknown topic "+t+": give door/ID, doors, printers, lots or health", http.StatusBadRequest)
			return
		}
	}
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	cl := c.subscribe(topics)
	defer c.unsubscribe(cl)
	var buf bytes.Buffer
	buf.WriteString("retry: 1000\n\n")
	for _, t := range topics {
		if door, ok := strings.CutPrefix(t, "door/"); ok {
			if b, err := c.boardHTML(door); err == nil {
				writeEvent(&buf, message{event: "board", data: b})
			}
		}
	}
	if _, err := w.Write(buf.Bytes()); err != nil || rc.Flush() != nil {
		return
	}
	keepAlive := time.NewTicker(25 * time.Second)
	defer keepAlive.Stop()
	for {
		buf.Reset()
		select {
		case <-r.Context().Done():
			return
		case <-cl.gone:
			return // dropped: the browser reconnects
		case <-keepAlive.C:
			buf.WriteString(": keep-alive\n\n")
		case m := <-cl.ch:
			writeEvent(&buf, m)
		}
		// Whatever else is queued goes in the same write.
	more:
		for {
			select {
			case m := <-cl.ch:
				writeEvent(&buf, m)
			default:
				break more
			}
		}
		_ = rc.SetWriteDeadline(time.Now().Add(10 * time.Second))
		if _, err := w.Write(buf.Bytes()); err != nil || rc.Flush() != nil {
			return
		}
	}
}

// writeEvent writes one event, a data line per line of its data.
func writeEvent(b *bytes.Buffer, m message) {
	b.WriteString("event: ")
	b.WriteString(m.event)
	b.WriteByte('\n')
	for line := range bytes.SplitSeq(m.data, []byte("\n")) {
		b.WriteString("data: ")
		b.Write(bytes.TrimSuffix(line, []byte("\r")))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
}

func (c *Console) hasDoor(id string) bool {
	for _, d := range c.o.Doors {
		if d.ID == id {
			return true
		}
	}
	return false
}
