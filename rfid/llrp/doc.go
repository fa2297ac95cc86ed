// Package llrp speaks LLRP 1.0.1 (EPCglobal Low Level Reader Protocol) to
// fixed UHF readers over TCP port 5084.
//
// The codec is small and typed where a portal needs it: a message is a
// 10-byte [Header] and a body of parameters, either TV (fixed size by type)
// or TLV (length-prefixed). [Decoder] frames messages from a byte stream that
// arrives in chunks and caps their size; [Params] walks a body's parameters,
// skipping unknown TLVs and custom parameters; typed values ([ROSpec],
// [ReaderConfig], [AccessSpec], [EventData], [Capabilities], [Status]) have
// Append (encode) and Parse (decode) pairs. [ReportDecoder] turns an
// RO_ACCESS_REPORT into rfid.Read values without allocating per tag.
//
// [Session] is the client: it connects, follows the robust sequence (wait
// for the connection event, clear stale specs, configure keepalives and
// event holding, add/enable/start the ROSpec, enable reports), answers
// keepalives, notices half-open connections through a read deadline of twice
// the keepalive period, and reconnects with jittered exponential backoff that
// resets after a healthy session.
//
// RF settings ([RFSettings], per reader and per antenna) are mapped on the
// reader's tables from GET_READER_CAPABILITIES ([PowerIndex]: the highest
// TransmitPowerLevelTable entry at or below the dBm asked, by its Index) and
// sent as [AntennaConfig] parameters in the ROSpec's InventoryParameterSpec
// ([AntennaConfigs]); what the reader cannot take is left to it and named in
// the connected event's message.
//
// A [Trigger] has the reader start and stop the ROSpec itself (GPI,
// periodic, duration): the session enables the trigger's GPI ports and GPI
// events (every port with Config.WatchGPI), reads their current state with
// GET_READER_CONFIG ([GetReaderConfig], GPIPortCurrentState) and reports
// it after the connected event as rfid.EventGPI with Initial, then turns
// GPIEvents into rfid.EventGPI. [Session.SetGPO] sets a general purpose
// output (GPOWriteData) beside the reads.
//
// Errors: framing errors (bad length, oversized message) wrap rfid.ErrFraming
// or rfid.ErrTooLarge and end the connection; a malformed body wraps
// [ErrMalformed] and rejects that message only; a reader's error status is a
// [*StatusError] wrapping rfid.ErrReaderStatus.
package llrp
