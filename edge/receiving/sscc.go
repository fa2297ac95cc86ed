package receiving

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/dockgate/dockgate/edge/store"
	"github.com/dockgate/dockgate/encoder/gs1"
)

// SSCCRange is where this gateway allocates SSCCs: extension digit, GS1
// company prefix and the serial references it may use (gateways of one
// company are given disjoint ranges).
type SSCCRange struct {
	Extension     int
	CompanyPrefix string
	Start, End    uint64 // serial references, inclusive
}

// AllocateSSCCs hands out n SSCCs that were never handed out before: the
// serial references come from a durable counter, synced before they are
// returned. Running out of the range is an error, never a wrap.
func AllocateSSCCs(s *store.Store, r SSCCRange, n int) ([]string, error) {
	digits := 16 - len(r.CompanyPrefix)
	if digits < 1 || digits > 10 {
		return nil, fmt.Errorf("SSCC: company prefix %q must be 6 to 12 digits", r.CompanyPrefix)
	}
	if r.Extension < 0 || r.Extension > 9 {
		return nil, fmt.Errorf("SSCC: extension digit %d must be 0-9", r.Extension)
	}
	first, err := s.Next(fmt.Sprintf("sscc/%d%s", r.Extension, r.CompanyPrefix), uint64(n), r.Start, r.End)
	if err != nil {
		if errors.Is(err, store.ErrExhausted) {
			return nil, fmt.Errorf("SSCC serial range %d–%d of company prefix %s is used up: configure a new gs1.sscc_serial_start/sscc_serial_end range: %w", r.Start, r.End, r.CompanyPrefix, err)
		}
		return nil, err
	}
	out := make([]string, n)
	for i := range out {
		out[i] = makeSSCC(r.Extension, r.CompanyPrefix, first+uint64(i), digits)
	}
	return out, nil
}

func makeSSCC(ext int, cp string, serial uint64, digits int) string {
	var b strings.Builder
	b.Grow(18)
	b.WriteByte(byte('0' + ext))
	b.WriteString(cp)
	ref := strconv.FormatUint(serial, 10)
	for i := len(ref); i < digits; i++ {
		b.WriteByte('0')
	}
	b.WriteString(ref)
	cd, _ := gs1.CheckDigit(b.String())
	b.WriteByte(cd)
	return b.String()
}
