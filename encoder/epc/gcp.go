package epc

import (
	"encoding/json"
	"sort"
)

// CompanyPrefixEntry is one line of a company prefix table: keys whose
// company part starts with Prefix have a company prefix of Length digits.
// Length 0 says that no company prefix is assigned under Prefix (GS1's list
// marks ranges so): a key there has no known length.
type CompanyPrefixEntry struct {
	Prefix string `yaml:"prefix" json:"prefix"`
	Length int    `yaml:"length" json:"gcpLength"`
}

// CompanyPrefixTable finds the GS1 company prefix length of a key by the
// longest matching prefix, as GS1's GCP prefix format list does. It is
// read-only after construction and safe for concurrent use.
type CompanyPrefixTable struct {
	lengths map[string]uint8
	longest int
}

// NewCompanyPrefixTable builds a table. A prefix is 1–12 digits, a length
// 6–12 (what EPC binary encodings can carry) or 0 (no company prefix
// there); the same prefix twice with two lengths is an error.
func NewCompanyPrefixTable(entries []CompanyPrefixEntry) (*CompanyPrefixTable, error) {
	return (*CompanyPrefixTable)(nil).add(entries, 6, false)
}

// With returns a table of t's entries and entries (checked as by
// NewCompanyPrefixTable), an entry of entries replacing t's for the same
// prefix.
func (t *CompanyPrefixTable) With(entries []CompanyPrefixEntry) (*CompanyPrefixTable, error) {
	return t.add(entries, 6, true)
}

// add copies t and adds entries; lengths below minLen (other than 0) are
// refused, and a prefix listed twice in entries with two lengths is an
// error.
func (t *CompanyPrefixTable) add(entries []CompanyPrefixEntry, minLen int, override bool) (*CompanyPrefixTable, error) {
	out := &CompanyPrefixTable{lengths: make(map[string]uint8, len(entries))}
	if t != nil {
		for p, n := range t.lengths {
			out.lengths[p] = n
		}
		out.longest = t.longest
	}
	seen := make(map[string]int, len(entries))
	for i, en := range entries {
		at := "company prefix table entry " + itoa(uint64(i+1))
		if en.Prefix == "" || len(en.Prefix) > 12 || !allDigits(en.Prefix) {
			return nil, newErr(SchemeRaw, at+" prefix", en.Prefix, ErrCompanyPrefix, "must be 1–12 digits")
		}
		if en.Length != 0 && (en.Length < minLen || en.Length > 12) {
			return nil, newErr(SchemeRaw, at+" length", itoa(uint64(max(en.Length, 0))), ErrCompanyPrefix,
				"must be 6–12 (the digits of the company prefix), or 0 for none")
		}
		if old, dup := seen[en.Prefix]; dup && old != en.Length {
			return nil, newErr(SchemeRaw, at+" prefix", en.Prefix, ErrCompanyPrefix,
				"is listed twice with lengths "+itoa(uint64(old))+" and "+itoa(uint64(en.Length)))
		}
		seen[en.Prefix] = en.Length
		if _, had := out.lengths[en.Prefix]; had && !override {
			continue
		}
		out.lengths[en.Prefix] = uint8(en.Length)
		out.longest = max(out.longest, len(en.Prefix))
	}
	return out, nil
}

// ParseGCPPrefixFormatList reads GS1's GCP length list in its JSON form,
// {"GCPPrefixFormatList":{"entry":[{"prefix":"…","gcpLength":7},…]}}.
// Entries of length 0 (no company prefix assigned there) are kept as such;
// lengths below 6 are kept too, and an EPC encoding of such a key then
// fails saying so.
func ParseGCPPrefixFormatList(b []byte) (*CompanyPrefixTable, error) {
	var doc struct {
		List struct {
			Entry []CompanyPrefixEntry `json:"entry"`
		} `json:"GCPPrefixFormatList"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, newErr(SchemeRaw, "GCP prefix format list", "", ErrCompanyPrefix, "is not valid JSON: "+err.Error())
	}
	return (*CompanyPrefixTable)(nil).add(doc.List.Entry, 1, false)
}

// Entries returns the table's entries sorted by prefix.
func (t *CompanyPrefixTable) Entries() []CompanyPrefixEntry {
	out := make([]CompanyPrefixEntry, 0, len(t.lengths))
	for p, n := range t.lengths {
		out = append(out, CompanyPrefixEntry{Prefix: p, Length: int(n)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Prefix < out[j].Prefix })
	return out
}

// Lookup returns the company prefix length for digits that start with the
// company prefix (a GLN, a GTIN-14 without its indicator digit, an SSCC
// without its extension digit); false when no entry matches, or the
// longest match says no company prefix is assigned there.
func (t *CompanyPrefixTable) Lookup(digits string) (int, bool) {
	if t == nil {
		return 0, false
	}
	for n := min(len(digits), t.longest); n > 0; n-- {
		if l, ok := t.lengths[digits[:n]]; ok {
			return int(l), l != 0 // 0: no company prefix assigned there
		}
	}
	return 0, false
}

func (t *CompanyPrefixTable) lookupErr(s Scheme, field, key, digits string) (int, error) {
	if n, ok := t.Lookup(digits); ok {
		return n, nil
	}
	return 0, newErr(s, field, key, ErrCompanyPrefix,
		"no company prefix table entry matches; add the company prefix and its length to the table or give the length explicitly")
}

// ForGTIN returns the company prefix length of a GTIN (8, 12, 13 or 14
// digits).
func (t *CompanyPrefixTable) ForGTIN(gtin string) (int, error) {
	g, err := normalizeKey(SchemeRaw, "gtin", gtin, 14, 13, 12, 8)
	if err != nil {
		return 0, err
	}
	return t.lookupErr(SchemeRaw, "gtin", gtin, g[1:])
}

// ForSSCC returns the company prefix length of an 18-digit SSCC.
func (t *CompanyPrefixTable) ForSSCC(sscc string) (int, error) {
	v, err := normalizeKey(SchemeRaw, "sscc", sscc, 18)
	if err != nil {
		return 0, err
	}
	return t.lookupErr(SchemeRaw, "sscc", sscc, v[1:])
}

// ForValues returns the company prefix length of the key scheme s reads
// from v (see [Encode]).
func (t *CompanyPrefixTable) ForValues(s Scheme, v Values) (int, error) {
	switch layouts[s].family {
	case famSGTIN:
		return t.ForGTIN(v.GTIN)
	case famSSCC:
		return t.ForSSCC(v.SSCC)
	case famSGLN:
		return t.lookupErr(s, "gln", v.GLN, v.GLN)
	case famGRAI:
		g := v.GRAI
		if len(g) > 13 && g[0] == '0' {
			g = g[1:]
		}
		return t.lookupErr(s, "grai", v.GRAI, g)
	case famGIAI:
		return t.lookupErr(s, "giai", v.GIAI, v.GIAI)
	case famGDTI:
		return t.lookupErr(s, "gdti", v.GDTI, v.GDTI)
	case famGSRN:
		return t.lookupErr(s, "gsrn", v.GSRN, v.GSRN)
	}
	return 0, newErr(s, "scheme", s.String(), ErrScheme, "choose a GS1 scheme")
}
