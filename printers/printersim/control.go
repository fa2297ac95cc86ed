package printersim

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Control executes one control command (see the package documentation) and
// returns its one-line answer.
func (s *Sim) Control(line string) string {
	f := strings.Fields(strings.ToLower(line))
	if len(f) == 0 {
		return "error: empty command; try paper-out, head-open, ribbon-out, pause, resume, clear F, drop, slow N, refuse on|off, silent on|off, speed N, bad-tags F, fail-tags N, miscalibrate on|off, power-cycle [S], count, counters, status"
	}
	arg := ""
	if len(f) > 1 {
		arg = f[1]
	}
	onOff := func(set func(bool)) string {
		switch arg {
		case "on":
			set(true)
		case "off":
			set(false)
		default:
			return fmt.Sprintf("error: %s wants on or off", f[0])
		}
		return "ok"
	}
	switch f[0] {
	case string(PaperOut), string(HeadOpen), string(RibbonOut), string(Pause):
		s.SetFault(Fault(f[0]), true)
	case "clear":
		switch Fault(arg) {
		case PaperOut, HeadOpen, RibbonOut, Pause:
			s.SetFault(Fault(arg), false)
		default:
			return "error: clear wants paper-out, head-open, ribbon-out or pause"
		}
	case "resume":
		s.Resume()
	case "drop":
		s.Drop()
	case "slow":
		n, err := strconv.Atoi(arg)
		if err != nil || n < 0 {
			return "error: slow wants bytes per second, e.g. slow 200 (0 turns it off)"
		}
		s.SetSlow(n)
	case "speed":
		n, err := strconv.ParseFloat(arg, 64)
		if err != nil || !(n >= 0) || math.IsInf(n, 0) { // NaN too
			return "error: speed wants labels per second, e.g. speed 2 (0 prints instantly)"
		}
		s.SetSpeed(n)
	case "bad-tags":
		v, err := strconv.ParseFloat(arg, 64)
		if err != nil || !(v >= 0 && v <= 1) { // NaN too
			return "error: bad-tags wants the fraction of tags that take no write, 0 to 1, e.g. bad-tags 0.2"
		}
		s.SetBadTags(v)
	case "fail-tags":
		n, err := strconv.Atoi(arg)
		if err != nil || n < 0 {
			return "error: fail-tags wants how many of the next tags take no write, e.g. fail-tags 3"
		}
		s.FailTags(n)
	case "miscalibrate":
		return onOff(s.SetMiscalibrated)
	case "power-cycle":
		off := 0.0
		if arg != "" {
			v, err := strconv.ParseFloat(arg, 64)
			if err != nil || !(v >= 0 && v <= 3600) { // NaN too
				return "error: power-cycle wants the seconds the printer stays off, e.g. power-cycle 5 (default 0)"
			}
			off = v
		}
		s.PowerCycle(time.Duration(off * float64(time.Second)))
	case "counters":
		b, _ := json.Marshal(s.Counters())
		return string(b)
	case "refuse":
		return onOff(s.SetRefuse)
	case "silent":
		return onOff(s.SetSilent)
	case "count":
		fm, l := s.Count()
		return fmt.Sprintf("formats %d labels %d", fm, l)
	case "status":
		b, _ := json.Marshal(s.HostStatus())
		return string(b)
	default:
		return fmt.Sprintf("error: unknown command %q", f[0])
	}
	return "ok"
}

// ServeControl serves the line-based control protocol on ln until ctx ends.
func (s *Sim) ServeControl(ctx context.Context, ln net.Listener) error {
	var wg sync.WaitGroup
	var mu sync.Mutex
	conns := map[net.Conn]bool{}
	stop := context.AfterFunc(ctx, func() {
		ln.Close()
		mu.Lock()
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	defer stop()
	defer wg.Wait()
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		mu.Lock()
		conns[c] = true
		mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				mu.Lock()
				delete(conns, c)
				mu.Unlock()
				c.Close()
			}()
			sc := bufio.NewScanner(c)
			for sc.Scan() {
				if _, err := fmt.Fprintln(c, s.Control(sc.Text())); err != nil {
					return
				}
			}
		}()
	}
}
