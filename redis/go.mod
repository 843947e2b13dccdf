module github.com/solocron/solocron/redis

go 1.26.0

require (
	github.com/redis/go-redis/v9 v9.22.0
	github.com/solocron/solocron v0.1.0
)

require (
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/gofrs/flock v0.13.2 // indirect
	github.com/robfig/cron/v3 v3.0.1 // indirect
	go.uber.org/atomic v1.11.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
)
