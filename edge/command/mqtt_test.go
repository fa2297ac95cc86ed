package command

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	mqttsrv "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/dockgate/dockgate/edge/broker"
	"github.com/dockgate/dockgate/edge/mqttpub"
)

// TestCommandOverMQTT sends a command through the embedded broker and waits
// for accepted and done on reply/{id}; a retained command is ignored.
func TestCommandOverMQTT(t *testing.T) {
	b, err := broker.Start(broker.Config{Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	r := newRig(t)
	r.d.opt.Now = time.Now
	r.d.Handle(LotHold, func(context.Context, Command) (any, error) { return map[string]bool{"held": true}, nil })
	p, err := mqttpub.New(mqttpub.Config{URL: b.URL(), Site: "s", Gateway: "g", Rate: -1,
		Backoff: func(int) time.Duration { return 20 * time.Millisecond }}, r.ob, nil)
	if err != nil {
		t.Fatal(err)
	}
	p.OnCommand(r.d.Submit)
	// A retained command, there before the gateway subscribes: it arrives
	// with the retain flag and must not run.
	stale := `{"id":"ret-1","expires_at":"` + time.Now().Add(time.Minute).UTC().Format(time.RFC3339) + `"}`
	if err := b.Server().Publish("dockgate/v1/s/g/cmd/lot.hold", []byte(stale), true, 1); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); _ = p.Run(ctx) }()
	go func() { defer wg.Done(); _ = r.d.Run(ctx) }()
	defer wg.Wait()
	defer cancel()

	got := make(chan Reply, 10)
	online := make(chan struct{}, 1)
	srv := b.Server()
	if err := srv.Subscribe("dockgate/v1/s/g/#", 1, func(_ *mqttsrv.Client, _ packets.Subscription, pk packets.Packet) {
		switch pk.TopicName {
		case "dockgate/v1/s/g/reply/h-1", "dockgate/v1/s/g/reply/ret-1":
			var rep Reply
			if json.Unmarshal(pk.Payload, &rep) == nil {
				got <- rep
			}
		case "dockgate/v1/s/g/status":
			select {
			case online <- struct{}{}:
			default:
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-online:
	case <-time.After(10 * time.Second):
		t.Fatal("publisher did not come online")
	}
	// The subscription to cmd/# follows the online status; wait for it.
	deadline := time.Now().Add(10 * time.Second)
	for len(srv.Topics.Subscribers("dockgate/v1/s/g/cmd/lot.hold").Subscriptions) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cmd := `{"id":"h-1","expires_at":"` + time.Now().Add(time.Minute).UTC().Format(time.RFC3339) + `","lot":"L1"}`
	if err := srv.Publish("dockgate/v1/s/g/cmd/lot.hold", []byte(cmd), false, 1); err != nil {
		t.Fatal(err)
	}
	var reps []Reply
	for len(reps) < 2 {
		select {
		case rep := <-got:
			reps = append(reps, rep)
		case <-time.After(10 * time.Second):
			t.Fatalf("replies so far %+v", reps)
		}
	}
	if reps[0].ID != "h-1" || reps[0].Status != StatusAccepted || reps[1].Status != StatusDone || string(reps[1].Result) != `{"held":true}` {
		t.Fatalf("replies %+v", reps)
	}
	// A repeat gets the remembered outcome.
	if err := srv.Publish("dockgate/v1/s/g/cmd/lot.hold", []byte(cmd), false, 1); err != nil {
		t.Fatal(err)
	}
	select {
	case rep := <-got:
		if rep.ID != "h-1" || rep.Status != StatusDone || !rep.Repeat {
			t.Fatalf("repeat reply %+v", rep)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no reply to the repeat")
	}
	select {
	case rep := <-got:
		t.Fatalf("extra reply %+v (a retained command must not run)", rep)
	case <-time.After(200 * time.Millisecond):
	}
}
