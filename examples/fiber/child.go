package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/gofiber/fiber/v2"
)

// runChild serves HTTP until SIGINT or SIGTERM (forwarded by the parent),
// then shuts down gracefully. Without a handler the signal would kill the
// child mid-request.
func runChild(app *fiber.App, cfg config) int {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sigs
		_ = app.ShutdownWithTimeout(stopTimeout)
	}()
	fmt.Printf("child pid=%d serving on %s\n", os.Getpid(), cfg.addr)
	if err := app.Listen(cfg.addr); err != nil {
		fmt.Fprintf(os.Stderr, "child pid=%d: %v\n", os.Getpid(), err)
		return 1
	}
	fmt.Printf("child pid=%d stopped\n", os.Getpid())
	return 0
}
