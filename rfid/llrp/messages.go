package llrp

import (
	"encoding/binary"
	"fmt"

	"github.com/dockgate/dockgate/rfid"
)

// StatusSuccess is the LLRPStatus code for success (M_Success).
const StatusSuccess = 0

// Status is an LLRPStatus parameter.
type Status struct {
	Code        uint16
	Description string
	// FieldNum/FieldError come from a FieldError, ParamType/ParamError from a
	// ParameterError; zero when absent.
	FieldNum, FieldError  uint16
	ParamType, ParamError uint16
}

// StatusError is a reader's non-success answer to a request.
type StatusError struct {
	Request uint16 // request message type, or MsgErrorMessage
	Status
}

func (e *StatusError) Error() string {
	s := fmt.Sprintf("llrp: reader answered message type %d with status %d", e.Request, e.Code)
	if e.Description != "" {
		s += " (" + e.Description + ")"
	}
	if e.ParamType != 0 {
		s += fmt.Sprintf(", parameter %d error %d", e.ParamType, e.ParamError)
	}
	if e.FieldError != 0 {
		s += fmt.Sprintf(", field %d error %d", e.FieldNum, e.FieldError)
	}
	return s
}

// Unwrap returns rfid.ErrReaderStatus.
func (e *StatusError) Unwrap() error { return rfid.ErrReaderStatus }

// ParseStatus finds and decodes the LLRPStatus parameter in a response or
// ERROR_MESSAGE body.
func ParseStatus(body []byte) (Status, error) {
	p, ok, err := find(body, ParamLLRPStatus)
	if err != nil {
		return Status{}, err
	}
	if !ok {
		return Status{}, fmt.Errorf("%w: response without LLRPStatus", ErrMalformed)
	}
	r := reader{b: p.Value, what: "LLRPStatus"}
	st := Status{Code: r.u16(), Description: r.utf8()}
	if r.err != nil {
		return Status{}, r.err
	}
	it := NewParams(r.b)
	for q, ok := it.Next(); ok; q, ok = it.Next() {
		switch q.Type {
		case ParamFieldError:
			fr := reader{b: q.Value, what: "FieldError"}
			st.FieldNum, st.FieldError = fr.u16(), fr.u16()
		case ParamParameterError:
			pr := reader{b: q.Value, what: "ParameterError"}
			st.ParamType, st.ParamError = pr.u16(), pr.u16()
		}
	}
	return st, it.Err()
}

// CheckResponse returns nil for a success status, a *StatusError otherwise.
func CheckResponse(req uint16, body []byte) error {
	st, err := ParseStatus(body)
	if err != nil {
		return err
	}
	if st.Code != StatusSuccess {
		return &StatusError{Request: req, Status: st}
	}
	return nil
}

func (w *builder) status(st Status) {
	o := w.begin(ParamLLRPStatus)
	w.u16(st.Code)
	w.utf8(st.Description)
	if st.FieldError != 0 {
		f := w.begin(ParamFieldError)
		w.u16(st.FieldNum)
		w.u16(st.FieldError)
		w.end(f)
	}
	if st.ParamType != 0 {
		p := w.begin(ParamParameterError)
		w.u16(st.ParamType)
		w.u16(st.ParamError)
		w.end(p)
	}
	w.end(o)
}

// AppendResponse appends a response message of type typ carrying st (for
// every *_RESPONSE except capabilities, and for ERROR_MESSAGE).
func AppendResponse(dst []byte, typ uint16, id uint32, st Status) []byte {
	w := builder{b: dst}
	m := w.beginMsg(typ, id)
	w.status(st)
	w.endMsg(m)
	return w.b
}

// AppendEmpty appends a message without body: KEEPALIVE, KEEPALIVE_ACK,
// CLOSE_CONNECTION, ENABLE_EVENTS_AND_REPORTS, GET_SUPPORTED_VERSION.
func AppendEmpty(dst []byte, typ uint16, id uint32) []byte {
	return AppendHeader(dst, typ, HeaderLen, id)
}

// AppendU32 appends a message whose body is one u32 id: ENABLE, START,
// STOP, DISABLE and DELETE_ROSPEC; DELETE and ENABLE_ACCESSSPEC. Id 0 means
// all specs for DELETE.
func AppendU32(dst []byte, typ uint16, id uint32, v uint32) []byte {
	dst = AppendHeader(dst, typ, HeaderLen+4, id)
	return binary.BigEndian.AppendUint32(dst, v)
}

// ParseU32 decodes the body of a message built by AppendU32.
func ParseU32(body []byte) (uint32, error) {
	if len(body) < 4 {
		return 0, fmt.Errorf("%w: body needs a 4-byte spec id, has %d bytes", ErrMalformed, len(body))
	}
	return binary.BigEndian.Uint32(body), nil
}

// Capabilities requested by GET_READER_CAPABILITIES.
const (
	CapabilitiesAll     uint8 = 0
	CapabilitiesGeneral uint8 = 1
	CapabilitiesLLRP    uint8 = 2
	CapabilitiesRegul   uint8 = 3
	CapabilitiesAir     uint8 = 4
)

// AppendGetCapabilities appends GET_READER_CAPABILITIES.
func AppendGetCapabilities(dst []byte, id uint32, what uint8) []byte {
	return append(AppendHeader(dst, MsgGetReaderCapabilities, HeaderLen+1, id), what)
}

// Capabilities is what a portal needs from GET_READER_CAPABILITIES_RESPONSE
// (GeneralDeviceCapabilities).
type Capabilities struct {
	MaxAntennas             uint16
	CanSetAntennaProperties bool
	HasUTCClock             bool
	Manufacturer            uint32 // IANA private enterprise number (Impinj 25882)
	Model                   uint32
	Firmware                string
	// RF capabilities, filled when all capabilities are requested.
	Sensitivities []SensitivityLevel // ReceiveSensitivityTableEntry×n
	NumGPIs       uint16
	NumGPOs       uint16
	// StateAwareSingulation: LLRPCapabilities'
	// CanDoTagInventoryStateAwareSingulation.
	StateAwareSingulation bool
	CountryCode           uint16
	CommsStandard         uint16
	PowerTable            []PowerLevel // TransmitPowerLevelTableEntry×n
	Hopping               bool
	HopTableIDs           []uint8
	// HopTables are the FrequencyHopTables with their frequencies; when
	// set they are written instead of HopTableIDs (which get one
	// placeholder frequency each).
	HopTables []HopTable
	RFModes   []RFMode // UHFC1G2RFModeTable
	// Extra is appended as is after the parameters (a simulator's custom
	// parameters); parsing skips what it does not know.
	Extra []byte
}

// AppendCapabilitiesResponse appends GET_READER_CAPABILITIES_RESPONSE.
func AppendCapabilitiesResponse(dst []byte, id uint32, st Status, c Capabilities) []byte {
	w := builder{b: dst}
	m := w.beginMsg(MsgGetReaderCapabilitiesResponse, id)
	w.status(st)
	if st.Code == StatusSuccess {
		o := w.begin(ParamGeneralDeviceCapabilities)
		w.u16(c.MaxAntennas)
		var f uint16
		if c.CanSetAntennaProperties {
			f |= 1 << 15
		}
		if c.HasUTCClock {
			f |= 1 << 14
		}
		w.u16(f)
		w.u32(c.Manufacturer)
		w.u32(c.Model)
		w.utf8(c.Firmware)
		w.capsGeneralRF(c)
		w.end(o)
		w.capsRF(c)
		w.b = append(w.b, c.Extra...)
	}
	w.endMsg(m)
	return w.b
}

// ParseCapabilities decodes a GET_READER_CAPABILITIES_RESPONSE body.
func ParseCapabilities(body []byte) (Capabilities, error) {
	if err := CheckResponse(MsgGetReaderCapabilities, body); err != nil {
		return Capabilities{}, err
	}
	p, ok, err := find(body, ParamGeneralDeviceCapabilities)
	if err != nil || !ok {
		return Capabilities{}, err
	}
	r := reader{b: p.Value, what: "GeneralDeviceCapabilities"}
	c := Capabilities{MaxAntennas: r.u16()}
	f := r.u16()
	c.CanSetAntennaProperties, c.HasUTCClock = f&(1<<15) != 0, f&(1<<14) != 0
	c.Manufacturer, c.Model = r.u32(), r.u32()
	c.Firmware = r.utf8()
	if r.err != nil {
		return c, r.err
	}
	if err := c.parseRF(r.b, body); err != nil {
		return c, err
	}
	return c, nil
}

// Event notification types for ReaderEventNotificationSpec.
const (
	EventHopping              uint16 = 0
	EventGPI                  uint16 = 1
	EventROSpec               uint16 = 2
	EventReportBufferWarning  uint16 = 3
	EventReaderException      uint16 = 4
	EventRFSurvey             uint16 = 5
	EventAISpec               uint16 = 6
	EventAISpecWithDetails    uint16 = 7
	EventAntenna              uint16 = 8
	KeepaliveTriggerNull      uint8  = 0
	KeepaliveTriggerPeriodic  uint8  = 1
	factoryResetBit           uint8  = 0x80
	holdEventsAndReportsBit   uint8  = 0x80
	notificationStateEnabled  uint8  = 0x80
	accessSpecStateEnabledBit uint8  = 0x80
)

// EventNotification turns one reader event type on or off.
type EventNotification struct {
	Type uint16
	On   bool
}

// ReaderConfig is the part of SET_READER_CONFIG a portal sets.
type ReaderConfig struct {
	ResetToFactoryDefault bool
	Events                []EventNotification // sent when non-empty
	// KeepaliveMS > 0 asks for periodic KEEPALIVE messages every KeepaliveMS
	// milliseconds; 0 leaves the reader's setting alone.
	KeepaliveMS uint32
	// SetHold sends EventsAndReports with HoldEvents: reports and events
	// are held after a reconnect until ENABLE_EVENTS_AND_REPORTS.
	SetHold    bool
	HoldEvents bool
	// GPOWrites set outputs; GPIPorts enable (or disable) inputs.
	GPOWrites []GPOWrite
	GPIPorts  []GPIPort
}

// AppendSetReaderConfig appends SET_READER_CONFIG.
func AppendSetReaderConfig(dst []byte, id uint32, c ReaderConfig) []byte {
	w := builder{b: dst}
	m := w.beginMsg(MsgSetReaderConfig, id)
	var f uint8
	if c.ResetToFactoryDefault {
		f = factoryResetBit
	}
	w.u8(f)
	w.eventSpec(c.Events)
	w.keepaliveSpec(c.KeepaliveMS)
	// SET_READER_CONFIG lists GPOWriteData before GPIPortCurrentState.
	w.gpoWrites(c.GPOWrites)
	w.gpiPorts(c.GPIPorts)
	w.eventsAndReports(c)
	w.endMsg(m)
	return w.b
}

// eventSpec appends a ReaderEventNotificationSpec when es is not empty.
func (w *builder) eventSpec(es []EventNotification) {
	if len(es) == 0 {
		return
	}
	o := w.begin(ParamReaderEventNotificationSpec)
	for _, e := range es {
		s := w.begin(ParamEventNotificationState)
		w.u16(e.Type)
		var on uint8
		if e.On {
			on = notificationStateEnabled
		}
		w.u8(on)
		w.end(s)
	}
	w.end(o)
}

// keepaliveSpec appends a periodic KeepaliveSpec when ms > 0.
func (w *builder) keepaliveSpec(ms uint32) {
	if ms == 0 {
		return
	}
	o := w.begin(ParamKeepaliveSpec)
	w.u8(KeepaliveTriggerPeriodic)
	w.u32(ms)
	w.end(o)
}

// eventsAndReports appends EventsAndReports when c.SetHold.
func (w *builder) eventsAndReports(c ReaderConfig) {
	if !c.SetHold {
		return
	}
	o := w.begin(ParamEventsAndReports)
	var h uint8
	if c.HoldEvents {
		h = holdEventsAndReportsBit
	}
	w.u8(h)
	w.end(o)
}

// ParseReaderConfig decodes a SET_READER_CONFIG body; parameters may come in
// any order and unknown ones are skipped.
func ParseReaderConfig(body []byte) (ReaderConfig, error) {
	if len(body) < 1 {
		return ReaderConfig{}, fmt.Errorf("%w: SET_READER_CONFIG without its flags byte", ErrMalformed)
	}
	c := ReaderConfig{ResetToFactoryDefault: body[0]&factoryResetBit != 0}
	err := parseConfigParams(body[1:], &c)
	return c, err
}

// parseConfigParams decodes the configuration parameters of a
// SET_READER_CONFIG or GET_READER_CONFIG_RESPONSE into c, in any order;
// other parameters (LLRPStatus, custom ones) are skipped.
func parseConfigParams(b []byte, c *ReaderConfig) error {
	it := NewParams(b)
	for p, ok := it.Next(); ok; p, ok = it.Next() {
		switch p.Type {
		case ParamReaderEventNotificationSpec:
			sub := NewParams(p.Value)
			for q, ok := sub.Next(); ok; q, ok = sub.Next() {
				if q.Type != ParamEventNotificationState {
					continue
				}
				r := reader{b: q.Value, what: "EventNotificationState"}
				e := EventNotification{Type: r.u16(), On: r.u8()&notificationStateEnabled != 0}
				if r.err != nil {
					return r.err
				}
				c.Events = append(c.Events, e)
			}
			if sub.Err() != nil {
				return sub.Err()
			}
		case ParamKeepaliveSpec:
			r := reader{b: p.Value, what: "KeepaliveSpec"}
			trig, ms := r.u8(), r.u32()
			if r.err != nil {
				return r.err
			}
			if trig == KeepaliveTriggerPeriodic {
				c.KeepaliveMS = ms
			}
		case ParamEventsAndReports:
			r := reader{b: p.Value, what: "EventsAndReports"}
			c.SetHold, c.HoldEvents = true, r.u8()&holdEventsAndReportsBit != 0
			if r.err != nil {
				return r.err
			}
		default:
			if _, err := parseGPIO(p, c); err != nil {
				return err
			}
		}
	}
	return it.Err()
}

// ROSpec trigger and report values.
const (
	StartTriggerNull        uint8  = 0
	StartTriggerImmediate   uint8  = 1
	StopTriggerNull         uint8  = 0
	StopTriggerDuration     uint8  = 1
	ProtocolC1G2            uint8  = 1
	ReportNone              uint8  = 0
	ReportEveryNOrAISpecEnd uint8  = 1
	ReportEveryNOrROSpecEnd uint8  = 2
	ROSpecStateDisabled     uint8  = 0
	SelectROSpecID          uint16 = 1 << 15
	SelectSpecIndex         uint16 = 1 << 14
	SelectInvParamSpecID    uint16 = 1 << 13
	SelectAntennaID         uint16 = 1 << 12
	SelectChannelIndex      uint16 = 1 << 11
	SelectPeakRSSI          uint16 = 1 << 10
	SelectFirstSeen         uint16 = 1 << 9
	SelectLastSeen          uint16 = 1 << 8
	SelectTagSeenCount      uint16 = 1 << 7
	SelectAccessSpecID      uint16 = 1 << 6
)

// ROSpec is a reader operation spec with one AISpec, the shape a portal uses:
// inventory on a set of antennas until stopped, reporting every N tags.
type ROSpec struct {
	ID           uint32
	Priority     uint8
	StartTrigger uint8 // StartTrigger*: Null waits for START_ROSPEC
	// StartPeriodic and StartGPI are the values of a periodic or GPI start
	// trigger (sent only with that type).
	StartPeriodic *PeriodicTrigger
	StartGPI      *GPITrigger
	StopTrigger   uint8       // StopTriggerNull, StopTriggerDuration or StopTriggerGPI
	StopMS        uint32      // duration for StopTriggerDuration
	StopGPI       *GPITrigger // GPI and timeout for StopTriggerGPI
	Antennas      []uint16
	// AIStopTrigger/AIStopMS end each AISpec; null keeps inventorying.
	AIStopTrigger  uint8
	AIStopMS       uint32
	InventorySpec  uint16 // InventoryParameterSpecID
	ReportTrigger  uint8
	ReportN        uint16
	ReportSelector uint16 // Select* bits
	// AntennaConfigs go in the InventoryParameterSpec: the RF settings;
	// none keeps the reader's own.
	AntennaConfigs []AntennaConfig
}

// AppendAddROSpec appends ADD_ROSPEC carrying s.
func AppendAddROSpec(dst []byte, id uint32, s ROSpec) []byte {
	w := builder{b: dst}
	m := w.beginMsg(MsgAddROSpec, id)
	o := w.begin(ParamROSpec)
	w.u32(s.ID)
	w.u8(s.Priority)
	w.u8(ROSpecStateDisabled)
	b := w.begin(ParamROBoundarySpec)
	w.startTrigger(s)
	w.stopTrigger(s)
	w.end(b)
	ai := w.begin(ParamAISpec)
	ants := s.Antennas
	if len(ants) == 0 {
		ants = []uint16{0}
	}
	w.u16(uint16(len(ants)))
	for _, a := range ants {
		w.u16(a)
	}
	at := w.begin(ParamAISpecStopTrigger)
	w.u8(s.AIStopTrigger)
	w.u32(s.AIStopMS)
	w.end(at)
	ip := w.begin(ParamInventoryParameterSpec)
	w.u16(s.InventorySpec)
	w.u8(ProtocolC1G2)
	for _, a := range s.AntennaConfigs {
		w.antennaConfig(a)
	}
	w.end(ip)
	w.end(ai)
	if s.ReportTrigger != ReportNone || s.ReportSelector != 0 {
		rs := w.begin(ParamROReportSpec)
		w.u8(s.ReportTrigger)
		w.u16(s.ReportN)
		cs := w.begin(ParamTagReportContentSelector)
		w.u16(s.ReportSelector)
		w.end(cs)
		w.end(rs)
	}
	w.end(o)
	w.endMsg(m)
	return w.b
}

// ParseAddROSpec decodes an ADD_ROSPEC body. Antenna 0 (all antennas) is
// returned as an empty list.
func ParseAddROSpec(body []byte) (ROSpec, error) {
	p, ok, err := find(body, ParamROSpec)
	if err != nil {
		return ROSpec{}, err
	}
	if !ok {
		return ROSpec{}, fmt.Errorf("%w: ADD_ROSPEC without an ROSpec parameter", ErrMalformed)
	}
	r := reader{b: p.Value, what: "ROSpec"}
	s := ROSpec{ID: r.u32(), Priority: r.u8()}
	r.u8()
	if r.err != nil {
		return s, r.err
	}
	it := NewParams(r.b)
	for q, ok := it.Next(); ok; q, ok = it.Next() {
		switch q.Type {
		case ParamROBoundarySpec:
			sub := NewParams(q.Value)
			for t, ok := sub.Next(); ok; t, ok = sub.Next() {
				var err error
				switch t.Type {
				case ParamROSpecStartTrigger:
					err = parseStartTrigger(t.Value, &s)
				case ParamROSpecStopTrigger:
					err = parseStopTrigger(t.Value, &s)
				}
				if err != nil {
					return s, err
				}
			}
			if sub.Err() != nil {
				return s, sub.Err()
			}
		case ParamAISpec:
			ar := reader{b: q.Value, what: "AISpec"}
			n := int(ar.u16())
			for range n {
				if a := ar.u16(); a != 0 {
					s.Antennas = append(s.Antennas, a)
				}
			}
			if ar.err != nil {
				return s, ar.err
			}
			sub := NewParams(ar.b)
			for t, ok := sub.Next(); ok; t, ok = sub.Next() {
				tr := reader{b: t.Value, what: "AISpec parameter"}
				switch t.Type {
				case ParamAISpecStopTrigger:
					s.AIStopTrigger, s.AIStopMS = tr.u8(), tr.u32()
				case ParamInventoryParameterSpec:
					s.InventorySpec = tr.u16()
					tr.u8()
					if tr.err == nil {
						acs, err := parseAntennaConfigs(tr.b)
						if err != nil {
							return s, err
						}
						s.AntennaConfigs = acs
					}
				}
				if tr.err != nil {
					return s, tr.err
				}
			}
			if sub.Err() != nil {
				return s, sub.Err()
			}
		case ParamROReportSpec:
			rr := reader{b: q.Value, what: "ROReportSpec"}
			s.ReportTrigger, s.ReportN = rr.u8(), rr.u16()
			if rr.err != nil {
				return s, rr.err
			}
			if c, ok, err := find(rr.b, ParamTagReportContentSelector); err != nil {
				return s, err
			} else if ok {
				cr := reader{b: c.Value, what: "TagReportContentSelector"}
				s.ReportSelector = cr.u16()
				if cr.err != nil {
					return s, cr.err
				}
			}
		}
	}
	return s, it.Err()
}

// Memory banks for C1G2 access.
const (
	BankReserved uint8 = 0
	BankEPC      uint8 = 1
	BankTID      uint8 = 2
	BankUser     uint8 = 3
)

// AccessSpec is an AccessSpec with one C1G2 target and one C1G2Write: the
// shape used to write EPCs on the dock.
type AccessSpec struct {
	ID        uint32
	AntennaID uint16 // 0 = all
	ROSpecID  uint32 // 0 = any
	Enabled   bool
	// OperationCount > 0 stops the spec after that many executions.
	OperationCount uint16
	// Target: tags whose bank TargetBank at bit TargetPointer matches
	// TargetData under TargetMask (both TargetBits long).
	TargetBank    uint8
	TargetPointer uint16
	TargetBits    uint16
	TargetMask    []byte
	TargetData    []byte
	// Write: Words written to WriteBank from word WordPointer.
	OpSpecID       uint16
	AccessPassword uint32
	WriteBank      uint8
	WordPointer    uint16
	Words          []uint16
}

// WriteEPCSpec builds an AccessSpec that rewrites the EPC of the tag whose
// EPC is target with newEPC, once. When the length changes, the PC word is
// rewritten too (EPC length in words in its top 5 bits). The spec is added
// disabled, as LLRP requires; ENABLE_ACCESSSPEC starts it.
func WriteEPCSpec(id, rospecID uint32, antenna uint16, target, newEPC rfid.EPC, password uint32) (AccessSpec, error) {
	if newEPC.BitLen()%16 != 0 || newEPC.IsZero() {
		return AccessSpec{}, fmt.Errorf("llrp: new EPC is %d bits; an EPC is written in whole 16-bit words", newEPC.BitLen())
	}
	tb := target.Bytes()
	mask := make([]byte, len(tb))
	for i := range mask {
		mask[i] = 0xFF
	}
	s := AccessSpec{
		ID: id, AntennaID: antenna, ROSpecID: rospecID, OperationCount: 1,
		TargetBank: BankEPC, TargetPointer: 32, TargetBits: uint16(target.BitLen()),
		TargetMask: mask, TargetData: append([]byte(nil), tb...),
		OpSpecID: 1, AccessPassword: password, WriteBank: BankEPC, WordPointer: 2,
	}
	nb := newEPC.Bytes()
	if newEPC.BitLen() != target.BitLen() {
		s.WordPointer = 1
		s.Words = append(s.Words, uint16(newEPC.BitLen()/16)<<11)
	}
	for i := 0; i+1 < len(nb); i += 2 {
		s.Words = append(s.Words, binary.BigEndian.Uint16(nb[i:]))
	}
	return s, nil
}

// AppendAddAccessSpec appends ADD_ACCESSSPEC carrying s.
func AppendAddAccessSpec(dst []byte, id uint32, s AccessSpec) []byte {
	w := builder{b: dst}
	m := w.beginMsg(MsgAddAccessSpec, id)
	o := w.begin(ParamAccessSpec)
	w.u32(s.ID)
	w.u16(s.AntennaID)
	w.u8(ProtocolC1G2)
	var st uint8
	if s.Enabled {
		st = accessSpecStateEnabledBit
	}
	w.u8(st)
	w.u32(s.ROSpecID)
	t := w.begin(ParamAccessSpecStopTrigger)
	if s.OperationCount > 0 {
		w.u8(1)
	} else {
		w.u8(0)
	}
	w.u16(s.OperationCount)
	w.end(t)
	c := w.begin(ParamAccessCommand)
	ts := w.begin(ParamC1G2TagSpec)
	tt := w.begin(ParamC1G2TargetTag)
	w.u8(s.TargetBank<<6 | 1<<5) // MB, Match = 1
	w.u16(s.TargetPointer)
	w.u16(s.TargetBits)
	w.b = append(w.b, s.TargetMask...)
	w.u16(s.TargetBits)
	w.b = append(w.b, s.TargetData...)
	w.end(tt)
	w.end(ts)
	wr := w.begin(ParamC1G2Write)
	w.u16(s.OpSpecID)
	w.u32(s.AccessPassword)
	w.u8(s.WriteBank << 6)
	w.u16(s.WordPointer)
	w.u16(uint16(len(s.Words)))
	for _, x := range s.Words {
		w.u16(x)
	}
	w.end(wr)
	w.end(c)
	w.end(o)
	w.endMsg(m)
	return w.b
}

// ParseAddAccessSpec decodes an ADD_ACCESSSPEC body built like
// AppendAddAccessSpec (first target tag, first write op).
func ParseAddAccessSpec(body []byte) (AccessSpec, error) {
	p, ok, err := find(body, ParamAccessSpec)
	if err != nil {
		return AccessSpec{}, err
	}
	if !ok {
		return AccessSpec{}, fmt.Errorf("%w: ADD_ACCESSSPEC without an AccessSpec parameter", ErrMalformed)
	}
	r := reader{b: p.Value, what: "AccessSpec"}
	s := AccessSpec{ID: r.u32(), AntennaID: r.u16()}
	r.u8()
	s.Enabled = r.u8()&accessSpecStateEnabledBit != 0
	s.ROSpecID = r.u32()
	if r.err != nil {
		return s, r.err
	}
	it := NewParams(r.b)
	for q, ok := it.Next(); ok; q, ok = it.Next() {
		switch q.Type {
		case ParamAccessSpecStopTrigger:
			tr := reader{b: q.Value, what: "AccessSpecStopTrigger"}
			typ, n := tr.u8(), tr.u16()
			if typ == 1 {
				s.OperationCount = n
			}
			if tr.err != nil {
				return s, tr.err
			}
		case ParamAccessCommand:
			sub := NewParams(q.Value)
			for c, ok := sub.Next(); ok; c, ok = sub.Next() {
				switch c.Type {
				case ParamC1G2TagSpec:
					t, ok, err := find(c.Value, ParamC1G2TargetTag)
					if err != nil {
						return s, err
					}
					if !ok {
						continue
					}
					tr := reader{b: t.Value, what: "C1G2TargetTag"}
					s.TargetBank = tr.u8() >> 6
					s.TargetPointer = tr.u16()
					s.TargetBits = tr.u16()
					s.TargetMask = append([]byte(nil), tr.bytes((int(s.TargetBits)+7)/8)...)
					tr.u16()
					s.TargetData = append([]byte(nil), tr.bytes((int(s.TargetBits)+7)/8)...)
					if tr.err != nil {
						return s, tr.err
					}
				case ParamC1G2Write:
					wr := reader{b: c.Value, what: "C1G2Write"}
					s.OpSpecID, s.AccessPassword = wr.u16(), wr.u32()
					s.WriteBank = wr.u8() >> 6
					s.WordPointer = wr.u16()
					n := int(wr.u16())
					for range n {
						s.Words = append(s.Words, wr.u16())
					}
					if wr.err != nil {
						return s, wr.err
					}
				}
			}
			if sub.Err() != nil {
				return s, sub.Err()
			}
		}
	}
	return s, it.Err()
}

// Connection attempt statuses in ConnectionAttemptEvent.
const (
	ConnSuccess                  uint16 = 0
	ConnReaderInitiatedExists    uint16 = 1
	ConnClientInitiatedExists    uint16 = 2
	ConnOtherFailure             uint16 = 3
	ConnAnotherConnectionAttempt uint16 = 4
)

// ConnectionStatusText explains a ConnectionAttemptEvent status.
func ConnectionStatusText(s uint16) string {
	switch s {
	case ConnSuccess:
		return "success"
	case ConnReaderInitiatedExists:
		return "a reader-initiated connection already exists"
	case ConnClientInitiatedExists:
		return "a client-initiated connection already exists (the reader accepts one controlling client)"
	case ConnOtherFailure:
		return "failed for another reason"
	case ConnAnotherConnectionAttempt:
		return "another connection was attempted"
	}
	return fmt.Sprintf("unknown status %d", s)
}

// AntennaEvent reports an antenna connected or disconnected.
type AntennaEvent struct {
	Connected bool
	Antenna   uint16
}

// ROSpecEvent reports an ROSpec started, ended or preempted.
type ROSpecEvent struct {
	Type     uint8 // 0 start, 1 end, 2 preempted
	ROSpecID uint32
}

// EventData is a ReaderEventNotificationData parameter.
type EventData struct {
	Timestamp uint64 // µs since the epoch, or since boot if Uptime
	Uptime    bool

	HasConnectionAttempt bool
	ConnectionAttempt    uint16 // Conn* status
	ConnectionClose      bool
	Antennas             []AntennaEvent
	GPIs                 []GPIEvent
	ROSpecs              []ROSpecEvent
	BufferWarning        bool
	BufferLevel          uint8 // percent full
	BufferOverflow       bool
	Exception            bool
	ExceptionMessage     string
}

// AppendReaderEvent appends READER_EVENT_NOTIFICATION.
func AppendReaderEvent(dst []byte, id uint32, e EventData) []byte {
	w := builder{b: dst}
	m := w.beginMsg(MsgReaderEventNotification, id)
	o := w.begin(ParamReaderEventNotificationData)
	ts := ParamUTCTimestamp
	if e.Uptime {
		ts = ParamUptime
	}
	t := w.begin(ts)
	w.u64(e.Timestamp)
	w.end(t)
	w.gpiEvents(e.GPIs)
	for _, r := range e.ROSpecs {
		p := w.begin(ParamROSpecEvent)
		w.u8(r.Type)
		w.u32(r.ROSpecID)
		w.u32(0)
		w.end(p)
	}
	if e.BufferWarning {
		p := w.begin(ParamReportBufferLevelWarning)
		w.u8(e.BufferLevel)
		w.end(p)
	}
	if e.BufferOverflow {
		w.end(w.begin(ParamReportBufferOverflowError))
	}
	if e.Exception {
		p := w.begin(ParamReaderExceptionEvent)
		w.utf8(e.ExceptionMessage)
		w.end(p)
	}
	for _, a := range e.Antennas {
		p := w.begin(ParamAntennaEvent)
		if a.Connected {
			w.u8(1)
		} else {
			w.u8(0)
		}
		w.u16(a.Antenna)
		w.end(p)
	}
	if e.HasConnectionAttempt {
		p := w.begin(ParamConnectionAttemptEvent)
		w.u16(e.ConnectionAttempt)
		w.end(p)
	}
	if e.ConnectionClose {
		w.end(w.begin(ParamConnectionCloseEvent))
	}
	w.end(o)
	w.endMsg(m)
	return w.b
}

// ParseReaderEvent decodes a READER_EVENT_NOTIFICATION body. Events may come
// in any order; unknown and custom parameters are skipped.
func ParseReaderEvent(body []byte) (EventData, error) {
	p, ok, err := find(body, ParamReaderEventNotificationData)
	if err != nil {
		return EventData{}, err
	}
	if !ok {
		return EventData{}, fmt.Errorf("%w: READER_EVENT_NOTIFICATION without ReaderEventNotificationData", ErrMalformed)
	}
	var e EventData
	it := NewParams(p.Value)
	for q, ok := it.Next(); ok; q, ok = it.Next() {
		r := reader{b: q.Value, what: "reader event"}
		switch q.Type {
		case ParamUTCTimestamp:
			e.Timestamp = r.u64()
		case ParamUptime:
			e.Timestamp, e.Uptime = r.u64(), true
		case ParamConnectionAttemptEvent:
			e.HasConnectionAttempt, e.ConnectionAttempt = true, r.u16()
		case ParamConnectionCloseEvent:
			e.ConnectionClose = true
		case ParamAntennaEvent:
			typ, ant := r.u8(), r.u16()
			e.Antennas = append(e.Antennas, AntennaEvent{Connected: typ == 1, Antenna: ant})
		case ParamGPIEvent:
			port, f := r.u16(), r.u8()
			if r.err == nil {
				e.GPIs = append(e.GPIs, GPIEvent{Port: port, High: f&gpioHighBit != 0})
			}
		case ParamROSpecEvent:
			typ, id := r.u8(), r.u32()
			e.ROSpecs = append(e.ROSpecs, ROSpecEvent{Type: typ, ROSpecID: id})
		case ParamReportBufferLevelWarning:
			e.BufferWarning, e.BufferLevel = true, r.u8()
		case ParamReportBufferOverflowError:
			e.BufferOverflow = true
		case ParamReaderExceptionEvent:
			e.Exception, e.ExceptionMessage = true, r.utf8()
		}
		if r.err != nil {
			return e, r.err
		}
	}
	return e, it.Err()
}
