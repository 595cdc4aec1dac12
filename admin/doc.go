// Package admin serves Moonbase's admin dashboard at /admin: the page
// bundled from admin/ui (embedded with go:embed when it was built before
// the binary), and the cookie session the page signs in with.
//
// The dashboard calls only the JSON admin API (/api/admin/*), the same
// routes the CLI uses. A signed-in page sends the session cookie instead
// of the admin token; the server asks Authenticate whether a request
// without a bearer token carries a valid session, and every write must
// repeat the session's CSRF token in the X-CSRF-Token header.
//
//	dash, _ := admin.New(admin.Config{}, admin.Deps{Store: store, CheckToken: check})
//	dash.Bind(app)               // /admin, /admin/session
//	app.Use("/api/admin", func(c *fiber.Ctx) error {
//		if err := dash.Authenticate(c); err != nil {
//			return err
//		}
//		return c.Next()
//	})
//
// A binary built without the bundle (admin/dist holds only its
// placeholder) serves everything else, and /admin answers with one line
// saying how to build the dashboard.
package admin
