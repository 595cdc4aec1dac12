package channels

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/moonbase-dev/moonbase/db"
)

// Publish sends data to channel from the server itself (a function's
// backend.publish): no user, no rules, no chan_in event. It returns the
// message's offset.
func (h *Hub) Publish(ctx context.Context, channel string, data any) (int64, error) {
	if err := ValidateName(channel); err != nil {
		return 0, err
	}
	raw, err := json.Marshal(db.ToJSONValue(data))
	if err != nil {
		return 0, invalid("data cannot be sent as JSON: %v", err)
	}
	m, err := h.publish(ctx, channel, raw, nil, false)
	if err != nil {
		return 0, err
	}
	return m.Offset, nil
}

// Members returns the users present on channel, on every process.
func (h *Hub) Members(ctx context.Context, channel string) ([]User, error) {
	if err := ValidateName(channel); err != nil {
		return nil, err
	}
	return h.presence.members(ctx, channel)
}

// ChannelInfo is a channel as the admin API lists it.
type ChannelInfo struct {
	Name    string `json:"name"`
	Offset  int64  `json:"offset"`
	Members []User `json:"members"`
	Rule    Rule   `json:"rule"`
}

// Channels lists the channels that have had a message or have members,
// by name, at most limit of them (0: 1000).
func (h *Hub) Channels(ctx context.Context, limit int) ([]ChannelInfo, error) {
	if limit <= 0 {
		limit = 1000
	}
	docs, err := h.store.C(db.ChannelOffsets).Find(ctx, bson.M{}, &db.FindOptions{Sort: bson.D{{Key: "_id", Value: 1}}, Limit: int64(limit)})
	if err != nil {
		return nil, fmt.Errorf("list channels: %w", err)
	}
	byName := map[string]*ChannelInfo{}
	for _, d := range docs {
		name := str(d["_id"])
		byName[name] = &ChannelInfo{Name: name, Offset: db.Int64Of(d["offset"]), Members: []User{}}
	}
	pres, err := h.store.C(db.ChannelPresence).Find(ctx, bson.M{}, &db.FindOptions{Projection: bson.M{"channel": 1}})
	if err != nil {
		return nil, fmt.Errorf("list presence: %w", err)
	}
	for _, d := range pres {
		name := str(d["channel"])
		if byName[name] == nil && len(byName) < limit {
			byName[name] = &ChannelInfo{Name: name, Members: []User{}}
		}
	}
	out := make([]ChannelInfo, 0, len(byName))
	for _, ci := range byName {
		if ci.Members, err = h.presence.members(ctx, ci.Name); err != nil {
			return nil, err
		}
		ci.Rule = h.rules.match(ci.Name)
		out = append(out, *ci)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Recent returns up to limit of channel's latest messages still in the
// store, oldest first.
func (h *Hub) Recent(ctx context.Context, channel string, limit int) ([]Message, error) {
	if err := ValidateName(channel); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	docs, err := h.store.C(db.ChannelMessages).Find(ctx, bson.M{"channel": channel},
		&db.FindOptions{Sort: bson.D{{Key: "offset", Value: -1}}, Limit: int64(limit)})
	if err != nil {
		return nil, fmt.Errorf("read messages of %s: %w", channel, err)
	}
	out := make([]Message, 0, len(docs))
	for i := len(docs) - 1; i >= 0; i-- {
		if m := messageFromDoc(docs[i]); m.Data != nil {
			out = append(out, m)
		}
	}
	return out, nil
}
