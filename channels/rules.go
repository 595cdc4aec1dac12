package channels

import (
	"fmt"
	"strings"
)

// MaxNameLen caps the length of a channel's name.
const MaxNameLen = 200

// nameByte reports whether c may appear in a channel name: letters,
// digits and _ - : . @ / = +.
func nameByte(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("_-:.@/=+", c) >= 0
}

// ValidateName checks a channel name: 1 to 200 letters, digits or
// _ - : . @ / = +. The error wraps ErrInvalidChannel.
func ValidateName(name string) error {
	if name == "" {
		return fmt.Errorf("%w: the channel is empty", ErrInvalidChannel)
	}
	if len(name) > MaxNameLen {
		return fmt.Errorf("%w: longer than %d characters", ErrInvalidChannel, MaxNameLen)
	}
	for i := 0; i < len(name); i++ {
		if !nameByte(name[i]) {
			return fmt.Errorf("%w: %q: use letters, digits and _ - : . @ / = +", ErrInvalidChannel, name)
		}
	}
	return nil
}

func validPrefix(p string) bool {
	for i := 0; i < len(p); i++ {
		if !nameByte(p[i]) {
			return false
		}
	}
	return len(p) < MaxNameLen
}

// rules resolves a channel's rule from the configured patterns.
type rules struct {
	exact    map[string]Rule
	prefixes []prefixRule // longest first
	user     Rule
}

type prefixRule struct {
	prefix string
	rule   Rule
}

func newRules(cfg map[string]Rule) rules {
	r := rules{exact: map[string]Rule{}, user: Rule{}.withDefaults(true)}
	for p, rule := range cfg {
		switch {
		case p == UserPattern:
			r.user = rule.withDefaults(true)
		case strings.HasSuffix(p, "*"):
			r.prefixes = append(r.prefixes, prefixRule{strings.TrimSuffix(p, "*"), rule.withDefaults(false)})
		default:
			r.exact[p] = rule.withDefaults(false)
		}
	}
	// Longest prefix first, so the most specific pattern wins.
	for i := 1; i < len(r.prefixes); i++ {
		for j := i; j > 0 && len(r.prefixes[j].prefix) > len(r.prefixes[j-1].prefix); j-- {
			r.prefixes[j], r.prefixes[j-1] = r.prefixes[j-1], r.prefixes[j]
		}
	}
	return r
}

// userChannelPrefix starts every private user channel.
const userChannelPrefix = "user:"

// privateOwner returns the user id a user:{user} channel belongs to.
func privateOwner(channel string) (string, bool) {
	if id, ok := strings.CutPrefix(channel, userChannelPrefix); ok && id != "" {
		return id, true
	}
	return "", false
}

// match returns the rule of channel: an exact pattern, else the longest
// matching prefix, else user:{user} for user: channels, else the default.
func (r rules) match(channel string) Rule {
	if rule, ok := r.exact[channel]; ok {
		return rule
	}
	if _, private := privateOwner(channel); private {
		return r.user
	}
	for _, p := range r.prefixes {
		if strings.HasPrefix(channel, p.prefix) {
			return p.rule
		}
	}
	return Rule{}.withDefaults(false)
}

// allowed checks level (a Join or Send rule) for user on channel. A
// private user channel admits its owner only, whatever else the rule says
// (unless it is none).
func allowed(level, channel string, user *User) error {
	if level == None {
		return fmt.Errorf("%w: clients may not do that on %s", ErrForbidden, channel)
	}
	if owner, private := privateOwner(channel); private {
		if user == nil {
			return fmt.Errorf("%w: %s is a private channel", ErrUnauthenticated, channel)
		}
		if user.ID != owner {
			return fmt.Errorf("%w: %s is another user's private channel", ErrForbidden, channel)
		}
		return nil
	}
	if level != Public && user == nil {
		return fmt.Errorf("%w: %s needs a signed-in user", ErrUnauthenticated, channel)
	}
	return nil
}
