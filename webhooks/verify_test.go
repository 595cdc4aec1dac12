package webhooks

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

func hdr(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

func at(unix int64) func() time.Time { return func() time.Time { return time.Unix(unix, 0) } }

const slackBody = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"

// TestPublishedVectors checks each scheme against the example its
// provider publishes, so the schemes agree with the senders and not only
// with themselves.
func TestPublishedVectors(t *testing.T) {
	scenarios := []struct {
		name, scheme, secret string
		req                  Request
		now                  int64
	}{
		{"standard webhooks spec", "standard", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", Request{
			Header: hdr("webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek", "webhook-timestamp", "1614265330",
				"webhook-signature", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="),
			Body: []byte(`{"test": 2432232314}`)}, 1614265330},
		{"github docs", "github", "It's a Secret to Everybody", Request{
			Header: hdr("X-Hub-Signature-256", "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"),
			Body:   []byte("Hello, World!")}, 0},
		{"slack docs", "slack", "8f742231b10e8888abcd99yyyzzz85a5", Request{
			Header: hdr("X-Slack-Request-Timestamp", "1531420618",
				"X-Slack-Signature", "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"),
			Body: []byte(slackBody)}, 1531420618 + 60},
		{"twilio libraries", "twilio", "12345", Request{
			URL:    "https://mycompany.com/myapp.php?foo=1&bar=2",
			Header: hdr("X-Twilio-Signature", "RSOYDt4T1cUTdK1PDd93/VVr8B8=", "Content-Type", "application/x-www-form-urlencoded"),
			Body:   []byte("To=%2B18005551212&Digits=1234&CallSid=CA1234567890ABCDE&From=%2B14158675309&Caller=%2B14158675309")}, 0},
		{"twilio with the default port added by a proxy", "twilio", "12345", Request{
			URL:    "https://mycompany.com:443/myapp.php?foo=1&bar=2",
			Header: hdr("X-Twilio-Signature", "RSOYDt4T1cUTdK1PDd93/VVr8B8=", "Content-Type", "application/x-www-form-urlencoded"),
			Body:   []byte("Caller=%2B14158675309&CallSid=CA1234567890ABCDE&Digits=1234&From=%2B14158675309&To=%2B18005551212")}, 0},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			o := Options{}
			if s.now != 0 {
				o.Now = at(s.now)
			}
			if err := Verify(s.scheme, s.req, s.secret, o); err != nil {
				t.Fatalf("published example refused: %v", err)
			}
			// One byte changed in the body must fail.
			bad := s.req
			bad.Body = append([]byte(nil), s.req.Body...)
			bad.Body[len(bad.Body)-1] ^= 1
			if err := Verify(s.scheme, bad, s.secret, o); !errors.Is(err, ErrBadSignature) {
				t.Fatalf("altered body: got %v, want ErrBadSignature", err)
			}
		})
	}
}

// signed returns a request signed by scheme at unix time ts.
func signed(t *testing.T, scheme, secret string, ts int64, o Options) Request {
	t.Helper()
	r := Request{
		URL:    "https://api.example.com/functions/hook?x=1",
		Header: hdr("webhook-id", "msg_1", "Content-Type", "application/x-www-form-urlencoded"),
		Body:   []byte("b=2&a=1&a=0"),
	}
	o.Now = at(ts)
	if err := Sign(scheme, &r, secret, o); err != nil {
		t.Fatalf("sign: %v", err)
	}
	return r
}

// TestRefusals runs every scheme through the requests an attacker or a
// broken sender makes: forged, wrong secret, truncated, stale, from the
// future, a replay with a fresh timestamp, missing headers.
func TestRefusals(t *testing.T) {
	const now = 1_700_000_000
	secrets := map[string]string{
		"standard": "whsec_" + "c2VjcmV0LWJ5dGVzLWZvci10ZXN0aW5nLW9ubHk=", "stripe": "whsec_stripe",
		"github": "gh", "slack": "sl", "twilio": "tw", "shopify": "sh", "hmac-sha256": "in-house",
	}
	other := map[string]string{"standard": "whsec_" + "b3RoZXItc2VjcmV0LWJ5dGVz"}
	sigHeader := map[string]string{
		"standard": "webhook-signature", "stripe": "Stripe-Signature", "github": "X-Hub-Signature-256",
		"slack": "X-Slack-Signature", "twilio": "X-Twilio-Signature", "shopify": "X-Shopify-Hmac-Sha256",
		"hmac-sha256": DefaultHMACHeader,
	}
	tsHeader := map[string]string{"standard": "webhook-timestamp", "slack": "X-Slack-Request-Timestamp", "hmac-sha256": "X-Webhook-Timestamp"}
	for _, scheme := range Schemes() {
		t.Run(scheme, func(t *testing.T) {
			secret := secrets[scheme]
			o := Options{}
			if scheme == "hmac-sha256" {
				o.TimestampHeader = "X-Webhook-Timestamp"
			}
			good := signed(t, scheme, secret, now, o)
			verify := func(r Request, secret string, at int64) error {
				vo := o
				vo.Now = func() time.Time { return time.Unix(at, 0) }
				return Verify(scheme, r, secret, vo)
			}
			if err := verify(good, secret, now+10); err != nil {
				t.Fatalf("own signature refused: %v", err)
			}
			clone := func() Request {
				c := good
				c.Header = good.Header.Clone()
				c.Body = append([]byte(nil), good.Body...)
				return c
			}
			wrong := other[scheme]
			if wrong == "" {
				wrong = secret + "x"
			}
			if err := verify(good, wrong, now); !errors.Is(err, ErrBadSignature) {
				t.Errorf("wrong secret: got %v, want ErrBadSignature", err)
			}
			forged := clone()
			forged.Body = []byte("b=2&a=1&a=9")
			if err := verify(forged, secret, now); !errors.Is(err, ErrBadSignature) {
				t.Errorf("forged body: got %v, want ErrBadSignature", err)
			}
			truncated := clone()
			h := truncated.Header.Get(sigHeader[scheme])
			truncated.Header.Set(sigHeader[scheme], h[:len(h)-4])
			if err := verify(truncated, secret, now); !errors.Is(err, ErrVerification) {
				t.Errorf("truncated signature: got %v, want a verification error", err)
			}
			missing := clone()
			missing.Header.Del(sigHeader[scheme])
			err := verify(missing, secret, now)
			if !errors.Is(err, ErrMissingHeader) || !strings.Contains(err.Error(), sigHeader[scheme]) {
				t.Errorf("missing header: got %v, want ErrMissingHeader naming %s", err, sigHeader[scheme])
			}
			if err := verify(good, "", now); !errors.Is(err, ErrInvalidSecret) {
				t.Errorf("empty secret: got %v, want ErrInvalidSecret", err)
			}
			timestamped := scheme == "standard" || scheme == "stripe" || scheme == "slack" || scheme == "hmac-sha256"
			if !timestamped {
				return
			}
			if err := verify(good, secret, now+301); !errors.Is(err, ErrTimestamp) {
				t.Errorf("stale: got %v, want ErrTimestamp", err)
			}
			if err := verify(good, secret, now-301); !errors.Is(err, ErrTimestamp) {
				t.Errorf("from the future: got %v, want ErrTimestamp", err)
			}
			// A captured request replayed later with a fresh timestamp:
			// the timestamp is signed, so the signature no longer matches.
			replay := clone()
			later := int64(now + 3600)
			if scheme == "stripe" {
				_, v1, _ := strings.Cut(replay.Header.Get("Stripe-Signature"), ",")
				replay.Header.Set("Stripe-Signature", "t="+strconv.FormatInt(later, 10)+","+v1)
			} else {
				replay.Header.Set(tsHeader[scheme], strconv.FormatInt(later, 10))
			}
			if err := verify(replay, secret, later); !errors.Is(err, ErrBadSignature) {
				t.Errorf("replayed with a fresh timestamp: got %v, want ErrBadSignature", err)
			}
			if err := verify(good, secret, now+30); err != nil {
				t.Errorf("within tolerance: %v", err)
			}
			o2 := o
			o2.Tolerance = 10 * time.Second
			o2.Now = at(now + 30)
			if err := Verify(scheme, good, secret, o2); !errors.Is(err, ErrTimestamp) {
				t.Errorf("custom tolerance: got %v, want ErrTimestamp", err)
			}
		})
	}
}

// TestSeveralSignatures checks that any one matching signature among
// several passes (a sender rotating its secret signs with both).
func TestSeveralSignatures(t *testing.T) {
	const now = 1_700_000_000
	oldKey, newKey := "whsec_b2xkLXNlY3JldC1ieXRlcw==", "whsec_bmV3LXNlY3JldC1ieXRlcw=="
	r := signed(t, "standard", newKey, now, Options{})
	fresh := r.Header.Get("webhook-signature")
	r2 := signed(t, "standard", oldKey, now, Options{})
	r.Header.Set("webhook-signature", "v1a,ignored "+r2.Header.Get("webhook-signature")+" "+fresh)
	for _, key := range []string{oldKey, newKey} {
		if err := Verify("standard", r, key, Options{Now: at(now)}); err != nil {
			t.Errorf("standard with %s: %v", key, err)
		}
	}
	s := signed(t, "stripe", "whsec_new", now, Options{})
	_, v1new, _ := strings.Cut(s.Header.Get("Stripe-Signature"), ",")
	s2 := signed(t, "stripe", "whsec_old", now, Options{})
	s.Header.Set("Stripe-Signature", s2.Header.Get("Stripe-Signature")+","+v1new+",v0=deadbeef")
	for _, key := range []string{"whsec_old", "whsec_new"} {
		if err := Verify("stripe", s, key, Options{Now: at(now)}); err != nil {
			t.Errorf("stripe with %s: %v", key, err)
		}
	}
	if err := Verify("stripe", s, "whsec_third", Options{Now: at(now)}); !errors.Is(err, ErrBadSignature) {
		t.Errorf("stripe with another secret: got %v", err)
	}
}

// TestBadInput covers input that is not a signature problem: unknown
// schemes, malformed secrets and headers, bad options.
func TestBadInput(t *testing.T) {
	scenarios := []struct {
		name, scheme, secret string
		req                  Request
		opts                 Options
		want                 error
		says                 string
	}{
		{"unknown scheme", "paypal", "s", Request{}, Options{}, ErrUnknownScheme, "hmac-sha256"},
		{"standard secret not base64", "standard", "whsec_***", Request{}, Options{}, ErrInvalidSecret, "whsec_"},
		{"standard timestamp not a number", "standard", "whsec_c2VjcmV0", Request{Header: hdr("webhook-id", "m", "webhook-timestamp", "soon", "webhook-signature", "v1,AAAA")}, Options{}, ErrMalformedHeader, "webhook-timestamp"},
		{"standard without v1", "standard", "whsec_c2VjcmV0", Request{Header: hdr("webhook-id", "m", "webhook-timestamp", "1", "webhook-signature", "v2,AAAA")}, Options{Now: at(1)}, ErrMalformedHeader, "no v1"},
		{"stripe without timestamp", "stripe", "s", Request{Header: hdr("Stripe-Signature", "v1=abcd")}, Options{}, ErrMalformedHeader, "t="},
		{"stripe without v1", "stripe", "s", Request{Header: hdr("Stripe-Signature", "t=1")}, Options{}, ErrMalformedHeader, "v1="},
		{"github without prefix", "github", "s", Request{Header: hdr("X-Hub-Signature-256", "abcd")}, Options{}, ErrMalformedHeader, "sha256="},
		{"github not hex", "github", "s", Request{Header: hdr("X-Hub-Signature-256", "sha256=zz")}, Options{}, ErrMalformedHeader, "hex"},
		{"slack without v0", "slack", "s", Request{Header: hdr("X-Slack-Request-Timestamp", "1", "X-Slack-Signature", "abcd")}, Options{}, ErrMalformedHeader, "v0="},
		{"slack without timestamp", "slack", "s", Request{Header: hdr("X-Slack-Signature", "v0=abcd")}, Options{}, ErrMissingHeader, "X-Slack-Request-Timestamp"},
		{"twilio without full URL", "twilio", "s", Request{URL: "/functions/sms", Header: hdr("X-Twilio-Signature", "AAAA")}, Options{}, ErrInvalidOptions, "full URL"},
		{"shopify not base64", "shopify", "s", Request{Header: hdr("X-Shopify-Hmac-Sha256", "***")}, Options{}, ErrMalformedHeader, "base64"},
		{"hmac bad encoding option", "hmac-sha256", "s", Request{Header: hdr("X-Webhook-Signature", "ab")}, Options{Encoding: "hex2"}, ErrInvalidOptions, "hex2"},
		{"hmac named header missing", "hmac-sha256", "s", Request{Header: hdr("X-Webhook-Signature", "ab")}, Options{Header: "X-Acme-Sig"}, ErrMissingHeader, "X-Acme-Sig"},
		{"hmac neither hex nor base64", "hmac-sha256", "s", Request{Header: hdr("X-Webhook-Signature", "***")}, Options{}, ErrMalformedHeader, "hex or base64"},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			err := Verify(s.scheme, s.req, s.secret, s.opts)
			if !errors.Is(err, s.want) || !strings.Contains(err.Error(), s.says) {
				t.Fatalf("got %v, want %v saying %q", err, s.want, s.says)
			}
		})
	}
}

// TestHMACEncodings checks the in-house scheme in both encodings, with
// the sha256= prefix some senders add, under a header of the caller's.
func TestHMACEncodings(t *testing.T) {
	for _, enc := range []string{"hex", "base64"} {
		o := Options{Header: "X-Acme-Signature", Encoding: enc}
		r := Request{Header: http.Header{}, Body: []byte(`{"order":1}`)}
		if err := Sign("hmac-sha256", &r, "shared", o); err != nil {
			t.Fatal(err)
		}
		if err := Verify("hmac-sha256", r, "shared", Options{Header: "X-Acme-Signature"}); err != nil {
			t.Errorf("%s, either encoding accepted: %v", enc, err)
		}
		if err := Verify("hmac-sha256", r, "shared", o); err != nil {
			t.Errorf("%s, named encoding: %v", enc, err)
		}
		r.Header.Set("X-Acme-Signature", "sha256="+r.Header.Get("X-Acme-Signature"))
		if err := Verify("hmac-sha256", r, "shared", o); err != nil {
			t.Errorf("%s with sha256= prefix: %v", enc, err)
		}
	}
}
