package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// client talks to the admin API.
type client struct {
	base    string // scheme://host, to which the path is appended
	origin  string // sent as Origin when the endpoint requires one (see do); "" for sockets and the remote admin
	address string // as given, for messages
	http    *http.Client
}

// callError is a failed call with the exit code it means.
type callError struct {
	code int
	msg  string
}

func (e *callError) Error() string { return e.msg }

// newClient understands the address forms Caddy's CLI does: host:port,
// :port, unix//path/to/socket, and a URL (https:// for the remote admin
// endpoint, which wants a client certificate).
func newClient(c connFlags) (*client, error) {
	cl := &client{address: c.address}
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	tr := &http.Transport{
		Proxy:               nil, // the admin endpoint is never behind the environment's proxy
		DialContext:         dialer.DialContext,
		TLSHandshakeTimeout: 10 * time.Second,
		DisableCompression:  true,
	}
	addr := c.address
	switch {
	case strings.HasPrefix(addr, "unix/"):
		path := strings.TrimPrefix(addr, "unix/")
		if i := strings.LastIndexByte(path, '|'); i >= 0 { // Caddy's "|0222" socket permission suffix
			path = path[:i]
		}
		tr.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, "unix", path)
		}
		cl.base = "http://127.0.0.1"
	case strings.Contains(addr, "://"):
		u, err := url.Parse(addr)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, &callError{exitUsage, fmt.Sprintf("--address %q: want host:port, unix//path or an http(s) URL", addr)}
		}
		cl.base = u.Scheme + "://" + u.Host
		// Caddy's remote admin (https) authenticates client certificates
		// and refuses any Origin header, having no origins to allow.
		if u.Scheme == "http" {
			cl.origin = cl.base
		}
	default:
		host, port, err := net.SplitHostPort(addr)
		if err != nil || port == "" {
			return nil, &callError{exitUsage, fmt.Sprintf("--address %q: want host:port, unix//path or an http(s) URL", addr)}
		}
		if host == "" {
			host = "localhost"
		}
		cl.base = "http://" + net.JoinHostPort(host, port)
		cl.origin = cl.base
	}
	if c.cert != "" || c.key != "" || c.cacert != "" {
		if !strings.HasPrefix(cl.base, "https://") {
			return nil, &callError{exitUsage, "--cert, --key and --cacert are for an https:// --address (Caddy's remote admin)"}
		}
		cfg := &tls.Config{MinVersion: tls.VersionTLS12}
		if c.cert != "" || c.key != "" {
			pair, err := tls.LoadX509KeyPair(c.cert, c.key)
			if err != nil {
				return nil, &callError{exitUsage, fmt.Sprintf("client certificate: %v", err)}
			}
			cfg.Certificates = []tls.Certificate{pair}
		}
		if c.cacert != "" {
			pem, err := os.ReadFile(c.cacert)
			if err != nil {
				return nil, &callError{exitUsage, fmt.Sprintf("--cacert: %v", err)}
			}
			cfg.RootCAs = x509.NewCertPool()
			if !cfg.RootCAs.AppendCertsFromPEM(pem) {
				return nil, &callError{exitUsage, fmt.Sprintf("--cacert %s: no PEM certificate in it", c.cacert)}
			}
		}
		tr.TLSClientConfig = cfg
	}
	// No overall timeout: verifying or exporting millions of records takes
	// a while. Connecting is bounded by the dialer.
	cl.http = &http.Client{Transport: tr}
	return cl, nil
}

// do calls the admin API. A non-2xx answer becomes a callError carrying
// the API's message; the caller closes the body of a 2xx answer.
//
// It sends no Origin header at first: Caddy checks one against the origins
// it allows (the admin address it listens on, and localhost when that is
// loopback), so with `admin 0.0.0.0:2019` an Origin of localhost:2019 would
// be refused on the machine itself. Only an endpoint set to enforce_origin
// requires one; then the call is made again with it.
func (c *client) do(method, path string, q url.Values, body io.Reader, ctype string) (*http.Response, error) {
	u := c.base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	var payload []byte // bodies here are a few bytes (an id), read once to be sent again
	if body != nil {
		var err error
		if payload, err = io.ReadAll(body); err != nil {
			return nil, &callError{exitUsage, err.Error()}
		}
	}
	resp, err := c.send(method, u, payload, ctype, "")
	if err == nil && resp.StatusCode == http.StatusForbidden && c.origin != "" {
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		// Caddy's words for a call without an Origin, where one is required.
		if msg := string(data); strings.Contains(msg, "from origin ''") || strings.Contains(msg, "Origin header is missing") {
			resp, err = c.send(method, u, payload, ctype, c.origin)
		} else {
			resp.Body = io.NopCloser(bytes.NewReader(data))
		}
	}
	if err != nil {
		return nil, &callError{exitUnreachable, fmt.Sprintf("cannot reach the admin API at %s: %v\n(%s)", c.address, unwrapURLError(err), unreachableHint(err))}
	}
	if resp.StatusCode/100 == 2 {
		return resp, nil
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var apiErr struct {
		Error string `json:"error"`
	}
	msg := answerText(resp.Header.Get("Content-Type"), data)
	fromAPI := json.Unmarshal(data, &apiErr) == nil && apiErr.Error != ""
	if fromAPI {
		msg = apiErr.Error
	}
	code := exitAPI
	switch {
	case resp.StatusCode == http.StatusBadRequest:
		code = exitUsage
	case resp.StatusCode == http.StatusNotFound && fromAPI && !strings.Contains(msg, "resource not found"):
		code = exitFailed // the consent API looked and found nothing
	case resp.StatusCode == http.StatusNotFound:
		// Not the consent API's answer: another server, or a Caddy without
		// the module. Not a verdict on the records.
		msg += " (is this a Caddy with the consentgate module? see --address)"
	}
	return nil, &callError{code, fmt.Sprintf("%s %s: %s: %s", method, path, resp.Status, msg)}
}

// send makes one call to the admin API, with an Origin header if origin
// is not "".
func (c *client) send(method, u string, payload []byte, ctype, origin string) (*http.Response, error) {
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		return nil, err
	}
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	req.Header.Set("User-Agent", "consentctl")
	return c.http.Do(req)
}

// answerText is what an error answer that is not the API's says, short
// enough for a terminal: a web server's error page is named, not printed.
func answerText(ctype string, data []byte) string {
	msg := strings.TrimSpace(string(data))
	if mt, _, _ := mime.ParseMediaType(ctype); mt == "text/html" || strings.HasPrefix(strings.ToLower(msg), "<!doctype html") || strings.HasPrefix(strings.ToLower(msg), "<html") {
		return fmt.Sprintf("an HTML page (%d bytes)", len(data))
	}
	if len(msg) > 300 {
		msg = strings.ToValidUTF8(msg[:300], "") + "…"
	}
	return msg
}

// getJSON calls the admin API and decodes its JSON answer into v.
func (c *client) getJSON(method, path string, q url.Values, body io.Reader, ctype string, v any) error {
	resp, err := c.do(method, path, q, body, ctype)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		return &callError{exitAPI, fmt.Sprintf("%s %s: unreadable answer: %v", method, path, err)}
	}
	return nil
}

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// unreachableHint says what to check when the admin API cannot be reached:
// the TLS settings when the handshake failed (a remote admin endpoint asks
// for a client certificate), else the address.
func unreachableHint(err error) string {
	msg := err.Error()
	if strings.Contains(msg, "tls: ") || strings.Contains(msg, "x509: ") {
		return "the TLS handshake failed: a remote admin endpoint needs --cert and --key of a client certificate it trusts, and --cacert of the CA that signed its own"
	}
	return "is Caddy running with its admin endpoint there? see --address"
}
