package serialrdr

import (
	"bytes"
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"testing"
)

func frameHex(s string) []byte {
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		panic(err)
	}
	return b
}

// powerFixtures: set-power commands and replies on the wire.
var powerFixtures = []struct {
	desc, proto string
	dBm         float64
	cmd, reply  []byte
	err         string // in the reply check; "" = accepted
}{
	{"M100 20 dBm, accepted", ProtocolM100, 20, frameHex("BB 00 B6 0002 07D0 8F 7E"), frameHex("BB 01 B6 0001 00 B8 7E"), ""},
	{"M100 26 dBm, accepted", ProtocolM100, 26, frameHex("BB 00 B6 0002 0A28 EA 7E"), frameHex("BB 01 B6 0001 00 B8 7E"), ""},
	{"M100 18.5 dBm, error code 0E", ProtocolM100, 18.5, frameHex("BB 00 B6 0002 073A F9 7E"), frameHex("BB 01 FF 0001 0E 0F 7E"), "error code 0x0e"},
	{"RU5102 20 dBm at address 0, accepted", ProtocolRU5102, 20, frameHex("05 00 2F 14 289B"), frameHex("05 00 2F 00 8DCD"), ""},
	{"RU5102 30 dBm, refused with status FF", ProtocolRU5102, 30, frameHex("05 00 2F 1E 7234"), frameHex("05 00 2F FF F5C2"), "status 0xff"},
}

type fakePort struct {
	io.Reader
	sent bytes.Buffer
}

func (p *fakePort) Write(b []byte) (int, error) { return p.sent.Write(b) }

func TestPowerCommands(t *testing.T) {
	for _, fx := range powerFixtures {
		t.Run(fx.desc, func(t *testing.T) {
			// A stale tag notice before the reply is skipped; what follows
			// the reply is left unread.
			stale := AppendM100(nil, M100TypeResponse, M100CmdError, []byte{M100ErrNoTag})
			if fx.proto == ProtocolRU5102 {
				stale = AppendRU5102(nil, 0, RU5102CmdInventory, []byte{RU5102StatusNoTag})
			}
			after := []byte{0xBB, 0x02}
			in := bytes.NewReader(bytes.Join([][]byte{stale, fx.reply, after}, nil))
			port := &fakePort{Reader: in}
			err := setPower(port, fx.proto, 0, fx.dBm)
			if !bytes.Equal(port.sent.Bytes(), fx.cmd) {
				t.Errorf("sent % X, want % X", port.sent.Bytes(), fx.cmd)
			}
			switch {
			case fx.err == "" && err != nil:
				t.Errorf("reply rejected: %v", err)
			case fx.err != "" && (!errors.Is(err, ErrTxPower) || !strings.Contains(err.Error(), fx.err)):
				t.Errorf("error %v, want ErrTxPower naming %q", err, fx.err)
			}
			if in.Len() != len(after) {
				t.Errorf("%d bytes left after the reply, want %d", in.Len(), len(after))
			}
			// The command decodes back to its power.
			var got float64
			if fx.proto == ProtocolM100 {
				f, err := NewM100Decoder(bytes.NewReader(fx.cmd)).Next()
				if err == nil {
					got, err = M100Power(f)
				}
				if err != nil {
					t.Fatal(err)
				}
			} else {
				f, err := NewRU5102Decoder(bytes.NewReader(fx.cmd)).Next()
				if err == nil {
					got, err = RU5102Power(f)
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			if got != fx.dBm {
				t.Errorf("command decodes to %v dBm, want %v", got, fx.dBm)
			}
		})
	}
}

func TestCheckTxPower(t *testing.T) {
	for _, tc := range []struct {
		proto string
		dBm   float64
		want  string
	}{
		{ProtocolM100, 26, ""}, {ProtocolM100, 0, ""}, {ProtocolM100, 18.25, ""},
		{ProtocolM100, 26.5, "outside the M100's 0 to 26 dBm"},
		{ProtocolRU5102, 30, ""}, {ProtocolRU5102, 31, "whole dBm from 0 to 30"},
		{ProtocolRU5102, 20.5, "whole dBm from 0 to 30"},
		{ProtocolASCII, 20, "ascii readers have no power command"},
	} {
		err := CheckTxPower(tc.proto, tc.dBm)
		if (tc.want == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %v: %v, want %q", tc.proto, tc.dBm, err, tc.want)
		}
	}
}

// FuzzPowerReply: any bytes as the reply to a set-power command end in an
// answer or an error, never a panic or a hang.
func FuzzPowerReply(f *testing.F) {
	for i, fx := range powerFixtures {
		f.Add(fx.reply, fx.proto == ProtocolM100, uint8(i))
		f.Add(append(fx.cmd, fx.reply...), fx.proto == ProtocolM100, uint8(i))
	}
	f.Fuzz(func(t *testing.T, reply []byte, m100 bool, p uint8) {
		proto := ProtocolRU5102
		if m100 {
			proto = ProtocolM100
		}
		port := &fakePort{Reader: bytes.NewReader(reply)}
		_ = setPower(port, proto, 0, float64(p%31))
		if f, err := NewM100Decoder(bytes.NewReader(reply)).Next(); err == nil {
			_, _ = M100Power(f)
		}
		if f, err := NewRU5102Decoder(bytes.NewReader(reply)).Next(); err == nil {
			_, _ = RU5102Power(f)
		}
	})
}
