package engine

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"
	"go.mongodb.org/mongo-driver/bson"

	"github.com/moonbase-dev/moonbase/db"
)

// Webhooks is what backend.webhooks calls; the server wires it to the
// webhooks service, which this package does not import.
type Webhooks interface {
	// Verify checks req the way scheme signs, with secret; the error
	// names what failed.
	Verify(scheme string, req WebhookRequest, secret string, opts WebhookVerifyOptions) error
	// Versions lists the payload versions of the endpoints subscribed to
	// typ, so a payload given as a function is built once per version.
	Versions(ctx context.Context, typ string) ([]int, error)
	// Emit records a message and its deliveries and returns the message's
	// id and how many endpoints it goes to.
	Emit(ctx context.Context, typ string, payload any, versions map[int]any) (string, int, error)
	// Send records and queues one delivery to url and returns its id.
	Send(ctx context.Context, url string, payload any, opts WebhookSendOptions) (string, error)
	// Deliveries lists an endpoint's deliveries, newest first, each with
	// its attempts, as JSON values.
	Deliveries(ctx context.Context, endpoint, status string, limit int) ([]any, error)
	// Replay sends a delivered or dead delivery of endpoint again.
	Replay(ctx context.Context, endpoint, delivery string) error
}

// WebhookRequest is an inbound request as backend.webhooks.verify reads
// it from an http run's input.
type WebhookRequest struct {
	Method  string
	URL     string
	Headers map[string]string
	Body    []byte
}

// WebhookVerifyOptions are verify's options table.
type WebhookVerifyOptions struct {
	Tolerance       time.Duration
	Header          string
	Encoding        string
	TimestampHeader string
	// ReceivedAt, when set, is the time a signed timestamp is checked
	// against instead of now: the original receipt of a replayed request.
	ReceivedAt time.Time
}

// WebhookSendOptions are send's options table.
type WebhookSendOptions struct {
	Secret      string
	Headers     map[string]string
	MaxAttempts int
}

func (v *vm) webhooksDep(L *lua.LState, call string) Webhooks {
	if v.reg.deps.Webhooks == nil {
		v.raise(L, call, errors.New("webhooks are not set up on this server"))
	}
	return v.reg.deps.Webhooks
}

// webhooksVerify is backend.webhooks.verify(scheme, input, secret, opts?):
// checks an http run's input was signed by the sender (stripe, github,
// slack, twilio, shopify, standard, hmac-sha256) and returns the event: the
// body decoded from JSON, or for a form body its fields. It raises an error
// naming what failed (a missing header, a bad signature, a timestamp
// outside the tolerance); catch it with pcall to answer 400. For an input
// replayed from the inbound log (input.replayed), the timestamp is checked
// against input.receivedAt, when the request first arrived.
func (v *vm) webhooksVerify(L *lua.LState) int {
	const call = "backend.webhooks.verify"
	v.cur(L)
	wh := v.webhooksDep(L, call)
	scheme := L.CheckString(1)
	in := L.CheckTable(2)
	secret := L.CheckString(3)
	opts := L.OptTable(4, nil)
	req := WebhookRequest{Headers: map[string]string{}}
	if s, ok := in.RawGetString("method").(lua.LString); ok {
		req.Method = string(s)
	}
	if s, ok := in.RawGetString("url").(lua.LString); ok {
		req.URL = string(s)
	}
	if s, ok := in.RawGetString("body").(lua.LString); ok {
		req.Body = []byte(s)
	}
	if h, ok := in.RawGetString("headers").(*lua.LTable); ok {
		h.ForEach(func(k, val lua.LValue) {
			if ks, ok := k.(lua.LString); ok {
				req.Headers[string(ks)] = val.String()
			}
		})
	}
	var o WebhookVerifyOptions
	if in.RawGetString("replayed") == lua.LTrue {
		// A request replayed from the inbound log is as fresh as when it
		// first arrived; its signature is still checked in full.
		if at, ok := v.asDate(in.RawGetString("receivedAt")); ok {
			o.ReceivedAt = at
		}
	}
	if opts != nil {
		if n, ok := opts.RawGetString("tolerance").(lua.LNumber); ok {
			o.Tolerance = time.Duration(float64(n) * float64(time.Second))
		}
		if s, ok := opts.RawGetString("url").(lua.LString); ok {
			req.URL = string(s)
		}
		o.Header = lua.LVAsString(opts.RawGetString("header"))
		o.Encoding = lua.LVAsString(opts.RawGetString("encoding"))
		o.TimestampHeader = lua.LVAsString(opts.RawGetString("timestamp_header"))
	}
	if err := wh.Verify(scheme, req, secret, o); err != nil {
		v.raise(L, call, err)
	}
	var event any = map[string]any{}
	if j, ok := in.RawGetString("json").(*lua.LTable); ok {
		L.Push(j)
		return 1
	}
	body := string(req.Body)
	if form, err := url.ParseQuery(body); err == nil && strings.Contains(strings.ToLower(headerOf(req.Headers, "content-type")), "x-www-form-urlencoded") {
		m := map[string]any{}
		for k, vals := range form {
			m[k] = vals[0]
		}
		event = m
	} else if body != "" {
		if d, err := db.DecodeJSONValue(req.Body, db.Limits{}); err == nil {
			event = d
		}
	}
	v.push(L, call, event)
	return 1
}

func headerOf(h map[string]string, name string) string {
	for k, val := range h {
		if strings.EqualFold(k, name) {
			return val
		}
	}
	return ""
}

// webhooksEmit is backend.webhooks.emit(type, payload, versions?): one
// message to every enabled endpoint subscribed to type, recorded and
// queued before it returns. payload is a table, or a function called with
// each subscribed endpoint's payload version that returns that version's
// payload; versions, a table {[2] = payload…}, gives payloads for pinned
// versions. Returns {id, deliveries}.
func (v *vm) webhooksEmit(L *lua.LState) int {
	const call = "backend.webhooks.emit"
	ru := v.cur(L)
	wh := v.webhooksDep(L, call)
	typ := L.CheckString(1)
	versions := map[int]any{}
	var payload any = map[string]any{}
	switch p := L.Get(2).(type) {
	case *lua.LFunction:
		defer ru.wait()()
		vs, err := wh.Versions(ru.ctx, typ)
		if err != nil {
			v.raise(L, call, err)
		}
		for _, n := range append([]int{0}, vs...) {
			if err := L.CallByParam(lua.P{Fn: p, NRet: 1, Protect: true}, lua.LNumber(n)); err != nil {
				v.raise(L, call, fmt.Errorf("the payload function for version %d: %v", n, err))
			}
			out, err := v.toGo(L.Get(-1), maxDataBytes, "the payload")
			L.Pop(1)
			if err != nil {
				v.raise(L, call, err)
			}
			if n == 0 {
				payload = out
			} else {
				versions[n] = out
			}
		}
	case *lua.LNilType:
	default:
		out, err := v.toGo(p, maxDataBytes, "the payload")
		if err != nil {
			v.raise(L, call, err)
		}
		payload = out
	}
	if t := L.OptTable(3, nil); t != nil {
		var bad error
		t.ForEach(func(k, val lua.LValue) {
			n, ok := k.(lua.LNumber)
			if !ok || n < 1 || float64(n) != float64(int(n)) {
				bad = fmt.Errorf("versions: key %s is not a version number from 1", k.String())
				return
			}
			out, err := v.toGo(val, maxDataBytes, "a versioned payload")
			if err != nil {
				bad = err
				return
			}
			versions[int(n)] = out
		})
		if bad != nil {
			v.raise(L, call, bad)
		}
	}
	defer ru.wait()()
	id, n, err := wh.Emit(ru.ctx, typ, payload, versions)
	if err != nil {
		v.raise(L, call, err)
	}
	t := L.CreateTable(0, 2)
	t.RawSetString("id", lua.LString(id))
	t.RawSetString("deliveries", lua.LNumber(n))
	L.Push(t)
	return 1
}

// webhooksSend is backend.webhooks.send(url, payload, {secret, headers,
// max_attempts}?): one delivery of payload (as JSON) to url through the
// queue, signed the Standard Webhooks way with secret (whsec_…), retried
// like an endpoint's. Returns the delivery's id.
func (v *vm) webhooksSend(L *lua.LState) int {
	const call = "backend.webhooks.send"
	ru := v.cur(L)
	wh := v.webhooksDep(L, call)
	target := L.CheckString(1)
	payload, err := v.toGo(L.CheckAny(2), maxDataBytes, "the payload")
	if err != nil {
		v.raise(L, call, err)
	}
	var o WebhookSendOptions
	if t := L.OptTable(3, nil); t != nil {
		o.Secret = lua.LVAsString(t.RawGetString("secret"))
		if n, ok := t.RawGetString("max_attempts").(lua.LNumber); ok {
			o.MaxAttempts = int(n)
		}
		if h, ok := t.RawGetString("headers").(*lua.LTable); ok {
			o.Headers = map[string]string{}
			h.ForEach(func(k, val lua.LValue) { o.Headers[k.String()] = val.String() })
		}
	}
	defer ru.wait()()
	id, err := wh.Send(ru.ctx, target, payload, o)
	if err != nil {
		v.raise(L, call, err)
	}
	L.Push(lua.LString(id))
	return 1
}

// seenStale is how long a key claimed by a run that never settled it (its
// process died) blocks another run.
const seenStale = 10 * time.Minute

// webhooksSeen is backend.webhooks.seen(key): true when this function
// already processed key in a run that succeeded; false the first time,
// claiming it for this run. The claim is kept when the run succeeds and
// released when it fails (an error, or an answer of 500 or more), so the
// sender's retry processes it. A key claimed by a run still in progress
// raises, so a concurrent retry answers 500 and comes back later.
func (v *vm) webhooksSeen(L *lua.LState) int {
	const call = "backend.webhooks.seen"
	ru := v.cur(L)
	key := L.CheckString(1)
	if key == "" || len(key) > MaxOnceKeyBytes {
		v.raise(L, call, fmt.Errorf("the key must be 1 to %d bytes", MaxOnceKeyBytes))
	}
	id := "seen:" + ru.fn.Name + ":" + key
	defer ru.wait()()
	col := v.reg.store.C(db.Dedupe)
	now := time.Now().UTC().Truncate(time.Millisecond)
	_, err := col.InsertOne(ru.ctx, bson.M{"_id": id, "status": "pending", "run": ru.id, "at": now, "function": ru.fn.Name})
	switch {
	case err == nil:
		ru.seen = append(ru.seen, id)
		L.Push(lua.LFalse)
		return 1
	case !errors.Is(err, db.ErrDuplicateKey):
		v.raise(L, call, err)
	}
	d, err := col.FindOne(ru.ctx, db.ByID(id), nil)
	if err != nil {
		v.raise(L, call, err)
	}
	if d["status"] == "done" || d["run"] == ru.id {
		L.Push(lua.LBool(d["status"] == "done"))
		return 1
	}
	// A claim left by a run that died without settling it is taken over.
	if _, err := col.FindOneAndUpdate(ru.ctx, bson.M{"_id": id, "status": "pending", "run": d["run"], "at": bson.M{"$lt": now.Add(-seenStale)}},
		bson.M{"$set": bson.M{"run": ru.id, "at": now}}, nil); err == nil {
		ru.seen = append(ru.seen, id)
		L.Push(lua.LFalse)
		return 1
	}
	v.raise(L, call, fmt.Errorf("key %q is being processed by another run; try again later", key))
	return 0
}

// settleSeen keeps the keys a run claimed when it succeeded and releases
// them when it failed.
func (r *Registry) settleSeen(ru *run, ok bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	col := r.store.C(db.Dedupe)
	ids := bson.A{}
	for _, id := range ru.seen {
		ids = append(ids, id)
	}
	filter := bson.M{"_id": bson.M{"$in": ids}, "run": ru.id}
	var err error
	if ok {
		_, err = col.UpdateMany(ctx, filter, bson.M{"$set": bson.M{"status": "done"}})
	} else {
		_, err = col.DeleteMany(ctx, filter)
	}
	if err != nil {
		r.log.Warn("settle backend.webhooks.seen keys", "function", ru.fn.Name, "err", err)
	}
}

// MaxDeliveriesListed caps backend.webhooks.deliveries.
const MaxDeliveriesListed = 100

// webhooksDeliveries is backend.webhooks.deliveries(endpoint_id, {status,
// limit}?): the endpoint's deliveries, newest first, each with its
// attempts (time, status, duration, the start of the answer, error), for
// a customer-facing delivery page. The function decides who may see which
// endpoint (keep the endpoint id with the customer's record).
func (v *vm) webhooksDeliveries(L *lua.LState) int {
	const call = "backend.webhooks.deliveries"
	ru := v.cur(L)
	wh := v.webhooksDep(L, call)
	endpoint := L.CheckString(1)
	status, limit := "", 20
	if t := L.OptTable(2, nil); t != nil {
		status = lua.LVAsString(t.RawGetString("status"))
		if n, ok := t.RawGetString("limit").(lua.LNumber); ok {
			limit = int(n)
		}
	}
	if limit < 1 || limit > MaxDeliveriesListed {
		v.raise(L, call, fmt.Errorf("limit must be 1 to %d", MaxDeliveriesListed))
	}
	defer ru.wait()()
	list, err := wh.Deliveries(ru.ctx, endpoint, status, limit)
	if err != nil {
		v.raise(L, call, err)
	}
	v.push(L, call, list)
	return 1
}

// webhooksReplay is backend.webhooks.replay(endpoint_id, delivery_id):
// sends a delivered or dead delivery of that endpoint again, with the
// same webhook-id (a customer's "resend" button).
func (v *vm) webhooksReplay(L *lua.LState) int {
	const call = "backend.webhooks.replay"
	ru := v.cur(L)
	wh := v.webhooksDep(L, call)
	endpoint, delivery := L.CheckString(1), L.CheckString(2)
	defer ru.wait()()
	if err := wh.Replay(ru.ctx, endpoint, delivery); err != nil {
		v.raise(L, call, err)
	}
	return 0
}
