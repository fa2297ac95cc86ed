package printersim

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dockgate/dockgate/printers"
	"github.com/dockgate/dockgate/printers/zebra"
)

func startB(b *testing.B) (*Sim, string) { return start(b, Options{}) }

func dialB(b *testing.B, addr string) net.Conn { return dial(b, addr) }

func start(t testing.TB, o Options) (*Sim, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := New(o)
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	return s, ln.Addr().String()
}

func dial(t testing.TB, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestFormatsChunkedAndStatus(t *testing.T) {
	dir := t.TempDir()
	s, addr := start(t, Options{Dir: dir, Preview: func(z []byte) ([]byte, error) { return []byte("png"), nil }})
	c := dial(t, addr)
	stream := "junk^XA^FO10,10^FDone~HS^FS^XZ\r\n^xa^pq3^FDtwo^xz" // command names in any case
	for i := 0; i < len(stream); i++ {
		if _, err := c.Write([]byte{stream[i]}); err != nil {
			t.Fatal(err)
		}
	}
	// ~HS inside a format is answered at once and shows the partial format.
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	rep, err := zebra.NewReader(c).Next()
	if err != nil || rep.HS == nil || rep.HS.PartialFormat != 1 {
		t.Fatalf("~HS inside a format: %+v %v", rep, err)
	}
	q := zebra.NewQuerier(c, printers.StatusBoth, nil)
	st, err := q.Status(context.Background(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if !st.Ready() || !st.Drained() {
		t.Fatalf("status %+v", st)
	}
	fs := s.Formats()
	if len(fs) != 2 || string(fs[0].ZPL) != "^XA^FO10,10^FDone^FS^XZ" || fs[1].Copies != 3 || fs[1].Printed != 3 {
		t.Fatalf("formats %+v", fs)
	}
	if f, l := s.Count(); f != 2 || l != 4 {
		t.Fatalf("count %d %d", f, l)
	}
	b, err := os.ReadFile(filepath.Join(dir, "fmt-000002.zpl"))
	if err != nil || string(b) != "^xa^pq3^FDtwo^xz" {
		t.Fatalf("file %q %v", b, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "fmt-000002.png")); err != nil {
		t.Fatal(err)
	}
}

func TestPauseHoldsFormats(t *testing.T) {
	s, addr := start(t, Options{})
	c := dial(t, addr)
	q := zebra.NewQuerier(c, printers.StatusBoth, nil)
	s.SetFault(Pause, true)
	if _, err := c.Write([]byte("^XA^FDa^XZ^XA^FDb^XZ")); err != nil {
		t.Fatal(err)
	}
	var st printers.Status
	for i := 0; i < 100; i++ {
		var err error
		if st, err = q.Status(context.Background(), 5*time.Second); err != nil {
			t.Fatal(err)
		}
		if st.FormatsInBuffer == 2 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if !st.Paused || st.FormatsInBuffer != 2 || st.Drained() || !errors.Is(st.Err(), printers.ErrPaused) {
		t.Fatalf("paused status %+v", st)
	}
	s.Resume()
	st, err := q.Status(context.Background(), 5*time.Second)
	if err != nil || !st.Drained() {
		t.Fatalf("after resume %+v %v", st, err)
	}
}

func TestSilentWhileFaulted(t *testing.T) {
	s, addr := start(t, Options{Silent: true})
	c := dial(t, addr)
	s.SetFault(PaperOut, true)
	hs := zebra.NewQuerier(c, printers.StatusHS, nil)
	st, err := hs.Status(context.Background(), 100*time.Millisecond)
	if !errors.Is(err, printers.ErrStatusTimeout) || st.Known || st.Ready() {
		t.Fatalf("silent ~HS: %+v %v", st, err)
	}
	both := zebra.NewQuerier(c, printers.StatusBoth, nil)
	st, err = both.Status(context.Background(), 100*time.Millisecond)
	if err != nil || !st.PaperOut || st.FormatsInBuffer != -1 || !st.Held() {
		t.Fatalf("~HQES during fault: %+v %v", st, err)
	}
}

func TestSpeedDrains(t *testing.T) {
	s, addr := start(t, Options{LabelsPerSecond: 200})
	c := dial(t, addr)
	if _, err := c.Write([]byte("^XA^PQ4^FDa^XZ")); err != nil {
		t.Fatal(err)
	}
	q := zebra.NewQuerier(c, printers.StatusHS, nil)
	sawRemaining := false
	for i := 0; i < 500; i++ {
		st, err := q.Status(context.Background(), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if st.LabelsRemaining > 0 || st.FormatsInBuffer > 0 {
			sawRemaining = true
		}
		if st.Drained() {
			break
		}
		time.Sleep(2 * time.Millisecond)
	}
	if _, l := s.Count(); l != 4 || !sawRemaining {
		t.Fatalf("labels %d, saw remaining %v", l, sawRemaining)
	}
}

func TestOneConnectionAtATimeAndDrop(t *testing.T) {
	s, addr := start(t, Options{})
	c1 := dial(t, addr)
	if _, err := c1.Write([]byte("^XA^FD1^XZ")); err != nil {
		t.Fatal(err)
	}
	c2 := dial(t, addr) // waits in the backlog
	if _, err := c2.Write([]byte("^XA^FD2^XZ~HS")); err != nil {
		t.Fatal(err)
	}
	_ = c2.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if _, err := c2.Read(make([]byte, 10)); err == nil {
		t.Fatal("second connection served while the first is open")
	}
	for i := 0; i < 200 && s.Connections() == 0; i++ {
		time.Sleep(time.Millisecond)
	}
	s.Drop()
	_ = c1.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c1.Read(make([]byte, 1)); err == nil {
		t.Fatal("dropped connection still open")
	}
	_ = c2.SetReadDeadline(time.Now().Add(5 * time.Second))
	rd := zebra.NewReader(c2)
	if rep, err := rd.Next(); err != nil || rep.HS == nil {
		t.Fatalf("second connection after drop: %+v %v", rep, err)
	}
	if f, _ := s.Count(); f != 2 {
		t.Fatalf("formats %d", f)
	}
}

func TestControlPort(t *testing.T) {
	s, addr := start(t, Options{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.ServeControl(ctx, ln) }()
	defer func() { cancel(); <-done }()
	cc := dial(t, ln.Addr().String())
	sc := bufio.NewScanner(cc)
	ask := func(cmd string) string {
		fmt.Fprintln(cc, cmd)
		if !sc.Scan() {
			t.Fatalf("no answer to %q", cmd)
		}
		return sc.Text()
	}
	for _, cmd := range []string{"paper-out", "head-open", "ribbon-out", "pause", "silent on", "slow 100000", "speed 0", "clear pause", "resume", "silent off", "slow 0", "refuse off"} {
		if got := ask(cmd); got != "ok" {
			t.Fatalf("%s: %s", cmd, got)
		}
	}
	for _, bad := range []string{"", "fly", "slow x", "silent maybe", "clear everything"} {
		if got := ask(bad); !strings.HasPrefix(got, "error:") {
			t.Fatalf("%q answered %q", bad, got)
		}
	}
	c := dial(t, addr)
	fmt.Fprint(c, "^XA^FDx^XZ")
	for i := 0; i < 500; i++ {
		if got := ask("count"); got == "formats 1 labels 1" {
			break
		}
		time.Sleep(2 * time.Millisecond)
	}
	if got := ask("count"); got != "formats 1 labels 1" {
		t.Fatalf("count: %s", got)
	}
	if got := ask("status"); !strings.Contains(got, `"paper_out":0`) {
		t.Fatalf("status: %s", got)
	}
	if got := ask("refuse on"); got != "ok" {
		t.Fatal(got)
	}
	c.Close()
	r, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return // reset before the dial returned: refused
	}
	defer r.Close()
	_ = r.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := r.Read(make([]byte, 1)); err == nil {
		t.Fatal("refused connection readable")
	}
}
