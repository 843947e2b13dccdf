package redis

// keys are the names one application's state lives under. The {app} hash
// tag puts them all in one Redis Cluster slot, which Lua scripts require.
type keys struct {
	lease   string // the token of the current campaign, with PX = TTL
	term    string // the last term granted: the fencing token
	holder  string // who leads: pid, host, since, term, app, jobs (same PX as lease)
	ledger  string // per-job claimed/completed ticks and last run; the term that last acquired
	control string // per-job paused flag and last requested run: unfenced, any process writes it
	reply   string // the last claim's reply, for retried claims
	channel string // pub/sub: a release was published here
}

func newKeys(prefix, app string) keys {
	base := prefix + "{" + app + "}:"
	return keys{
		lease:   base + "lease",
		term:    base + "term",
		holder:  base + "holder",
		ledger:  base + "ledger",
		control: base + "control",
		reply:   base + "reply",
		channel: base + "released",
	}
}

// all lists the keys to delete to forget an application entirely.
func (k keys) all() []string {
	return []string{k.lease, k.term, k.holder, k.ledger, k.control, k.reply}
}
