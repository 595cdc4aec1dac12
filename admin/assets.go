package admin

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// bundle is admin/dist as it was when the binary was built: the page
// bundled from admin/ui, or only the committed placeholder (.keep) when
// it was not built.
//
//go:embed all:dist
var bundle embed.FS

// BuildHint is the one line /admin answers when the binary was built
// without the dashboard.
const BuildHint = "The admin dashboard is not built into this binary: run ./scripts/build-dashboard (Node.js and npm needed), then rebuild moonbase (./scripts/run does both)."

// asset is one file of the bundle, ready to serve.
type asset struct {
	body  []byte
	ctype string
	etag  string
}

// loadAssets reads the files of dist into memory with their content type
// and an ETag. It returns nil when dist has no index.html.
func loadAssets(dist fs.FS) (map[string]asset, error) {
	out := map[string]asset{}
	err := fs.WalkDir(dist, ".", func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() || strings.HasPrefix(path.Base(p), ".") {
			return err
		}
		b, err := fs.ReadFile(dist, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		ctype := mime.TypeByExtension(path.Ext(p))
		if ctype == "" {
			ctype = "application/octet-stream"
		}
		out[p] = asset{body: b, ctype: ctype, etag: `"` + hex.EncodeToString(sum[:12]) + `"`}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if _, ok := out["index.html"]; !ok {
		return nil, nil
	}
	return out, nil
}

// contentSecurityPolicy keeps the page to its own origin: scripts only
// from the bundle, requests only to this server. CodeMirror sets element
// styles, hence 'unsafe-inline' for styles (not for scripts).
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
	"img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// serveAsset answers GET /admin and everything below it that is not the
// session route: a file of the bundle, or index.html (the page routes
// with the URL's fragment, so any other path gets the page too).
func (d *Dashboard) serveAsset(c *fiber.Ctx) error {
	c.Set("Content-Security-Policy", contentSecurityPolicy)
	c.Set("X-Content-Type-Options", "nosniff")
	c.Set("Referrer-Policy", "no-referrer")
	c.Set("X-Frame-Options", "DENY")
	c.Set(fiber.HeaderCacheControl, "no-cache")
	if d.assets == nil {
		c.Set(fiber.HeaderContentType, fiber.MIMETextPlainCharsetUTF8)
		return c.Status(http.StatusServiceUnavailable).SendString(BuildHint + "\n")
	}
	name := strings.TrimPrefix(strings.TrimPrefix(c.Path(), "/admin"), "/")
	a, ok := d.assets[name]
	if !ok {
		a = d.assets["index.html"]
	}
	c.Set(fiber.HeaderETag, a.etag)
	if c.Get(fiber.HeaderIfNoneMatch) == a.etag {
		return c.SendStatus(http.StatusNotModified)
	}
	c.Set(fiber.HeaderContentType, a.ctype)
	return c.Send(a.body)
}
