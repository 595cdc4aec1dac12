package channels

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/gorilla/websocket"
)

// TestUpgradeThroughFasthttp opens real WebSockets through the fasthttp
// bridge, and checks that what is not a handshake, or comes from an origin
// not allowed, is refused with an HTTP answer and no connection.
func TestUpgradeThroughFasthttp(t *testing.T) {
	t.Parallel()
	store := openStore(t, t.TempDir())
	cfg := Config{Origins: []string{"https://app.example.com", "https://*.example.org"}}
	h := startHub(t, store, cfg, Deps{})

	c := dial(t, h.url, nil)
	pong := c.call(map[string]any{"type": "ping"})
	if pong.f["type"] != TypePong {
		t.Fatalf("ping answered %v", pong.f)
	}

	scenarios := []struct {
		name   string
		origin string
		ok     bool
	}{
		{"no origin (not a browser)", "", true},
		{"listed origin", "https://app.example.com", true},
		{"subdomain of a wildcard origin", "https://eu.example.org", true},
		{"other origin", "https://evil.example.net", false},
		{"wildcard does not match the bare domain's lookalike", "https://badexample.org", false},
		{"http instead of https", "http://app.example.com", false},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			hdr := http.Header{}
			if s.origin != "" {
				hdr.Set("Origin", s.origin)
			}
			ws, resp, err := websocket.DefaultDialer.Dial(h.url, hdr)
			if s.ok {
				if err != nil {
					t.Fatalf("dial: %v", err)
				}
				_ = ws.Close()
				return
			}
			if err == nil {
				_ = ws.Close()
				t.Fatal("connection opened from a refused origin")
			}
			if resp == nil || resp.StatusCode != http.StatusForbidden {
				t.Fatalf("want 403, got %v (%v)", resp, err)
			}
		})
	}

	t.Run("plain GET", func(t *testing.T) {
		resp, err := http.Get(strings.Replace(h.url, "ws://", "http://", 1))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("want 400, got %d %s", resp.StatusCode, body)
		}
	})
}

func TestOriginsDefaultToSameOrigin(t *testing.T) {
	t.Parallel()
	check := originChecker(nil)
	same, _ := http.NewRequest("GET", "http://127.0.0.1:8080/api/ws", nil)
	same.Header.Set("Origin", "http://127.0.0.1:8080")
	other, _ := http.NewRequest("GET", "http://127.0.0.1:8080/api/ws", nil)
	other.Header.Set("Origin", "https://elsewhere.example.com")
	if !check(same) || check(other) {
		t.Fatalf("same origin admitted %v, other origin admitted %v", check(same), check(other))
	}
}
