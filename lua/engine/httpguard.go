package engine

import (
	"net/http"
	"net/netip"
	"strings"
)

// GuardedTransport is the transport of backend.http.request: it refuses,
// at connect time, loopback, private, link-local and the other internal
// addresses unless the host is in cfg.AllowHosts. Outbound webhooks
// deliver through it, so an endpoint URL is held to the same rule as a
// function's own requests.
func GuardedTransport(cfg HTTPConfig) http.RoundTripper { return newHTTPClient(cfg).Transport }

// CheckHost refuses a host given as an address the guarded transport would
// refuse (or localhost), unless cfg.AllowHosts allows it. Names are left
// to the transport, which checks every address they resolve to when it
// connects.
func CheckHost(cfg HTTPConfig, host, port string) error {
	host = strings.ToLower(strings.Trim(host, "[]"))
	for _, h := range cfg.AllowHosts {
		h = strings.ToLower(strings.Trim(strings.TrimSpace(h), "[]"))
		if h == host || (port != "" && h == host+":"+port) {
			return nil
		}
	}
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return &blockedAddrError{addr: netip.MustParseAddr("127.0.0.1"), why: "loopback"}
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return nil
	}
	if why := blockedReason(a); why != "" {
		return &blockedAddrError{addr: a.Unmap(), why: why}
	}
	return nil
}
