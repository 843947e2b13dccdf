module github.com/solocron/solocron/examples/fx

go 1.26.0

require (
	github.com/solocron/solocron v0.1.0
	go.uber.org/fx v1.24.0
)

require (
	github.com/gofrs/flock v0.13.2 // indirect
	github.com/robfig/cron/v3 v3.0.1 // indirect
	go.uber.org/dig v1.19.0 // indirect
	go.uber.org/multierr v1.10.0 // indirect
	go.uber.org/zap v1.26.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
)
