package proc

import (
	"encoding/json"
	"fmt"
	"time"
)

// EmitResult prints v as the child's one result event.
func EmitResult(v any) error {
	doc, err := json.Marshal(v)
	if err != nil {
		return err
	}
	Emit("result", string(doc))
	return nil
}

// RunForResult runs a child to completion, at most timeout, and decodes
// its result event into v.
func RunForResult(role string, args []string, timeout time.Duration, v any) error {
	events := make(chan Event, 16)
	c, err := Start(role, args, events)
	if err != nil {
		return err
	}
	defer c.Close()
	deadline := time.After(timeout)
	for {
		select {
		case ev := <-events:
			if ev.Kind != "result" {
				continue
			}
			if err := json.Unmarshal([]byte(ev.Fields[0]), v); err != nil {
				return fmt.Errorf("child %s: bad result: %w", role, err)
			}
			return c.Wait(10 * time.Second)
		case <-c.Done():
			select {
			case ev := <-events: // the result may still be queued
				if ev.Kind == "result" {
					return json.Unmarshal([]byte(ev.Fields[0]), v)
				}
			default:
			}
			return fmt.Errorf("child %s %v exited without a result: %v", role, args, c.Wait(0))
		case <-deadline:
			return fmt.Errorf("child %s %v gave no result within %v", role, args, timeout)
		}
	}
}
