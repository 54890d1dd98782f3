package axis

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/axis-h40/axis/envelope"
	"go.yaml.in/yaml/v3"
)

// Config is axisd's YAML configuration. The keys are a contract: add keys,
// never rename them. Relative paths are relative to the config file.
type Config struct {
	Listen       string          `yaml:"listen"`
	DataDir      string          `yaml:"data_dir"`
	Hub          HubConfig       `yaml:"hub"`
	Trust        TrustConfig     `yaml:"trust"`
	Limits       LimitsConfig    `yaml:"limits"`
	Admin        AdminConfig     `yaml:"admin"`
	AgenciesFile string          `yaml:"agencies_file"`
	Agencies     []Agency        `yaml:"agencies"`
	Peers        []Peer          `yaml:"peers"`
	Relay        RelayConfig     `yaml:"relay"`
	Log          LogConfig       `yaml:"log"`
	TLS          *TLSConfig      `yaml:"tls,omitempty"`
	VDXP         VDXPConfig      `yaml:"vdxp"`
	Reconcile    ReconcileConfig `yaml:"reconcile"`
	Store        StoreConfig     `yaml:"store"`
	Cluster      ClusterConfig   `yaml:"cluster"`
	Archive      ArchiveConfig   `yaml:"archive"`
	// TrustedProxies are the reverse proxies (CIDRs; a bare IP is a /32 or
	// /128) whose X-Forwarded-For names the client, read right to left
	// past the trusted hops (clientip.go); from any other peer the socket's
	// address is the client (the auth-failure limiter and VDXP allow_from
	// key on it). An entry that does not parse is a config error.
	TrustedProxies []string `yaml:"trusted_proxies,omitempty"`

	dir string        // the config file's folder
	src *configSource // where each key is, for errors that name a line (LoadConfig)
}

// HubConfig is the hub's own identity: it signs receipts with this key,
// read from a PEM file (key) or kept in a PKCS#11 token (pkcs11).
type HubConfig struct {
	Name   string        `yaml:"name"`
	Key    string        `yaml:"key"`  // PEM private key
	Cert   string        `yaml:"cert"` // PEM chain, leaf first
	PKCS11 *PKCS11Config `yaml:"pkcs11,omitempty"`
}

// PKCS11Config names the hub key inside a PKCS#11 token (an HSM, a USB
// token, SoftHSM2); the PIN is read from the environment.
type PKCS11Config struct {
	Module     string `yaml:"module"` // the PKCS#11 library, e.g. /usr/lib/softhsm/libsofthsm2.so
	TokenLabel string `yaml:"token_label"`
	KeyLabel   string `yaml:"key_label"`
	PINEnv     string `yaml:"pin_env"`
}

// TrustConfig is the verification policy.
type TrustConfig struct {
	Roots             []string         `yaml:"roots"`
	AllowSHA1         bool             `yaml:"allow_sha1"`
	LegacySignatureNS bool             `yaml:"legacy_signature_ns"`
	Revocation        RevocationConfig `yaml:"revocation"`
}

// RevocationConfig is how certificates are checked against their CA's
// OCSP responders and CRLs. Mode: off | prefer | require | hold (default
// prefer): see README, "Revocation".
type RevocationConfig struct {
	Mode     string   `yaml:"mode"`
	CRLFiles []string `yaml:"crl_files,omitempty"` // read at start and when changed
	CRLURLs  []string `yaml:"crl_urls,omitempty"`  // fetched besides the certificates' distribution points
	OCSP     *bool    `yaml:"ocsp,omitempty"`      // ask the certificates' OCSP responders; default true
	Refresh  Duration `yaml:"refresh,omitempty"`   // at least this often, and at nextUpdate; default 1h
	Timeout  Duration `yaml:"timeout,omitempty"`   // one fetch; default 5s
	Retry    Duration `yaml:"retry,omitempty"`     // hold: re-check held envelopes this often; default 1m
	HoldMax  Duration `yaml:"hold_max,omitempty"`  // hold: refuse with revocation_unknown after this long; default 72h
}

// TLSConfig makes axisd serve HTTPS only. ClientCA lists the CAs whose
// client certificates are asked for (optional per caller: an agency or
// peer with client_cert_sha256 must present that certificate besides its
// token).
type TLSConfig struct {
	Cert       string   `yaml:"cert"` // PEM chain, leaf first
	Key        string   `yaml:"key"`
	ClientCA   []string `yaml:"client_ca,omitempty"`
	MinVersion string   `yaml:"min_version,omitempty"` // "1.2" (default) or "1.3"
}

// PeerTLS is how this hub connects to a peer over TLS: the CAs it trusts
// for the peer's certificate (default: the system's), and the client
// certificate it presents (mutual TLS).
type PeerTLS struct {
	CA   []string `yaml:"ca,omitempty"`
	Cert string   `yaml:"cert,omitempty"` // PEM chain, leaf first
	Key  string   `yaml:"key,omitempty"`
}

// LimitsConfig bounds what intake takes. Zero values take the defaults
// (envelope.Default* for the XML shape, the constants below for the rest).
type LimitsConfig struct {
	MaxEnvelopeBytes int64 `yaml:"max_envelope_bytes"`

	// The XML's shape, refused before any tree is built (envelope.Limits).
	MaxDepth                int `yaml:"max_depth,omitempty"`
	MaxElements             int `yaml:"max_elements,omitempty"`
	MaxTokens               int `yaml:"max_tokens,omitempty"` // elements + attributes + other markup
	MaxAttributesPerElement int `yaml:"max_attributes_per_element,omitempty"`
	MaxNamespacesPerElement int `yaml:"max_namespaces_per_element,omitempty"`
	MaxNamespaces           int `yaml:"max_namespaces,omitempty"` // namespace declarations in the whole document
	MaxNameLength           int `yaml:"max_name_length,omitempty"`

	// Transport: bodies above SpoolAboveBytes go to a temporary file; a body
	// that makes no progress for BodyIdleTimeout is cut; uploads together
	// hold at most MaxInflightBodyBytes in memory.
	SpoolAboveBytes      int64    `yaml:"spool_above_bytes,omitempty"`       // default 1 MiB
	BodyIdleTimeout      Duration `yaml:"body_idle_timeout,omitempty"`       // default 30s
	MaxInflightBodyBytes int64    `yaml:"max_inflight_body_bytes,omitempty"` // default 64 MiB

	// Memory is axisd's memory budget (default 1 GiB): the Go runtime's
	// memory limit and GC target, and half of it for verifications in
	// flight (memory.go).
	Memory Size `yaml:"memory,omitempty"`

	// AuthFailuresPer5m failed authentications (bearer, VDXP, console) from
	// one client address in five minutes; past it further failures answer
	// 429. A valid credential is never refused. Default 20.
	AuthFailuresPer5m int `yaml:"auth_failures_per_5m,omitempty"`
}

// envelopeLimits are the XML limits for the verifier (zero: its defaults).
func (l LimitsConfig) envelopeLimits() envelope.Limits {
	return envelope.Limits{
		MaxBytes: l.MaxEnvelopeBytes, MaxDepth: l.MaxDepth, MaxElements: l.MaxElements, MaxTokens: l.MaxTokens,
		MaxAttributesPerElement: l.MaxAttributesPerElement, MaxNamespacesPerElement: l.MaxNamespacesPerElement,
		MaxNamespaces: l.MaxNamespaces, MaxNameLength: l.MaxNameLength,
	}
}

// Transport defaults.
const (
	DefaultSpoolAboveBytes      = 1 << 20
	DefaultBodyIdleTimeout      = 30 * time.Second
	DefaultMaxInflightBodyBytes = 64 << 20
	DefaultAuthFailuresPer5m    = 20
)

// AdminConfig lists the SHA-256 (hex) of administrator tokens and the
// service levels the stuck list measures against.
type AdminConfig struct {
	// TokenSHA256 are unnamed administrators' tokens (their actions are
	// recorded as "admin"); Users are named ones, and viewers.
	TokenSHA256 []string    `yaml:"token_sha256"`
	Users       []AdminUser `yaml:"users,omitempty"`
	// SecureCookies marks the console's cookies Secure even without TLS in
	// axisd (behind a TLS-terminating proxy); with tls they always are.
	SecureCookies bool     `yaml:"secure_cookies,omitempty"`
	SLAFetch      Duration `yaml:"sla_fetch,omitempty"` // a local delivery not fetched after this is stuck; default 24h
	SLAAck        Duration `yaml:"sla_ack,omitempty"`   // a delivery not acked after this is stuck; default 72h
	SLARelay      Duration `yaml:"sla_relay,omitempty"` // an outbox entry waiting longer is stuck; default 1h
}

// AdminUser is a named administrator (role admin, the default) or a
// viewer (role viewer: reads everything an administrator reads, changes
// nothing). Their actions are events in the hash chain with the name.
type AdminUser struct {
	Name        string `yaml:"name"`
	TokenSHA256 string `yaml:"token_sha256"`
	Role        string `yaml:"role,omitempty"` // admin (default) or viewer
}

// Admin roles.
const (
	RoleAdmin  = "admin"
	RoleViewer = "viewer"
)

// RelayConfig tunes relaying to peers and pushing to agencies.
type RelayConfig struct {
	RetryMin    Duration `yaml:"retry_min"`   // first wait after a failure; default 1s
	RetryMax    Duration `yaml:"retry_max"`   // longest wait; default 5m
	DeadAfter   Duration `yaml:"dead_after"`  // an entry older than this goes dead on its next failure; default 72h
	Concurrency int      `yaml:"concurrency"` // envelopes in flight per peer; default 32
	Timeout     Duration `yaml:"timeout"`     // one post to a peer or push endpoint; default 60s
}

// Duration is a time.Duration written as "1s", "5m", "72h" in YAML.
type Duration struct{ time.Duration }

// UnmarshalYAML implements yaml.Unmarshaler. A value that is not a
// duration is a type error with its line, like yaml's own.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: %q is not a duration (write 1s, 5m, 72h)", n.Line, n.Value)}}
	}
	d.Duration = v
	return nil
}

// LogConfig sets the log level (debug, info, warn, error).
type LogConfig struct {
	Level string `yaml:"level"`
}

// Agency is one entry of the directory.
type Agency struct {
	OrganID     string   `yaml:"organ_id"`
	Name        string   `yaml:"name"`
	Parent      string   `yaml:"parent,omitempty"`
	TokenSHA256 string   `yaml:"token_sha256,omitempty"`
	CertSHA256  []string `yaml:"cert_sha256,omitempty"`
	PushURL     string   `yaml:"push_url,omitempty"`
	// ClientCertSHA256 requires this TLS client certificate (SHA-256 of
	// its DER, hex) besides the token.
	ClientCertSHA256 string `yaml:"client_cert_sha256,omitempty"`
}

// PeerKind is how this hub speaks to a peer.
type PeerKind string

// Peer kinds.
const (
	PeerAxis PeerKind = "axis" // the peer's native API
	PeerVDXP PeerKind = "vdxp" // the national SDK's protocol: sendEdoc out, a poller in
	PeerPull PeerKind = "pull" // the peer collects what is routed to it from us over VDXP
)

// Peer is another hub (the national axis, a neighbouring province).
//
// Kinds: "axis" posts to the peer's native API; "vdxp" speaks the national
// SDK's protocol to it (sendEdoc out, getReceivedEdocList/getEdoc/
// updateStatus polled in); "pull" is a peer that collects what is routed to
// it from this hub over VDXP (a province hub connected as a VDXP client),
// so nothing is posted to it.
type Peer struct {
	Name string `yaml:"name"`
	// DisplayName is how people see the peer (the console): "Trục liên
	// thông quốc gia"; default the name.
	DisplayName string   `yaml:"display_name,omitempty"`
	URL         string   `yaml:"url,omitempty"`
	Kind        PeerKind `yaml:"kind"`   // axis, vdxp or pull
	Routes      []string `yaml:"routes"` // organ-code patterns; "*" is everything else
	Token       string   `yaml:"token,omitempty"`
	TokenEnv    string   `yaml:"token_env,omitempty"` // read the outbound token from this variable instead
	TokenSHA256 string   `yaml:"token_sha256,omitempty"`
	// ClientCertSHA256 requires this TLS client certificate of the peer
	// (SHA-256 of its DER, hex) besides its token; TLS is how this hub
	// connects to the peer (https URLs).
	ClientCertSHA256 string   `yaml:"client_cert_sha256,omitempty"`
	TLS              *PeerTLS `yaml:"tls,omitempty"`

	// trace --follow asks the peer's admin API (default: url, for kind
	// axis) with the admin token in this variable.
	AdminURL      string `yaml:"admin_url,omitempty"`
	AdminTokenEnv string `yaml:"admin_token_env,omitempty"`

	// kind vdxp
	SystemID     string   `yaml:"system_id,omitempty"`
	SecretEnv    string   `yaml:"secret_env,omitempty"`    // the shared secret is read from this variable
	PollInterval Duration `yaml:"poll_interval,omitempty"` // default 10s
	PollBatch    int      `yaml:"poll_batch,omitempty"`    // envelopes taken per poll and message type; default 100
}

// ReconcileConfig schedules the nightly reconciliation inside axisd: every
// day at At (HH:MM, Asia/Ho_Chi_Minh) for the previous day. Empty At: no
// schedule (run axisctl reconcile from cron or a systemd timer instead).
// Every run's report, scheduled or asked for, is kept under
// OutDir/YYYY-MM-DD/ (default DATA_DIR/reconcile), where the console's
// reports page reads it.
type ReconcileConfig struct {
	At     string `yaml:"at,omitempty"`
	OutDir string `yaml:"out_dir,omitempty"`
	Repair bool   `yaml:"repair,omitempty"`
}

// ArchiveConfig is the long-term record (README "Archives"): time-stamp
// anchors of the event chain, daily archive files, and how long documents
// stay in the hot store.
//
// Anchoring runs when tsa_url is set: every anchor_every (default 1h) and
// at every seal, the chain head's hash is stamped by that RFC 3161
// authority, whose roots (tsa_roots, PEM) the tokens are checked against.
// Daily archives are written when dir is set: each closed day
// (Asia/Ho_Chi_Minh) once its documents are settled or settle_after
// (default 168h) has passed since the day ended. hot_days (0: forever)
// removes archived documents older than that from the hot store but for a
// stub; it needs dir.
type ArchiveConfig struct {
	Dir         string   `yaml:"dir,omitempty"`
	TSAURL      string   `yaml:"tsa_url,omitempty"`
	TSARoots    []string `yaml:"tsa_roots,omitempty"`
	AnchorEvery Duration `yaml:"anchor_every,omitempty"` // default 1h
	Retry       Duration `yaml:"retry,omitempty"`        // a failed anchor or seal is tried again after this; default 1m
	SettleAfter Duration `yaml:"settle_after,omitempty"` // default 168h
	HotDays     int      `yaml:"hot_days,omitempty"`
	// Check is how often the archive loop looks for a day to seal or
	// documents to retire; default 10m.
	Check Duration `yaml:"check,omitempty"`
}

// StoreConfig chooses the store's engine: bbolt (the default: one file,
// DATA_DIR/axis.db, one axisd) or postgres (one database that several
// axisd nodes share, on a primary with a synchronous standby; see README,
// "Past one machine"). The DSN is read from the environment variable
// dsn_env, never from this file: it may hold a password.
type StoreConfig struct {
	Engine string `yaml:"engine,omitempty"`  // bbolt | postgres
	DSNEnv string `yaml:"dsn_env,omitempty"` // with postgres: the variable holding a libpq DSN
}

// Store engines.
const (
	EngineBolt     = "bbolt"
	EnginePostgres = "postgres"
)

// ClusterConfig names this node among the axisd nodes that share one
// PostgreSQL store. The loops that must run once (a peer's relay, its
// VDXP pollers and delivery reports, an agency's pushes, the held
// re-checker, the scheduled reconciliation) are each run by the node that
// holds its lease in the store; a node that dies loses its leases within
// lease_ttl and another takes them over.
type ClusterConfig struct {
	Node     string   `yaml:"node,omitempty"`      // default: the host name, and the process id
	LeaseTTL Duration `yaml:"lease_ttl,omitempty"` // default 15s
}

// DefaultLeaseTTL is cluster.lease_ttl's default.
const DefaultLeaseTTL = 15 * time.Second

// VDXPConfig serves the national SDK's protocol (VDXP.md) to the systems
// listed; secrets are read from the environment, never from this file.
type VDXPConfig struct {
	BasePath string       `yaml:"base_path"` // default /vdxp
	Systems  []VDXPSystem `yaml:"systems"`
}

// VDXPSystem is one caller over VDXP: a document system acting for its
// agencies, a hub relaying as a peer, or an administrator's system (which
// may registerAgency and deleteAgency). Agencies, Peer and Admin combine.
type VDXPSystem struct {
	ID        string   `yaml:"id"`
	SecretEnv string   `yaml:"secret_env"`
	Agencies  []string `yaml:"agencies,omitempty"`
	Peer      string   `yaml:"peer,omitempty"`
	Admin     bool     `yaml:"admin,omitempty"`
	// MaxAge refuses a request whose XroadVnpt-timestamp (read in
	// Asia/Ho_Chi_Minh) is older than this or as far in the future. Off by
	// default for agency and peer systems (the SDK reuses one timestamp per
	// service object); an admin system always has one (10m unless lower).
	MaxAge Duration `yaml:"max_age,omitempty"`
	// AllowFrom, when set, admits the system only from these CIDRs.
	AllowFrom []string `yaml:"allow_from,omitempty"`
}

// Defaults.
const (
	DefaultListen   = "127.0.0.1:8080"
	DefaultDataDir  = "./var"
	DefaultMaxBytes = 64 << 20
)

// LoadConfig reads and checks a YAML config file; unknown keys are errors.
// An error is a *ConfigError naming the file and, where it can, the line
// (several problems found by the checks are joined, each a *ConfigError).
func LoadConfig(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, &ConfigError{Err: err} // "open PATH: ..." names it
	}
	c := &Config{dir: filepath.Dir(path), src: &configSource{file: path}}
	if c.src.root, err = decodeStrict(path, b, c); err != nil {
		return nil, err
	}
	c.src.inline = len(c.Agencies)
	if c.AgenciesFile != "" {
		f := c.Path(c.AgenciesFile)
		ab, err := os.ReadFile(f)
		if err != nil {
			return nil, c.locate(errAt("agencies_file", fmt.Errorf("agencies_file: %w", err)))
		}
		var more []Agency
		root, err := decodeStrict(f, ab, &more)
		if err != nil {
			return nil, err
		}
		c.src.agenciesFile, c.src.agencies = f, root
		c.Agencies = append(c.Agencies, more...)
	}
	if err := c.check(); err != nil {
		return nil, c.locate(err)
	}
	return c, nil
}

// ConfigError is a problem in a config file (the config or its
// agencies_file), where it is: "FILE:LINE: what" (the line of the YAML
// error, or of the key at fault; 0 when not known, e.g. a key that is
// missing altogether).
type ConfigError struct {
	File string
	Line int
	Err  error
}

func (e *ConfigError) Error() string {
	switch {
	case e.File == "":
		return e.Err.Error()
	case e.Line == 0:
		return e.File + ": " + e.Err.Error()
	}
	return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Err)
}

func (e *ConfigError) Unwrap() error { return e.Err }

// ConfigErrors splits an error of LoadConfig (or Hub.Reload) into
// its problems, in the order found.
func ConfigErrors(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, ConfigErrors(e)...)
		}
		return out
	}
	if err == nil {
		return nil
	}
	return []error{err}
}

// decodeStrict decodes one YAML document into v, refusing unknown keys,
// and returns its node tree (to find a key's line later). Errors are
// *ConfigErrors with yaml's line.
func decodeStrict(file string, b []byte, v any) (*yaml.Node, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		return nil, yamlProblems(file, err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil && !errors.Is(err, io.EOF) { // an empty file is an empty config
		return nil, yamlProblems(file, err)
	}
	return &root, nil
}

var (
	yamlLine     = regexp.MustCompile(`^line (\d+): `)
	yamlUnknown  = regexp.MustCompile(`^field (\S+) not found in type .*$`)
	yamlCannotIn = regexp.MustCompile(` into \S+$`)
)

// yamlProblems turns yaml's errors ("yaml: line 3: ...", or a TypeError's
// list of "line N: ...") into *ConfigErrors, an unknown key said so.
func yamlProblems(file string, err error) error {
	var msgs []string
	if te, ok := err.(*yaml.TypeError); ok {
		msgs = te.Errors
	} else {
		msgs = []string{strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	var errs []error
	for _, m := range msgs {
		e := &ConfigError{File: file}
		if g := yamlLine.FindStringSubmatch(m); g != nil {
			e.Line, _ = strconv.Atoi(g[1])
			m = m[len(g[0]):]
		}
		if g := yamlUnknown.FindStringSubmatch(m); g != nil {
			m = fmt.Sprintf("unknown key %q", g[1])
		} else if strings.HasPrefix(m, "cannot unmarshal") {
			m = yamlCannotIn.ReplaceAllString(m, "") + " (wrong type for this key)"
		}
		e.Err = errors.New(m)
		errs = append(errs, e)
	}
	if len(errs) == 1 {
		return errs[0]
	}
	return errors.Join(errs...)
}

// configSource is where a loaded config came from: each file's node tree,
// so a problem found after decoding can name the line of its key.
type configSource struct {
	file         string
	root         *yaml.Node
	agenciesFile string     // agencies_file, resolved
	agencies     *yaml.Node // its tree
	inline       int        // agencies listed in the config itself (they come first in Config.Agencies)
}

// keyError is a problem of one key, named by its path ("agencies[3].token_sha256");
// its message is the problem's own.
type keyError struct {
	key string
	err error
}

func (e *keyError) Error() string { return e.err.Error() }
func (e *keyError) Unwrap() error { return e.err }

// errAt marks err as a problem of key.
func errAt(key string, err error) error { return &keyError{key: key, err: err} }

// key builds a key path: key("peers", 2, "url") is "peers[2].url".
func key(parts ...any) string {
	var b strings.Builder
	for _, p := range parts {
		switch p := p.(type) {
		case int:
			fmt.Fprintf(&b, "[%d]", p)
		case string:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(p)
		}
	}
	return b.String()
}

// ErrorAt is err as a problem of key (a path such as "tls.cert" or
// "peers[1].url"): a *ConfigError with the file and line of that key when c
// was loaded from a file.
func (c *Config) ErrorAt(key string, err error) error { return c.locate(errAt(key, err)) }

// locate turns the problems in err into *ConfigErrors with the file and
// line of their key (problems that name no key get the config file).
func (c *Config) locate(err error) error {
	var out []error
	for _, e := range ConfigErrors(err) {
		if _, ok := e.(*ConfigError); ok {
			out = append(out, e)
			continue
		}
		ce := &ConfigError{Err: e}
		if c.src != nil {
			ce.File = c.src.file
			var ke *keyError
			if errors.As(e, &ke) {
				ce.File, ce.Line = c.src.line(ke.key)
			}
		}
		out = append(out, ce)
	}
	if len(out) == 1 {
		return out[0]
	}
	return errors.Join(out...)
}

var (
	keySegment = regexp.MustCompile(`^([a-z0-9_]+)((?:\[\d+\])*)$`)
	keyIndex   = regexp.MustCompile(`\d+`)
)

// line finds key's file and line: the line of the deepest part of the
// path present (a missing key gets its parent's line; 0 when not even the
// first part is there).
func (s *configSource) line(k string) (string, int) {
	file, node := s.file, docRoot(s.root)
	line := 0
	for i, seg := range strings.Split(k, ".") {
		g := keySegment.FindStringSubmatch(seg)
		if g == nil {
			break
		}
		var idx []int
		for _, n := range keyIndex.FindAllString(g[2], -1) {
			v, _ := strconv.Atoi(n)
			idx = append(idx, v)
		}
		if i == 0 && g[1] == "agencies" && len(idx) > 0 && idx[0] >= s.inline && s.agencies != nil {
			// an agency of agencies_file: its own file, its own index
			file, node, line = s.agenciesFile, docRoot(s.agencies), 0
			idx[0] -= s.inline
		} else {
			next, at := mapValue(node, g[1])
			if next == nil {
				return file, line
			}
			node, line = next, at
		}
		for _, j := range idx {
			if node.Kind != yaml.SequenceNode || j >= len(node.Content) {
				return file, line
			}
			node = node.Content[j]
			line = node.Line
		}
	}
	return file, line
}

func docRoot(n *yaml.Node) *yaml.Node {
	if n != nil && n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		return n.Content[0]
	}
	return n
}

// mapValue is the value of key k in mapping n, and the key's line.
func mapValue(n *yaml.Node, k string) (*yaml.Node, int) {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil, 0
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == k {
			return n.Content[i+1], n.Content[i].Line
		}
	}
	return nil, 0
}

// Path resolves a path from the config against the config file's folder.
func (c *Config) Path(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(c.dir, p)
}

func (c *Config) check() error {
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	if c.DataDir == "" {
		c.DataDir = DefaultDataDir
	}
	if c.Limits.MaxEnvelopeBytes <= 0 {
		c.Limits.MaxEnvelopeBytes = DefaultMaxBytes
	}
	if c.Limits.SpoolAboveBytes <= 0 {
		c.Limits.SpoolAboveBytes = DefaultSpoolAboveBytes
	}
	if c.Limits.BodyIdleTimeout.Duration <= 0 {
		c.Limits.BodyIdleTimeout.Duration = DefaultBodyIdleTimeout
	}
	if c.Limits.MaxInflightBodyBytes <= 0 {
		c.Limits.MaxInflightBodyBytes = DefaultMaxInflightBodyBytes
	}
	if c.Limits.Memory <= 0 {
		c.Limits.Memory = DefaultMemory
	}
	if c.Limits.AuthFailuresPer5m <= 0 {
		c.Limits.AuthFailuresPer5m = DefaultAuthFailuresPer5m
	}
	r := &c.Relay
	if r.RetryMin.Duration <= 0 {
		r.RetryMin.Duration = time.Second
	}
	if r.RetryMax.Duration <= 0 {
		r.RetryMax.Duration = 5 * time.Minute
	}
	if r.DeadAfter.Duration <= 0 {
		r.DeadAfter.Duration = 72 * time.Hour
	}
	if r.Concurrency <= 0 {
		// A peer's commit loop shares each fsync among the intakes waiting
		// for it, so a relay with more in flight fills its commits; measured
		// on 2 cores: 16 in flight drained 2,000 envelopes at 0.55x the
		// peer's bench rate, 32 at 0.9x (scripts/relay-bench.sh).
		r.Concurrency = 32
	}
	if r.Timeout.Duration <= 0 {
		r.Timeout.Duration = time.Minute
	}
	if c.Hub.Name == "" {
		return errAt("hub.name", errors.New("hub.name is required"))
	}
	switch c.Store.Engine {
	case "":
		c.Store.Engine = EngineBolt
	case EngineBolt:
	case EnginePostgres:
		if c.Store.DSNEnv == "" {
			return errAt("store.dsn_env", errors.New("store.engine postgres needs store.dsn_env, the environment variable holding the DSN"))
		}
	default:
		return errAt("store.engine", fmt.Errorf("store.engine %q: want bbolt or postgres", c.Store.Engine))
	}
	if c.Cluster.LeaseTTL.Duration <= 0 {
		c.Cluster.LeaseTTL.Duration = DefaultLeaseTTL
	}
	if c.Cluster.LeaseTTL.Duration < time.Second {
		return errAt("cluster.lease_ttl", fmt.Errorf("cluster.lease_ttl %s: at least 1s", c.Cluster.LeaseTTL.Duration))
	}
	rv := &c.Trust.Revocation
	switch rv.Mode {
	case "":
		rv.Mode = envelope.RevocationPrefer
	case envelope.RevocationOff, envelope.RevocationPrefer, envelope.RevocationRequire, envelope.RevocationHold:
	default:
		return errAt("trust.revocation.mode", fmt.Errorf("trust.revocation.mode %q: want off, prefer, require or hold", rv.Mode))
	}
	for _, d := range []struct {
		v   *Duration
		def time.Duration
	}{{&rv.Refresh, DefaultRevocationRefresh}, {&rv.Timeout, DefaultRevocationTimeout}, {&rv.Retry, DefaultRevocationRetry}, {&rv.HoldMax, DefaultRevocationHoldMax}} {
		if d.v.Duration <= 0 {
			d.v.Duration = d.def
		}
	}
	for i, u := range rv.CRLURLs {
		if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
			return errAt(key("trust.revocation.crl_urls", i), fmt.Errorf("trust.revocation.crl_urls: %q is not an http(s) URL", u))
		}
	}
	if err := c.Hub.checkKey(); err != nil {
		return errAt("hub.pkcs11", err)
	}
	if len(c.Trust.Roots) == 0 {
		return errAt("trust.roots", errors.New("trust.roots: at least one root certificate is required"))
	}
	var errs []error
	seen := map[string]bool{}
	tokens := map[string]string{}
	for i, a := range c.Agencies {
		if _, err := envelope.ParseOrganID(a.OrganID); err != nil {
			errs = append(errs, errAt(key("agencies", i, "organ_id"), fmt.Errorf("agencies[%d]: %w", i, err)))
			continue
		}
		if seen[a.OrganID] {
			errs = append(errs, errAt(key("agencies", i, "organ_id"), fmt.Errorf("agencies[%d]: %s listed twice", i, a.OrganID)))
		}
		seen[a.OrganID] = true
		if a.TokenSHA256 != "" {
			if !isHex256(a.TokenSHA256) {
				errs = append(errs, errAt(key("agencies", i, "token_sha256"), fmt.Errorf("agencies[%d] %s: token_sha256 is not 64 hex digits", i, a.OrganID)))
			} else if other, dup := tokens[strings.ToLower(a.TokenSHA256)]; dup {
				errs = append(errs, errAt(key("agencies", i, "token_sha256"), fmt.Errorf("agencies[%d] %s: same token as %s", i, a.OrganID, other)))
			}
			tokens[strings.ToLower(a.TokenSHA256)] = a.OrganID
		}
		if a.PushURL != "" && !strings.HasPrefix(a.PushURL, "http://") && !strings.HasPrefix(a.PushURL, "https://") {
			errs = append(errs, errAt(key("agencies", i, "push_url"), fmt.Errorf("agencies[%d] %s: push_url must be http(s)", i, a.OrganID)))
		}
		for j, fp := range a.CertSHA256 {
			if !isHex256(fp) {
				errs = append(errs, errAt(key("agencies", i, "cert_sha256", j), fmt.Errorf("agencies[%d] %s: cert_sha256 %q is not 64 hex digits", i, a.OrganID, fp)))
			}
		}
	}
	names := map[string]bool{}
	for i, p := range c.Peers {
		switch {
		case p.Name == "" || names[p.Name]:
			errs = append(errs, errAt(key("peers", i, "name"), fmt.Errorf("peers[%d]: name missing or repeated", i)))
		case p.Kind != PeerAxis && p.Kind != PeerVDXP && p.Kind != PeerPull:
			errs = append(errs, errAt(key("peers", i, "kind"), fmt.Errorf("peers[%d] %s: kind %q (want axis, vdxp or pull)", i, p.Name, p.Kind)))
		case p.Kind != PeerPull && !strings.HasPrefix(p.URL, "http://") && !strings.HasPrefix(p.URL, "https://"):
			errs = append(errs, errAt(key("peers", i, "url"), fmt.Errorf("peers[%d] %s: url must be http(s)", i, p.Name)))
		case p.Kind == PeerVDXP && (p.SystemID == "" || p.SecretEnv == ""):
			errs = append(errs, errAt(key("peers", i, "kind"), fmt.Errorf("peers[%d] %s: kind vdxp needs system_id and secret_env", i, p.Name)))
		case len(p.Routes) == 0:
			errs = append(errs, errAt(key("peers", i, "routes"), fmt.Errorf("peers[%d] %s: no routes", i, p.Name)))
		case p.TokenSHA256 != "" && !isHex256(p.TokenSHA256):
			errs = append(errs, errAt(key("peers", i, "token_sha256"), fmt.Errorf("peers[%d] %s: token_sha256 is not 64 hex digits", i, p.Name)))
		}
		names[p.Name] = true
		for j, r := range p.Routes {
			if _, err := matchRoute(r, "000.00.00.H40"); err != nil {
				errs = append(errs, errAt(key("peers", i, "routes", j), fmt.Errorf("peers[%d] %s: route %q: %w", i, p.Name, r, err)))
			}
		}
	}
	if c.Admin.SLAFetch.Duration <= 0 {
		c.Admin.SLAFetch.Duration = 24 * time.Hour
	}
	if c.Admin.SLAAck.Duration <= 0 {
		c.Admin.SLAAck.Duration = 72 * time.Hour
	}
	if c.Admin.SLARelay.Duration <= 0 {
		c.Admin.SLARelay.Duration = time.Hour
	}
	for i := range c.Peers {
		p := &c.Peers[i]
		if p.PollInterval.Duration <= 0 {
			p.PollInterval.Duration = 10 * time.Second
		}
		if p.PollBatch <= 0 {
			p.PollBatch = 100
		}
	}
	a := &c.Archive
	if a.AnchorEvery.Duration <= 0 {
		a.AnchorEvery.Duration = time.Hour
	}
	if a.Retry.Duration <= 0 {
		a.Retry.Duration = time.Minute
	}
	if a.SettleAfter.Duration <= 0 {
		a.SettleAfter.Duration = 168 * time.Hour
	}
	if a.Check.Duration <= 0 {
		a.Check.Duration = 10 * time.Minute
	}
	if a.HotDays < 0 {
		errs = append(errs, errAt("archive.hot_days", fmt.Errorf("archive.hot_days %d: want 0 (keep everything) or more", a.HotDays)))
	}
	if a.HotDays > 0 && a.Dir == "" {
		errs = append(errs, errAt("archive.hot_days", errors.New("archive.hot_days needs archive.dir: documents leave the hot store only for an archive")))
	}
	if a.TSAURL != "" {
		if u, err := url.Parse(a.TSAURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, errAt("archive.tsa_url", fmt.Errorf("archive.tsa_url %q: want an http(s) URL", a.TSAURL)))
		}
	}
	if len(a.TSARoots) > 0 && a.TSAURL == "" {
		errs = append(errs, errAt("archive.tsa_roots", errors.New("archive.tsa_roots without archive.tsa_url")))
	}
	if a.TSAURL != "" && len(a.TSARoots) == 0 {
		errs = append(errs, errAt("archive.tsa_roots", errors.New("archive.tsa_url needs archive.tsa_roots: the TSA's root certificates (PEM) its tokens are checked against")))
	}
	if c.Reconcile.At != "" {
		if _, err := time.Parse("15:04", c.Reconcile.At); err != nil {
			errs = append(errs, errAt("reconcile.at", fmt.Errorf("reconcile.at %q: want HH:MM", c.Reconcile.At)))
		}
	}
	v := &c.VDXP
	if v.BasePath == "" {
		v.BasePath = "/vdxp"
	}
	v.BasePath = "/" + strings.Trim(v.BasePath, "/")
	ids := map[string]bool{}
	for i, s := range v.Systems {
		if s.ID == "" || ids[s.ID] {
			errs = append(errs, errAt(key("vdxp.systems", i, "id"), fmt.Errorf("vdxp.systems[%d]: id missing or repeated", i)))
		}
		ids[s.ID] = true
		if s.SecretEnv == "" {
			errs = append(errs, errAt(key("vdxp.systems", i, "secret_env"), fmt.Errorf("vdxp.systems[%d] %s: secret_env is required (secrets stay out of this file)", i, s.ID)))
		}
		if len(s.Agencies) == 0 && s.Peer == "" && !s.Admin {
			errs = append(errs, errAt(key("vdxp.systems", i), fmt.Errorf("vdxp.systems[%d] %s: acts for nobody (agencies, peer or admin)", i, s.ID)))
		}
		for j, o := range s.Agencies {
			if !seen[o] {
				errs = append(errs, errAt(key("vdxp.systems", i, "agencies", j), fmt.Errorf("vdxp.systems[%d] %s: agency %s is not in the directory", i, s.ID, o)))
			}
		}
		if s.Peer != "" && !names[s.Peer] {
			errs = append(errs, errAt(key("vdxp.systems", i, "peer"), fmt.Errorf("vdxp.systems[%d] %s: peer %s is not configured", i, s.ID, s.Peer)))
		}
		// max_age and allow_from (vdxp_guard.go): an admin system's max_age
		// is AdminVDXPMaxAge unless set lower.
		if g, err := newVDXPGuard(s); err != nil {
			errs = append(errs, errAt(key("vdxp.systems", i), fmt.Errorf("vdxp.systems[%d] %s: %w", i, s.ID, err)))
		} else {
			v.Systems[i].MaxAge.Duration = g.maxAge
		}
	}
	if _, err := parsePrefixes(c.TrustedProxies); err != nil {
		errs = append(errs, errAt("trusted_proxies", fmt.Errorf("trusted_proxies: %w", err)))
	}
	errs = append(errs, c.checkTLS()...) // tls, client_cert_sha256, peers[].tls (tls.go)
	for i, h := range c.Admin.TokenSHA256 {
		if !isHex256(h) {
			errs = append(errs, errAt(key("admin.token_sha256", i), fmt.Errorf("admin.token_sha256 %q is not 64 hex digits", h)))
		}
	}
	admins := map[string]bool{}
	for i, u := range c.Admin.Users {
		switch {
		case strings.TrimSpace(u.Name) == "":
			errs = append(errs, errAt(key("admin.users", i, "name"), fmt.Errorf("admin.users[%d]: name is required", i)))
		case admins[u.Name]:
			errs = append(errs, errAt(key("admin.users", i, "name"), fmt.Errorf("admin.users[%d]: name %q is given twice", i, u.Name)))
		}
		admins[u.Name] = true
		if !isHex256(u.TokenSHA256) {
			errs = append(errs, errAt(key("admin.users", i, "token_sha256"), fmt.Errorf("admin.users[%d] %s: token_sha256 is not 64 hex digits", i, u.Name)))
		}
		if u.Role != "" && u.Role != RoleAdmin && u.Role != RoleViewer {
			errs = append(errs, errAt(key("admin.users", i, "role"), fmt.Errorf("admin.users[%d] %s: role %q (want admin or viewer)", i, u.Name, u.Role)))
		}
	}
	return errors.Join(errs...)
}

func isHex256(s string) bool {
	b, err := hex.DecodeString(s)
	return err == nil && len(b) == 32
}

// TokenHash is the SHA-256 (lower-case hex) under which a token is configured.
func TokenHash(token string) string {
	s := sha256.Sum256([]byte(token))
	return hex.EncodeToString(s[:])
}
