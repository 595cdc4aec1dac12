package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime/pprof"
	"sync/atomic"
	"time"

	"github.com/moonbase-dev/moonbase/db"
	"github.com/moonbase-dev/moonbase/db/embedded"
	"github.com/moonbase-dev/moonbase/events"
	"github.com/moonbase-dev/moonbase/webhooks"
)

// Webhooks: what verifying costs per scheme, what an emit to ten
// endpoints costs (recording the message and its deliveries and queuing
// them), and how many deliveries per second one process sends to a local
// receiver. The queue and the service run in the benchmark's own process
// on the embedded store, as a server runs them.

// deliveryBacklog is how many deliveries the throughput scenario queues
// (fewer with -n).
const deliveryBacklog = 3000

func webhookScenarios() []Scenario {
	var out []Scenario
	for _, scheme := range webhooks.Schemes() {
		out = append(out, Scenario{
			Name:  "webhooks/verify/" + scheme,
			About: "webhooks.Verify of a 1 KiB body signed by the scheme, in process",
			Setup: func(ctx context.Context, env *Env) (Op, error) { return verifyOp(scheme) },
		})
	}
	out = append(out,
		Scenario{
			Name:    "webhooks/embedded/emit-10-endpoints",
			About:   "Emit of one message to 10 subscribed endpoints: the message, 10 deliveries and 10 jobs recorded (nothing sent)",
			Workers: 4,
			Setup:   setupEmit,
		},
		Scenario{
			Name:    "webhooks/embedded/deliveries",
			About:   "a backlog of 3,000 deliveries to one local receiver (fewer with -n), queued before the queue starts: deliveries per second while it drains them",
			Workers: events.DefaultWorkers,
			Measure: measureDeliveries,
		},
	)
	return out
}

func verifyOp(scheme string) (Op, error) {
	secret := "bench-secret"
	if scheme == "standard" {
		secret = webhooks.NewSecret()
	}
	body := make([]byte, 1024)
	for i := range body {
		body[i] = 'a' + byte(i%26)
	}
	ct := "application/json"
	if scheme == "twilio" {
		ct, body = "application/x-www-form-urlencoded", []byte("From=%2B15550001&Body="+string(body[:900])+"&To=%2B15550002")
	}
	r := webhooks.Request{URL: "https://api.example.com/functions/hook", Header: http.Header{"Content-Type": {ct}, "Webhook-Id": {"msg_1"}}, Body: body}
	if err := webhooks.Sign(scheme, &r, secret, webhooks.Options{}); err != nil {
		return nil, err
	}
	return func(ctx context.Context, w *Worker) error {
		return webhooks.Verify(scheme, r, secret, webhooks.Options{})
	}, nil
}

// webhookService opens a store in dir with a queue (not started) and the
// webhooks service over them.
func webhookService(ctx context.Context, env *Env, dir string) (*webhooks.Service, *events.Queue, db.Store, error) {
	st, err := embedded.Open(embedded.Config{Dir: dir})
	if err != nil {
		return nil, nil, nil, err
	}
	env.Cleanup(func() error { return st.Close(context.Background()) })
	quiet := slog.New(slog.DiscardHandler)
	q, err := events.NewQueue(events.Config{}, events.Deps{Store: st, Logger: quiet})
	if err != nil {
		return nil, nil, nil, err
	}
	svc, err := webhooks.New(webhooks.Config{}, webhooks.Deps{Store: st, Queue: q, Logger: quiet})
	if err != nil {
		return nil, nil, nil, err
	}
	if err := svc.Start(ctx); err != nil {
		return nil, nil, nil, err
	}
	return svc, q, st, nil
}

func setupEmit(ctx context.Context, env *Env) (Op, error) {
	svc, _, _, err := webhookService(ctx, env, filepath.Join(env.Dir, "webhooks-emit"))
	if err != nil {
		return nil, err
	}
	for i := range 10 {
		u, filter := fmt.Sprintf("https://customer%d.example.com/hooks", i), []string{"order.*"}
		if _, err := svc.CreateEndpoint(ctx, webhooks.EndpointInput{URL: &u, Events: &filter}); err != nil {
			return nil, err
		}
	}
	payload := map[string]any{"order": map[string]any{"id": "ord_1", "total": 1200, "currency": "eur"}}
	return func(ctx context.Context, w *Worker) error {
		msg, err := svc.Emit(ctx, "order.paid", payload, nil)
		if err == nil && msg.Deliveries != 10 {
			err = fmt.Errorf("%d deliveries, want 10", msg.Deliveries)
		}
		return err
	}, nil
}

func measureDeliveries(ctx context.Context, env *Env, opts RunOptions) (Result, error) {
	res := Result{Workers: events.DefaultWorkers}
	begin := time.Now()
	n := deliveryBacklog
	if opts.Ops > 0 {
		n = int(opts.Ops)
	}
	var got atomic.Int64
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer recv.Close()
	svc, q, _, err := webhookService(ctx, env, filepath.Join(env.Dir, "webhooks-deliveries"))
	if err != nil {
		return res, err
	}
	u, filter := recv.URL+"/in", []string{"*"}
	if _, err := svc.CreateEndpoint(ctx, webhooks.EndpointInput{URL: &u, Events: &filter}); err != nil {
		return res, err
	}
	for i := range n {
		if _, err := svc.Emit(ctx, "bench.tick", map[string]any{"n": i}, nil); err != nil {
			return res, err
		}
	}
	res.Setup = time.Since(begin)
	if opts.CPUProfile != "" {
		f, err := os.Create(opts.CPUProfile)
		if err != nil {
			return res, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return res, err
		}
		defer pprof.StopCPUProfile()
	}
	cpu0 := processCPU()
	start := time.Now()
	if err := q.Start(ctx); err != nil {
		return res, err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = q.Shutdown(sctx)
	}()
	deadline := time.Now().Add(5 * time.Minute)
	for got.Load() < int64(n) {
		if time.Now().After(deadline) {
			return res, fmt.Errorf("%d of %d deliveries arrived in 5 minutes", got.Load(), n)
		}
		time.Sleep(2 * time.Millisecond)
	}
	res.Elapsed = time.Since(start)
	res.CPU = processCPU() - cpu0
	res.Ops = uint64(got.Load())
	return res, nil
}
