module github.com/solocron/solocron

go 1.26.0

require (
	github.com/gofrs/flock v0.13.2
	github.com/robfig/cron/v3 v3.0.1
)

require golang.org/x/sys v0.49.0 // indirect
