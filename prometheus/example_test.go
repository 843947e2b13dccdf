package solocronprom_test

import (
	"bufio"
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/solocron/solocron"
	solocronprom "github.com/solocron/solocron/prometheus"
)

// The Collector's hooks go into the Scheduler's Options, Watch follows New,
// and the Collector is registered like any other. With the default
// registry: prometheus.MustRegister(c) and promhttp.Handler().
func Example() {
	dir, _ := os.MkdirTemp("", "example-")
	defer os.RemoveAll(dir)

	c := solocronprom.New(solocronprom.Options{Namespace: "solocron"})
	opts := solocron.Options{LockPath: filepath.Join(dir, "billing.lock")}
	opts.Hooks = solocron.JoinHooks(opts.Hooks, c.Hooks()) // after hooks of your own, if any
	s, err := solocron.New(opts)
	if err != nil {
		log.Fatal(err)
	}
	err = s.Add(solocron.Job{Name: "send-invoices", Spec: "0 2 * * *", Run: func(context.Context) error { return nil }})
	if err != nil {
		log.Fatal(err)
	}
	c.Watch(s)

	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	srv := httptest.NewServer(mux) // your server

	if err := s.Start(); err != nil {
		log.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(scrape(srv.URL), "\nsolocron_leader 1\n"); {
		if time.Now().After(deadline) { // alone, it leads at once
			log.Fatal("not leading after 5s")
		}
		time.Sleep(time.Millisecond)
	}
	if err := s.RunNow(context.Background(), "send-invoices"); err != nil {
		log.Fatal(err)
	}
	sc := bufio.NewScanner(strings.NewReader(scrape(srv.URL)))
	for sc.Scan() {
		if line := sc.Text(); strings.HasPrefix(line, "solocron_leader ") || strings.HasPrefix(line, "solocron_job_runs_total") {
			fmt.Println(line)
		}
	}

	srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.Stop(ctx); err != nil {
		log.Print(err)
	}
	// Output:
	// solocron_job_runs_total{job_name="send-invoices"} 1
	// solocron_leader 1
}

func scrape(url string) string {
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		b.WriteString(sc.Text() + "\n")
	}
	return b.String()
}
