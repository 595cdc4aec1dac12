package mail

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/moonbase-dev/moonbase/db"
	"github.com/moonbase-dev/moonbase/db/embedded"
)

// openStore opens an embedded store in a temporary directory.
func openStore(t *testing.T) db.Store {
	t.Helper()
	store, err := embedded.Open(embedded.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close(context.Background()) })
	return store
}

func TestOutboxStoresMessages(t *testing.T) {
	t.Parallel()
	store := openStore(t)
	ctx := context.Background()
	var sender Sender = NewOutbox(store)
	before := time.Now().Add(-time.Second)
	m := Message{To: []string{"Ada <ada@example.com>"}, Subject: "Welcome", Text: "Hi Ada", HTML: "<p>Hi Ada</p>", ReplyTo: "help@acme.test"}
	if err := sender.Send(ctx, m); err != nil {
		t.Fatal(err)
	}
	if err := sender.Send(ctx, Message{To: []string{"bob@example.org"}, Subject: "Second", Text: "Hi Bob"}); err != nil {
		t.Fatal(err)
	}
	if n, err := store.C(db.Outbox).Count(ctx, nil); err != nil || n != 2 {
		t.Fatalf("outbox holds %d messages (%v), want 2", n, err)
	}
	doc, err := store.C(db.Outbox).FindOne(ctx, bson.M{"subject": "Welcome"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	created, ok := doc["created_at"].(primitive.DateTime)
	if !ok || created.Time().Before(before) || created.Time().After(time.Now().Add(time.Second)) {
		t.Fatalf("created_at = %#v", doc["created_at"])
	}
	delete(doc, "created_at")
	delete(doc, "_id")
	back, err := MessageFromPayload(doc)
	if err != nil {
		t.Fatalf("stored document does not read back: %v (%#v)", err, doc)
	}
	if !reflect.DeepEqual(back, m) {
		t.Fatalf("stored %#v, want %#v", back, m)
	}
}

func TestOutboxRefusesInvalidMessages(t *testing.T) {
	t.Parallel()
	store := openStore(t)
	ctx := context.Background()
	err := NewOutbox(store).Send(ctx, Message{To: []string{"ada@example.com"}, Subject: "Hi\nBcc: eve@example.com", Text: "x"})
	if !errors.Is(err, ErrInvalidMessage) || !IsPermanent(err) {
		t.Fatalf("got %v", err)
	}
	if n, err := store.C(db.Outbox).Count(ctx, nil); err != nil || n != 0 {
		t.Fatalf("outbox holds %d messages (%v), want 0", n, err)
	}
}
