package redis

import (
	"testing"

	"github.com/solocron/solocron"
	"github.com/solocron/solocron/electortest"
)

func TestConformance(t *testing.T) {
	url := serverURL(t)
	electortest.Run(t, func(t *testing.T) electortest.NewElector {
		app := newApp(t, url)
		return func(t *testing.T) solocron.Elector {
			return newElector(t, fast(Options{URL: url, App: app}))
		}
	})
}
