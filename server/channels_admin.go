package server

import (
	"context"
	"net/http"
	"net/url"

	"github.com/gofiber/fiber/v2"

	"github.com/moonbase-dev/moonbase/channels"
)

// adminPublishChannel publishes a message into a channel as the system,
// as a function's backend.publish does: body {data}, answer 201 {channel,
// offset}. No user, no channel rule and no chan_in event; the size limit
// of the channel's rule applies.
func (s *Server) adminPublishChannel(c *fiber.Ctx) error {
	name, err := url.PathUnescape(c.Params("name"))
	if err != nil {
		return badInput("channel name is not a valid URL path segment")
	}
	body, err := s.jsonBody(c)
	if err != nil {
		return err
	}
	if err := onlyFields(body, "data"); err != nil {
		return err
	}
	data, ok := body["data"]
	if !ok || data == nil {
		return badInput("data is required: the message, any JSON value but null")
	}
	offset, err := s.channels.Publish(context.WithoutCancel(c.UserContext()), name, data)
	if err != nil {
		return err
	}
	return c.Status(http.StatusCreated).JSON(fiber.Map{"channel": name, "offset": offset})
}

// adminChannelMembers lists who is present on a channel now, on every
// server process: {channel, members: [{id, name}]}.
func (s *Server) adminChannelMembers(c *fiber.Ctx) error {
	name, err := url.PathUnescape(c.Params("name"))
	if err != nil {
		return badInput("channel name is not a valid URL path segment")
	}
	members, err := s.channels.Members(c.UserContext(), name)
	if err != nil {
		return err
	}
	if members == nil {
		members = []channels.User{}
	}
	return c.JSON(fiber.Map{"channel": name, "members": members})
}
