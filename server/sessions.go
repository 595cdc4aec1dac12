package server

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/moonbase-dev/moonbase/db"
)

// sessionSweepEvery is how often expired sessions are deleted. Lookups
// refuse them anyway; the sweep only reclaims space.
const sessionSweepEvery = 10 * time.Minute

// Session is a signed-in session as login and register answer it. Token is
// shown only then; the store keeps its SHA-256 hash.
type Session struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
}

// newToken returns 32 random bytes, base64url-encoded, with prefix.
func newToken(prefix string) string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("crypto/rand failed: " + err.Error()) // the platform is broken; nothing is safe to do
	}
	return prefix + base64.RawURLEncoding.EncodeToString(b[:])
}

// tokenHash is what the store keeps of a token.
func tokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// createSession signs the user in: a new random token whose hash is the
// session's _id.
func (s *Server) createSession(ctx context.Context, u *User, c *fiber.Ctx) (Session, error) {
	token := newToken("")
	now := time.Now().UTC().Truncate(time.Millisecond)
	sess := Session{Token: token, ExpiresAt: now.Add(s.cfg.Auth.SessionTTL)}
	_, err := s.store.C(db.Sessions).InsertOne(ctx, bson.M{
		"_id":        tokenHash(token),
		"user_id":    u.ID,
		"created_at": now,
		"expires_at": sess.ExpiresAt,
		"ip":         s.clientAddr(c),
		"user_agent": truncate(string(c.Request().Header.UserAgent()), 256),
	})
	if err != nil {
		return Session{}, err
	}
	return sess, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// bearerToken returns the token of an "Authorization: Bearer" header, or ""
// when there is none.
func bearerToken(c *fiber.Ctx) (string, bool) {
	h := c.Get(fiber.HeaderAuthorization)
	if h == "" {
		return "", false
	}
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return "", true
	}
	return strings.TrimSpace(token), true
}

// CurrentUser returns the signed-in user of the request, or nil when it
// carries no Authorization header. A header with an unknown or expired
// token is ErrInvalidSession (401) rather than an anonymous request, so a
// client learns it must sign in again. The user is looked up once per
// request, on first use.
func (s *Server) CurrentUser(c *fiber.Ctx) (*User, error) {
	if u, ok := c.Locals(localUser).(*User); ok {
		return u, nil
	}
	token, present := bearerToken(c)
	if !present {
		return nil, nil
	}
	if token == "" {
		return nil, ErrInvalidSession
	}
	u, err := s.sessionUser(c.UserContext(), tokenHash(token))
	if err != nil {
		return nil, err
	}
	c.Locals(localUser, u)
	return u, nil
}

// RequireUser is CurrentUser for routes that need someone signed in.
func (s *Server) RequireUser(c *fiber.Ctx) (*User, error) {
	u, err := s.CurrentUser(c)
	if err != nil {
		return nil, err
	}
	if u == nil {
		return nil, db.ErrUnauthenticated
	}
	return u, nil
}

// sessionUser resolves a session by its token's hash.
func (s *Server) sessionUser(ctx context.Context, hash string) (*User, error) {
	if u, ok := s.sessions.get(hash); ok {
		return u, nil
	}
	doc, err := s.store.C(db.Sessions).FindOne(ctx, db.ByID(hash), nil)
	if errors.Is(err, db.ErrNotFound) {
		return nil, ErrInvalidSession
	}
	if err != nil {
		return nil, err
	}
	exp, _ := doc["expires_at"].(primitive.DateTime)
	if !exp.Time().After(time.Now()) {
		return nil, ErrInvalidSession
	}
	uid, _ := doc["user_id"].(string)
	u, err := s.userByID(ctx, uid)
	if err != nil {
		return nil, err
	}
	s.sessions.put(hash, u, exp.Time())
	return u, nil
}

// endSession deletes the session of the request's token, and closes the
// channel connections signed in with it on this server (the others close
// theirs at their next session check).
func (s *Server) endSession(c *fiber.Ctx) error {
	token, _ := bearerToken(c)
	hash := tokenHash(token)
	s.sessions.forget(hash)
	if _, err := s.store.C(db.Sessions).DeleteOne(c.UserContext(), db.ByID(hash)); err != nil {
		return err
	}
	s.channels.EndSession(hash)
	return nil
}

// sweepSessions deletes expired sessions until the server shuts down.
func (s *Server) sweepSessions() {
	t := time.NewTicker(sessionSweepEvery)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(s.baseCtx, time.Minute)
			n, err := s.store.C(db.Sessions).DeleteMany(ctx, bson.M{"expires_at": bson.M{"$lte": time.Now().UTC()}})
			if err != nil {
				s.log.Warn("sweeping expired sessions failed", "error", err.Error())
			} else if n > 0 {
				s.log.Debug("swept expired sessions", "count", n)
			}
			if _, err := s.sweepAccountTokensBefore(ctx, time.Now()); err != nil {
				s.log.Warn("sweeping expired account tokens failed", "error", err.Error())
			}
			cancel()
		}
	}
}
