package receiving

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/dgraph-io/badger/v4"

	"github.com/dockgate/dockgate/edge/store"
	"github.com/dockgate/dockgate/encoder/epc"
	"github.com/dockgate/dockgate/encoder/gs1"
)

// ErrInvalidTrace: a trace was asked for with a key that names no carton
// or tag: an SSCC that is not 18 digits with a right check digit, an EPC
// that is neither hex nor an EPC URI.
var ErrInvalidTrace = errors.New("invalid trace key")

// CartonTrace is a carton with its label job's state and its door passes.
type CartonTrace struct {
	Carton
	JobState string `json:"job_state,omitempty"`
	Passes   []Pass `json:"passes"`
}

// LotTrace is the forward trace of a lot.
type LotTrace struct {
	Lot         string        `json:"lot"`
	Registry    any           `json:"registry,omitempty"`
	SupplierLot string        `json:"supplier_lot,omitempty"`
	Receipts    []Receipt     `json:"receipts"`
	Cartons     []CartonTrace `json:"cartons"`
	Events      []EventRef    `json:"events"`
	// Reconciliation compares the lot's cartons received, labels
	// printed, tags encoded and cartons seen, per receipt too (set when
	// the gateway keeps a label audit trail: SetTraceLabels).
	Reconciliation any `json:"reconciliation,omitempty"`
	// Shipments are where the lot's cartons went (Config.LotShipments).
	Shipments any `json:"shipments,omitempty"`
}

// ItemTrace is the backward trace of a carton (by SSCC or EPC).
type ItemTrace struct {
	Carton      CartonTrace `json:"carton"`
	Lot         string      `json:"lot"`
	Registry    any         `json:"registry,omitempty"`
	SupplierLot string      `json:"supplier_lot,omitempty"`
	Receipt     *Receipt    `json:"receipt"`
	// Labels is the carton's label audit trail: its prints, reprints,
	// voids and cancels (SetTraceLabels).
	Labels any `json:"labels,omitempty"`
}

// TraceLabels is what the label audit trail adds to traces.
type TraceLabels interface {
	// Reconcile is a lot trace's reconciliation.
	Reconcile(t *LotTrace) (any, error)
	// CartonLabels is a carton's label records.
	CartonLabels(sscc string) (any, error)
}

// SetTraceLabels makes traces include the label audit trail; call it
// before the service is used.
func (s *Service) SetTraceLabels(tl TraceLabels) { s.traceLabels = tl }

// CartonTraces are the cartons of a lot with their label jobs' states and
// their door passes, in SSCC order: the cartons of TraceLot.
func (s *Service) CartonTraces(lot string) ([]CartonTrace, error) {
	out := []CartonTrace{}
	err := s.st.DB().View(func(txn *badger.Txn) error {
		return store.Scan(txn, keyLotCarton(lot, ""), false, func(sscc, _ []byte) error {
			ct, err := s.cartonTrace(txn, string(sscc))
			if err != nil {
				return err
			}
			out = append(out, ct)
			return nil
		})
	})
	return out, err
}

func (s *Service) cartonTrace(txn *badger.Txn, sscc string) (CartonTrace, error) {
	var ct CartonTrace
	if err := getJSON(txn, keyCarton(sscc), &ct.Carton); err != nil {
		return ct, err
	}
	ct.Passes = []Pass{}
	err := store.Scan(txn, prefixPasses(sscc), true, func(_, v []byte) error {
		var p Pass
		if err := json.Unmarshal(v, &p); err != nil {
			return err
		}
		ct.Passes = append(ct.Passes, p)
		return nil
	})
	if ct.Job != "" {
		if d := s.doors[ct.Door]; d != nil {
			ct.JobState = d.JobState(ct.Job)
		}
	}
	return ct, err
}

// TraceLot is the forward trace: every receipt, carton, EPC, label job, door
// pass and event of the lot.
func (s *Service) TraceLot(lot string) (*LotTrace, error) {
	t := &LotTrace{Lot: lot, Receipts: []Receipt{}, Cartons: []CartonTrace{}, Events: []EventRef{}}
	err := s.st.DB().View(func(txn *badger.Txn) error {
		if err := store.Scan(txn, keyLotReceipt(lot, ""), false, func(id, _ []byte) error {
			var rc Receipt
			if err := getJSON(txn, keyReceipt(string(id)), &rc); err != nil {
				return err
			}
			if rc.SupplierLot != "" {
				t.SupplierLot = rc.SupplierLot
			}
			t.Receipts = append(t.Receipts, rc)
			return nil
		}); err != nil {
			return err
		}
		if err := store.Scan(txn, keyLotCarton(lot, ""), false, func(sscc, _ []byte) error {
			ct, err := s.cartonTrace(txn, string(sscc))
			if err != nil {
				return err
			}
			t.Cartons = append(t.Cartons, ct)
			return nil
		}); err != nil {
			return err
		}
		return store.Scan(txn, prefixLotEvents(lot), true, func(_, v []byte) error {
			var ref EventRef
			if err := json.Unmarshal(v, &ref); err != nil {
				return err
			}
			t.Events = append(t.Events, ref)
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	if rec, err := s.lots.Record(lot); err == nil {
		t.Registry = rec
	} else if len(t.Receipts) == 0 {
		return nil, fmt.Errorf("lot %q: %w", lot, ErrNotFound)
	}
	if s.traceLabels != nil {
		if t.Reconciliation, err = s.traceLabels.Reconcile(t); err != nil {
			return nil, fmt.Errorf("lot %q: reconciliation: %w", lot, err)
		}
	}
	if s.cfg.LotShipments != nil {
		if t.Shipments, err = s.cfg.LotShipments(lot); err != nil {
			return nil, fmt.Errorf("shipments of lot %s: %w", lot, err)
		}
	}
	return t, nil
}

// TraceSSCC is the backward trace of a carton by its SSCC.
func (s *Service) TraceSSCC(sscc string) (*ItemTrace, error) {
	sscc = strings.TrimPrefix(sscc, "(00)")
	if len(sscc) == 20 && strings.HasPrefix(sscc, "00") {
		sscc = sscc[2:]
	}
	if len(sscc) != 18 || strings.Trim(sscc, "0123456789") != "" {
		// Accept the SSCC with or without its (00) AI, nothing else.
		return nil, fmt.Errorf("%w: sscc %q: want 18 digits, with or without (00)", ErrInvalidTrace, sscc)
	}
	if cd, _ := gs1.CheckDigit(sscc[:17]); cd != sscc[17] {
		// No carton with it was received: receipts refuse such SSCCs.
		return nil, fmt.Errorf("%w: sscc %s: check digit %c should be %c: check the number", ErrInvalidTrace, sscc, sscc[17], cd)
	}
	it := &ItemTrace{}
	err := s.st.DB().View(func(txn *badger.Txn) error {
		ct, err := s.cartonTrace(txn, sscc)
		if err != nil {
			return err
		}
		it.Carton, it.Lot = ct, ct.Lot
		var rc Receipt
		if err := getJSON(txn, keyReceipt(ct.Receipt), &rc); err != nil {
			return err
		}
		it.Receipt, it.SupplierLot = &rc, rc.SupplierLot
		return nil
	})
	if errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("sscc %s: no carton with this SSCC was received here: %w", sscc, ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	if rec, err := s.lots.Record(it.Lot); err == nil {
		it.Registry = rec
	}
	if s.traceLabels != nil {
		if it.Labels, err = s.traceLabels.CartonLabels(sscc); err != nil {
			return nil, fmt.Errorf("sscc %s: label records: %w", sscc, err)
		}
	}
	return it, nil
}

// TraceEPC is the backward trace of a tag, given as hex or as a tag or pure
// identity URI.
func (s *Service) TraceEPC(in string) (*ItemTrace, error) {
	var e epc.EPC
	var err error
	if strings.HasPrefix(in, "urn:") {
		e, err = epc.ParseURI(in)
	} else {
		e, err = epc.DecodeHex(in)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidTrace, err) // the codec's error names the EPC
	}
	c, err := s.CartonByEPC(epcHex(e))
	if err != nil {
		if sscc := e.SSCC(); sscc != "" {
			// A pure identity URI does not carry the filter: find the
			// carton by its SSCC.
			return s.TraceSSCC(sscc)
		}
		return nil, fmt.Errorf("epc %s: no carton with this tag was received here: %w", e.Hex(), ErrNotFound)
	}
	return s.TraceSSCC(c.SSCC)
}
