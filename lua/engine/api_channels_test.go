package engine

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"go.mongodb.org/mongo-driver/bson"
)

// The channels calls hand their arguments to the hooks the server wires
// (the server tests run them against the real hub) and raise what cannot
// be sent.
func TestChannelsCalls(t *testing.T) {
	t.Parallel()
	var published []any
	r := newTestRegistry(t, Config{}, Deps{
		ChannelPublish: func(_ context.Context, channel string, data any) (int64, error) {
			if channel == "bad name" {
				return 0, errors.New("invalid channel name")
			}
			published = append(published, channel, data)
			return int64(len(published) / 2), nil
		},
		ChannelMembers: func(_ context.Context, channel string) ([]map[string]any, error) {
			return []map[string]any{{"id": "u1", "name": "Ada"}}, nil
		},
	})
	res, err := runSource(t, r, `function handle()
  local a = backend.publish("room:1", {text = "hi", n = 2})
  local b = backend.publish("room:1", "plain")
  local who = backend.channels.members("room:1")
  return {a, b, #who, who[1].name}
end`, nil, RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(res.Value, bson.A{int64(1), int64(2), int64(1), "Ada"}) {
		t.Errorf("result %#v", res.Value)
	}
	if len(published) != 4 || published[0] != "room:1" || published[3] != "plain" {
		t.Errorf("published %v", published)
	}
	if m, ok := published[1].(bson.M); !ok || m["text"] != "hi" || m["n"] != int64(2) {
		t.Errorf("published data %#v", published[1])
	}

	bare := newTestRegistry(t, Config{}, Deps{})
	for _, s := range []struct {
		r          *Registry
		expr, want string
	}{
		{bare, `backend.publish("room:1", 1)`, `backend.publish: channels are not set up on this server`},
		{bare, `backend.channels.members("room:1")`, `backend.channels.members: channels are not set up on this server`},
		{r, `backend.publish("bad name", 1)`, `backend.publish: invalid channel name`},
		{r, `backend.publish("room:1", print)`, ``},
		{r, `backend.publish("room:1")`, ``},
	} {
		_, err := runSource(t, s.r, "function handle() return "+s.expr+" end", nil, RunOptions{})
		re, ok := err.(*RunError)
		if !ok || (s.want != "" && re.Message != s.want) {
			t.Errorf("%s\n got: %v\nwant: %s", s.expr, err, s.want)
		}
	}
}
