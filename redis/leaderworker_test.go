package redis

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/solocron/solocron"
)

// The "leader" worker campaigns, says "leading <term>", then obeys lines
// on stdin:
//
//	claim <job> <tick µs>     -> claim granted|refused|notleader|error <err>
//	spin <job> <n> <every>    -> claims ticks 1..n of job, one per interval,
//	                             then: spun <granted> <refused> <notleader> <errors>
//	release                   -> released <unix ns after Release returned>
//
// It says "lost <err>" when Lost closes. Settings come from W_URL, W_APP,
// W_TTL.
func init() { workers["leader"] = leaderWorker }

func workerOptions() (Options, error) {
	o := fast(Options{URL: os.Getenv("W_URL"), App: os.Getenv("W_APP")})
	if s := os.Getenv("W_TTL"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			return o, err
		}
		o.TTL = d
	}
	return o, nil
}

func workerEnvFor(url, app string, ttl time.Duration) []string {
	return []string{"W_URL=" + url, "W_APP=" + app, "W_TTL=" + ttl.String()}
}

// workerElector is a worker's Elector, from its W_* settings.
func workerElector() (*Elector, error) {
	o, err := workerOptions()
	if err != nil {
		return nil, err
	}
	return New(o)
}

func leaderWorker() error {
	e, err := workerElector()
	if err != nil {
		return err
	}
	defer e.Close()
	host, _ := os.Hostname()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	l, err := e.Campaign(ctx, solocron.Candidate{PID: os.Getpid(), Hostname: host})
	if err != nil {
		return err
	}
	fmt.Printf("leading %d\n", l.Term())
	go func() {
		<-l.Lost()
		fmt.Printf("lost %v\n", l.Err())
	}()
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		f := strings.Fields(in.Text())
		switch {
		case len(f) == 3 && f[0] == "claim":
			us, _ := strconv.ParseInt(f[2], 10, 64)
			fmt.Printf("claim %s\n", claimOne(ctx, l, f[1], time.UnixMicro(us)))
		case len(f) == 4 && f[0] == "spin":
			n, _ := strconv.Atoi(f[2])
			every, _ := time.ParseDuration(f[3])
			counts := map[string]int{}
			for i := 1; i <= n; i++ {
				counts[strings.Fields(claimOne(ctx, l, f[1], tick(i)))[0]]++
				time.Sleep(every)
			}
			fmt.Printf("spun %d %d %d %d\n", counts["granted"], counts["refused"], counts["notleader"], counts["error"])
		case len(f) == 1 && f[0] == "release":
			if err := l.Release(ctx); err != nil {
				return err
			}
			fmt.Printf("released %d\n", time.Now().UnixNano())
		default:
			return fmt.Errorf("bad command %q", in.Text())
		}
	}
	return nil
}

func claimOne(ctx context.Context, l solocron.Lease, job string, t time.Time) string {
	ok, err := l.Claim(ctx, []solocron.Claim{{Job: job, Tick: t}})
	switch {
	case errors.Is(err, solocron.ErrNotLeader):
		return "notleader"
	case err != nil:
		return "error " + err.Error()
	case ok[0]:
		return "granted"
	default:
		return "refused"
	}
}
