package llrp

import "encoding/binary"

// What GET_READER_CONFIG asks for: its RequestedData (LLRP 1.0.1
// §12.1.1; the values 1–8 and 11 name the other parts of the
// configuration).
const (
	ConfigAll                 uint8 = 0
	ConfigGPIPortCurrentState uint8 = 9
	ConfigGPOWriteData        uint8 = 10
)

// getReaderConfigLen is the size of a GET_READER_CONFIG body: u16
// AntennaID, u8 RequestedData, u16 GPIPortNum, u16 GPOPortNum.
const getReaderConfigLen = 7

// GetReaderConfig is a GET_READER_CONFIG request. RequestedData (Config*)
// names the part of the reader's configuration asked for; AntennaID,
// GPIPort and GPOPort narrow the antenna, input and output parts to one
// (0: all).
type GetReaderConfig struct {
	AntennaID     uint16
	RequestedData uint8
	GPIPort       uint16
	GPOPort       uint16
}

// AppendGetReaderConfig appends GET_READER_CONFIG asking for q.
func AppendGetReaderConfig(dst []byte, id uint32, q GetReaderConfig) []byte {
	dst = AppendHeader(dst, MsgGetReaderConfig, HeaderLen+getReaderConfigLen, id)
	dst = binary.BigEndian.AppendUint16(dst, q.AntennaID)
	dst = append(dst, q.RequestedData)
	dst = binary.BigEndian.AppendUint16(dst, q.GPIPort)
	return binary.BigEndian.AppendUint16(dst, q.GPOPort)
}

// ParseGetReaderConfig decodes a GET_READER_CONFIG body; custom parameters
// after the fields are skipped.
func ParseGetReaderConfig(body []byte) (GetReaderConfig, error) {
	r := reader{b: body, what: "GET_READER_CONFIG"}
	q := GetReaderConfig{AntennaID: r.u16(), RequestedData: r.u8(), GPIPort: r.u16(), GPOPort: r.u16()}
	return q, r.err
}

// AppendGetReaderConfigResponse appends GET_READER_CONFIG_RESPONSE carrying
// st and, when st is a success, the parts of c a reader reports, in the
// order of LLRP 1.0.1 §12.1.2: ReaderEventNotificationSpec, KeepaliveSpec,
// GPIPortCurrentState, GPOWriteData (the reverse of SET_READER_CONFIG's)
// and EventsAndReports.
func AppendGetReaderConfigResponse(dst []byte, id uint32, st Status, c ReaderConfig) []byte {
	w := builder{b: dst}
	m := w.beginMsg(MsgGetReaderConfigResponse, id)
	w.status(st)
	if st.Code == StatusSuccess {
		w.eventSpec(c.Events)
		w.keepaliveSpec(c.KeepaliveMS)
		w.gpiPorts(c.GPIPorts)
		w.gpoWrites(c.GPOWrites)
		w.eventsAndReports(c)
	}
	w.endMsg(m)
	return w.b
}

// ParseGetReaderConfigResponse decodes a GET_READER_CONFIG_RESPONSE body:
// a *StatusError when the reader refused the request; otherwise the
// configuration parts a portal uses (GPIPortCurrentState, GPOWriteData,
// ReaderEventNotificationSpec, KeepaliveSpec, EventsAndReports), in any
// order, the others skipped.
func ParseGetReaderConfigResponse(body []byte) (ReaderConfig, error) {
	if err := CheckResponse(MsgGetReaderConfig, body); err != nil {
		return ReaderConfig{}, err
	}
	var c ReaderConfig
	err := parseConfigParams(body, &c)
	return c, err
}
