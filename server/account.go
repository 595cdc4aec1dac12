package server

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"golang.org/x/crypto/bcrypt"

	"github.com/moonbase-dev/moonbase/db"
)

// The account calls a signed-in user makes on their own account: read and
// change their profile, change their password, delete the account.

// bindAccountApi registers the account calls beside /api/auth's sign-in.
func bindAccountApi(s *Server, r fiber.Router) {
	g := r.Group("/api/auth")
	g.Patch("/me", s.updateMe)
	g.Delete("/me", s.deleteMe)
	g.Post("/password", s.changePassword)
	g.Post("/password-reset", s.requestPasswordReset)
	g.Post("/password-reset/confirm", s.confirmPasswordReset)
	g.Post("/verify-email/request", s.requestVerification)
	g.Post("/verify-email", s.confirmVerification)
	g.Post("/email", s.requestEmailChange)
	g.Post("/email/confirm", s.confirmEmailChange)
}

// ErrWrongPassword: an account call's current password is wrong.
var ErrWrongPassword = errors.New("the current password is wrong")

// freshUser reads the signed-in user's account from the store, since the
// session cache may hold it as it was a few seconds ago.
func (s *Server) freshUser(c *fiber.Ctx) (*User, error) {
	u, err := s.RequireUser(c)
	if err != nil {
		return nil, err
	}
	return s.userByID(c.UserContext(), u.ID)
}

// updateMe sets the profile fields of the body (auth.profile_fields) on
// the signed-in user's account: 200 {user}. Any other field is refused by
// name; email and password change through their own calls.
func (s *Server) updateMe(c *fiber.Ctx) error {
	u, err := s.RequireUser(c)
	if err != nil {
		return err
	}
	body, err := s.jsonBody(c)
	if err != nil {
		return err
	}
	if len(body) == 0 {
		return badInput("send the fields to change, of %s", strings.Join(s.cfg.Auth.ProfileFields, ", "))
	}
	fields := make([]string, 0, len(body))
	for k := range body {
		fields = append(fields, k)
	}
	sort.Strings(fields)
	for _, k := range fields {
		switch {
		case k == "email" || k == "password":
			return Errorf(http.StatusBadRequest, "invalid_input", "%s changes through its own account call, not PATCH /api/auth/me", k)
		case !slices.Contains(s.cfg.Auth.ProfileFields, k):
			allowed := "none (auth.profile_fields is empty)"
			if len(s.cfg.Auth.ProfileFields) > 0 {
				allowed = strings.Join(s.cfg.Auth.ProfileFields, ", ")
			}
			return Errorf(http.StatusForbidden, "forbidden", "field %s cannot be set by users; they may set %s", k, allowed)
		}
	}
	if err := db.ValidateDocument(body, s.limits); err != nil {
		return err
	}
	if v, ok := body["name"]; ok {
		name, isStr := v.(string)
		if !isStr && v != nil {
			return badInput("name must be a string")
		}
		if len([]rune(name)) > maxNameChars {
			return badInput("name is longer than %d characters", maxNameChars)
		}
		body["name"] = name
	}
	oid, err := primitive.ObjectIDFromHex(u.ID)
	if err != nil {
		return ErrInvalidSession
	}
	fresh, err := s.commitAccountUpdate(c.UserContext(), accountUpdate{
		id: oid, update: bson.M{"$set": bson.M(body)}, fields: fields, by: u.EventData(),
	})
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"user": fresh})
}

// changePassword checks current_password and sets new_password; every
// other session of the account ends, the request's own stays: 204.
func (s *Server) changePassword(c *fiber.Ctx) error {
	u, err := s.RequireUser(c)
	if err != nil {
		return err
	}
	fields, err := s.stringsBody(c, "current_password", "new_password")
	if err != nil {
		return err
	}
	current, next := fields[0], fields[1]
	if err := s.checkPassword(next); err != nil {
		return err
	}
	if err := s.recheckPassword(c, u, current); err != nil {
		return err
	}
	token, _ := bearerToken(c)
	set, err := s.passwordSet(next)
	if err != nil {
		return err
	}
	oid, err := primitive.ObjectIDFromHex(u.ID)
	if err != nil {
		return ErrInvalidSession
	}
	if _, err := s.commitAccountUpdate(c.UserContext(), accountUpdate{
		id: oid, update: bson.M{"$set": set}, fields: []string{"password"}, by: u.EventData(),
		endSessions: true, keepSession: tokenHash(token), dropTokens: bson.M{"kind": tokenReset},
	}); err != nil {
		return err
	}
	return c.SendStatus(http.StatusNoContent)
}

// recheckPassword confirms a signed-in user's password before a sensitive
// change, counting failures against the sign-in throttle.
func (s *Server) recheckPassword(c *fiber.Ctx, u *User, password string) error {
	addr := s.clientAddr(c)
	if err := s.throttle.check(u.Email, addr); err != nil {
		return err
	}
	oid, err := primitive.ObjectIDFromHex(u.ID)
	if err != nil {
		return ErrInvalidSession
	}
	doc, err := s.store.C(db.Users).FindOne(c.UserContext(), db.ByID(oid), nil)
	if errors.Is(err, db.ErrNotFound) {
		return ErrInvalidSession
	}
	if err != nil {
		return err
	}
	hash, _ := doc[db.UserPasswordHash].(string)
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) != nil {
		s.throttle.fail(u.Email, addr)
		return ErrWrongPassword
	}
	return nil
}

// passwordSet is the $set of a new password: its bcrypt hash. A change
// of password ends the account's other sessions and its pending reset
// links (accountUpdate.endSessions, dropTokens).
func (s *Server) passwordSet(password string) (bson.M, error) {
	hash, err := bcrypt.GenerateFromPassword([]byte(password), s.cfg.Auth.BcryptCost)
	if err != nil {
		return nil, fmt.Errorf("hash password: %w", err)
	}
	return bson.M{db.UserPasswordHash: string(hash)}, nil
}

// deleteMe deletes the signed-in user's account after checking
// {password}: its sessions and pending tokens go, and the documents it
// owns are kept or deleted as auth.on_delete says: 204.
func (s *Server) deleteMe(c *fiber.Ctx) error {
	u, err := s.RequireUser(c)
	if err != nil {
		return err
	}
	fields, err := s.stringsBody(c, "password")
	if err != nil {
		return err
	}
	password := fields[0]
	if err := s.recheckPassword(c, u, password); err != nil {
		return err
	}
	ctx := c.UserContext()
	oid, err := primitive.ObjectIDFromHex(u.ID)
	if err != nil {
		return ErrInvalidSession
	}
	// The account goes first, with its sessions, its pending links, its
	// user_deleted event and (auth.on_delete: delete) the durable job that
	// deletes its documents: once it is gone no session signs it in, and
	// its documents are deleted whatever happens to this request.
	gone, err := s.commitAccountDelete(ctx, oid)
	if err != nil {
		return err
	}
	if s.cfg.Auth.OnDelete == OnDeleteDelete {
		// The account's clean-up job was stored with its deletion and
		// finishes what this does not; the answer does not depend on it.
		if n, err := s.deleteOwnedDocuments(ctx, gone); err != nil {
			s.log.Warn("delete the documents of a deleted account; its clean-up job will finish", "user", gone.ID, "deleted", n, "error", err.Error())
		}
	}
	return c.SendStatus(http.StatusNoContent)
}

// accountAccepted is the answer of the calls that send a link by email,
// the same whether or not the email has an account.
type accountAccepted struct {
	Message string `json:"message"`
}

// tokenExpired reports whether a stored token's expiry has passed.
func tokenExpired(doc bson.M) bool {
	exp, _ := doc["expires_at"].(primitive.DateTime)
	return !exp.Time().After(time.Now())
}
