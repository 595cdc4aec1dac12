package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/moonbase-dev/moonbase/lua/functions"
)

// A functions folder holds one folder per function:
//
//	functions/
//	  trial-reminder/
//	    function.yaml   # name, entry, handler, triggers, timeout, retries, backoff
//	    main.lua
const (
	// defaultFunctionsDir is the folder deploy reads when given none.
	defaultFunctionsDir = "functions"
	functionFileName    = "function.yaml"
	defaultEntry        = "main.lua"
	// functionKeys and triggerKeys are the keys function.yaml knows; any
	// other is a typo the user should hear about, not a silent no-op.
	functionKeys = "name, entry, handler, triggers, timeout, retries, backoff"
	triggerKeys  = "invoke, http, methods, event, collection, channel, schedule, timezone"
	backoffKeys  = "initial, max"
)

// functionFile is function.yaml as written.
type functionFile struct {
	Name     string              `yaml:"name"`
	Entry    string              `yaml:"entry"`
	Handler  string              `yaml:"handler"`
	Triggers []functions.Trigger `yaml:"triggers"`
	Timeout  string              `yaml:"timeout"`
	Retries  *int                `yaml:"retries"`
	Backoff  *functions.Backoff  `yaml:"backoff"`
}

// folderError lists every problem found in a functions folder, each
// naming its file and, where it has one, its line.
type folderError struct {
	Dir      string
	Problems []string
}

func (e *folderError) Error() string { return strings.Join(e.Problems, "\n") }

// maxFolderDepth bounds how deep deploy looks for function folders, so a
// wrong DIR such as / fails quickly instead of walking the disk.
const maxFolderDepth = 6

// readFunctionsDir reads every function folder under dir, in name order: a
// folder with function.yaml is a function, named after the folder, read
// with its entry file; a folder with neither function.yaml nor Lua files
// may hold more function folders (a project's functions/ beside single
// functions, as in examples/). Hidden folders are passed over. It reads
// them all before failing, so one run shows every problem; the error is
// then a *folderError. The server checks the rest (Lua syntax, triggers,
// schedules, timeouts).
func readFunctionsDir(dir string) ([]functions.Definition, error) {
	if _, err := os.ReadDir(dir); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("functions folder %s does not exist (give another one: moonbase deploy DIR)", dir)
		}
		var pathErr *fs.PathError
		if errors.As(err, &pathErr) {
			err = pathErr.Err
		}
		return nil, fmt.Errorf("read functions folder %s: %w", dir, err)
	}
	r := &folderReader{where: map[string]string{}}
	r.read(dir, 0)
	if len(r.problems) > 0 {
		return nil, &folderError{Dir: dir, Problems: r.problems}
	}
	if len(r.defs) == 0 {
		return nil, fmt.Errorf("no functions in %s: each function is a folder %s with %s and %s",
			dir, filepath.Join(dir, "<name>")+string(filepath.Separator), functionFileName, defaultEntry)
	}
	return r.defs, nil
}

// folderReader collects the functions and problems of a folder tree.
type folderReader struct {
	defs     []functions.Definition
	problems []string
	where    map[string]string // function name → its folder
}

// read reads the function folders inside dir, depth folders below the one
// deploy was given.
func (r *folderReader) read(dir string, depth int) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		r.problems = append(r.problems, fmt.Sprintf("%s: %v", dir, err))
		return
	}
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		folder := filepath.Join(dir, e.Name())
		kind, err := folderKind(folder)
		switch {
		case err != nil:
			r.problems = append(r.problems, fmt.Sprintf("%s: %v", folder, err))
		case kind == holdsFunctions && depth+1 < maxFolderDepth:
			r.read(folder, depth+1)
		case kind == luaWithoutYAML:
			r.problems = append(r.problems, fmt.Sprintf("%s: no %s in this function folder", folder, functionFileName))
		case kind == isFunction:
			if first, dup := r.where[e.Name()]; dup {
				r.problems = append(r.problems, fmt.Sprintf("%s: a function named %s is already in %s; rename one of the folders", folder, e.Name(), first))
				continue
			}
			r.where[e.Name()] = folder
			def, errs := readFunctionFolder(dir, e.Name())
			if len(errs) > 0 {
				r.problems = append(r.problems, errs...)
				continue
			}
			r.defs = append(r.defs, def)
		}
	}
}

// What a folder under deploy's DIR is.
const (
	isFunction     = iota // it has function.yaml
	luaWithoutYAML        // Lua files but no function.yaml: a function missing its file
	holdsFunctions        // neither: it may hold function folders
)

func folderKind(folder string) (int, error) {
	entries, err := os.ReadDir(folder)
	if err != nil {
		return 0, err
	}
	kind := holdsFunctions
	for _, e := range entries {
		switch {
		case e.Name() == functionFileName:
			return isFunction, nil
		case !e.IsDir() && strings.HasSuffix(e.Name(), ".lua"):
			kind = luaWithoutYAML
		}
	}
	return kind, nil
}

// readFunctionFolder reads one function's folder; it returns every problem
// it finds.
func readFunctionFolder(dir, folder string) (functions.Definition, []string) {
	yamlPath := filepath.Join(dir, folder, functionFileName)
	data, err := os.ReadFile(yamlPath)
	if errors.Is(err, fs.ErrNotExist) {
		return functions.Definition{}, []string{fmt.Sprintf("%s: no %s in this function folder", filepath.Join(dir, folder), functionFileName)}
	}
	if err != nil {
		return functions.Definition{}, []string{fmt.Sprintf("%s: %v", yamlPath, err)}
	}
	ff, lines, problems := parseFunctionFile(data)
	for i, p := range problems {
		problems[i] = yamlPath + ": " + p
	}
	if len(problems) > 0 {
		return functions.Definition{}, problems
	}
	if ff.Name != "" && ff.Name != folder {
		problems = append(problems, fmt.Sprintf("%s: line %d: name %q does not match its folder %q; rename one of them (or leave name out)", yamlPath, lines["name"], ff.Name, folder))
	}
	entry := ff.Entry
	if entry == "" {
		entry = defaultEntry
	}
	var source []byte
	if !filepath.IsLocal(entry) {
		problems = append(problems, fmt.Sprintf("%s: line %d: entry %q must be a file inside %s", yamlPath, lines["entry"], entry, filepath.Join(dir, folder)))
	} else {
		entryPath := filepath.Join(dir, folder, entry)
		source, err = os.ReadFile(entryPath)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			problems = append(problems, fmt.Sprintf("%s: the entry file %s does not exist", yamlPath, entryPath))
		case err != nil:
			problems = append(problems, fmt.Sprintf("%s: %v", entryPath, err))
		}
	}
	if len(problems) > 0 {
		return functions.Definition{}, problems
	}
	def := functions.Definition{Name: folder, Source: string(source), Handler: ff.Handler, Triggers: ff.Triggers, Retries: ff.Retries, Backoff: ff.Backoff}
	if def.Triggers == nil {
		def.Triggers = []functions.Trigger{}
	}
	if ff.Timeout != "" {
		if err := def.Timeout.UnmarshalText([]byte(ff.Timeout)); err != nil {
			return functions.Definition{}, []string{fmt.Sprintf("%s: line %d: timeout %q is not a duration (write it like 10s, 1m30s or 250ms)", yamlPath, lines["timeout"], ff.Timeout)}
		}
	}
	return def, nil
}

// parseFunctionFile decodes function.yaml, refusing unknown keys and
// shapes it does not know, each problem prefixed with its line. lines gives
// the line of each top-level key, for later messages.
func parseFunctionFile(data []byte) (functionFile, map[string]int, []string) {
	var ff functionFile
	lines := map[string]int{}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return ff, lines, []string{strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return ff, lines, nil // an empty file: every default
	}
	root := doc.Content[0]
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return ff, lines, nil
	}
	if root.Kind != yaml.MappingNode {
		return ff, lines, []string{fmt.Sprintf("line %d: expected keys such as name and triggers, found %s", root.Line, nodeKind(root))}
	}
	var problems []string
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		lines[k.Value] = k.Line
		if !knownKey(functionKeys, k.Value) {
			problems = append(problems, fmt.Sprintf("line %d: unknown key %q (function.yaml knows %s)", k.Line, k.Value, functionKeys))
			continue
		}
		switch k.Value {
		case "triggers":
			problems = append(problems, checkTriggers(v)...)
		case "backoff":
			problems = append(problems, checkBackoff(v)...)
		}
	}
	if len(problems) > 0 {
		return ff, lines, problems
	}
	if err := root.Decode(&ff); err != nil {
		var te *yaml.TypeError
		if errors.As(err, &te) {
			return ff, lines, te.Errors
		}
		return ff, lines, []string{strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	return ff, lines, nil
}

// checkTriggers checks that triggers is a list of mappings with known keys.
func checkTriggers(v *yaml.Node) []string {
	if v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
		return nil
	}
	if v.Kind != yaml.SequenceNode {
		return []string{fmt.Sprintf("line %d: triggers must be a list (each item starting with -), found %s", v.Line, nodeKind(v))}
	}
	var problems []string
	for _, t := range v.Content {
		if t.Kind != yaml.MappingNode {
			problems = append(problems, fmt.Sprintf("line %d: a trigger has keys, such as \"invoke: true\" or \"event: user_registered\"; found %s", t.Line, nodeKind(t)))
			continue
		}
		for i := 0; i+1 < len(t.Content); i += 2 {
			if k := t.Content[i]; !knownKey(triggerKeys, k.Value) {
				problems = append(problems, fmt.Sprintf("line %d: unknown trigger key %q (a trigger knows %s)", k.Line, k.Value, triggerKeys))
			}
		}
	}
	return problems
}

// checkBackoff checks that backoff is a mapping of initial and max; the
// server checks their values.
func checkBackoff(v *yaml.Node) []string {
	if v.Kind != yaml.MappingNode {
		return []string{fmt.Sprintf("line %d: backoff has keys, as in \"backoff: {initial: 60s, max: 24h}\"; found %s", v.Line, nodeKind(v))}
	}
	var problems []string
	for i := 0; i+1 < len(v.Content); i += 2 {
		if k := v.Content[i]; !knownKey(backoffKeys, k.Value) {
			problems = append(problems, fmt.Sprintf("line %d: unknown backoff key %q (backoff knows %s)", k.Line, k.Value, backoffKeys))
		}
	}
	return problems
}

func knownKey(keys, k string) bool { return slices.Contains(strings.Split(keys, ", "), k) }

// nodeKind names a YAML node's shape for a message.
func nodeKind(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "keys"
	case yaml.AliasNode:
		return "an alias"
	}
	return fmt.Sprintf("the value %q", n.Value)
}
