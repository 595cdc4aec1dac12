package examples_test

import (
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson/primitive"
)

// Scenario 9: the app calls executeFunction('processData', {id = 123}) and
// gets the function's result back.
func TestProcessData(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	if got := s.deploy(t, "processData"); len(got) != 1 || got[0].Action != "created" {
		t.Fatalf("deploy: %+v", got)
	}
	alice := s.register(t, "alice@example.com", "Alice")
	bob := s.register(t, "bob@example.com", "Bob")
	for _, r := range []struct {
		u     user
		batch int
		value float64
	}{{alice, 123, 4}, {alice, 123, 1.5}, {alice, 123, 10}, {alice, 7, 100}, {bob, 123, 1000}} {
		res := s.do(t, "POST", "/api/db/readings", map[string]any{"batch": r.batch, "value": r.value}, r.u.Token)
		if res.Status != http.StatusCreated {
			t.Fatalf("reading: %d %s", res.Status, res.Body)
		}
	}

	// executeFunction('processData', {id = 123}) from the app.
	res := s.do(t, "POST", "/api/functions/processData", map[string]any{"id": 123}, alice.Token)
	if res.Status != http.StatusOK {
		t.Fatalf("processData: %d %s", res.Status, res.Body)
	}
	var got struct {
		ID          string
		Batch       int
		Count       int
		Total       float64
		Min, Max    float64
		Mean        float64
		ProcessedAt struct {
			Date time.Time `json:"$date"` // dates answer as Extended JSON
		}
	}
	res.JSON(t, &got)
	// Bob's reading of the same batch is not Alice's to see.
	if got.Batch != 123 || got.Count != 3 || got.Total != 15.5 || got.Min != 1.5 || got.Max != 10 || got.ProcessedAt.Date.IsZero() || got.ID == "" {
		t.Errorf("result %+v", got)
	}
	summaries := s.docs(t, "summaries", nil)
	if len(summaries) != 1 || summaries[0]["_owner"] != alice.ID || summaries[0]["count"] != int64(3) {
		t.Errorf("stored summaries %v", summaries)
	}

	// The same call from another function, with the caller's user.
	s.admin(t, "PUT", "/api/admin/functions/nightlyBatch", map[string]any{
		"source": `function handle(input, ctx)
  local result, status = backend.executeFunction("processData", {id = 123})
  return {count = result.count, status = status}
end`,
		"triggers": []any{map[string]any{"invoke": true}},
	})
	res = s.do(t, "POST", "/api/functions/nightlyBatch", nil, bob.Token)
	if res.Status != http.StatusOK || res.Body != `{"count":1}` {
		t.Errorf("executeFunction from Lua: %d %s", res.Status, res.Body)
	}

	for _, c := range []struct {
		name, body, token string
		status            int
		want              string
	}{
		{"nobody signed in", `{"id":123}`, "", http.StatusUnauthorized, `{"error":"sign in to process data"}`},
		{"no id", `{}`, alice.Token, http.StatusBadRequest, `{"error":"id must be a number, as in {id = 123}"}`},
		{"an empty batch", `{"id":5}`, alice.Token, http.StatusOK, `"count":0`},
	} {
		res := s.do(t, "POST", "/api/functions/processData", c.body, c.token)
		if res.Status != c.status || !strings.Contains(res.Body, c.want) {
			t.Errorf("%s: %d %s", c.name, res.Status, res.Body)
		}
	}
}

// Scenario 10: sendWelcomeEmail greets by the given name, else the
// signed-in user's full name, refuses anonymous app calls, and also works
// over plain HTTP, where the run is anonymous and writes with service
// rights.
func TestSendWelcomeEmail(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	s.deploy(t, "sendWelcomeEmail")
	alice := s.register(t, "alice@example.com", "Alice Liddell")

	for _, c := range []struct {
		name, method, path, body, token string
		status                          int
		want                            string
	}{
		{"a given name", "POST", "/api/functions/sendWelcomeEmail", `{"name":"Alice"}`, alice.Token, http.StatusOK, `{"message":"Hello, Alice!"}`},
		{"the user's full name", "POST", "/api/functions/sendWelcomeEmail", `{}`, alice.Token, http.StatusOK, `{"message":"Hello, Alice Liddell!"}`},
		{"nobody signed in", "POST", "/api/functions/sendWelcomeEmail", `{"name":"Alice"}`, "", http.StatusUnauthorized, `{"error":"sign in to be greeted"}`},
		{"over HTTP", "POST", "/functions/sendWelcomeEmail", `{"name":"Carol","email":"carol@example.com"}`, "", http.StatusOK, `{"message":"Hello, Carol!"}`},
		{"over HTTP with a query", "GET", "/functions/sendWelcomeEmail?name=Dan", "", "", http.StatusOK, `{"message":"Hello, Dan!"}`},
		{"over HTTP without a name", "POST", "/functions/sendWelcomeEmail", `{}`, "", http.StatusBadRequest, `send a name`},
	} {
		res := s.do(t, c.method, c.path, c.body, c.token)
		if res.Status != c.status || !strings.Contains(res.Body, c.want) {
			t.Errorf("%s: %d %s", c.name, res.Status, res.Body)
		}
	}

	// Every greeting was kept with service rights, the HTTP ones too.
	greetings := s.docs(t, "greetings", nil)
	vias := map[string]int{}
	for _, g := range greetings {
		vias[g["via"].(string)]++
	}
	if len(greetings) != 4 || vias["app"] != 2 || vias["http"] != 2 {
		t.Errorf("greetings %v", greetings)
	}
	for _, g := range greetings {
		if _, owned := g["_owner"]; owned {
			t.Errorf("a greeting written with service rights has an owner: %v", g)
		}
	}

	// The app's runs acted as alice, the HTTP ones as anonymous.
	var execs struct {
		Executions []struct {
			Trigger, Identity string
		}
	}
	s.admin(t, "GET", "/api/admin/functions/sendWelcomeEmail/executions", nil).JSON(t, &execs)
	identities := map[string]int{}
	for _, e := range execs.Executions {
		identities[e.Trigger+" as "+e.Identity]++
	}
	if want := map[string]int{"invoke as " + alice.ID: 2, "invoke as anonymous": 1, "http as anonymous": 3}; !reflect.DeepEqual(identities, want) {
		t.Errorf("runs by identity %v, want %v", identities, want)
	}

	// The greetings with an address were emailed.
	msgs := s.waitForOutbox(t, 3)
	texts := map[string]string{}
	for _, m := range msgs {
		if m.Subject != "Welcome!" || len(m.To) != 1 {
			t.Errorf("email %+v", m)
			continue
		}
		texts[m.Text] = m.To[0]
	}
	want := map[string]string{
		"Hello, Alice!":         "alice@example.com",
		"Hello, Alice Liddell!": "alice@example.com",
		"Hello, Carol!":         "carol@example.com",
	}
	for text, to := range want {
		if texts[text] != to {
			t.Errorf("no email %q to %s in %+v", text, to, msgs)
		}
	}
}

// Scenario 17: a functions/ folder deployed whole, then managed through
// the admin API the CLI uses (update, invoke, logs). Its function is
// scenario 1's trial reminder.
func TestFunctionsFolder(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	dirs := functionDirs(t, "functions")
	got := s.deploy(t, dirs...)
	if len(got) != 1 || got[0] != (deployed{Name: "trial-reminder", Action: "created", Version: 1}) {
		t.Fatalf("deploy: %+v", got)
	}
	if again := s.deploy(t, dirs...); again[0].Action != "unchanged" {
		t.Errorf("deploying again: %+v", again)
	}

	// The schedule is in place, in the function's time zone.
	res := s.admin(t, "GET", "/api/admin/schedules", nil)
	if !strings.Contains(res.Body, `"function":"trial-reminder"`) || !strings.Contains(res.Body, `"timezone":"Europe/Paris"`) {
		t.Errorf("schedules: %s", res.Body)
	}

	now := time.Now()
	date := func(d time.Duration) primitive.DateTime { return primitive.NewDateTimeFromTime(now.Add(d)) }
	s.account(t, "ended@example.com", "Eve", map[string]any{"trialEndsAt": date(-48 * time.Hour), "isPaid": false})
	s.account(t, "today@example.com", "Tom", map[string]any{"trialEndsAt": date(-time.Minute), "isPaid": false})
	s.account(t, "paid@example.com", "Pam", map[string]any{"trialEndsAt": date(-48 * time.Hour), "isPaid": true})
	s.account(t, "later@example.com", "Lea", map[string]any{"trialEndsAt": date(72 * time.Hour), "isPaid": false})

	// `moonbase functions invoke trial-reminder`: a run now.
	res = s.admin(t, "POST", "/api/admin/functions/trial-reminder/run", map[string]any{"input": map[string]any{}, "trigger": "schedule"})
	if res.Status != http.StatusOK || !strings.Contains(res.Body, `"result":{"due":2,"sent":2}`) {
		t.Fatalf("run: %d %s", res.Status, res.Body)
	}
	msgs := s.waitForOutbox(t, 2)
	to := map[string]string{}
	for _, m := range msgs {
		to[m.To[0]] = m.Subject + " / " + m.Text
	}
	if len(msgs) != 2 || !strings.HasPrefix(to["ended@example.com"], "Your trial is ending / Hello Eve, your trial ended on ") ||
		!strings.HasPrefix(to["today@example.com"], "Your trial is ending / Hello Tom,") {
		t.Errorf("emails: %+v", msgs)
	}

	// The schedule firing later reminds nobody twice.
	res = s.admin(t, "POST", "/api/admin/functions/trial-reminder/run", map[string]any{"trigger": "schedule"})
	if !strings.Contains(res.Body, `"result":{"due":2,"sent":0}`) {
		t.Errorf("second run: %s", res.Body)
	}

	// `moonbase functions update trial-reminder`: a new version.
	def := readFunction(t, dirs[0])
	def["source"] = strings.Replace(def["source"].(string), "Upgrade to keep your data.", "Upgrade today.", 1)
	res = s.admin(t, "PUT", "/api/admin/functions/trial-reminder", def)
	if res.Status != http.StatusOK || !strings.Contains(res.Body, `"version":2`) {
		t.Errorf("update: %d %s", res.Status, res.Body)
	}

	// `moonbase functions logs trial-reminder`: the runs with their output.
	res = s.admin(t, "GET", "/api/admin/functions/trial-reminder/executions", nil)
	for _, want := range []string{`"status":"ok"`, `"trigger":"schedule"`, `reminded 2 of 2 users with an ended trial`, `reminded 0 of 2 users`} {
		if !strings.Contains(res.Body, want) {
			t.Errorf("logs lack %s: %s", want, res.Body)
		}
	}
}
