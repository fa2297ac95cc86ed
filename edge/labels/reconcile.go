package labels

// CartonFacts is what receiving knows of a carton, for Reconcile.
type CartonFacts struct {
	SSCC    string
	EPC     string
	Receipt string
	Job     string
	// JobState is the state of the carton's label job now ("" when the
	// door has no printer or the job is gone).
	JobState string
	// Passes is how many times a portal saw the carton (any door, any
	// direction).
	Passes int
}

// Label states of a carton.
const (
	LabelPrinted    = "printed"     // at least one label printed
	LabelNotPrinted = "not_printed" // none yet (queued, held, failed, unknown) or no printer
	LabelCancelled  = "cancelled"   // its job was cancelled before it printed
)

// Tag states of a carton.
const (
	TagEncoded      = "encoded"       // written and verified by the printer (after voids or not)
	TagWritten      = "written"       // sent to an RFID printer that reported no encode outcome (or lost its report)
	TagEncodeFailed = "encode_failed" // the printer could not write it
	TagNone         = "none"          // none written: no label printed, or printed without RFID
)

// CartonState is one carton in a reconciliation.
type CartonState struct {
	SSCC     string `json:"sscc"`
	EPC      string `json:"epc,omitempty"`
	Receipt  string `json:"receipt,omitempty"`
	Job      string `json:"job,omitempty"`
	JobState string `json:"job_state,omitempty"`
	// Label is LabelPrinted, LabelNotPrinted or LabelCancelled; Prints
	// counts its printed records (reprints included).
	Label  string `json:"label"`
	Prints int    `json:"prints"`
	// Tag is TagEncoded, TagWritten, TagEncodeFailed or TagNone.
	Tag    string `json:"tag"`
	Seen   bool   `json:"seen"`
	Passes int    `json:"passes"`
}

// Counts are the four numbers reconciled.
type Counts struct {
	Received int `json:"cartons_received"`
	Printed  int `json:"labels_printed"`
	// Encoded counts tags encoded or written; Unverified those of them
	// the printer did not verify (no encode outcome reported).
	Encoded    int `json:"tags_encoded"`
	Unverified int `json:"tags_unverified"`
	Seen       int `json:"cartons_seen"`
}

// Differences name the cartons (SSCCs) that make the counts differ.
type Differences struct {
	// NoLabel: no label printed.
	NoLabel []string `json:"no_label"`
	// NoTag: no tag written (encode failed, no label printed, or
	// printed on a printer without RFID).
	NoTag []string `json:"no_tag"`
	// NotSeen: never seen by a portal.
	NotSeen []string `json:"not_seen"`
}

// Summary is the reconciliation of one receipt within a lot's.
type Summary struct {
	Receipt     string      `json:"receipt"`
	Counts      Counts      `json:"counts"`
	Differences Differences `json:"differences"`
	Balanced    bool        `json:"balanced"`
}

// Reconciliation of a receipt or a lot: cartons received vs labels
// printed vs tags encoded vs cartons seen by a portal.
type Reconciliation struct {
	Lot         string      `json:"lot"`
	Receipt     string      `json:"receipt,omitempty"`
	Counts      Counts      `json:"counts"`
	Differences Differences `json:"differences"`
	// Balanced: every carton has a printed label and an encoded tag and
	// was seen.
	Balanced bool `json:"balanced"`
	// Receipts break a lot's reconciliation down by receipt.
	Receipts []Summary     `json:"receipts,omitempty"`
	Cartons  []CartonState `json:"cartons"`
}

// Reconcile compares cartons with their label records (by SSCC, each in
// the order appended). receipt is "" for a lot: the result then also
// has a Summary per receipt, in the order the cartons name them.
func Reconcile(lot, receipt string, cartons []CartonFacts, records map[string][]Record) *Reconciliation {
	rec := &Reconciliation{Lot: lot, Receipt: receipt, Cartons: []CartonState{}}
	var byReceipt []*Summary
	index := map[string]*Summary{}
	for _, c := range cartons {
		st := cartonState(c, records[c.SSCC])
		rec.Cartons = append(rec.Cartons, st)
		add(&rec.Counts, &rec.Differences, st)
		if receipt == "" && c.Receipt != "" {
			s := index[c.Receipt]
			if s == nil {
				s = &Summary{Receipt: c.Receipt, Differences: emptyDifferences()}
				index[c.Receipt] = s
				byReceipt = append(byReceipt, s)
			}
			add(&s.Counts, &s.Differences, st)
		}
	}
	fill(&rec.Differences)
	rec.Balanced = balanced(rec.Differences)
	for _, s := range byReceipt {
		s.Balanced = balanced(s.Differences)
		rec.Receipts = append(rec.Receipts, *s)
	}
	return rec
}

func emptyDifferences() Differences {
	return Differences{NoLabel: []string{}, NoTag: []string{}, NotSeen: []string{}}
}

// fill makes nil lists empty ones: [] in JSON, not null.
func fill(d *Differences) {
	for _, l := range []*[]string{&d.NoLabel, &d.NoTag, &d.NotSeen} {
		if *l == nil {
			*l = []string{}
		}
	}
}

func balanced(d Differences) bool {
	return len(d.NoLabel) == 0 && len(d.NoTag) == 0 && len(d.NotSeen) == 0
}

func add(n *Counts, d *Differences, st CartonState) {
	n.Received++
	if st.Label == LabelPrinted {
		n.Printed++
	} else {
		d.NoLabel = append(d.NoLabel, st.SSCC)
	}
	switch st.Tag {
	case TagEncoded:
		n.Encoded++
	case TagWritten:
		n.Encoded++
		n.Unverified++
	default:
		d.NoTag = append(d.NoTag, st.SSCC)
	}
	if st.Seen {
		n.Seen++
	} else {
		d.NotSeen = append(d.NotSeen, st.SSCC)
	}
}

// cartonState plays a carton's records in order: the last encode outcome
// decides its tag (a reprint that encodes makes a failed tag good).
func cartonState(c CartonFacts, recs []Record) CartonState {
	st := CartonState{SSCC: c.SSCC, EPC: c.EPC, Receipt: c.Receipt, Job: c.Job, JobState: c.JobState,
		Label: LabelNotPrinted, Tag: TagNone, Seen: c.Passes > 0, Passes: c.Passes}
	for _, r := range recs {
		switch r.Action {
		case Printed:
			st.Label = LabelPrinted
			st.Prints++
			switch {
			case r.Encode != nil && r.Encode.Outcome == EncodeFailed:
				st.Tag = TagEncodeFailed
			case r.Encode != nil && r.Encode.Outcome == EncodeUnverified:
				st.Tag = TagWritten
			case r.Encode != nil:
				st.Tag = TagEncoded
			case r.EPC != "":
				st.Tag = TagWritten
			}
		case Voided:
			if r.Encode == nil || r.Encode.Outcome == EncodeFailed {
				st.Tag = TagEncodeFailed
			}
		case Cancelled:
			if st.Label != LabelPrinted {
				st.Label = LabelCancelled
			}
		}
	}
	return st
}
