package cli

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/moonbase-dev/moonbase/server/adminapi"
)

// deliveryStatuses are the statuses GET /api/admin/webhooks/deliveries
// filters on.
const deliveryStatuses = "pending, delivered, dead"

// newWebhooksCmd is `moonbase webhooks …`: outbound endpoints, their
// deliveries, and replay.
func newWebhooksCmd(o *clientOptions) *cobra.Command {
	return groupCmd("webhooks", "Manage outbound webhook endpoints, list deliveries, replay them",
		groupCmd("endpoints", "Register, list, rotate, disable and delete webhook endpoints",
			newEndpointsListCmd(o),
			newEndpointsCreateCmd(o),
			newEndpointActionCmd(o, "rotate", "rotated", "Issue a new signing secret (the old one signs too for 24 hours)", http.MethodPost, "/rotate"),
			newEndpointActionCmd(o, "disable", "disabled", "Stop delivering to an endpoint", http.MethodPost, "/disable"),
			newEndpointActionCmd(o, "enable", "enabled", "Deliver to a disabled endpoint again", http.MethodPost, "/enable"),
			newEndpointActionCmd(o, "delete", "deleted", "Delete an endpoint", http.MethodDelete, ""),
		),
		groupCmd("deliveries", "List webhook deliveries",
			newDeliveriesListCmd(o),
		),
		newWebhooksReplayCmd(o),
	)
}

func endpointPath(id string) string { return "/api/admin/webhooks/endpoints/" + pathName(id) }

func newEndpointsListCmd(o *clientOptions) *cobra.Command {
	var limit int
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List endpoints (never their secrets)",
		Args:  argsBetween(0, 0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if limit < 1 {
				return errors.New("--limit must be at least 1")
			}
			path := "/api/admin/webhooks/endpoints?limit=" + strconv.Itoa(limit)
			return exchange(cmd, o, http.MethodGet, path, nil, func(w io.Writer, ans adminapi.WebhookEndpointsAnswer) error {
				if len(ans.Endpoints) == 0 {
					fmt.Fprintln(cmd.ErrOrStderr(), "no endpoints")
					return nil
				}
				t := newTable(w, "ID", "URL", "EVENTS", "VERSION", "STATE")
				for _, e := range ans.Endpoints {
					state := "enabled"
					if e.Disabled {
						state = "disabled: " + orDash(e.DisabledReason)
					}
					t.row(e.ID, e.URL, strings.Join(e.Events, ","), strconv.Itoa(e.Version), state)
				}
				return t.flush()
			})
		},
	}
	cmd.Flags().IntVar(&limit, "limit", 100, "at most this many endpoints")
	return cmd
}

func newEndpointsCreateCmd(o *clientOptions) *cobra.Command {
	var req adminapi.WebhookEndpointRequest
	cmd := &cobra.Command{
		Use:   "create URL --events TYPE[,TYPE…]",
		Short: "Register an endpoint; its signing secret is printed this once",
		Args:  argsBetween(1, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(req.Events) == 0 {
				return errors.New(`give --events: event types, prefixes such as "order.*", or "*"`)
			}
			req.URL = args[0]
			return exchange(cmd, o, http.MethodPost, "/api/admin/webhooks/endpoints", req, func(w io.Writer, ans adminapi.WebhookEndpointAnswer) error {
				if _, err := fmt.Fprintf(w, "created endpoint %s\nsecret %s\n", ans.Endpoint.ID, ans.Endpoint.Secret); err != nil {
					return err
				}
				fmt.Fprintln(cmd.ErrOrStderr(), "keep the secret now: it is not shown again")
				return nil
			})
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&req.Events, "events", nil, `event types to deliver, prefixes ("order.*") or "*"`)
	f.StringVar(&req.Description, "description", "", "what the endpoint is for")
	f.IntVar(&req.Version, "version", 1, "the payload version the endpoint receives")
	f.IntVar(&req.RateLimit, "rate-limit", 0, "at most this many deliveries per second (0: no limit)")
	f.IntVar(&req.MaxAttempts, "max-attempts", 0, "attempts before a delivery is dead (0: the server's default)")
	return cmd
}

// newEndpointActionCmd is one of rotate, disable, enable and delete: one
// request on an endpoint by its ID. A rotate prints the new secret.
func newEndpointActionCmd(o *clientOptions, name, done, short, method, suffix string) *cobra.Command {
	return &cobra.Command{
		Use:   name + " ID",
		Short: short,
		Args:  argsBetween(1, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id := args[0]
			return exchange(cmd, o, method, endpointPath(id)+suffix, nil, func(w io.Writer, ans adminapi.WebhookEndpointAnswer) error {
				if _, err := fmt.Fprintf(w, "%s endpoint %s\n", done, id); err != nil {
					return err
				}
				if ans.Endpoint.Secret != "" {
					_, err := fmt.Fprintf(w, "secret %s\n", ans.Endpoint.Secret)
					return err
				}
				return nil
			})
		},
	}
}

func newDeliveriesListCmd(o *clientOptions) *cobra.Command {
	var (
		dead             bool
		status, endpoint string
		limit            int
	)
	cmd := &cobra.Command{
		Use:   "list [--dead | --status STATUS] [--endpoint ID]",
		Short: "List deliveries, newest first",
		Args:  argsBetween(0, 0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			q, err := statusQuery(dead, status, "delivery", deliveryStatuses, limit)
			if err != nil {
				return err
			}
			if endpoint != "" {
				q.Set("endpoint", endpoint)
			}
			return exchange(cmd, o, http.MethodGet, "/api/admin/webhooks/deliveries?"+q.Encode(), nil, func(w io.Writer, ans adminapi.WebhookDeliveriesAnswer) error {
				if len(ans.Deliveries) == 0 {
					fmt.Fprintln(cmd.ErrOrStderr(), "no deliveries")
					return nil
				}
				t := newTable(w, "ID", "TYPE", "TO", "STATUS", "ATTEMPTS", "CREATED", "LAST")
				for _, d := range ans.Deliveries {
					last := d.LastError
					if last == "" && d.LastStatus != 0 {
						last = strconv.Itoa(d.LastStatus)
					}
					t.row(d.ID, orDash(d.Type), orDash(cmp.Or(d.EndpointID, d.URL)), d.Status,
						fmt.Sprintf("%d/%d", d.Attempts, d.MaxAttempts), localTime(d.CreatedAt), orDash(last))
				}
				return t.flush()
			})
		},
	}
	f := cmd.Flags()
	f.BoolVar(&dead, "dead", false, "only dead deliveries: those that failed their last attempt")
	f.StringVar(&status, "status", "", "only deliveries of this status: "+deliveryStatuses)
	f.StringVar(&endpoint, "endpoint", "", "only this endpoint's deliveries")
	f.IntVar(&limit, "limit", 100, "at most this many deliveries")
	return cmd
}

func newWebhooksReplayCmd(o *clientOptions) *cobra.Command {
	var endpoint, since string
	cmd := &cobra.Command{
		Use:   "replay ID | --endpoint ID --since TIME",
		Short: "Send a delivery again, or every dead delivery of an endpoint created since a time",
		Args:  argsBetween(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if (len(args) == 1) == (endpoint != "") {
				return errors.New("give a delivery ID, or --endpoint with --since (not both)")
			}
			if len(args) == 1 {
				if since != "" {
					return errors.New("--since goes with --endpoint, not with a delivery ID")
				}
				id := args[0]
				return exchange(cmd, o, http.MethodPost, "/api/admin/webhooks/deliveries/"+pathName(id)+"/replay", nil, func(w io.Writer, ans adminapi.WebhookDeliveryAnswer) error {
					_, err := fmt.Fprintf(w, "replaying delivery %s: %s\n", id, orDash(ans.Delivery.Status))
					return err
				})
			}
			at, err := parseSince(since, time.Now())
			if err != nil {
				return err
			}
			body := adminapi.WebhookReplayRequest{Since: at.UTC().Format(time.RFC3339)}
			return exchange(cmd, o, http.MethodPost, endpointPath(endpoint)+"/replay", body, func(w io.Writer, ans adminapi.ReplayedAnswer) error {
				n := fmt.Sprintf("%d dead deliveries", ans.Replayed)
				if ans.Replayed == 1 {
					n = "1 dead delivery"
				}
				_, err := fmt.Fprintf(w, "replaying %s of %s\n", n, endpoint)
				return err
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&endpoint, "endpoint", "", "replay this endpoint's dead deliveries")
	f.StringVar(&since, "since", "", "those created since this time: RFC 3339 (2026-12-01T00:00:00Z) or a duration ago (24h)")
	return cmd
}

// parseSince reads an RFC 3339 time, or a duration meaning that long
// before now.
func parseSince(s string, now time.Time) (time.Time, error) {
	const forms = "a time (2026-12-01T00:00:00Z) or a duration ago (24h)"
	if s == "" {
		return time.Time{}, errors.New("give --since: " + forms)
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("--since %q: give %s", s, forms)
}
