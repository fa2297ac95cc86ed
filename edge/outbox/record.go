package outbox

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"
)

// Stored form of a queued event (the sequence and priority are in the key):
//
//	version 1 | flags 1 | unix nanos 8 | uvarint-prefixed ID, Type, Source, Topic | body
//
// A binary record keeps the publish path free of reflection.
const recordVersion = 1

const (
	flagRawTopic = 1
	flagRetain   = 2
)

var errRecord = errors.New("corrupt outbox record")

func encodeRecord(ev *Event) []byte {
	n := 2 + 8 + 4*binary.MaxVarintLen16 + len(ev.ID) + len(ev.Type) + len(ev.Source) + len(ev.Topic) + len(ev.Body)
	b := make([]byte, 0, n)
	var flags byte
	if ev.RawTopic {
		flags |= flagRawTopic
	}
	if ev.Retain {
		flags |= flagRetain
	}
	b = append(b, recordVersion, flags)
	b = binary.BigEndian.AppendUint64(b, uint64(ev.Time.UnixNano()))
	for _, s := range []string{ev.ID, ev.Type, ev.Source, ev.Topic} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	return append(b, ev.Body...)
}

// decodeRecord fills ev from a stored record; the body is copied.
func decodeRecord(b []byte, ev *Event) error {
	if len(b) < 10 || b[0] != recordVersion {
		return fmt.Errorf("%w: %d bytes, version %v", errRecord, len(b), b[:min(len(b), 1)])
	}
	ev.RawTopic = b[1]&flagRawTopic != 0
	ev.Retain = b[1]&flagRetain != 0
	ev.Time = time.Unix(0, int64(binary.BigEndian.Uint64(b[2:10]))).UTC()
	b = b[10:]
	// The four strings are cut from one copy of the bytes that hold them:
	// one allocation for all of them.
	var at [4][2]int
	end := 0
	for i := range at {
		l, n := binary.Uvarint(b[end:])
		if n <= 0 || uint64(len(b)-end-n) < l {
			return fmt.Errorf("%w: bad string length", errRecord)
		}
		at[i] = [2]int{end + n, end + n + int(l)}
		end += n + int(l)
	}
	strs := string(b[:end])
	for i, s := range []*string{&ev.ID, &ev.Type, &ev.Source, &ev.Topic} {
		*s = strs[at[i][0]:at[i][1]]
	}
	if b = b[end:]; len(b) > 0 {
		ev.Body = append([]byte(nil), b...)
	} else {
		ev.Body = nil
	}
	return nil
}

// appendEnvelope writes the events/{type} JSON of ev, the same bytes
// json.Marshal(Envelope) gives (the body was validated at Append).
func appendEnvelope(b []byte, ev *Event) []byte {
	b = append(b, `{"eventID":`...)
	b = appendJSONString(b, ev.ID)
	b = append(b, `,"seq":`...)
	b = strconv.AppendUint(b, ev.Seq, 10)
	b = append(b, `,"type":`...)
	b = appendJSONString(b, ev.Type)
	b = append(b, `,"time":"`...)
	b = ev.Time.AppendFormat(b, time.RFC3339Nano)
	b = append(b, '"')
	if ev.Source != "" {
		b = append(b, `,"source":`...)
		b = appendJSONString(b, ev.Source)
	}
	if len(ev.Body) > 0 {
		b = append(b, `,"body":`...)
		b = append(b, ev.Body...)
	}
	return append(b, '}')
}

const hexDigits = "0123456789abcdef"

// appendJSONString quotes s as encoding/json does (HTML-safe escapes,
// invalid UTF-8 replaced).
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
