package epc_test

import (
	"fmt"

	"github.com/dockgate/dockgate/encoder/epc"
	"github.com/dockgate/dockgate/encoder/gs1"
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

func ExampleEPC_WithAIDC() {
	e, err := epc.NewSGTINPlus(int(epc.FilterPointOfSale), "09506000134352", "1001")
	if err != nil {
		panic(err)
	}
	e, err = e.WithAIDC(gs1.Element{AI: "10", Value: "LOT42"}, gs1.Element{AI: "17", Value: "261231"})
	if err != nil {
		panic(err)
	}
	fmt.Println(e.Hex())
	fmt.Println(e.GS1())
	// Output:
	// F7909506000134352040FA44194B393E3617359F
	// (01)09506000134352(21)1001(10)LOT42(17)261231
}

func ExampleCompanyPrefixTable() {
	t, err := epc.NewCompanyPrefixTable([]epc.CompanyPrefixEntry{
		{Prefix: "0614141", Length: 7},
		{Prefix: "9506000", Length: 11},
	})
	if err != nil {
		panic(err)
	}
	n, _ := t.ForGTIN("09506000134352")
	e, _ := epc.NewSGTIN96(3, n, "09506000134352", 123456789)
	fmt.Println(n, e.Hex())
	// Output:
	// 11 3066C4409047E140075BCD15
}
