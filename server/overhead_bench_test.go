package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"
)

// What a function call costs on top of the handler: each benchmark drives
// a server on a real 127.0.0.1 listener over keep-alive connections, as a
// client would, and compares with a bare fiber app answering the same
// {"message":"hello"}. The request log is formatted and then dropped, as
// in production with a log shipper. ns/op and allocs/op include the
// client's share, the same in every benchmark.

const benchHello = `function handle(input, ctx)
  return {message = "hello"}
end`

// benchClient sends requests to addr on keep-alive connections.
func benchClient(addr string) *fasthttp.HostClient {
	return &fasthttp.HostClient{Addr: addr, MaxConns: 64, ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second}
}

// benchHelloServer starts a server on the default configuration with the
// hello function saved with both triggers.
func benchHelloServer(b *testing.B) string {
	b.Helper()
	cfg := DefaultConfig()
	cfg.Server.Addr = "127.0.0.1:0"
	cfg.DataDir = b.TempDir()
	cfg.AdminToken = testAdminToken
	s, err := New(cfg, Deps{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Stderr: io.Discard})
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = s.Shutdown(ctx)
	})
	src, _ := json.Marshal(benchHello)
	body := `{"source":` + string(src) + `,"triggers":[{"invoke":true},{"http":true}]}`
	req, res := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(res)
	req.SetRequestURI("http://" + s.Addr() + "/api/admin/functions/hello")
	req.Header.SetMethod("PUT")
	req.Header.Set("Authorization", "Bearer "+testAdminToken)
	req.Header.SetContentType("application/json")
	req.SetBodyString(body)
	if err := benchClient(s.Addr()).Do(req, res); err != nil || res.StatusCode() >= 300 {
		b.Fatalf("save hello: %v %d %s", err, res.StatusCode(), res.Body())
	}
	return s.Addr()
}

// benchRequests sends method path (with body, when not empty) from
// parallel keep-alive clients and checks every answer has status and
// holds want.
func benchRequests(b *testing.B, addr, method, path, body string, status int, want string) {
	b.Helper()
	c := benchClient(addr)
	url := "http://" + addr + path
	b.ReportAllocs()
	b.SetParallelism(4)
	defer reportCPU(b)()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		req, res := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
		defer fasthttp.ReleaseRequest(req)
		defer fasthttp.ReleaseResponse(res)
		req.SetRequestURI(url)
		req.Header.SetMethod(method)
		if body != "" {
			req.Header.SetContentType("application/json")
			req.SetBodyString(body)
		}
		for pb.Next() {
			if err := c.Do(req, res); err != nil {
				b.Error(err)
				return
			}
			if res.StatusCode() != status || !bytes.Contains(res.Body(), []byte(want)) {
				b.Errorf("%d %s", res.StatusCode(), res.Body())
				return
			}
		}
	})
}

// helloAnswer is what every answer of the hello function holds.
const helloAnswer = `"message":"hello"`

// reportCPU adds the process's CPU time per operation (user and system,
// client and server together) to the benchmark's figures when the
// returned function is called: on a shared machine the wall time per
// operation says more about the neighbours than about the server.
func reportCPU(b *testing.B) func() {
	cpu := func() time.Duration {
		var ru syscall.Rusage
		if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
			b.Fatal(err)
		}
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	start := cpu()
	return func() {
		if b.N > 0 {
			b.ReportMetric(float64((cpu()-start).Microseconds())/float64(b.N), "cpu-µs/op")
		}
	}
}

func BenchmarkBareFiberHello(b *testing.B) {
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Get("/hello", func(c *fiber.Ctx) error { return c.JSON(fiber.Map{"message": "hello"}) })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go func() { _ = app.Listener(ln) }()
	b.Cleanup(func() { _ = app.Shutdown() })
	benchRequests(b, ln.Addr().String(), "GET", "/hello", "", fasthttp.StatusOK, helloAnswer)
}

func BenchmarkHTTPTriggerHello(b *testing.B) {
	benchRequests(b, benchHelloServer(b), "GET", "/functions/hello", "", fasthttp.StatusOK, helloAnswer)
}

func BenchmarkInvokeHello(b *testing.B) {
	benchRequests(b, benchHelloServer(b), "POST", "/api/functions/hello", `{"name":"bench"}`, fasthttp.StatusOK, helloAnswer)
}

// BenchmarkNotFound is the middleware alone: no route answers, so the
// request costs its id, context, log line and error answer.
func BenchmarkNotFound(b *testing.B) {
	benchRequests(b, benchHelloServer(b), "GET", "/nothing", "", fasthttp.StatusNotFound, "")
}
