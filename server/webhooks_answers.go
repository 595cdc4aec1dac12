package server

import (
	"github.com/moonbase-dev/moonbase/server/adminapi"
	"github.com/moonbase-dev/moonbase/webhooks"
)

// The admin API answers webhook routes with the bodies of package
// adminapi, which the command line decodes; these convert the webhooks
// package's values to them. TestWebhookAnswersCarryEveryField keeps the
// two in step.

func endpointBody(ep webhooks.Endpoint) adminapi.WebhookEndpoint {
	return adminapi.WebhookEndpoint{
		ID: ep.ID, URL: ep.URL, Events: ep.Events, Description: ep.Description, Version: ep.Version,
		Metadata: ep.Metadata, RateLimit: ep.RateLimit, MaxAttempts: ep.MaxAttempts,
		Disabled: ep.Disabled, DisabledReason: ep.DisabledReason, Secret: ep.Secret,
		PreviousSecretUntil: ep.PreviousSecretUntil, FailingSince: ep.FailingSince,
		CreatedAt: ep.CreatedAt, UpdatedAt: ep.UpdatedAt,
	}
}

func endpointAnswer(ep webhooks.Endpoint) adminapi.WebhookEndpointAnswer {
	return adminapi.WebhookEndpointAnswer{Endpoint: endpointBody(ep)}
}

func deliveryBody(d webhooks.Delivery) adminapi.WebhookDelivery {
	return adminapi.WebhookDelivery{
		ID: d.ID, MessageID: d.MessageID, EndpointID: d.EndpointID, URL: d.URL, Type: d.Type,
		Version: d.Version, Status: d.Status, Attempts: d.Attempts, MaxAttempts: d.MaxAttempts,
		Replays: d.Replays, LastStatus: d.LastStatus, LastError: d.LastError,
		NextAttempt: d.NextAttempt, DeliveredAt: d.DeliveredAt, CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt,
	}
}

func attemptBody(a webhooks.Attempt) adminapi.WebhookAttempt {
	return adminapi.WebhookAttempt{
		N: a.N, At: a.At, Status: a.Status, DurationMS: a.DurationMS, ResponseHeaders: a.ResponseHeaders,
		ResponseBody: a.ResponseBody, Error: a.Error, RetryAt: a.RetryAt,
	}
}

func messageBody(m webhooks.Message) adminapi.WebhookMessage {
	return adminapi.WebhookMessage{
		ID: m.ID, Type: m.Type, Payloads: m.Payloads, URL: m.URL, Deliveries: m.Deliveries, CreatedAt: m.CreatedAt,
	}
}

// bodies converts each of list with body.
func bodies[T, B any](list []T, body func(T) B) []B {
	out := make([]B, len(list))
	for i, v := range list {
		out[i] = body(v)
	}
	return out
}
