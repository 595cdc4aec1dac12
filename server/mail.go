package server

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"go.mongodb.org/mongo-driver/bson"

	"github.com/moonbase-dev/moonbase/db"
	"github.com/moonbase-dev/moonbase/events"
	"github.com/moonbase-dev/moonbase/mail"
)

// KindEmail is the kind of the jobs that deliver one email each.
const KindEmail = "email"

// emailAttemptTimeout bounds one delivery attempt: connecting and every
// SMTP command have their own timeout (smtp.timeout), this catches a
// server that trickles its answers.
const emailAttemptTimeout = 2 * time.Minute

// newMailer picks where email goes: the configured SMTP server, or the
// _outbox collection when there is none.
func newMailer(cfg mail.Config, store db.Store) mail.Sender {
	if cfg.Enabled() {
		return mail.NewSMTP(cfg)
	}
	return mail.NewOutbox(store)
}

// emailJobHandler delivers the message a KindEmail job carries. A message
// that cannot be read back, or that the SMTP server refuses for good (a
// 5xx on the sender, a recipient or the data), is a dead letter at once
// with the server's answer; anything else is retried with backoff.
func emailJobHandler(sender mail.Sender) events.JobHandler {
	return func(ctx context.Context, job events.Job) error {
		msg, err := mail.MessageFromPayload(job.Payload)
		if err != nil {
			return events.Permanent(err)
		}
		if err := sender.Send(ctx, msg); err != nil {
			if mail.IsPermanent(err) {
				return events.Permanent(err)
			}
			return err
		}
		return nil
	}
}

// registerEmail makes the queue deliver KindEmail jobs through sender.
func registerEmail(q *events.Queue, sender mail.Sender) {
	q.RegisterKind(KindEmail, emailJobHandler(sender), events.KindOptions{Timeout: emailAttemptTimeout})
}

// enqueueEmail is engine.Deps.SendEmail, behind backend.sendEmail(to,
// subject, body): it checks the message now, so that a bad address or a
// subject with a line break is an error the function sees at once, then
// queues its delivery and returns the job's id. body holds text, html,
// from and reply_to.
func (s *Server) enqueueEmail(ctx context.Context, to []string, subject string, body map[string]any) (string, error) {
	msg := mail.Message{Subject: subject}
	for _, addr := range to {
		msg.To = append(msg.To, strings.TrimSpace(addr))
	}
	for key, dst := range map[string]*string{"text": &msg.Text, "html": &msg.HTML, "from": &msg.From, "reply_to": &msg.ReplyTo} {
		v, ok := body[key]
		if !ok || v == nil {
			continue
		}
		str, ok := v.(string)
		if !ok {
			return "", &mail.MessageError{Field: key, Reason: fmt.Sprintf("must be a string, got %T", v)}
		}
		*dst = str
	}
	for key := range body {
		switch key {
		case "text", "html", "from", "reply_to":
		default:
			return "", &mail.MessageError{Field: key, Reason: "unknown field; use text, html, from and reply_to"}
		}
	}
	if err := msg.Validate(); err != nil {
		return "", err
	}
	id, err := s.jobs.Queue.Enqueue(ctx, KindEmail, msg.Payload(), events.EnqueueOptions{})
	if err != nil {
		return "", fmt.Errorf("queue email: %w", err)
	}
	return id, nil
}

// bindMailApi registers the admin view of the outbox.
func bindMailApi(s *Server, r fiber.Router) {
	r.Get("/api/admin/outbox", s.adminOutbox)
}

// outboxMessage is one stored email as the admin API shows it.
type outboxMessage struct {
	ID        string    `json:"id"`
	To        []string  `json:"to"`
	Subject   string    `json:"subject"`
	Text      string    `json:"text,omitempty"`
	HTML      string    `json:"html,omitempty"`
	From      string    `json:"from,omitempty"`
	ReplyTo   string    `json:"reply_to,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// adminOutbox lists the mail stored instead of sent (no SMTP server is
// configured), newest first: GET /api/admin/outbox?limit=&before= answers
// 200 {messages: […], next}; before is the id of the last message of the
// previous page (paging.go).
func (s *Server) adminOutbox(c *fiber.Ctx) error {
	limit, err := listLimit(c)
	if err != nil {
		return err
	}
	before, err := cursorParam(c, "before")
	if err != nil {
		return err
	}
	col := s.store.C(db.Outbox)
	filter, err := olderThan(c.UserContext(), col, nil, "created_at", before, "message")
	if err != nil {
		return err
	}
	docs, err := col.Find(c.UserContext(), filter, &db.FindOptions{
		Sort:  bson.D{{Key: "created_at", Value: -1}, {Key: "_id", Value: -1}},
		Limit: int64(limit),
	})
	if err != nil {
		return err
	}
	out := make([]outboxMessage, 0, len(docs))
	for _, d := range docs {
		m := outboxMessage{ID: idString(d["_id"]), CreatedAt: timeValue(d["created_at"])}
		m.Subject, _ = d["subject"].(string)
		m.Text, _ = d["text"].(string)
		m.HTML, _ = d["html"].(string)
		m.From, _ = d["from"].(string)
		m.ReplyTo, _ = d["reply_to"].(string)
		if list, ok := d["to"].(bson.A); ok {
			for _, a := range list {
				if str, ok := a.(string); ok {
					m.To = append(m.To, str)
				}
			}
		}
		out = append(out, m)
	}
	last := ""
	if len(out) > 0 {
		last = out[len(out)-1].ID
	}
	return c.JSON(fiber.Map{"messages": out, "next": nextCursor(len(out), limit, last)})
}
