// Package standby measures what one idle standby costs: its share of a
// core and its wakeups per second while another process leads.
package standby

import (
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/solocron/solocron/bench/internal/cluster"
	"github.com/solocron/solocron/bench/internal/member"
	"github.com/solocron/solocron/bench/internal/proc"
)

// Row is one engine's standby.
type Row struct {
	Engine string `json:"engine"`
	member.Idle
}

// Run starts a leader, then a standby that measures itself for d.
func Run(engineName string, memberArgs []string, d time.Duration) Row {
	fmt.Fprintf(os.Stderr, "standby: %s for %v\n", engineName, d)
	row := Row{Engine: engineName}
	if err := run(&row, memberArgs, d); err != nil {
		row.Error = err.Error()
	}
	return row
}

func run(row *Row, memberArgs []string, d time.Duration) error {
	leaderCl := cluster.New(memberArgs)
	defer leaderCl.Close()
	if _, err := leaderCl.Add(); err != nil {
		return err
	}
	if _, err := leaderCl.AwaitLeader(10 * time.Second); err != nil {
		return err
	}
	standbyCl := cluster.New(append(memberArgs, "-measure", d.String(), "-settle", "1s"))
	defer standbyCl.Close()
	ch, err := standbyCl.Add()
	if err != nil {
		return err
	}
	ev, err := standbyCl.Await(d+30*time.Second, func(ev proc.Event) bool { return ev.Kind == "result" && ev.PID == ch.PID })
	if err != nil {
		return fmt.Errorf("the standby reported nothing: %w", err)
	}
	return json.Unmarshal([]byte(ev.Fields[0]), &row.Idle)
}
