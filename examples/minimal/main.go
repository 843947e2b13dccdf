// Command minimal is the smallest real solocron program: an HTTP server
// with one job. Run several copies at once (each on its own -addr): the job
// runs once per tick among all of them, and when the copy that leads is
// stopped or killed, another one takes over.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"log"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/solocron/solocron"
)

func main() {
	addr := flag.String("addr", ":8080", "HTTP listen address")
	spec := flag.String("spec", "@every 10s", "cron spec of the job")
	flag.Parse()

	// Create the scheduler in main(), before serving, in every copy: the
	// default file lock (named after the main package) makes one copy lead.
	s, err := solocron.New(solocron.Options{})
	if err != nil {
		log.Fatal(err)
	}
	err = s.Add(solocron.Job{Name: "hello", Spec: *spec, Run: func(ctx context.Context) error {
		run, _ := solocron.RunFrom(ctx)
		// Term is the fencing token: stores that check it refuse a deposed leader.
		log.Printf("hello: tick=%s term=%d pid=%d", run.Tick.Format(time.TimeOnly), run.Term, os.Getpid())
		return nil
	}})
	if err != nil {
		log.Fatal(err)
	}
	if err := s.Start(); err != nil { // returns at once; leadership is contended in the background
		log.Fatal(err)
	}

	mux := http.NewServeMux()
	mux.HandleFunc("/status", func(w http.ResponseWriter, r *http.Request) {
		st := s.Status(r.Context()) // on a standby this asks the elector who leads
		jobs := []map[string]any{}
		for _, j := range st.Jobs {
			jobs = append(jobs, map[string]any{"name": j.Name, "spec": j.Spec, "next": j.Next, "runs_here": j.Runs})
		}
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(map[string]any{"pid": os.Getpid(), "role": st.Role.String(), "elector": st.Elector, "leader": st.Holder, "jobs": jobs})
	})
	srv := &http.Server{Addr: *addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
			log.Fatal(err)
		}
	}()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	// Stop like http.Server.Shutdown: let a running job finish (up to the
	// deadline), then give leadership up so another copy takes over at once.
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		log.Print(err)
	}
	if err := s.Stop(shutdown); err != nil {
		log.Print(err)
	}
}
