package server

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// EnvPrefix starts the name of every environment variable that overrides a
// configuration key.
const EnvPrefix = "MOONBASE_"

// LoadConfig builds the configuration in three layers: DefaultConfig, then
// the YAML file at path, then environment variables from env (in
// os.Environ's "KEY=value" form). A missing file is no error unless
// required (an explicit --config). Unknown keys in the file are an error.
// Every scalar key has a variable named after its path: server.addr is
// MOONBASE_SERVER_ADDR, data_dir is MOONBASE_DATA_DIR; lists take
// comma-separated values, durations Go's syntax (15m, 36h). The result is
// validated.
func LoadConfig(path string, required bool, env []string) (Config, error) {
	cfg := DefaultConfig()
	raw, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist) && !required:
	case err != nil:
		return Config{}, fmt.Errorf("%w: %s: %v", ErrConfig, path, unwrapPathError(err))
	default:
		if err := decodeYAML(raw, &cfg); err != nil {
			return Config{}, fmt.Errorf("%w: %s: %v", ErrConfig, path, err)
		}
	}
	if err := applyEnv(&cfg, env); err != nil {
		return Config{}, err
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// decodeYAML decodes raw over cfg, refusing unknown keys. An empty file
// changes nothing.
func decodeYAML(raw []byte, cfg *Config) error {
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil && !errors.Is(err, io.EOF) {
		return yamlError(err)
	}
	return nil
}

var yamlUnknownField = regexp.MustCompile(`field (\S+) not found in type \S+`)

// yamlError turns yaml.v3's multi-line errors into one readable line.
func yamlError(err error) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return errors.New(strings.TrimPrefix(err.Error(), "yaml: "))
	}
	msgs := make([]string, len(te.Errors))
	for i, m := range te.Errors {
		msgs[i] = yamlUnknownField.ReplaceAllString(m, "unknown key $1")
	}
	return errors.New(strings.Join(msgs, "; "))
}

// configKey is one scalar (or list-of-strings) setting of a Config.
type configKey struct {
	path  string // dotted yaml path, e.g. "server.addr"
	value reflect.Value
}

// EnvName is the environment variable that overrides the key at path.
func EnvName(path string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(path, ".", "_"))
}

// configKeys lists the settable keys under v. Maps (collections) have no
// fixed key names and are left to the file.
func configKeys(v reflect.Value, prefix string) []configKey {
	var keys []configKey
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name) // yaml.v3's default
		}
		path := name
		if prefix != "" {
			path = prefix + "." + name
		}
		fv := v.Field(i)
		switch {
		case f.Type == reflect.TypeOf(time.Duration(0)):
			keys = append(keys, configKey{path, fv})
		case f.Type.Kind() == reflect.Struct:
			keys = append(keys, configKeys(fv, path)...)
		case f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() == reflect.String:
			keys = append(keys, configKey{path, fv})
		case f.Type.Kind() == reflect.Map || f.Type.Kind() == reflect.Slice:
		default:
			keys = append(keys, configKey{path, fv})
		}
	}
	return keys
}

// applyEnv sets every key whose MOONBASE_ variable is present in env.
func applyEnv(cfg *Config, env []string) error {
	vars := map[string]string{}
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, EnvPrefix) {
			vars[k] = v
		}
	}
	if len(vars) == 0 {
		return nil
	}
	for _, key := range configKeys(reflect.ValueOf(cfg).Elem(), "") {
		name := EnvName(key.path)
		s, ok := vars[name]
		if !ok {
			continue
		}
		if err := setFromString(key.value, s); err != nil {
			return fmt.Errorf("%w: %s (%s): %v", ErrConfig, name, key.path, err)
		}
	}
	return nil
}

func setFromString(v reflect.Value, s string) error {
	if v.Type() == reflect.TypeOf(time.Duration(0)) {
		d, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("%q is not a duration such as 30s or 15m", s)
		}
		v.SetInt(int64(d))
		return nil
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return fmt.Errorf("%q is not true or false", s)
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(s, 10, v.Type().Bits())
		if err != nil {
			return fmt.Errorf("%q is not a whole number", s)
		}
		v.SetInt(n)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, err := strconv.ParseUint(s, 10, v.Type().Bits())
		if err != nil {
			return fmt.Errorf("%q is not a whole number", s)
		}
		v.SetUint(n)
	case reflect.Float32, reflect.Float64:
		n, err := strconv.ParseFloat(s, v.Type().Bits())
		if err != nil {
			return fmt.Errorf("%q is not a number", s)
		}
		v.SetFloat(n)
	case reflect.Slice:
		list := reflect.MakeSlice(v.Type(), 0, 0)
		for _, part := range strings.Split(s, ",") {
			if part = strings.TrimSpace(part); part != "" {
				list = reflect.Append(list, reflect.ValueOf(part).Convert(v.Type().Elem()))
			}
		}
		v.Set(list)
	default:
		return fmt.Errorf("cannot be set from the environment")
	}
	return nil
}
