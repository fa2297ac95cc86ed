package zebra

import (
	"bytes"
	"errors"
	"io"
)

// MaxFrame is the longest status frame accepted; a longer run without ETX is
// dropped as garbage.
const MaxFrame = 1024

var errEOF = io.EOF

// Reply is one complete reply: exactly one field is set. HS, HQES and
// Odometer come in STX … ETX frames; SGD, Encode, Verify and Calibration
// come unframed (see VerifyHeader).
type Reply struct {
	HS          *HostStatus
	HQES        *ExtendedStatus
	Odometer    *Odometer     // ~HQOD
	SGD         *SGDValue     // ! U1 getvar
	Encode      *EncodeReport // ~RV, one per RFID format
	Verify      *Verify       // ^HV
	Calibration *Calibration  // ^HR
}

// Async reports whether the reply is one a printer sends as it prints
// (~RV, ^HV, ^HR) rather than the answer to a query.
func (r Reply) Async() bool { return r.Encode != nil || r.Verify != nil || r.Calibration != nil }

// Reader reassembles replies from a byte stream read in any chunks. Bytes
// outside STX … ETX frames are scanned for the unframed replies (SGD
// values, ~RV reports, ^HV and ^HR replies with the gateway's strings) and
// otherwise ignored. A ~HS reply is complete after its third string;
// strings out of order are dropped. Reader is not safe for
// concurrent use; a Read error (a deadline) leaves the partial reply in place
// for the next call.
type Reader struct {
	r     io.Reader
	buf   []byte // unread bytes
	frame []byte // current frame body (after STX)
	out   []byte // unframed bytes not yet scanned to the end
	in    bool   // inside a frame
	hs    HostStatus
	hsN   int // strings of the current ~HS reply seen (0-2)
	chunk []byte
}

// NewReader returns a Reader reading from r.
func NewReader(r io.Reader) *Reader {
	return &Reader{r: r, chunk: make([]byte, 512)}
}

// Next returns the next complete reply. A malformed frame is returned as a
// *FrameError (the stream stays usable); read errors are returned as they
// are, io.EOF at the end of the stream.
func (r *Reader) Next() (Reply, error) {
	for {
		for len(r.buf) > 0 {
			rep, ok, err := r.step()
			if err != nil || ok {
				return rep, err
			}
		}
		if !r.in && len(r.out) > 0 {
			// more unframed replies may wait in what was read
			if rep, ok := r.scanOut(false); ok {
				return rep, nil
			}
		}
		n, err := r.r.Read(r.chunk)
		r.buf = append(r.buf[:0], r.chunk[:n]...)
		if n > 0 {
			continue
		}
		if err == nil {
			err = io.ErrNoProgress
		}
		return Reply{}, err
	}
}

// Buffered reports whether a partial frame or reply is held.
func (r *Reader) Buffered() bool { return r.in || r.hsN > 0 || len(r.buf) > 0 || len(r.out) > 0 }

// step consumes r.buf up to the end of one frame.
func (r *Reader) step() (Reply, bool, error) {
	if !r.in {
		i := bytes.IndexByte(r.buf, STX)
		end := len(r.buf)
		if i >= 0 {
			end = i
		}
		r.out = append(r.out, r.buf[:end]...)
		r.buf = r.buf[end:]
		if rep, ok := r.scanOut(i >= 0); ok {
			return rep, true, nil
		}
		if i < 0 {
			return Reply{}, false, nil
		}
		r.buf = r.buf[1:]
		r.in = true
		r.frame = r.frame[:0]
	}
	i := bytes.IndexAny(r.buf, "\x02\x03")
	if i < 0 {
		r.frame = append(r.frame, r.buf...)
		r.buf = r.buf[:0]
		if len(r.frame) > MaxFrame {
			r.in = false
			r.hsN = 0
			return Reply{}, false, &FrameError{Frame: r.frame, Reason: "no ETX within 1024 bytes"}
		}
		return Reply{}, false, nil
	}
	r.frame = append(r.frame, r.buf[:i]...)
	if r.buf[i] == STX {
		// A new frame starts before this one ended: drop the broken one.
		bad := append([]byte(nil), r.frame...)
		r.buf = r.buf[i:]
		r.in = false
		r.hsN = 0
		return Reply{}, false, &FrameError{Frame: bad, Reason: "STX before ETX"}
	}
	r.buf = r.buf[i+1:]
	r.in = false
	return r.frameDone(bytes.TrimSpace(r.frame))
}

// scanOut reads the next unframed reply from r.out. final says a frame
// starts after r.out: a token still incomplete then is not one.
func (r *Reader) scanOut(final bool) (Reply, bool) {
	for len(r.out) > 0 {
		i := bytes.IndexAny(r.out, "\"_"+VerifyHeader[:1])
		if i < 0 {
			r.out = r.out[:0]
			break
		}
		r.out = r.out[i:]
		k, n, rep := scanToken(r.out)
		switch {
		case k == tokDone:
			r.out = r.out[n:]
			if len(r.out) == 0 {
				r.out = r.out[:0:0]
			}
			return rep, true
		case k == tokIncomplete && !final:
			return Reply{}, false
		default:
			r.out = r.out[1:]
		}
	}
	return Reply{}, false
}

func (r *Reader) frameDone(f []byte) (Reply, bool, error) {
	if isOdometerFrame(f) {
		o, err := parseOdometer(f)
		if err != nil {
			return Reply{}, false, err
		}
		return Reply{Odometer: &o}, true, nil
	}
	if isHQESFrame(f) {
		x, err := parseHQES(f)
		if err != nil {
			return Reply{}, false, err
		}
		return Reply{HQES: &x}, true, nil
	}
	switch n := bytes.Count(f, []byte(",")) + 1; n {
	case 12:
		r.hs = HostStatus{}
		r.hsN = 0
		if err := r.hs.parse1(f); err != nil {
			return Reply{}, false, err
		}
		r.hsN = 1
	case 11:
		if r.hsN != 1 {
			r.hsN = 0
			return Reply{}, false, &FrameError{Frame: f, Reason: "~HS string 2 without string 1"}
		}
		if err := r.hs.parse2(f); err != nil {
			r.hsN = 0
			return Reply{}, false, err
		}
		r.hsN = 2
	case 2:
		if r.hsN != 2 {
			r.hsN = 0
			return Reply{}, false, &FrameError{Frame: f, Reason: "~HS string 3 without strings 1 and 2"}
		}
		r.hsN = 0
		if err := r.hs.parse3(f); err != nil {
			return Reply{}, false, err
		}
		hs := r.hs
		return Reply{HS: &hs}, true, nil
	default:
		r.hsN = 0
		return Reply{}, false, &FrameError{Frame: f, Reason: "not a ~HS string (12, 11 or 2 fields) nor a ~HQES reply"}
	}
	return Reply{}, false, nil
}

// IsFrameError reports whether err is a malformed frame (the stream is still
// usable) rather than a read error.
func IsFrameError(err error) bool {
	var fe *FrameError
	return errors.As(err, &fe)
}
