package engine

import (
	"context"
	"errors"
	"reflect"
	"regexp"
	"sync"
	"testing"

	"github.com/moonbase-dev/moonbase/lua/functions"
	"go.mongodb.org/mongo-driver/bson"
)

func TestOnceLetsOneRunWin(t *testing.T) {
	t.Parallel()
	r := newTestRegistry(t, Config{}, Deps{})
	ctx := context.Background()
	mustSave(t, r, functions.Definition{Name: "webhook", Source: `function handle(input) return backend.once("stripe:" .. input.id) end`})
	var wg sync.WaitGroup
	wins := make(chan bool, 16)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := r.Run(ctx, "webhook", map[string]any{"id": "evt_1"}, RunOptions{Trigger: functions.TriggerEvent})
			if err != nil {
				t.Error(err)
				return
			}
			wins <- res.Value.(bool)
		}()
	}
	wg.Wait()
	close(wins)
	n := 0
	for w := range wins {
		if w {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d runs saw the key first", n)
	}
	if got := runErr(t, r, `function handle() backend.once("") end`); got != `function "t" failed at line 1: backend.once: the key must be 1 to 512 bytes` {
		t.Errorf("empty key: %s", got)
	}
}

func TestSecrets(t *testing.T) {
	t.Parallel()
	r := newTestRegistry(t, Config{}, Deps{})
	ctx := context.Background()
	read := func() any {
		t.Helper()
		res, err := runSource(t, r, `function handle() return {backend.env("STRIPE_KEY") or "none", backend.env("OTHER") or "none"} end`, nil, RunOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return res.Value
	}
	if got := read(); !reflect.DeepEqual(got, bson.A{"none", "none"}) {
		t.Fatalf("before: %v", got)
	}
	for name, val := range map[string]string{"STRIPE_KEY": "sk_1", "OTHER": "x", "a.b-c": "y"} {
		if err := r.SetSecret(ctx, name, val); err != nil {
			t.Fatal(err)
		}
	}
	if got := read(); !reflect.DeepEqual(got, bson.A{"sk_1", "x"}) {
		t.Fatalf("after set: %v", got)
	}
	if err := r.SetSecret(ctx, "STRIPE_KEY", "sk_2"); err != nil {
		t.Fatal(err)
	}
	if err := r.DeleteSecret(ctx, "OTHER"); err != nil {
		t.Fatal(err)
	}
	if got := read(); !reflect.DeepEqual(got, bson.A{"sk_2", "none"}) {
		t.Fatalf("after change: %v", got)
	}
	names, err := r.SecretNames(ctx)
	if err != nil || !reflect.DeepEqual(names, []string{"STRIPE_KEY", "a.b-c"}) {
		t.Fatalf("names %v %v", names, err)
	}
	if err := r.DeleteSecret(ctx, "OTHER"); !errors.Is(err, functions.ErrSecretNotFound) || err.Error() != `secret not found: "OTHER"` {
		t.Errorf("deleting a missing secret: %v", err)
	}
	if err := r.SetSecret(ctx, "no spaces", "x"); !errors.Is(err, functions.ErrInvalidSecret) ||
		err.Error() != `invalid secret: secret name "no spaces": use 1-128 letters, digits, _, . or -, starting with a letter or _` {
		t.Errorf("bad name: %v", err)
	}
}

func TestCodecsAndCrypto(t *testing.T) {
	t.Parallel()
	r := newTestRegistry(t, Config{}, Deps{})
	scenarios := []struct{ name, expr, want string }{
		// RFC 4231, test case 2.
		{"hmac sha256", `backend.crypto.hmac("sha256", "Jefe", "what do ya want for nothing?")`, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
		{"hmac sha1", `backend.crypto.hmac("sha1", "key", "The quick brown fox jumps over the lazy dog")`, "de7c9b85b8b78aa6bc8a7a36f70a90701c9db4d9"},
		{"hmac sha512 base64", `backend.crypto.hmac("sha512", "Jefe", "what do ya want for nothing?", "base64")`,
			"Fkt6e/z4GeLjlfvnO1bgo4e9ZCIugx/WECcM1+olBVSXWL91wFqZSm0DT2X48Ob9yuqxo01Ka0tjbgcKOLznNw=="},
		{"hmac raw is bytes", `#backend.crypto.hmac("sha256", "k", "m", "raw")`, "32"},
		{"sha256", `backend.crypto.sha256("abc")`, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
		{"sha256 base64url", `backend.crypto.sha256("abc", "base64url")`, "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0"},
		{"hash sha1", `backend.crypto.hash("sha1", "abc")`, "a9993e364706816aba3e25717850c26c9cd0d89d"},
		{"hash md5", `backend.crypto.hash("md5", "abc")`, "900150983cd24fb0d6963f7d28e17f72"},
		{"random bytes", `#backend.crypto.randomBytes(16)`, "16"},
		{"random hex", `#backend.crypto.randomBytes(16, "hex")`, "32"},
		{"equal", `tostring(backend.crypto.equal("abc", "abc")) .. tostring(backend.crypto.equal("abc", "abd"))`, "truefalse"},
		{"base64", `backend.base64.encode("hi?>")`, "aGk/Pg=="},
		{"base64 url", `backend.base64.urlEncode("hi?>")`, "aGk_Pg"},
		{"base64 decode", `backend.base64.decode("aGk/Pg==") .. backend.base64.decode("aGk/Pg")`, "hi?>hi?>"},
		{"base64 url decode", `backend.base64.urlDecode("aGk_Pg") .. backend.base64.urlDecode("aGk_Pg==")`, "hi?>hi?>"},
		{"hex", `backend.hex.encode("\0\255") .. backend.hex.decode("6869")`, "00ffhi"},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			res, err := runSource(t, r, "function handle() return tostring("+s.expr+") end", nil, RunOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if res.Value != s.want {
				t.Errorf("got %v, want %s", res.Value, s.want)
			}
		})
	}
	res, err := runSource(t, r, `function handle() return backend.crypto.uuid() end`, nil, RunOptions{})
	if err != nil || !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(res.Value.(string)) {
		t.Errorf("uuid %v %v", res.Value, err)
	}
	for expr, want := range map[string]string{
		`backend.crypto.hmac("sha3", "k", "m")`:   `backend.crypto.hmac: unknown algorithm "sha3" (use sha1, sha256, sha384, sha512 or md5)`,
		`backend.crypto.sha256("m", "base32")`:    `backend.crypto.sha256: unknown encoding "base32" (use hex, base64, base64url or raw)`,
		`backend.base64.decode("@@@")`:            `backend.base64.decode: illegal base64 data at input byte 0`,
		`backend.hex.decode("xyz")`:               `backend.hex.decode: encoding/hex: invalid byte: U+0078 'x'`,
		`backend.crypto.hmac("sha256", nil, "m")`: `bad argument #2 to hmac (string expected, got nil)`,
	} {
		_, err := runSource(t, r, "function handle() return "+expr+" end", nil, RunOptions{})
		re, ok := err.(*RunError)
		if !ok || re.Message != want {
			t.Errorf("%s\n got: %v\nwant: %s", expr, err, want)
		}
	}
}

func TestEventsAndEmail(t *testing.T) {
	t.Parallel()
	type sent struct {
		to      []string
		subject string
		body    map[string]any
	}
	var mu sync.Mutex
	var events []string
	var mails []sent
	r := newTestRegistry(t, Config{}, Deps{
		Publish: func(ctx context.Context, name string, data map[string]any) (string, error) {
			mu.Lock()
			defer mu.Unlock()
			if name == "bad" {
				return "", errors.New("event names may not be bad")
			}
			events = append(events, name+":"+data["orderId"].(string))
			return "ev1", nil
		},
		SendEmail: func(ctx context.Context, to []string, subject string, body map[string]any) (string, error) {
			mu.Lock()
			defer mu.Unlock()
			mails = append(mails, sent{to, subject, body})
			return "m1", nil
		},
	})
	res, err := runSource(t, r, `function handle()
  return {
    backend.publishEvent("order_placed", {orderId = "123"}),
    backend.sendEmail("ada@example.com", "Welcome!", "Hello Ada"),
    backend.sendEmail("bob@example.com", "Report", {html = "<b>hi</b>", from = "noreply@example.com"}),
    backend.sendEmail(" carol@example.com ", "Your trial is ending"),
    backend.sendEmail({"ada@example.com", "bob@example.com"}, "Team news", "Hello both"),
  }
end`, nil, RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(res.Value, bson.A{"ev1", "m1", "m1", "m1", "m1"}) {
		t.Errorf("ids %v", res.Value)
	}
	wantMails := []sent{
		{[]string{"ada@example.com"}, "Welcome!", map[string]any{"text": "Hello Ada"}},
		{[]string{"bob@example.com"}, "Report", map[string]any{"html": "<b>hi</b>", "from": "noreply@example.com"}},
		{[]string{"carol@example.com"}, "Your trial is ending", map[string]any{"text": "Your trial is ending"}},
		{[]string{"ada@example.com", "bob@example.com"}, "Team news", map[string]any{"text": "Hello both"}},
	}
	if !reflect.DeepEqual(events, []string{"order_placed:123"}) || !reflect.DeepEqual(mails, wantMails) {
		t.Errorf("events %v mails %+v", events, mails)
	}
	bare := newTestRegistry(t, Config{}, Deps{})
	for _, s := range []struct {
		r          *Registry
		expr, want string
	}{
		{bare, `backend.publishEvent("x")`, `backend.publishEvent: events are not set up on this server`},
		{bare, `backend.sendEmail("a@b.c", "s", "t")`, `backend.sendEmail: email is not set up on this server`},
		{r, `backend.publishEvent("bad", {orderId = "1"})`, `backend.publishEvent: event names may not be bad`},
		{r, `backend.sendEmail("nobody", "s", "t")`, `backend.sendEmail: "nobody" is not an email address; to is an email address or a list of them, such as {"a@example.com", "b@example.com"}`},
		{r, `backend.sendEmail({"a@b.c", "nobody"}, "s")`, `backend.sendEmail: "nobody" is not an email address; to is an email address or a list of them, such as {"a@example.com", "b@example.com"}`},
		{r, `backend.sendEmail({}, "s")`, `bad argument #1 to sendEmail (to is an empty list; it must be an email address or a list of them, such as {"a@example.com", "b@example.com"})`},
		{r, `backend.sendEmail({"a@b.c", 5}, "s")`, `bad argument #1 to sendEmail (to must be an email address or a list of them, such as {"a@example.com", "b@example.com"}, got number inside it)`},
		{r, `backend.sendEmail(nil, "s")`, `bad argument #1 to sendEmail (to must be an email address or a list of them, such as {"a@example.com", "b@example.com"}, got nil)`},
		{r, `backend.sendEmail("a@b.c")`, `bad argument #2 to sendEmail (subject expected: a string, got nil)`},
		{r, `backend.sendEmail("a@b.c", "s", 5)`, `bad argument #3 to sendEmail (text, {text, html, from, reply_to} or nothing (the subject is then the text) expected, got number)`},
		{r, `backend.sendEmail("a@b.c", "s", {body = "t"})`, `backend.sendEmail: unknown field "body" (use text, html, from, reply_to)`},
	} {
		_, err := runSource(t, s.r, "function handle() return "+s.expr+" end", nil, RunOptions{})
		re, ok := err.(*RunError)
		if !ok || re.Message != s.want {
			t.Errorf("%s\n got: %v\nwant: %s", s.expr, err, s.want)
		}
	}
}

func TestLogs(t *testing.T) {
	t.Parallel()
	r := newTestRegistry(t, Config{}, Deps{})
	res, err := runSource(t, r, `function handle()
  print("a", 1, nil, {x = 1}, backend.date(0))
  backend.log.info("info", {list = {1, 2}})
  backend.log.warn("careful")
  backend.log.error("bad", print)
end`, nil, RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range res.Logs {
		got = append(got, l.Level+": "+l.Message)
	}
	want := []string{
		"print: a\t1\tnil\t{\"x\":1}\t1970-01-01T00:00:00.000Z",
		"info: info {\"list\":[1,2]}",
		"warn: careful",
	}
	if len(got) != 4 || !reflect.DeepEqual(got[:3], want) || !regexp.MustCompile(`^error: bad function: 0x[0-9a-f]+$`).MatchString(got[3]) {
		t.Errorf("got %q", got)
	}
}
