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
}

// Pending reports whether a reply of an earlier query may still arrive on
// this connection. A caller about to act on the printer's answer to a new
// query (sending a job after a preflight) should start a new connection
// then: replies carry no query id.
func (q *Querier) Pending() bool { return q.owedHS > 0 || q.owedX > 0 }

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
