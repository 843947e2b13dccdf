package postgres

import (
	"testing"

	"github.com/solocron/solocron"
	"github.com/solocron/solocron/electortest"
)

func TestConformance(t *testing.T) {
	electortest.Run(t, func(t *testing.T) electortest.NewElector {
		o := testOptions(t)
		return func(t *testing.T) solocron.Elector { return mustNew(t, o) }
	})
}
