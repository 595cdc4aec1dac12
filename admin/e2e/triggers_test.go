package e2e

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestChannelTriggerInBrowser: an event trigger on chan_in takes a
// channel pattern in the trigger form, saved with the function; another
// event hides the field and drops it.
func TestChannelTriggerInBrowser(t *testing.T) {
	s := startServer(t)
	def := `{"source":"function handle(event) return true end","triggers":[{"invoke":true}]}`
	if res := call(t, s, "PUT", "/api/admin/functions/onChat", def, adminToken); res.status != http.StatusCreated {
		t.Fatalf("create onChat: %d %s", res.status, res.body)
	}
	b := newBrowser(t, 1280, 800)
	base := s.URL()
	signIn(b, base)
	open(b, base, "#/functions/onChat", "#tab-triggers")
	b.run("a user_registered trigger has no channel field",
		chromedp.Click("#tab-triggers", chromedp.ByQuery),
		setField("#add-trigger", "event"),
		chromedp.WaitVisible("#trigger-1-ev", chromedp.ByQuery),
		waitTrue(`document.querySelector("#trigger-1-chan").closest(".row").hidden`))
	b.run("chan_in narrowed to room:*",
		setField("#trigger-1-ev", "chan_in"),
		chromedp.WaitVisible("#trigger-1-chan", chromedp.ByQuery),
		setField("#trigger-1-chan", "room:*"),
		chromedp.Click("#save-triggers", chromedp.ByQuery),
		waitText("h1 .version", "v2"))
	fn := jsonOf(t, call(t, s, "GET", "/api/admin/functions/onChat", "", adminToken))["function"].(map[string]any)
	if got := fmt.Sprint(fn["triggers"]); got != "[map[invoke:true] map[channel:room:* event:chan_in]]" {
		t.Fatalf("saved triggers %s", got)
	}
	b.run("the list shows the channel",
		chromedp.Navigate(base+"/admin#/functions"),
		waitText("main table", "chan_in on room:*"))
	if errs := b.consoleErrors(); len(errs) > 0 {
		t.Fatalf("the page logged errors: %v", errs)
	}
}
