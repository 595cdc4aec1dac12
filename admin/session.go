package admin

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"go.mongodb.org/mongo-driver/bson"

	"github.com/moonbase-dev/moonbase/db"
)

// SessionsCollection holds the dashboard's sessions: {_id: SHA-256 of the
// cookie's value, csrf, created_at, expires_at}. The cookie's value itself
// is never stored.
const SessionsCollection = "_admin_sessions"

// CookieName is the session cookie.
const CookieName = "moonbase_admin"

// CSRFHeader carries the session's CSRF token on every write.
const CSRFHeader = "X-CSRF-Token"

// sessionAnswer is what signing in and GET /admin/session answer.
type sessionAnswer struct {
	CSRFToken string    `json:"csrf_token"`
	ExpiresAt time.Time `json:"expires_at"`
}

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func sessionKey(cookie string) string {
	sum := sha256.Sum256([]byte(cookie))
	return hex.EncodeToString(sum[:])
}

// signIn exchanges {"token": admin token} for a session: the cookie
// (HttpOnly, SameSite=Strict) and 200 {csrf_token, expires_at}. A wrong
// token is ErrWrongToken and sets nothing.
func (d *Dashboard) signIn(c *fiber.Ctx) error {
	if err := sameOrigin(c); err != nil {
		return err
	}
	var body struct {
		Token string `json:"token"`
	}
	dec := json.NewDecoder(strings.NewReader(string(c.Body())))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil || body.Token == "" {
		return fmt.Errorf(`%w: send {"token": "<admin token>"}`, ErrInvalidInput)
	}
	if g := d.deps.Guard; g != nil {
		if err := g.Check(c); err != nil {
			return err
		}
	}
	if !d.deps.CheckToken(body.Token) {
		if g := d.deps.Guard; g != nil {
			g.Failed(c)
		}
		return ErrWrongToken
	}
	ctx := c.UserContext()
	now := d.deps.Now().UTC()
	sessions := d.deps.Store.C(SessionsCollection)
	// Expired sessions are cleared as new ones start, so the collection
	// holds only live ones and a few stragglers.
	if _, err := sessions.DeleteMany(ctx, bson.M{"expires_at": bson.M{"$lt": now}}); err != nil {
		return fmt.Errorf("clear expired dashboard sessions: %w", err)
	}
	cookie := randomToken()
	ans := sessionAnswer{CSRFToken: randomToken(), ExpiresAt: now.Add(d.cfg.SessionTTL).Truncate(time.Millisecond)}
	doc := bson.M{"_id": sessionKey(cookie), "csrf": ans.CSRFToken, "created_at": now, "expires_at": ans.ExpiresAt}
	if _, err := sessions.InsertOne(ctx, doc); err != nil {
		return fmt.Errorf("store dashboard session: %w", err)
	}
	c.Cookie(&fiber.Cookie{
		Name: CookieName, Value: cookie, Path: "/", Expires: ans.ExpiresAt,
		HTTPOnly: true, SameSite: fiber.CookieSameSiteStrictMode, Secure: d.secure(c),
	})
	return c.JSON(ans)
}

// session answers 200 {csrf_token, expires_at} to a signed-in page, so a
// reloaded page finds its CSRF token again, and ErrNoSession otherwise.
func (d *Dashboard) session(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	doc, err := d.lookup(c)
	if err != nil {
		return err
	}
	return c.JSON(sessionAnswer{CSRFToken: str(doc["csrf"]), ExpiresAt: db.TimeOf(doc["expires_at"])})
}

// signOut ends the session (its cookie stops working at once, in every
// tab) and clears the cookie: 204. It is a write, so it needs the CSRF
// token like any other.
func (d *Dashboard) signOut(c *fiber.Ctx) error {
	doc, err := d.lookup(c)
	if err != nil {
		return err
	}
	if err := d.checkCSRF(c, doc); err != nil {
		return err
	}
	if _, err := d.deps.Store.C(SessionsCollection).DeleteOne(c.UserContext(), db.ByID(doc["_id"])); err != nil {
		return fmt.Errorf("end dashboard session: %w", err)
	}
	c.Cookie(&fiber.Cookie{
		Name: CookieName, Value: "", Path: "/", Expires: time.Unix(0, 0), MaxAge: -1,
		HTTPOnly: true, SameSite: fiber.CookieSameSiteStrictMode, Secure: d.secure(c),
	})
	return c.SendStatus(http.StatusNoContent)
}

// HasCookie reports whether the request carries a session cookie, so the
// server knows to ask Authenticate rather than look for a bearer token.
func (d *Dashboard) HasCookie(c *fiber.Ctx) bool { return c.Cookies(CookieName) != "" }

// Authenticate checks a request to the admin API made with the session
// cookie: ErrNoSession when there is no live session, ErrCSRF when a
// write (anything but GET, HEAD and OPTIONS) lacks the session's CSRF
// token or comes from another origin.
func (d *Dashboard) Authenticate(c *fiber.Ctx) error {
	doc, err := d.lookup(c)
	if err != nil {
		return err
	}
	switch c.Method() {
	case fiber.MethodGet, fiber.MethodHead, fiber.MethodOptions:
		return nil
	}
	return d.checkCSRF(c, doc)
}

// lookup finds the live session of the request's cookie.
func (d *Dashboard) lookup(c *fiber.Ctx) (bson.M, error) {
	cookie := c.Cookies(CookieName)
	if cookie == "" {
		return nil, ErrNoSession
	}
	doc, err := d.deps.Store.C(SessionsCollection).FindOne(c.UserContext(), db.ByID(sessionKey(cookie)), nil)
	if errors.Is(err, db.ErrNotFound) {
		return nil, ErrNoSession
	}
	if err != nil {
		return nil, fmt.Errorf("read dashboard session: %w", err)
	}
	if !d.deps.Now().Before(db.TimeOf(doc["expires_at"])) {
		return nil, ErrNoSession
	}
	return doc, nil
}

// checkCSRF compares X-CSRF-Token with the session's token in constant
// time, and refuses a request a browser says came from another origin.
func (d *Dashboard) checkCSRF(c *fiber.Ctx, doc bson.M) error {
	if err := sameOrigin(c); err != nil {
		return err
	}
	want, got := str(doc["csrf"]), c.Get(CSRFHeader)
	if got == "" || want == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		return ErrCSRF
	}
	return nil
}

// sameOrigin refuses a request whose Origin (sent by browsers on every
// write) names another host than the one it was sent to, or that the
// browser marks as cross-site. Clients that send neither (curl, the CLI)
// pass: they carry no ambient cookie to abuse.
func sameOrigin(c *fiber.Ctx) error {
	if site := c.Get("Sec-Fetch-Site"); site == "cross-site" || site == "same-site" {
		return ErrCSRF
	}
	origin := c.Get(fiber.HeaderOrigin)
	if origin == "" {
		return nil
	}
	u, err := url.Parse(origin)
	if err != nil || !strings.EqualFold(u.Host, string(c.Request().Host())) {
		return ErrCSRF
	}
	return nil
}

func (d *Dashboard) secure(c *fiber.Ctx) bool { return d.cfg.SecureCookie || c.Protocol() == "https" }

func str(v any) string { s, _ := v.(string); return s }
