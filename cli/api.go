package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// defaultServerURL is where the client looks for a server when neither
// --url nor MOONBASE_URL says otherwise: `moonbase serve`'s default address.
const defaultServerURL = "http://127.0.0.1:8080"

// clientTimeout bounds one request. It is long because `functions invoke`
// waits for the run, and a function may take minutes if its timeout says so.
const clientTimeout = 10 * time.Minute

// maxAnswer caps what the client reads of one answer, so a wrong --url
// pointing at a huge download fails instead of filling memory.
const maxAnswer = 64 << 20

// apiClient talks to a Moonbase server's admin API with the admin token.
type apiClient struct {
	base    string // "http://127.0.0.1:8080", without a trailing slash
	token   string
	version string // of the client, for the User-Agent
	http    *http.Client
}

// newAPIClient checks the server URL and the token and returns a client.
func newAPIClient(rawURL, token, version string) (*apiClient, error) {
	base := strings.TrimRight(strings.TrimSpace(rawURL), "/")
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("server URL %q is not an http:// or https:// URL", rawURL)
	}
	if token == "" {
		return nil, errors.New("MOONBASE_ADMIN_TOKEN is not set (or pass --token): the admin API needs the admin token")
	}
	return &apiClient{base: base, token: token, version: version, http: &http.Client{Timeout: clientTimeout}}, nil
}

// do sends one request to the admin API and returns the answer's body.
// body, when not nil, is sent as JSON. An answer outside 2xx becomes an
// *apiError; no answer at all an *unreachableError. A 204 returns nil.
func (c *apiClient) do(ctx context.Context, method, path string, body any) ([]byte, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("encode request: %w", err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("User-Agent", "moonbase-cli/"+c.version)
	res, err := c.http.Do(req)
	if err != nil {
		return nil, &unreachableError{URL: c.base, Err: err}
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, maxAnswer))
	if err != nil {
		return nil, &unreachableError{URL: c.base, Err: err}
	}
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return nil, answerError(res.StatusCode, data)
	}
	if res.StatusCode == http.StatusNoContent {
		return nil, nil
	}
	if !json.Valid(data) {
		return nil, fmt.Errorf("the server at %s answered %s %s with something that is not JSON; is --url a Moonbase server?", c.base, method, path)
	}
	return data, nil
}

// call is do that also decodes the answer into out (when out is not nil)
// and returns the raw answer for --json.
func (c *apiClient) call(ctx context.Context, method, path string, body, out any) ([]byte, error) {
	data, err := c.do(ctx, method, path, body)
	if err != nil || out == nil || data == nil {
		return data, err
	}
	if err := json.Unmarshal(data, out); err != nil {
		return data, fmt.Errorf("unexpected answer to %s %s: %v", method, path, err)
	}
	return data, nil
}

// answerError reads the server's {"error": {…}}; an answer without one
// (a proxy's HTML page, a server that is not Moonbase) is described by its
// status.
func answerError(status int, data []byte) *apiError {
	var env struct {
		Error *struct {
			Code    string          `json:"code"`
			Message string          `json:"message"`
			Details json.RawMessage `json:"details"`
		} `json:"error"`
	}
	if json.Unmarshal(data, &env) == nil && env.Error != nil {
		return &apiError{Status: status, Code: env.Error.Code, Message: env.Error.Message, Details: env.Error.Details}
	}
	return &apiError{Status: status}
}

// pathName escapes a function, secret or job name for a URL path.
func pathName(name string) string { return url.PathEscape(name) }

// clientOptions are the flags every client command shares.
type clientOptions struct {
	url, token string
	json       bool
	getenv     func(string) string
	version    string
}

// client resolves the server URL and token (flags first, then the
// environment) and returns an admin API client.
func (o *clientOptions) client() (*apiClient, error) {
	u := o.url
	if u == "" {
		u = o.getenv("MOONBASE_URL")
	}
	if u == "" {
		u = defaultServerURL
	}
	token := o.token
	if token == "" {
		token = o.getenv("MOONBASE_ADMIN_TOKEN")
	}
	return newAPIClient(u, token, o.version)
}

// exchange is what a client command does: send one request to the admin
// API, then print the answer, as it came with --json, else decoded into an
// A and shown by show. Commands that need more than one request use
// o.client and o.print themselves.
func exchange[A any](cmd *cobra.Command, o *clientOptions, method, path string, body any, show func(w io.Writer, ans A) error) error {
	c, err := o.client()
	if err != nil {
		return err
	}
	var ans A
	raw, err := c.call(cmd.Context(), method, path, body, &ans)
	if err != nil {
		return err
	}
	return o.print(cmd, raw, func(w io.Writer) error { return show(w, ans) })
}

// print writes an answer: raw for --json, else what show writes.
func (o *clientOptions) print(cmd *cobra.Command, raw []byte, show func(w io.Writer) error) error {
	if o.json {
		return printRaw(cmd.OutOrStdout(), raw)
	}
	return show(cmd.OutOrStdout())
}

// maxPages bounds how many pages exchangeAll reads, so a server that
// keeps answering a next cannot keep the command running forever.
const maxPages = 10_000

// exchangeAll is exchange for a list the admin API pages with a cursor
// (?limit=&after=, answering next): it reads every page, 1,000 items at a
// time, and prints them as one answer. add appends a page to the whole
// and returns the page's next.
func exchangeAll[A any](cmd *cobra.Command, o *clientOptions, path string, add func(all *A, page A) string, show func(w io.Writer, ans A) error) error {
	c, err := o.client()
	if err != nil {
		return err
	}
	var all A
	after := ""
	for range maxPages {
		var page A
		if _, err := c.call(cmd.Context(), http.MethodGet, path+"?limit=1000&after="+url.QueryEscape(after), nil, &page); err != nil {
			return err
		}
		if after = add(&all, page); after == "" {
			break
		}
	}
	raw, err := json.Marshal(all)
	if err != nil {
		return err
	}
	return o.print(cmd, raw, func(w io.Writer) error { return show(w, all) })
}
