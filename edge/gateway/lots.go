package gateway

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/dockgate/dockgate/edge/lots"
	"github.com/dockgate/dockgate/edge/receiving"
	"github.com/dockgate/dockgate/encoder/lot"
)

// lotAdapter gives receiving the lot registry.
type lotAdapter struct{ r *lots.Registry }

func details(r receiving.LotRequest) lots.Details {
	return lots.Details{
		Product: r.Product, GTIN: r.GTIN, Supplier: r.Supplier, SupplierLot: r.SupplierLot,
		Door: r.Door, Production: r.Production, Expiry: r.Expiry, Quantity: float64(r.Qty),
		Unit: r.Unit, PO: r.PO, DespatchAdvice: r.DespatchAdvice, By: "receiving",
	}
}

func (a lotAdapter) Issue(ctx context.Context, r receiving.LotRequest) (string, error) {
	l, err := a.r.Issue(ctx, lots.IssueRequest{ID: receiptLotID(r.Receipt), Format: r.Format, Details: details(r)})
	return l.Code, classify(err)
}

// receiptLotID is the idempotency key of a receipt's lot issue: a receipt
// refused after its lot was issued (its event could not be stored) gets
// the same lot when it is retried.
func receiptLotID(receipt string) string {
	if receipt == "" {
		return ""
	}
	if id := "receipt:" + receipt; len(id) <= 80 {
		return id
	}
	h := sha256.Sum256([]byte(receipt))
	return "receipt:" + hex.EncodeToString(h[:16])
}

// KeepSupplierLot registers the supplier's lot under its own code. The same
// supplier lot of the same supplier and product again is the same lot; the
// code registered for another supplier or product is a conflict.
func (a lotAdapter) KeepSupplierLot(ctx context.Context, r receiving.LotRequest) (string, bool, error) {
	l, err := a.r.Register(ctx, r.SupplierLot, details(r))
	if errors.Is(err, lots.ErrExists) {
		// Lot codes are only unique within a supplier's product (date
		// codes such as 250501 are common): these goods get a lot of
		// the gateway's own, with the supplier's lot linked, and later
		// receipts of the same supplier lot and product join it.
		codes, serr := a.r.SupplierLots(r.Supplier, r.SupplierLot)
		if serr != nil {
			return "", false, serr
		}
		// One lot has one expiry: goods of the same supplier lot with
		// another expiry get a lot of their own, so FEFO sees both.
		expiry := ""
		if !r.Expiry.IsZero() {
			expiry = r.Expiry.Format(time.DateOnly)
		}
		for _, c := range codes {
			if own, gerr := a.r.Get(c); gerr == nil && own.Source == lots.SourceGenerated && own.Product == r.Product && own.GTIN == r.GTIN && own.Expiry == expiry {
				return c, true, nil
			}
		}
		code, err := a.Issue(ctx, r)
		if err != nil {
			return "", false, fmt.Errorf("supplier lot %q is another supplier's or product's lot code, and a lot of the gateway's own for it: %w", r.SupplierLot, err)
		}
		return code, true, nil
	}
	if err != nil {
		return "", false, classify(fmt.Errorf("supplier lot %q: %w", r.SupplierLot, err))
	}
	return l.Code, false, nil
}

// classify maps the registry's errors onto receiving's, for the API's
// status codes.
func classify(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, lots.ErrExists), errors.Is(err, lots.ErrStatus), errors.Is(err, lots.ErrExhausted), errors.Is(err, lot.ErrSeqRange):
		return fmt.Errorf("%w: %w", receiving.ErrConflict, err)
	case errors.Is(err, lots.ErrInvalid), errors.Is(err, lot.ErrConfig), errors.Is(err, lot.ErrFormat), errors.Is(err, lot.ErrValue),
		errors.Is(err, lot.ErrCharset), errors.Is(err, lot.ErrTooLong):
		// a format the request named or wrote, a value its tokens refuse
		return fmt.Errorf("%w: %w", receiving.ErrInvalid, err)
	case errors.Is(err, lots.ErrStoreFull):
		return fmt.Errorf("%w: %w", receiving.ErrUnavailable, err)
	}
	return err
}

func (a lotAdapter) LinkCartons(ctx context.Context, lot string, cartons []receiving.Carton) error {
	ls := make([]lots.Link, 0, 2*len(cartons))
	for _, c := range cartons {
		ls = append(ls, lots.Link{Kind: lots.LinkSSCC, ID: c.SSCC}, lots.Link{Kind: lots.LinkEPC, ID: c.EPC})
	}
	for len(ls) > 0 { // bounded transactions
		n := min(len(ls), 256)
		if err := a.r.LinkAll(ctx, lot, ls[:n]); err != nil {
			return err
		}
		ls = ls[n:]
	}
	return nil
}

// Held reports whether a lot is held; a lot not recorded here (one a tag
// names in its own EPC) is not.
func (a lotAdapter) Held(lot string) (bool, error) {
	h, err := a.r.IsHeld(lot)
	if errors.Is(err, lots.ErrNotFound) {
		return false, nil
	}
	return h, err
}

func (a lotAdapter) Record(lot string) (any, error) {
	l, err := a.r.Get(lot)
	if errors.Is(err, lots.ErrNotFound) {
		return nil, fmt.Errorf("lot %q: %w", lot, receiving.ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	l.Links = nil // the trace lists the cartons with their SSCCs and EPCs
	return l, nil
}
