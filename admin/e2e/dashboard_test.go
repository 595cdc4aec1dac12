package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"go.mongodb.org/mongo-driver/bson"

	"github.com/moonbase-dev/moonbase/admin"
	"github.com/moonbase-dev/moonbase/internal/testsupport"
	"github.com/moonbase-dev/moonbase/server"
)

const adminToken = "e2e-admin-token-0123456789"

// startServer runs a real moonbase server on 127.0.0.1 with the embedded
// store, stopped when the test ends; each of with may change its
// configuration first.
func startServer(t *testing.T, with ...func(*server.Config)) *server.Server {
	t.Helper()
	cfg := server.DefaultConfig()
	cfg.Server.Addr = "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	cfg.AdminToken = adminToken
	cfg.Auth.BcryptCost = 4
	cfg.Collections = map[string]server.CollectionConfig{"orders": {}}
	for _, f := range with {
		f(&cfg)
	}
	s, err := server.New(cfg, server.Deps{Stderr: io.Discard, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	res := call(t, s, "GET", "/admin", "", "")
	if res.status != http.StatusOK || !strings.Contains(res.body, "/admin/app.js") {
		t.Fatalf("the dashboard is not built into this test binary (GET /admin: %d %s); ./scripts/test builds it", res.status, res.body)
	}
	return s
}

type answer struct {
	status int
	body   string
}

// call sends one request to s; token "" sends no Authorization, cookie ""
// no session cookie.
func call(t *testing.T, s *server.Server, method, path, body, token string, cookie ...string) answer {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, s.URL()+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if len(cookie) > 0 {
		req.AddCookie(&http.Cookie{Name: admin.CookieName, Value: cookie[0]})
	}
	res, err := (&http.Client{Timeout: 20 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return answer{status: res.StatusCode, body: string(b)}
}

// deadJob makes a function that fails on the event "boom" with no retry,
// publishes the event, and returns the id of the dead job it leaves.
func deadJob(t *testing.T, s *server.Server) string {
	t.Helper()
	def := `{"source":"function handle(input) error('boom: ' .. tostring(input.n)) end","triggers":[{"event":"boom"}],"retries":0}`
	if res := call(t, s, "PUT", "/api/admin/functions/exploder", def, adminToken); res.status != http.StatusCreated {
		t.Fatalf("create exploder: %d %s", res.status, res.body)
	}
	if res := call(t, s, "POST", "/api/admin/events", `{"name":"boom","data":{"n":7}}`, adminToken); res.status != http.StatusAccepted {
		t.Fatalf("publish boom: %d %s", res.status, res.body)
	}
	var id string
	testsupport.WaitForWithin(t, 20*time.Second, "the exploder's job to go dead", func() bool {
		var ans struct {
			Jobs []struct{ ID, Kind string } `json:"jobs"`
		}
		res := call(t, s, "GET", "/api/admin/jobs?status=dead", "", adminToken)
		if json.Unmarshal([]byte(res.body), &ans) != nil {
			return false
		}
		for _, j := range ans.Jobs {
			if j.Kind == "function" {
				id = j.ID
				return true
			}
		}
		return false
	})
	return id
}

// selectAllAndType replaces the editor's whole text with text, as a paste
// would.
func selectAllAndType(text string) chromedp.Action {
	return chromedp.ActionFunc(func(ctx context.Context) error {
		if err := chromedp.Run(ctx,
			chromedp.Click(".cm-content", chromedp.ByQuery),
			chromedp.KeyEvent("a", chromedp.KeyModifiers(input.ModifierCtrl)),
		); err != nil {
			return err
		}
		return input.InsertText(text).Do(ctx)
	})
}

const brokenSource = "function handle(input, ctx)\n  print(\"hello from\", ctx.trigger)\n  return { greeting = \"Hello, \" .. input.name \nend\n"
const fixedSource = "function handle(input, ctx)\n  print(\"hello from\", ctx.trigger)\n  return { greeting = \"Hello, \" .. input.name }\nend\n"
const secondSource = "function handle(input, ctx)\n  return { greeting = \"Hi, \" .. input.name }\nend\n"

// TestDashboardInBrowser walks the dashboard as a developer does, in a
// real Chromium at 1280×800: sign in (a wrong token refused), write a
// function with a syntax error and see it underlined at its line, fix it,
// test-run it, save, roll back, preview a schedule, replay a dead job,
// open a document, sign out; and the page logs no error on the way.
func TestDashboardInBrowser(t *testing.T) {
	s := startServer(t)
	jobID := deadJob(t, s)
	if _, err := s.Store().C("orders").InsertOne(context.Background(), bson.M{"_id": "order-1", "item": "telescope", "total": 420}); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, 1280, 800)
	base := s.URL()

	b.run("open sign-in", chromedp.Navigate(base+"/admin"), chromedp.WaitVisible("#token", chromedp.ByQuery))
	b.docShot("sign-in")
	b.run("wrong token refused",
		chromedp.SendKeys("#token", "not-the-admin-token", chromedp.ByQuery),
		chromedp.Click(".signin button[type=submit]", chromedp.ByQuery),
		waitText(".signin .alert", "invalid_token"))
	if res := call(t, s, "GET", "/api/admin/functions", "", ""); res.status != http.StatusUnauthorized {
		t.Fatalf("before sign-in the API answered %d", res.status)
	}
	b.run("sign in",
		setField("#token", adminToken),
		chromedp.Click(".signin button[type=submit]", chromedp.ByQuery),
		chromedp.WaitVisible("#signout", chromedp.ByQuery),
		chromedp.Evaluate(`window.confirm = () => true`, nil))
	cookie := b.cookie(base, admin.CookieName)

	b.run("new function with a syntax error",
		chromedp.Navigate(base+"/admin#/functions/new"),
		chromedp.WaitVisible(".cm-content", chromedp.ByQuery),
		chromedp.Evaluate(`window.confirm = () => true`, nil),
		setField("#fn-name", "greet"),
		selectAllAndType(brokenSource),
		waitText("#compile-status", "Line 4"),
		chromedp.WaitVisible(".cm-lintRange-error", chromedp.ByQuery))
	var underlinedLine int
	b.run("underline is on line 4", chromedp.Evaluate(`(() => {
		const lines = Array.from(document.querySelectorAll(".cm-content .cm-line"));
		return lines.indexOf(document.querySelector(".cm-lintRange-error").closest(".cm-line")) + 1; })()`, &underlinedLine))
	if underlinedLine != 4 {
		t.Fatalf("the compile error is underlined on line %d, want 4", underlinedLine)
	}
	b.docShot("editor-error")

	b.run("fix it",
		selectAllAndType(fixedSource),
		waitText("#compile-status", "Compiles"),
		waitTrue(`document.querySelector(".cm-lintRange-error") === null`))
	b.run("test-run the unsaved text",
		setField("#test-input", `{"name": "Ada"}`),
		chromedp.Click("#run-test", chromedp.ByQuery),
		waitText("#test-return", "Hello, Ada"),
		waitText("#test-output", "hello from"))
	b.docShot("editor-test-run")
	b.run("test-run as an event, failing at its line",
		setField("#test-context", "user_registered"),
		waitTrue(`document.querySelector("#test-input").value.includes("ada@example.com")`),
		chromedp.Click("#run-test", chromedp.ByQuery),
		waitText("#test-error", "line 3"),
		waitText("#test-output", "hello from\tevent"),
		chromedp.WaitVisible(`#test-error button`, chromedp.ByQuery))
	if res := call(t, s, "GET", "/api/admin/functions/greet", "", adminToken); res.status != http.StatusNotFound {
		t.Fatalf("a test-run saved the function: %d %s", res.status, res.body)
	}

	b.run("save",
		chromedp.Click("#save", chromedp.ByQuery),
		waitTrue(`location.hash === "#/functions/greet"`),
		chromedp.WaitVisible("#tab-versions", chromedp.ByQuery),
		waitText("h1 .version", "v1"))
	b.run("save a second version",
		selectAllAndType(secondSource),
		waitText("#compile-status", "Compiles"),
		chromedp.Click("#save", chromedp.ByQuery),
		waitText("h1 .version", "v2"))
	b.run("versions and rollback",
		chromedp.Click("#tab-versions", chromedp.ByQuery),
		chromedp.WaitVisible(`button[data-version="1"]`, chromedp.ByQuery),
		chromedp.WaitVisible(".cm-mergeView", chromedp.ByQuery))
	b.docShot("versions-diff")
	b.run("roll back to v1",
		chromedp.Click(`button[data-version="1"]`, chromedp.ByQuery),
		waitText("#notices", "version 1 is now version 3"),
		waitText("h1 .version", "v3"))
	res := call(t, s, "GET", "/api/admin/functions/greet", "", adminToken)
	if !strings.Contains(res.body, `\"Hello, \"`) || !strings.Contains(res.body, `"version":3`) {
		t.Fatalf("after the rollback the function is %s", res.body)
	}

	b.run("schedule preview",
		chromedp.Click("#tab-triggers", chromedp.ByQuery),
		setField("#add-trigger", "schedule"),
		setField("#trigger-1-tz", "Europe/Paris"),
		setField("#trigger-1-expr", "every monday at 08:00"),
		// The form's default schedule shows five times of its own first:
		// wait for the preview of the typed phrase.
		waitTrue(`(() => {
			const times = document.querySelectorAll("#trigger-1-next li time");
			if (times.length !== 5) return false;
			const at = new Date(times[0].getAttribute("datetime"));
			return at.toLocaleString("en-US", {timeZone: "Europe/Paris", weekday: "long", hour: "2-digit", hourCycle: "h23"}).replace(",", "") === "Monday 08";
		})()`),
		waitText("#panel-triggers", "Reads as"))
	var firstNext string
	b.run("read the preview", chromedp.AttributeValue("#trigger-1-next li time", "datetime", &firstNext, nil, chromedp.ByQuery))
	next, err := time.Parse(time.RFC3339, firstNext)
	paris, _ := time.LoadLocation("Europe/Paris")
	if err != nil || next.In(paris).Weekday() != time.Monday || next.In(paris).Hour() != 8 {
		t.Fatalf("first occurrence %q is not a Monday at 08:00 in Paris", firstNext)
	}
	b.docShot("triggers-schedule")

	b.run("executions tail",
		chromedp.Click("#tab-executions", chromedp.ByQuery),
		chromedp.WaitVisible("#exec-status", chromedp.ByQuery))
	if res := call(t, s, "POST", "/api/admin/functions/greet/run", `{"input":{"name":"Tail"}}`, adminToken); res.status != http.StatusOK {
		t.Fatalf("run greet: %d %s", res.status, res.body)
	}
	b.run("a new run appears without reloading", waitTrue(`[...document.querySelectorAll("#exec-list details.exec")].some((d) => d.textContent.includes('"Tail"'))`))
	b.run("a test-run of unsaved text cannot be re-run",
		waitTrue(`[...document.querySelectorAll("#exec-list button.rerun")].some((b) => b.disabled && b.parentNode.textContent.includes("run it again from the editor"))`))
	var runID string
	b.run("the run shows its input",
		chromedp.Evaluate(`(() => { const d = [...document.querySelectorAll("#exec-list details.exec")].find((d) => d.textContent.includes('"Tail"'));
			d.open = true; d.querySelector("details.input").open = true; return d.querySelector("button.rerun").dataset.exec; })()`, &runID),
		waitText("#exec-list pre.exec-input", `"name": "Tail"`))
	b.run("re-run it with its input",
		chromedp.Click(fmt.Sprintf(`button.rerun[data-exec=%q]`, runID), chromedp.ByQuery),
		waitText("#notices", "Ran "+runID+" again as run"),
		waitText("#notices", "status 200"))
	b.docShot("executions-rerun")
	res = call(t, s, "GET", "/api/admin/functions/greet/executions?limit=1", "", adminToken)
	if !strings.Contains(res.body, `"name":"Tail"`) || strings.Contains(res.body, runID) {
		t.Fatalf("the newest run after the re-run is %s, want a new run with the same input", res.body)
	}
	for i := range 201 {
		if res := call(t, s, "POST", "/api/admin/functions/greet/run", fmt.Sprintf(`{"input":{"name":"n%d"}}`, i), adminToken); res.status != http.StatusOK {
			t.Fatalf("run greet: %d %s", res.status, res.body)
		}
	}
	var shown int
	b.run("older runs come a page at a time",
		chromedp.Click("#tab-versions", chromedp.ByQuery),
		chromedp.Click("#tab-executions", chromedp.ByQuery),
		chromedp.WaitVisible("#exec-older", chromedp.ByQuery),
		waitTrue(`document.querySelectorAll("#exec-list details.exec").length === 200`),
		chromedp.Click("#exec-older", chromedp.ByQuery),
		waitTrue(`document.querySelectorAll("#exec-list details.exec").length > 200`),
		waitTrue(`document.querySelector("#exec-older").hidden`),
		chromedp.Evaluate(`new Set([...document.querySelectorAll("#exec-list button.rerun")].map((b) => b.dataset.exec)).size`, &shown))
	if res := call(t, s, "GET", "/api/admin/functions/greet/executions?limit=1000", "", adminToken); strings.Count(res.body, `"version":`) != shown {
		t.Fatalf("the list shows %d distinct runs after Older runs, the API has %d", shown, strings.Count(res.body, `"version":`))
	}

	b.run("replay the dead job",
		chromedp.Navigate(base+"/admin#/jobs"),
		chromedp.WaitVisible(fmt.Sprintf(`button[data-job=%q]`, jobID), chromedp.ByQuery))
	b.docShot("jobs")
	b.run("click replay",
		chromedp.Click(fmt.Sprintf(`button[data-job=%q]`, jobID), chromedp.ByQuery),
		waitText("#notices", "pending again"))
	res = call(t, s, "GET", "/api/admin/jobs?status=dead", "", adminToken)
	if strings.Contains(res.body, jobID) {
		// It may have run and died again since; its replays count says so.
		testsupport.WaitForWithin(t, 10*time.Second, "the replayed job to show its replay", func() bool {
			return strings.Contains(call(t, s, "GET", "/api/admin/jobs?status=dead", "", adminToken).body, `"replays":1`)
		})
	}

	b.run("open a document",
		chromedp.Navigate(base+"/admin#/collections/orders"),
		chromedp.WaitVisible(".doc-open", chromedp.ByQuery),
		chromedp.Click(".doc-open", chromedp.ByQuery),
		waitText("#doc-json", "telescope"))
	b.docShot("collection-document")

	for i := range 52 {
		if res := call(t, s, "PUT", fmt.Sprintf("/api/admin/secrets/K%02d", i), `{"value":"v"}`, adminToken); res.status != http.StatusNoContent {
			t.Fatalf("set secret: %d %s", res.status, res.body)
		}
	}
	b.run("secrets page by 50",
		chromedp.Navigate(base+"/admin#/secrets"),
		waitText("main table", "K49"),
		waitText("nav.pager", "page 1"),
		waitTrue(`!document.querySelector("main table").textContent.includes("K50")`),
		chromedp.Click("nav.pager button:last-child", chromedp.ByQuery),
		waitText("nav.pager", "page 2"),
		waitText("main table", "K51"),
		waitTrue(`document.querySelector("nav.pager button:last-child").disabled`),
		chromedp.Click("nav.pager button:first-child", chromedp.ByQuery),
		waitText("nav.pager", "page 1"),
		waitText("main table", "K00"))
	b.run("replacing a secret asks once, a new one does not",
		chromedp.Evaluate(`window.asked = []; window.confirm = (q) => { window.asked.push(q); return true; }`, nil),
		setField("#secret-name", "NEW_ONE"), setField("#secret-value", "x"),
		chromedp.Click("form.card button[type=submit]", chromedp.ByQuery),
		waitText("#notices", "Set NEW_ONE"),
		waitTrue(`window.asked.length === 0`),
		setField("#secret-name", "K00"), setField("#secret-value", "y"),
		chromedp.Click("form.card button[type=submit]", chromedp.ByQuery),
		waitText("#notices", "Set K00"),
		waitTrue(`window.asked.length === 1 && window.asked[0].includes("Replace the value of secret K00")`))

	b.run("functions list",
		chromedp.Navigate(base+"/admin#/functions"),
		waitText("main table", "greet"),
		waitTrue(`!document.querySelector("main table").textContent.includes("…")`))
	b.docShot("functions")

	b.run("sign out",
		chromedp.Click("#signout", chromedp.ByQuery),
		chromedp.WaitVisible("#token", chromedp.ByQuery))
	if res := call(t, s, "GET", "/api/admin/functions", "", "", cookie); res.status != http.StatusUnauthorized {
		t.Fatalf("the cookie still works after sign-out: %d %s", res.status, res.body)
	}
	if errs := b.consoleErrors(); len(errs) > 0 {
		t.Fatalf("the page logged errors: %v", errs)
	}
}

// TestDashboardPhoneAndKeyboard checks the page at phone width (no
// sideways scrolling, the menu opens) and that it can be used with the
// keyboard alone, with a visible focus.
func TestDashboardPhoneAndKeyboard(t *testing.T) {
	s := startServer(t)
	b := newBrowser(t, 390, 844)
	base := s.URL()
	b.run("sign in with the keyboard",
		// A window is at least 500 pixels wide; the viewport is made a
		// phone's.
		chromedp.EmulateViewport(390, 844),
		chromedp.Navigate(base+"/admin"),
		chromedp.WaitVisible("#token", chromedp.ByQuery),
		waitTrue(`document.activeElement && document.activeElement.id === "token"`),
		chromedp.KeyEvent(adminToken),
		chromedp.KeyEvent("\r"),
		chromedp.WaitVisible("#signout", chromedp.ByQuery))
	b.run("no sideways scrolling", waitTrue(`window.innerWidth === 390 && document.documentElement.scrollWidth <= window.innerWidth`))
	b.run("the menu opens from the keyboard",
		chromedp.Evaluate(`document.body.focus()`, nil),
		tabTo(".menu"),
		chromedp.KeyEvent(" "),
		chromedp.WaitVisible(`#nav a[data-section="jobs"]`, chromedp.ByQuery),
		tabTo(`#nav a[data-section="jobs"]`),
		chromedp.KeyEvent("\r"),
		waitTrue(`location.hash === "#/jobs"`),
		chromedp.WaitVisible("main h1", chromedp.ByQuery))
	var outline string
	b.run("focus is visible",
		tabTo(`#nav a[data-section="jobs"], .menu`),
		chromedp.Evaluate(`getComputedStyle(document.activeElement).outlineStyle`, &outline))
	if outline == "none" || outline == "" {
		t.Fatalf("the focused element has no visible outline (%q)", outline)
	}
	b.docShot("phone-jobs")
	if errs := b.consoleErrors(); len(errs) > 0 {
		t.Fatalf("the page logged errors: %v", errs)
	}
}

// tabTo presses Tab until the focused element matches sel (at most 40
// times).
func tabTo(sel string) chromedp.Action {
	return chromedp.ActionFunc(func(ctx context.Context) error {
		for i := 0; i < 40; i++ {
			var ok bool
			if err := chromedp.Run(ctx, chromedp.Evaluate(fmt.Sprintf(`!!document.activeElement && document.activeElement.matches(%q)`, sel), &ok)); err != nil {
				return err
			}
			if ok {
				return nil
			}
			if err := chromedp.Run(ctx, chromedp.KeyEvent("\t")); err != nil {
				return err
			}
		}
		return fmt.Errorf("Tab never reached %s", sel)
	})
}
