package console

import (
	"maps"
	"testing"
	"time"

	"github.com/dockgate/dockgate/edge/outbox"
)

// A client that does not keep up is dropped, never waited for; the others
// go on.
func TestSlowClientDropped(t *testing.T) {
	c, err := New(Options{ClientBuffer: 2})
	if err != nil {
		t.Fatal(err)
	}
	slow, fast := c.subscribe([]string{topicPrinters}), c.subscribe([]string{topicPrinters, topicLots})
	for i := range 3 {
		c.broadcast(topicPrinters, message{event: "changed", data: []byte(topicPrinters)})
		if i < 2 {
			<-fast.ch
		}
	}
	<-fast.ch
	select {
	case <-slow.gone:
	default:
		t.Fatal("the slow client was not dropped")
	}
	select {
	case <-fast.gone:
		t.Fatal("the client that kept up was dropped")
	default:
	}
	if n := c.Clients(); n != 1 {
		t.Fatalf("%d clients, want 1", n)
	}
}

// Publish never blocks the outbox's writer: a console that is not reading
// loses batches, counted, and refreshes every page when it reads again.
func TestHubNeverBlocks(t *testing.T) {
	h := NewHub()
	done := make(chan struct{})
	go func() {
		for range hubBuffer + 10 {
			h.Publish([]outbox.Event{{Type: "receipt.created"}})
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Publish blocked")
	}
	if h.Dropped() != 10 {
		t.Fatalf("dropped %d, want 10", h.Dropped())
	}
}

// Marking a door or a reader changed never blocks, and marks made before
// the console takes them are one change each; a reader's change marks its
// doors, the door list and the health page.
func TestHubMarksCoalesce(t *testing.T) {
	h := NewHub()
	done := make(chan struct{})
	go func() {
		for range 10 * hubBuffer {
			h.DoorChanged("D2")
			h.ReaderChanged("R1")
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("a mark blocked")
	}
	c := &Console{hub: h, o: Options{Doors: []Door{{ID: "D1", Reader: "R1"}, {ID: "D2", Reader: "R2"}, {ID: "D3", Reader: "R1"}}}}
	dirty := map[string]bool{}
	c.takeMarked(dirty)
	want := map[string]bool{"door/D1": true, "door/D2": true, "door/D3": true, topicDoors: true, topicHealth: true}
	if !maps.Equal(dirty, want) {
		t.Fatalf("dirty %v, want %v", dirty, want)
	}
	clear(dirty)
	h.DoorChanged("NOPE") // not a door of the console: nothing to render
	c.takeMarked(dirty)
	if len(dirty) != 0 {
		t.Fatalf("dirty after an unknown door %v, want nothing", dirty)
	}
}
