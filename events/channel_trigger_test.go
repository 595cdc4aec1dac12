package events

import (
	"testing"

	"go.mongodb.org/mongo-driver/bson"
)

// TestChannelNarrowing: a chan_in or channel_join trigger with channel:
// runs only for the channels its pattern matches.
func TestChannelNarrowing(t *testing.T) {
	t.Parallel()
	doc := bson.M{"name": "f", "triggers": bson.A{
		bson.M{"event": ChanIn, "channel": "room:*"},
		bson.M{"event": ChannelJoin, "channel": "lobby"},
		bson.M{"event": DocCreated, "collection": "orders"},
	}}
	scenarios := []struct {
		event, channel, collection string
		want                       bool
	}{
		{ChanIn, "room:1", "", true},
		{ChanIn, "room:", "", true},
		{ChanIn, "lobby", "", false},
		{ChanIn, "roomy", "", false},
		{ChannelJoin, "lobby", "", true},
		{ChannelJoin, "lobby2", "", false},
		{DocCreated, "", "orders", true},
		{DocCreated, "room:1", "users", false},
	}
	for _, s := range scenarios {
		ev := Event{Name: s.event, Data: map[string]any{"channel": s.channel, "collection": s.collection}}
		if got := SubscribesTo(doc, ev); got != s.want {
			t.Errorf("%s on %q/%q: %v, want %v", s.event, s.channel, s.collection, got, s.want)
		}
	}
	all := bson.M{"name": "g", "triggers": bson.A{bson.M{"event": ChanIn}}}
	if !SubscribesTo(all, Event{Name: ChanIn, Data: map[string]any{"channel": "x"}}) {
		t.Error("a chan_in trigger without channel: must run for every channel")
	}
	if !MatchChannel("*", "anything") || MatchChannel("a", "ab") {
		t.Error("MatchChannel: * matches all, a name only itself")
	}
}
