package cli

import (
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/moonbase-dev/moonbase/lua/functions"
)

func TestReadFunctionsDirValid(t *testing.T) {
	t.Parallel()
	dir := writeTree(t, map[string]string{
		"trial-reminder/function.yaml": `name: trial-reminder
triggers:
  - schedule: "daily at 09:00"
    timezone: Europe/Paris
  - event: doc_created
    collection: orders
  - invoke: true
  - http: true
timeout: 30s
retries: 7
backoff:
  initial: 60s
  max: 24h
`,
		"trial-reminder/main.lua": "function handle(input, ctx) return 1 end\n",
		"chat/function.yaml":      "handler: onChatMessage\nentry: chat.lua\ntriggers:\n  - event: chan_in\n",
		"chat/chat.lua":           "function onChatMessage(event) end\n",
		"empty/function.yaml":     "",
		"empty/main.lua":          "function handle() end\n",
		"README.md":               "files beside the folders are ignored",
		".git/config":             "hidden folders are ignored",
	})
	defs, err := readFunctionsDir(dir)
	if err != nil {
		t.Fatalf("readFunctionsDir: %v", err)
	}
	seven := 7
	want := []functions.Definition{
		{Name: "chat", Source: "function onChatMessage(event) end\n", Handler: "onChatMessage", Triggers: []functions.Trigger{{Event: "chan_in"}}},
		{Name: "empty", Source: "function handle() end\n", Triggers: []functions.Trigger{}},
		{Name: "trial-reminder", Source: "function handle(input, ctx) return 1 end\n", Timeout: functions.Duration(30 * time.Second), Retries: &seven, Backoff: &functions.Backoff{Initial: functions.Duration(time.Minute), Max: functions.Duration(24 * time.Hour)}, Triggers: []functions.Trigger{
			{Schedule: "daily at 09:00", Timezone: "Europe/Paris"},
			{Event: "doc_created", Collection: "orders"},
			{Invoke: true},
			{HTTP: true},
		}},
	}
	if !reflect.DeepEqual(defs, want) {
		t.Errorf("definitions\n got %+v\nwant %+v", defs, want)
	}
}

func TestReadFunctionsDirProblems(t *testing.T) {
	t.Parallel()
	scenarios := []struct {
		name  string
		files map[string]string
		want  []string // problems, with {dir} for the folder
	}{
		{
			name: "broken yaml",
			files: map[string]string{
				"hello/function.yaml": "name: hello\ntimeout: 10s\n  retries: 2\n",
				"hello/main.lua":      "function handle() end",
			},
			want: []string{"{dir}/hello/function.yaml: line 3: mapping values are not allowed in this context"},
		},
		{
			name: "unknown key",
			files: map[string]string{
				"hello/function.yaml": "name: hello\ntrigers:\n  - invoke: true\n",
				"hello/main.lua":      "function handle() end",
			},
			want: []string{`{dir}/hello/function.yaml: line 2: unknown key "trigers" (function.yaml knows name, entry, handler, triggers, timeout, retries, backoff)`},
		},
		{
			name: "unknown trigger key",
			files: map[string]string{
				"hello/function.yaml": "triggers:\n  - event: doc_created\n    colection: orders\n",
				"hello/main.lua":      "function handle() end",
			},
			want: []string{`{dir}/hello/function.yaml: line 3: unknown trigger key "colection" (a trigger knows invoke, http, methods, event, collection, channel, schedule, timezone)`},
		},
		{
			name: "trigger that is not a mapping",
			files: map[string]string{
				"hello/function.yaml": "triggers:\n  - invoke\n",
				"hello/main.lua":      "function handle() end",
			},
			want: []string{`{dir}/hello/function.yaml: line 2: a trigger has keys, such as "invoke: true" or "event: user_registered"; found the value "invoke"`},
		},
		{
			name: "triggers that are not a list",
			files: map[string]string{
				"hello/function.yaml": "triggers:\n  invoke: true\n",
				"hello/main.lua":      "function handle() end",
			},
			want: []string{`{dir}/hello/function.yaml: line 2: triggers must be a list (each item starting with -), found keys`},
		},
		{
			name: "backoff not a mapping",
			files: map[string]string{
				"hello/function.yaml": "retries: 3\nbackoff: 60s\n",
				"hello/main.lua":      "function handle() end",
			},
			want: []string{`{dir}/hello/function.yaml: line 2: backoff has keys, as in "backoff: {initial: 60s, max: 24h}"; found the value "60s"`},
		},
		{
			name: "unknown backoff key",
			files: map[string]string{
				"hello/function.yaml": "backoff:\n  initial: 1s\n  maximum: 1h\n",
				"hello/main.lua":      "function handle() end",
			},
			want: []string{`{dir}/hello/function.yaml: line 3: unknown backoff key "maximum" (backoff knows initial, max)`},
		},
		{
			name: "wrong type",
			files: map[string]string{
				"hello/function.yaml": "retries: three\n",
				"hello/main.lua":      "function handle() end",
			},
			want: []string{"{dir}/hello/function.yaml: line 1: cannot unmarshal !!str `three` into int"},
		},
		{
			name: "key given twice",
			files: map[string]string{
				"hello/function.yaml": "handler: a\nretries: 1\nhandler: b\n",
				"hello/main.lua":      "function handle() end",
			},
			want: []string{`{dir}/hello/function.yaml: line 3: mapping key "handler" already defined at line 1`},
		},
		{
			name: "not a mapping",
			files: map[string]string{
				"hello/function.yaml": "- invoke: true\n",
				"hello/main.lua":      "function handle() end",
			},
			want: []string{"{dir}/hello/function.yaml: line 1: expected keys such as name and triggers, found a list"},
		},
		{
			name: "missing entry file",
			files: map[string]string{
				"hello/function.yaml": "entry: hello.lua\n",
				"hello/main.lua":      "function handle() end",
			},
			want: []string{"{dir}/hello/function.yaml: the entry file {dir}/hello/hello.lua does not exist"},
		},
		{
			name: "missing default entry file",
			files: map[string]string{
				"hello/function.yaml": "triggers: []\n",
			},
			want: []string{"{dir}/hello/function.yaml: the entry file {dir}/hello/main.lua does not exist"},
		},
		{
			name: "entry outside the folder",
			files: map[string]string{
				"hello/function.yaml": "entry: ../other/main.lua\n",
				"other/function.yaml": "",
				"other/main.lua":      "function handle() end",
			},
			want: []string{`{dir}/hello/function.yaml: line 1: entry "../other/main.lua" must be a file inside {dir}/hello`},
		},
		{
			name: "name mismatch",
			files: map[string]string{
				"hello/function.yaml": "triggers: []\nname: goodbye\n",
				"hello/main.lua":      "function handle() end",
			},
			want: []string{`{dir}/hello/function.yaml: line 2: name "goodbye" does not match its folder "hello"; rename one of them (or leave name out)`},
		},
		{
			name: "no function.yaml",
			files: map[string]string{
				"hello/main.lua": "function handle() end",
			},
			want: []string{"{dir}/hello: no function.yaml in this function folder"},
		},
		{
			name: "every problem of every function",
			files: map[string]string{
				"a/function.yaml":  "nme: a\n",
				"a/main.lua":       "function handle() end",
				"b/function.yaml":  "name: c\nentry: b.lua\n",
				"ok/function.yaml": "",
				"ok/main.lua":      "function handle() end",
			},
			want: []string{
				`{dir}/a/function.yaml: line 1: unknown key "nme" (function.yaml knows name, entry, handler, triggers, timeout, retries, backoff)`,
				`{dir}/b/function.yaml: line 1: name "c" does not match its folder "b"; rename one of them (or leave name out)`,
				"{dir}/b/function.yaml: the entry file {dir}/b/b.lua does not exist",
			},
		},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			dir := writeTree(t, s.files)
			defs, err := readFunctionsDir(dir)
			var fe *folderError
			if !errors.As(err, &fe) {
				t.Fatalf("got %v, %v; want a *folderError", defs, err)
			}
			want := make([]string, len(s.want))
			for i, w := range s.want {
				want[i] = filepath.FromSlash(strings.ReplaceAll(w, "{dir}", filepath.ToSlash(dir)))
			}
			if !reflect.DeepEqual(fe.Problems, want) {
				t.Errorf("problems\n got %q\nwant %q", fe.Problems, want)
			}
		})
	}
}

func TestReadFunctionsDirFolder(t *testing.T) {
	t.Parallel()
	empty := t.TempDir()
	missing := filepath.Join(empty, "nope")
	scenarios := []struct {
		dir, want string
	}{
		{missing, "functions folder " + missing + " does not exist (give another one: moonbase deploy DIR)"},
		{empty, "no functions in " + empty + ": each function is a folder " + filepath.Join(empty, "<name>") + "/ with function.yaml and main.lua"},
	}
	for _, s := range scenarios {
		_, err := readFunctionsDir(s.dir)
		if err == nil || err.Error() != s.want {
			t.Errorf("readFunctionsDir(%s) = %v\nwant %s", s.dir, err, s.want)
		}
	}
}

// TestReadFunctionsDirNested: a folder without function.yaml and without
// Lua files holds more function folders, as examples/ holds a project's
// functions/ beside single functions.
func TestReadFunctionsDirNested(t *testing.T) {
	t.Parallel()
	dir := writeTree(t, map[string]string{
		"alpha/function.yaml":                  "triggers:\n  - invoke: true\n",
		"alpha/main.lua":                       "function handle() return 'a' end\n",
		"alpha/testdata/x/function.yaml":       "a function folder's own folders are its files, not functions",
		"project/functions/beta/function.yaml": "",
		"project/functions/beta/main.lua":      "function handle() return 'b' end\n",
		"project/README.md":                    "not a function",
		"docs/notes.md":                        "a folder with no function in it is passed over",
	})
	defs, err := readFunctionsDir(dir)
	if err != nil {
		t.Fatalf("readFunctionsDir: %v", err)
	}
	var names []string
	for _, d := range defs {
		names = append(names, d.Name)
	}
	if want := []string{"alpha", "beta"}; !reflect.DeepEqual(names, want) {
		t.Errorf("functions %q, want %q", names, want)
	}

	dup := writeTree(t, map[string]string{
		"hello/function.yaml":      "",
		"hello/main.lua":           "function handle() end\n",
		"more/hello/function.yaml": "",
		"more/hello/main.lua":      "function handle() end\n",
	})
	_, err = readFunctionsDir(dup)
	var fe *folderError
	want := []string{filepath.Join(dup, "more", "hello") + ": a function named hello is already in " + filepath.Join(dup, "hello") + "; rename one of the folders"}
	if !errors.As(err, &fe) || !reflect.DeepEqual(fe.Problems, want) {
		t.Errorf("two folders of the same name: %v\nwant %q", err, want)
	}
}
