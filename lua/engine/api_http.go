package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/moonbase-dev/moonbase/db"
)

// Outgoing requests (backend.http.request) may not reach loopback,
// private, link-local, CGNAT, multicast or unspecified addresses — the
// server's own ports, the LAN, a cloud's metadata service — unless the
// host is in Config.HTTP.AllowHosts. The check is made on the address
// actually dialled (net.Dialer.Control), after DNS, so a name that
// resolves (or re-resolves) to a private address is refused too; redirects
// dial through the same check. Environment proxies are ignored.

// blockedAddrError is a refused destination.
type blockedAddrError struct {
	addr netip.Addr
	why  string
}

func (e *blockedAddrError) Error() string {
	return fmt.Sprintf("refusing to connect to %s (a %s address); add the host to functions.http.allow_hosts to allow it", e.addr, e.why)
}

// cgnat is the shared address space of carrier-grade NAT (RFC 6598).
var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// nat64 maps IPv4 addresses into IPv6 (RFC 6052), private ones included.
var nat64 = netip.MustParsePrefix("64:ff9b::/96")

// blockedReason says why a is refused, or "".
func blockedReason(a netip.Addr) string {
	a = a.Unmap()
	switch {
	case a.IsLoopback():
		return "loopback"
	case a.IsPrivate():
		return "private"
	case a.IsLinkLocalUnicast(), a.IsLinkLocalMulticast():
		return "link-local"
	case a.IsUnspecified():
		return "unspecified"
	case a.IsMulticast(), a.IsInterfaceLocalMulticast():
		return "multicast"
	case cgnat.Contains(a):
		return "shared (CGNAT)"
	case a.Is4() && a.As4()[0] == 0:
		return "\"this network\""
	case nat64.Contains(a):
		return "NAT64"
	}
	return ""
}

// newHTTPClient is the client of backend.http.request.
func newHTTPClient(cfg HTTPConfig) *http.Client {
	allowed := map[string]bool{}
	for _, h := range cfg.AllowHosts {
		allowed[strings.ToLower(strings.Trim(strings.TrimSpace(h), "[]"))] = true
	}
	guarded := &net.Dialer{
		Timeout:   10 * time.Second,
		KeepAlive: 30 * time.Second,
		Control: func(network, address string, _ syscall.RawConn) error {
			host, _, err := net.SplitHostPort(address)
			if err != nil {
				return err
			}
			a, err := netip.ParseAddr(host)
			if err != nil {
				return fmt.Errorf("unexpected address %q", address)
			}
			if why := blockedReason(a); why != "" {
				return &blockedAddrError{addr: a.Unmap(), why: why}
			}
			return nil
		},
	}
	open := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	transport := &http.Transport{
		Proxy: nil,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			host, port, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, err
			}
			host = strings.ToLower(host)
			if allowed[host] || allowed[net.JoinHostPort(host, port)] {
				return open.DialContext(ctx, network, addr)
			}
			return guarded.DialContext(ctx, network, addr)
		},
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   16,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	return &http.Client{
		Transport: transport,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 5 {
				return errors.New("stopped after 5 redirects")
			}
			return nil
		},
	}
}

// httpRequest is backend.http.request{method, url, headers, body, json,
// timeout} (or just a URL for a GET) → {status, headers, body, json}.
// body is sent as it is; json is encoded and sent with Content-Type
// application/json. timeout is in seconds, capped by http.timeout in the
// config and by the run's own deadline. A response of any status is
// returned; only a failure to get one (refused destination, DNS, timeout,
// a body over http.max_response_bytes) raises. Response header names are
// lowercase; repeated headers are joined with ", ". json is the decoded
// body when the response says it is JSON and it parses, else nil.
func (v *vm) httpRequest(L *lua.LState) int {
	const call = "backend.http.request"
	ru := v.cur(L)
	cfg := v.reg.cfg.HTTP
	var opts *lua.LTable
	switch a := L.Get(1).(type) {
	case lua.LString:
		opts = L.NewTable()
		opts.RawSetString("url", a)
	case *lua.LTable:
		opts = a
	default:
		L.ArgError(1, "options table {url = …} or URL expected, got "+typeName(a))
	}
	var badKey string
	opts.ForEach(func(k, _ lua.LValue) {
		switch lua.LVAsString(k) {
		case "method", "url", "headers", "body", "json", "timeout":
		default:
			badKey = lua.LVAsString(k)
		}
	})
	if badKey != "" {
		v.raise(L, call, fmt.Errorf("unknown option %q (use method, url, headers, body, json, timeout)", badKey))
	}
	rawURL, ok := opts.RawGetString("url").(lua.LString)
	if !ok {
		v.raise(L, call, errors.New("url is missing"))
	}
	u, err := url.Parse(string(rawURL))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		v.raise(L, call, fmt.Errorf("%q is not an http or https URL", string(rawURL)))
	}
	headers, err := headersOf(opts.RawGetString("headers"))
	if err != nil {
		v.raise(L, call, err)
	}
	var body []byte
	if b, isStr := opts.RawGetString("body").(lua.LString); isStr {
		body = []byte(b)
	} else if opts.RawGetString("body") != lua.LNil {
		v.raise(L, call, errors.New("body must be a string (use json for a table)"))
	}
	if j := opts.RawGetString("json"); j != lua.LNil {
		if body != nil {
			v.raise(L, call, errors.New("give body or json, not both"))
		}
		val, err := v.toGo(j, cfg.MaxRequestBytes, "the json body")
		if err != nil {
			v.raise(L, call, err)
		}
		if body, err = jsonText(val, false); err != nil {
			v.raise(L, call, err)
		}
		if !hasHeader(headers, "Content-Type") {
			if headers == nil {
				headers = map[string]string{}
			}
			headers["Content-Type"] = "application/json"
		}
	}
	if int64(len(body)) > cfg.MaxRequestBytes {
		v.raise(L, call, fmt.Errorf("the request body is %s, more than the limit of %s", byteSize(int64(len(body))), byteSize(cfg.MaxRequestBytes)))
	}
	method := "GET"
	if body != nil {
		method = "POST"
	}
	if m, isStr := opts.RawGetString("method").(lua.LString); isStr {
		method = strings.ToUpper(string(m))
	}
	timeout := cfg.Timeout
	if t, isNum := opts.RawGetString("timeout").(lua.LNumber); isNum {
		if t <= 0 || math.IsNaN(float64(t)) {
			v.raise(L, call, errors.New("timeout must be a positive number of seconds"))
		}
		timeout = min(timeout, time.Duration(float64(t)*float64(time.Second)))
	}

	ctx, cancel := context.WithTimeout(ru.ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, u.String(), bytes.NewReader(body))
	if err != nil {
		v.raise(L, call, err)
	}
	if body == nil {
		req.Body, req.ContentLength = nil, 0
	}
	for k, val := range headers {
		req.Header.Set(k, val)
	}
	if req.Header.Get("User-Agent") == "" {
		req.Header.Set("User-Agent", "moonbase-functions")
	}
	done := ru.wait()
	resp, err := v.reg.http.Do(req)
	var respBody []byte
	if err == nil {
		respBody, err = io.ReadAll(io.LimitReader(resp.Body, cfg.MaxResponseBytes+1))
		resp.Body.Close()
		if err == nil && int64(len(respBody)) > cfg.MaxResponseBytes {
			err = fmt.Errorf("the response body is more than the limit of %s", byteSize(cfg.MaxResponseBytes))
		}
	}
	done()
	if err != nil {
		var blocked *blockedAddrError
		switch {
		case errors.As(err, &blocked):
			err = blocked
		case ctx.Err() != nil && ru.ctx.Err() == nil:
			err = fmt.Errorf("%s %s: no answer within %s", method, u.Redacted(), timeout)
		default:
			var ue *url.Error
			if errors.As(err, &ue) {
				err = fmt.Errorf("%s %s: %v", method, u.Redacted(), ue.Err)
			}
		}
		v.raise(L, call, err)
	}

	out := L.CreateTable(0, 4)
	out.Metatable = v.objectMT
	out.RawSetString("status", lua.LNumber(resp.StatusCode))
	h := L.CreateTable(0, len(resp.Header))
	h.Metatable = v.objectMT
	for k, vals := range resp.Header {
		h.RawSetString(strings.ToLower(k), lua.LString(strings.Join(vals, ", ")))
	}
	out.RawSetString("headers", h)
	out.RawSetString("body", lua.LString(respBody))
	if strings.Contains(strings.ToLower(resp.Header.Get("Content-Type")), "json") {
		lim := dataLimits()
		lim.MaxBytes = int(cfg.MaxResponseBytes)
		if val, err := db.DecodeJSONValue(respBody, lim); err == nil {
			if lv, err := v.toLua(val); err == nil {
				out.RawSetString("json", lv)
			}
		}
	}
	L.Push(out)
	return 1
}

func hasHeader(h map[string]string, name string) bool {
	for k := range h {
		if strings.EqualFold(k, name) {
			return true
		}
	}
	return false
}
