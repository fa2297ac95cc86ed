package outbox

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Priority orders delivery: lower values leave first.
type Priority uint8

// Priorities, highest first.
const (
	// PriorityLifecycle: gateway status, alarms and command replies.
	PriorityLifecycle Priority = 0
	// PriorityLot: lot, receiving and EPCIS events that must not be lost.
	PriorityLot Priority = 1
	// PriorityTelemetry: reads, counters and other data that may be dropped
	// oldest-first when the store is full.
	PriorityTelemetry Priority = 2

	numPriorities = 3
)

func (p Priority) String() string {
	switch p {
	case PriorityLifecycle:
		return "lifecycle"
	case PriorityLot:
		return "lot"
	case PriorityTelemetry:
		return "telemetry"
	}
	return fmt.Sprintf("priority(%d)", uint8(p))
}

// priorityNamed is the priority of a name String returns.
func priorityNamed(name string) (Priority, bool) {
	for p := Priority(0); p < numPriorities; p++ {
		if p.String() == name {
			return p, true
		}
	}
	return 0, false
}

// MarshalText writes the priority's name ("lifecycle", "lot",
// "telemetry"): the JSON of an event says what its priority is, not a
// number to look up.
func (p Priority) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalJSON reads a priority's name, or its number as versions before
// names wrote it (quarantined events stored then).
func (p *Priority) UnmarshalJSON(b []byte) error {
	var n uint8
	if err := json.Unmarshal(b, &n); err == nil {
		*p = Priority(n)
		return nil
	}
	var name string
	if err := json.Unmarshal(b, &name); err != nil {
		return fmt.Errorf("priority %s: give lifecycle, lot or telemetry", b)
	}
	q, ok := priorityNamed(name)
	if !ok {
		return fmt.Errorf("priority %q: give lifecycle, lot or telemetry", name)
	}
	*p = q
	return nil
}

// Event is one message for the central system.
type Event struct {
	// ID is the event's identity, stable across retries ("urn:uuid:…").
	// Append fills a random one when it is empty; a producer that may append
	// the same fact twice (a retried receipt) sets a deterministic one.
	ID string `json:"eventID"`
	// Seq is the per-gateway sequence number, set by Append.
	Seq uint64 `json:"seq"`
	// Type names the event ("lot.created", "receiving.done", "tag.pass").
	// It is the last topic levels of events/{type}.
	Type string `json:"type"`
	// Time the fact happened; zero means the time of Append.
	Time time.Time `json:"time"`
	// Source names the producer ("portal/door-3", "printer/zt411-1").
	Source string `json:"source,omitempty"`
	// Priority of delivery (its name in JSON).
	Priority Priority `json:"priority"`
	// Topic overrides the topic events/{type}: a topic relative to the
	// gateway's prefix ("epcis", "reply/42"), or, with RawTopic, a full MQTT
	// topic (a command's reply_to). For an overridden topic the Body is sent
	// as it is; otherwise it is wrapped in the event envelope (see Envelope).
	Topic    string `json:"topic,omitempty"`
	RawTopic bool   `json:"raw_topic,omitempty"`
	// Retain publishes the event as the topic's retained message: state
	// that a subscriber arriving later must get (a lot's site status), on
	// an overridden topic only. Retained events are still delivered in
	// order within their priority, so the last one staged is the one kept.
	Retain bool `json:"retain,omitempty"`
	// Body is the JSON payload.
	Body json.RawMessage `json:"body,omitempty"`

	size int // stored bytes, set by Next
}

// UnmarshalJSON reads an event's JSON, also as versions before snake_case
// field names wrote it ("rawTopic", a number for the priority): the
// quarantined events they stored stay readable.
func (ev *Event) UnmarshalJSON(b []byte) error {
	type plain Event // without this method
	v := struct {
		*plain
		OldRawTopic *bool `json:"rawTopic"`
	}{plain: (*plain)(ev)}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	if v.OldRawTopic != nil && *v.OldRawTopic {
		ev.RawTopic = true
	}
	return nil
}

// Envelope is the JSON sent on events/{type}. Its field names are
// snake_case as everywhere in the gateway's JSON, but for eventID: it keeps
// its EPCIS name, the identity consumers deduplicate by.
type Envelope struct {
	EventID string          `json:"eventID"`
	Seq     uint64          `json:"seq"`
	Type    string          `json:"type"`
	Time    time.Time       `json:"time"`
	Source  string          `json:"source,omitempty"`
	Body    json.RawMessage `json:"body,omitempty"`
}

// Payload returns the bytes to publish for ev: the Body for an overridden
// topic, otherwise the envelope.
func (ev *Event) Payload() ([]byte, error) {
	if ev.Topic != "" {
		if len(ev.Body) == 0 {
			return []byte("{}"), nil
		}
		return ev.Body, nil
	}
	return appendEnvelope(make([]byte, 0, 160+len(ev.Body)), ev), nil
}

// RelTopic is the topic of ev relative to the gateway's prefix, or the full
// topic when RawTopic is set.
func (ev *Event) RelTopic() string {
	if ev.Topic != "" {
		return ev.Topic
	}
	return "events/" + ev.Type
}

// NewID returns a random event ID "urn:uuid:…" (RFC 9562 version 4).
func NewID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var out [9 + 36]byte
	copy(out[:], "urn:uuid:")
	o := out[9:]
	hex.Encode(o[0:8], b[0:4])
	o[8] = '-'
	hex.Encode(o[9:13], b[4:6])
	o[13] = '-'
	hex.Encode(o[14:18], b[6:8])
	o[18] = '-'
	hex.Encode(o[19:23], b[8:10])
	o[23] = '-'
	hex.Encode(o[24:36], b[10:16])
	return string(out[:])
}

// CheckTopic reports whether t can be published to: not empty, valid UTF-8,
// no wildcard (+ #) and no NUL, at most 65535 bytes.
func CheckTopic(t string) error {
	switch {
	case t == "":
		return fmt.Errorf("empty topic")
	case len(t) > 65535:
		return fmt.Errorf("topic of %d bytes is longer than 65535", len(t))
	case !utf8.ValidString(t):
		return fmt.Errorf("topic %q is not valid UTF-8", t)
	case strings.ContainsAny(t, "+#\x00"):
		return fmt.Errorf("topic %q contains a wildcard (+ #) or NUL", t)
	}
	return nil
}

// validate checks an event before it is stored, so that what is stored can
// be published.
func (ev *Event) validate(maxBytes int) error {
	if ev.Priority >= numPriorities {
		return fmt.Errorf("%w: priority %d: use PriorityLifecycle, PriorityLot or PriorityTelemetry", ErrInvalidEvent, ev.Priority)
	}
	if ev.Topic == "" {
		if ev.Type == "" {
			return fmt.Errorf("%w: empty type: set Event.Type (e.g. \"lot.created\")", ErrInvalidEvent)
		}
		if strings.HasPrefix(ev.Type, "/") || strings.HasSuffix(ev.Type, "/") {
			return fmt.Errorf("%w: type %q starts or ends with '/'", ErrInvalidEvent, ev.Type)
		}
	}
	if ev.Retain && ev.Topic == "" {
		return fmt.Errorf("%w: %s: a retained event needs its own topic (events/{type} are never retained)", ErrInvalidEvent, ev.Type)
	}
	// events/{type} is a valid topic when its type is one and short
	// enough: checked without building it on every append.
	if ev.Topic != "" || len(ev.Type) > 65535-len("events/") || CheckTopic(ev.Type) != nil {
		if err := CheckTopic(ev.RelTopic()); err != nil {
			return fmt.Errorf("%w: %v", ErrInvalidEvent, err)
		}
	}
	if len(ev.ID) > 256 {
		return fmt.Errorf("%w: eventID of %d bytes is longer than 256", ErrInvalidEvent, len(ev.ID))
	}
	if len(ev.Body) > 0 && !json.Valid(ev.Body) {
		return fmt.Errorf("%w: body of %s event is not valid JSON", ErrInvalidEvent, ev.Type)
	}
	if len(ev.Body) > maxBytes {
		return fmt.Errorf("%w: body of %d bytes is larger than %d (outbox.max_event_bytes)", ErrTooLarge, len(ev.Body), maxBytes)
	}
	return nil
}
