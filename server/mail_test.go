package server

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/emersion/go-smtp"

	"github.com/moonbase-dev/moonbase/events"
	"github.com/moonbase-dev/moonbase/internal/testsupport"
)

// mailer is a function that sends what its input says and returns the
// job ids, or the error sendEmail raised.
const mailer = `
function handle(input, ctx)
  local ids = {}
  for i, m in ipairs(input.messages) do
    local ok, res = pcall(backend.sendEmail, m.to, m.subject, m.body)
    if not ok then return {error = res} end
    ids[i] = res
  end
  return {ids = ids}
end`

// sendMail runs the mailer with messages and returns the job ids it got,
// or the error sendEmail raised.
func (ts *testServer) sendMail(t *testing.T, messages ...map[string]any) ([]string, string) {
	t.Helper()
	b, err := json.Marshal(map[string]any{"input": map[string]any{"messages": messages}})
	if err != nil {
		t.Fatal(err)
	}
	res := ts.do(t, "POST", "/api/admin/functions/mailer/run", string(b), testAdminToken)
	var ans struct {
		Result struct {
			IDs   []string `json:"ids"`
			Error string   `json:"error"`
		} `json:"result"`
		Error string `json:"error"`
	}
	if res.status != http.StatusOK || json.Unmarshal([]byte(res.body), &ans) != nil || ans.Error != "" {
		t.Fatalf("run mailer: %d %s", res.status, res.body)
	}
	return ans.Result.IDs, ans.Result.Error
}

// emailJobs lists the email jobs of a status ("" for all).
func (ts *testServer) emailJobs(t *testing.T, status string) []events.Job {
	t.Helper()
	var out []events.Job
	for _, j := range ts.listJobs(t, status) {
		if j.Kind == KindEmail {
			out = append(out, j)
		}
	}
	return out
}

func startMailServer(t *testing.T, cfg Config) *testServer {
	t.Helper()
	ts := startServer(t, cfg, Deps{})
	ts.saveFn(t, "mailer", map[string]any{"source": mailer, "triggers": []any{map[string]any{"invoke": true}}})
	return ts
}

// With no SMTP server configured, mail lands in the outbox, readable at
// GET /api/admin/outbox newest first.
func TestEmailWithoutSMTPGoesToTheOutbox(t *testing.T) {
	t.Parallel()
	ts := startMailServer(t, eventsConfig(t))
	ids, errMsg := ts.sendMail(t,
		map[string]any{"to": "ada@example.com", "subject": "Welcome!", "body": "Hello Ada"},
		map[string]any{"to": "Bob <bob@example.com>", "subject": "Your report", "body": map[string]any{
			"text": "Plain", "html": "<p>Rich</p>", "from": "Reports <reports@example.com>", "reply_to": "help@example.com"}},
	)
	if errMsg != "" || len(ids) != 2 {
		t.Fatalf("sendEmail: ids %v, error %q", ids, errMsg)
	}
	testsupport.WaitFor(t, "both emails", func() bool { return len(ts.emailJobs(t, events.StatusDone)) == 2 })
	res := ts.do(t, "GET", "/api/admin/outbox", "", testAdminToken)
	var ans struct {
		Messages []outboxMessage `json:"messages"`
	}
	if res.status != http.StatusOK || json.Unmarshal([]byte(res.body), &ans) != nil || len(ans.Messages) != 2 {
		t.Fatalf("outbox: %d %s", res.status, res.body)
	}
	// The two jobs ran side by side, so either may have been stored first.
	oldest, newest := ans.Messages[0], ans.Messages[1]
	if oldest.Subject != "Welcome!" {
		oldest, newest = newest, oldest
	}
	if strings.Join(oldest.To, ",") != "ada@example.com" || oldest.Subject != "Welcome!" || oldest.Text != "Hello Ada" || oldest.HTML != "" || oldest.From != "" {
		t.Errorf("first message %+v", oldest)
	}
	if strings.Join(newest.To, ",") != "Bob <bob@example.com>" || newest.Subject != "Your report" || newest.Text != "Plain" ||
		newest.HTML != "<p>Rich</p>" || newest.From != "Reports <reports@example.com>" || newest.ReplyTo != "help@example.com" || newest.ID == "" || newest.CreatedAt.IsZero() {
		t.Errorf("second message %+v", newest)
	}
	if res := ts.do(t, "GET", "/api/admin/outbox?limit=1", "", testAdminToken); strings.Count(res.body, `"subject"`) != 1 {
		t.Errorf("outbox limit=1: %s", res.body)
	}
	if res := ts.do(t, "GET", "/api/admin/outbox", "", ""); res.status != http.StatusUnauthorized {
		t.Errorf("outbox without the admin token: %d", res.status)
	}
}

// A message that cannot be sent is refused when the function sends it,
// with an error it can read, and nothing is queued.
func TestSendEmailRefusesBadMessages(t *testing.T) {
	t.Parallel()
	ts := startMailServer(t, eventsConfig(t))
	scenarios := []struct {
		name    string
		message map[string]any
		want    string
	}{
		{"subject with a line break", map[string]any{"to": "ada@example.com", "subject": "Hi\r\nBcc: all@example.com", "body": "x"},
			"backend.sendEmail: invalid email subject: line breaks (CR, LF) and NUL are not allowed"},
		{"two addresses in one", map[string]any{"to": "ada@example.com, bob@example.com", "subject": "Hi", "body": "x"},
			`backend.sendEmail: invalid email to[0]: "ada@example.com, bob@example.com": one address per entry`},
		{"no body", map[string]any{"to": "ada@example.com", "subject": "Hi", "body": map[string]any{"text": " "}},
			"backend.sendEmail: invalid email body: a text or an html body is required"},
		{"from with a line break", map[string]any{"to": "ada@example.com", "subject": "Hi", "body": map[string]any{"text": "x", "from": "a@example.com\nBcc: b@example.com"}},
			`backend.sendEmail: invalid email from: "a@example.com\nBcc: b@example.com": line breaks (CR, LF) and NUL are not allowed`},
		{"bad reply-to", map[string]any{"to": "ada@example.com", "subject": "Hi", "body": map[string]any{"text": "x", "reply_to": "nobody"}},
			`backend.sendEmail: invalid email reply_to: "nobody": not a valid email address`},
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			_, errMsg := ts.sendMail(t, sc.message)
			if _, msg, _ := strings.Cut(errMsg, ": "); msg != sc.want {
				t.Errorf("error %q, want %q", errMsg, sc.want)
			}
		})
	}
	if jobs := ts.emailJobs(t, ""); len(jobs) != 0 {
		t.Errorf("refused messages were queued: %v", jobs)
	}
}

// smtpConfig is eventsConfig sending through srv.
func smtpConfig(t *testing.T, srv *smtpServer) Config {
	cfg := eventsConfig(t)
	cfg.SMTP = srv.config()
	return cfg
}

// Over SMTP, a message arrives with the headers and bodies the function
// gave, and nothing is stored in the outbox.
func TestEmailOverSMTP(t *testing.T) {
	t.Parallel()
	srv := startSMTP(t)
	ts := startMailServer(t, smtpConfig(t, srv))
	_, errMsg := ts.sendMail(t,
		map[string]any{"to": "Ada Lovelace <ada@example.com>", "subject": "Bienvenue à bord", "body": map[string]any{
			"text": "Hello Ada,\nwelcome.", "html": "<p>Hello <b>Ada</b></p>", "from": "Shop <shop@example.com>", "reply_to": "help@example.com"}},
		map[string]any{"to": "bob@example.com", "subject": "Plain", "body": "Just text"},
	)
	if errMsg != "" {
		t.Fatal(errMsg)
	}
	testsupport.WaitFor(t, "both messages", func() bool { return len(srv.Received()) == 2 })
	got := map[string]testsupport.SMTPMessage{}
	for _, m := range srv.Received() {
		got[strings.Join(m.To, ",")] = m
	}
	rich, plain := got["ada@example.com"], got["bob@example.com"]
	if rich.From != "shop@example.com" || plain.From != "noreply@moonbase.test" {
		t.Errorf("envelope senders %q and %q", rich.From, plain.From)
	}
	p := parseMail(t, rich.Data)
	for name, want := range map[string]string{
		"Subject": "Bienvenue à bord", "From": `"Shop" <shop@example.com>`, "To": `"Ada Lovelace" <ada@example.com>`, "Reply-To": "<help@example.com>",
	} {
		if v := p.decodedHeader(t, name); v != want {
			t.Errorf("%s: %q, want %q", name, v, want)
		}
	}
	if p.bodies["text/plain"] != "Hello Ada,\nwelcome." || p.bodies["text/html"] != "<p>Hello <b>Ada</b></p>" {
		t.Errorf("bodies %q", p.bodies)
	}
	q := parseMail(t, plain.Data)
	if from := q.decodedHeader(t, "From"); from != `"Moonbase" <noreply@moonbase.test>` {
		t.Errorf("default From %q", from)
	}
	if q.bodies["text/plain"] != "Just text" || len(q.bodies) != 1 {
		t.Errorf("plain bodies %q", q.bodies)
	}
	testsupport.WaitFor(t, "the jobs to be done", func() bool { return len(ts.emailJobs(t, events.StatusDone)) == 2 })
	if res := ts.do(t, "GET", "/api/admin/outbox", "", testAdminToken); res.body != `{"messages":[],"next":""}` {
		t.Errorf("outbox with SMTP configured: %s", res.body)
	}
}

// A temporary refusal (4xx) is retried with backoff until the server takes
// the message; a permanent one (5xx) is a dead letter at once with the
// server's answer.
func TestEmailSMTPRefusals(t *testing.T) {
	t.Parallel()
	t.Run("4xx retried then delivered", func(t *testing.T) {
		t.Parallel()
		srv := startSMTP(t)
		srv.RefuseRcpt(&smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Mailbox busy, try later"}, 2)
		ts := startMailServer(t, smtpConfig(t, srv))
		if _, errMsg := ts.sendMail(t, map[string]any{"to": "ada@example.com", "subject": "Hi", "body": "x"}); errMsg != "" {
			t.Fatal(errMsg)
		}
		testsupport.WaitFor(t, "the delivery", func() bool { return len(ts.emailJobs(t, events.StatusDone)) == 1 })
		job := ts.emailJobs(t, events.StatusDone)[0]
		if len(srv.Received()) != 1 || job.Attempt != 3 || len(job.Errors) != 2 {
			t.Fatalf("received %d, job attempt %d with errors %v", len(srv.Received()), job.Attempt, job.Errors)
		}
		if e := job.Errors[0].Error; !strings.Contains(e, `451 "4.3.0 Mailbox busy, try later"`) {
			t.Errorf("first error %q", e)
		}
	})
	t.Run("5xx dead with the answer", func(t *testing.T) {
		t.Parallel()
		srv := startSMTP(t)
		srv.RefuseRcpt(&smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such user here"}, -1)
		ts := startMailServer(t, smtpConfig(t, srv))
		if _, errMsg := ts.sendMail(t, map[string]any{"to": "nobody@example.com", "subject": "Hi", "body": "x"}); errMsg != "" {
			t.Fatal(errMsg)
		}
		testsupport.WaitFor(t, "the dead letter", func() bool { return len(ts.emailJobs(t, events.StatusDead)) == 1 })
		job := ts.emailJobs(t, events.StatusDead)[0]
		want := `smtp 127.0.0.1:` + strconv.Itoa(srv.Port) + `: send failed: sending SMTP RCPT TO command: 550 "5.1.1 No such user here", affected recipient(s): <nobody@example.com>`
		if job.Attempt != 1 || job.LastError != want {
			t.Errorf("dead after attempt %d with %q, want attempt 1 with %q", job.Attempt, job.LastError, want)
		}
		if len(srv.Received()) != 0 {
			t.Errorf("a refused message was received")
		}
	})
}

// The smtp section is checked at start, each key named, and its password
// comes from the environment.
func TestSMTPConfig(t *testing.T) {
	t.Parallel()
	scenarios := []struct {
		name string
		env  []string
		want string
	}{
		{"host without a sender", []string{"MOONBASE_SMTP_HOST=smtp.example.com"},
			"config: smtp.from: a default sender address is required when smtp.host is set"},
		{"port in the host", []string{"MOONBASE_SMTP_HOST=smtp.example.com:587", "MOONBASE_SMTP_FROM=a@example.com"},
			`config: smtp.host: "smtp.example.com:587" includes a port: put the port in smtp.port`},
		{"unknown TLS policy", []string{"MOONBASE_SMTP_HOST=smtp.example.com", "MOONBASE_SMTP_FROM=a@example.com", "MOONBASE_SMTP_TLS=maybe"},
			`config: smtp.tls: "maybe" is not one of starttls, tls, none`},
		{"password without a user", []string{"MOONBASE_SMTP_HOST=smtp.example.com", "MOONBASE_SMTP_FROM=a@example.com", "MOONBASE_SMTP_PASSWORD=s3cret"},
			"config: smtp.username: smtp.password is set but smtp.username is empty"},
		{"complete", []string{"MOONBASE_SMTP_HOST=smtp.example.com", "MOONBASE_SMTP_FROM=Shop <a@example.com>",
			"MOONBASE_SMTP_USERNAME=shop", "MOONBASE_SMTP_PASSWORD=s3cret", "MOONBASE_SMTP_PORT=2525"}, ""},
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			cfg, err := LoadConfig("", false, sc.env)
			switch {
			case sc.want == "" && err != nil:
				t.Fatalf("LoadConfig: %v", err)
			case sc.want == "":
				if cfg.SMTP.Password != "s3cret" || cfg.SMTP.Port != 2525 || !cfg.SMTP.Enabled() {
					t.Errorf("smtp %+v", cfg.SMTP)
				}
			case err == nil || err.Error() != sc.want:
				t.Errorf("error %v, want %s", err, sc.want)
			}
		})
	}
}
