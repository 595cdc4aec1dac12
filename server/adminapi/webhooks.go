package adminapi

import "time"

// The webhook bodies mirror the JSON of the webhooks package's Endpoint,
// Delivery, Attempt and Message, which the command line may not import;
// the server converts to them (server/webhooks_answers.go), and a test
// there fails when the webhooks package gains a field these lack.

// WebhookEndpoint is an outbound webhook endpoint as the routes under
// /api/admin/webhooks/endpoints answer it. Secret is set only in the answer
// to a create or a rotate.
type WebhookEndpoint struct {
	ID             string         `json:"id"`
	URL            string         `json:"url"`
	Events         []string       `json:"events"`
	Description    string         `json:"description,omitempty"`
	Version        int            `json:"version"`
	Metadata       map[string]any `json:"metadata,omitempty"`
	RateLimit      int            `json:"rate_limit,omitempty"`
	MaxAttempts    int            `json:"max_attempts,omitempty"`
	Disabled       bool           `json:"disabled"`
	DisabledReason string         `json:"disabled_reason,omitempty"`
	Secret         string         `json:"secret,omitempty"`
	// PreviousSecretUntil is when a rotated-out secret stops signing;
	// FailingSince when the current run of failed attempts began.
	PreviousSecretUntil time.Time `json:"previous_secret_until,omitzero"`
	FailingSince        time.Time `json:"failing_since,omitzero"`
	CreatedAt           time.Time `json:"created_at"`
	UpdatedAt           time.Time `json:"updated_at"`
}

// WebhookEndpointRequest is the body of POST /api/admin/webhooks/endpoints.
// The optional fields are left out when zero, so the server's defaults
// apply.
type WebhookEndpointRequest struct {
	URL         string   `json:"url"`
	Events      []string `json:"events"`
	Description string   `json:"description,omitempty"`
	Version     int      `json:"version,omitempty"`
	RateLimit   int      `json:"rate_limit,omitempty"`
	MaxAttempts int      `json:"max_attempts,omitempty"`
}

// WebhookEndpointAnswer answers a create, get, disable, enable or rotate
// of an endpoint.
type WebhookEndpointAnswer struct {
	Endpoint WebhookEndpoint `json:"endpoint"`
}

// WebhookEndpointsAnswer answers GET /api/admin/webhooks/endpoints; Next
// is the after of the following page, empty on the last.
type WebhookEndpointsAnswer struct {
	Endpoints []WebhookEndpoint `json:"endpoints"`
	Next      string            `json:"next"`
}

// WebhookDelivery is one delivery of a message to an endpoint (or to a
// URL sent to directly).
type WebhookDelivery struct {
	ID          string    `json:"id"`
	MessageID   string    `json:"message_id"`
	EndpointID  string    `json:"endpoint_id,omitempty"`
	URL         string    `json:"url,omitempty"`
	Type        string    `json:"type,omitempty"`
	Version     string    `json:"version"`
	Status      string    `json:"status"`
	Attempts    int       `json:"attempts"`
	MaxAttempts int       `json:"max_attempts"`
	Replays     int       `json:"replays,omitempty"`
	LastStatus  int       `json:"last_status,omitempty"`
	LastError   string    `json:"last_error,omitempty"`
	NextAttempt time.Time `json:"next_attempt_at,omitzero"`
	DeliveredAt time.Time `json:"delivered_at,omitzero"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// WebhookDeliveriesAnswer answers GET /api/admin/webhooks/deliveries,
// newest first; Next is the before of the following page.
type WebhookDeliveriesAnswer struct {
	Deliveries []WebhookDelivery `json:"deliveries"`
	Next       string            `json:"next"`
}

// WebhookDeliveryAnswer answers POST
// /api/admin/webhooks/deliveries/:id/replay: the delivery, pending again.
type WebhookDeliveryAnswer struct {
	Delivery WebhookDelivery `json:"delivery"`
}

// WebhookReplayRequest is the body of POST
// /api/admin/webhooks/endpoints/:id/replay: since is RFC 3339.
type WebhookReplayRequest struct {
	Since string `json:"since"`
}

// WebhookReplayAnswer answers POST /api/admin/webhooks/endpoints/:id/replay:
// how many dead deliveries are pending again.
type WebhookReplayAnswer struct {
	Replayed int `json:"replayed"`
}

// WebhookAttempt is one try of a delivery: when, the receiver's status,
// headers and the first KiB of its answer, or the error; RetryAt is when
// the next attempt is due.
type WebhookAttempt struct {
	N               int               `json:"n"`
	At              time.Time         `json:"at"`
	Status          int               `json:"status,omitempty"`
	DurationMS      int64             `json:"duration_ms"`
	ResponseHeaders map[string]string `json:"response_headers,omitempty"`
	ResponseBody    string            `json:"response_body,omitempty"`
	Error           string            `json:"error,omitempty"`
	RetryAt         time.Time         `json:"retry_at,omitzero"`
}

// WebhookAttemptsAnswer answers GET
// /api/admin/webhooks/deliveries/:id/attempts, oldest first.
type WebhookAttemptsAnswer struct {
	Attempts []WebhookAttempt `json:"attempts"`
}

// WebhookMessage is one emitted message (or one-off send): its payload per
// payload version ("0" the default) and how many deliveries it made.
type WebhookMessage struct {
	ID         string         `json:"id"`
	Type       string         `json:"type"`
	Payloads   map[string]any `json:"payloads,omitempty"`
	URL        string         `json:"url,omitempty"`
	Deliveries int            `json:"deliveries"`
	CreatedAt  time.Time      `json:"created_at"`
}

// WebhookMessageAnswer answers POST /api/admin/webhooks/emit.
type WebhookMessageAnswer struct {
	Message WebhookMessage `json:"message"`
}

// WebhookMessagesAnswer answers GET /api/admin/webhooks/messages, newest
// first; Next is the before of the following page.
type WebhookMessagesAnswer struct {
	Messages []WebhookMessage `json:"messages"`
	Next     string           `json:"next"`
}
