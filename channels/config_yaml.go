package channels

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Under `channels:` in config.yaml the keys of Config are settings and
// every other key is a channel pattern with its rule, as collections are
// listed under `collections:`:
//
//	channels:
//	  nats_url: nats://127.0.0.1:4222
//	  "room:*":
//	    send: member
//	    history: 100
//
// `rules:` holding the patterns one level down is read too, the form
// earlier configurations used. A key that is no setting must be a valid
// pattern holding a map of rule keys, so a misspelt setting fails loudly
// instead of becoming a channel.

// plainConfig is Config without its UnmarshalYAML, decoded strictly.
type plainConfig Config

// settingKeys are the yaml keys of Config's settings.
func settingKeys() map[string]bool {
	keys := map[string]bool{}
	t := reflect.TypeOf(Config{})
	for i := 0; i < t.NumField(); i++ {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if name != "" && name != "-" {
			keys[name] = true
		}
	}
	return keys
}

// UnmarshalYAML reads the `channels` section: settings by their keys,
// channel rules under any other key (see the comment above).
func (c *Config) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
			return nil
		}
		return fmt.Errorf("%w: channels: must be a map of settings and channel patterns", ErrInvalidConfig)
	}
	known := settingKeys()
	settings := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	patterns := map[string]Rule{}
	var order []string
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if known[k.Value] {
			settings.Content = append(settings.Content, k, v)
			continue
		}
		if err := checkPattern(k.Value); err != nil {
			return fmt.Errorf("%w: %s is neither a setting (%s) nor a channel pattern: %s",
				ErrInvalidConfig, k.Value, strings.Join(sortedKeys(known), ", "), err)
		}
		var r Rule
		if err := strictDecode(v, &r); err != nil {
			return fmt.Errorf("%w: %s: a channel pattern holds a rule (join, send, history, presence, max_message_bytes): %v", ErrInvalidConfig, k.Value, err)
		}
		if _, dup := patterns[k.Value]; dup {
			return fmt.Errorf("%w: %s is listed twice", ErrInvalidConfig, k.Value)
		}
		patterns[k.Value] = r
		order = append(order, k.Value)
	}
	// Settings not in the file keep what c had (the defaults).
	base := plainConfig(*c)
	base.Rules = nil
	if err := strictDecode(settings, &base); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidConfig, err)
	}
	rules := map[string]Rule{}
	for p, r := range c.Rules {
		rules[p] = r
	}
	for p, r := range base.Rules {
		rules[p] = r
	}
	for _, p := range order {
		if _, dup := base.Rules[p]; dup {
			return fmt.Errorf("%w: %s is listed both under channels and under channels.rules", ErrInvalidConfig, p)
		}
		rules[p] = patterns[p]
	}
	*c = Config(base)
	c.Rules = nil
	if len(rules) > 0 {
		c.Rules = rules
	}
	return nil
}

// strictDecode decodes n into out refusing keys out does not have (a
// yaml.Node's own Decode accepts them).
func strictDecode(n *yaml.Node, out any) error {
	raw, err := yaml.Marshal(n)
	if err != nil {
		return err
	}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(out); err != nil && !errors.Is(err, io.EOF) {
		var te *yaml.TypeError
		if errors.As(err, &te) {
			msgs := make([]string, len(te.Errors))
			for i, m := range te.Errors {
				// Lines are those of the re-encoded node, not the file's.
				_, m, _ = strings.Cut(m, ": ")
				msgs[i] = strings.Replace(m, "field ", "unknown key ", 1)
				msgs[i], _, _ = strings.Cut(msgs[i], " not found in type")
			}
			return errors.New(strings.Join(msgs, "; "))
		}
		return errors.New(strings.TrimPrefix(err.Error(), "yaml: "))
	}
	return nil
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
