package outbox

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

func FuzzEnvelopeMatchesEncodingJSON(f *testing.F) {
	f.Add("urn:uuid:1b4e28ba-2fa1-41d2-883f-0016d3cca427", "lot.created", "portal/door-3", uint64(7), int64(1764150000123456789), []byte(`{"lot":"A"}`))
	f.Add("a\"b\\c<d>&e\u2028\x01", "t\n\r\t", "", uint64(0), int64(0), []byte(nil))
	f.Add("\xff\xfe", "é", "☃", uint64(1<<63), int64(-1), []byte(`[1,2]`))
	f.Fuzz(func(t *testing.T, id, typ, src string, seq uint64, nanos int64, body []byte) {
		if len(body) > 0 && !json.Valid(body) {
			body = nil
		}
		var buf bytes.Buffer
		if len(body) > 0 {
			_ = json.Compact(&buf, body)
			body = buf.Bytes()
		}
		ev := Event{ID: id, Type: typ, Source: src, Seq: seq, Time: time.Unix(0, nanos).UTC(), Body: body}
		if ev.Time.Year() < 0 || ev.Time.Year() > 9999 {
			return // encoding/json refuses such times
		}
		got, err := ev.Payload()
		if err != nil {
			t.Fatal(err)
		}
		want, err := json.Marshal(Envelope{EventID: id, Seq: seq, Type: typ, Time: ev.Time, Source: src, Body: body})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("envelope\n got %s\nwant %s", got, want)
		}
	})
}

func FuzzDecodeRecord(f *testing.F) {
	f.Add(encodeRecord(&Event{ID: "urn:uuid:x", Type: "t", Source: "s", Topic: "reply/1", RawTopic: true, Time: time.Unix(1, 2), Body: []byte(`{}`)}))
	f.Add([]byte{1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		var ev Event
		if err := decodeRecord(b, &ev); err != nil {
			return
		}
		// What decodes re-encodes to the same bytes.
		if again := encodeRecord(&ev); !bytes.Equal(again, b) && len(ev.Body) > 0 {
			var ev2 Event
			if err := decodeRecord(again, &ev2); err != nil || ev2.ID != ev.ID || !bytes.Equal(ev2.Body, ev.Body) {
				t.Fatalf("round trip of %x: %v", b, err)
			}
		}
	})
}

// A retained event stays retained through the store; one without a topic
// of its own is refused (events/{type} are never retained).
func TestRetainedEventRecord(t *testing.T) {
	ev := Event{ID: "urn:uuid:r", Type: "lot.status", Topic: "dockgate/v1/s/lots/L1/status", RawTopic: true, Retain: true,
		Time: time.Unix(5, 0), Body: []byte(`{"code":"L1"}`)}
	var got Event
	if err := decodeRecord(encodeRecord(&ev), &got); err != nil {
		t.Fatal(err)
	}
	if !got.Retain || !got.RawTopic || got.Topic != ev.Topic {
		t.Fatalf("decoded %+v", got)
	}
	if err := (&Event{Type: "lot.hold", Retain: true}).validate(1 << 10); err == nil {
		t.Fatal("a retained events/{type} event was accepted")
	}
}
