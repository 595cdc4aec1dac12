package server

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"go.mongodb.org/mongo-driver/bson"

	"github.com/moonbase-dev/moonbase/channels"
	"github.com/moonbase-dev/moonbase/db"
	"github.com/moonbase-dev/moonbase/events"
	"github.com/moonbase-dev/moonbase/lua/engine"
	"github.com/moonbase-dev/moonbase/lua/functions"
)

// Realtime channels: the server owns the route and hands the channels
// hub what it needs from the rest of Moonbase at start-up — sessions,
// the channel_join functions and the chan_in event — through the small
// interfaces the channels package declares.

// newChannels builds the hub over the server's store.
func (s *Server) newChannels() (*channels.Hub, error) {
	cfg := s.cfg.Channels
	cfg.Origins = s.cfg.Server.CORSOrigins
	return channels.New(cfg, channels.Deps{
		Store:  s.store,
		Logger: s.log,
		Auth:   channelAuth{s},
		Joins:  channelJoins{s},
		Sink:   channelSink{s},
	})
}

// bindChannelsApi registers GET /api/ws and the admin view of channels.
func bindChannelsApi(s *Server, r fiber.Router) {
	r.Get("/api/ws", s.upgradeChannels)
	r.Get("/api/admin/channels", s.adminChannels)
	r.Get("/api/admin/channels/:name/messages", s.adminChannelMessages)
	r.Post("/api/admin/channels/:name/messages", s.adminPublishChannel)
	r.Get("/api/admin/channels/:name/members", s.adminChannelMembers)
}

// upgradeChannels hands a WebSocket handshake to the hub; anything else
// is 426.
func (s *Server) upgradeChannels(c *fiber.Ctx) error {
	if !channels.IsUpgrade(c.Context()) {
		return Errorf(fiber.StatusUpgradeRequired, "upgrade_required", "GET /api/ws opens a WebSocket (Upgrade: websocket)")
	}
	c.Status(fiber.StatusSwitchingProtocols) // for the request log; gorilla writes the answer
	s.channels.Handle(c.Context())
	return nil
}

// adminChannels lists the channels with messages or members:
// {channels: [{name, offset, members, rule}]}.
func (s *Server) adminChannels(c *fiber.Ctx) error {
	limit, err := limitParam(c, 1000)
	if err != nil {
		return err
	}
	list, err := s.channels.Channels(c.UserContext(), limit)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"channels": list})
}

// adminChannelMessages shows a channel's latest messages still stored,
// oldest first: {messages: [...]}.
func (s *Server) adminChannelMessages(c *fiber.Ctx) error {
	name, err := url.PathUnescape(c.Params("name"))
	if err != nil {
		return badInput("channel name is not a valid URL path segment")
	}
	limit, err := limitParam(c, 100)
	if err != nil {
		return err
	}
	msgs, err := s.channels.Recent(c.UserContext(), name, limit)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"channel": name, "messages": msgs})
}

func limitParam(c *fiber.Ctx, def int) (int, error) {
	raw := c.Query("limit")
	if raw == "" {
		return def, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 || n > 1000 {
		return 0, badInput("limit must be a number from 1 to 1000")
	}
	return n, nil
}

// channelMembers is backend.channels.members: each member as {id, name}.
func (s *Server) channelMembers(ctx context.Context, channel string) ([]map[string]any, error) {
	members, err := s.channels.Members(ctx, channel)
	if err != nil {
		return nil, err
	}
	out := make([]map[string]any, len(members))
	for i, m := range members {
		out[i] = map[string]any{"id": m.ID, "name": m.Name}
	}
	return out, nil
}

// channelAuth resolves the session tokens of channel connections, and
// tells the hub which of their sessions still last.
type channelAuth struct{ s *Server }

func (a channelAuth) Authenticate(ctx context.Context, token string) (*channels.User, string, error) {
	hash := tokenHash(token)
	u, err := a.s.sessionUser(ctx, hash)
	if errors.Is(err, ErrInvalidSession) || errors.Is(err, db.ErrNotFound) {
		return nil, "", fmt.Errorf("%w: unknown or expired token", channels.ErrUnauthenticated)
	}
	if err != nil {
		return nil, "", err
	}
	// The session cache may still hold a session ended on another
	// process; a socket signs in for long, so it asks the store.
	live, err := a.LiveSessions(ctx, []string{hash})
	if err != nil {
		return nil, "", err
	}
	if !live[hash] {
		return nil, "", fmt.Errorf("%w: unknown or expired token", channels.ErrUnauthenticated)
	}
	return &channels.User{ID: u.ID, Name: u.Name}, hash, nil
}

// LiveSessions reads the store itself, not the session cache, so that a
// session ended on another process is seen at the next check.
func (a channelAuth) LiveSessions(ctx context.Context, ids []string) (map[string]bool, error) {
	in := make(bson.A, len(ids))
	for i, id := range ids {
		in[i] = id
	}
	docs, err := a.s.store.C(db.Sessions).Find(ctx, bson.M{"_id": bson.M{"$in": in}, "expires_at": bson.M{"$gt": time.Now().UTC()}},
		&db.FindOptions{Projection: bson.M{"_id": 1}})
	if err != nil {
		return nil, fmt.Errorf("check sessions: %w", err)
	}
	live := make(map[string]bool, len(docs))
	for _, d := range docs {
		if id, ok := d["_id"].(string); ok {
			live[id] = true
		}
	}
	return live, nil
}

// channelSink stores every message a client sends together with its
// chan_in event, through the same commit point as the data API's writes:
// in one transaction where the store has them, so there is never a
// message without its event or an event without its message.
type channelSink struct{ s *Server }

func (k channelSink) CommitMessage(ctx context.Context, m channels.Message, write func(context.Context, db.Tx) error) error {
	data := m.EventData()
	_, err := k.s.events.Commit(ctx, events.Change{
		Name: events.ChanIn,
		Write: func(ctx context.Context, tx db.Tx) (map[string]any, error) {
			if err := write(ctx, tx); err != nil {
				return nil, err
			}
			return data, nil
		},
		Pending: func(context.Context) (map[string]any, error) { return data, nil },
		Check:   events.Check{Collection: db.ChannelMessages, Filter: channels.StoredFilter(m), Exists: true},
	})
	return err
}

// channelJoins runs the functions with a channel_join trigger before a
// join the rules allow. Each runs with full rights and gets {channel,
// user} ({id, name}, or nil for an anonymous client); returning false, or
// backend.response with a status of 400 or more, refuses the join, and a
// function that fails refuses it too. With no such function every join
// the rules allow is admitted.
type channelJoins struct{ s *Server }

func (j channelJoins) AuthorizeJoin(ctx context.Context, channel string, user *channels.User) error {
	docs, err := j.s.store.C(db.Functions).Find(ctx, bson.M{"triggers.event": events.ChannelJoin},
		&db.FindOptions{Projection: bson.M{"name": 1, "triggers": 1}, Sort: bson.D{{Key: "_id", Value: 1}}})
	if err != nil {
		return fmt.Errorf("find channel_join functions: %w", err)
	}
	var who any
	if user != nil {
		who = map[string]any{"id": user.ID, "name": user.Name}
	}
	for _, d := range docs {
		name, _ := d["name"].(string)
		if !events.SubscribesTo(d, events.Event{Name: events.ChannelJoin, Data: map[string]any{"channel": channel}}) {
			continue
		}
		input := map[string]any{"channel": channel, "user": who}
		res, err := j.s.functions.Run(ctx, name, input, engine.RunOptions{Trigger: functions.TriggerEvent, Event: events.ChannelJoin})
		if err != nil {
			return fmt.Errorf("channel_join function %s failed: %w", name, err)
		}
		if refused, msg := joinRefused(res); refused {
			return &channels.RefusedError{Function: name, Message: msg}
		}
	}
	return nil
}

// joinRefused reads a channel_join function's answer.
func joinRefused(res engine.Result) (bool, string) {
	if res.Status >= 400 {
		switch v := res.Value.(type) {
		case string:
			return true, v
		case bson.M:
			if e, ok := v["error"].(string); ok {
				return true, e
			}
			if e, ok := v["message"].(string); ok {
				return true, e
			}
		}
		return true, strings.ToLower(fmt.Sprintf("join refused (%d)", res.Status))
	}
	if b, ok := res.Value.(bool); ok && !b {
		return true, ""
	}
	return false, ""
}
