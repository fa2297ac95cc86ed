package zebra

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/dockgate/dockgate/printers"
)

// Querier asks a printer for its status over one connection. It keeps the
// stream's partial replies between queries. Not safe for concurrent use.
type Querier struct {
	conn printers.Conn
	rd   *Reader
	mode string
	now  func() time.Time
	cmd  []byte // the query bytes sent each time
	// owedHS and owedX count replies of queries written and not yet read:
	// a reply that comes after its query timed out would be read as the
	// answer to a later query.
	owedHS, owedX int
	// owedSGD and owedOD count SGD and ~HQOD replies owed the same way.
	owedSGD, owedOD int
	// other receives the replies a printer sends as it prints (~RV, ^HV,
	// ^HR) when they are read while waiting for a query's answer.
	other func(Reply)
}

// OnAsync sets the function that receives the replies a printer sends as it
// prints (Reply.Async) whenever the Querier reads one while waiting for the
// answer to a query; without it they are dropped.
func (q *Querier) OnAsync(fn func(Reply)) { q.other = fn }

// Pending reports whether a reply of an earlier query may still arrive on
// this connection. A caller about to act on the printer's answer to a new
// query (sending a job after a preflight) should start a new connection
// then: replies carry no query id.
func (q *Querier) Pending() bool {
	return q.owedHS > 0 || q.owedX > 0 || q.owedSGD > 0 || q.owedOD > 0
}

// NewQuerier returns a Querier for conn. mode is one of printers.StatusBoth,
// StatusHS, StatusHQES (StatusNone makes every query fail with
// printers.ErrNoStatus); now is the clock (nil: time.Now).
func NewQuerier(conn printers.Conn, mode string, now func() time.Time) *Querier {
	if now == nil {
		now = time.Now
	}
	q := &Querier{conn: conn, rd: NewReader(conn), mode: mode, now: now}
	switch mode {
	case printers.StatusHS:
		q.cmd = CmdHS
	case printers.StatusHQES:
		q.cmd = CmdHQES
	case printers.StatusNone:
	default:
		q.mode = printers.StatusBoth
		q.cmd = append(append([]byte{}, CmdHQES...), CmdHS...)
	}
	return q
}

// Status sends the status commands and waits up to timeout for the replies.
// It returns as soon as every expected reply arrived. When only some did
// (a printer silent to ~HS while faulted) the status is built from those.
// When none did the status is unknown and the error wraps
// printers.ErrStatusTimeout. Read errors other than the deadline are
// returned as they are (the connection is broken).
func (q *Querier) Status(ctx context.Context, timeout time.Duration) (printers.Status, error) {
	at := q.now()
	if q.mode == printers.StatusNone {
		return printers.Unknown(at), printers.ErrNoStatus
	}
	if _, err := q.conn.Write(q.cmd); err != nil {
		return printers.Unknown(at), fmt.Errorf("send status query: %w", err)
	}
	if q.mode != printers.StatusHQES {
		q.owedHS++
	}
	if q.mode != printers.StatusHS {
		q.owedX++
	}
	deadline := time.Now().Add(timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	if err := q.conn.SetReadDeadline(deadline); err != nil {
		return printers.Unknown(at), fmt.Errorf("%w: %v", printers.ErrNoStatus, err)
	}
	stop := context.AfterFunc(ctx, func() { _ = q.conn.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	wantHS := q.mode != printers.StatusHQES
	wantX := q.mode != printers.StatusHS
	var hs *HostStatus
	var x *ExtendedStatus
	for (wantHS && hs == nil) || (wantX && x == nil) {
		rep, err := q.rd.Next()
		if err != nil {
			if IsFrameError(err) {
				continue
			}
			if errors.Is(err, os.ErrDeadlineExceeded) || os.IsTimeout(err) {
				if ctx.Err() != nil {
					return Status(at, hs, x), ctx.Err()
				}
				break
			}
			return Status(at, hs, x), err
		}
		if q.sideReply(rep) {
			continue
		}
		if rep.HS != nil {
			hs = rep.HS
			q.owedHS = max(q.owedHS-1, 0)
		}
		if rep.HQES != nil {
			x = rep.HQES
			q.owedX = max(q.owedX-1, 0)
			if wantHS && hs == nil && x.ErrorFlag != 0 && x.Errors&(ErrMediaOut|ErrRibbonOut|ErrHeadOpen) != 0 {
				// a printer stays silent to ~HS while media, ribbon or
				// head is faulted: do not wait out the timeout for it
				break
			}
		}
	}
	_ = q.conn.SetReadDeadline(time.Time{})
	s := Status(at, hs, x)
	if !s.Known {
		return s, printers.ErrStatusTimeout
	}
	return s, nil
}

// sideReply handles a reply that does not answer a status query: a
// printing reply goes to the OnAsync function, a late SGD or ~HQOD answer
// settles what is owed. It reports whether rep was one.
func (q *Querier) sideReply(rep Reply) bool {
	switch {
	case rep.Async():
		if q.other != nil {
			q.other(rep)
		}
	case rep.SGD != nil:
		q.owedSGD = max(q.owedSGD-1, 0)
	case rep.Odometer != nil:
		q.owedOD = max(q.owedOD-1, 0)
	default:
		return false
	}
	return true
}

// ErrSGDTimeout is wrapped by Getvar and Odometer when the printer did not
// answer in time.
var ErrSGDTimeout = fmt.Errorf("%w (no reply to a counter or setting query)", printers.ErrStatusTimeout)

// AppendGetvar appends the Link-OS SGD command reading one setting:
// ! U1 getvar "name" and CR LF.
func AppendGetvar(b []byte, name string) []byte {
	b = append(b, "! U1 getvar \""...)
	b = append(b, name...)
	return append(b, "\"\r\n"...)
}

// Getvar reads SGD settings, in order, waiting up to timeout for the last
// reply. A setting the printer does not know reads "?" (SGDValue.Unknown).
// Replies still owed to an earlier Getvar that timed out are skipped
// first: SGD replies come in order and name no setting.
func (q *Querier) Getvar(ctx context.Context, timeout time.Duration, names ...string) ([]SGDValue, error) {
	var cmd []byte
	for _, n := range names {
		cmd = AppendGetvar(cmd, n)
	}
	stale := q.owedSGD
	if _, err := q.conn.Write(cmd); err != nil {
		return nil, fmt.Errorf("send getvar: %w", err)
	}
	q.owedSGD += len(names)
	var vals []SGDValue
	err := q.await(ctx, timeout, func(rep Reply) bool {
		if rep.SGD == nil {
			return false
		}
		if stale > 0 {
			stale--
			return false
		}
		vals = append(vals, *rep.SGD)
		return len(vals) == len(names)
	})
	return vals, err
}

// Odometer reads the ~HQOD print length counters.
func (q *Querier) Odometer(ctx context.Context, timeout time.Duration) (Odometer, error) {
	stale := q.owedOD
	if _, err := q.conn.Write(CmdHQOD); err != nil {
		return Odometer{}, fmt.Errorf("send ~HQOD: %w", err)
	}
	q.owedOD++
	var o Odometer
	err := q.await(ctx, timeout, func(rep Reply) bool {
		if rep.Odometer == nil {
			return false
		}
		if stale > 0 {
			stale--
			return false
		}
		o = *rep.Odometer
		return true
	})
	return o, err
}

// Await reads replies for up to timeout, handing printing replies to the
// OnAsync function, until done reports true for one of them (the replies
// it takes). It returns the read error, or one wrapping ErrSGDTimeout
// when time ran out first.
func (q *Querier) Await(ctx context.Context, timeout time.Duration, done func(Reply) bool) error {
	return q.await(ctx, timeout, done)
}

func (q *Querier) await(ctx context.Context, timeout time.Duration, done func(Reply) bool) error {
	deadline := time.Now().Add(timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	if err := q.conn.SetReadDeadline(deadline); err != nil {
		return fmt.Errorf("%w: %v", printers.ErrNoStatus, err)
	}
	stop := context.AfterFunc(ctx, func() { _ = q.conn.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	defer func() { _ = q.conn.SetReadDeadline(time.Time{}) }()
	for {
		rep, err := q.rd.Next()
		if err != nil {
			if IsFrameError(err) {
				continue
			}
			if errors.Is(err, os.ErrDeadlineExceeded) || os.IsTimeout(err) {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				return ErrSGDTimeout
			}
			return err
		}
		if done(rep) {
			q.sideReply(rep)
			return nil
		}
		if rep.HS != nil {
			q.owedHS = max(q.owedHS-1, 0)
			continue
		}
		if rep.HQES != nil {
			q.owedX = max(q.owedX-1, 0)
			continue
		}
		q.sideReply(rep)
	}
}
