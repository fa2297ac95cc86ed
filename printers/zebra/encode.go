package zebra

import "fmt"

// AppendHS appends h as a printer sends it: three STX … ETX CR LF strings
// with fixed-width fields. The simulator answers ~HS with it.
func AppendHS(b []byte, h HostStatus) []byte {
	mode := h.PrintMode
	if len(mode) != 1 {
		mode = "0"
	}
	b = fmt.Appendf(b, "\x02%03d,%d,%d,%04d,%03d,%d,%d,%d,%03d,%d,%d,%d\x03\r\n",
		h.CommSettings, h.PaperOut, h.Paused, h.LabelLength, h.FormatsInBuffer, h.BufferFull,
		h.CommDiagMode, h.PartialFormat, h.Unused1, h.CorruptRAM, h.UnderTemp, h.OverTemp)
	b = fmt.Appendf(b, "\x02%03d,%d,%d,%d,%d,%s,%d,%d,%08d,%d,%03d\x03\r\n",
		h.FunctionSettings, h.Unused2, h.HeadUp, h.RibbonOut, h.ThermalTransfer, mode,
		h.PrintWidthMode, h.LabelWaiting, h.LabelsRemaining, h.FormatWhilePrinting, h.GraphicsStored)
	return fmt.Appendf(b, "\x02%04d,%d\x03\r\n", h.Password, h.StaticRAM)
}

// AppendHQES appends x as a printer sends it.
func AppendHQES(b []byte, x ExtendedStatus) []byte {
	return fmt.Appendf(b, "\x02\r\n  PRINTER STATUS                            \r\n"+
		"   ERRORS:         %d %08X %08X      \r\n"+
		"   WARNINGS:       %d %08X %08X      \r\n\x03\r\n",
		x.ErrorFlag, uint32(x.Errors>>32), uint32(x.Errors),
		x.WarningFlag, uint32(x.Warnings>>32), uint32(x.Warnings))
}
