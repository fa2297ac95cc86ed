package portal_test

import (
	"fmt"
	"time"

	"github.com/dockgate/dockgate/rfid"
	"github.com/dockgate/dockgate/rfid/portal"
)

// A case tag passes door DOOR1 from the outside antenna to the inside one;
// three seconds after its last read the pass closes.
func Example() {
	e, err := portal.New(portal.Config{
		Doors: []portal.DoorConfig{{ID: "DOOR1", Reader: "R1", AntennasOutside: []uint16{1}, AntennasInside: []uint16{2}}},
		Sink: func(ev portal.Event) {
			switch v := ev.(type) {
			case *portal.ArrivalEvent:
				fmt.Println("arrived", v.URI, "at", v.Door)
			case *portal.PassEvent:
				fmt.Println("pass", v.Door, v.Direction, "cases", v.Cases, "gtins", v.GTINs)
			}
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	t0 := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	tag := rfid.MustParseEPC("3054257BF46DB640000003E9")
	read := func(ant uint16, rssi int8, ms int) rfid.Read {
		return rfid.Read{EPC: tag, Reader: "R1", Antenna: ant, RSSI: rssi, HasRSSI: true, Time: t0.Add(time.Duration(ms) * time.Millisecond)}
	}
	e.Observe([]rfid.Read{read(1, -60, 0), read(1, -45, 300), read(2, -55, 500), read(2, -44, 900), read(2, -62, 1200)})
	e.Tick(t0.Add(5 * time.Second))
	// Output:
	// arrived urn:epc:id:sgtin:0614141.112345.1001 at DOOR1
	// pass DOOR1 in cases 1 gtins map[10614141123459:1]
}
