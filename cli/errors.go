package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
)

// apiError is an error answer of the server: {"error": {"code", "message",
// "details"}} with its status.
type apiError struct {
	Status  int
	Code    string
	Message string
	Details json.RawMessage // route-specific, such as deploy's [{name, error}]
}

func (e *apiError) Error() string {
	msg := e.Message
	if msg == "" {
		msg = fmt.Sprintf("the server answered %d %s", e.Status, http.StatusText(e.Status))
	}
	if e.Status == http.StatusUnauthorized {
		msg += " (check MOONBASE_ADMIN_TOKEN or --token)"
	}
	return msg
}

// unreachableError is a request that got no HTTP answer at all.
type unreachableError struct {
	URL string
	Err error
}

func (e *unreachableError) Error() string {
	return fmt.Sprintf("cannot reach the server at %s: %s", e.URL, reason(e.Err))
}

func (e *unreachableError) Unwrap() error { return e.Err }

// reason words a transport error without Go's "Post \"…\": dial tcp …"
// framing, which repeats the URL and means little to a user.
func reason(err error) string {
	var dnsErr *net.DNSError
	var opErr *net.OpError
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused (is `moonbase serve` running there?)"
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		return "no answer in time"
	case errors.Is(err, context.Canceled):
		return "interrupted"
	case errors.As(err, &dnsErr):
		return "unknown host " + dnsErr.Name
	case errors.As(err, &opErr) && opErr.Err != nil:
		return opErr.Err.Error()
	}
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		return urlErr.Err.Error()
	}
	return err.Error()
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// runFailedError is a run that ended with an error; its message is the
// server's, which names the function and the Lua line.
type runFailedError struct {
	Message string
	Line    int
}

func (e *runFailedError) Error() string {
	if e.Line > 0 && !strings.Contains(e.Message, "line") {
		return fmt.Sprintf("%s (line %d)", e.Message, e.Line)
	}
	return e.Message
}
