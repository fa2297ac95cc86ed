package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	firmwareprofiles "github.com/dockgate/dockgate/firmware-profiles"
	"github.com/dockgate/dockgate/printers"
	"github.com/dockgate/dockgate/printers/transport"
	"github.com/dockgate/dockgate/printers/zebra"
)

// Installer commands for an RFID printer: the encoder's calibration (^HR)
// and a test label whose tag is written, read back and compared.

func init() {
	printerSynopsis["rfid-calibrate"] = "dockgate printer rfid-calibrate [-c FILE] [--profile ID] [--timeout D] HOST:PORT|ID"
	printerSynopsis["rfid-test"] = "dockgate printer rfid-test [-c FILE] [--profile ID] [--timeout D] [--epc HEX] HOST:PORT|ID"
}

// rfidCalibration is the JSON "printer rfid-calibrate" writes.
type rfidCalibration struct {
	Printer  string                 `json:"printer"`
	Target   string                 `json:"target"`
	Position string                 `json:"position"`
	Rows     []zebra.CalibrationRow `json:"rows"`
}

// rfidTest is the JSON "printer rfid-test" writes.
type rfidTest struct {
	Printer string           `json:"printer"`
	Target  string           `json:"target"`
	Encode  printers.Encode  `json:"encode"`
	Status  *printers.Status `json:"status,omitempty"`
}

// testEPC is the EPC a test label writes unless told: "TEST" and a 1.
const testEPC = "544553540000000000000001"

// rfidPrinter resolves an RFID printer for the installer commands and opens
// its connection.
func rfidPrinter(ctx context.Context, env *cliEnv, name string, args []string, extra func(fs *cmdFlags)) (printers.Config, *firmwareprofiles.Profile, printers.Conn, time.Duration, error) {
	fs := newFlags(env, "printer "+name, printerSynopsis[name])
	profile := fs.String("profile", "", "firmware profile `ID` of an RFID printer (default from the config)")
	cfgPath := fs.String("c", "", "gateway config `FILE` naming the printer ID")
	timeout := fs.Duration("timeout", 60*time.Second, "how long to wait for the printer's answer")
	if extra != nil {
		extra(fs)
	}
	var pc printers.Config
	if err := fs.parse(args); err != nil {
		return pc, nil, nil, 0, err
	}
	if fs.NArg() != 1 {
		return pc, nil, nil, 0, fs.usageError("give one printer: HOST:PORT, or a printer ID with -c FILE")
	}
	pc, err := resolvePrinter(env, fs.Arg(0), *profile, *cfgPath)
	if err != nil {
		return pc, nil, nil, 0, err
	}
	prof, err := firmwareprofiles.Lookup(pc.Profile)
	if err != nil || !prof.RFID.Supported {
		return pc, nil, nil, 0, fmt.Errorf("printer %s (%s): its profile %q has no RFID encoder; give --profile of an RFID printer (e.g. zebra-zt411r-203)", pc.ID, pc.Target(), pc.Profile)
	}
	if pc.Status == printers.StatusNone {
		return pc, nil, nil, 0, fmt.Errorf("printer %s (%s) has no way back (status: none): the answer cannot be read", pc.ID, pc.Target())
	}
	if *timeout <= 0 {
		return pc, nil, nil, 0, fs.usageError("--timeout %v must be positive", *timeout)
	}
	dctx, cancel := context.WithTimeout(ctx, pc.Timeouts.Dial)
	conn, err := transport.Dial(dctx, pc)
	cancel()
	if err != nil {
		return pc, nil, nil, 0, err
	}
	return pc, prof, conn, *timeout, nil
}

// printerRFIDCalibrate runs the printer's tag calibration (^HR: it feeds
// labels and tries the encoder at each position) and prints its table.
func printerRFIDCalibrate(ctx context.Context, env *cliEnv, args []string) error {
	pc, _, conn, timeout, err := rfidPrinter(ctx, env, "rfid-calibrate", args, nil)
	if err != nil {
		return err
	}
	defer conn.Close()
	q := zebra.NewQuerier(conn, pc.Status, time.Now)
	if st, err := q.Status(ctx, pc.Timeouts.Status); err != nil || !st.Ready() {
		return notReady(env, pc, st, err)
	}
	if _, err := conn.Write([]byte("^XA^HR" + zebra.CalibrationStart + "," + zebra.CalibrationEnd + "^XZ")); err != nil {
		return fmt.Errorf("send ^HR to %s: %w", pc.Target(), err)
	}
	var cal *zebra.Calibration
	err = q.Await(ctx, timeout, func(rep zebra.Reply) bool {
		cal = rep.Calibration
		return cal != nil
	})
	if err != nil {
		return fmt.Errorf("%s sent no calibration table within %v: %w", pc.Target(), timeout, err)
	}
	return printJSON(env, rfidCalibration{Printer: pc.ID, Target: pc.Target(), Position: cal.Position, Rows: cal.Rows})
}

// printerRFIDTest prints one test label whose tag is written, reported
// (~RV where the profile has it) and read back, and prints the outcome:
// exit 0 encoded or voided, 3 encode_failed, 4 no answer.
func printerRFIDTest(ctx context.Context, env *cliEnv, args []string) error {
	var epc *string
	pc, prof, conn, timeout, err := rfidPrinter(ctx, env, "rfid-test", args, func(fs *cmdFlags) {
		epc = fs.String("epc", testEPC, "the EPC to write, hex (a whole number of 16-bit words)")
	})
	if err != nil {
		return err
	}
	defer conn.Close()
	e := strings.ToUpper(*epc)
	if len(e) == 0 || len(e)%4 != 0 || strings.Trim(e, "0123456789ABCDEF") != "" {
		return fmt.Errorf("--epc %q: give hex, a whole number of 16-bit words (24 hex digits for 96 bits)", *epc)
	}
	q := zebra.NewQuerier(conn, pc.Status, time.Now)
	if st, err := q.Status(ctx, pc.Timeouts.Status); err != nil || !st.Ready() {
		return notReady(env, pc, st, err)
	}
	read := prof.RFID.ReadEPC
	if read == "" {
		read = "^RFR,H,0,12,E"
	}
	f := strings.Split(read, ",")
	if len(f) >= 4 {
		f[3] = strconv.Itoa(len(e) / 2)
	}
	var b strings.Builder
	if prof.RFID.RV {
		b.Write(zebra.CmdRVE)
	}
	fmt.Fprintf(&b, "^XA^FO50,50^A0N,40,40^FDDOCKGATE RFID TEST^FS^FO50,110^A0N,30,30^FD%s^FS%s%s^FD%s^FS"+
		"^FN999%s^FS^HV999,%d,%stest.1%c,%c,L^FS^FN998^RFR,H,0,12,2^FS^HV998,24,%stest.1.tid%c,%c,L^FS^PQ1^XZ",
		e, prof.RFID.Setup, prof.RFID.WriteEPC, e, strings.Join(f, ","), len(e), zebra.VerifyHeader, zebra.VerifyOpen, zebra.VerifyClose,
		zebra.VerifyHeader, zebra.VerifyOpen, zebra.VerifyClose)
	if _, err := conn.Write([]byte(b.String())); err != nil {
		return fmt.Errorf("send the test label to %s: %w", pc.Target(), err)
	}
	res := rfidTest{Printer: pc.ID, Target: pc.Target(), Encode: printers.Encode{EPC: e}}
	var report *zebra.EncodeReport
	var readBack, tid *zebra.Verify
	err = q.Await(ctx, timeout, func(rep zebra.Reply) bool {
		if rep.Encode != nil {
			report = rep.Encode
		}
		switch {
		case rep.Verify != nil && rep.Verify.Tag == "test.1":
			readBack = rep.Verify
		case rep.Verify != nil && rep.Verify.Tag == "test.1.tid":
			tid = rep.Verify
		}
		return readBack != nil && tid != nil && (report != nil || !prof.RFID.RV)
	})
	enc := &res.Encode
	if report != nil {
		enc.Voids = report.Voids
		enc.Attempts = report.Voids
		if report.OK {
			enc.Attempts++
		}
	}
	if readBack != nil {
		enc.EPCRead = readBack.Data
	}
	if tid != nil {
		enc.TID = tid.Data
	}
	switch {
	case report != nil && !report.OK:
		enc.Outcome = printers.EncodeFailed
		enc.Reason = fmt.Sprintf("no tag took the EPC: the printer voided %d labels and gave up", report.Voids)
	case readBack != nil && readBack.Data != e:
		enc.Outcome = printers.EncodeFailed
		enc.Reason = fmt.Sprintf("the tag reads back %q, not %s: check the tag stock and the encoder's calibration (dockgate printer rfid-calibrate)", readBack.Data, e)
	case readBack != nil:
		enc.Outcome = printers.EncodeEncoded
		if enc.Voids > 0 {
			enc.Outcome = printers.EncodeVoided
		}
	default:
		enc.Outcome = printers.EncodeUnverified
		enc.Reason = fmt.Sprintf("no read-back within %v: %v", timeout, err)
	}
	if err := printJSON(env, res); err != nil {
		return err
	}
	switch enc.Outcome {
	case printers.EncodeFailed:
		return &exitError{code: exitPrinterFaulted}
	case printers.EncodeUnverified:
		return &exitError{code: exitPrinterUnknown}
	}
	return nil
}

// notReady reports a printer that is not ready for an installer command
// (exit 3 faulted, 4 no answer).
func notReady(env *cliEnv, pc printers.Config, st printers.Status, err error) error {
	if err != nil && !errors.Is(err, printers.ErrStatusTimeout) {
		return fmt.Errorf("read status of %s: %w", pc.Target(), err)
	}
	return writePrinterStatus(env, printerStatusResult{Printer: pc.ID, Target: pc.Target(), Status: st})
}
