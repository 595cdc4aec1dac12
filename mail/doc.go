// Package mail validates and sends email over SMTP, or stores it in the
// outbox when no SMTP server is configured.
package mail
