package solocron

import (
	"fmt"
	"strings"

	"github.com/robfig/cron/v3"
)

// explainSpec turns robfig/cron's parse error for body (a spec without its
// TZ= prefix) into one that says what to do: a wrong field count names
// Options.Seconds, a bad value names its field.
func explainSpec(p cron.Parser, body string, err error) error {
	if strings.HasPrefix(body, "@") {
		return err
	}
	_, six := p.Parse("* * * * * *")
	seconds := six == nil
	fields := strings.Fields(body)
	switch n := len(fields); {
	case !seconds && n == 6:
		return fmt.Errorf("%w (a six-field spec starts with seconds: set Options.Seconds)", err)
	case seconds && n == 5:
		return fmt.Errorf("%w (Options.Seconds is set, so specs have six fields, seconds first: prefix it with \"0 \")", err)
	case !seconds && n != 5, seconds && n != 6:
		return fmt.Errorf("%w (fields: %s)", err, strings.Join(fieldNames(seconds), ", "))
	}
	names := fieldNames(seconds)
	for i, f := range fields {
		probe := make([]string, len(fields))
		for k := range probe {
			probe[k] = "*"
		}
		probe[i] = f
		if _, perr := p.Parse(strings.Join(probe, " ")); perr != nil {
			return fmt.Errorf("the %s field %q: %w", names[i], f, perr)
		}
	}
	return err
}

func fieldNames(seconds bool) []string {
	names := []string{"minute", "hour", "day-of-month", "month", "day-of-week"}
	if seconds {
		names = append([]string{"second"}, names...)
	}
	return names
}
