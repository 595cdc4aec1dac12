package db

// System collections. Their names start with "_", which the data API never
// lets a client reach.
const (
	Users            = "_users"
	Sessions         = "_sessions"
	Functions        = "_functions"
	FunctionVersions = "_function_versions"
	Executions       = "_executions"
	Events           = "_events"
	Jobs             = "_jobs"
	Schedules        = "_schedules"
	Dedupe           = "_dedupe"
	Outbox           = "_outbox"
	Secrets          = "_secrets"
	Meta             = "_meta"
	// Realtime channels: each channel's latest offset, its messages, who
	// is connected where, and which server processes are alive.
	ChannelOffsets  = "_channels"
	ChannelMessages = "_channel_messages"
	ChannelPresence = "_channel_presence"
	ChannelNodes    = "_channel_nodes"
	// AccountTokens holds the hashes of password-reset and
	// email-verification tokens, each single-use and expiring.
	AccountTokens = "_account_tokens"
	// WebhookEndpoints, WebhookMessages and Deliveries hold outbound
	// webhooks: where to send, what was emitted, each delivery and its
	// attempts. Inbound is the raw-request log of http triggers.
	WebhookEndpoints = "_webhook_endpoints"
	WebhookMessages  = "_webhook_messages"
	Deliveries       = "_deliveries"
	Inbound          = "_inbound"
)
