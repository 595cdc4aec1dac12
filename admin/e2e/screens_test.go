package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/gorilla/websocket"

	"github.com/moonbase-dev/moonbase/internal/testsupport"
	"github.com/moonbase-dev/moonbase/server"
)

// signIn opens the dashboard in b and signs in with the admin token;
// confirm dialogs are answered yes from then on.
func signIn(b *browser, base string) {
	b.t.Helper()
	b.run("sign in",
		chromedp.Navigate(base+"/admin"),
		chromedp.WaitVisible("#token", chromedp.ByQuery),
		setField("#token", adminToken),
		chromedp.Click(".signin button[type=submit]", chromedp.ByQuery),
		chromedp.WaitVisible("#signout", chromedp.ByQuery),
		chromedp.Evaluate(`window.confirm = () => true`, nil))
}

// open navigates to a screen of the dashboard and waits for sel.
func open(b *browser, base, hash, sel string) {
	b.t.Helper()
	b.run("open "+hash,
		chromedp.Navigate(base+"/admin"+hash),
		chromedp.WaitVisible(sel, chromedp.ByQuery),
		chromedp.Evaluate(`window.confirm = () => true`, nil))
}

// receiver is a webhook receiver on 127.0.0.1: /ok answers 200 "thanks",
// anything else 500.
type receiver struct {
	*httptest.Server
	mu   sync.Mutex
	hits []hit
}

type hit struct{ path, webhookID, body string }

func newReceiver(t *testing.T) *receiver {
	r := &receiver{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.hits = append(r.hits, hit{path: req.URL.Path, webhookID: req.Header.Get("webhook-id"), body: string(b)})
		r.mu.Unlock()
		w.Header().Set("X-Receiver", "e2e")
		if req.URL.Path == "/ok" {
			_, _ = io.WriteString(w, "thanks")
			return
		}
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = io.WriteString(w, "receiver is down")
	}))
	t.Cleanup(r.Close)
	return r
}

// hitsOn returns the requests received on path so far.
func (r *receiver) hitsOn(path string) []hit {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []hit
	for _, h := range r.hits {
		if h.path == path {
			out = append(out, h)
		}
	}
	return out
}

func allowLoopback(cfg *server.Config) {
	cfg.Functions.HTTP.AllowHosts = []string{"127.0.0.1"}
}

// jsonOf decodes an API answer's body, failing the test when it is not
// JSON.
func jsonOf(t *testing.T, a answer) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(a.body), &m); err != nil {
		t.Fatalf("answer %d is not JSON: %s", a.status, a.body)
	}
	return m
}

// deliveryStatuses lists the statuses of an endpoint's deliveries.
func deliveryStatuses(t *testing.T, s *server.Server, endpoint string) []string {
	t.Helper()
	res := call(t, s, "GET", "/api/admin/webhooks/deliveries?endpoint="+endpoint, "", adminToken)
	var ans struct {
		Deliveries []struct{ Status string } `json:"deliveries"`
	}
	if res.status != http.StatusOK || json.Unmarshal([]byte(res.body), &ans) != nil {
		t.Fatalf("deliveries of %s: %d %s", endpoint, res.status, res.body)
	}
	var out []string
	for _, d := range ans.Deliveries {
		out = append(out, d.Status)
	}
	return out
}

// TestWebhooksInBrowser: create an endpoint and see its secret once, see
// a delivery to a real receiver and its attempts, replay it, replay the
// failed deliveries of another endpoint since a time, rotate, disable,
// enable and delete.
func TestWebhooksInBrowser(t *testing.T) {
	s := startServer(t, allowLoopback)
	rcv := newReceiver(t)
	b := newBrowser(t, 1280, 800)
	base := s.URL()
	signIn(b, base)

	open(b, base, "#/webhooks", "#ep-url")
	b.run("a bad URL is refused with its code",
		setField("#ep-url", "ftp://127.0.0.1/x"),
		chromedp.Click("#ep-create", chromedp.ByQuery),
		waitText("#alerts", "invalid_input"))
	b.run("create an endpoint",
		setField("#ep-url", rcv.URL+"/ok"),
		setField("#ep-events", "order.*, invoice.paid"),
		setField("#ep-description", "Shop"),
		chromedp.Click("#ep-create", chromedp.ByQuery),
		waitText("#new-secret", "whsec_"),
		waitText("main table", rcv.URL+"/ok"))
	var secret string
	b.run("read the secret", chromedp.Text("#new-secret .secret-value", &secret, chromedp.ByQuery))
	b.docShot("webhooks")
	list := jsonOf(t, call(t, s, "GET", "/api/admin/webhooks/endpoints", "", adminToken))
	eps, _ := list["endpoints"].([]any)
	if len(eps) != 1 || !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("endpoints %v, secret %q", eps, secret)
	}
	ep := eps[0].(map[string]any)
	id := ep["id"].(string)
	if fmt.Sprint(ep["events"]) != "[order.* invoice.paid]" {
		t.Fatalf("the endpoint was created with events %v", ep["events"])
	}

	b.run("a payload that is not JSON is refused on the page",
		setField("#emit-type", "order.created"),
		setField("#emit-payload", `{"order": `),
		chromedp.Click("#emit-form button[type=submit]", chromedp.ByQuery),
		waitText("#alerts", "payload is not JSON"))
	b.run("send a message from the page",
		setField("#emit-payload", `{"order": 42}`),
		chromedp.Click("#emit-form button[type=submit]", chromedp.ByQuery),
		waitText("#notices", "queued for 1 endpoint."))
	testsupport.WaitForWithin(t, 20*time.Second, "the delivery to arrive", func() bool { return len(rcv.hitsOn("/ok")) == 1 })
	if body := rcv.hitsOn("/ok")[0].body; !strings.Contains(body, `"order.created"`) || !strings.Contains(body, `42`) {
		t.Fatalf("the receiver got %s", body)
	}
	testsupport.WaitForWithin(t, 20*time.Second, "the delivery to be recorded delivered", func() bool {
		st := deliveryStatuses(t, s, id)
		return len(st) == 1 && st[0] == "delivered"
	})

	b.run("open the endpoint: the secret is not shown again",
		chromedp.Click(fmt.Sprintf(`.endpoint-open[data-endpoint=%q]`, id), chromedp.ByQuery),
		waitText("main h1", "Shop"),
		chromedp.WaitVisible(".delivery-open", chromedp.ByQuery),
		waitTrue(fmt.Sprintf(`!document.body.textContent.includes(%q)`, secret)))
	b.run("the delivery's attempts",
		chromedp.Click(".delivery-open", chromedp.ByQuery),
		waitText("#attempts", "Attempt 1"),
		waitText("#attempts", "200"),
		waitText("#attempts .response-body", "thanks"),
		waitText("#attempts", "X-Receiver: e2e"))
	b.run("show the attempt", chromedp.ScrollIntoView("#attempts .response-body", chromedp.ByQuery))
	b.docShot("webhook-delivery")
	b.run("status filter",
		chromedp.Click(`button[data-status="dead"]`, chromedp.ByQuery),
		waitText("#main", "No deliveries here."),
		chromedp.Click(`button[data-status="delivered"]`, chromedp.ByQuery),
		chromedp.WaitVisible(".delivery-open", chromedp.ByQuery))
	b.run("replay it",
		chromedp.Click("#delivery-replay", chromedp.ByQuery),
		waitText("#notices", "pending again"))
	testsupport.WaitForWithin(t, 20*time.Second, "the replayed delivery to arrive", func() bool { return len(rcv.hitsOn("/ok")) == 2 })
	if h := rcv.hitsOn("/ok"); h[0].webhookID == "" || h[1].webhookID != h[0].webhookID || h[1].body != h[0].body {
		t.Fatalf("the replay is not the same message: %+v", h)
	}

	// Fifty more messages make the endpoint's deliveries two pages.
	for i := 0; i < 50; i++ {
		if res := call(t, s, "POST", "/api/admin/webhooks/emit", fmt.Sprintf(`{"type":"order.updated","payload":{"n":%d}}`, i), adminToken); res.status != http.StatusAccepted {
			t.Fatalf("emit: %d %s", res.status, res.body)
		}
	}
	testsupport.WaitForWithin(t, 30*time.Second, "51 deliveries delivered", func() bool {
		st := deliveryStatuses(t, s, id)
		return len(st) == 51 && !slices.Contains(st, "pending")
	})
	b.run("page through the deliveries",
		chromedp.Click(`button[data-status="pending"]`, chromedp.ByQuery),
		waitText("#main", "No deliveries here."),
		chromedp.Click(`button[data-status="delivered"]`, chromedp.ByQuery),
		waitTrue(`document.querySelectorAll(".delivery-open").length === 50`),
		chromedp.Click(`.pager button:last-child`, chromedp.ByQuery),
		waitTrue(`document.querySelectorAll(".delivery-open").length === 1`),
		waitText(".pager", "page 2"),
		waitTrue(`document.querySelector(".pager button:last-child").disabled`),
		chromedp.Click(`.pager button:first-child`, chromedp.ByQuery),
		waitTrue(`document.querySelectorAll(".delivery-open").length === 50`),
		waitText(".pager", "page 1"))

	b.run("rotate the secret",
		chromedp.Click("#ep-rotate", chromedp.ByQuery),
		waitText("#new-secret", "New secret"),
		waitTrue(fmt.Sprintf(`document.querySelector("#new-secret .secret-value").textContent.startsWith("whsec_") && document.querySelector("#new-secret .secret-value").textContent !== %q`, secret)),
		waitText("main dl", "previous one also signs"))
	b.run("disable",
		chromedp.Click("#ep-disable", chromedp.ByQuery),
		waitText("#endpoint-state", "disabled"))
	if ep := jsonOf(t, call(t, s, "GET", "/api/admin/webhooks/endpoints/"+id, "", adminToken))["endpoint"].(map[string]any); ep["disabled"] != true {
		t.Fatalf("after Disable the endpoint is %v", ep)
	}
	b.run("enable",
		chromedp.Click("#ep-enable", chromedp.ByQuery),
		waitText("#endpoint-state", "enabled"))
	if ep := jsonOf(t, call(t, s, "GET", "/api/admin/webhooks/endpoints/"+id, "", adminToken))["endpoint"].(map[string]any); ep["disabled"] != false {
		t.Fatalf("after Enable the endpoint is %v", ep)
	}

	b.run("edit the endpoint",
		chromedp.Click("#endpoint-edit summary", chromedp.ByQuery),
		setField("#edit-events", "order.*"),
		setField("#edit-rate", "5"),
		chromedp.Click("#edit-save", chromedp.ByQuery),
		waitText("#notices", "Endpoint saved"),
		waitText("main dl", "5/s"))
	ep = jsonOf(t, call(t, s, "GET", "/api/admin/webhooks/endpoints/"+id, "", adminToken))["endpoint"].(map[string]any)
	if fmt.Sprint(ep["events"]) != "[order.*]" || ep["rate_limit"] != 5.0 || ep["url"] != rcv.URL+"/ok" || ep["description"] != "Shop" {
		t.Fatalf("after the edit the endpoint is %v", ep)
	}
	b.run("an edit the server refuses changes nothing",
		chromedp.Click("#endpoint-edit summary", chromedp.ByQuery),
		setField("#edit-url", "ftp://127.0.0.1/x"),
		chromedp.Click("#edit-save", chromedp.ByQuery),
		waitText("#alerts", "invalid_input"))
	if got := jsonOf(t, call(t, s, "GET", "/api/admin/webhooks/endpoints/"+id, "", adminToken))["endpoint"].(map[string]any); got["url"] != rcv.URL+"/ok" {
		t.Fatalf("a refused edit changed the endpoint: %v", got)
	}

	// A second endpoint whose receiver fails, one attempt only: its
	// delivery goes dead, and "Replay failed since" sends it again.
	res := call(t, s, "POST", "/api/admin/webhooks/endpoints", fmt.Sprintf(`{"url":%q,"events":["invoice.*"],"max_attempts":1}`, rcv.URL+"/fail"), adminToken)
	if res.status != http.StatusCreated {
		t.Fatalf("create the failing endpoint: %d %s", res.status, res.body)
	}
	failing := jsonOf(t, res)["endpoint"].(map[string]any)["id"].(string)
	if res := call(t, s, "POST", "/api/admin/webhooks/emit", `{"type":"invoice.failed","payload":{"invoice":7}}`, adminToken); res.status != http.StatusAccepted {
		t.Fatalf("emit: %d %s", res.status, res.body)
	}
	testsupport.WaitForWithin(t, 20*time.Second, "the failing delivery to go dead", func() bool {
		st := deliveryStatuses(t, s, failing)
		return len(st) == 1 && st[0] == "dead"
	})
	open(b, base, "#/webhooks/"+failing, `button[data-status="dead"]`)
	b.run("the dead delivery's attempt",
		chromedp.Click(`button[data-status="dead"]`, chromedp.ByQuery),
		chromedp.WaitVisible(".delivery-open", chromedp.ByQuery),
		chromedp.Click(".delivery-open", chromedp.ByQuery),
		waitText("#attempts", "500"),
		waitText("#attempts .response-body", "receiver is down"))
	b.run("replay the failed deliveries since yesterday",
		chromedp.Click("#replay-failed button[type=submit]", chromedp.ByQuery),
		waitText("#notices", "1 failed deliveries replayed"))
	testsupport.WaitForWithin(t, 20*time.Second, "the failed delivery to be sent again", func() bool { return len(rcv.hitsOn("/fail")) == 2 })

	open(b, base, "#/webhooks/"+id, "#ep-delete")
	b.run("delete the endpoint",
		chromedp.Click("#ep-delete", chromedp.ByQuery),
		waitTrue(`location.hash === "#/webhooks"`),
		chromedp.WaitVisible("#ep-url", chromedp.ByQuery))
	if res := call(t, s, "GET", "/api/admin/webhooks/endpoints/"+id, "", adminToken); res.status != http.StatusNotFound {
		t.Fatalf("the deleted endpoint answers %d %s", res.status, res.body)
	}
	open(b, base, "#/webhooks/no-such-endpoint", "#alerts .alert")
	b.run("an unknown endpoint says so", waitText("#alerts", "not_found"))
	if errs := b.consoleErrors(); len(errs) > 0 {
		t.Fatalf("the page logged errors: %v", errs)
	}
}

const hookV1 = `function handle(input) return { seen = input.json, v = 1 } end`
const hookV2 = `function handle(input) return { seen = input.json, v = 2 } end`

// TestHTTPMethodsAndInboundInBrowser: restrict an http trigger to POST
// in the trigger form and see a GET answered 405; open a logged inbound
// request with its headers and raw body, replay it to the current
// version, and test-run the editor's text against it.
func TestHTTPMethodsAndInboundInBrowser(t *testing.T) {
	s := startServer(t)
	def := fmt.Sprintf(`{"source":%q,"triggers":[{"http":true}]}`, hookV1)
	if res := call(t, s, "PUT", "/api/admin/functions/hook", def, adminToken); res.status != http.StatusCreated {
		t.Fatalf("create hook: %d %s", res.status, res.body)
	}
	if res := call(t, s, "GET", "/functions/hook", "", ""); res.status != http.StatusOK {
		t.Fatalf("before any methods are set GET answered %d %s", res.status, res.body)
	}
	b := newBrowser(t, 1280, 800)
	base := s.URL()
	signIn(b, base)

	open(b, base, "#/functions/hook", "#tab-triggers")
	b.run("tick POST",
		chromedp.Click("#tab-triggers", chromedp.ByQuery),
		waitText("#panel-triggers", "answers every method"),
		chromedp.Click("#trigger-0-method-POST", chromedp.ByQuery),
		waitText("#trigger-0-methods-note", "Answers POST"))
	b.docShot("triggers-http")
	b.run("save the triggers",
		chromedp.Click("#save-triggers", chromedp.ByQuery),
		waitText("h1 .version", "v2"))
	fn := jsonOf(t, call(t, s, "GET", "/api/admin/functions/hook", "", adminToken))["function"].(map[string]any)
	if got := fmt.Sprint(fn["triggers"]); got != "[map[http:true methods:[POST]]]" {
		t.Fatalf("saved triggers %s", got)
	}
	req, _ := http.NewRequest("GET", base+"/functions/hook", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusMethodNotAllowed || res.Header.Get("Allow") != "POST" {
		t.Fatalf("GET after POST-only: %d, Allow %q", res.StatusCode, res.Header.Get("Allow"))
	}
	b.run("the list shows the methods",
		chromedp.Navigate(base+"/admin#/functions"),
		waitText("main table", "http POST"))

	req, _ = http.NewRequest("POST", base+"/functions/hook?source=e2e", strings.NewReader(`{"order": 42}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Sender-Mark", "from-the-test")
	if res, err = http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("POST /functions/hook: %d", res.StatusCode)
	}
	def = fmt.Sprintf(`{"source":%q,"triggers":[{"http":true,"methods":["POST"]}]}`, hookV2)
	if res := call(t, s, "PUT", "/api/admin/functions/hook", def, adminToken); res.status != http.StatusOK {
		t.Fatalf("update hook: %d %s", res.status, res.body)
	}

	open(b, base, "#/inbound", "#inbound-status")
	b.run("filter the 2xx requests of hook",
		setField("#inbound-function", "hook"),
		setField("#inbound-status", "2xx"),
		chromedp.Click("#inbound-status", chromedp.ByQuery),
		chromedp.KeyEvent("\r"),
		waitTrue(`document.querySelectorAll(".inbound-open").length === 2`))
	b.run("a status filter the server refuses shows its error",
		setField("#inbound-status", "teapot"),
		chromedp.Click("#inbound-status", chromedp.ByQuery),
		chromedp.KeyEvent("\r"),
		waitText("#alerts", "invalid_input"),
		setField("#inbound-status", "405"),
		chromedp.Click("#inbound-status", chromedp.ByQuery),
		chromedp.KeyEvent("\r"),
		waitTrue(`document.querySelectorAll(".inbound-open").length === 1`),
		waitText("main table", "GET /functions/hook"))
	b.run("open the POST",
		setField("#inbound-status", "200"),
		chromedp.Click("#inbound-status", chromedp.ByQuery),
		chromedp.KeyEvent("\r"),
		waitText("main table", "POST /functions/hook?source=e2e"),
		chromedp.Click(".inbound-open", chromedp.ByQuery),
		waitText("#inbound-view", "from-the-test"),
		waitText("#inbound-body", `{"order": 42}`),
		waitText("#inbound-answer", `"v":1`))
	b.docShot("inbound")
	b.run("replay it to the current version",
		chromedp.Click("#inbound-replay", chromedp.ByQuery),
		waitText("#notices", "answered 200"),
		waitText("#inbound-view", "replay of"),
		waitText("#inbound-answer", `"v":2`))
	open(b, base, "#/functions/hook", "#test-context")
	b.run("test-run the editor's text against a logged request",
		setField("#test-context", "inbound"),
		waitText("#test-pick", "POST 200"),
		waitTrue(`document.querySelector("#test-input").value.includes("from-the-test")`),
		waitTrue(`document.querySelector("#test-input").value.includes('"order": 42')`),
		chromedp.Click("#run-test", chromedp.ByQuery),
		waitText("#test-return", "order"),
		waitText("#test-return", "42"))
	if errs := b.consoleErrors(); len(errs) > 0 {
		t.Fatalf("the page logged errors: %v", errs)
	}
}

// member is a signed-in user's WebSocket on /api/ws, its frames in a
// channel.
type member struct {
	ws     *websocket.Conn
	frames chan map[string]any
}

func joinAsMember(t *testing.T, s *server.Server, email, channel string) (*member, string) {
	t.Helper()
	res := call(t, s, "POST", "/api/auth/register", fmt.Sprintf(`{"email":%q,"password":"password1","name":"Ada"}`, email), "")
	if res.status != http.StatusCreated {
		t.Fatalf("register: %d %s", res.status, res.body)
	}
	reg := jsonOf(t, res)
	userID := reg["user"].(map[string]any)["id"].(string)
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(s.URL(), "http")+"/api/ws",
		http.Header{"Authorization": {"Bearer " + reg["token"].(string)}})
	if err != nil {
		t.Fatalf("dial /api/ws: %v", err)
	}
	m := &member{ws: ws, frames: make(chan map[string]any, 100)}
	go func() {
		defer close(m.frames)
		for {
			var f map[string]any
			if err := ws.ReadJSON(&f); err != nil {
				return
			}
			m.frames <- f
		}
	}()
	t.Cleanup(func() { _ = ws.Close() })
	if err := ws.WriteJSON(map[string]any{"type": "join", "channel": channel, "id": "j1"}); err != nil {
		t.Fatal(err)
	}
	if f := m.wait(t, "the join's answer", func(f map[string]any) bool { return f["id"] == "j1" }); f["type"] != "ok" {
		t.Fatalf("join %s: %v", channel, f)
	}
	return m, userID
}

func (m *member) wait(t *testing.T, what string, keep func(map[string]any) bool) map[string]any {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case f, ok := <-m.frames:
			if !ok {
				t.Fatalf("connection closed waiting for %s", what)
			}
			if keep(f) {
				return f
			}
		case <-timeout:
			t.Fatalf("no %s", what)
		}
	}
}

// TestChannelsInBrowser: see a channel and its member count, open it
// and see its member, a message sent by the member appear live, and a
// message published from the page reach the member.
func TestChannelsInBrowser(t *testing.T) {
	s := startServer(t)
	ada, adaID := joinAsMember(t, s, "ada@example.com", "room:1")
	b := newBrowser(t, 1280, 800)
	base := s.URL()
	signIn(b, base)

	open(b, base, "#/channels", "main table")
	b.run("the channel and its member count",
		waitText(`[data-members="room:1"]`, "1"))
	b.run("open it",
		chromedp.Click(".channel-open", chromedp.ByQuery),
		waitText("main h1", "room:1"),
		waitText("#channel-members", adaID),
		waitText("#channel-members", "Ada"),
		waitText("#channel-messages", "No messages stored"))
	if err := ada.ws.WriteJSON(map[string]any{"type": "send", "channel": "room:1", "data": map[string]any{"text": "hello from Ada"}, "id": "s1"}); err != nil {
		t.Fatal(err)
	}
	b.run("the member's message appears live", waitText("#channel-messages", "hello from Ada"))
	b.run("publish a message as the system",
		setField("#channel-data", `{"text": "hello from the admin"}`),
		chromedp.Click("#channel-publish button[type=submit]", chromedp.ByQuery),
		waitText("#notices", "Published message #2"),
		waitText("#channel-messages", "hello from the admin"),
		waitText(`#channel-messages li[data-offset="2"]`, "system"))
	f := ada.wait(t, "the admin's message", func(f map[string]any) bool { return f["type"] == "message" && f["offset"] == 2.0 })
	if data, _ := f["data"].(map[string]any); data["text"] != "hello from the admin" || f["user"] != nil {
		t.Fatalf("the member received %v", f)
	}
	b.docShot("channel")
	b.run("data that is not JSON is refused on the page",
		setField("#channel-data", `{"text": `),
		chromedp.Click("#channel-publish button[type=submit]", chromedp.ByQuery),
		waitText("#alerts", "invalid_input: data is not JSON"))
	open(b, base, "#/channels/a%20b", "#alerts .alert")
	b.run("a bad channel name says so", waitText("#alerts", "invalid_channel"))
	open(b, base, "#/channels/room%3A1", "#channel-members")
	b.run("the channel again, its messages in order",
		waitText("#channel-messages", "hello from the admin"),
		waitTrue(`[...document.querySelectorAll("#channel-messages li")].map((li) => li.dataset.offset).join() === "1,2"`))
	b.run("the member leaves",
		chromedp.ActionFunc(func(context.Context) error { return ada.ws.Close() }),
		waitText("#channel-members", "Nobody is here now"))
	if errs := b.consoleErrors(); len(errs) > 0 {
		t.Fatalf("the page logged errors: %v", errs)
	}
}

// TestNewScreensPhoneAndKeyboard: the webhook, inbound and channel
// screens at phone width scroll only downwards, and an endpoint can be
// created with the keyboard alone.
func TestNewScreensPhoneAndKeyboard(t *testing.T) {
	s := startServer(t, allowLoopback)
	rcv := newReceiver(t)
	joinAsMember(t, s, "grace@example.com", "lobby")
	b := newBrowser(t, 390, 844)
	base := s.URL()
	b.run("phone viewport", chromedp.EmulateViewport(390, 844))
	signIn(b, base)
	open(b, base, "#/webhooks", "#ep-url")
	b.run("create an endpoint with the keyboard",
		chromedp.Evaluate(`document.body.focus()`, nil),
		tabTo("#ep-url"),
		chromedp.KeyEvent(rcv.URL+"/ok"),
		tabTo("#ep-create"),
		chromedp.KeyEvent("\r"),
		waitText("#new-secret", "whsec_"),
		waitTrue(`document.activeElement && document.activeElement.matches("#new-secret .secret-value")`))
	var outline string
	b.run("focus is visible", chromedp.Evaluate(`getComputedStyle(document.activeElement).outlineStyle`, &outline))
	if outline == "none" || outline == "" {
		t.Fatalf("the focused secret has no visible outline (%q)", outline)
	}
	b.run("open the endpoint with the keyboard",
		tabTo(".endpoint-open"),
		chromedp.KeyEvent("\r"),
		chromedp.WaitVisible("#ep-rotate", chromedp.ByQuery),
		waitTrue(`document.documentElement.scrollWidth <= window.innerWidth`))
	for _, screen := range []struct{ hash, sel string }{
		{"#/webhooks", "#ep-url"},
		{"#/inbound", "#inbound-status"},
		{"#/channels", "main table"},
		{"#/channels/lobby", "#channel-data"},
	} {
		open(b, base, screen.hash, screen.sel)
		b.run("no sideways scrolling on "+screen.hash, waitTrue(`document.documentElement.scrollWidth <= window.innerWidth`))
	}
	b.run("the member is listed", waitText("#channel-members", "Members (1)"))
	b.docShot("phone-channel")
	if errs := b.consoleErrors(); len(errs) > 0 {
		t.Fatalf("the page logged errors: %v", errs)
	}
}
