package events

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/moonbase-dev/moonbase/db"
)

// System event names.
const (
	UserRegistered = "user_registered"
	UserLogin      = "user_login"
	DocCreated     = "doc_created"
	DocUpdated     = "doc_updated"
	DocDeleted     = "doc_deleted"
	ChanIn         = "chan_in"
)

// Event is one thing that happened.
type Event struct {
	ID   string         `json:"id"`
	Name string         `json:"name"`
	Data map[string]any `json:"data"`
	At   time.Time      `json:"at"`
}

// Emitter is the emit point every producer of events calls. Callers depend
// on this interface only, so what happens after an event is recorded can
// change without touching them.
type Emitter interface {
	Emit(ctx context.Context, name string, data map[string]any) (Event, error)
}

// Handler is told of every event after it has been recorded.
type Handler func(ctx context.Context, ev Event)

// Deps are what a Bus needs.
type Deps struct {
	Store db.Store
}

// Bus records events in _events and passes them to its subscribers.
type Bus struct {
	store    db.Store
	handlers []Handler
}

// NewBus returns a bus over deps.Store.
func NewBus(cfg Config, deps Deps) *Bus {
	return &Bus{store: deps.Store}
}

// Subscribe adds h; it is called for every event emitted afterwards. It is
// meant for start-up wiring and is not safe to call while events flow.
func (b *Bus) Subscribe(h Handler) { b.handlers = append(b.handlers, h) }

// Emit records the event and then hands it to the subscribers. The event is
// durable once Emit returns without error.
func (b *Bus) Emit(ctx context.Context, name string, data map[string]any) (Event, error) {
	ev := Event{ID: primitive.NewObjectID().Hex(), Name: name, Data: data, At: time.Now().UTC().Truncate(time.Millisecond)}
	_, err := b.store.C(db.Events).InsertOne(ctx, bson.M{"_id": ev.ID, "name": name, "data": data, "at": ev.At})
	if err != nil {
		return Event{}, fmt.Errorf("record event %s: %w", name, err)
	}
	for _, h := range b.handlers {
		h(ctx, ev)
	}
	return ev, nil
}
