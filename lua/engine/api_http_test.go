package engine

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
)

// echoServer answers with what it received, as JSON; /slow waits,
// /big sends 2 MiB, /redirect sends the client to 127.0.0.1.
func echoServer(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		switch req.URL.Path {
		case "/slow":
			select {
			case <-time.After(5 * time.Second):
			case <-req.Context().Done():
			}
			return
		case "/big":
			w.Write([]byte(strings.Repeat("x", 2<<20)))
			return
		case "/redirect":
			http.Redirect(w, req, "http://127.0.0.1:"+req.Host[strings.LastIndexByte(req.Host, ':')+1:]+"/", http.StatusFound)
			return
		case "/text":
			w.Write([]byte("plain"))
			return
		}
		body, _ := io.ReadAll(req.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Add("X-Multi", "a")
		w.Header().Add("X-Multi", "b")
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(map[string]any{
			"method": req.Method, "path": req.URL.RequestURI(), "body": string(body),
			"contentType": req.Header.Get("Content-Type"), "auth": req.Header.Get("Authorization"), "agent": req.Header.Get("User-Agent"),
		})
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestHTTPRequestRefusesPrivateAddresses(t *testing.T) {
	t.Parallel()
	srv := echoServer(t)
	port := srv.URL[strings.LastIndexByte(srv.URL, ':')+1:]
	closed := newTestRegistry(t, Config{}, Deps{})
	onlyName := newTestRegistry(t, Config{HTTP: HTTPConfig{AllowHosts: []string{"localhost"}}}, Deps{})
	refused := `backend.http.request: refusing to connect to 127.0.0.1 (a loopback address); add the host to functions.http.allow_hosts to allow it`
	for _, s := range []struct {
		name string
		r    *Registry
		url  string
	}{
		{"an address", closed, srv.URL},
		{"a name that resolves to loopback", closed, "http://localhost:" + port},
		{"a redirect to an address not allowed", onlyName, "http://localhost:" + port + "/redirect"},
	} {
		t.Run(s.name, func(t *testing.T) {
			_, err := runSource(t, s.r, `function handle(input) return backend.http.request{url = input.url} end`, map[string]any{"url": s.url}, RunOptions{})
			re, ok := err.(*RunError)
			if !ok || re.Message != refused {
				t.Errorf("error\n got: %v\nwant: %s", err, refused)
			}
		})
	}
	// The allowed name itself goes through.
	res, err := runSource(t, onlyName, `function handle(input) return backend.http.request(input.url).status end`, map[string]any{"url": "http://localhost:" + port}, RunOptions{})
	if err != nil || res.Value != int64(201) {
		t.Errorf("allowed host: %v %v", res.Value, err)
	}
}

func TestBlockedAddresses(t *testing.T) {
	t.Parallel()
	for addr, want := range map[string]string{
		"127.0.0.1": "loopback", "::1": "loopback", "::ffff:127.0.0.1": "loopback",
		"10.1.2.3": "private", "172.16.0.1": "private", "192.168.1.1": "private", "fd00::1": "private",
		"169.254.169.254": "link-local", "fe80::1": "link-local",
		"0.0.0.0": "unspecified", "::": "unspecified", "0.1.2.3": `"this network"`,
		"100.64.0.1": "shared (CGNAT)", "224.0.0.1": "link-local", "239.1.2.3": "multicast", "64:ff9b::a00:1": "NAT64",
		"8.8.8.8": "", "2606:4700::1111": "", "100.128.0.1": "",
	} {
		if got := blockedReason(netip.MustParseAddr(addr)); got != want {
			t.Errorf("%s: got %q, want %q", addr, got, want)
		}
	}
}

func TestHTTPRequest(t *testing.T) {
	t.Parallel()
	srv := echoServer(t)
	r := newTestRegistry(t, Config{HTTP: HTTPConfig{AllowHosts: []string{"127.0.0.1"}, MaxResponseBytes: 1 << 20, MaxRequestBytes: 1024}}, Deps{})
	input := map[string]any{"url": srv.URL}
	res, err := runSource(t, r, `function handle(input)
  local res = backend.http.request{method = "put", url = input.url .. "/x?y=1", headers = {Authorization = "Bearer t"}, json = {a = 1}}
  return {status = res.status, multi = res.headers["x-multi"], json = res.json, text = backend.http.request(input.url .. "/text").body}
end`, input, RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := bson.M{"status": int64(201), "multi": "a, b", "text": "plain", "json": bson.M{
		"method": "PUT", "path": "/x?y=1", "body": `{"a":1}`, "contentType": "application/json", "auth": "Bearer t", "agent": "moonbase-functions",
	}}
	if !reflect.DeepEqual(res.Value, want) {
		t.Errorf("got  %#v\nwant %#v", res.Value, want)
	}
	res, err = runSource(t, r, `function handle(input) return backend.http.request{url = input.url, body = "raw"}.json end`, input, RunOptions{})
	if err != nil || res.Value.(bson.M)["method"] != "POST" || res.Value.(bson.M)["body"] != "raw" {
		t.Errorf("a body makes a POST: %v %v", res.Value, err)
	}

	for _, s := range []struct{ name, call, want string }{
		{"a slow answer", `{url = input.url .. "/slow", timeout = 0.2}`, `backend.http.request: GET ` + srv.URL + `/slow: no answer within 200ms`},
		{"a big answer", `input.url .. "/big"`, `backend.http.request: the response body is more than the limit of 1 MiB`},
		{"a big request", `{url = input.url, body = string.rep("x", 2000)}`, `backend.http.request: the request body is 2 KiB, more than the limit of 1 KiB`},
		{"not http", `"ftp://example.com/x"`, `backend.http.request: "ftp://example.com/x" is not an http or https URL`},
		{"no url", `{}`, `backend.http.request: url is missing`},
		{"an unknown option", `{url = input.url, data = "x"}`, `backend.http.request: unknown option "data" (use method, url, headers, body, json, timeout)`},
		{"body and json", `{url = input.url, body = "x", json = {}}`, `backend.http.request: give body or json, not both`},
		{"a table body", `{url = input.url, body = {}}`, `backend.http.request: body must be a string (use json for a table)`},
	} {
		t.Run(s.name, func(t *testing.T) {
			_, err := runSource(t, r, "function handle(input) return backend.http.request("+s.call+") end", input, RunOptions{})
			re, ok := err.(*RunError)
			if !ok || re.Message != s.want {
				t.Errorf("error\n got: %v\nwant: %s", err, s.want)
			}
		})
	}
}
