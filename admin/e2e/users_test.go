package e2e

import (
	"net/http"
	"strconv"
	"testing"
	"time"
)

// TestUsersInBrowser: the users screen lists an account with its sign-up
// date, which the API writes as a stored date ({"$date": …}), read as a
// date and not shown as an object.
func TestUsersInBrowser(t *testing.T) {
	s := startServer(t)
	res := call(t, s, "POST", "/api/auth/register", `{"email":"grace@example.com","password":"correct horse battery","name":"Grace"}`, "")
	if res.status != http.StatusCreated && res.status != http.StatusOK {
		t.Fatalf("register: %d %s", res.status, res.body)
	}
	b := newBrowser(t, 1280, 800)
	base := s.URL()
	signIn(b, base)
	open(b, base, "#/users", "main table")
	year := strconv.Itoa(time.Now().Year())
	b.run("the account and its sign-up date",
		waitText("main table", "grace@example.com"),
		waitTrue(`(() => {
			const row = [...document.querySelectorAll("main table tr")].find((tr) => tr.textContent.includes("grace@example.com"));
			const cell = row && row.lastElementChild.textContent;
			return !!cell && cell.includes("`+year+`") && !cell.includes("object");
		})()`))
	if errs := b.consoleErrors(); len(errs) > 0 {
		t.Fatalf("the page logged errors: %v", errs)
	}
}
