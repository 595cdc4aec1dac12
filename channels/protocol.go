package channels

import (
	"encoding/json"
	"time"

	"github.com/moonbase-dev/moonbase/db"
)

// Frame types of the wire protocol. A client sends auth, join, leave,
// send and ping; the server answers ok, error and pong, and pushes message
// and presence.
const (
	TypeAuth     = "auth"
	TypeJoin     = "join"
	TypeLeave    = "leave"
	TypeSend     = "send"
	TypePing     = "ping"
	TypeOK       = "ok"
	TypeError    = "error"
	TypeMessage  = "message"
	TypePresence = "presence"
	TypePong     = "pong"
)

// User is who sent a message or is a member of a channel.
type User struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// ClientFrame is one frame a client sends. ID, when present, comes back in
// the answer as it was sent (any JSON value).
type ClientFrame struct {
	Type    string          `json:"type"`
	ID      json.RawMessage `json:"id,omitempty"`
	Token   string          `json:"token,omitempty"`
	Channel string          `json:"channel,omitempty"`
	Since   *int64          `json:"since,omitempty"`
	Data    json.RawMessage `json:"data,omitempty"`
}

// Message is one message of a channel: its frame, its history entry and
// the data of the chan_in event.
type Message struct {
	Channel string          `json:"channel"`
	Offset  int64           `json:"offset"`
	User    *User           `json:"user"`
	Data    json.RawMessage `json:"data"`
	At      time.Time       `json:"at"`
	// value is Data decoded, when the sender's frame was decoded already.
	value any
}

// messageFrame is a Message as pushed to members.
type messageFrame struct {
	Type string `json:"type"`
	Message
}

// encodeMessage is the message frame of m, encoded once for every member.
func encodeMessage(m Message) []byte {
	b, _ := json.Marshal(messageFrame{Type: TypeMessage, Message: m})
	return b
}

// PresenceFrame tells members who joined and who left.
type PresenceFrame struct {
	Type    string `json:"type"`
	Channel string `json:"channel"`
	Joins   []User `json:"joins"`
	Leaves  []User `json:"leaves"`
}

// JoinAnswer is the ok answer to a join.
type JoinAnswer struct {
	Type    string          `json:"type"`
	ID      json.RawMessage `json:"id,omitempty"`
	Channel string          `json:"channel"`
	// Offset is where the answer leaves the client: it has (or, with
	// since, had) every message up to it, and every later message comes
	// as a message frame. A client keeps the highest offset it has seen
	// and rejoins with it as since. A message still being stored when
	// the join was answered has a larger offset, and comes live.
	Offset int64 `json:"offset"`
	// Members is the channel's presence, empty when its rule turns
	// presence off.
	Members []User `json:"members"`
	// Messages are the recent messages (or, with since, those after it)
	// in offset order; absent when the channel keeps no history.
	Messages []Message `json:"messages"`
	// Recovered says, for a join with since, whether Messages hold every
	// message after since. False means some are no longer kept.
	Recovered *bool `json:"recovered,omitempty"`
}

// okFrame is the ok answer to auth, leave, send and ping-less frames.
type okFrame struct {
	Type    string          `json:"type"`
	ID      json.RawMessage `json:"id,omitempty"`
	Channel string          `json:"channel,omitempty"`
	Offset  int64           `json:"offset,omitempty"`
	User    *User           `json:"user,omitempty"`
}

// ErrorFrame answers a frame that failed.
type ErrorFrame struct {
	Type  string          `json:"type"`
	ID    json.RawMessage `json:"id,omitempty"`
	Error ErrorBody       `json:"error"`
}

// ErrorBody is the error of an ErrorFrame, shaped like the HTTP API's.
type ErrorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

type pongFrame struct {
	Type string          `json:"type"`
	ID   json.RawMessage `json:"id,omitempty"`
}

// EventData is m as the chan_in event carries it: {channel, user,
// message, offset, at}, message being the data as sent and user {id,
// name} or nil for an anonymous sender or a function.
func (m Message) EventData() map[string]any {
	data := m.value
	if data == nil {
		data, _ = db.DecodeJSONValue(m.Data, db.Limits{MaxBytes: len(m.Data) + 1})
	}
	var user any
	if m.User != nil {
		user = map[string]any{"id": m.User.ID, "name": m.User.Name}
	}
	return map[string]any{"channel": m.Channel, "user": user, "message": data, "offset": m.Offset, "at": m.At}
}
