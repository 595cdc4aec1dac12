// Package mail validates email and delivers it: over SMTP with
// github.com/wneessen/go-mail when an SMTP server is configured, or into the
// _outbox collection when none is, so a developer sees what would have gone
// out.
//
// Sending is one call on a Sender; the job queue decides about retries by
// asking IsPermanent.
//
//	var sender mail.Sender = mail.NewOutbox(store)
//	if cfg.Enabled() {
//		sender = mail.NewSMTP(cfg)
//	}
//	err := sender.Send(ctx, mail.Message{
//		To:      []string{"ada@example.com"},
//		Subject: "Welcome",
//		Text:    "Hello Ada",
//	})
//	if err != nil && !mail.IsPermanent(err) {
//		// retry later
//	}
//
// A message is checked before anything is sent (Message.Validate): every
// address must parse with net/mail as exactly one address, header values
// (subject, addresses) may not contain CR, LF or NUL, so nothing can inject
// a header, and sizes are capped (MaxRecipients, MaxSubjectBytes,
// MaxBodyBytes). A message that fails validation is a permanent failure.
//
// SMTP delivery errors are *SendError values that carry the server's
// answer, code and text, so a dead letter says why. IsPermanent is true for
// a 5xx answer to MAIL FROM, RCPT TO or the message data (the message or a
// recipient was refused) and for invalid messages; it is false for 4xx
// answers, refused or dropped connections, timeouts, TLS and
// authentication problems, since those can succeed later or after a
// configuration fix.
package mail
