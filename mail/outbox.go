package mail

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/moonbase-dev/moonbase/db"
)

// Outbox stores messages in the _outbox collection (db.Outbox) instead of
// sending them: the sender when no SMTP server is configured, so a
// developer can read what would have gone out. It is safe for concurrent
// use.
type Outbox struct {
	store db.Store
}

// NewOutbox returns an outbox over store.
func NewOutbox(store db.Store) *Outbox {
	return &Outbox{store: store}
}

// Send validates m and stores it as a document with the fields to, subject,
// text, html, from, reply_to (the optional ones only when set) and
// created_at (UTC, millisecond precision).
func (o *Outbox) Send(ctx context.Context, m Message) error {
	if err := m.Validate(); err != nil {
		return err
	}
	doc := bson.M(m.Payload())
	doc["created_at"] = time.Now().UTC().Truncate(time.Millisecond)
	if _, err := o.store.C(db.Outbox).InsertOne(ctx, doc); err != nil {
		return fmt.Errorf("store email in %s: %w", db.Outbox, err)
	}
	return nil
}
