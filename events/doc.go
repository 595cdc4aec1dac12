// Package events records what happens in an app and makes functions run
// because of it: the event bus, function triggers, the durable job queue
// (leases, retries with backoff, dead letters), the scheduler and the
// retention sweeper.
//
// Every event goes through the Bus, which records it in _events and
// enqueues a job (KindFunction) for each function whose triggers in
// _functions subscribe to it: Bus.Emit for an event that reports no write
// of its own, Bus.Commit for one that reports a write (a document
// created, an account registered), which it stores together with the
// write and its jobs, in one transaction where the store has them. The Queue runs jobs of every kind
// (function runs, email) at least once, across every instance
// sharing the database; the Scheduler enqueues a function run for each
// occurrence of a schedule trigger, once across instances. Functions run
// through the FunctionRunner the server wires in, so this package never
// imports the Lua runtime.
//
// Example:
//
//	svc, err := events.New(cfg, events.Deps{Store: store, Runner: runner})
//	svc.Queue.Register("email", sendEmail) // a new kind of job
//	err = svc.Start(ctx)
//	ev, err := svc.Bus.Emit(ctx, "order_placed", map[string]any{"orderId": 123})
//	ev, err = svc.Bus.Commit(ctx, events.Change{Name: events.DocCreated, Write: insertOrder,
//		Check: events.Check{Collection: "orders", Filter: db.ByID(id), Exists: true}})
//	defer svc.Shutdown(shutdownCtx)
package events
