package dashboard_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/solocron/solocron"
	"github.com/solocron/solocron/dashboard"
)

// The dashboard mounted under /solocron/ of the application's server,
// with its actions for the application's admins.
func Example() {
	dir, _ := os.MkdirTemp("", "dashboard-example-")
	defer os.RemoveAll(dir)
	s, err := solocron.New(solocron.Options{LockPath: filepath.Join(dir, "billing.lock")})
	if err != nil {
		log.Fatal(err)
	}
	if err := s.Add(solocron.Job{Name: "send-invoices", Spec: "0 2 * * *", Run: func(context.Context) error { return nil }}); err != nil {
		log.Fatal(err)
	}
	if err := s.Start(); err != nil {
		log.Fatal(err)
	}
	defer s.Stop(context.Background())

	mux := http.NewServeMux()
	mux.Handle("/solocron/", http.StripPrefix("/solocron", dashboard.New(s, dashboard.Options{
		Authorize: func(r *http.Request) error {
			if !isAdmin(r) {
				return errors.New("admins only")
			}
			return nil
		},
	})))
	srv := httptest.NewServer(mux) // your server, behind your authentication
	defer srv.Close()

	for deadline := time.Now().Add(5 * time.Second); s.Status(context.Background()).Role != solocron.Leader; {
		if time.Now().After(deadline) { // alone, it leads at once
			log.Fatal("not leading after 5s")
		}
		time.Sleep(time.Millisecond)
	}
	resp, err := http.Get(srv.URL + "/solocron/status.json")
	if err != nil {
		log.Fatal(err)
	}
	var st struct {
		Role string
		Jobs []struct{ Name string }
	}
	err = json.NewDecoder(resp.Body).Decode(&st)
	resp.Body.Close()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(st.Role, st.Jobs[0].Name)

	resp, err = http.PostForm(srv.URL+"/solocron/run", url.Values{"job": {"send-invoices"}})
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	fmt.Println("run now, not an admin:", resp.Status)
	// Output:
	// leader send-invoices
	// run now, not an admin: 403 Forbidden
}

// isAdmin stands for the application's own check, of its session for
// example.
func isAdmin(*http.Request) bool { return false }
