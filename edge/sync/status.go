package sync

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ErrInvalid: a message of the site that the gateway does not apply (the
// error says which field is wrong).
var ErrInvalid = errors.New("sync: invalid site message")

// Lot statuses a site message may carry: the lot registry's names.
const (
	StatusActive   = "active"
	StatusOnHold   = "on_hold"
	StatusReleased = "released"
	StatusRecalled = "recalled"
	StatusExpired  = "expired"
)

// Held reports whether goods of a lot in status must be stopped.
func Held(status string) bool { return status == StatusOnHold || status == StatusRecalled }

// LotStatus is a lot's status as the site knows it: the retained payload
// of dockgate/v1/{site}/lots/{code}/status.
type LotStatus struct {
	Code   string `json:"code"`
	Status string `json:"status"`
	Reason string `json:"reason"`
	// By is who asked (an operator, "mqtt", a central system's user).
	By   string    `json:"by"`
	Time time.Time `json:"time"`
	// Gateway made the change ("central" or any other name for a system
	// that is not a gateway).
	Gateway string  `json:"gateway"`
	Version Version `json:"version"`
}

// Held reports whether the lot's goods must be stopped.
func (s LotStatus) Held() bool { return Held(s.Status) }

// Supersedes reports whether s replaces old, the status known so far: a
// recall is final, so nothing but a recall replaces one; otherwise the later
// version wins, and of two equal versions the one of the greater gateway
// name, so that every gateway keeps the same. A status never supersedes
// itself: applying one twice changes nothing.
func (s LotStatus) Supersedes(old LotStatus) bool {
	if sr, or := s.Status == StatusRecalled, old.Status == StatusRecalled; sr != or {
		return sr
	}
	if s.Version != old.Version {
		return s.Version > old.Version
	}
	return s.Gateway > old.Gateway
}

// maxReason and maxText bound a status's reason and its other text (by,
// gateway): a gateway records a status in its lot's history and may
// publish it again as an event, both bounded.
const (
	maxReason = 500
	maxText   = 200
)

// maxAhead is how far ahead of the gateway's clock a version may be: one
// further ahead (a publisher with a wrong clock, or that writes seconds
// instead of milliseconds × 1000) would win over every change for as long.
const maxAhead = time.Hour

// Check reports what keeps s from being applied at time now.
func (s LotStatus) Check(now time.Time) error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: lot status %q: "+format, append([]any{ErrInvalid, s.Code}, a...)...)
	}
	switch {
	case s.Code == "" || len(s.Code) > 20:
		return bad("code must have 1 to 20 characters (GS1 AI (10))")
	case strings.ContainsAny(s.Code, "\x00#"):
		return bad("code holds NUL or '#'")
	}
	switch s.Status {
	case StatusActive, StatusOnHold, StatusReleased, StatusRecalled, StatusExpired:
	default:
		return bad("status %q is not one of on_hold, released, recalled, active, expired", s.Status)
	}
	if s.Gateway == "" {
		return bad("gateway is empty: name the gateway or system that made the change")
	}
	for _, f := range []struct {
		name, v string
		max     int
	}{{"reason", s.Reason, maxReason}, {"by", s.By, maxText}, {"gateway", s.Gateway, maxText}} {
		if len(f.v) > f.max {
			return bad("%s: %d bytes, at most %d", f.name, len(f.v), f.max)
		}
	}
	if err := checkTime(s.Time); err != nil {
		return bad("%v", err)
	}
	if s.Version == 0 {
		return bad("version is missing: give unix milliseconds × 1000 (or the gateway's hybrid logical clock)")
	}
	if ahead := s.Version.Time().Sub(now); ahead > maxAhead {
		return bad("version %d is %v ahead of this gateway's clock: check the publisher's clock (versions are unix milliseconds × 1000)", s.Version, ahead.Round(time.Second))
	}
	return nil
}

// checkTime reports a time that the gateway cannot keep: one whose year in
// UTC is outside 0000-9999 cannot be written as JSON again (a message
// that could not be recorded would come again for ever).
func checkTime(t time.Time) error {
	if y := t.UTC().Year(); y < 0 || y > 9999 {
		return fmt.Errorf("time %s: its year in UTC must be from 0000 to 9999", t.Format(time.RFC3339))
	}
	return nil
}

// Topic root of a site: every site topic is below dockgate/v1/{site}.
func siteRoot(site string) string { return "dockgate/v1/" + site }

// LotStatusTopic is the retained topic of a lot's status.
func LotStatusTopic(site, code string) string {
	return siteRoot(site) + "/lots/" + EscapeLevel(code) + "/status"
}

// LotStatusFilter subscribes to every lot status of a site.
func LotStatusFilter(site string) string { return siteRoot(site) + "/lots/+/status" }

// CartonTopic is the retained topic of part (1-based) of a receipt's
// cartons.
func CartonTopic(site, gateway, receipt string, part int) string {
	return siteRoot(site) + "/cartons/" + EscapeLevel(gateway) + "/" + EscapeLevel(receipt) + "/" + strconv.Itoa(part)
}

// CartonFilter subscribes to every receipt of a site.
func CartonFilter(site string) string { return siteRoot(site) + "/cartons/+/+/+" }

// Kind of a site topic.
const (
	TopicOther = iota
	TopicLotStatus
	TopicCartons
)

// ParseTopic tells a lot status topic (with the lot code, unescaped) from a
// carton topic of site.
func ParseTopic(site, topic string) (kind int, code string) {
	rest, ok := strings.CutPrefix(topic, siteRoot(site)+"/")
	if !ok {
		return TopicOther, ""
	}
	parts := strings.Split(rest, "/")
	switch {
	case len(parts) == 3 && parts[0] == "lots" && parts[2] == "status":
		c, err := UnescapeLevel(parts[1])
		if err != nil {
			return TopicOther, ""
		}
		return TopicLotStatus, c
	case len(parts) == 4 && parts[0] == "cartons":
		return TopicCartons, ""
	}
	return TopicOther, ""
}

// EscapeLevel makes s one topic level: '%', '/', '+', '#', control
// characters and bytes outside ASCII are written %XX (upper-case hex), as
// in a URI. Lot codes (GS1 CSET 82) may hold '/' and '+'.
func EscapeLevel(s string) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if escaped(s[i]) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	const hex = "0123456789ABCDEF"
	b := make([]byte, 0, len(s)+2*n)
	for i := 0; i < len(s); i++ {
		if c := s[i]; escaped(c) {
			b = append(b, '%', hex[c>>4], hex[c&15])
		} else {
			b = append(b, c)
		}
	}
	return string(b)
}

func escaped(c byte) bool {
	return c == '%' || c == '/' || c == '+' || c == '#' || c < 0x20 || c >= 0x7f
}

// UnescapeLevel undoes EscapeLevel.
func UnescapeLevel(s string) (string, error) {
	if !strings.Contains(s, "%") {
		return s, nil
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b = append(b, s[i])
			continue
		}
		if i+2 >= len(s) {
			return "", fmt.Errorf("%w: topic level %q: '%%' without two hex digits", ErrInvalid, s)
		}
		v, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
		if err != nil {
			return "", fmt.Errorf("%w: topic level %q: '%%' without two hex digits", ErrInvalid, s)
		}
		b = append(b, byte(v))
		i += 2
	}
	return string(b), nil
}

// StaleFor is how long past after the site has not been heard, 0 while it
// is not stale: connected means the subscription is up (the site is heard
// now); since is when it went down, or when the gateway started if it
// never came up.
func StaleFor(connected bool, since, now time.Time, after time.Duration) time.Duration {
	if connected {
		return 0
	}
	if d := now.Sub(since); d > after {
		return d
	}
	return 0
}
