package mqttpub

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/url"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/eclipse/paho.mqtt.golang/packets"
)

// The broker connection. paho writes every packet with its own write system
// call and reads every packet in three (type, length, rest), so a window of
// QoS 1 publishes costs a syscall and a TCP segment per PUBLISH and three
// syscalls per PUBACK. coalescingConn lets PUBLISHes queued while the
// previous write is on the wire leave in one write, and reads through a
// buffer: the same bytes in the same order, in far fewer syscalls.
//
// Delivery is unchanged: an event leaves the outbox only on its PUBACK, so a
// packet accepted here but lost with the connection is sent again in the
// next session.

// connWriteBuffer bounds the bytes queued for the socket; a writer that
// would pass it waits until the flusher has drained the queue.
const connWriteBuffer = 256 << 10

// openConn returns the dial function of a session, or nil to let paho dial
// (WebSockets, unix sockets, or a proxy set in all_proxy, which paho
// honours).
func openConn(scheme string, writeTimeout time.Duration, opened func(*coalescingConn)) mqtt.OpenConnectionFunc {
	if os.Getenv("all_proxy") != "" || os.Getenv("ALL_PROXY") != "" {
		return nil
	}
	var useTLS bool
	switch scheme {
	case "tcp", "mqtt":
	case "ssl", "tls", "mqtts", "mqtt+ssl", "tcps":
		useTLS = true
	default:
		return nil
	}
	return func(u *url.URL, o mqtt.ClientOptions) (net.Conn, error) {
		d := o.Dialer
		if d == nil {
			d = &net.Dialer{Timeout: o.ConnectTimeout}
		}
		var c net.Conn
		var err error
		if useTLS {
			c, err = tls.DialWithDialer(d, "tcp", u.Host, o.TLSConfig)
		} else {
			c, err = d.Dial("tcp", u.Host)
		}
		if err != nil {
			return nil, err
		}
		cc := newCoalescingConn(c, writeTimeout)
		opened(cc)
		return cc, nil
	}
}

// coalescingConn is a net.Conn whose writes are queued and sent by one
// flusher goroutine, each send taking everything queued since the last.
// Write fails once a send has failed; Close sends what is queued (for at most
// the write timeout) before closing.
type coalescingConn struct {
	net.Conn
	r         *bufio.Reader
	timeout   time.Duration
	frames    frameCounter  // reader side only
	pingresps atomic.Uint64 // PINGRESPs handed to the reader

	mu      sync.Mutex
	cond    *sync.Cond // queue drained, queue filled, closing or failed
	queue   []byte
	err     error
	closing bool
	done    chan struct{} // flusher ended

	closeOnce sync.Once
	closeErr  error
}

var errConnClosed = errors.New("connection closed")

func newCoalescingConn(c net.Conn, writeTimeout time.Duration) *coalescingConn {
	cc := &coalescingConn{
		Conn:    c,
		r:       bufio.NewReaderSize(c, 16<<10),
		timeout: writeTimeout,
		done:    make(chan struct{}),
	}
	cc.cond = sync.NewCond(&cc.mu)
	go cc.flush()
	return cc
}

// Read reads through the buffer. Once a send has failed the socket is
// closed, and the reader gets the send's error rather than the closed
// socket's, which paho would take for its own disconnect and ignore.
func (c *coalescingConn) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if c.frames.feed(p[:n]) > 0 {
		c.pingresps.Add(1)
	}
	if err != nil {
		c.mu.Lock()
		if c.err != nil {
			err = c.err
		}
		c.mu.Unlock()
	}
	return n, err
}

// frameCounter follows MQTT fixed headers through the inbound byte stream
// and counts the PINGRESPs in it, whatever the read sizes.
type frameCounter struct {
	state  uint8 // 0: fixed header byte, 1: remaining length, 2: body
	typ    byte
	shift  uint
	length int
}

// feed takes the next bytes of the stream and returns the PINGRESPs that
// ended in them.
func (f *frameCounter) feed(p []byte) (pingresps int) {
	for i := 0; i < len(p); {
		switch f.state {
		case 0:
			f.typ, f.length, f.shift, f.state = p[i]>>4, 0, 0, 1
			i++
		case 1:
			b := p[i]
			i++
			if f.shift < 28 {
				f.length |= int(b&0x7f) << f.shift
			}
			f.shift += 7
			if b&0x80 == 0 {
				f.state = 2
			}
		case 2:
			n := min(f.length, len(p)-i)
			i += n
			f.length -= n
		}
		if f.state == 2 && f.length == 0 {
			if f.typ == packets.Pingresp {
				pingresps++
			}
			f.state = 0
		}
	}
	return pingresps
}

// pingreq is an MQTT PINGREQ packet. paho takes the PINGRESP in its stride.
var pingreq = []byte{0xc0, 0x00}

// probe sends a PINGREQ and reports whether a PINGRESP arrives within d: a
// link that answers pings is up, whatever became of a PUBLISH. It gives up
// early, reporting false, when ctx ends.
func (c *coalescingConn) probe(ctx context.Context, d time.Duration) bool {
	before := c.pingresps.Load()
	if _, err := c.Write(pingreq); err != nil {
		return false
	}
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	for c.pingresps.Load() == before {
		select {
		case <-tick.C:
		case <-deadline.C:
			return c.pingresps.Load() > before
		case <-ctx.Done():
			return false
		}
	}
	return true
}

func (c *coalescingConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for c.err == nil && !c.closing && len(c.queue) > 0 && len(c.queue)+len(p) > connWriteBuffer {
		c.cond.Wait()
	}
	if c.err != nil {
		return 0, c.err
	}
	if c.closing {
		return 0, errConnClosed
	}
	c.queue = append(c.queue, p...)
	c.cond.Broadcast()
	return len(p), nil
}

// flush sends the queue until the connection fails or is closed with an
// empty queue.
func (c *coalescingConn) flush() {
	defer close(c.done)
	var spare []byte
	c.mu.Lock()
	for {
		for len(c.queue) == 0 && c.err == nil && !c.closing {
			c.cond.Wait()
		}
		if c.err != nil || len(c.queue) == 0 {
			c.mu.Unlock()
			return
		}
		c.gather()
		batch := c.queue
		c.queue = spare[:0]
		c.mu.Unlock()

		err := c.send(batch)

		c.mu.Lock()
		spare = batch
		if err != nil {
			// Read returns err from now on: paho reports the connection
			// lost with it once the socket is closed. The socket itself,
			// not TLS: a TLS close would try to send close_notify over
			// the stalled link first.
			c.err = err
			c.mu.Unlock()
			closeSocket(c.Conn)
			c.mu.Lock()
		}
		c.cond.Broadcast()
	}
}

// gatherYields bounds the yields of the flusher before one send (gather).
const gatherYields = 4

// gather lets the packets paho is about to write join the queue before it
// is sent, with c.mu held on entry and return. A write wakes the flusher at
// once, and a flusher that sent at once would mostly send the one PUBLISH
// that woke it (each PUBACK frees one slot of the window, and the next
// PUBLISH follows it alone): a write and a segment for each event, and as
// many reads at the broker. The flusher yields while each yield brings more
// and the queue is small; a lone packet costs one yield.
func (c *coalescingConn) gather() {
	for i := 0; i < gatherYields && len(c.queue) < sendChunk; i++ {
		n := len(c.queue)
		c.mu.Unlock()
		runtime.Gosched()
		c.mu.Lock()
		if len(c.queue) == n || c.err != nil || c.closing {
			return
		}
	}
}

// sendChunk is the most one send writes under one deadline: a batch fails
// when 32 KiB of it cannot go out within the write timeout (a link slower
// than 32 KiB per ack_timeout is a stalled one), not when a large batch on
// a slow link takes longer than that in all.
const sendChunk = 32 << 10

func (c *coalescingConn) send(b []byte) error {
	for len(b) > 0 {
		n := min(len(b), sendChunk)
		if c.timeout > 0 {
			if err := c.Conn.SetWriteDeadline(time.Now().Add(c.timeout)); err != nil {
				return err
			}
		}
		if _, err := c.Conn.Write(b[:n]); err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}

// closeSocket closes c's TCP socket (under TLS, the one beneath).
func closeSocket(c net.Conn) {
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	_ = c.Close()
}

// Close sends what is queued (a DISCONNECT above all), then closes.
func (c *coalescingConn) Close() error {
	c.closeOnce.Do(func() {
		c.mu.Lock()
		c.closing = true
		c.cond.Broadcast()
		c.mu.Unlock()
		wait := c.timeout
		if wait <= 0 {
			wait = time.Second
		}
		t := time.NewTimer(wait)
		select {
		case <-c.done:
		case <-t.C:
			// The link is stalled: drop the socket beneath TLS first, so
			// that neither the blocked send nor a TLS close_notify waits
			// on it any longer.
			closeSocket(c.Conn)
		}
		t.Stop()
		c.closeErr = c.Conn.Close()
		<-c.done
	})
	return c.closeErr
}

// SetDeadline sets the read deadline; sends carry their own (the write
// timeout), as queued writes outlive a deadline set for one of them.
func (c *coalescingConn) SetDeadline(t time.Time) error { return c.Conn.SetReadDeadline(t) }

// SetWriteDeadline is a no-op for the same reason.
func (c *coalescingConn) SetWriteDeadline(time.Time) error { return nil }

// noStore is paho's message store for a session that never resumes: clean
// sessions and no auto-reconnect mean paho never reads it back, and the
// outbox is the store that counts. It saves a map entry per publish.
type noStore struct{}

func (noStore) Open()                             {}
func (noStore) Put(string, packets.ControlPacket) {}
func (noStore) Get(string) packets.ControlPacket  { return nil }
func (noStore) All() []string                     { return nil }
func (noStore) Del(string)                        {}
func (noStore) Close()                            {}
func (noStore) Reset()                            {}
