package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"strings"
	"time"
)

// A normal function's throughput while an attacker keeps sending the trim
// idiom a body it backtracks on, beside the same function with no attack.

// trimSource trims its body with the everyday idiom; on a body of spaces
// between two letters the pattern backtracks for seconds.
const trimSource = `function handle(input, ctx)
  return (input.body:match("^%s*(.-)%s*$"))
end`

// trimTimeout is the attacked function's timeout: each attack request
// holds a run for that long.
const trimTimeout = "1s"

// attackConns is how many connections keep sending the attack.
const attackConns = 4

// trimAttackBody is 40 KB of spaces between two letters.
func trimAttackBody() string { return "x" + strings.Repeat(" ", 40<<10) + "x" }

func hostileScenario() Scenario {
	const name = "functions/lua/http-under-trim-attack"
	return Scenario{
		Name: name,
		About: fmt.Sprintf("GET /functions/hello (64 connections) while %d more keep sending POST /functions/trim a 40 KB body its trim pattern backtracks on until its %s timeout; "+
			"the ratio is to the same load measured just before without the attack", attackConns, trimTimeout),
		Workers: httpConns,
		Measure: func(ctx context.Context, env *Env, opts RunOptions) (Result, error) {
			res := Result{Workers: httpConns}
			begin := time.Now()
			p, err := helloServer(ctx, env, filepath.Join(env.Dir, strings.ReplaceAll(name, "/", "-")))
			if p != nil {
				defer p.stop()
			}
			if err != nil {
				return res, err
			}
			src, err := json.Marshal(trimSource)
			if err != nil {
				return res, err
			}
			def := `{"source":` + string(src) + `,"triggers":[{"http": true}],"timeout":"` + trimTimeout + `"}`
			if _, err := callJSON(p.url, http.MethodPut, "/api/admin/functions/trim", benchAdminToken, def, http.StatusOK, http.StatusCreated); err != nil {
				return res, err
			}
			gen, err := loadGenerator(opts.Ops)
			if err != nil {
				return res, err
			}
			hello := loadTarget{Method: "GET", Path: "/functions/hello", Want: `"message":"hello"`}
			body := trimAttackBody()
			attack := loadTarget{Method: "POST", Path: "/functions/trim", Status: http.StatusGatewayTimeout,
				Body: func(*rand.Rand) ([]byte, string) { return []byte(body), "timed out" }}
			host := hostOf(p.url)
			if r := goLoad(ctx, host, hello, 1, 0, 1); r.errors > 0 {
				return res, r.firstErr
			}
			if r := goLoad(ctx, host, attack, 1, 0, 1); r.errors > 0 {
				return res, fmt.Errorf("the attack request: %w", r.firstErr)
			}
			if opts.Warmup > 0 {
				if _, err := runLoad(ctx, gen, p.url, hello, httpConns, opts.Warmup, 0, env.Dir); err != nil {
					return res, err
				}
			}
			quiet, err := runLoad(ctx, gen, p.url, hello, httpConns, opts.Duration, opts.Ops, env.Dir)
			if err != nil {
				return res, err
			}
			res.Setup = time.Since(begin)

			// The attack runs for the whole measured window and a second
			// beyond, so that every measured request meets it.
			attackCtx, stopAttack := context.WithCancel(ctx)
			attacked := make(chan loadResult, 1)
			go func() { attacked <- goLoad(attackCtx, host, attack, attackConns, opts.Duration+2*time.Second, 0) }()
			w, err := openWindow(p)
			if err != nil {
				stopAttack()
				return res, err
			}
			lr, err := runLoad(ctx, gen, p.url, hello, httpConns, opts.Duration, opts.Ops, env.Dir)
			if ferr := w.fill(&res); err == nil {
				err = ferr
			}
			if err != nil {
				stopAttack()
			}
			ar := <-attacked
			stopAttack()
			if err != nil {
				return res, err
			}
			if ar.errors > 0 {
				return res, fmt.Errorf("the attack requests: %w", ar.firstErr)
			}
			res.Ops, res.Errors, res.FirstErr, res.Elapsed = lr.ops, lr.errors, lr.firstErr, lr.elapsed
			res.P50, res.P99 = lr.p50, lr.p99
			quietRate := float64(quiet.ops) / quiet.elapsed.Seconds()
			res.Name = fmt.Sprintf("%s [%s] (%.2f× the %.0f req/s without the attack; %d attack requests answered 504)",
				name, lr.generator, res.OpsPerSec()/quietRate, quietRate, ar.ops)
			return res, nil
		},
	}
}
