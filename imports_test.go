package main

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/moonbase-dev/moonbase"

// adminAPI is the package of the admin API's request and answer bodies,
// shared by the server and the command line.
const adminAPI = module + "/server/adminapi"

// testSupport is the package of helpers shared by the tests; no package
// of the product may depend on it (go list without -test sees only those).
const testSupport = module + "/internal/testsupport"

// pkgInfo is what go list says of one package.
type pkgInfo struct {
	Imports []string // direct imports
	Deps    []string // every package it depends on, transitively
}

// listPackages returns every package of the module with its imports.
func listPackages(t *testing.T, args ...string) map[string]pkgInfo {
	t.Helper()
	out, err := exec.Command("go", append([]string{"list", "-json"}, args...)...).Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	pkgs := map[string]pkgInfo{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var p struct {
			ImportPath string
			Imports    []string
			Deps       []string
		}
		if err := dec.Decode(&p); err != nil {
			t.Fatalf("decode go list: %v", err)
		}
		pkgs[p.ImportPath] = pkgInfo{Imports: p.Imports, Deps: p.Deps}
	}
	return pkgs
}

// part names the top-level part of the module a package belongs to ("db",
// "server", "lua" for lua/engine and lua/functions, "" for the command
// itself).
func part(pkg string) string {
	rest := strings.TrimPrefix(strings.TrimPrefix(pkg, module), "/")
	return strings.SplitN(rest, "/", 2)[0]
}

// TestImportDirection keeps the dependency rules of the design true:
// main → server → {admin, lua, channels, events, webhooks, mail} → db, and
// only the owning part imports fiber, the MongoDB driver or gorilla/websocket.
// The command line (cli) is part of the command but never runs a server
// itself: of server it imports only the admin API's bodies (server/adminapi),
// which in turn import nothing of the server.
func TestImportDirection(t *testing.T) {
	forbidden := map[string][]string{
		"db":       {"server", "lua", "events", "channels", "mail", "webhooks", "admin"},
		"lua":      {"server", "events", "channels", "mail", "webhooks", "admin"},
		"events":   {"server", "lua", "channels", "mail", "webhooks", "admin"},
		"channels": {"server", "lua", "events", "admin"},
		"mail":     {"server", "lua", "events", "channels", "admin"},
		"webhooks": {"server", "lua", "channels", "admin"},
		"admin":    {"server"},
		"cli":      {"channels", "mail", "webhooks", "admin"},
	}
	// Which parts may import a library directly.
	owners := map[string][]string{
		"github.com/gofiber/fiber":              {"server", "admin", "bench"},
		"github.com/spf13/cobra":                {"cli"},
		"go.mongodb.org/mongo-driver/mongo":     {"db", "bench"},
		"github.com/gorilla/websocket":          {"channels", "bench"},
		"github.com/FerretDB/FerretDB/ferretdb": {"db"},
		"github.com/nats-io/nats.go":            {"channels"},
		"github.com/nats-io/nats-server/v2":     {"channels", "bench"},
		"github.com/valyala/fasthttp":           {"server", "channels", "bench"},
		"github.com/wneessen/go-mail":           {"mail"},
		"github.com/yuin/gopher-lua":            {"lua"},
	}
	// Packages inside a part that must not depend on a library, or on a
	// sibling package, even though their part may: the storage of functions
	// knows nothing of the Lua runtime.
	forbiddenWithin := map[string][]string{
		module + "/lua/functions": {"github.com/yuin/gopher-lua", module + "/lua/engine"},
	}
	for pkg, info := range listPackages(t, "./...") {
		if !strings.HasPrefix(pkg, module) {
			continue
		}
		from := part(pkg)
		for _, imp := range info.Deps {
			if imp == testSupport {
				t.Errorf("%s depends on %s: only tests may use the test helpers", pkg, imp)
			}
			for _, bad := range forbiddenWithin[pkg] {
				if imp == bad || strings.HasPrefix(imp, bad+"/") {
					t.Errorf("%s imports %s, which it must not depend on", pkg, imp)
				}
			}
			if strings.HasPrefix(imp, module+"/") {
				to := part(imp)
				for _, bad := range forbidden[from] {
					if to == bad {
						t.Errorf("%s imports %s: %s must not depend on %s", pkg, imp, from, bad)
					}
				}
				if to == "server" && from != "" && from != "server" && from != "bench" && from != "examples" &&
					(from != "cli" || imp != adminAPI) {
					t.Errorf("%s imports %s: nothing but the command imports server", pkg, imp)
				}
				if pkg == adminAPI && to == "server" {
					t.Errorf("%s imports %s: the admin API's bodies must not need the server", pkg, imp)
				}
			}
		}
		if pkg == adminAPI || from == "cli" {
			for _, imp := range info.Deps {
				if strings.HasPrefix(imp, "github.com/gofiber/fiber") || strings.HasPrefix(imp, "github.com/valyala/fasthttp") {
					t.Errorf("%s depends on %s: the command line must not link the HTTP server", pkg, imp)
				}
				if imp == "github.com/yuin/gopher-lua" || imp == module+"/lua/engine" {
					t.Errorf("%s depends on %s: the command line must not link the Lua runtime", pkg, imp)
				}
			}
		}
		for _, imp := range info.Imports {
			for lib, allowed := range owners {
				if imp != lib && !strings.HasPrefix(imp, lib+"/") {
					continue
				}
				ok := false
				for _, a := range allowed {
					ok = ok || a == from
				}
				if !ok {
					t.Errorf("%s imports %s, which only %v may use", pkg, imp, allowed)
				}
			}
		}
	}
}

// TestPartsOfTheSplitLua checks that part groups the runtime and the
// storage of functions under "lua", as the rules above expect.
func TestPartsOfTheSplitLua(t *testing.T) {
	for pkg, want := range map[string]string{
		module + "/lua/engine":    "lua",
		module + "/lua/functions": "lua",
		module + "/server":        "server",
		module:                    "",
	} {
		if got := part(pkg); got != want {
			t.Errorf("part(%q) = %q, want %q", pkg, got, want)
		}
	}
}

// TestBinaryLeavesOutTestStores keeps FerretDB, the MongoDB stand-in of the
// tests, and the NATS server the channels tests start, out of the moonbase
// binary.
func TestBinaryLeavesOutTestStores(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.Contains(dep, "FerretDB") || strings.Contains(dep, "nats-server") || strings.HasSuffix(dep, "/db/storetest") {
			t.Errorf("the binary links %s, which belongs in tests only", dep)
		}
	}
}
