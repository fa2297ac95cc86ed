package serialrdr

import (
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/dockgate/dockgate/rfid"
)

// Transmit power commands.
const (
	// M100CmdSetPower sets the transmit power: u16 BE in 0.01 dBm. The
	// reply (type 01, cmd B6) carries 00 on success; an error is the
	// usual type 01, cmd FF frame with a code.
	M100CmdSetPower = 0xB6
	// RU5102CmdSetPower sets the power: one byte, whole dBm 0–30. The
	// reply's status byte is 00 on success.
	RU5102CmdSetPower = 0x2F
)

// Power ranges the protocols take, in dBm.
const (
	M100MinDBm   = 0.0
	M100MaxDBm   = 26.0 // the M100/JRD modules' maximum
	RU5102MinDBm = 0.0
	RU5102MaxDBm = 30.0
)

// ErrTxPower: the reader did not accept a transmit power command.
var ErrTxPower = errors.New("serialrdr: transmit power not accepted")

// CheckTxPower reports whether protocol can set dBm; the error names the
// range and the step.
func CheckTxPower(protocol string, dBm float64) error {
	switch protocol {
	case ProtocolM100:
		if math.IsNaN(dBm) || dBm < M100MinDBm || dBm > M100MaxDBm {
			return fmt.Errorf("tx_power_dbm %v is outside the M100's %v to %v dBm", dBm, M100MinDBm, M100MaxDBm)
		}
	case ProtocolRU5102:
		if math.IsNaN(dBm) || dBm < RU5102MinDBm || dBm > RU5102MaxDBm || dBm != math.Trunc(dBm) {
			return fmt.Errorf("tx_power_dbm %v: the RU5102 takes whole dBm from %v to %v", dBm, RU5102MinDBm, RU5102MaxDBm)
		}
	default:
		return fmt.Errorf("tx_power_dbm: %s readers have no power command; set the power on the reader itself and remove tx_power_dbm", protocol)
	}
	return nil
}

// AppendM100SetPower appends the set-power command for dBm (0.01 dB
// resolution): e.g. 20 dBm is BB 00 B6 00 02 07 D0 8F 7E.
func AppendM100SetPower(dst []byte, dBm float64) []byte {
	v := uint16(math.Round(dBm * 100))
	return AppendM100(dst, M100TypeCommand, M100CmdSetPower, []byte{byte(v >> 8), byte(v)})
}

// M100Power decodes a set-power command's parameters into dBm.
func M100Power(f M100Frame) (float64, error) {
	if f.Cmd != M100CmdSetPower || len(f.Params) != 2 {
		return 0, fmt.Errorf("%w: M100 frame cmd %#02x with %d parameter bytes is not a set-power command", rfid.ErrFraming, f.Cmd, len(f.Params))
	}
	return float64(uint16(f.Params[0])<<8|uint16(f.Params[1])) / 100, nil
}

// RU5102Power decodes a set-power command's data into dBm.
func RU5102Power(f RU5102Frame) (float64, error) {
	if f.Cmd != RU5102CmdSetPower || len(f.Data) != 1 {
		return 0, fmt.Errorf("%w: RU5102 frame cmd %#02x with %d data bytes is not a set-power command", rfid.ErrFraming, f.Cmd, len(f.Data))
	}
	return float64(f.Data[0]), nil
}

// AppendRU5102SetPower appends the set-power command for whole dBm at
// address addr: e.g. 20 dBm at address 0 is 05 00 2F 14 CRClo CRChi.
func AppendRU5102SetPower(dst []byte, addr byte, dBm float64) []byte {
	return AppendRU5102(dst, addr, RU5102CmdSetPower, []byte{byte(dBm)})
}

// checkPowerReply checks the reply to a set-power command.
func checkPowerReply(protocol string, m100 M100Frame, ru RU5102Frame, dBm float64) error {
	switch protocol {
	case ProtocolM100:
		switch {
		case m100.Type == M100TypeResponse && m100.Cmd == M100CmdSetPower && len(m100.Params) == 1 && m100.Params[0] == 0:
			return nil
		case m100.Type == M100TypeResponse && m100.Cmd == M100CmdError && len(m100.Params) > 0:
			return fmt.Errorf("%w: M100 answered %.2f dBm with error code %#02x; check the value against the module's range", ErrTxPower, dBm, m100.Params[0])
		}
		return fmt.Errorf("%w: M100 answered %.2f dBm with frame type %#02x cmd %#02x % X", ErrTxPower, dBm, m100.Type, m100.Cmd, m100.Params)
	default:
		if ru.Cmd == RU5102CmdSetPower && len(ru.Data) >= 1 && ru.Data[0] == 0 {
			return nil
		}
		st := -1
		if len(ru.Data) > 0 {
			st = int(ru.Data[0])
		}
		return fmt.Errorf("%w: RU5102 answered %v dBm (command %#02x) with status %#02x; check the value is whole dBm 0 to 30 and the reader address", ErrTxPower, dBm, ru.Cmd, st)
	}
}

// setPower sends the power command on port and waits for its reply,
// reading one byte at a time so that nothing after the reply is consumed.
// Frames before the reply that are not about power (a late tag notice or
// no-tag answer) are skipped.
func setPower(port io.ReadWriter, protocol string, addr byte, dBm float64) error {
	var cmd []byte
	if protocol == ProtocolM100 {
		cmd = AppendM100SetPower(nil, dBm)
	} else {
		cmd = AppendRU5102SetPower(nil, addr, dBm)
	}
	if _, err := port.Write(cmd); err != nil {
		return fmt.Errorf("serialrdr: write set-power command: %w", err)
	}
	src := byteReader{port}
	if protocol == ProtocolM100 {
		d := NewM100Decoder(src)
		for {
			f, err := d.Next()
			if err != nil {
				return fmt.Errorf("serialrdr: waiting for the set-power reply: %w", err)
			}
			noTag := f.Cmd == M100CmdError && len(f.Params) == 1 && f.Params[0] == M100ErrNoTag // a late inventory answer
			if f.Type == M100TypeResponse && (f.Cmd == M100CmdSetPower || f.Cmd == M100CmdError) && !noTag {
				return refused(checkPowerReply(protocol, f, RU5102Frame{}, dBm))
			}
		}
	}
	d := NewRU5102Decoder(src)
	for {
		f, err := d.Next()
		if err != nil {
			return fmt.Errorf("serialrdr: waiting for the set-power reply: %w", err)
		}
		if f.Cmd == RU5102CmdSetPower {
			return refused(checkPowerReply(protocol, M100Frame{}, f, dBm))
		}
	}
}

// powerRefused is a set-power command the reader answered with an error:
// the link works, the reader keeps its own power.
type powerRefused struct{ err error }

func (e powerRefused) Error() string { return e.err.Error() }
func (e powerRefused) Unwrap() error { return e.err }

func refused(err error) error {
	if err == nil {
		return nil
	}
	return powerRefused{err}
}

// byteReader reads at most one byte per call.
type byteReader struct{ r io.Reader }

func (b byteReader) Read(p []byte) (int, error) {
	if len(p) > 1 {
		p = p[:1]
	}
	return b.r.Read(p)
}
