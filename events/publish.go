package events

import (
	"encoding/json"
	"fmt"
	"regexp"
)

// MaxEventNameLen caps the length of a custom event's name.
const MaxEventNameLen = 100

var eventName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_.:-]*$`)

// systemEvents are the names only Moonbase itself emits.
var systemEvents = map[string]bool{
	UserRegistered: true, UserLogin: true, UserUpdated: true, UserDeleted: true, DocCreated: true,
	DocUpdated: true, DocDeleted: true, ChanIn: true, ChannelJoin: true,
	JobDead: true, WebhookDead: true, WebhookEndpointDisabled: true,
}

// IsSystemEvent reports whether name is one of the events Moonbase emits
// itself, which clients and functions may not publish.
func IsSystemEvent(name string) bool { return systemEvents[name] }

// ValidateEventName checks the name of a custom event: 1 to 100 letters,
// digits, "_", ".", ":" or "-", starting with a letter, and not a system
// event's name. The error is an *EventNameError.
func ValidateEventName(name string) error {
	reason := ""
	switch {
	case name == "":
		reason = "it is empty"
	case len(name) > MaxEventNameLen:
		reason = fmt.Sprintf("it is longer than %d characters", MaxEventNameLen)
	case !eventName.MatchString(name):
		reason = "use letters, digits, _ . : or -, starting with a letter"
	case IsSystemEvent(name):
		reason = "it is a system event, which only Moonbase emits"
	default:
		return nil
	}
	return &EventNameError{Name: name, Reason: reason}
}

// checkEventSize refuses data whose JSON is longer than limit bytes.
func checkEventSize(data map[string]any, limit int) error {
	b, err := json.Marshal(data)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidEventData, err)
	}
	if len(b) > limit {
		return fmt.Errorf("%w: %d bytes of JSON, the limit is %d", ErrEventTooLarge, len(b), limit)
	}
	return nil
}
