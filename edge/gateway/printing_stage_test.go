package gateway

import (
	"testing"

	"github.com/dockgate/dockgate/printers"
)

func TestJobReason(t *testing.T) {
	for _, c := range []struct {
		e    printers.Event
		want string
	}{
		{printers.Event{Kind: printers.EventJobHeld, Status: &printers.Status{Known: true, PaperOut: true, HeadOpen: true}}, "paper_out"},
		{printers.Event{Kind: printers.EventJobHeld, Status: &printers.Status{Known: true, HeadOpen: true}}, "head_open"},
		{printers.Event{Kind: printers.EventJobHeld, Status: &printers.Status{Known: true, Paused: true}}, "paused"},
		{printers.Event{Kind: printers.EventJobHeld, Status: &printers.Status{}, Reason: "printer unreachable: dial tcp: refused"}, "no_status"},
		{printers.Event{Kind: printers.EventJobUnknown, Reason: "the gateway stopped while sending this job"}, "restart"},
		{printers.Event{Kind: printers.EventJobUnknown, Reason: "connection lost while writing (EOF)"}, "connection"},
		{printers.Event{Kind: printers.EventJobFailed, Reason: "the printer did not confirm the job"}, "not_confirmed"},
		{printers.Event{Kind: printers.EventJobFailed, Reason: "?"}, "other"},
	} {
		if got := jobReason(c.e); got != c.want {
			t.Errorf("%s %q %+v: %s, want %s", c.e.Kind, c.e.Reason, c.e.Status, got, c.want)
		}
	}
}
