package llrp_test

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/dockgate/dockgate/rfid"
	"github.com/dockgate/dockgate/rfid/llrp"
	"github.com/dockgate/dockgate/rfid/readersim"
)

// A session against the simulated reader prints the first tag it reads.
func ExampleSession() {
	sc, _ := readersim.Load("dock-out")
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	go func() { _ = readersim.New(sc).Serve(ctx, ln) }()

	first := make(chan rfid.Read, 1)
	s, err := llrp.NewSession(llrp.Config{
		ReaderID: "R1", Address: ln.Addr().String(), Antennas: []uint16{1, 2, 3, 4},
		OnReads: func(batch []rfid.Read) {
			select {
			case first <- batch[0]: // batches are reused: copy what you keep
			default:
			}
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	go func() { _ = s.Run(ctx) }()
	r := <-first
	fmt.Println(r.Reader, r.EPC.BitLen(), r.HasRSSI)
	// Output: R1 96 true
}
