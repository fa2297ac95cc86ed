package lot_test

import (
	"fmt"
	"time"

	"github.com/dockgate/dockgate/encoder/lot"
)

func ExampleFormat_Generate() {
	f, err := lot.Compile("std", lot.FormatConfig{Format: "{YYMM}-{BRAND}-{PRODUCT}-{SEQ:3}", Brand: "LWX"}, nil)
	if err != nil {
		panic(err)
	}
	may := time.Date(2025, 5, 7, 0, 0, 0, 0, time.UTC)
	for seq := uint64(1); seq <= 2; seq++ {
		code, _ := f.Generate(lot.Values{Date: may, Product: "WLD01"}, seq)
		fmt.Println(code)
	}
	fmt.Println(f.Scope(), f.Per(), f.SeqMax(), f.WorstCase())
	// Output:
	// 2505-LWX-WLD01-001
	// 2505-LWX-WLD01-002
	// month product 999 9912-BBBB-PPPPPP-999
}

func ExampleFormat_Decode() {
	f, _ := lot.Compile("", lot.FormatConfig{Format: "{YY}{JJJ}-{DOOR}-{SEQ:4}{CHECK}"}, nil)
	code, _ := f.Generate(lot.Values{Date: time.Date(2025, 5, 7, 0, 0, 0, 0, time.UTC), Door: "D3"}, 42)
	fl, err := f.Decode(code)
	fmt.Println(code, fl.Date, fl.Door, fl.Seq, err)
	_, err = f.Decode(code[:len(code)-1] + "0")
	fmt.Println(err)
	// Output:
	// 25127-D3-0042L 2025-05-07 D3 42 <nil>
	// lot: check character mismatch: code "25127-D3-00420" ends in "0" but its MOD 37,36 check character is 'L'; the code was mistyped or misread
}
