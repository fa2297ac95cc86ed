package printers

// Encode outcomes (Encode.Outcome): what became of a label's RFID tag.
const (
	// EncodeEncoded: the tag took the EPC on the first label tried.
	EncodeEncoded = "encoded"
	// EncodeVoided: the printer voided Voids labels whose tags took no
	// write, then wrote the EPC on the next.
	EncodeVoided = "voided"
	// EncodeFailed: no tag took the EPC within the printer's tries, or
	// the tag reads back another EPC than the one recorded.
	EncodeFailed = "encode_failed"
	// EncodeUnverified: the label printed but the printer's encode report
	// never arrived (lost with a connection, or a restart): the tag is
	// neither known good nor known bad.
	EncodeUnverified = "unverified"
)

// Encode is the verified outcome of a job's tag writes, as the printer
// reported it (~RV) and as the tag read back (^RFR + ^HV).
type Encode struct {
	Outcome string `json:"outcome"`
	// Voids is how many labels the printer voided for the job's tags.
	Voids int `json:"voids"`
	// Attempts is how many tags the printer tried (voids and the one
	// written); 0 when it did not say.
	Attempts int `json:"attempts"`
	// EPC is the EPC the job writes; EPCRead what its tag read back, when
	// read back (empty: nothing could be read).
	EPC     string `json:"epc"`
	EPCRead string `json:"epc_read,omitempty"`
	// TID is the tag's TID, read with the write (capture_tid): the chip's
	// serial, a link between carton and tag that cannot be copied.
	TID string `json:"tid,omitempty"`
	// Reason says why the outcome is encode_failed or unverified.
	Reason string `json:"reason,omitempty"`
	// Reprinted: the job was sent once more after an encode failure
	// (on_encode_failure: reprint); a second failure fails it.
	Reprinted bool `json:"reprinted,omitempty"`
}

// Encode failure policies (Config.OnEncodeFailure).
const (
	OnEncodeReprint = "reprint" // send the job once more on fresh stock
	OnEncodeHold    = "hold"    // fail the job and hold the printer's queue
	OnEncodeAlert   = "alert"   // fail the job; the queue goes on
)

// Encode verification modes (Config.VerifyEncode).
const (
	VerifyAuto     = "auto"        // from the firmware profile
	VerifyRV       = "rv"          // ~RV reports per format
	VerifyReadback = "readback"    // ^RFR + ^HV read-back per label
	VerifyBoth     = "rv+readback" // both: voids from ~RV, the EPC from read-back
	VerifyNone     = "none"
)

// Label counters (Config.LabelCounter).
const (
	CounterAuto = "auto" // from the firmware profile
	CounterSGD  = "sgd"  // odometer.total_label_count through SGD getvar
	CounterHQOD = "hqod" // the ~HQOD print length
	CounterNone = "none"
)
