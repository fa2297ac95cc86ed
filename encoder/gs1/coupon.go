package gs1

import "strconv"

// North American coupon codes, AI (8110) and AI (8112). Both are digit
// strings of fields, several led by a variable length indicator (VLI): one
// digit that gives the field's length.

// couponReader walks the fields of a coupon code.
type couponReader struct {
	v   string
	pos int
	bad lintFail
}

func (r *couponReader) failed() bool { return r.bad.err != nil }

func (r *couponReader) fail(pos int, msg string) {
	if !r.failed() {
		r.bad = fail(pos, ErrLint, msg+" in coupon code "+strconv.Quote(r.v))
	}
}

// digit reads one digit that must be in allowed (a set of '0'..'9').
func (r *couponReader) digit(what, allowed string) byte {
	if r.failed() {
		return 0
	}
	if r.pos >= len(r.v) {
		r.fail(r.pos, "missing "+what)
		return 0
	}
	c := r.v[r.pos]
	ok := false
	for i := 0; i < len(allowed); i++ {
		if allowed[i] == c {
			ok = true
		}
	}
	if !ok {
		r.fail(r.pos, "invalid "+what+" "+string(c))
		return 0
	}
	r.pos++
	return c
}

// field reads n digits.
func (r *couponReader) field(what string, n int) string {
	if r.failed() {
		return ""
	}
	if len(r.v)-r.pos < n {
		r.fail(r.pos, what+" is shorter than "+strconv.Itoa(n)+" digits")
		return ""
	}
	f := r.v[r.pos : r.pos+n]
	r.pos += n
	return f
}

// gcp reads a company prefix of n digits and checks it with gcppos1.
func (r *couponReader) gcp(what string, n int) {
	start := r.pos
	f := r.field(what, n)
	if r.failed() {
		return
	}
	if l := lintGCPPos1(f); l.err != nil {
		r.fail(start+l.pos, what+" does not start with a GS1 Company Prefix")
	}
}

func (r *couponReader) next(c byte) bool {
	return !r.failed() && r.pos < len(r.v) && r.v[r.pos] == c
}

// purchase reads a purchase requirement (VLI 1-5), its code and family code.
func (r *couponReader) purchase(nth string) {
	vli := r.digit(nth+" purchase requirement length indicator", "12345")
	r.field(nth+" purchase requirement", int(vli-'0'))
	r.digit(nth+" purchase requirement code", "012349")
	r.field(nth+" purchase family code", 3)
}

// purchaseGCP reads an optional purchase company prefix: VLI 0-6 (6-12
// digits) or 9 (none).
func (r *couponReader) purchaseGCP(nth string) {
	vli := r.digit(nth+" purchase company prefix length indicator", "01234569")
	if vli != 0 && vli != '9' {
		r.gcp(nth+" purchase company prefix", int(vli-'0')+6)
	}
}

func (r *couponReader) date(what string) string {
	start := r.pos
	d := r.field(what, 6)
	if r.failed() {
		return ""
	}
	if l := lintDate(d, false, false); l.err != nil {
		r.fail(start, "invalid "+what+" "+d)
	}
	return d
}

func lintCouponCode(v string) lintFail {
	if i := firstNonDigit(v); i >= 0 {
		return fail(i, ErrCharset, "coupon code must be digits in "+strconv.Quote(v))
	}
	r := &couponReader{v: v}
	vli := r.digit("company prefix length indicator", "0123456")
	if !r.failed() {
		r.gcp("company prefix", int(vli-'0')+6)
	}
	r.field("offer code", 6)
	vli = r.digit("save value length indicator", "12345")
	if !r.failed() {
		r.field("save value", int(vli-'0'))
	}
	r.purchase("1st")
	if r.next('1') { // additional purchase rules and 2nd purchase
		r.pos++
		r.digit("additional purchase rules code", "0123")
		r.purchase("2nd")
		r.purchaseGCP("2nd")
	}
	if r.next('2') { // 3rd purchase
		r.pos++
		r.purchase("3rd")
		r.purchaseGCP("3rd")
	}
	expiry := ""
	if r.next('3') {
		r.pos++
		expiry = r.date("expiration date")
	}
	if r.next('4') {
		r.pos++
		start := r.date("start date")
		if !r.failed() && expiry != "" && start > expiry {
			r.fail(r.pos-6, "expiration date "+expiry+" is before start date "+start)
		}
	}
	if r.next('5') { // serial number
		r.pos++
		vli := r.digit("serial number length indicator", "0123456789")
		if !r.failed() {
			r.field("serial number", int(vli-'0')+6)
		}
	}
	if r.next('6') { // retailer company prefix or GLN
		r.pos++
		vli := r.digit("retailer company prefix length indicator", "1234567")
		if !r.failed() {
			r.gcp("retailer company prefix or GLN", int(vli-'0')+6)
		}
	}
	if r.next('9') { // miscellaneous
		r.pos++
		r.digit("save value code", "01256")
		r.digit("save value applies to item", "012")
		r.digit("store coupon flag", "0123456789")
		r.digit("don't multiply flag", "01")
	}
	if !r.failed() && r.pos != len(v) {
		r.fail(r.pos, "unexpected data after the last field")
	}
	return r.bad
}

func lintCouponPosOffer(v string) lintFail {
	if i := firstNonDigit(v); i >= 0 {
		return fail(i, ErrCharset, "coupon code must be digits in "+strconv.Quote(v))
	}
	r := &couponReader{v: v}
	r.digit("format code", "01")
	vli := r.digit("funder ID length indicator", "0123456")
	if !r.failed() {
		r.field("funder ID", int(vli-'0')+6)
	}
	r.field("offer code", 6)
	vli = r.digit("serial number length indicator", "0123456789")
	if !r.failed() {
		r.field("serial number", int(vli-'0')+6)
	}
	if !r.failed() && r.pos != len(v) {
		r.fail(r.pos, "unexpected data after the serial number")
	}
	return r.bad
}

func firstNonDigit(s string) int {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return i
		}
	}
	return -1
}
