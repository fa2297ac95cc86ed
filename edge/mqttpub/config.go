package mqttpub

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/dockgate/dockgate/edge/outbox"
)

// PasswordEnv is the environment variable read for the broker password when
// no password file is configured.
const PasswordEnv = "DOCKGATE_MQTT_PASSWORD"

// ErrConfig: the configuration is invalid; the message names the field.
var ErrConfig = errors.New("invalid mqtt config")

// Config of the publisher. The yaml keys are those of the gateway's mqtt
// section; fields without a key come from elsewhere in the gateway config.
type Config struct {
	// URL of the broker: tcp://host:1883, ssl://host:8883 (also tls://,
	// mqtt://, mqtts://, ws://, wss://).
	URL string `yaml:"url"`
	// ClientID, default dockgate-{site}-{gateway}. It must be unique per
	// gateway: a second client with the same ID disconnects the first.
	ClientID string `yaml:"client_id"`
	Username string `yaml:"username"`
	// Password: set PasswordFile, or the environment variable
	// DOCKGATE_MQTT_PASSWORD; Password is for tests and is never read from
	// YAML.
	Password     string `yaml:"-"`
	PasswordFile string `yaml:"password_file"`
	// CAFile verifies the broker; CertFile and KeyFile are the client
	// certificate (both or neither).
	CAFile   string `yaml:"ca_file"`
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
	// TopicPrefix, default dockgate/v1/{site}/{gateway}.
	TopicPrefix string `yaml:"topic_prefix"`
	// KeepAlive, default 20s.
	KeepAlive time.Duration `yaml:"keepalive"`
	// ConnectTimeout, default 10s.
	ConnectTimeout time.Duration `yaml:"connect_timeout"`
	// AckTimeout is how long a PUBACK may take before the session is
	// considered broken and restarted (default 10s).
	AckTimeout time.Duration `yaml:"ack_timeout"`
	// InFlight is the window of QoS 1 publishes awaiting PUBACK (default
	// 20, Mosquitto's max_inflight_messages; 1 gives strict order even
	// across a broker that reorders).
	InFlight int `yaml:"inflight"`
	// Rate paces publishing, in messages per second, so that the replay of
	// a backlog after an outage does not flood the broker (default 1000;
	// negative: unpaced). Burst is the bucket size (default 100).
	Rate  float64 `yaml:"rate"`
	Burst int     `yaml:"burst"`
	// HealthyAfter: a session that lasted this long resets the backoff
	// (default 10s).
	HealthyAfter time.Duration `yaml:"healthy_after"`

	// Site and Gateway name this gateway (for the defaults).
	Site    string `yaml:"-"`
	Gateway string `yaml:"-"`
	// Version and ConfigHash go into the online status.
	Version    string `yaml:"-"`
	ConfigHash string `yaml:"-"`
	// Backoff is the wait before reconnect attempt n (0-based); default
	// jittered exponential from 500ms to 30s.
	Backoff func(attempt int) time.Duration `yaml:"-"`
	// Getenv reads the environment (default os.Getenv).
	Getenv func(string) string `yaml:"-"`
	// Now is the clock (default time.Now).
	Now func() time.Time `yaml:"-"`
}

// DefaultBackoff waits 500ms·2^attempt, at most 30s, with full jitter over
// the upper half.
func DefaultBackoff(attempt int) time.Duration {
	d := 500 * time.Millisecond << min(attempt, 6)
	d = min(d, 30*time.Second)
	return d/2 + rand.N(d/2+1)
}

// WithDefaults returns a copy of c with the defaults filled in.
func (c Config) WithDefaults() Config {
	if c.ClientID == "" {
		c.ClientID = "dockgate-" + c.Site + "-" + c.Gateway
	}
	if c.TopicPrefix == "" {
		c.TopicPrefix = "dockgate/v1/" + c.Site + "/" + c.Gateway
	}
	if c.KeepAlive == 0 {
		c.KeepAlive = 20 * time.Second
	}
	if c.ConnectTimeout == 0 {
		c.ConnectTimeout = 10 * time.Second
	}
	if c.AckTimeout == 0 {
		c.AckTimeout = 10 * time.Second
	}
	if c.InFlight == 0 {
		c.InFlight = 20
	}
	if c.Rate == 0 {
		c.Rate = 1000
	}
	if c.Burst == 0 {
		c.Burst = 100
	}
	if c.HealthyAfter == 0 {
		c.HealthyAfter = 10 * time.Second
	}
	if c.Backoff == nil {
		c.Backoff = DefaultBackoff
	}
	if c.Getenv == nil {
		c.Getenv = os.Getenv
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// Validate checks a config with defaults filled in.
func (c Config) Validate() error {
	bad := func(f string, a ...any) error { return fmt.Errorf("%w: "+f, append([]any{ErrConfig}, a...)...) }
	if c.URL == "" {
		return bad("mqtt.url is empty: set it to tcp://host:1883 or ssl://host:8883")
	}
	u, err := url.Parse(c.URL)
	if err != nil || u.Host == "" {
		return bad("mqtt.url %q is not a URL like tcp://host:1883", c.URL)
	}
	secure := false
	switch u.Scheme {
	case "tcp", "mqtt", "ws":
	case "ssl", "tls", "mqtts", "tcps", "wss":
		secure = true
	default:
		return bad("mqtt.url scheme %q: use tcp://, ssl://, tls://, mqtt://, mqtts://, ws:// or wss://", u.Scheme)
	}
	if !secure && (c.CAFile != "" || c.CertFile != "") {
		return bad("mqtt.ca_file/cert_file are set but mqtt.url %q is not TLS: use ssl://", c.URL)
	}
	if (c.CertFile == "") != (c.KeyFile == "") {
		return bad("mqtt.cert_file and mqtt.key_file go together: set both or neither")
	}
	if strings.Contains(c.TopicPrefix, "//") || strings.HasSuffix(c.TopicPrefix, "/") {
		return bad("mqtt.topic_prefix %q has an empty level: set site and gateway, or topic_prefix", c.TopicPrefix)
	}
	if err := outbox.CheckTopic(c.TopicPrefix); err != nil {
		return bad("mqtt.topic_prefix: %v", err)
	}
	if len(c.ClientID) == 0 || len(c.ClientID) > 65535 {
		return bad("mqtt.client_id is empty")
	}
	if c.InFlight < 1 || c.InFlight > 65535 {
		return bad("mqtt.inflight %d: use 1..65535 (20 matches Mosquitto's default)", c.InFlight)
	}
	if c.Burst < 1 {
		return bad("mqtt.burst %d: use at least 1", c.Burst)
	}
	for name, d := range map[string]time.Duration{"keepalive": c.KeepAlive, "connect_timeout": c.ConnectTimeout, "ack_timeout": c.AckTimeout, "healthy_after": c.HealthyAfter} {
		if d < 0 {
			return bad("mqtt.%s %v is negative", name, d)
		}
	}
	if c.KeepAlive > 0 && c.KeepAlive < time.Second {
		return bad("mqtt.keepalive %v: use at least 1s", c.KeepAlive)
	}
	return nil
}

// password resolves the broker password: the file, else the environment,
// else Password.
func (c Config) password() (string, error) {
	if c.PasswordFile != "" {
		b, err := os.ReadFile(c.PasswordFile)
		if err != nil {
			return "", fmt.Errorf("%w: mqtt.password_file: %v", ErrConfig, err)
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	}
	if p := c.Getenv(PasswordEnv); p != "" {
		return p, nil
	}
	return c.Password, nil
}

// TLSConfig loads the CA and the client certificate of a TLS URL (ssl://,
// tls://, mqtts://, tcps://, wss://); for any other URL it is nil. New
// calls it; check-config calls it too, so that a configuration it accepts
// loads at start.
func (c Config) TLSConfig() (*tls.Config, error) {
	u, err := url.Parse(c.URL)
	if err != nil {
		return nil, fmt.Errorf("%w: mqtt.url %q is not a URL like ssl://host:8883", ErrConfig, c.URL)
	}
	switch u.Scheme {
	case "ssl", "tls", "mqtts", "tcps", "wss":
	default:
		return nil, nil
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("%w: mqtt.ca_file: %v (point it at the CA certificate that signed the broker's, in PEM)", ErrConfig, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%w: mqtt.ca_file %s holds no PEM certificate (point it at the CA certificate that signed the broker's: a -----BEGIN CERTIFICATE----- block)", ErrConfig, c.CAFile)
		}
		tc.RootCAs = pool
	}
	if c.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("%w: mqtt.cert_file/key_file: %v (give the client certificate and the private key made with it, both in PEM)", ErrConfig, err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}
