package engine

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/moonbase-dev/moonbase/lua/functions"
	"go.mongodb.org/mongo-driver/bson"
)

// TestPatternFunctions checks the string library's pattern functions
// against what Lua 5.1 answers.
func TestPatternFunctions(t *testing.T) {
	t.Parallel()
	r := newTestRegistry(t, Config{}, Deps{})
	scenarios := []struct{ expr, want string }{
		{`("hello world"):find("o w")`, "5|7"},
		{`("hello"):find("l")`, "3|3"},
		{`("hello"):find("xyz")`, "nil"},
		{`("a.b"):find(".", 1, true)`, "2|2"},
		{`("hello"):find("", 10)`, "6|5"},
		{`("hello"):find("l", -2)`, "4|4"},
		{`("hello"):find("l+")`, "3|4"},
		{`("hello"):find("(l)(l)")`, "3|4|l|l"},
		{`("hello"):match("(h)(e)")`, "h|e"},
		{`("hello"):match("()ll()")`, "3|5"},
		{`("  trim me  "):match("^%s*(.-)%s*$")`, "trim me"},
		{`("key=value"):match("(%w+)=(%w+)")`, "key|value"},
		{`("2024-01-15"):match("(%d+)-(%d+)-(%d+)")`, "2024|01|15"},
		{`("THE (quick) fox"):find("%((%a+)%)")`, "5|11|quick"},
		{`("x[[y]]z"):match("%b[]")`, "[[y]]"},
		{`("THE (quick) fox"):gsub("%f[%a]%a+", "W")`, "W (W) W|3"},
		{`("hello world"):gsub("o", "0")`, "hell0 w0rld|2"},
		{`("hello world"):gsub("(%w+)", "<%1>")`, "<hello> <world>|2"},
		{`("hello world"):gsub("%w+", "%0 %0", 1)`, "hello hello world|1"},
		{`("abc"):gsub("%w", "%%")`, "%%%|3"},
		{`("abc"):gsub("", "-")`, "-a-b-c-|4"},
		{`("hello"):gsub("l", {l = "L"})`, "heLLo|2"},
		{`("hello"):gsub("l", function() return nil end)`, "hello|2"},
		{`("$name is $age"):gsub("%$(%w+)", {name = "Ann", age = 3})`, "Ann is 3|2"},
		{`("abc"):gsub("%w*", "x")`, "xx|2"},
		{`("hello"):gsub("^h", "H")`, "Hello|1"},
		{`("a,b,,c"):gsub(",", ";", 2)`, "a;b;,c|2"},
		{`("abc"):gsub("(b)()", "%2%1")`, "a3bc|1"},
		{`("aaa"):match("^(a-)a$")`, "aa"},
		{`([["hi" 'there']]):match("([\"'])(.-)%1")`, `"|hi`},
		{`("hello"):match(".-(l+)(.*)")`, "ll|o"},
		{`(" x"):find("^x")`, "nil"},
		{`("x^"):find("x^")`, "1|2"},
		{`("a$b"):find("$b")`, "2|3"},
		{`("a]b"):find("[%]]")`, "2|2"},
		{`("a]b"):find("[]]")`, "2|2"},
		{`("a-b"):find("[a%-]", 2)`, "2|2"},
		{`("b-"):find("[a-]")`, "2|2"},
		{`("a\0b"):find("%z")`, "2|2"},
		{`("Ab1_ "):gsub("[%u%d]", ".")`, ".b._ |2"},
		{`("x1y22z"):gsub("%D", "")`, "122|3"},
		{`("abc"):match("[^a]+")`, "bc"},
		{`("f(a(b)c)d"):match("%b()")`, "(a(b)c)"},
		{`(function() local t = {} for w in ("one two  three"):gmatch("%a+") do t[#t+1] = w end return table.concat(t, ",") end)()`, "one,two,three"},
		{`(function() local t = {} for k, v in ("a=1, b=2"):gmatch("(%w+)=(%w+)") do t[#t+1] = k .. v end return table.concat(t, ",") end)()`, "a1,b2"},
		{`(function() local n = 0 for _ in ("abc"):gmatch("") do n = n + 1 end return n end)()`, "4"},
		{`(function() local t = {} for p in ("ab"):gmatch("()") do t[#t+1] = p end return table.concat(t, ",") end)()`, "1,2,3"},
		{`("x"):find("%")`, "error: malformed pattern (ends with '%')"},
		{`("x"):find("[a")`, "error: malformed pattern (missing ']')"},
		{`("x"):match("(x")`, "error: unfinished capture"},
		{`("x"):find("x)")`, "error: invalid pattern capture"},
		{`("x"):gsub("x", "%2")`, "error: invalid capture index %2"},
		{`("x"):gsub("x", "%")`, "error: invalid use of '%' in replacement string"},
		{`("x"):match("%f")`, "error: missing '[' after '%f' in pattern"},
		{`("x"):match("%b")`, "error: malformed pattern (missing arguments to '%b')"},
		{`("x"):gsub("x", function() return {} end)`, "error: invalid replacement value (a table)"},
		{`("x"):match(string.rep("(", 33))`, "error: too many captures"},
		{`(string.rep("a", 300)):match(string.rep("a?", 300))`, "error: pattern too complex"},
	}
	var b strings.Builder
	b.WriteString("local function show(ok, ...)\n  if not ok then return 'error: ' .. tostring((...)):gsub('^[^:]*:%d+: ', '') end\n  local out = {}\n  for i = 1, select('#', ...) do out[i] = tostring((select(i, ...))) end\n  return table.concat(out, '|')\nend\nfunction handle()\n  local out = {}\n")
	for i, s := range scenarios {
		fmt.Fprintf(&b, "  out[%d] = show(pcall(function() return %s end))\n", i+1, s.expr)
	}
	b.WriteString("  return out\nend\n")
	res, err := runSource(t, r, b.String(), nil, RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got, ok := res.Value.(bson.A)
	if !ok || len(got) != len(scenarios) {
		t.Fatalf("got %d values for %d scenarios: %#v", len(got), len(scenarios), res.Value)
	}
	for i, s := range scenarios {
		if got[i] != s.want {
			t.Errorf("%s\n got: %v\nwant: %s", s.expr, got[i], s.want)
		}
	}
}

// TestPatternsStopAtTheTimeout runs patterns that backtrack for minutes
// and checks that each run ends at its timeout.
func TestPatternsStopAtTheTimeout(t *testing.T) {
	t.Parallel()
	const timeout = 300 * time.Millisecond
	r := newTestRegistry(t, Config{Timeout: timeout}, Deps{})
	body := "x" + strings.Repeat(" ", 40000) + "x"
	scenarios := []struct{ name, src string }{
		{"trim of a body", `function handle(input) return input.body:match("^%s*(.-)%s*$") end`},
		{"find with stars", `function handle() return string.rep('a', 5000):find(string.rep('a*', 5) .. 'b') end`},
		{"gsub", `function handle(input) return (input.body:gsub("%s+$", "")) end`},
		{"gmatch", `function handle(input) for w in input.body:gmatch("%s+y") do end return 1 end`},
		{"find in pcall", `function handle(input) while true do pcall(string.find, input.body, "x%s*%s*%s*y") end end`},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			_, err := r.Test(t.Context(), functions.Definition{Name: "t", Source: s.src}, map[string]any{"body": body}, RunOptions{})
			took := time.Since(start)
			if !errors.Is(err, ErrTimeout) {
				t.Fatalf("got %v, want ErrTimeout", err)
			}
			if took > timeout+time.Second {
				t.Errorf("the run took %s for a timeout of %s", took, timeout)
			}
		})
	}
}
