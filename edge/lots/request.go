package lots

import (
	"fmt"
	"math"
	"time"
)

// Request is the JSON form of an issue (POST /lots) or a registration
// (POST /lots/register) on the gateway's HTTP API; its field names are
// those of the lot record, dates are YYYY-MM-DD.
type Request struct {
	// Format and Brand: issue only (see IssueRequest).
	Format string `json:"format,omitempty"`
	Brand  string `json:"brand,omitempty"`
	// Code: register only, the supplier's lot code.
	Code string `json:"code,omitempty"`
	// ID: issue only, the idempotency key (see IssueRequest.ID).
	ID string `json:"id,omitempty"`

	Product        string  `json:"product"`
	GTIN           string  `json:"gtin,omitempty"`
	Supplier       string  `json:"supplier,omitempty"`
	SupplierLot    string  `json:"supplier_lot,omitempty"`
	Site           string  `json:"site,omitempty"`
	Door           string  `json:"door,omitempty"`
	Line           string  `json:"line,omitempty"`
	Production     string  `json:"production_date,omitempty"`
	Expiry         string  `json:"expiry_date,omitempty"`
	BestBefore     string  `json:"best_before_date,omitempty"`
	Quantity       float64 `json:"quantity,omitempty"`
	Unit           string  `json:"unit,omitempty"`
	PO             string  `json:"po,omitempty"`
	DespatchAdvice string  `json:"despatch_advice,omitempty"`
	By             string  `json:"by,omitempty"`
}

// RequestOf is the Request of d.
func RequestOf(d Details) Request {
	return Request{
		Product: d.Product, GTIN: d.GTIN, Supplier: d.Supplier, SupplierLot: d.SupplierLot,
		Site: d.Site, Door: d.Door, Line: d.Line,
		Production: dateOf(d.Production), Expiry: dateOf(d.Expiry), BestBefore: dateOf(d.BestBefore),
		Quantity: d.Quantity, Unit: d.Unit, PO: d.PO, DespatchAdvice: d.DespatchAdvice, By: d.By,
	}
}

// Details checks the request's dates and returns its details.
func (r Request) Details() (Details, error) {
	d := Details{
		Product: r.Product, GTIN: r.GTIN, Supplier: r.Supplier, SupplierLot: r.SupplierLot,
		Site: r.Site, Door: r.Door, Line: r.Line,
		Quantity: r.Quantity, Unit: r.Unit, PO: r.PO, DespatchAdvice: r.DespatchAdvice, By: r.By,
	}
	for _, f := range []struct {
		name string
		v    string
		dst  *time.Time
	}{{"production_date", r.Production, &d.Production}, {"expiry_date", r.Expiry, &d.Expiry}, {"best_before_date", r.BestBefore, &d.BestBefore}} {
		if f.v == "" {
			continue
		}
		t, err := time.Parse(time.DateOnly, f.v)
		if err != nil {
			return d, fmt.Errorf("%w: %s %q: give a date as YYYY-MM-DD", ErrInvalid, f.name, f.v)
		}
		*f.dst = t
	}
	if d.Quantity < 0 || d.Quantity > maxQuantity || math.IsNaN(d.Quantity) {
		return d, fmt.Errorf("%w: quantity %v: give a number from 0 to %g", ErrInvalid, d.Quantity, float64(maxQuantity))
	}
	return d, nil
}

func dateOf(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.DateOnly)
}
