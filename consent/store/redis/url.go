package redis

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

// Config is a parsed store URL.
type Config struct {
	// Client options for go-redis' UniversalClient.
	Client *goredis.UniversalOptions
	// Prefix starts every key (default "cg").
	Prefix string
}

// Timeouts are short: a slow store must fall back to the spool quickly
// rather than hold visitors' requests.
const (
	defaultDialTimeout = 2 * time.Second
	defaultTimeout     = time.Second
)

// ParseURL parses a store URL. The forms are:
//
//	redis://[user:pass@]host[:port][/db]                    standalone
//	rediss://...                                            standalone over TLS
//	redis+sentinel://[user:pass@]host[:port][,host[:port]...]/master[/db]
//	rediss+sentinel://...                                   Sentinel, TLS to the servers
//	redis+cluster://[user:pass@]host[:port][,host[:port]...] Cluster (seed nodes)
//	rediss+cluster://...                                    Cluster over TLS
//
// Ports default to 6379 (26379 for Sentinel). user:pass authenticates to the
// servers (percent-encode special characters); Sentinel's own credentials go
// in the query. Query parameters: prefix (key prefix, default "cg"),
// dial_timeout and timeout (Go durations, defaults 2s and 1s), pool_size,
// sentinel_username, sentinel_password; with rediss, tls_ca (PEM file of
// the CA that signed the servers' certificates, trusted instead of the
// system's roots) and tls_cert with tls_key (PEM files of a client
// certificate, for servers that ask for one: Redis does by default).
func ParseURL(raw string) (*Config, error) {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return nil, fmt.Errorf("redis store URL %q: missing scheme", redact(raw))
	}
	base, mode, _ := strings.Cut(scheme, "+")
	if (base != "redis" && base != "rediss") || (mode != "" && mode != "sentinel" && mode != "cluster") {
		return nil, fmt.Errorf("redis store URL: unknown scheme %q", scheme)
	}
	rest, rawQuery, _ := strings.Cut(rest, "?")
	authority, path, _ := strings.Cut(rest, "/")
	opts := &goredis.UniversalOptions{
		DialTimeout: defaultDialTimeout, ReadTimeout: defaultTimeout, WriteTimeout: defaultTimeout,
		ContextTimeoutEnabled: true,
		MaxRetries:            1,
		DialerRetries:         1,
		DisableIdentity:       true,
		// Self-hosted servers have no maintenance notifications to handle.
		MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled},
	}
	if i := strings.LastIndex(authority, "@"); i >= 0 {
		var err error
		if opts.Username, opts.Password, err = userinfo(authority[:i]); err != nil {
			return nil, err
		}
		authority = authority[i+1:]
	}
	defaultPort := "6379"
	if mode == "sentinel" {
		defaultPort = "26379"
	}
	addrs, err := hosts(authority, defaultPort)
	if err != nil {
		return nil, err
	}
	opts.Addrs = addrs
	if err := pathParts(mode, path, opts); err != nil {
		return nil, err
	}
	cfg := &Config{Client: opts, Prefix: "cg"}
	var files tlsFiles
	if err := queryParams(rawQuery, cfg, &files); err != nil {
		return nil, err
	}
	if base == "rediss" {
		host, _, _ := net.SplitHostPort(addrs[0])
		if opts.TLSConfig, err = files.config(host); err != nil {
			return nil, err
		}
	} else if files != (tlsFiles{}) {
		return nil, fmt.Errorf("redis store URL: tls_ca, tls_cert and tls_key need rediss://")
	}
	opts.IsClusterMode = mode == "cluster"
	return cfg, nil
}

func userinfo(s string) (user, pass string, err error) {
	u, p, hasPass := strings.Cut(s, ":")
	if user, err = url.PathUnescape(u); err != nil {
		return "", "", fmt.Errorf("redis store URL: user: %w", err)
	}
	if hasPass {
		if pass, err = url.PathUnescape(p); err != nil {
			return "", "", fmt.Errorf("redis store URL: password: %w", err)
		}
	}
	return user, pass, nil
}

func hosts(authority, defaultPort string) ([]string, error) {
	var addrs []string
	for _, h := range strings.Split(authority, ",") {
		if h == "" {
			return nil, fmt.Errorf("redis store URL: empty host")
		}
		if _, _, err := net.SplitHostPort(h); err != nil {
			h = net.JoinHostPort(strings.Trim(h, "[]"), defaultPort)
		}
		host, port, err := net.SplitHostPort(h)
		if err != nil || host == "" {
			return nil, fmt.Errorf("redis store URL: bad host %q", h)
		}
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("redis store URL: bad port in %q", h)
		}
		addrs = append(addrs, h)
	}
	return addrs, nil
}

// pathParts reads "/db", "/master[/db]" or nothing, by mode.
func pathParts(mode, path string, opts *goredis.UniversalOptions) error {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	if parts[0] == "" {
		parts = nil
	}
	switch mode {
	case "sentinel":
		if len(parts) == 0 || len(parts) > 2 {
			return fmt.Errorf("redis store URL: Sentinel needs /master[/db]")
		}
		opts.MasterName, parts = parts[0], parts[1:]
	case "cluster":
		if len(parts) > 0 {
			return fmt.Errorf("redis store URL: Cluster has no database number")
		}
	default:
		if len(opts.Addrs) > 1 {
			return fmt.Errorf("redis store URL: several hosts need redis+sentinel:// or redis+cluster://")
		}
	}
	if len(parts) > 1 {
		return fmt.Errorf("redis store URL: bad path %q", path)
	}
	if len(parts) == 1 {
		db, err := strconv.Atoi(parts[0])
		if err != nil || db < 0 {
			return fmt.Errorf("redis store URL: bad database %q", parts[0])
		}
		opts.DB = db
	}
	return nil
}

func queryParams(rawQuery string, cfg *Config, files *tlsFiles) error {
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return fmt.Errorf("redis store URL: query: %w", err)
	}
	opts := cfg.Client
	for key, vals := range q {
		v := vals[len(vals)-1]
		switch key {
		case "prefix":
			if v == "" || strings.ContainsAny(v, "{}") {
				return fmt.Errorf("redis store URL: prefix %q must be non-empty, without braces", v)
			}
			cfg.Prefix = v
		case "dial_timeout", "timeout":
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return fmt.Errorf("redis store URL: %s=%q is not a duration", key, v)
			}
			if key == "dial_timeout" {
				opts.DialTimeout = d
			} else {
				opts.ReadTimeout, opts.WriteTimeout = d, d
			}
		case "pool_size":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				return fmt.Errorf("redis store URL: bad pool_size %q", v)
			}
			opts.PoolSize = n
		case "sentinel_username":
			opts.SentinelUsername = v
		case "sentinel_password":
			opts.SentinelPassword = v
		case "tls_ca":
			files.ca = v
		case "tls_cert":
			files.cert = v
		case "tls_key":
			files.key = v
		default:
			return fmt.Errorf("redis store URL: unknown parameter %q", key)
		}
	}
	return nil
}

// tlsFiles are the PEM files a rediss URL names.
type tlsFiles struct{ ca, cert, key string }

// config is the TLS configuration for servers named host: verified against
// the system's roots or the private CA, presenting the client certificate
// if there is one. The files are read now, so a wrong path fails the
// config load rather than every connection.
func (f tlsFiles) config(host string) (*tls.Config, error) {
	cfg := &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	if f.ca != "" {
		pem, err := os.ReadFile(f.ca)
		if err != nil {
			return nil, fmt.Errorf("redis store URL: tls_ca: %w", err)
		}
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("redis store URL: tls_ca %s holds no PEM certificate", f.ca)
		}
	}
	if (f.cert == "") != (f.key == "") {
		return nil, fmt.Errorf("redis store URL: tls_cert and tls_key go together")
	}
	if f.cert != "" {
		pair, err := tls.LoadX509KeyPair(f.cert, f.key)
		if err != nil {
			return nil, fmt.Errorf("redis store URL: tls_cert and tls_key: %w", err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg, nil
}

// redact hides a password in a URL for error messages.
func redact(raw string) string { return Redact(raw) }

// secretParam matches a query parameter whose value is a secret
// (sentinel_password, and any other *password).
var secretParam = regexp.MustCompile(`(?i)([?&][a-z_]*password=)[^&#]*`)

// Redact hides the secrets of a store URL, for messages, logs and the
// names the admin API gives stores: the user information before "@" and
// the values of password parameters.
func Redact(raw string) string {
	if at := strings.LastIndex(raw, "@"); at >= 0 {
		if scheme := strings.Index(raw, "://"); scheme >= 0 && scheme < at {
			raw = raw[:scheme+3] + "…" + raw[at:]
		}
	}
	return secretParam.ReplaceAllString(raw, "${1}…")
}

// Identity names where a store URL's records live: its servers (for
// Sentinel, the master's name), database and key prefix, without
// credentials, TLS or client settings. A rotated password or a changed
// timeout names the same store.
func Identity(raw string) (string, error) {
	cfg, err := ParseURL(raw)
	if err != nil {
		return "", err
	}
	o := cfg.Client
	where := "sentinel/" + o.MasterName
	if o.MasterName == "" {
		addrs := make([]string, len(o.Addrs))
		for i, a := range o.Addrs {
			addrs[i] = strings.ToLower(a)
		}
		slices.Sort(addrs)
		where = strings.Join(addrs, ",")
	}
	return fmt.Sprintf("redis://%s/%d?prefix=%s", where, o.DB, cfg.Prefix), nil
}
