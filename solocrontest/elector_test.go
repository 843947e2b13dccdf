package solocrontest_test

import (
	"testing"

	"github.com/solocron/solocron"
	"github.com/solocron/solocron/electortest"
	"github.com/solocron/solocron/solocrontest"
)

func TestConformance(t *testing.T) {
	electortest.Run(t, func(t *testing.T) electortest.NewElector {
		s := solocrontest.NewStore()
		return func(t *testing.T) solocron.Elector { return s.Elector() }
	})
	electortest.RunState(t, func(t *testing.T) electortest.Store {
		s := solocrontest.NewStore()
		return electortest.Store{
			New:       func(t *testing.T) solocron.Elector { return s.Elector() },
			DeleteAll: func(t *testing.T) { s.DeleteAll() },
			BackupLedger: func(t *testing.T) func(t *testing.T) {
				restore := s.BackupLedger()
				return func(t *testing.T) { restore() }
			},
		}
	})
}
