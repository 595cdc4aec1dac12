package server

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"golang.org/x/crypto/bcrypt"
	"golang.org/x/text/unicode/norm"

	"github.com/moonbase-dev/moonbase/db"
	"github.com/moonbase-dev/moonbase/events"
)

// maxPasswordBytes is what bcrypt reads of a password; longer ones are
// refused rather than silently cut.
const maxPasswordBytes = 72

// Bounds of the user fields a client sends.
const (
	maxEmailBytes = 254
	maxNameChars  = 200
)

// ErrEmailTaken: registration with an email that already has an account.
var ErrEmailTaken = errors.New("an account with this email already exists")

// User is a signed-up user as the API shows it: {id, email, name,
// verified, created_at} and the app fields functions keep on the account
// (trialEndsAt, plan …). The password hash never leaves the store.
// created_at is a date, written {"$date": "…Z"} like every date of the
// API, the app fields' among them.
type User struct {
	ID        string
	Email     string
	Name      string
	Verified  bool
	CreatedAt time.Time
	// Fields are the app fields, as stored (dates as dates).
	Fields map[string]any
}

// userJSON is the order in which a User's account fields are written.
type userJSON struct {
	ID        string         `json:"id"`
	Email     string         `json:"email"`
	Name      string         `json:"name"`
	Verified  bool           `json:"verified"`
	CreatedAt map[string]any `json:"created_at"`
}

// MarshalJSON writes the account fields, in order, and then the app
// fields, dates as {"$date": …}.
func (u *User) MarshalJSON() ([]byte, error) {
	b, err := json.Marshal(userJSON{ID: u.ID, Email: u.Email, Name: u.Name, Verified: u.Verified, CreatedAt: db.ExtDate(u.CreatedAt)})
	if err != nil || len(u.Fields) == 0 {
		return b, err
	}
	fields, err := json.Marshal(db.ToExtJSON(u.Fields))
	if err != nil {
		return nil, err
	}
	return append(append(b[:len(b)-1], ','), fields[1:]...), nil
}

// EventData is the user as events and ctx.user carry it: {id, email,
// name, verified, created_at} and the app fields.
func (u *User) EventData() map[string]any {
	if u == nil {
		return nil
	}
	m := make(map[string]any, 5+len(u.Fields))
	for k, v := range u.Fields {
		m[k] = v
	}
	m["id"], m["email"], m["name"], m["verified"], m["created_at"] = u.ID, u.Email, u.Name, u.Verified, u.CreatedAt
	return m
}

// userFromDoc reads a _users document.
func userFromDoc(doc bson.M) (*User, error) {
	oid, ok := doc["_id"].(primitive.ObjectID)
	if !ok {
		return nil, fmt.Errorf("user document has _id of type %T", doc["_id"])
	}
	u := &User{ID: oid.Hex()}
	u.Email, _ = doc[db.UserEmail].(string)
	u.Name, _ = doc["name"].(string)
	u.Verified, _ = doc[db.UserVerified].(bool)
	u.CreatedAt = db.TimeOf(doc[db.UserCreatedAt])
	for k, v := range doc {
		if k != "name" && !db.IsAccountField(k) {
			if u.Fields == nil {
				u.Fields = map[string]any{}
			}
			u.Fields[k] = v
		}
	}
	return u, nil
}

// normalizeEmail trims an email, applies Unicode compatibility
// normalization (NFKC) and lowercases it, so that look-alike forms such as
// a full-width letter name the same account, and checks it is one plain
// address (no display name, no list, no address-literal domain such as
// a@[127.0.0.1]).
func normalizeEmail(raw string) (string, error) {
	email := strings.ToLower(norm.NFKC.String(strings.TrimSpace(raw)))
	if email == "" {
		return "", badInput("email is required")
	}
	if len(email) > maxEmailBytes {
		return "", badInput("email is longer than %d characters", maxEmailBytes)
	}
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Address != email || addr.Name != "" {
		return "", badInput("email %q is not a valid address", raw)
	}
	at := strings.LastIndexByte(email, '@')
	if at < 1 || !strings.Contains(email[at+1:], ".") {
		return "", badInput("email %q is not a valid address", raw)
	}
	if strings.HasPrefix(email[at+1:], "[") {
		return "", badInput("email %q has an address literal for a domain; use a domain name", raw)
	}
	return email, nil
}

// checkPassword applies the length rules.
func (s *Server) checkPassword(pw string) error {
	if n := utf8.RuneCountInString(pw); n < s.cfg.Auth.PasswordMinLength {
		return badInput("password must be at least %d characters", s.cfg.Auth.PasswordMinLength)
	}
	if len(pw) > maxPasswordBytes {
		return badInput("password must be at most %d bytes", maxPasswordBytes)
	}
	return nil
}

// createUser stores a new user with a bcrypt hash of the password, and
// its user_registered event in the same step.
func (s *Server) createUser(ctx context.Context, email, name, password string) (*User, error) {
	hash, err := bcrypt.GenerateFromPassword([]byte(password), s.cfg.Auth.BcryptCost)
	if err != nil {
		return nil, fmt.Errorf("hash password: %w", err)
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	oid := primitive.NewObjectID()
	doc := bson.M{
		"_id":           oid,
		"email":         email,
		"name":          name,
		"password_hash": string(hash),
		"verified":      false,
		"created_at":    now,
		"updated_at":    now,
	}
	u := &User{ID: oid.Hex(), Email: email, Name: name, CreatedAt: now}
	data := func(context.Context) (map[string]any, error) { return map[string]any{"user": u.EventData()}, nil }
	_, err = s.events.Commit(ctx, events.Change{
		Name: events.UserRegistered,
		Write: func(ctx context.Context, tx db.Tx) (map[string]any, error) {
			if _, err := tx.C(db.Users).InsertOne(ctx, doc); err != nil {
				return nil, err
			}
			return data(ctx)
		},
		Pending: data,
		Check:   events.Check{Collection: db.Users, Filter: db.ByID(oid), Exists: true},
	})
	if errors.Is(err, db.ErrDuplicateKey) {
		return nil, ErrEmailTaken
	}
	if err != nil {
		return nil, err
	}
	return u, nil
}

// authenticate checks an email and password. An unknown email costs the
// same bcrypt work as a wrong password, so timing does not reveal accounts.
func (s *Server) authenticate(ctx context.Context, email, password string) (*User, error) {
	doc, err := s.store.C(db.Users).FindOne(ctx, bson.M{"email": email}, nil)
	if errors.Is(err, db.ErrNotFound) {
		_ = bcrypt.CompareHashAndPassword(s.dummyHash, []byte(password))
		return nil, ErrInvalidCredentials
	}
	if err != nil {
		return nil, err
	}
	hash, _ := doc["password_hash"].(string)
	if err := bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)); err != nil {
		return nil, ErrInvalidCredentials
	}
	return userFromDoc(doc)
}

// userByID loads a user; a missing one is ErrInvalidSession, since only a
// session points at a user by id.
func (s *Server) userByID(ctx context.Context, id string) (*User, error) {
	oid, err := primitive.ObjectIDFromHex(id)
	if err != nil {
		return nil, ErrInvalidSession
	}
	doc, err := s.store.C(db.Users).FindOne(ctx, db.ByID(oid), nil)
	if errors.Is(err, db.ErrNotFound) {
		return nil, ErrInvalidSession
	}
	if err != nil {
		return nil, err
	}
	return userFromDoc(doc)
}

// dummyPasswordHash is a hash of a random password at the configured cost.
func dummyPasswordHash(cost int) ([]byte, error) {
	pw := make([]byte, 32)
	_, _ = rand.Read(pw)
	for i := range pw {
		pw[i] = 'a' + pw[i]%26
	}
	h, err := bcrypt.GenerateFromPassword(pw, cost)
	if err != nil {
		return nil, fmt.Errorf("prepare password hashing: %w", err)
	}
	return h, nil
}
