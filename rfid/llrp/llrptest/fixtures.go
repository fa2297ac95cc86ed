// Package llrptest holds the shared table of LLRP protocol fixtures: raw
// bytes as a reader or client sends them, what they decode to, or the error
// they must give. The codec tests, the session tests, the simulator tests
// and the fuzz seeds all use it.
package llrptest

import (
	"encoding/hex"
	"strings"
	"time"

	"github.com/dockgate/dockgate/rfid"
	"github.com/dockgate/dockgate/rfid/llrp"
)

// Fixture is one message.
type Fixture struct {
	Desc string
	Raw  []byte
	// Decoded is the typed value of the body: []rfid.Read for
	// RO_ACCESS_REPORT (reader-side fields only), llrp.EventData,
	// llrp.ReaderConfig (SET_READER_CONFIG and GET_READER_CONFIG_RESPONSE),
	// llrp.GetReaderConfig, llrp.ROSpec, llrp.Status (for the other
	// responses and ERROR_MESSAGE), nil for messages without body.
	Decoded any
	// Err is the sentinel the decode must wrap (errors.Is), nil if it decodes.
	Err error
	// Framing marks errors raised by the frame decoder itself (the
	// connection is dropped); other errors reject the message only.
	Framing bool
	// Encode marks fixtures whose Raw the package's Append function must
	// reproduce byte for byte from Decoded.
	Encode bool
}

// Hex turns "04 3D 00…" (spaces, newlines allowed) into bytes.
func Hex(s string) []byte {
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		panic(err)
	}
	return b
}

// FirstSeen is the first-seen timestamp used in the report fixtures.
var FirstSeen = time.UnixMicro(1764000000000000)

// Fixtures is the table.
var Fixtures = []Fixture{
	{Desc: "KEEPALIVE", Raw: Hex("043E 0000000A 00000007"), Encode: true},
	{Desc: "KEEPALIVE_ACK echoes the id", Raw: Hex("0448 0000000A 00000007"), Encode: true},
	{Desc: "CLOSE_CONNECTION", Raw: Hex("040E 0000000A 00000003"), Encode: true},
	{
		Desc: "RO_ACCESS_REPORT with EPC-96, antenna, RSSI, first seen, count",
		Raw: Hex(`043d 0000002c 00000011
			00f0 0022 8d 3074257bf7194e4000001a85 81 0001 86 d0 82 0006445941624000 88 0003`),
		Decoded: []rfid.Read{{EPC: rfid.MustParseEPC("3074257BF7194E4000001A85"), Antenna: 1, RSSI: -48, HasRSSI: true,
			ReaderTime: FirstSeen, SeenCount: 3}},
		Encode: true,
	},
	{
		Desc: "RO_ACCESS_REPORT with EPCData (SGTIN-198), parameters out of order, custom parameters skipped",
		Raw: Hex(`043d 00000051 00000012
			00f0 0039 86 c4 81 0002
			03ff 000e 0000651a 00000001 0102
			00f1 001f 00c6 3614257bf7194e5b3264cb96000000000000000000000000 00
			8c 3000
			03ff 000e 0000651a 00000001 0102`),
		Decoded: []rfid.Read{{EPC: mustEPC("3614257bf7194e5b3264cb9600000000000000000000000000", 198), Antenna: 2,
			RSSI: -60, HasRSSI: true, PC: 0x3000}},
	},
	{Desc: "empty RO_ACCESS_REPORT (10 bytes) has no reads", Raw: Hex("043d 0000000a 00000016"), Decoded: []rfid.Read{}, Encode: true},
	{
		Desc: "unknown TV parameter rejects the message",
		Raw:  Hex("043d 0000001e 00000013 00f0 0014 8d 3074257bf7194e4000001a85 e3 0000"),
		Err:  llrp.ErrMalformed,
	},
	{
		Desc: "TLV length beyond the message rejects the message",
		Raw:  Hex("043d 0000001b 00000014 00f0 00c8 8d 3074257bf7194e4000001a85"),
		Err:  llrp.ErrMalformed,
	},
	{Desc: "tag report without EPC", Raw: Hex("043d 00000011 00000015 00f0 0007 81 0001"), Err: llrp.ErrMalformed},
	{Desc: "message length below the header size", Raw: Hex("043d 00000005 00000001"), Err: rfid.ErrFraming, Framing: true},
	{Desc: "unknown protocol version", Raw: Hex("1c3d 0000000a 00000001"), Err: rfid.ErrFraming, Framing: true},
	{Desc: "message longer than the cap", Raw: Hex("043d 7fffffff 00000001"), Err: rfid.ErrTooLarge, Framing: true},
	{
		Desc:    "READER_EVENT_NOTIFICATION: connection attempt succeeded",
		Raw:     Hex("043f 00000020 00000000 00f6 0016 0080 000c 0006445941624000 0100 0006 0000"),
		Decoded: llrp.EventData{Timestamp: 1764000000000000, HasConnectionAttempt: true, ConnectionAttempt: llrp.ConnSuccess},
		Encode:  true,
	},
	{
		Desc:    "READER_EVENT_NOTIFICATION: a client-initiated connection already exists",
		Raw:     Hex("043f 00000020 00000000 00f6 0016 0080 000c 0006445941624000 0100 0006 0002"),
		Decoded: llrp.EventData{Timestamp: 1764000000000000, HasConnectionAttempt: true, ConnectionAttempt: llrp.ConnClientInitiatedExists},
		Encode:  true,
	},
	{
		Desc: "READER_EVENT_NOTIFICATION: uptime, antenna 3 lost, buffer 75%, custom, exception",
		Raw: Hex(`043f 00000042 00000009 00f6 0038 0081 000c 000000000000002a
			00ff 0007 00 0003 00fa 0005 4b 03ff 000e 0000651a 00000001 0102
			00fc 000e 0008 6f76657268656174`),
		Decoded: llrp.EventData{Timestamp: 42, Uptime: true, Antennas: []llrp.AntennaEvent{{Antenna: 3}},
			BufferWarning: true, BufferLevel: 75, Exception: true, ExceptionMessage: "overheat"},
	},
	{
		Desc: "SET_READER_CONFIG: antenna events, keepalive 5 s, hold events on reconnect",
		Raw: Hex(`0403 00000024 00000001 00 00f4 000b 00f5 0007 0008 80
			00dc 0009 01 00001388 00e2 0005 80`),
		Decoded: llrp.ReaderConfig{Events: []llrp.EventNotification{{Type: llrp.EventAntenna, On: true}},
			KeepaliveMS: 5000, SetHold: true, HoldEvents: true},
		Encode: true,
	},
	{
		Desc: "ADD_ROSPEC: antennas 1 and 2, report every tag",
		Raw: Hex(`0414 0000004d 00000002 00b1 0043 00000001 00 00
			00b2 0012 00b3 0005 00 00b6 0009 00 00000000
			00b7 001a 0002 0001 0002 00b8 0009 00 00000000 00ba 0007 0001 01
			00ed 000d 01 0001 00ee 0006 1780`),
		Decoded: llrp.ROSpec{ID: 1, Antennas: []uint16{1, 2}, InventorySpec: 1, ReportTrigger: llrp.ReportEveryNOrAISpecEnd,
			ReportN: 1, ReportSelector: 0x1780},
		Encode: true,
	},
	{
		Desc: "ADD_ROSPEC: antenna 1 at power index 61, session 2, tag population 32",
		Raw: Hex(`0414 0000006d 00000002 00b1 0063 00000001 00 00
			00b2 0012 00b3 0005 00 00b6 0009 00 00000000
			00b7 003a 0002 0001 0002 00b8 0009 00 00000000 00ba 0027 0001 01
			00de 0020 0001 00e0 000a 0001 0001 003d 014a 0010 00 0150 000b 80 0020 00000000
			00ed 000d 01 0001 00ee 0006 1780`),
		Decoded: llrp.ROSpec{ID: 1, Antennas: []uint16{1, 2}, InventorySpec: 1, ReportTrigger: llrp.ReportEveryNOrAISpecEnd,
			ReportN: 1, ReportSelector: 0x1780, AntennaConfigs: []llrp.AntennaConfig{{AntennaID: 1,
				Transmitter: &llrp.Transmitter{HopTableID: 1, ChannelIndex: 1, Power: 61},
				Inventory:   &llrp.InventoryCommand{Singulation: &llrp.Singulation{Session: 2, TagPopulation: 32}}}}},
		Encode: true,
	},
	{
		Desc:    "SET_READER_CONFIG: GPO 1 high",
		Raw:     Hex("0403 00000012 00000009 00 00db 0007 0001 80"),
		Decoded: llrp.ReaderConfig{GPOWrites: []llrp.GPOWrite{{Port: 1, High: true}}},
		Encode:  true,
	},
	{
		Desc:    "SET_READER_CONFIG: GPO 3 low",
		Raw:     Hex("0403 00000012 0000000b 00 00db 0007 0003 00"),
		Decoded: llrp.ReaderConfig{GPOWrites: []llrp.GPOWrite{{Port: 3}}},
		Encode:  true,
	},
	{
		Desc: "SET_READER_CONFIG: GPI events on, GPI 1 enabled",
		Raw:  Hex("0403 0000001e 0000000a 00 00f4 000b 00f5 0007 0001 80 00e1 0008 0001 80 00"),
		Decoded: llrp.ReaderConfig{Events: []llrp.EventNotification{{Type: llrp.EventGPI, On: true}},
			GPIPorts: []llrp.GPIPort{{Port: 1, Enabled: true}}},
		Encode: true,
	},
	{
		Desc:    "READER_EVENT_NOTIFICATION: GPI 1 went high",
		Raw:     Hex("043f 00000021 00000000 00f6 0017 0080 000c 0006445941624000 00f8 0007 0001 80"),
		Decoded: llrp.EventData{Timestamp: 1764000000000000, GPIs: []llrp.GPIEvent{{Port: 1, High: true}}},
		Encode:  true,
	},
	{
		Desc: "READER_EVENT_NOTIFICATION: GPI 2 low beside custom parameters",
		Raw: Hex(`043f 0000003c 00000000 00f6 0032 0080 000c 0006445941624000
			03ff 000e 0000651a 00000001 0102 00f8 0007 0002 00 03ff 000d 000000a1 00000005 01`),
		Decoded: llrp.EventData{Timestamp: 1764000000000000, GPIs: []llrp.GPIEvent{{Port: 2}}},
	},
	{
		Desc: "ADD_ROSPEC: start on GPI 1 high, stop on GPI 1 low or after 5 s",
		Raw: Hex(`0414 00000063 00000002 00b1 0059 00000001 00 00
			00b2 0028 00b3 0010 03 00b5 000b 0001 80 00000000 00b6 0014 02 00000000 00b5 000b 0001 00 00001388
			00b7 001a 0002 0001 0002 00b8 0009 00 00000000 00ba 0007 0001 01
			00ed 000d 01 0001 00ee 0006 1780`),
		Decoded: llrp.ROSpec{ID: 1, StartTrigger: llrp.StartTriggerGPI, StartGPI: &llrp.GPITrigger{Port: 1, High: true},
			StopTrigger: llrp.StopTriggerGPI, StopGPI: &llrp.GPITrigger{Port: 1, TimeoutMS: 5000},
			Antennas: []uint16{1, 2}, InventorySpec: 1, ReportTrigger: llrp.ReportEveryNOrAISpecEnd,
			ReportN: 1, ReportSelector: 0x1780},
		Encode: true,
	},
	{
		Desc: "ADD_ROSPEC: start every 10 s, stop after 2 s",
		Raw: Hex(`0414 00000059 00000002 00b1 004f 00000001 00 00
			00b2 001e 00b3 0011 02 00b4 000c 00000000 00002710 00b6 0009 01 000007d0
			00b7 001a 0002 0001 0002 00b8 0009 00 00000000 00ba 0007 0001 01
			00ed 000d 01 0001 00ee 0006 1780`),
		Decoded: llrp.ROSpec{ID: 1, StartTrigger: llrp.StartTriggerPeriodic, StartPeriodic: &llrp.PeriodicTrigger{PeriodMS: 10000},
			StopTrigger: llrp.StopTriggerDuration, StopMS: 2000,
			Antennas: []uint16{1, 2}, InventorySpec: 1, ReportTrigger: llrp.ReportEveryNOrAISpecEnd,
			ReportN: 1, ReportSelector: 0x1780},
		Encode: true,
	},
	{
		Desc: "ADD_ROSPEC: immediate start, custom parameter in the start trigger skipped",
		Raw: Hex(`0414 0000005a 00000002 00b1 0050 00000001 00 00
			00b2 001f 00b3 0012 01 03ff 000d 000000a1 00000005 01 00b6 0009 00 00000000
			00b7 001a 0002 0001 0002 00b8 0009 00 00000000 00ba 0007 0001 01
			00ed 000d 01 0001 00ee 0006 1780`),
		Decoded: llrp.ROSpec{ID: 1, StartTrigger: llrp.StartTriggerImmediate,
			Antennas: []uint16{1, 2}, InventorySpec: 1, ReportTrigger: llrp.ReportEveryNOrAISpecEnd,
			ReportN: 1, ReportSelector: 0x1780},
	},
	{
		Desc: "ADD_ROSPEC: GPI trigger value cut short",
		Raw: Hex(`0414 0000004f 00000002 00b1 0045 00000001 00 00
			00b2 0014 00b3 0007 03 00 01 00b6 0009 00 00000000
			00b7 001a 0002 0001 0002 00b8 0009 00 00000000 00ba 0007 0001 01
			00ed 000d 01 0001 00ee 0006 1780`),
		Err: llrp.ErrMalformed,
	},
	{
		Desc:    "GET_READER_CONFIG: current state of every GPI port",
		Raw:     Hex("0402 00000011 0000000c 0000 09 0000 0000"),
		Decoded: llrp.GetReaderConfig{RequestedData: llrp.ConfigGPIPortCurrentState},
		Encode:  true,
	},
	{
		Desc: "GET_READER_CONFIG_RESPONSE: GPI 1 high, GPI 2 low, GPI 3 disabled and unknown",
		Raw: Hex(`040c 0000002a 0000000c 011f 0008 0000 0000
			00e1 0008 0001 80 01 00e1 0008 0002 80 00 00e1 0008 0003 00 02`),
		Decoded: llrp.ReaderConfig{GPIPorts: []llrp.GPIPort{
			{Port: 1, Enabled: true, State: llrp.GPIStateHigh},
			{Port: 2, Enabled: true, State: llrp.GPIStateLow},
			{Port: 3, State: llrp.GPIStateUnknown}}},
		Encode: true,
	},
	{
		Desc: "GET_READER_CONFIG_RESPONSE: reserved bits set, custom parameter skipped, GPOWriteData",
		Raw: Hex(`040c 0000002e 0000000d 011f 0008 0000 0000
			00e1 0008 0001 ff 01 03ff 000d 0000651a 00000005 01 00db 0007 0001 80`),
		Decoded: llrp.ReaderConfig{GPIPorts: []llrp.GPIPort{{Port: 1, Enabled: true, State: llrp.GPIStateHigh}},
			GPOWrites: []llrp.GPOWrite{{Port: 1, High: true}}},
	},
	{
		Desc: "GET_READER_CONFIG_RESPONSE: the reader refuses",
		Raw:  Hex("040c 00000018 0000000c 011f 000e 0065 0006 6e6f20475049"),
		Err:  rfid.ErrReaderStatus,
	},
	{
		Desc: "GET_READER_CONFIG_RESPONSE: GPIPortCurrentState cut short",
		Raw:  Hex("040c 00000018 0000000c 011f 0008 0000 0000 00e1 0006 0001"),
		Err:  llrp.ErrMalformed,
	},
	{
		Desc:    "ERROR_MESSAGE: unsupported message",
		Raw:     Hex("0464 0000001d 00000005 011f 0013 006d 000b 756e737570706f72746564"),
		Decoded: llrp.Status{Code: 109, Description: "unsupported"},
		Encode:  true,
	},
	{
		Desc:    "ADD_ROSPEC_RESPONSE with a parameter error",
		Raw:     Hex("041e 00000020 00000006 011f 0016 0065 0006 6e6f20524f53 0121 0008 00b1 0064"),
		Decoded: llrp.Status{Code: 101, Description: "no ROS", ParamType: 177, ParamError: 100},
		Encode:  true,
	},
}

func mustEPC(h string, bits int) rfid.EPC {
	e, err := rfid.NewEPC(Hex(h), bits)
	if err != nil {
		panic(err)
	}
	return e
}
