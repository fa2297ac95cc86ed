//go:build interop

package mqttpub

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// pki writes a CA, a server certificate for 127.0.0.1 and a client
// certificate into dir.
func pki(t *testing.T, dir string) (ca, srvCert, srvKey, cliCert, cliKey string) {
	t.Helper()
	now := time.Now()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "dockgate test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	write := func(name, typ string, der []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	leaf := func(serial int64, cn string, usage x509.ExtKeyUsage, ips []net.IP) (string, string) {
		k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn},
			NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{usage},
			KeyUsage: x509.KeyUsageDigitalSignature, IPAddresses: ips}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &k.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		kder, _ := x509.MarshalECPrivateKey(k)
		return write(cn+".pem", "CERTIFICATE", der), write(cn+".key", "EC PRIVATE KEY", kder)
	}
	ca = write("ca.pem", "CERTIFICATE", caDER)
	srvCert, srvKey = leaf(2, "server", x509.ExtKeyUsageServerAuth, []net.IP{net.IPv4(127, 0, 0, 1)})
	cliCert, cliKey = leaf(3, "gw1", x509.ExtKeyUsageClientAuth, nil)
	return
}

// TestInteropTLSPasswordAndACL runs the gateway against a Mosquitto that
// requires TLS with a client certificate, a password and the documented
// ACL: the central identity's command arrives, a rogue client's does not.
func TestInteropTLSPasswordAndACL(t *testing.T) {
	dir := t.TempDir()
	ca, sc, sk, cc, ck := pki(t, dir)
	pw := filepath.Join(dir, "passwd")
	for i, u := range [][2]string{{"gw1", "gw-secret"}, {"central", "central-secret"}, {"rogue", "rogue-secret"}} {
		args := []string{"-b", pw, u[0], u[1]}
		if i == 0 {
			args = append([]string{"-c"}, args...)
		}
		if out, err := exec.Command("mosquitto_passwd", args...).CombinedOutput(); err != nil {
			t.Fatalf("mosquitto_passwd: %v %s", err, out)
		}
	}
	acl := filepath.Join(dir, "acl")
	aclText := fmt.Sprintf(`user gw1
topic readwrite %[1]s/#

user central
topic write dockgate/v1/+/+/cmd/#
topic read dockgate/v1/#
`, prefix)
	if err := os.WriteFile(acl, []byte(aclText), 0o644); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	conf := filepath.Join(dir, "mosquitto.conf")
	// As root, mosquitto would drop to its own user, which cannot read the
	// test's private temporary directory; as anyone else the line is ignored.
	confText := fmt.Sprintf(`user root
per_listener_settings false
allow_anonymous false
password_file %s
acl_file %s
persistence false
listener %d 127.0.0.1
cafile %s
certfile %s
keyfile %s
require_certificate true
`, pw, acl, port, ca, sc, sk)
	if err := os.WriteFile(conf, []byte(confText), 0o644); err != nil {
		t.Fatal(err)
	}
	m := &mosquitto{port: port, conf: conf}
	m.start(t)
	t.Cleanup(m.kill)
	url := "ssl://127.0.0.1:" + strconv.Itoa(port)

	// Without the password the gateway cannot connect.
	ob := memOutbox(t)
	cfg := testConfig(url)
	cfg.CAFile, cfg.CertFile, cfg.KeyFile, cfg.Username = ca, cc, ck, "gw1"
	bad := cfg
	bad.Getenv = func(string) string { return "wrong" }
	pb, err := New(bad, ob, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pb.runSession(context.Background()); err == nil {
		t.Fatal("connected with a wrong password")
	}

	cfg.Getenv = func(k string) string {
		if k == PasswordEnv {
			return "gw-secret"
		}
		return ""
	}
	p, err := New(cfg, ob, nil)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var cmds []string
	p.OnCommand(func(name string, payload []byte) {
		mu.Lock()
		cmds = append(cmds, name+" "+string(payload))
		mu.Unlock()
	})
	runPublisher(t, p)

	client := func(user, pass string) mqtt.Client {
		tc, err := (Config{URL: url, CAFile: ca, CertFile: cc, KeyFile: ck}).TLSConfig()
		if err != nil {
			t.Fatal(err)
		}
		opts := mqtt.NewClientOptions().AddBroker(url).SetClientID(user).SetUsername(user).SetPassword(pass).
			SetTLSConfig(tc).SetAutoReconnect(false).SetCleanSession(true)
		c := mqtt.NewClient(opts)
		if err := waitToken(context.Background(), c.Connect(), 5*time.Second); err != nil {
			t.Fatalf("%s: %v", user, err)
		}
		t.Cleanup(func() { c.Disconnect(0) })
		return c
	}
	central := client("central", "central-secret")
	rogue := client("rogue", "rogue-secret")
	// Central sees the gateway online (read access) …
	s := newSink()
	if err := waitToken(context.Background(), central.Subscribe(prefix+"/status", 1, func(_ mqtt.Client, m mqtt.Message) {
		s.add(m.Topic(), m.Payload(), m.Retained())
	}), 5*time.Second); err != nil {
		t.Fatal(err)
	}
	s.waitFor(t, "online status at central", 10*time.Second, func() bool { return len(s.msgs) > 0 })
	// … and its command arrives; the rogue's is dropped by the ACL.
	deadline := time.Now().Add(10 * time.Second)
	for {
		if err := waitToken(context.Background(), rogue.Publish(prefix+"/cmd/lot.hold", 1, false, `{"id":"rogue"}`), 5*time.Second); err != nil {
			t.Fatal(err)
		}
		if err := waitToken(context.Background(), central.Publish(prefix+"/cmd/lot.hold", 1, false, `{"id":"central"}`), 5*time.Second); err != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
		mu.Lock()
		n := len(cmds)
		mu.Unlock()
		if n > 0 || time.Now().After(deadline) {
			break
		}
	}
	time.Sleep(200 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	if len(cmds) == 0 {
		t.Fatal("the central identity's command did not arrive")
	}
	for _, c := range cmds {
		if c != `lot.hold {"id":"central"}` {
			t.Fatalf("command %q reached the gateway: the ACL should drop it", c)
		}
	}
}
