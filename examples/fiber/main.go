// Command fiber is a gofiber/fiber v2 prefork server with a solocron job,
// as docs/frameworks.md recommends: the scheduler runs in Fiber's parent
// process (where fiber.IsChild() is false), which serves no HTTP, and
// only there; the children serve HTTP only.
//
// What Fiber v2's prefork does, measured with v2.52: main() runs in the
// parent and again in every child (GOMAXPROCS of them). The parent's
// Listen starts the children and returns as soon as one of them exits,
// after SIGKILLing the others: it restarts nothing, so run the program
// under a supervisor (systemd Restart=always). A child exits about 500 ms
// after the parent dies, as it polls Getppid() == 1, which never holds
// when orphans go to a subreaper: this program's children watch for any
// change of parent. The parent installs no signal handler, and its
// app.Shutdown() does not make its Listen return: this program forwards
// SIGINT and SIGTERM to the children itself.
//
//	go run . -addr 127.0.0.1:3000
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/gofiber/fiber/v2"
)

// stopTimeout bounds the graceful stop: of the children's HTTP servers, and
// of the parent's running jobs after the children are gone. A supervisor's
// stop timeout (systemd's TimeoutStopSec) must be longer than both.
const stopTimeout = 10 * time.Second

type config struct {
	addr   string
	lock   string
	spec   string
	runLog string
}

func main() {
	var cfg config
	flag.StringVar(&cfg.addr, "addr", "127.0.0.1:3000", "address every child listens on")
	flag.StringVar(&cfg.lock, "lock", "", "absolute lock path (default: solocron's, under the user's cache directory)")
	flag.StringVar(&cfg.spec, "spec", "*/5 * * * * *", "the job's spec, with seconds")
	flag.StringVar(&cfg.runLog, "runlog", "", "file the job appends a line to per run (default: none)")
	flag.Parse()

	app := fiber.New(fiber.Config{Prefork: true, DisableStartupMessage: true})
	app.Get("/", func(c *fiber.Ctx) error {
		return c.SendString(fmt.Sprintf("served by child pid=%d\n", os.Getpid()))
	})
	var code int
	if fiber.IsChild() {
		code = runChild(app, cfg)
	} else {
		code = runParent(app, cfg)
	}
	os.Exit(code)
}
