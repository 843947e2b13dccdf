package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/gofiber/fiber/v2"
)

// parentCheck is how often a child looks whether its parent died.
const parentCheck = 500 * time.Millisecond

// runChild serves HTTP until SIGINT or SIGTERM (forwarded by the parent)
// or until the parent dies, then shuts down gracefully. Without a handler
// the signal would kill the child mid-request.
func runChild(app *fiber.App, cfg config) int {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sigs
		_ = app.ShutdownWithTimeout(stopTimeout)
	}()
	go watchParent(app)
	fmt.Printf("child pid=%d serving on %s\n", os.Getpid(), cfg.addr)
	if err := app.Listen(cfg.addr); err != nil {
		fmt.Fprintf(os.Stderr, "child pid=%d: %v\n", os.Getpid(), err)
		return 1
	}
	fmt.Printf("child pid=%d stopped\n", os.Getpid())
	return 0
}

// watchParent shuts the child down when its parent changes. Fiber's
// children exit only when Getppid() == 1: orphans that go to a subreaper
// (a systemd user manager, for one) would serve forever without it.
func watchParent(app *fiber.App) {
	parent := os.Getppid()
	tick := time.NewTicker(parentCheck)
	defer tick.Stop()
	for range tick.C {
		if os.Getppid() != parent {
			_ = app.ShutdownWithTimeout(stopTimeout)
			return
		}
	}
}
