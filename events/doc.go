// Package events records what happens in an app and makes functions run
// because of it: the event bus, function triggers, the durable job queue
// (leases, retries with backoff, dead letters) and the scheduler.
//
// Every event goes through one emit point, Bus.Emit, which records it in
// _events and then hands it to whatever is subscribed.
//
// Example:
//
//	bus := events.NewBus(events.Config{}, events.Deps{Store: store})
//	ev, err := bus.Emit(ctx, "order_placed", map[string]any{"orderId": 123})
package events
