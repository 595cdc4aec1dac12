package storetest

import (
	"os/exec"
	"strings"
	"testing"
)

// TestTestOnly keeps FerretDB out of the moonbase binary: no package's
// non-test code may import storetest or FerretDB, except storetest itself.
func TestTestOnly(t *testing.T) {
	out, err := exec.Command("go", "list", "-e", "-f", `{{.ImportPath}}:{{range .Imports}} {{.}}{{end}}`,
		"github.com/moonbase-dev/moonbase/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	const self = "github.com/moonbase-dev/moonbase/db/storetest"
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, imports, _ := strings.Cut(line, ":")
		if pkg == self {
			continue
		}
		for _, imp := range strings.Fields(imports) {
			if imp == self || strings.HasPrefix(imp, "github.com/FerretDB/") {
				t.Errorf("%s imports %s outside its tests; FerretDB must stay out of the binary", pkg, imp)
			}
		}
	}
}
