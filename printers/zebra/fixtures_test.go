package zebra

// fixture is one status reply: raw bytes as a printer sends them and what
// they decode to. Every field has a distinct non-zero value within its
// string so a field read from the wrong position shows.
type fixture struct {
	desc string
	raw  string
	hs   *HostStatus
	hqes *ExtendedStatus
	err  bool
}

var distinctHS = HostStatus{
	CommSettings: 179, PaperOut: 1, Paused: 2, LabelLength: 1234, FormatsInBuffer: 56,
	BufferFull: 3, CommDiagMode: 4, PartialFormat: 5, Unused1: 99, CorruptRAM: 6,
	UnderTemp: 7, OverTemp: 8,
	FunctionSettings: 137, Unused2: 1, HeadUp: 2, RibbonOut: 3, ThermalTransfer: 4,
	PrintMode: "5", PrintWidthMode: 6, LabelWaiting: 7, LabelsRemaining: 12345,
	FormatWhilePrinting: 8, GraphicsStored: 42,
	Password: 1357, StaticRAM: 9,
}

var fixtures = []fixture{
	{
		desc: "~HS every field distinct",
		raw: "\x02179,1,2,1234,056,3,4,5,099,6,7,8\x03\r\n" +
			"\x02137,1,2,3,4,5,6,7,00012345,8,042\x03\r\n" +
			"\x021357,9\x03\r\n",
		hs: &distinctHS,
	},
	{
		desc: "~HS idle printer",
		raw: "\x02030,0,0,1218,000,0,0,0,000,0,0,0\x03\r\n" +
			"\x02001,0,0,0,1,2,4,0,00000000,1,000\x03\r\n" +
			"\x021234,0\x03\r\n",
		hs: &HostStatus{CommSettings: 30, LabelLength: 1218, FunctionSettings: 1, ThermalTransfer: 1,
			PrintMode: "2", PrintWidthMode: 4, FormatWhilePrinting: 1, Password: 1234},
	},
	{
		desc: "~HS with noise between frames and a letter print mode",
		raw: "junk\r\n\x02030,1,1,1218,002,0,0,1,000,0,0,0\x03\r\nxx" +
			"\x02001,0,1,1,1,K,4,1,00000007,1,003\x03\r\n" +
			"\x020000,1\x03\r\n",
		hs: &HostStatus{CommSettings: 30, PaperOut: 1, Paused: 1, LabelLength: 1218, FormatsInBuffer: 2,
			PartialFormat: 1, FunctionSettings: 1, HeadUp: 1, RibbonOut: 1, ThermalTransfer: 1,
			PrintMode: "K", PrintWidthMode: 4, LabelWaiting: 1, LabelsRemaining: 7, FormatWhilePrinting: 1,
			GraphicsStored: 3, StaticRAM: 1},
	},
	{
		desc: "~HQES every group distinct",
		raw: "\x02\r\n  PRINTER STATUS                            \r\n" +
			"   ERRORS:         1 00000012 000000F5      \r\n" +
			"   WARNINGS:       2 00000034 0000000B      \r\n\x03\r\n",
		hqes: &ExtendedStatus{ErrorFlag: 1, Errors: 0x12<<32 | 0xF5, WarningFlag: 2, Warnings: 0x34<<32 | 0x0B},
	},
	{
		desc: "~HQES no errors",
		raw: "\x02\r\n  PRINTER STATUS\r\n   ERRORS:         0 00000000 00000000\r\n" +
			"   WARNINGS:       0 00000000 00000000\r\n\x03\r\n",
		hqes: &ExtendedStatus{},
	},
	{desc: "~HS string 1 short a field", raw: "\x02030,0,0,1218,000,0,0,0,000,0,0\x03\r\n", err: true},
	{desc: "~HS string 1 letter in a number", raw: "\x02030,0,0,12x8,000,0,0,0,000,0,0,0\x03\r\n\x02001,0,0,0,1,2,4,0,00000000,1,000\x03\x021234,0\x03", err: true},
	{desc: "~HS string 2 without string 1", raw: "\x02001,0,0,0,1,2,4,0,00000000,1,000\x03\r\n\x021234,0\x03\r\n", err: true},
	{desc: "~HS labels remaining too wide", raw: "\x02030,0,0,1218,000,0,0,0,000,0,0,0\x03\x02001,0,0,0,1,2,4,0,123456789,1,000\x03\x021234,0\x03", err: true},
	{desc: "~HQES group not hex", raw: "\x02PRINTER STATUS\r\nERRORS: 1 0000000G 00000000\r\nWARNINGS: 0 00000000 00000000\r\n\x03", err: true},
	{desc: "~HQES missing warnings", raw: "\x02PRINTER STATUS\r\nERRORS: 1 00000000 00000001\r\n\x03", err: true},
	{desc: "unterminated frame", raw: "\x02030,0,0,1218", err: true},
}
