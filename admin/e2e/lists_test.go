package e2e

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestFunctionsListPagesInBrowser: with more functions than a page holds,
// the functions screen shows the first page, Next the rest and Previous
// the first again, and the name filter narrows the list on the server.
func TestFunctionsListPagesInBrowser(t *testing.T) {
	s := startServer(t)
	const n = 60 // a page holds 50
	for i := range n {
		name := fmt.Sprintf("fn-%03d", i)
		if i >= 55 {
			name = fmt.Sprintf("mail-%03d", i)
		}
		res := call(t, s, "PUT", "/api/admin/functions/"+name, `{"source":"function handle() return 1 end","triggers":[{"invoke":true}]}`, adminToken)
		if res.status != http.StatusCreated {
			t.Fatalf("create %s: %d %s", name, res.status, res.body)
		}
	}
	b := newBrowser(t, 1280, 800)
	base := s.URL()
	signIn(b, base)
	open(b, base, "#/functions", "main table")
	// rows counts the functions shown; button is the pager's Previous or
	// Next.
	rows := `document.querySelectorAll("main table tbody tr").length`
	button := func(label string) string {
		return fmt.Sprintf(`[...document.querySelectorAll("main nav.pager button")].find((b) => b.textContent === %q)`, label)
	}
	b.run("the first page",
		waitText("main table", "fn-000"),
		waitTrue(rows+` === 50`),
		waitTrue(`!document.querySelector("main table").textContent.includes("mail-055")`),
		waitTrue(button("Previous")+`.disabled && !`+button("Next")+`.disabled`))
	b.run("Next shows the rest",
		chromedp.Evaluate(button("Next")+`.click()`, nil),
		waitText("main table", "mail-059"),
		waitTrue(rows+` === 10`),
		waitTrue(`!document.querySelector("main table").textContent.includes("fn-000")`),
		waitTrue(button("Next")+`.disabled && !`+button("Previous")+`.disabled`))
	b.run("Previous goes back to the first page",
		chromedp.Evaluate(button("Previous")+`.click()`, nil),
		waitText("main table", "fn-000"),
		waitTrue(rows+` === 50`))
	b.run("the name filter",
		setField("#fn-prefix", "mail-"),
		chromedp.Click(`main form[role=search] button[type=submit]`, chromedp.ByQuery),
		waitTrue(rows+` === 5`),
		waitText("main table", "mail-055"),
		waitTrue(`!document.querySelector("main table").textContent.includes("fn-")`),
		waitTrue(button("Next")+`.disabled`))
	if errs := b.consoleErrors(); len(errs) > 0 {
		t.Fatalf("the page logged errors: %v", errs)
	}
}
