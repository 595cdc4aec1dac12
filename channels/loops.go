package channels

import (
	"context"
	"time"
)

// startLoops starts the hub's three loops: the heartbeat, the poll and
// the session check.
func (h *Hub) startLoops() {
	h.loops.Add(3)
	go h.every(h.cfg.Heartbeat, nil, h.heartbeat)
	go h.every(h.cfg.PollInterval, h.kick, h.pollStep())
	go h.every(h.cfg.SessionCheck, nil, h.checkSessions)
}

// every calls f every d, and at each kick (nil: none), with a context
// bounded by storeTimeout, until the hub stops.
func (h *Hub) every(d time.Duration, kick <-chan struct{}, f func(ctx context.Context)) {
	defer h.loops.Done()
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-h.stop:
			return
		case <-t.C:
		case <-kick:
		}
		ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
		f(ctx)
		cancel()
	}
}

// heartbeat records this process as alive (every Heartbeat), sweeps the
// presence of dead processes and tells members here who vanished.
func (h *Hub) heartbeat(ctx context.Context) {
	others, err := h.presence.heartbeat(ctx)
	if err != nil {
		h.logger.Warn("channels: heartbeat", "error", err.Error())
	} else {
		h.others.Store(int64(others))
	}
	h.refreshAllPresence(ctx)
}

// refreshAllPresence refreshes the presence of every channel with
// members here.
func (h *Hub) refreshAllPresence(ctx context.Context) {
	h.mu.Lock()
	chans := make([]*channel, 0, len(h.chans))
	for _, st := range h.chans {
		if st.rule.HasPresence() {
			chans = append(chans, st)
		}
	}
	h.mu.Unlock()
	for _, st := range chans {
		if err := h.refreshPresence(ctx, st); err != nil {
			h.logger.Warn("channels: refresh presence", "channel", st.name, "error", err.Error())
			return
		}
	}
}

// presencePollEvery is how often presence is read from the store when
// other processes share it and no NATS tells of changes.
const presencePollEvery = time.Second

// pollStep is the poll loop's step, called every PollInterval and when
// kicked. It brings in what this process did not send itself: with other
// processes and no NATS, it reads the offsets of the channels with members
// here and fetches the messages past what was delivered; with NATS, or
// alone, it only fills gaps (offsets allocated but not yet seen) from the
// store, and gives up on those missing longer than GapTimeout.
func (h *Hub) pollStep() func(ctx context.Context) {
	lastPresence, lastCount := time.Now(), time.Now()
	return func(ctx context.Context) {
		// Alone, with members here, look every second for a process that
		// started since: its messages are to be polled from now on, not
		// from this process's next heartbeat.
		if h.others.Load() == 0 && h.bus == nil && time.Since(lastCount) >= presencePollEvery && h.hasChannels() {
			lastCount = time.Now()
			if n, err := h.presence.others(ctx); err == nil && n > 0 {
				h.others.Store(int64(n))
			}
		}
		polling := h.others.Load() > 0 && h.bus == nil
		h.poll(ctx, polling)
		if polling && time.Since(lastPresence) >= presencePollEvery {
			lastPresence = time.Now()
			h.refreshAllPresence(ctx)
		}
	}
}

// poll fetches the messages this process has not delivered: of every
// channel here when all is true, else only of channels waiting on a gap.
// Then it fences the offsets missing longer than GapTimeout.
func (h *Hub) poll(ctx context.Context, all bool) {
	h.mu.Lock()
	overdue := h.overdue(time.Now())
	var names []string
	for name, st := range h.chans {
		if !st.loading && (all || len(st.pending) > 0) {
			names = append(names, name)
		}
	}
	h.mu.Unlock()
	if len(names) > 0 && !h.fetch(ctx, names) {
		return
	}
	for name, offsets := range overdue {
		for _, o := range offsets {
			m, err := h.log.fence(ctx, name, o)
			if err != nil {
				h.logger.Warn("channels: fence a missing offset", "channel", name, "offset", o, "error", err.Error())
				return
			}
			if m.Data == nil {
				h.logger.Warn("channels: offset never stored in time, going past it", "channel", name, "offset", o)
			}
			h.arrive(m)
		}
	}
}

// fetch reads from the store the messages of names past what was
// delivered here. It reports whether the store answered.
func (h *Hub) fetch(ctx context.Context, names []string) bool {
	offsets, err := h.log.currents(ctx, names)
	if err != nil {
		h.logger.Warn("channels: poll offsets", "error", err.Error())
		return false
	}
	for _, name := range names {
		h.mu.Lock()
		st := h.chans[name]
		delivered := int64(-1)
		if st != nil {
			delivered = st.delivered
		}
		h.mu.Unlock()
		if st == nil || offsets[name] <= delivered {
			continue
		}
		msgs, err := h.log.after(ctx, name, delivered, 1000)
		if err != nil {
			h.logger.Warn("channels: poll messages", "channel", name, "error", err.Error())
			return false
		}
		h.arrive(msgs...)
	}
	return true
}

// hasChannels reports whether any channel has members on this process.
func (h *Hub) hasChannels() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.chans) > 0
}
