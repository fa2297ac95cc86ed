package gs1

import "testing"

func TestCouponCode(t *testing.T) {
	good := []string{
		"012345612345611110123",
		"012345612345611110123" + "1" + "0" + "1" + "2" + "0" + "456" + "9",       // 2nd purchase, no company prefix
		"012345612345611110123" + "1" + "0" + "12" + "0" + "456" + "0" + "123456", // 2nd purchase with prefix
		"012345612345611110123" + "2" + "1" + "3" + "1" + "789" + "9",             // 3rd purchase
		"012345612345611110123" + "3" + "251231" + "4" + "250101",                 // expiry after start
		"012345612345611110123" + "5" + "0" + "123456",                            // serial
		"012345612345611110123" + "6" + "1" + "1234567",                           // retailer
		"012345612345611110123" + "9" + "0" + "1" + "5" + "1",                     // misc
	}
	for _, v := range good {
		if f := lintCouponCode(v); f.err != nil {
			t.Errorf("couponcode(%q): %s", v, f.msg)
		}
	}
	bad := []string{
		"", "a12345612345611110123", "01", "0123456", "71234567890123",
		"01234561234560", "012345612345611", "0123456123456111701234",
		"012345612345611110123" + "3" + "251331",
		"012345612345611110123" + "3" + "250101" + "4" + "251231", // expiry before start
		"012345612345611110123" + "9" + "3" + "1" + "5" + "1",
		"012345612345611110123" + "7",
	}
	for _, v := range bad {
		if f := lintCouponCode(v); f.err == nil {
			t.Errorf("couponcode(%q) passed", v)
		}
	}
}

func TestCouponPosOffer(t *testing.T) {
	for _, v := range []string{"001234561234560123456", "101234561234560123456", "0012345612345611234567", "061234567890121234569123456789012345"} {
		if f := lintCouponPosOffer(v); f.err != nil {
			t.Errorf("couponposoffer(%q): %s", v, f.msg)
		}
	}
	for _, v := range []string{"", "201234561234560123456", "0", "07", "00123456", "00123456123456", "001234561234561123456", "0012345612345601234567", "a01234561234560123456"} {
		if f := lintCouponPosOffer(v); f.err == nil {
			t.Errorf("couponposoffer(%q) passed", v)
		}
	}
	if _, err := Parse("(8112)001234561234560123456"); err != nil {
		t.Error(err)
	}
	if _, err := Parse("(8110)012345612345611110123"); err != nil {
		t.Error(err)
	}
}
