package mqttpub

import (
	"bytes"
	"errors"
	"io"
	"net"
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
	// The reader side sees the close.
	if err := raw.SetReadDeadline(time.Now().Add(5 * time.Second)); err == nil {
		if _, err := c.Read(make([]byte, 1)); err == nil {
			t.Fatal("read after failure succeeded")
		}
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
