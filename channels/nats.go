package channels

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
)

// bus carries messages and presence changes to the other processes as
// they happen. Without one, other processes find them by polling the
// store.
type bus interface {
	publish(m Message)
	presenceChanged(channel string)
	close()
}

// natsBus is the bus over NATS core subjects: <prefix>.msg carries every
// message, <prefix>.presence the name of a channel whose presence
// changed. Each process subscribes to both and ignores what it sent. NATS
// core may drop a message (a slow subscriber, a reconnect): the store
// still has it, and the gap it leaves is filled from there.
type natsBus struct {
	nc      *nats.Conn
	subject string
	node    string
	hub     *Hub
}

type busEnvelope struct {
	Node    string   `json:"node"`
	Message *Message `json:"message,omitempty"`
	Channel string   `json:"channel,omitempty"`
}

func dialBus(cfg Config, node string, h *Hub) (bus, error) {
	nc, err := nats.Connect(cfg.NATSURL,
		nats.Name("moonbase "+node),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(500*time.Millisecond),
		nats.Timeout(5*time.Second),
	)
	if err != nil {
		return nil, fmt.Errorf("channels: connect to NATS at %s: %w", cfg.NATSURL, err)
	}
	b := &natsBus{nc: nc, subject: cfg.NATSSubject, node: node, hub: h}
	if _, err := nc.Subscribe(b.subject+".msg", b.onMessage); err != nil {
		nc.Close()
		return nil, fmt.Errorf("channels: subscribe on NATS: %w", err)
	}
	if _, err := nc.Subscribe(b.subject+".presence", b.onPresence); err != nil {
		nc.Close()
		return nil, fmt.Errorf("channels: subscribe on NATS: %w", err)
	}
	if err := nc.Flush(); err != nil {
		nc.Close()
		return nil, fmt.Errorf("channels: subscribe on NATS: %w", err)
	}
	return b, nil
}

func (b *natsBus) publish(m Message) {
	raw, _ := json.Marshal(busEnvelope{Node: b.node, Message: &m})
	if err := b.nc.Publish(b.subject+".msg", raw); err != nil {
		b.hub.logger.Warn("channels: publish on NATS", "error", err.Error())
	}
}

func (b *natsBus) presenceChanged(channel string) {
	raw, _ := json.Marshal(busEnvelope{Node: b.node, Channel: channel})
	if err := b.nc.Publish(b.subject+".presence", raw); err != nil {
		b.hub.logger.Warn("channels: publish on NATS", "error", err.Error())
	}
}

func (b *natsBus) close() { b.nc.Close() }

func (b *natsBus) onMessage(msg *nats.Msg) {
	var env busEnvelope
	if err := json.Unmarshal(msg.Data, &env); err != nil || env.Node == b.node || env.Message == nil || env.Message.Data == nil {
		return
	}
	b.hub.arrive(*env.Message)
}

func (b *natsBus) onPresence(msg *nats.Msg) {
	var env busEnvelope
	if err := json.Unmarshal(msg.Data, &env); err != nil || env.Node == b.node {
		return
	}
	h := b.hub
	h.mu.Lock()
	st := h.chans[env.Channel]
	h.mu.Unlock()
	if st == nil || !st.rule.HasPresence() {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
		defer cancel()
		if err := h.refreshPresence(ctx, st); err != nil {
			h.logger.Warn("channels: refresh presence", "channel", st.name, "error", err.Error())
		}
	}()
}
