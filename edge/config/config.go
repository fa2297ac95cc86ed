// Package config is the gateway's configuration: plain structs loaded from
// YAML, defaults filled on a copy, validated at load.
//
// Unknown keys are errors with their line number; every problem names the
// field and how to fix it, and Load reports all of them at once. Secrets are
// read from files or environment variables, never from the YAML itself (see
// the configuration reference, docs/configuration.md).
package config

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/dockgate/dockgate/edge/broker"
	"github.com/dockgate/dockgate/edge/command"
	"github.com/dockgate/dockgate/edge/mqttpub"
	"github.com/dockgate/dockgate/edge/outbox"
	"github.com/dockgate/dockgate/edge/scanner"
	"github.com/dockgate/dockgate/edge/signals"
	"github.com/dockgate/dockgate/encoder/epc"
	"github.com/dockgate/dockgate/encoder/gs1"
	"github.com/dockgate/dockgate/encoder/label"
	"github.com/dockgate/dockgate/encoder/lot"
	"github.com/dockgate/dockgate/internal/yamltype"
	"github.com/dockgate/dockgate/printers"
	"github.com/dockgate/dockgate/rfid/portal"
	"github.com/dockgate/dockgate/rfid/readers"
	"github.com/dockgate/dockgate/rfid/readersim"
)

// Environment variables that may carry secrets.
const (
	EnvMQTTPassword   = "DOCKGATE_MQTT_PASSWORD"
	EnvBrokerPassword = "DOCKGATE_BROKER_PASSWORD"
	EnvHTTPToken      = "DOCKGATE_HTTP_TOKEN"
	// EnvTagAccessPassword is the RFID tags' access password of every
	// printer with lock: epc, before its access_password_file.
	EnvTagAccessPassword = "DOCKGATE_TAG_ACCESS_PASSWORD"
)

// Config is the whole gateway configuration.
type Config struct {
	Site      string            `yaml:"site"`
	Gateway   string            `yaml:"gateway"`
	DataDir   string            `yaml:"data_dir"`
	MQTT      MQTT              `yaml:"mqtt"`
	HTTP      HTTP              `yaml:"http"`
	Broker    Broker            `yaml:"broker"`
	GS1       GS1               `yaml:"gs1"`
	Doors     []Door            `yaml:"doors"`
	Printers  []printers.Config `yaml:"printers"`
	Readers   []readers.Config  `yaml:"readers"`
	Scanners  []scanner.Config  `yaml:"scanners"`
	Outbox    outbox.Options    `yaml:"outbox"`
	Commands  command.Options   `yaml:"commands"`
	Lots      lot.Config        `yaml:"lots"`
	Labels    Labels            `yaml:"labels"`
	Receiving Receiving         `yaml:"receiving"`
	Sync      Sync              `yaml:"sync"`
}

// Sync makes the gateway one of a site's gateways on one broker (see
// docs/site-sync.md): lot statuses and the cartons received are shared
// with the others. Off by default: a gateway alone knows only its own.
type Sync struct {
	// Enabled shares lot statuses (retained on
	// dockgate/v1/{site}/lots/{code}/status) and receipts' cartons
	// (dockgate/v1/{site}/cartons/…) with the site's other gateways.
	Enabled bool `yaml:"enabled"`
	// StaleAfter: /healthz warns when the site has not been heard for
	// longer (default 5m); the gateway goes on enforcing what it knew.
	StaleAfter time.Duration `yaml:"stale_after"`
}

// DefaultStaleAfter is sync.stale_after when it is not given.
const DefaultStaleAfter = 5 * time.Minute

// EPC schemes of carton tags (labels.epc_scheme).
const (
	EPCSchemeSSCC96    = "sscc-96"
	EPCSchemeSSCCPlus  = "sscc+"
	EPCSchemeSGTINPlus = "sgtin+"
)

// Receiving is how receipts are taken.
type Receiving struct {
	// AcceptExpired receives goods past their expiry date (17) without
	// the request saying so; they are refused otherwise (422).
	AcceptExpired bool `yaml:"accept_expired"`
}

// MQTT is the connection to the central broker. An empty URL starts the
// embedded broker (see Broker).
type MQTT struct {
	URL          string        `yaml:"url"`
	ClientID     string        `yaml:"client_id"`
	Username     string        `yaml:"username"`
	PasswordFile string        `yaml:"password_file"`
	CAFile       string        `yaml:"ca_file"`
	CertFile     string        `yaml:"cert_file"`
	KeyFile      string        `yaml:"key_file"`
	TopicPrefix  string        `yaml:"topic_prefix"`
	KeepAlive    time.Duration `yaml:"keepalive"`
	// Inflight is the number of QoS 1 publishes awaiting PUBACK at once.
	Inflight int `yaml:"inflight"`
	// ConnectTimeout bounds a connection attempt; AckTimeout a PUBACK (a
	// later one restarts the session); HealthyAfter is how long a session
	// must last to reset the reconnect backoff.
	ConnectTimeout time.Duration `yaml:"connect_timeout"`
	AckTimeout     time.Duration `yaml:"ack_timeout"`
	HealthyAfter   time.Duration `yaml:"healthy_after"`
	// Rate paces publishing in messages per second (a backlog after an
	// outage must not flood the broker); -1 is unpaced. Burst is the bucket.
	Rate  float64 `yaml:"rate"`
	Burst int     `yaml:"burst"`
	// Password is read from PasswordFile or DOCKGATE_MQTT_PASSWORD at load.
	Password string `yaml:"-"`
}

// HTTP is the local API.
type HTTP struct {
	// Listen is host:port; empty disables the API.
	Listen string `yaml:"listen"`
	// TokenFile holds the bearer token required on a non-loopback address.
	TokenFile string `yaml:"token_file"`
	// Token is read from TokenFile or DOCKGATE_HTTP_TOKEN at load.
	Token string `yaml:"-"`
	// TokenName names the token's holder (a WMS, a team) in the label
	// audit trail; default "token". Requests on a loopback API without a
	// token are "local".
	TokenName string `yaml:"token_name"`
}

// Broker is the embedded MQTT broker, used when mqtt.url is empty.
type Broker struct {
	Listen       string `yaml:"listen"`
	Username     string `yaml:"username"`
	PasswordFile string `yaml:"password_file"`
	Password     string `yaml:"-"`
}

// GS1 holds the identities the gateway issues.
type GS1 struct {
	// CompanyPrefix is the GS1 company prefix (6–12 digits) used for SSCCs
	// and EPCs the gateway allocates.
	CompanyPrefix string `yaml:"company_prefix"`
	// SSCCExtension is the SSCC extension digit (0–9).
	SSCCExtension int `yaml:"sscc_extension"`
	// SSCCSerialStart and SSCCSerialEnd bound the serial references this
	// gateway may allocate (gateways of one company get disjoint ranges).
	SSCCSerialStart uint64 `yaml:"sscc_serial_start"`
	SSCCSerialEnd   uint64 `yaml:"sscc_serial_end"`
	// DigitalLinkDomain is the domain of GS1 Digital Link URIs on labels.
	DigitalLinkDomain string `yaml:"digital_link_domain"`
	// GLN is the site's Global Location Number (13 digits) for EPCIS.
	GLN string `yaml:"gln"`
	// CompanyPrefixes and CompanyPrefixFile (GS1's GCP prefix format list,
	// JSON; CompanyPrefixes replace its entries) give the company prefix
	// length of suppliers' SSCCs, which their EPCs need; the gateway's own
	// company_prefix is always known.
	CompanyPrefixes   []epc.CompanyPrefixEntry `yaml:"company_prefixes"`
	CompanyPrefixFile string                   `yaml:"company_prefix_file"`
}

// CompanyPrefixTable is the table of company prefix lengths: GS1's list
// from the file, company_prefixes replacing its entries, and the gateway's
// own prefix.
func (g GS1) CompanyPrefixTable() (*epc.CompanyPrefixTable, error) {
	var t *epc.CompanyPrefixTable
	if g.CompanyPrefixFile != "" {
		b, err := os.ReadFile(g.CompanyPrefixFile)
		if err != nil {
			return nil, fmt.Errorf("gs1.company_prefix_file: %w (point it at GS1's GCP prefix format list in JSON, or list the prefixes under gs1.company_prefixes)", err)
		}
		if t, err = epc.ParseGCPPrefixFormatList(b); err != nil {
			return nil, fmt.Errorf("gs1.company_prefix_file %s: %s", g.CompanyPrefixFile, strings.TrimPrefix(err.Error(), "epc: "))
		}
	}
	t, err := t.With(g.CompanyPrefixes)
	if err != nil {
		return nil, fmt.Errorf("gs1.company_prefixes: %s", strings.TrimPrefix(err.Error(), "epc: "))
	}
	if cp := g.CompanyPrefix; !digitsPattern.MatchString(cp) || len(cp) < 6 || len(cp) > 12 {
		return t, nil // Validate says what is wrong with it
	}
	if n, ok := t.Lookup(g.CompanyPrefix); ok && n != len(g.CompanyPrefix) {
		return nil, fmt.Errorf("gs1.company_prefixes: the table gives prefix %s a length of %d, but gs1.company_prefix has %d digits: correct the entry or the prefix", g.CompanyPrefix, n, len(g.CompanyPrefix))
	}
	return t.With([]epc.CompanyPrefixEntry{{Prefix: g.CompanyPrefix, Length: len(g.CompanyPrefix)}})
}

// Door is one dock door: the portal settings of rfid/portal, its printer
// and its EPCIS location.
type Door struct {
	portal.DoorConfig `yaml:",inline"`
	// Printer is the id of the door's label printer.
	Printer string `yaml:"printer"`
	// Location is the door's GLN extension used in EPCIS readPoint (SGLN).
	Location string `yaml:"location"`
	// Returns makes the door a returns door: a carton that left with a
	// shipment and passes in is returned in this condition (resaleable,
	// damaged or quarantine; edge/shipping). Empty: no returns here.
	Returns string `yaml:"returns"`
	// Signals light the outputs of the door's reader (a light stack, a
	// buzzer) on the door's events (edge/signals).
	Signals []signals.Rule `yaml:"signals"`
}

// TransportSim runs a printer simulator inside the gateway (printers/printersim)
// on a free loopback port: the embedded defaults and the demo use it.
const TransportSim = "sim"

// Labels configures label rendering.
type Labels struct {
	// Carton is the template used for carton labels at receiving: a built-in
	// name (carton, item, pallet, pallet-ship) or a template file.
	Carton string `yaml:"carton"`
	// Templates maps extra template names to files.
	Templates map[string]string `yaml:"templates"`
	// PreviewDir, when set, receives a PNG preview of every label printed.
	PreviewDir string `yaml:"preview_dir"`
	// EPCScheme is what a carton's tag carries: sscc-96 (the default),
	// or a TDS 2.x '+' scheme with the lot (10) and expiry (17) after the
	// key, so that any door knows the lot from the read alone: sscc+, or
	// sgtin+ (the receipt's GTIN with the carton's SSCC as its serial).
	EPCScheme string `yaml:"epc_scheme"`
	// KeepJobs is how long a print job that is confirmed or cancelled is
	// kept (default 720h, 30 days): reprint by job id and the printer's job
	// history need it; the label audit trail keeps every label regardless.
	KeepJobs time.Duration `yaml:"keep_jobs"`
}

// DefaultKeepJobs is labels.keep_jobs when it is not given.
const DefaultKeepJobs = 30 * 24 * time.Hour

// Problems is every problem found in a configuration.
type Problems []string

func (p Problems) Error() string { return strings.Join(p, "\n") }

// ErrInvalid is wrapped by every load error.
var ErrInvalid = errors.New("invalid configuration")

// DefaultHTTPListen is the local API's address when http.listen is not given.
const DefaultHTTPListen = "127.0.0.1:8080"

// Default is the configuration `dockgate run` uses without a file: embedded
// broker, one door DOOR1 with a simulated printer and a simulated portal.
func Default() *Config {
	c := &Config{
		HTTP:     HTTP{Listen: DefaultHTTPListen},
		Doors:    []Door{{DoorConfig: portal.DoorConfig{ID: "DOOR1", Role: portal.RoleReceiving, Reader: "R1", AntennasOutside: []uint16{1, 2}, AntennasInside: []uint16{3, 4}}, Printer: "P1"}},
		Printers: []printers.Config{{ID: "P1", Profile: "zebra-zt411r-203", Transport: TransportSim}},
		Readers:  []readers.Config{{ID: "R1", Type: readers.TypeSim, Scenario: "dock-in"}},
	}
	c.fill()
	return c
}

// Load reads, fills and validates the file at path. getenv supplies secret
// environment variables (os.Getenv when nil).
func Load(path string, getenv func(string) string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		// Both wrapped: callers tell a missing file (fs.ErrNotExist) from
		// a bad one and still see ErrInvalid.
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return Parse(b, getenv)
}

// Parse is Load on bytes.
func Parse(b []byte, getenv func(string) string) (*Config, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	var probs Problems
	var root yaml.Node
	// Defaults that an explicit empty value may override are set before
	// decoding: `http: {listen: ""}` disables the API.
	c := &Config{HTTP: HTTP{Listen: DefaultHTTPListen}}
	if err := yaml.Unmarshal(b, &root); err != nil {
		// A syntax error stops the parse: it is the only problem reported.
		return nil, fmt.Errorf("%w:\n%w", ErrInvalid, Problems{syntaxProblem(b, err)})
	}
	if len(root.Content) > 0 {
		doc := root.Content[0]
		if doc.Kind != yaml.MappingNode {
			return nil, fmt.Errorf("%w:\n%w", ErrInvalid, Problems{fmt.Sprintf("line %d: the file must be a mapping of keys (site:, gateway:, mqtt: …)", doc.Line)})
		}
		// Unknown keys, values of the wrong type and durations
		// without a unit, each naming its key and what it takes.
		walked := yamltype.Problems(doc, reflect.TypeOf(*c), "")
		probs = append(probs, walked...)
		if err := doc.Decode(c); err != nil {
			var te *yaml.TypeError
			if errors.As(err, &te) {
				// The decoder's own message (cannot unmarshal
				// !!str `big` into int64) is kept only for a line
				// the walk said nothing about.
				lines := map[string]bool{}
				for _, p := range walked {
					if m := errLinePattern.FindString(p); m != "" {
						lines[m] = true
					}
				}
				for _, e := range te.Errors {
					if !lines[errLinePattern.FindString(e)] {
						probs = append(probs, e)
					}
				}
			} else {
				probs = append(probs, err.Error())
			}
		}
	}
	c.fill()
	probs = append(probs, c.readSecrets(getenv)...)
	probs = append(probs, c.Validate()...)
	if len(probs) > 0 {
		return nil, fmt.Errorf("%w:\n%w", ErrInvalid, probs)
	}
	return c, nil
}

var errLinePattern = regexp.MustCompile(`^line ([0-9]+): `)

// syntaxProblem is a YAML syntax error with its line. A tab in the
// indentation is the usual cause of "cannot start any token", and the
// parser does not say so.
func syntaxProblem(b []byte, err error) string {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	m := errLinePattern.FindStringSubmatch(msg)
	if m == nil {
		return msg
	}
	lines := strings.Split(string(b), "\n")
	if n, _ := strconv.Atoi(m[1]); n >= 1 && n <= len(lines) && strings.Contains(lines[n-1], "\t") {
		msg += " (the line holds a tab: indent YAML with spaces)"
	}
	return msg
}

// Complete fills the defaults of a configuration built in code (the demo,
// tests), reads its secrets and validates it, as Load does for a file.
func Complete(c *Config, getenv func(string) string) (*Config, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	c.fill()
	probs := c.readSecrets(getenv)
	probs = append(probs, c.Validate()...)
	if len(probs) > 0 {
		return nil, fmt.Errorf("%w:\n%w", ErrInvalid, probs)
	}
	return c, nil
}

// fill sets defaults on the receiver.
func (c *Config) fill() {
	if c.Site == "" {
		c.Site = "site"
	}
	if c.Gateway == "" {
		if h, err := os.Hostname(); err == nil && idPattern.MatchString(h) {
			c.Gateway = h
		} else {
			c.Gateway = "gateway"
		}
	}
	if c.DataDir == "" {
		c.DataDir = "./dockgate-data"
	}
	if c.MQTT.TopicPrefix == "" {
		c.MQTT.TopicPrefix = "dockgate/v1/{site}/{gateway}"
	}
	if c.MQTT.ClientID == "" {
		c.MQTT.ClientID = "dockgate-{site}-{gateway}"
	}
	c.MQTT.TopicPrefix = c.expand(c.MQTT.TopicPrefix)
	c.MQTT.ClientID = c.expand(c.MQTT.ClientID)
	if c.MQTT.KeepAlive == 0 {
		c.MQTT.KeepAlive = 20 * time.Second
	}
	if c.MQTT.Inflight == 0 {
		c.MQTT.Inflight = 20
	}
	if c.Broker.Listen == "" {
		c.Broker.Listen = "127.0.0.1:1883"
	}
	if c.GS1.CompanyPrefix == "" {
		// GS1's documentation prefix: fine for demos, never for production
		// labels (check-config does not insist, the README says so).
		c.GS1.CompanyPrefix = "0614141"
	}
	if c.GS1.SSCCSerialEnd == 0 {
		c.GS1.SSCCSerialEnd = maxSerialRef(len(c.GS1.CompanyPrefix))
	}
	if c.GS1.DigitalLinkDomain == "" {
		c.GS1.DigitalLinkDomain = "id.gs1.org"
	}
	for i := range c.Doors {
		c.Doors[i].DoorConfig = c.Doors[i].DoorConfig.WithDefaults()
		c.Doors[i].Signals = signals.WithDefaults(c.Doors[i].Signals)
	}
	for i := range c.Printers {
		p := &c.Printers[i]
		if p.Door == "" {
			for _, d := range c.Doors {
				if d.Printer == p.ID {
					p.Door = d.ID
				}
			}
		}
		*p = p.WithDefaults()
	}
	for i := range c.Readers {
		c.Readers[i] = c.Readers[i].WithDefaults()
	}
	for i := range c.Scanners {
		c.Scanners[i] = c.Scanners[i].WithDefaults()
	}
	if len(c.Lots.Formats) == 0 {
		c.Lots.Formats = map[string]lot.FormatConfig{
			"default": {Format: "{YYMM}-{BRAND}-{PRODUCT}-{SEQ:3}", Brand: "LWX"},
		}
	}
	if c.Lots.DefaultFormat == "" && len(c.Lots.Formats) == 1 {
		for n := range c.Lots.Formats {
			c.Lots.DefaultFormat = n
		}
	}
	if c.Labels.Carton == "" {
		c.Labels.Carton = "carton"
	}
	if c.Labels.KeepJobs == 0 {
		c.Labels.KeepJobs = DefaultKeepJobs
	}
	if c.Labels.EPCScheme == "" {
		c.Labels.EPCScheme = EPCSchemeSSCC96
	}
	if c.Sync.StaleAfter == 0 {
		c.Sync.StaleAfter = DefaultStaleAfter
	}
}

func maxSerialRef(cpLen int) uint64 {
	// SSCC: extension + company prefix + serial reference = 17 digits.
	digits := 16 - cpLen
	if digits <= 0 || digits > 10 {
		return 0
	}
	m := uint64(1)
	for i := 0; i < digits; i++ {
		m *= 10
	}
	return m - 1
}

func (c *Config) expand(s string) string {
	return strings.NewReplacer("{site}", c.Site, "{gateway}", c.Gateway).Replace(s)
}

func (c *Config) readSecrets(getenv func(string) string) Problems {
	var probs Problems
	read := func(field, file, env string, dst *string) {
		if v := getenv(env); v != "" {
			*dst = v
			return
		}
		if file == "" {
			return
		}
		b, err := os.ReadFile(file)
		if err != nil {
			probs = append(probs, fmt.Sprintf("%s: cannot read %s: %v (point it at a readable file, or set %s)", field, file, errors.Unwrap(err), env))
			return
		}
		*dst = strings.TrimRight(string(b), "\r\n")
	}
	read("mqtt.password_file", c.MQTT.PasswordFile, EnvMQTTPassword, &c.MQTT.Password)
	read("broker.password_file", c.Broker.PasswordFile, EnvBrokerPassword, &c.Broker.Password)
	read("http.token_file", c.HTTP.TokenFile, EnvHTTPToken, &c.HTTP.Token)
	for i := range c.Printers {
		p := &c.Printers[i]
		if v := getenv(EnvTagAccessPassword); v != "" && p.Lock != "" {
			p.AccessPassword = strings.TrimSpace(v)
			if err := printers.CheckAccessPassword(p.AccessPassword); err != nil {
				probs = append(probs, fmt.Sprintf("%s: %v", EnvTagAccessPassword, err))
				p.AccessPassword = "" // said here, not again by the printer's checks
			}
			continue
		}
		if p.AccessPasswordFile == "" {
			continue
		}
		field := fmt.Sprintf("printers[%d].access_password_file", i)
		b, err := os.ReadFile(p.AccessPasswordFile)
		if err != nil {
			probs = append(probs, fmt.Sprintf("%s: cannot read %s: %v (point it at a readable file holding the tags' access password, or set %s)", field, p.AccessPasswordFile, errors.Unwrap(err), EnvTagAccessPassword))
			continue
		}
		p.AccessPassword = strings.TrimSpace(string(b))
		if err := printers.CheckAccessPassword(p.AccessPassword); err != nil {
			probs = append(probs, fmt.Sprintf("%s: %s: %v", field, p.AccessPasswordFile, err))
			p.AccessPassword = "" // said here, not again by the printer's checks
		}
	}
	return probs
}

var (
	idPattern     = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)
	digitsPattern = regexp.MustCompile(`^[0-9]+$`)
)

// Validate returns every problem of a filled configuration.
func (c *Config) Validate() Problems {
	var p Problems
	add := func(format string, a ...any) { p = append(p, fmt.Sprintf(format, a...)) }
	if !idPattern.MatchString(c.Site) {
		add("site: %q is not a valid id (letters, digits, '.', '_', '-'; at most 64; no '/', '+' or '#', which break MQTT topics)", c.Site)
	}
	if !idPattern.MatchString(c.Gateway) {
		add("gateway: %q is not a valid id (letters, digits, '.', '_', '-'; at most 64; unique per box)", c.Gateway)
	}
	urlOK := true
	if c.MQTT.URL != "" {
		u, err := url.Parse(c.MQTT.URL)
		urlOK = err == nil
		switch {
		case err != nil:
			add("mqtt.url: %v (write it like tcp://broker.example:1883 or ssl://broker.example:8883)", err)
		case u.Scheme != "tcp" && u.Scheme != "ssl" && u.Scheme != "tls" && u.Scheme != "mqtt" && u.Scheme != "mqtts" && u.Scheme != "ws" && u.Scheme != "wss":
			add("mqtt.url: scheme %q is not supported (use tcp://, ssl://, mqtt://, mqtts://, ws:// or wss://)", u.Scheme)
		case u.Host == "":
			add("mqtt.url: %q has no host (write it like tcp://broker.example:1883)", c.MQTT.URL)
		case u.Port() == "" && u.Scheme != "ws" && u.Scheme != "wss":
			// The publisher dials host:port as written; only WebSocket
			// URLs have a default port.
			add("mqtt.url: %q has no port (write it like tcp://broker.example:1883 or ssl://broker.example:8883)", c.MQTT.URL)
		case u.Port() != "":
			if n, err := strconv.Atoi(u.Port()); err != nil || n < 1 || n > 65535 {
				add("mqtt.url: port %s of %q is out of range (1 to 65535)", u.Port(), c.MQTT.URL)
			}
		}
	}
	tlsOK := urlOK
	if (c.MQTT.CertFile == "") != (c.MQTT.KeyFile == "") {
		add("mqtt.cert_file and mqtt.key_file: give both for a client certificate, or neither")
		tlsOK = false
	}
	for _, f := range []struct{ name, path string }{{"mqtt.ca_file", c.MQTT.CAFile}, {"mqtt.cert_file", c.MQTT.CertFile}, {"mqtt.key_file", c.MQTT.KeyFile}} {
		if f.path != "" {
			if _, err := os.Stat(f.path); err != nil {
				add("%s: %s does not exist (fix the path)", f.name, f.path)
				tlsOK = false
			}
		}
	}
	if tlsOK {
		// The publisher's own loader: what it refuses at start is
		// refused here.
		tc, err := mqttpub.Config{URL: c.MQTT.URL, CAFile: c.MQTT.CAFile, CertFile: c.MQTT.CertFile, KeyFile: c.MQTT.KeyFile}.TLSConfig()
		switch {
		case err != nil:
			add("%s", strings.TrimPrefix(err.Error(), mqttpub.ErrConfig.Error()+": "))
		case tc != nil:
		case c.MQTT.CAFile == "" && c.MQTT.CertFile == "":
		case c.MQTT.URL == "":
			add("mqtt.ca_file, mqtt.cert_file: the embedded broker (mqtt.url empty) does not speak TLS: set mqtt.url to the ssl:// broker they are for, or remove them")
		default:
			add("mqtt.ca_file, mqtt.cert_file: mqtt.url %q is not TLS: write it with ssl:// (or mqtts://, wss://), or remove them", c.MQTT.URL)
		}
	}
	if strings.ContainsAny(c.MQTT.TopicPrefix, "+#") || strings.HasSuffix(c.MQTT.TopicPrefix, "/") {
		add("mqtt.topic_prefix: %q must not contain '+' or '#' or end with '/'", c.MQTT.TopicPrefix)
	}
	if c.MQTT.KeepAlive < time.Second {
		add("mqtt.keepalive: %s is too short (use 15s to 60s)", c.MQTT.KeepAlive)
	}
	if c.MQTT.Inflight < 1 || c.MQTT.Inflight > 20 {
		add("mqtt.inflight: %d is out of range (1 to 20; Mosquitto's default limit is 20)", c.MQTT.Inflight)
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"mqtt.connect_timeout", c.MQTT.ConnectTimeout}, {"mqtt.ack_timeout", c.MQTT.AckTimeout}, {"mqtt.healthy_after", c.MQTT.HealthyAfter},
		{"outbox.gc_interval", c.Outbox.GCInterval}, {"commands.ttl", c.Commands.TTL}, {"commands.timeout", c.Commands.Timeout}} {
		if d.v < 0 {
			add("%s: %s must not be negative (leave it out for the default)", d.name, d.v)
		}
	}
	if c.MQTT.Rate < 0 && c.MQTT.Rate != -1 {
		add("mqtt.rate: %v: give messages per second, or -1 for unpaced", c.MQTT.Rate)
	}
	if c.MQTT.Burst < 0 || c.Outbox.MaxBytes < 0 || c.Outbox.MaxEventBytes < 0 || c.Outbox.MaxAttempts < 0 || c.Commands.Queue < 0 || c.Commands.Workers < 0 {
		add("mqtt.burst, outbox.max_bytes, outbox.max_event_bytes, outbox.max_attempts, commands.queue, commands.workers: must not be negative (leave them out for the defaults)")
	}
	// An event must hold a pass's counts and a few tags, an alert, a
	// receipt: below this every portal event would be refused.
	if n := c.Outbox.MaxEventBytes; n > 0 && n < minEventBytes {
		add("outbox.max_event_bytes: %d is below %d bytes: passes, alerts and receipts would not fit and would be lost; raise it or leave it out (256 KiB)", n, minEventBytes)
	}
	if n := c.Outbox.MaxEventBytes; n > outbox.MaxEventBytesLimit {
		add("outbox.max_event_bytes: %d is above %d bytes, the most one event may take (an event commits in one transaction with the change it tells); lower it or leave it out", n, outbox.MaxEventBytesLimit)
	}
	if n := c.Outbox.MaxBytes; n > 0 && c.Outbox.MaxEventBytes > 0 && n < int64(c.Outbox.MaxEventBytes) {
		add("outbox.max_bytes: %d is below outbox.max_event_bytes (%d): one event could fill the outbox; raise max_bytes", n, c.Outbox.MaxEventBytes)
	}
	// listeners are the addresses the gateway binds at start; the printer
	// and reader simulators take free loopback ports and never collide.
	var listeners []listener
	if c.HTTP.Listen != "" {
		if msg := listenProblem(c.HTTP.Listen, "e.g. 127.0.0.1:8080; empty disables the API"); msg != "" {
			add("http.listen: %s", msg)
		} else {
			listeners = append(listeners, listener{"http.listen", c.HTTP.Listen})
			if !broker.IsLoopback(c.HTTP.Listen) && c.HTTP.Token == "" {
				add("http.listen: %s is not a loopback address, so the API needs a token (set http.token_file or %s)", c.HTTP.Listen, EnvHTTPToken)
			}
		}
	}
	if n := c.HTTP.TokenName; n != "" && (len(n) > 64 || strings.IndexFunc(n, func(r rune) bool { return r <= ' ' || r > '~' }) >= 0) {
		add("http.token_name: %q: give at most 64 printable ASCII characters without spaces, e.g. wms-central", n)
	}
	if c.MQTT.URL == "" {
		if msg := listenProblem(c.Broker.Listen, "e.g. 127.0.0.1:1883"); msg != "" {
			add("broker.listen: %s", msg)
		} else {
			listeners = append(listeners, listener{"broker.listen", c.Broker.Listen})
			if !broker.IsLoopback(c.Broker.Listen) && (c.Broker.Username == "" || c.Broker.Password == "") {
				add("broker.listen: %s is not a loopback address, so the embedded broker needs broker.username and broker.password_file (or %s)", c.Broker.Listen, EnvBrokerPassword)
			}
		}
	}
	for i, a := range listeners {
		for _, b := range listeners[i+1:] {
			if a.collides(b) {
				add("%s and %s: both listen on %s, and one address takes one listener: give each its own port", a.field, b.field, b.addr)
			}
		}
	}
	cp := c.GS1.CompanyPrefix
	if !digitsPattern.MatchString(cp) || len(cp) < 6 || len(cp) > 12 {
		add("gs1.company_prefix: %q must be 6 to 12 digits (your GS1 company prefix)", cp)
	} else if start, end, limit := c.GS1.SSCCSerialStart, c.GS1.SSCCSerialEnd, maxSerialRef(len(cp)); end > limit {
		add("gs1.sscc_serial_end: %d does not fit the %d-digit serial reference a %d-digit company prefix leaves (max %d)", end, 16-len(cp), len(cp), limit)
	} else if start > limit {
		add("gs1.sscc_serial_start: %d does not fit the %d-digit serial reference a %d-digit company prefix leaves (max %d)", start, 16-len(cp), len(cp), limit)
	} else if start > end {
		add("gs1.sscc_serial_start: %d is after gs1.sscc_serial_end %d: the range runs from start to end, so start must not be greater", start, end)
	}
	if c.GS1.SSCCExtension < 0 || c.GS1.SSCCExtension > 9 {
		add("gs1.sscc_extension: %d must be a digit 0–9", c.GS1.SSCCExtension)
	}
	if gln := c.GS1.GLN; gln != "" {
		if !digitsPattern.MatchString(gln) || len(gln) != 13 {
			add("gs1.gln: %q must be 13 digits", gln)
		} else if cd, _ := gs1.CheckDigit(gln[:12]); cd != gln[12] {
			add("gs1.gln: %q has check digit %c, it should be %c", gln, gln[12], cd)
		} else if !strings.HasPrefix(gln, cp) {
			add("gs1.gln: %q does not start with gs1.company_prefix %s (EPCIS locations are SGLNs of that prefix)", gln, cp)
		}
	}
	if _, err := c.GS1.CompanyPrefixTable(); err != nil {
		add("%v", err)
	}
	if strings.ContainsAny(c.GS1.DigitalLinkDomain, "/?# ") {
		add("gs1.digital_link_domain: %q must be a bare host name like id.gs1.org", c.GS1.DigitalLinkDomain)
	}

	printerIDs := map[string]bool{}
	checked := make([]printers.Config, len(c.Printers))
	for i, pr := range c.Printers {
		printerIDs[pr.ID] = true
		if pr.Transport == TransportSim {
			// The simulator listens on a free loopback port at start.
			pr.Transport, pr.Address = printers.TransportTCP, "127.0.0.1:9100"
		}
		checked[i] = pr
	}
	if err := printers.ValidateAll(checked); err != nil {
		for _, line := range strings.Split(err.Error(), "\n") {
			add("%s", line)
		}
	}
	readerIDs := map[string]bool{}
	readerTypes := map[string]string{}
	for i, r := range c.Readers {
		readerTypes[r.ID] = r.Type
		if err := r.Validate(); err != nil {
			for _, line := range strings.Split(err.Error(), "\n") {
				add("readers[%d]: %s", i, line)
			}
		}
		if r.Type == readers.TypeSim {
			// The loader the reader calls at start: a missing or broken
			// scenario file would otherwise stop run, not check-config.
			if _, err := readersim.Load(r.Scenario); err != nil {
				msg := strings.ReplaceAll(err.Error(), "readersim: ", "")
				add("readers[%d].scenario: %s", i, strings.Join(strings.Fields(msg), " ")) // one line
			}
		}
		if readerIDs[r.ID] {
			add("readers[%d].id: %q is used twice (reader ids must be unique)", i, r.ID)
		}
		readerIDs[r.ID] = true
	}
	doors := map[string]bool{}
	antennas := map[string]map[uint16]string{} // reader → antenna → door
	for i, d := range c.Doors {
		f := fmt.Sprintf("doors[%d]", i)
		// EPCIS names the door by an SGLN whose extension is its
		// location, or its id: a GS1 AI (254) value.
		switch {
		case d.Location != "":
			if err := gs1.ValidateValue("254", d.Location); err != nil {
				add("%s.location: %q is not a GLN extension: %v (use up to 20 letters, digits and GS1 punctuation, e.g. D01)", f, d.Location, err)
			}
		case d.ID != "":
			if err := gs1.ValidateValue("254", d.ID); err != nil {
				add("%s.location: the door's id %q is its GLN extension in EPCIS and is not one: %v; set location (up to 20 letters, digits and GS1 punctuation, e.g. D01)", f, d.ID, err)
			}
		}
		if d.Reader != "" {
			if antennas[d.Reader] == nil {
				antennas[d.Reader] = map[uint16]string{}
			}
			for _, a := range append(append([]uint16(nil), d.AntennasOutside...), d.AntennasInside...) {
				if other, ok := antennas[d.Reader][a]; ok && other != d.ID {
					add("%s: antenna %d of reader %q already belongs to door %q: each antenna watches one door", f, a, d.Reader, other)
				}
				antennas[d.Reader][a] = d.ID
			}
		}
		if d.ID == "" {
			add("%s.id: required (a name for the door, e.g. DOOR1)", f)
		} else if d.Reader != "" {
			// The portal settings matter only where a reader watches the door.
			if err := d.DoorConfig.Validate(); err != nil {
				for _, line := range strings.Split(err.Error(), "\n") {
					add("doors[%d]: %s", i, line)
				}
			}
		} else if err := (portal.DoorConfig{ID: d.ID, Role: d.Role}).WithDefaults().Validate(); err != nil {
			for _, line := range strings.Split(err.Error(), "\n") {
				if !strings.Contains(line, "antennas") {
					add("doors[%d]: %s", i, line)
				}
			}
		}
		if doors[d.ID] {
			add("%s.id: %q is used twice (door ids must be unique)", f, d.ID)
		}
		doors[d.ID] = true
		switch d.Returns {
		case "", "resaleable", "damaged", "quarantine":
		default:
			add("%s.returns: %q is not a condition: resaleable, damaged or quarantine (the condition returned cartons passing in get), or leave it out", f, d.Returns)
		}
		if d.Returns != "" && d.Reader == "" {
			add("%s.returns: a returns door records the cartons its portal sees coming in: give it a reader, or leave returns out", f)
		}
		for _, msg := range signals.Problems(d.ID, d.Signals) {
			add("%s.%s", f, msg)
		}
		if len(d.Signals) > 0 {
			switch rt := readerTypes[d.Reader]; {
			case d.Reader == "":
				add("%s.signals: door %q has no reader: signals drive the outputs of the door's reader; give the door a reader, or remove signals", f, d.ID)
			case rt == readers.TypeSerial:
				add("%s.signals: door %q: reader %q is a serial reader, which has no general purpose outputs; wire the light stack to an LLRP reader's outputs, or remove signals", f, d.ID, d.Reader)
			case rt == readers.TypeSim:
				for j, r := range d.Signals {
					for _, p := range r.GPO {
						if p > readersim.SimGPOs {
							add("%s.signals[%d]: door %q: gpo: port %d: the simulated reader %q has outputs 1 to %d", f, j, d.ID, p, d.Reader, readersim.SimGPOs)
						}
					}
				}
			}
		}
		if d.Printer != "" && !printerIDs[d.Printer] {
			add("%s.printer: no printer with id %q (define it under printers:)", f, d.Printer)
		}
		if d.Reader != "" && !readerIDs[d.Reader] {
			add("%s.reader: no reader with id %q (define it under readers:)", f, d.Reader)
		}
	}
	for i, sc := range c.Scanners {
		if err := sc.Validate(); err != nil {
			add("scanners[%d]: %v", i, err)
		} else if !doors[sc.Door] {
			add("scanners[%d].door: no door with id %q (define it under doors:)", i, sc.Door)
		}
	}
	if err := c.Lots.Validate(); err != nil {
		for _, line := range strings.Split(err.Error(), "\n") {
			add("%s", line)
		}
	}
	if c.Lots.DefaultFormat == "" {
		add("lots.default_format: required when lots.formats has more than one format (name the one receipts use)")
	}
	// The label templates the gateway loads at start: one that does not
	// load would stop run, not check-config.
	names := make([]string, 0, len(c.Labels.Templates))
	for name := range c.Labels.Templates {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if _, err := label.LoadTemplate(c.Labels.Templates[name]); err != nil {
			add("labels.templates.%s: %v", name, err)
		}
	}
	if c.Labels.KeepJobs < time.Hour {
		add("labels.keep_jobs: %v is too short: keep finished print jobs at least 1h (e.g. 720h, 30 days; reprints by job id need them, the label audit trail keeps every label regardless)", c.Labels.KeepJobs)
	}
	switch c.Labels.EPCScheme {
	case EPCSchemeSSCC96, EPCSchemeSSCCPlus, EPCSchemeSGTINPlus:
	default:
		add("labels.epc_scheme: %q is not one of sscc-96, sscc+, sgtin+ (sscc+ and sgtin+ write the lot and expiry into the tag)", c.Labels.EPCScheme)
	}
	if c.Sync.StaleAfter < time.Second {
		add("sync.stale_after: %s is too short (at least 1s; 5m is the default)", c.Sync.StaleAfter)
	}
	if _, builtin := label.Builtin(c.Labels.Carton); !builtin && c.Labels.Templates[c.Labels.Carton] == "" {
		if _, err := label.LoadTemplate(c.Labels.Carton); err != nil {
			add("labels.carton: %v (name a built-in template, one under labels.templates, or a template file)", err)
		}
	}
	return p
}

// minEventBytes is the smallest outbox.max_event_bytes allowed.
const minEventBytes = 16 << 10

// listenProblem says what keeps net.Listen from binding addr, or "" if
// nothing does. Port 0 is accepted: it binds a free port, as tests do.
func listenProblem(addr, example string) string {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Sprintf("%q is not host:port (%s)", addr, example)
	}
	// LookupPort is what net.Listen parses the port with: a number up to
	// 65535 or a service name.
	if _, err := net.LookupPort("tcp", port); err != nil {
		return fmt.Sprintf("port %q of %s is not a port number 1 to 65535 (%s)", port, addr, example)
	}
	return ""
}

// listener is an address the gateway binds, and the field that sets it.
type listener struct{ field, addr string }

// collides reports whether binding b fails once a is bound: the same port
// on the same host, or on every address (a wildcard host). The port must
// be valid (listenProblem).
func (a listener) collides(b listener) bool {
	ah, ap, _ := net.SplitHostPort(a.addr)
	bh, bp, _ := net.SplitHostPort(b.addr)
	an, _ := net.LookupPort("tcp", ap)
	bn, _ := net.LookupPort("tcp", bp)
	if an != bn || an == 0 {
		return false
	}
	norm := func(h string) string {
		if strings.EqualFold(h, "localhost") {
			return "127.0.0.1" // what net.Listen binds for it
		}
		if ip := net.ParseIP(h); ip != nil {
			if ip.IsUnspecified() {
				return ""
			}
			return ip.String()
		}
		return strings.ToLower(h)
	}
	ah, bh = norm(ah), norm(bh)
	return ah == "" || bh == "" || ah == bh
}

// Hash is a short, stable hash of the effective configuration (secrets
// excluded), published in the gateway's online status.
func (c *Config) Hash() string {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	_ = enc.Encode(c)
	sum := sha256.Sum256(buf.Bytes())
	return hex.EncodeToString(sum[:6])
}

// Door returns the door with id.
func (c *Config) Door(id string) (*Door, bool) {
	for i := range c.Doors {
		if c.Doors[i].ID == id {
			return &c.Doors[i], true
		}
	}
	return nil, false
}

// Printer returns the printer with id.
func (c *Config) Printer(id string) (*printers.Config, bool) {
	for i := range c.Printers {
		if c.Printers[i].ID == id {
			return &c.Printers[i], true
		}
	}
	return nil, false
}
