// Package postgres is a solocron.Elector on PostgreSQL: leadership is a
// session advisory lock held on a dedicated connection together with a
// lease row whose term counter is the fencing token, and the tick ledger
// is a table checked against that term in the same statement.
//
//	e, err := postgres.New(postgres.Options{URL: os.Getenv("DATABASE_URL"), App: "billing"})
//	s, err := solocron.New(solocron.Options{Elector: e})
//
// # Why both a lock and a row
//
// The advisory lock gives fast takeover. A standby waits in
// pg_advisory_lock on its own connection; when the leader's session ends
// (the process was killed, its host reset the connection, an operator ran
// pg_terminate_backend) the server frees the lock and wakes the standby
// within milliseconds, without polling and without waiting for a lease to
// run out. The lock has no fencing token, though, and a session can
// outlive its process's ability to act: during a network partition, or
// behind a proxy that keeps the server's socket open, the server keeps the
// session and its lock until TCP keepalive gives up, minutes later.
//
// The lease row (one per App in LeaseTable) bounds that and fences. It
// holds the term, the holder (host, pid, since, backend pid) and a
// deadline computed from the database's clock, now() + TTL, renewed every
// RenewInterval by the leader. Every ledger statement locks the row with
// FOR SHARE and checks the term in the same statement, so a claim of an
// ended term grants nothing, whatever its process believes.
//
// The rules, and why they hold:
//
//   - A process leads only while it holds the lock and the row names its
//     term and session. Leaders take the lock first, the row second.
//   - The holder of the lock takes the row at once, whatever its deadline:
//     since every leader holds the lock for its whole term, holding it
//     proves the previous leader's session has ended, and with it every
//     statement that previous term could still send (a SIGKILLed leader's
//     row still shows a deadline in the future; waiting for it would turn
//     a 10 ms takeover into a TTL).
//   - A session that holds the lock although the row's deadline has passed
//     belongs to a leader that stopped renewing (partitioned, frozen): a
//     standby ends it with pg_terminate_backend, which frees the lock.
//     Such a leader has stopped acting already, see below. (A holder the
//     row does not name, one that froze between taking the lock and
//     writing the row, is ended once it has been idle for a TTL and the
//     row is a TTL past its deadline.) This needs the right to signal the
//     other backend (the same role for every process, or
//     pg_signal_backend); without it Campaign reports the fact.
//   - The leader stops acting (closes Lost, claims nothing) at start of its
//     last successful renewal + TTL - Margin on the monotonic clock, which
//     is before the row's deadline: the row's now() was read after that
//     start. A timer closes Lost then, whatever statement is still stuck
//     on the network, and the Scheduler cancels the running jobs' contexts
//     at that moment. A standby can take over only after the deadline.
//   - A dropped session is noticed at once: whenever no statement runs, a
//     read is kept outstanding on the connection, so the server's FATAL
//     message or EOF ends the term the moment it arrives. The elector
//     never reconnects a leader's session: a new session must contend
//     like any standby. If the old session is gone, the lock is too, so a
//     standby may already lead: the term check refuses the old term's
//     claims, and a job already running in it is the Scheduler's to
//     cancel on Lost (the run's Term is the token to check downstream).
//
// The takeover commits without waiting for the WAL flush (5-30 ms on an
// ordinary disk); see the comment on the statement for why that is safe.
//
// # Terms, and a ledger older than the last term
//
// A new term is the greater of the database's clock (clock_timestamp(),
// in microseconds since 1970) and the highest term still visible + 1: the
// lease row's, or the ledger's term marker. A term is thus never issued
// twice, even after the lease row or both tables were deleted or restored
// from a backup, on one assumption: the database server's clock does not
// step back by more than the time since the last term began (and fewer
// than one term begins per microsecond).
//
// The term marker is a reserved ledger row per App (job "term", which
// no job name can be) that the takeover sets to the new term in the same
// statement as the lease row. A marker behind the lease row's term, or
// missing while the row exists, means the ledger was restored, replaced,
// or dropped and recreated since the last term: Lease.LedgerStale reports
// it, naming both tables and both terms, and the Scheduler then trusts
// none of its records. The marker stays behind until the term claims.
//
// Campaign creates missing tables, also ones dropped since an earlier
// term: a leader whose ledger was dropped fails its claims, steps down and
// campaigns again, and the new term finds a ledger without a marker, so
// stale. Holder and Observe never create tables.
//
// # Outcomes and control state
//
// The ledger also keeps each job's last run that finished (its tick,
// duration and error), written by Complete in the statement that moves
// the completed ticks. Pauses and requested runs live in ControlTable,
// written by any process (SetPaused, RequestRun: one upsert each, not
// fenced, which creates the control table alone if it is missing) and
// read by the leader every second (Control: one indexed read on a
// connection kept for these calls, not the lease's session). Observe
// reads the App's ledger and control rows in one statement.
//
// # Defaults and timing
//
// TTL 15s, RenewInterval 5s, Margin 3s. A crashed leader is replaced in
// about 10 ms (measured over 100 SIGKILLs, 2-core VM, server on
// localhost: p50 9 ms, p99 18 ms; the server itself frees the lock 2-15
// ms after the kill). A partitioned or frozen leader stops acting at most
// 12s after its last renewal and is replaced about 15s after it. A
// released lease is taken over at once.
//
// # Exactly-once effects
//
// A job whose effect is a write to this database gets it exactly once per
// tick through Elector.TxJob: Elector.RunTx runs the job's work in a
// transaction that, before it commits, locks the lease row of the run's
// term (a takeover waits for the commit) and marks the tick completed in
// the ledger; the job is AtLeastOnce, so a tick whose leader died before
// the commit is run again, and one whose commit happened is not.
//
// # Operating notes
//
// The lock belongs to a session: connect directly, or through a pooler in
// session mode. PgBouncer in transaction mode cannot carry it. Each
// process keeps one connection while it campaigns or leads, plus one for
// Observe, Control, SetPaused and RequestRun, closed after 10s idle (the
// leader, polling Control, keeps it), and a short one for Holder. The
// tables are created if missing, in Schema ("public") with the names
// LeaseTable, LedgerTable and ControlTable; several Apps share them.
// Tables made by an older version get the columns added since.
package postgres
