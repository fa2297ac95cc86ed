package llrp

import (
	"testing"
	"time"

	"github.com/dockgate/dockgate/rfid"
)

// A reader clock that runs slow must not drag read times ever further
// behind (tags would depart the moment they are read), and a backlog held
// over a reconnect keeps its reader times.
func TestReaderClockOffsetFollowsASlowClock(t *testing.T) {
	gw := time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)
	now := gw
	s := &Session{cfg: Config{Now: func() time.Time { return now }}}
	deliver := func(readerTime time.Time) time.Time {
		c := &conn{s: s}
		c.rep.Reads = []rfid.Read{{ReaderTime: readerTime}}
		c.deliver()
		return c.rep.Reads[0].Time
	}
	reader := gw.Add(-time.Hour) // the reader's clock is an hour off
	if got := deliver(reader); !got.Equal(now) {
		t.Fatalf("first read at %v, want %v", got, now)
	}
	// Ten minutes on, the reader's clock has lost 20 s.
	now = gw.Add(10 * time.Minute)
	reader = reader.Add(10*time.Minute - 20*time.Second)
	if got := deliver(reader); now.Sub(got) > time.Second {
		t.Fatalf("read dated %v behind arrival after the reader clock slowed", now.Sub(got))
	}
	// A backlog on a new connection: reads 30 s old by the reader's clock
	// keep their age.
	now = now.Add(time.Second)
	if got := deliver(reader.Add(-29 * time.Second)); now.Sub(got) < 25*time.Second {
		t.Fatalf("backlog read dated %v before arrival, want about 30s", now.Sub(got))
	}
}
