package adminapi

import "time"

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
	CreatedAt      time.Time      `json:"created_at"`
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
	Status      string    `json:"status"`
	Attempts    int       `json:"attempts"`
	MaxAttempts int       `json:"max_attempts"`
	Replays     int       `json:"replays,omitempty"`
	LastStatus  int       `json:"last_status,omitempty"`
	LastError   string    `json:"last_error,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
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
