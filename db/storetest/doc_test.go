package storetest

import (
	"os"
	"strings"
	"testing"
)

// TestQuirksDocumented keeps the package documentation's list of quirks
// equal to the ones the suite knows.
func TestQuirksDocumented(t *testing.T) {
	src, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for _, line := range strings.Split(string(src), "\n") {
		if name, ok := strings.CutPrefix(strings.TrimSpace(line), "//   - ferretdb-"); ok {
			documented["ferretdb-"+strings.SplitN(name, ":", 2)[0]] = true
		}
	}
	for _, q := range quirks() {
		if !documented[q.name] {
			t.Errorf("quirk %s is not listed in doc.go", q.name)
		}
		delete(documented, q.name)
	}
	for name := range documented {
		t.Errorf("doc.go lists %s, which the suite does not know", name)
	}
}
