package mqttpub

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"math/big"
	"net"
	"slices"
	"sync"
	"testing"
	"time"
)

// tcpPair returns both ends of a loopback TCP connection.
func tcpPair(t *testing.T) (client, server net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server = <-accepted
	if server == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}

// Writes from several goroutines arrive whole and in the order each writer
// made them; Close sends what is still queued before closing.
func TestCoalescingConnKeepsBytesAndOrder(t *testing.T) {
	raw, server := tcpPair(t)
	c := newCoalescingConn(raw, 5*time.Second)
	got := make(chan []byte, 1)
	go func() {
		b, _ := io.ReadAll(server)
		got <- b
	}()
	const writers, each = 4, 5000
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				// One "packet": writer, index, and a body long enough
				// to fill the queue now and then.
				p := []byte{'<', byte('a' + w), byte(i >> 8), byte(i), '>'}
				p = append(p, bytes.Repeat([]byte{byte(w)}, i%200)...)
				if _, err := c.Write(p); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	b := <-got
	next := make([]int, writers)
	for len(b) > 0 {
		if len(b) < 5 || b[0] != '<' || b[4] != '>' {
			t.Fatalf("stream broken at %q", b[:min(len(b), 8)])
		}
		w, i := int(b[1]-'a'), int(b[2])<<8|int(b[3])
		if w < 0 || w >= writers || i != next[w] {
			t.Fatalf("writer %d packet %d, want %d", w, i, next[w])
		}
		next[w]++
		body := i % 200
		if !bytes.Equal(b[5:5+body], bytes.Repeat([]byte{byte(w)}, body)) {
			t.Fatalf("writer %d packet %d: body mixed with another packet", w, i)
		}
		b = b[5+body:]
	}
	for w, n := range next {
		if n != each {
			t.Fatalf("writer %d: %d of %d packets arrived", w, n, each)
		}
	}
}

// Reads go through the buffer and see the peer's bytes in order.
func TestCoalescingConnReads(t *testing.T) {
	raw, server := tcpPair(t)
	c := newCoalescingConn(raw, time.Second)
	defer c.Close()
	want := bytes.Repeat([]byte("0123456789"), 10000)
	go func() { _, _ = server.Write(want) }()
	got := make([]byte, len(want))
	if _, err := io.ReadFull(c, got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("read bytes differ")
	}
}

// A peer that stops reading: writers block once the queue is full, the send
// fails after the write timeout, the connection is closed (so paho sees it
// lost) and every later Write reports the error instead of queueing.
func TestCoalescingConnStalledPeerFails(t *testing.T) {
	raw, server := tcpPair(t)
	_ = server // never read
	c := newCoalescingConn(raw, 200*time.Millisecond)
	defer c.Close()
	chunk := make([]byte, 64<<10)
	var err error
	for i := 0; i < 10000 && err == nil; i++ { // bounded: socket buffers are a few MB
		_, err = c.Write(chunk)
	}
	if err == nil {
		t.Fatal("writes to a stalled peer never failed")
	}
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("error %v, want a write timeout", err)
	}
	if _, err := c.Write([]byte("x")); err == nil {
		t.Fatal("write after failure succeeded")
	}
	// The reader gets the send's error, not the closed socket's (which
	// paho takes for its own disconnect and ignores).
	if err := raw.SetReadDeadline(time.Now().Add(5 * time.Second)); err == nil {
		_, err := c.Read(make([]byte, 1))
		if !errors.As(err, &ne) || !ne.Timeout() {
			t.Fatalf("read after failure: %v, want the write timeout", err)
		}
	}
}

// The frame counter finds PINGRESPs among other packets however the stream
// is cut into reads, including remaining lengths of several bytes.
func TestFrameCounterCountsPingresps(t *testing.T) {
	big := append([]byte{0x30, 0x80, 0x01}, make([]byte, 128)...) // PUBLISH, length 128 in two bytes
	big[10] = 0xd0                                                // a PINGRESP byte inside the body counts for nothing
	stream := slices.Concat(
		[]byte{0x40, 0x02, 0x00, 0x01}, // PUBACK
		[]byte{0xd0, 0x00},             // PINGRESP
		big,
		[]byte{0x90, 0x03, 0x00, 0x02, 0x01}, // SUBACK
		[]byte{0xd0, 0x00},                   // PINGRESP
		[]byte{0x30, 0x00},                   // empty PUBLISH
	)
	for _, size := range []int{1, 2, 3, 7, 64, len(stream)} {
		var f frameCounter
		n := 0
		for b := stream; len(b) > 0; {
			k := min(size, len(b))
			n += f.feed(b[:k])
			b = b[k:]
		}
		if n != 2 || f.state != 0 {
			t.Errorf("reads of %d bytes: %d PINGRESPs, state %d; want 2, 0", size, n, f.state)
		}
	}
}

// A probe is answered by a PINGRESP only: a peer that sends other packets
// but no PINGRESP leaves it unanswered, and a cancelled probe returns at
// once.
func TestProbeWantsAPingresp(t *testing.T) {
	for _, tc := range []struct {
		name   string
		answer []byte
		want   bool
	}{
		{"pingresp", []byte{0xd0, 0x00}, true},
		{"puback only", []byte{0x40, 0x02, 0x00, 0x07}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			raw, server := tcpPair(t)
			c := newCoalescingConn(raw, time.Second)
			defer c.Close()
			go func() {
				got := make([]byte, 2)
				if _, err := io.ReadFull(server, got); err == nil && bytes.Equal(got, pingreq) {
					_, _ = server.Write(tc.answer)
				}
			}()
			go func() { _, _ = io.Copy(io.Discard, c) }() // paho's reader
			if got := c.probe(context.Background(), 300*time.Millisecond); got != tc.want {
				t.Fatalf("probe %v, want %v", got, tc.want)
			}
		})
	}
	raw, _ := tcpPair(t)
	c := newCoalescingConn(raw, time.Second)
	defer c.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	done := make(chan bool, 1)
	go func() { done <- c.probe(ctx, time.Hour) }()
	select {
	case got := <-done:
		if got {
			t.Fatal("a cancelled probe reported an answer")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a cancelled probe did not return")
	}
}

// Close of a connection whose peer stopped reading returns (within about
// the write timeout) instead of hanging on the queued bytes, and releases a
// writer waiting for room.
func TestCoalescingConnCloseBounded(t *testing.T) {
	raw, _ := tcpPair(t)
	c := newCoalescingConn(raw, 300*time.Millisecond)
	writerDone := make(chan error, 1)
	go func() {
		chunk := make([]byte, 64<<10)
		for {
			if _, err := c.Write(chunk); err != nil {
				writerDone <- err
				return
			}
		}
	}()
	time.Sleep(100 * time.Millisecond) // let the queue fill
	closed := make(chan struct{})
	go func() { c.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return with the peer stalled")
	}
	select {
	case err := <-writerDone:
		if err == nil {
			t.Fatal("writer ended without an error")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a writer waiting for room was not released by Close")
	}
	if _, err := c.Write([]byte("x")); err == nil {
		t.Fatal("write after Close succeeded")
	}
}

// The frame counter takes any inbound bytes, however they are cut into
// reads, and counts the same PINGRESPs.
func FuzzFrameCounter(f *testing.F) {
	f.Add([]byte{0x40, 0x02, 0x00, 0x01, 0xd0, 0x00, 0x30, 0x80, 0x01}, uint8(3))
	f.Add([]byte{0xd0, 0x00, 0xd0, 0x00}, uint8(1))
	f.Add([]byte{0x30, 0xff, 0xff, 0xff, 0xff, 0x7f}, uint8(2))
	f.Fuzz(func(t *testing.T, b []byte, size uint8) {
		var whole frameCounter
		want := whole.feed(b)
		var parts frameCounter
		got, step := 0, int(size)%17+1
		for p := b; len(p) > 0; {
			n := min(step, len(p))
			got += parts.feed(p[:n])
			p = p[n:]
		}
		if got != want || parts != whole {
			t.Fatalf("reads of %d: %d PINGRESPs, state %+v; in one read %d, %+v", step, got, parts, want, whole)
		}
	})
}

// Close of a TLS connection whose peer stopped reading returns: the socket
// beneath is dropped, so neither the blocked send nor a TLS close_notify
// waits on the stalled link.
func TestCoalescingConnCloseBoundedOverTLS(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert := tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
	rawClient, rawServer := tcpPair(t)
	server := tls.Server(rawServer, &tls.Config{Certificates: []tls.Certificate{cert}})
	client := tls.Client(rawClient, &tls.Config{InsecureSkipVerify: true})
	handshake := make(chan error, 1)
	go func() { handshake <- server.Handshake() }() // then never reads again
	if err := client.Handshake(); err != nil {
		t.Fatal(err)
	}
	if err := <-handshake; err != nil {
		t.Fatal(err)
	}
	c := newCoalescingConn(client, 300*time.Millisecond)
	go func() {
		chunk := make([]byte, 64<<10)
		for {
			if _, err := c.Write(chunk); err != nil {
				return
			}
		}
	}()
	time.Sleep(100 * time.Millisecond) // let the queue fill
	closed := make(chan struct{})
	go func() { c.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close over TLS did not return with the peer stalled")
	}
}
