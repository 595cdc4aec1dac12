package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/moonbase-dev/moonbase/db"
	"github.com/moonbase-dev/moonbase/events"
)

// Password reset and email verification by a link sent by email. A link
// carries a random token; the store keeps its SHA-256 in _account_tokens
// with the account, the kind and an expiry. Using a token marks it used in
// the same step as the change it asks for (accountUpdate.token): both
// happen or neither, so a change that fails leaves the link usable, and of
// two requests racing with one link only one changes the account.

// Kinds of account tokens.
const (
	tokenReset  = "reset"
	tokenVerify = "verify"
	tokenEmail  = "email" // a change of email, sent to the new address
)

// ErrInvalidToken: a reset or verification token that is unknown, used
// or expired. Which one is not said.
var ErrInvalidToken = errors.New("the link is invalid, already used or expired; ask for a new one")

// ErrEmailNotVerified: sign-in refused until the email is verified
// (auth.require_verified).
var ErrEmailNotVerified = errors.New("verify your email before signing in; the link was sent to it")

// resetAnswer is what a reset request answers, whether or not the email has
// an account, so the call cannot tell who has one.
const resetAnswer = "if an account has this email, a link to reset its password has been sent to it"

// KindPasswordReset is the kind of the jobs that send a reset link to an
// email if it has an account.
const KindPasswordReset = "password_reset"

// requestPasswordReset queues the sending of a reset link to {email}: 202
// with the same answer whether or not the email has an account. The
// request does the same work either way — it queues one job and does not
// look the email up — so neither the answer nor its timing tells who has
// an account; the job looks it up and sends the link.
func (s *Server) requestPasswordReset(c *fiber.Ctx) error {
	fields, err := s.stringsBody(c, "email")
	if err != nil {
		return err
	}
	email, err := normalizeEmail(fields[0])
	if err != nil {
		return err
	}
	if _, err := s.jobs.Queue.Enqueue(c.UserContext(), KindPasswordReset, map[string]any{"email": email}, events.EnqueueOptions{}); err != nil {
		return fmt.Errorf("queue password reset: %w", err)
	}
	return c.Status(http.StatusAccepted).JSON(accountAccepted{Message: resetAnswer})
}

// passwordResetJob sends the reset link a KindPasswordReset job asks for,
// when its email has an account and no link went to it within
// auth.link_interval; otherwise it does nothing.
func (s *Server) passwordResetJob(ctx context.Context, job events.Job) error {
	email, _ := job.Payload["email"].(string)
	if email == "" {
		return events.Permanent(errors.New("the job has no email"))
	}
	doc, err := s.store.C(db.Users).FindOne(ctx, bson.M{db.UserEmail: email}, nil)
	if errors.Is(err, db.ErrNotFound) {
		s.log.Info("password reset asked for an email without an account", "job", job.ID)
		return nil
	}
	if err != nil {
		return err
	}
	u, err := userFromDoc(doc)
	if err != nil {
		return events.Permanent(err)
	}
	if err := s.sendAccountLink(ctx, u, tokenReset); err != nil && !errors.As(err, new(errLinkTooSoon)) {
		return err
	}
	return nil
}

// confirmPasswordReset sets {password} on the account of {token}, marks its
// email verified (the link reached it) and ends all its sessions: 204.
func (s *Server) confirmPasswordReset(c *fiber.Ctx) error {
	body, err := s.stringsBody(c, "token", "password")
	if err != nil {
		return err
	}
	token, password := body[0], body[1]
	if err := s.checkPassword(password); err != nil {
		return err
	}
	set, err := s.passwordSet(password)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	u, _, err := s.checkToken(ctx, token, tokenReset)
	if err != nil {
		return err
	}
	fields := []string{"password"}
	if !u.Verified {
		set[db.UserVerified] = true
		fields = append(fields, db.UserVerified)
	}
	// Every session ends: whoever knew the old password is signed out.
	if _, err := s.updateByToken(ctx, u, accountUpdate{
		update: bson.M{"$set": set}, fields: fields, token: tokenHash(token),
		endSessions: true, dropTokens: bson.M{"kind": tokenReset},
	}); err != nil {
		return err
	}
	return c.SendStatus(http.StatusNoContent)
}

// updateByToken makes a change to the account of a link just used, by its
// user (who holds the link). An account gone meanwhile is
// ErrInvalidToken.
func (s *Server) updateByToken(ctx context.Context, u *User, a accountUpdate) (*User, error) {
	oid, err := primitive.ObjectIDFromHex(u.ID)
	if err != nil {
		return nil, ErrInvalidToken
	}
	a.id, a.by = oid, u.EventData()
	fresh, err := s.commitAccountUpdate(ctx, a)
	if errors.Is(err, ErrInvalidSession) {
		return nil, ErrInvalidToken
	}
	return fresh, err
}

// requestVerification sends the signed-in user a verification link: 202.
// An email already verified gets none (200 {user}).
func (s *Server) requestVerification(c *fiber.Ctx) error {
	u, err := s.freshUser(c)
	if err != nil {
		return err
	}
	if u.Verified {
		return c.JSON(fiber.Map{"user": u})
	}
	if err := s.sendAccountLink(c.UserContext(), u, tokenVerify); err != nil {
		var soon errLinkTooSoon
		if errors.As(err, &soon) {
			return &ThrottledError{RetryAfter: soon.retryAfter, Reason: "a verification link was sent a moment ago"}
		}
		return err
	}
	return c.Status(http.StatusAccepted).JSON(accountAccepted{Message: "a verification link has been sent to " + u.Email})
}

// linkToken reads the body {token} of a request that follows an emailed
// link.
func (s *Server) linkToken(c *fiber.Ctx) (string, error) {
	fields, err := s.stringsBody(c, "token")
	if err != nil {
		return "", err
	}
	return fields[0], nil
}

// confirmVerification marks the account of {token} verified: 200 {user}.
// It needs no session, since the link may be opened anywhere.
func (s *Server) confirmVerification(c *fiber.Ctx) error {
	token, err := s.linkToken(c)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	u, _, err := s.checkToken(ctx, token, tokenVerify)
	if err != nil {
		return err
	}
	if u.Verified {
		// Nothing to change: the link is only spent.
		if err := s.spendToken(ctx, token); err != nil {
			return err
		}
	} else {
		u, err = s.updateByToken(ctx, u, accountUpdate{update: bson.M{"$set": bson.M{db.UserVerified: true}}, fields: []string{db.UserVerified}, token: tokenHash(token)})
		if err != nil {
			return err
		}
	}
	return c.JSON(fiber.Map{"user": u})
}

// errLinkTooSoon: a link of the same kind went to the account less than
// auth.link_interval ago.
type errLinkTooSoon struct{ retryAfter time.Duration }

func (e errLinkTooSoon) Error() string { return "a link was sent to this account a moment ago" }

// sendAccountLink stores a new token of kind for u, replacing any unused
// one of that kind, and queues the email carrying it. Within
// auth.link_interval of the last link of that kind it sends nothing and
// returns an errLinkTooSoon.
func (s *Server) sendAccountLink(ctx context.Context, u *User, kind string) error {
	return s.sendAccountLinkTo(ctx, u, kind, "")
}

// sendAccountLinkTo is sendAccountLink; for a change of email, newEmail
// is the address the link goes to and the token carries.
func (s *Server) sendAccountLinkTo(ctx context.Context, u *User, kind, newEmail string) error {
	ttl, subject, path, intro := s.cfg.Auth.ResetTTL, "Reset your password", "/reset-password", "Someone asked to reset the password of your account. If it was you, use this link:"
	to := u.Email
	switch kind {
	case tokenVerify:
		ttl, subject, path, intro = s.cfg.Auth.VerifyTTL, "Verify your email", "/verify-email", "Confirm this is your email address with this link:"
	case tokenEmail:
		ttl, subject, path, intro = s.cfg.Auth.VerifyTTL, "Confirm your new email", "/confirm-email", "Confirm this address as the new email of your account with this link:"
		to = newEmail
	}
	col := s.store.C(db.AccountTokens)
	release, err := s.claimLinkSlot(ctx, u.ID, kind)
	if err != nil {
		return err
	}
	sent := false
	defer func() {
		if !sent {
			release()
		}
	}()
	if _, err := col.DeleteMany(ctx, bson.M{"user_id": u.ID, "kind": kind}); err != nil {
		return err
	}
	token := newToken("")
	at := now()
	doc := bson.M{
		"_id": tokenHash(token), "kind": kind, "user_id": u.ID, "email": u.Email,
		"created_at": at, "expires_at": at.Add(ttl),
	}
	if newEmail != "" {
		doc["new_email"] = newEmail
	}
	if _, err := col.InsertOne(ctx, doc); err != nil {
		return err
	}
	link := token
	if base := s.cfg.Auth.AppURL; base != "" {
		link = strings.TrimRight(base, "/") + path + "?token=" + url.QueryEscape(token)
	}
	text := fmt.Sprintf("%s\n\n%s\n\nIt works once, for %s. If you did not ask for it, ignore this email.\n", intro, link, ttl)
	if _, err := s.enqueueEmail(ctx, []string{to}, subject, map[string]any{"text": text}); err != nil {
		return err
	}
	sent = true
	return nil
}

// linkSlotKind is the kind of the records in _account_tokens that say
// when the last link of a kind went to an account.
const linkSlotKind = "sent"

// claimLinkSlot takes the right to send a link of kind to the account
// now, or returns an errLinkTooSoon within auth.link_interval of the last
// one. The claim is one atomic upsert of a per-account, per-kind record
// (its _id taken while the last send is recent makes it a duplicate key),
// so two requests or jobs racing for one account send one link. release
// gives the slot back when the link could not be sent after all.
func (s *Server) claimLinkSlot(ctx context.Context, userID, kind string) (release func(), err error) {
	iv := s.cfg.Auth.LinkInterval
	if iv <= 0 {
		return func() {}, nil
	}
	col := s.store.C(db.AccountTokens)
	id := linkSlotKind + ":" + kind + ":" + userID
	at := now()
	_, err = col.FindOneAndUpdate(ctx, bson.M{"_id": id, "last_at": bson.M{"$lte": at.Add(-iv)}},
		bson.M{"$set": bson.M{"kind": linkSlotKind, "user_id": userID, "last_at": at, "expires_at": at.Add(iv)}},
		&db.FindOneAndUpdateOptions{Upsert: true})
	if errors.Is(err, db.ErrDuplicateKey) {
		retry := iv
		if last, err := col.FindOne(ctx, db.ByID(id), nil); err == nil {
			retry = time.Until(db.TimeOf(last["last_at"]).Add(iv))
		}
		return nil, errLinkTooSoon{retryAfter: retry}
	}
	if err != nil && !errors.Is(err, db.ErrNotFound) {
		return nil, err
	}
	return func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if _, err := col.DeleteOne(rctx, bson.M{"_id": id, "last_at": at}); err != nil {
			s.log.Warn("give back a link slot", "user", userID, "kind", kind, "error", err.Error())
		}
	}, nil
}

// checkToken finds an unused token of kind and returns its account and
// its record, without using it: the change it asks for marks it used
// (accountUpdate.token). An unknown, used or expired token, or one whose
// account changed its email since, is ErrInvalidToken.
func (s *Server) checkToken(ctx context.Context, token, kind string) (*User, bson.M, error) {
	doc, err := s.store.C(db.AccountTokens).FindOne(ctx,
		bson.M{"_id": tokenHash(token), "kind": kind, "used_at": bson.M{"$exists": false}}, nil)
	if errors.Is(err, db.ErrNotFound) {
		return nil, nil, ErrInvalidToken
	}
	if err != nil {
		return nil, nil, err
	}
	if tokenExpired(doc) {
		return nil, nil, ErrInvalidToken
	}
	uid, _ := doc["user_id"].(string)
	u, err := s.userByID(ctx, uid)
	if errors.Is(err, ErrInvalidSession) {
		return nil, nil, ErrInvalidToken
	}
	if err != nil {
		return nil, nil, err
	}
	if email, _ := doc["email"].(string); email != u.Email {
		return nil, nil, ErrInvalidToken
	}
	return u, doc, nil
}

// spendToken marks a token used when using it changes nothing; one used
// meanwhile is ErrInvalidToken.
func (s *Server) spendToken(ctx context.Context, token string) error {
	res, err := s.store.C(db.AccountTokens).UpdateOne(ctx,
		bson.M{"_id": tokenHash(token), "used_at": bson.M{"$exists": false}},
		bson.M{"$set": bson.M{"used_at": now()}}, nil)
	if err != nil {
		return err
	}
	if res.Matched == 0 {
		return ErrInvalidToken
	}
	return nil
}

// sweepAccountTokensBefore deletes tokens that expired before t; used and
// expired ones are refused anyway, this only reclaims space.
func (s *Server) sweepAccountTokensBefore(ctx context.Context, t time.Time) (int64, error) {
	return s.store.C(db.AccountTokens).DeleteMany(ctx, bson.M{"expires_at": bson.M{"$lte": t.UTC()}})
}

// requestEmailChange sends a confirmation link to {new_email} after
// checking {password}: 202. The email changes only when the link is used,
// so nobody can take an address they cannot read.
func (s *Server) requestEmailChange(c *fiber.Ctx) error {
	u, err := s.freshUser(c)
	if err != nil {
		return err
	}
	fields, err := s.stringsBody(c, "new_email", "password")
	if err != nil {
		return err
	}
	email, err := normalizeEmail(fields[0])
	if err != nil {
		return err
	}
	password := fields[1]
	if err := s.recheckPassword(c, u, password); err != nil {
		return err
	}
	if email == u.Email {
		return badInput("%s is already the email of this account", email)
	}
	if err := s.sendAccountLinkTo(c.UserContext(), u, tokenEmail, email); err != nil {
		var soon errLinkTooSoon
		if errors.As(err, &soon) {
			return &ThrottledError{RetryAfter: soon.retryAfter, Reason: "a confirmation link was sent a moment ago"}
		}
		return err
	}
	return c.Status(http.StatusAccepted).JSON(accountAccepted{Message: "a confirmation link has been sent to " + email})
}

// confirmEmailChange makes the new email of {token} the account's, and
// verified: 200 {user}. An address another account took meanwhile is 409.
func (s *Server) confirmEmailChange(c *fiber.Ctx) error {
	token, err := s.linkToken(c)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	u, tok, err := s.checkToken(ctx, token, tokenEmail)
	if err != nil {
		return err
	}
	email, _ := tok["new_email"].(string)
	if email == "" {
		return ErrInvalidToken
	}
	// Links sent to the old address no longer match the account.
	fresh, err := s.updateByToken(ctx, u, accountUpdate{
		update: bson.M{"$set": bson.M{db.UserEmail: email, db.UserVerified: true}}, fields: []string{db.UserEmail, db.UserVerified},
		token:      tokenHash(token),
		dropTokens: bson.M{"kind": bson.M{"$ne": tokenEmail}},
	})
	if errors.Is(err, db.ErrDuplicateKey) {
		return ErrEmailTaken
	}
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"user": fresh})
}
