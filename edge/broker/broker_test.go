package broker

import (
	"errors"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
)

func connect(t *testing.T, url, user, pass string) error {
	t.Helper()
	o := paho.NewClientOptions().AddBroker(url).SetClientID("t-" + user).
		SetUsername(user).SetPassword(pass).SetAutoReconnect(false).SetConnectRetry(false).
		SetConnectTimeout(3 * time.Second)
	c := paho.NewClient(o)
	tok := c.Connect()
	if !tok.WaitTimeout(5 * time.Second) {
		return errors.New("connect timed out")
	}
	if tok.Error() == nil {
		c.Disconnect(100)
	}
	return tok.Error()
}

func TestLoopbackAnonymous(t *testing.T) {
	b, err := Start(Config{Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := connect(t, b.URL(), "", ""); err != nil {
		t.Fatalf("anonymous on loopback refused: %v", err)
	}
}

func TestCredentialsEnforced(t *testing.T) {
	b, err := Start(Config{Listen: "127.0.0.1:0", Username: "central", Password: "s3cret"})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := connect(t, b.URL(), "central", "s3cret"); err != nil {
		t.Fatalf("right credentials refused: %v", err)
	}
	if err := connect(t, b.URL(), "central", "wrong"); err == nil {
		t.Fatal("wrong password accepted")
	}
	if err := connect(t, b.URL(), "", ""); err == nil {
		t.Fatal("anonymous accepted when credentials are configured")
	}
}

func TestNonLoopbackNeedsCredentials(t *testing.T) {
	_, err := Start(Config{Listen: "0.0.0.0:0"})
	if !errors.Is(err, ErrCredentialsRequired) {
		t.Fatalf("got %v, want ErrCredentialsRequired", err)
	}
}

func TestPortInUse(t *testing.T) {
	b, err := Start(Config{Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if _, err := Start(Config{Listen: b.Addr()}); err == nil {
		t.Fatal("second broker on the same port started")
	}
}
