package epc_test

import (
	"fmt"

	"github.com/dockgate/dockgate/encoder/epc"
)

func ExampleDecodeHex() {
	e, err := epc.DecodeHex("3074257BF7194E4000001A85")
	if err != nil {
		panic(err)
	}
	fmt.Println(e.Scheme(), e.Filter())
	fmt.Println(e.TagURI())
	fmt.Println(e.PureURI())
	fmt.Println(e.GS1())
	dl, _ := e.DigitalLink("")
	fmt.Println(dl)
	// Output:
	// sgtin-96 3
	// urn:epc:tag:sgtin-96:3.0614141.812345.6789
	// urn:epc:id:sgtin:0614141.812345.6789
	// (01)80614141123458(21)6789
	// https://id.gs1.org/01/80614141123458/21/6789
}

func ExampleDecodeHex_sgtinPlus() {
	e, err := epc.DecodeHex("F73795211411234538566CB0AFC4")
	if err != nil {
		panic(err)
	}
	dl, _ := e.DigitalLink("")
	fmt.Println(e.Scheme(), e.Filter(), e.GTIN(), e.Serial())
	fmt.Println(dl)
	// Output:
	// sgtin+ 3 79521141123453 32a/b
	// https://id.gs1.org/01/79521141123453/21/32a%2Fb
}

func ExampleNewSGTIN96() {
	e, err := epc.NewSGTIN96(3, 7, "80614141123458", 6789)
	if err != nil {
		panic(err)
	}
	fmt.Println(e.Hex())
	// Output:
	// 3074257BF7194E4000001A85
}
