package engine

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// Every name of the backend module is documented in docs/lua-api.md under
// its own heading, with its signature line from api.go and an example;
// and every name documented there exists.
func TestBackendAPIIsDocumented(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("../../docs/lua-api.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	sections := map[string]string{}
	heading := regexp.MustCompile("(?m)^### `backend\\.([A-Za-z0-9.]+)`$")
	locs := heading.FindAllStringSubmatchIndex(doc, -1)
	for i, loc := range locs {
		end := len(doc)
		if i+1 < len(locs) {
			end = locs[i+1][0]
		}
		body := doc[loc[1]:end]
		if j := strings.Index(body, "\n## "); j >= 0 {
			body = body[:j]
		}
		sections[doc[loc[2]:loc[3]]] = body
	}
	seen := map[string]bool{}
	for _, e := range backendAPI() {
		if seen[e.name] {
			t.Errorf("backend.%s is in the table twice", e.name)
		}
		seen[e.name] = true
		if strings.TrimSpace(e.doc) == "" {
			t.Errorf("backend.%s has no doc line in api.go", e.name)
			continue
		}
		body, ok := sections[e.name]
		if !ok {
			t.Errorf("docs/lua-api.md has no heading ### `backend.%s`", e.name)
			continue
		}
		if !strings.Contains(body, "`"+e.doc+"`") {
			t.Errorf("the section of backend.%s does not show its signature `%s`", e.name, e.doc)
		}
		if !strings.Contains(body, "```lua\n") {
			t.Errorf("the section of backend.%s has no example", e.name)
		}
	}
	for name := range sections {
		if !seen[name] {
			t.Errorf("docs/lua-api.md documents backend.%s, which api.go does not have", name)
		}
	}
}

// The module a function sees is exactly the table.
func TestBackendModuleHasEveryEntry(t *testing.T) {
	t.Parallel()
	r := newTestRegistry(t, Config{}, Deps{})
	var checks []string
	for _, e := range backendAPI() {
		checks = append(checks, "assert(backend."+e.name+" ~= nil, '"+e.name+"')")
	}
	if got := runErr(t, r, "function handle()\n"+strings.Join(checks, "\n")+"\nend"); got != "" {
		t.Fatal(got)
	}
}
