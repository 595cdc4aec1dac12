package admin

import (
	"errors"
	"io/fs"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/moonbase-dev/moonbase/db"
)

// Deps are what a Dashboard is built from besides its Config.
type Deps struct {
	// Store keeps the sessions (in SessionsCollection). Required.
	Store db.Store
	// CheckToken reports whether token is the admin token. Required.
	CheckToken func(token string) bool
	// Guard, when set, throttles sign-in: Check is asked before a token is
	// looked at and its error refuses the attempt as it is (the server
	// answers 429 with Retry-After); Failed is told of each wrong token.
	// Both key on the client, as the server sees its address.
	Guard SignInGuard
	// Now is the clock; nil is time.Now.
	Now func() time.Time
	// Files replaces the embedded bundle (tests); nil uses the bundle.
	Files fs.FS
}

// SignInGuard throttles failed sign-ins to the dashboard.
type SignInGuard interface {
	Check(c *fiber.Ctx) error
	Failed(c *fiber.Ctx)
}

// Dashboard serves the admin page and its cookie sessions.
type Dashboard struct {
	cfg    Config
	deps   Deps
	assets map[string]asset // nil when the binary was built without the bundle
}

// New builds the dashboard over the embedded bundle.
func New(cfg Config, deps Deps) (*Dashboard, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if deps.Store == nil || deps.CheckToken == nil {
		return nil, errors.New("admin: Deps.Store and Deps.CheckToken are required")
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	files := deps.Files
	if files == nil {
		sub, err := fs.Sub(bundle, "dist")
		if err != nil {
			return nil, err
		}
		files = sub
	}
	assets, err := loadAssets(files)
	if err != nil {
		return nil, err
	}
	return &Dashboard{cfg: cfg.WithDefaults(), deps: deps, assets: assets}, nil
}

// Built reports whether the binary carries the dashboard's bundle.
func (d *Dashboard) Built() bool { return d.assets != nil }

// Bind registers the page (GET /admin, /admin/*) and the session route
// (/admin/session: POST signs in, GET tells the page whether it is signed
// in, DELETE signs out).
func (d *Dashboard) Bind(r fiber.Router) {
	r.Post("/admin/session", d.signIn)
	r.Get("/admin/session", d.session)
	r.Delete("/admin/session", d.signOut)
	r.Get("/admin", d.serveAsset)
	r.Get("/admin/*", d.serveAsset)
}
