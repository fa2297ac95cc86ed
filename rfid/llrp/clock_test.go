package llrp

import (
	"fmt"
	"log/slog"
	"sort"
	"testing"
	"time"

	"github.com/dockgate/dockgate/rfid"
	"github.com/dockgate/dockgate/rfid/portal"
)

// clockRig drives a session's report handling on an injected clock.
type clockRig struct {
	now  time.Time
	s    *Session
	c    *conn
	got  []rfid.Read
	sink func([]rfid.Read)
}

func newClockRig(start time.Time) *clockRig {
	r := &clockRig{now: start}
	r.s = &Session{cfg: Config{Now: func() time.Time { return r.now }, OnReads: func(b []rfid.Read) {
		r.got = append(r.got, b...)
		if r.sink != nil {
			r.sink(b)
		}
	}}, log: slog.New(slog.DiscardHandler)}
	r.c = &conn{s: r.s, pending: map[uint32]*writeReq{}}
	return r
}

// report delivers one report of reads at the rig's time.
func (r *clockRig) report(reads ...rfid.Read) {
	r.c.rep.Reads = append(r.c.rep.Reads[:0], reads...)
	r.c.deliver()
}

func at(rt time.Time) rfid.Read {
	return rfid.Read{EPC: rfid.MustParseEPC("3074257BF7194E4000001A85"), Antenna: 1, ReaderTime: rt}
}

func near(a, b time.Time, tol time.Duration) bool {
	d := a.Sub(b)
	return d <= tol && d >= -tol
}

var gw0 = time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)

// A reader clock running 500 ppm slow (NTP slews at most that) is followed.
func TestReaderClockFollowsASlowClock(t *testing.T) {
	r := newClockRig(gw0)
	reader := gw0.Add(-time.Hour)
	for i := 0; i < 600; i++ {
		r.report(at(reader))
		r.now = r.now.Add(time.Second)
		reader = reader.Add(time.Second - 500*time.Microsecond)
	}
	r.report(at(reader))
	if got := r.got[len(r.got)-1].Time; !near(got, r.now, 20*time.Millisecond) {
		t.Fatalf("read dated %v from its arrival after 10 min of a slow reader clock", r.now.Sub(got))
	}
	if st := r.s.Stats(); st.ClockSteps != 0 || st.Implausible != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// A reader clock running fast is followed at once: no read is dated after
// it arrived.
func TestReaderClockFollowsAFastClock(t *testing.T) {
	r := newClockRig(gw0)
	reader := gw0
	for i := 0; i < 100; i++ {
		r.report(at(reader))
		if got := r.got[len(r.got)-1].Time; got.After(r.now) {
			t.Fatalf("read dated %v after its arrival", got.Sub(r.now))
		}
		r.now = r.now.Add(time.Second)
		reader = reader.Add(time.Second + time.Millisecond)
	}
}

// A backlog that arrives more than a minute into the session keeps the
// reader's spacing between its reads: it is not re-based report by report
// onto its arrival.
func TestReaderClockBacklogKeepsItsSpacing(t *testing.T) {
	r := newClockRig(gw0)
	offset := 3 * time.Hour
	r.report(at(gw0.Add(-offset)))
	// 90 s on, the link pauses for 4.5 s: 45 reports 100 ms apart arrive
	// 1 ms apart when it resumes.
	pause := gw0.Add(90 * time.Second)
	r.now = pause.Add(4500 * time.Millisecond)
	for i := 0; i < 45; i++ {
		r.report(at(pause.Add(time.Duration(i) * 100 * time.Millisecond).Add(-offset)))
		r.now = r.now.Add(time.Millisecond)
	}
	r.report(at(r.now.Add(-offset))) // live again
	if len(r.got) != 47 {
		t.Fatalf("%d reads delivered, want 47", len(r.got))
	}
	for i, g := range r.got[1:46] {
		want := pause.Add(time.Duration(i) * 100 * time.Millisecond)
		if !near(g.Time, want, 200*time.Millisecond) {
			t.Fatalf("backlog read %d dated %v, want about %v", i, g.Time, want)
		}
		if i > 0 && g.Time.Sub(r.got[i].Time) != 100*time.Millisecond {
			t.Fatalf("backlog reads %d and %d are %v apart, want the reader's 100ms", i-1, i, g.Time.Sub(r.got[i].Time))
		}
	}
}

// After a restart, the connection event's timestamp anchors the offset, so a
// backlog the reader held meanwhile keeps its times.
func TestReaderClockBacklogAfterRestart(t *testing.T) {
	r := newClockRig(gw0)
	offset := -2 * time.Minute // the reader's clock is ahead
	r.c.anchor(EventData{Timestamp: uint64(gw0.Add(-offset).UnixMicro()), HasConnectionAttempt: true})
	r.now = gw0.Add(20 * time.Millisecond)
	for i := 0; i < 30; i++ { // 30 s of backlog, one report a second
		r.report(at(gw0.Add(time.Duration(i-30) * time.Second).Add(-offset)))
		r.now = r.now.Add(time.Millisecond)
	}
	r.now = r.now.Add(time.Second) // a keepalive comes
	r.c.releaseStale()
	if len(r.got) != 30 {
		t.Fatalf("%d reads delivered, want 30", len(r.got))
	}
	for i, g := range r.got {
		if want := gw0.Add(time.Duration(i-30) * time.Second); !near(g.Time, want, 30*time.Millisecond) {
			t.Fatalf("backlog read %d dated %v, want %v", i, g.Time, want)
		}
	}
}

// One read dated far in the future or the past is dated at its arrival,
// counted, and does not move the offset for the reads after it.
func TestReaderClockIgnoresImplausibleTimestamps(t *testing.T) {
	for _, bad := range []time.Time{time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(1953, 1, 1, 0, 0, 0, 0, time.UTC), gw0.Add(10 * time.Second)} {
		t.Run(bad.Format("2006-01-02T15:04:05"), func(t *testing.T) {
			r := newClockRig(gw0)
			r.report(at(gw0))
			r.now = r.now.Add(time.Second)
			r.report(at(bad))
			if got := r.got[1].Time; !got.Equal(r.now) {
				t.Fatalf("implausible read dated %v, want its arrival %v", got, r.now)
			}
			for i := 0; i < 5; i++ {
				r.now = r.now.Add(200 * time.Millisecond)
				r.report(at(r.now.Add(-5 * time.Millisecond)))
				if got := r.got[len(r.got)-1].Time; !near(got, r.now, 10*time.Millisecond) {
					t.Fatalf("read after the bad one dated %v from its arrival", r.now.Sub(got))
				}
			}
			if st := r.s.Stats(); st.Implausible != 1 || st.ClockSteps != 0 {
				t.Fatalf("implausible %d, steps %d; want 1, 0", st.Implausible, st.ClockSteps)
			}
		})
	}
}

// A reader clock that steps back or forward is re-based once; while the
// step is unconfirmed reads are held (back) or dated at arrival (forward),
// so every read ends up near its true time.
func TestReaderClockStepIsRebasedOnce(t *testing.T) {
	for _, step := range []time.Duration{-10 * time.Second, 10 * time.Second, -3 * time.Hour} {
		t.Run(step.String(), func(t *testing.T) {
			r := newClockRig(gw0)
			var truth []time.Time
			for i := 0; i < 200; i++ { // a read every 20 ms; the step at 2 s
				tt := gw0.Add(time.Duration(i) * 20 * time.Millisecond)
				rt := tt
				if i >= 100 {
					rt = rt.Add(step)
				}
				r.now = tt.Add(2 * time.Millisecond)
				r.report(at(rt))
				truth = append(truth, tt)
			}
			r.c.releaseHeld()
			if len(r.got) != len(truth) {
				t.Fatalf("%d reads delivered, want %d", len(r.got), len(truth))
			}
			for i, g := range r.got {
				if !near(g.Time, truth[i], 5*time.Millisecond) {
					t.Fatalf("read %d dated %v, truly at %v", i, g.Time, truth[i])
				}
			}
			if st := r.s.Stats(); st.ClockSteps != 1 {
				t.Fatalf("%d clock steps, want 1", st.ClockSteps)
			}
		})
	}
}

// The defects as the portal sees them: a carton through a door gives one
// pass, in, spanning its true 2 s, whatever happens to the timestamps.
func TestReaderClockOneCartonOnePass(t *testing.T) {
	cases := []struct {
		name string
		// arrive maps a read's true time to its arrival; reader maps it
		// to the reader's timestamp.
		arrive, reader func(time.Time) time.Time
		inject         []rfid.Read // a report delivered just before the carton
	}{
		{name: "link paused 4.5s",
			arrive: func(t time.Time) time.Time {
				p := gw0.Add(70 * time.Second)
				if !t.Before(p) && t.Before(p.Add(4500*time.Millisecond)) {
					return p.Add(4500 * time.Millisecond)
				}
				return t
			},
			reader: func(t time.Time) time.Time { return t.Add(-time.Hour) }},
		{name: "reader clock steps back 10s mid-carton",
			arrive: func(t time.Time) time.Time { return t },
			reader: func(t time.Time) time.Time {
				if t.After(gw0.Add(71 * time.Second)) {
					return t.Add(-10 * time.Second)
				}
				return t
			}},
		{name: "one read dated 2100",
			arrive: func(t time.Time) time.Time { return t },
			reader: func(t time.Time) time.Time { return t },
			inject: []rfid.Read{{EPC: rfid.MustParseEPC("3074257BF7194E4000001A86"), Antenna: 1, ReaderTime: time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var passes []*portal.PassEvent
			eng, err := portal.New(portal.Config{
				Doors: []portal.DoorConfig{{ID: "D1", Reader: "R1", AntennasOutside: []uint16{1}, AntennasInside: []uint16{3}}},
				Sink: func(e portal.Event) {
					if p, ok := e.(*portal.PassEvent); ok {
						passes = append(passes, p)
					}
				}})
			if err != nil {
				t.Fatal(err)
			}
			r := newClockRig(gw0)
			r.sink = func(b []rfid.Read) {
				for i := range b {
					b[i].Reader, b[i].HasRSSI = "R1", true
				}
				eng.Observe(b)
			}
			// A background tag read once at the start sets the offset.
			type rd struct {
				arrival time.Time
				read    rfid.Read
			}
			var reads []rd
			bg := rfid.Read{EPC: rfid.MustParseEPC("3074257BF7194E4000001A87"), Antenna: 9, ReaderTime: tc.reader(gw0)}
			reads = append(reads, rd{gw0, bg})
			carton := rfid.MustParseEPC("3074257BF7194E4000001A85")
			start := gw0.Add(70 * time.Second)
			if tc.inject != nil {
				reads = append(reads, rd{start.Add(-time.Second), tc.inject[0]})
			}
			for i := 0; i < 100; i++ { // 2 s: outside peak at 0.5 s, inside at 1.5 s
				tt := start.Add(time.Duration(i) * 20 * time.Millisecond)
				ant, peak := uint16(1), start.Add(500*time.Millisecond)
				if i%2 == 1 {
					ant, peak = 3, start.Add(1500*time.Millisecond)
				}
				rssi := -40 - int8(min(30, abs(tt.Sub(peak))/(50*time.Millisecond)))
				reads = append(reads, rd{tc.arrive(tt).Add(time.Millisecond * time.Duration(1+i%3)), rfid.Read{EPC: carton, Antenna: ant, RSSI: rssi, ReaderTime: tc.reader(tt)}})
			}
			sort.SliceStable(reads, func(i, j int) bool { return reads[i].arrival.Before(reads[j].arrival) })
			next := 0
			for r.now = gw0; r.now.Before(start.Add(15 * time.Second)); r.now = r.now.Add(10 * time.Millisecond) {
				for next < len(reads) && !reads[next].arrival.After(r.now) {
					r.report(reads[next].read)
					next++
				}
				if r.now.UnixMilli()%100 == 0 {
					r.c.releaseStale()
					eng.Tick(r.now)
				}
			}
			var got []string
			for _, p := range passes {
				if len(p.Tags) > 0 && p.Tags[0].EPC == carton.String() {
					got = append(got, fmt.Sprintf("%s %v", p.Direction, p.End.Sub(p.Start)))
				}
			}
			if len(got) != 1 || got[0][:3] != "in " {
				t.Fatalf("carton passes %q, want one pass in", got)
			}
			p := passes[len(passes)-1]
			if span := p.End.Sub(p.Start); span < 1900*time.Millisecond || span > 2100*time.Millisecond {
				t.Fatalf("pass spans %v, want about 2s", span)
			}
		})
	}
}

func abs(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}
