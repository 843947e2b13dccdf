package postgres

import "fmt"

// statements are the SQL texts of one Elector, with its table names.
// Parameters: $1 app, $2 term, unless said otherwise.
type statements struct {
	sessionSettings, wait, lock, take, renew, release, holder string
	records, claim, complete, reset                           string
	finish                                                    string
	observe, observeLedger, observeControl                    string
	control, setPaused, requestRun                            string
}

// advisoryHolder selects the pid of the session holding the App's lock,
// given the parameters holding its classid and objid.
func advisoryHolder(classid, objid string) string {
	return fmt.Sprintf(`SELECT l.pid FROM pg_locks l
		WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
		AND l.classid = %s::oid AND l.objid = %s::oid
		AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())`, classid, objid)
}

func newStatements(t tables) statements {
	// fenced locks the lease row of the term, so that a takeover (which
	// updates the row) waits for a claim in flight, and a claim that
	// runs after a takeover finds no row: nothing is granted.
	fenced := fmt.Sprintf(`SELECT 1 FROM %s WHERE app = $1 AND term = $2 FOR SHARE`, t.lease)
	return statements{
		// Settings of the dedicated session; those a server lacks are
		// skipped. The keepalives make the server drop a session whose
		// client vanished within about 20s instead of hours; the check
		// interval ends a standby's abandoned lock wait with its client.
		// Timeouts an administrator set for ordinary sessions would end
		// a standby's wait or an idle leader: the client bounds every
		// statement with a context instead.
		sessionSettings: `SELECT set_config(s.name, s.value, false)
			FROM (VALUES ('tcp_keepalives_idle', '10'), ('tcp_keepalives_interval', '3'),
				('tcp_keepalives_count', '3'), ('client_connection_check_interval', '1000'),
				('statement_timeout', '0'), ('idle_session_timeout', '0'),
				('idle_in_transaction_session_timeout', '0')) s(name, value)
			JOIN pg_settings p ON p.name = s.name`,

		// wait prepares a standby's wait for the lock ($2, $3 the key,
		// $4 TTL in ms). If the lease row's deadline has passed while a
		// session still holds the lock, that session belongs to a leader
		// that stopped renewing (partitioned, frozen) and so stopped
		// acting: it is terminated, which frees the lock. Only the
		// session the row names is, or a holder that has been idle for a
		// TTL while the row was a TTL past its deadline (a process that
		// took the lock and froze before writing the row; not one that
		// just took it). lock_timeout is set so that the wait ends when
		// the row's deadline comes, to look again.
		wait: fmt.Sprintf(`WITH r AS (
				SELECT (SELECT deadline FROM %[1]s WHERE app = $1) AS deadline,
					(SELECT backend FROM %[1]s WHERE app = $1) AS backend
			), h AS (%[2]s)
			SELECT
				(SELECT bool_or(pg_terminate_backend(h.pid)) FROM h CROSS JOIN r
					LEFT JOIN pg_stat_activity a ON a.pid = h.pid
					WHERE h.pid <> pg_backend_pid() AND r.deadline < now()
					AND (h.pid = r.backend OR (r.deadline < now() - $4::float8 * interval '1 millisecond'
						AND a.state_change < now() - $4::float8 * interval '1 millisecond'))),
				set_config('lock_timeout', (SELECT CASE
					WHEN r.deadline > now() THEN least(ceil(extract(epoch FROM r.deadline - now()) * 1000) + 10, $4::bigint)
					ELSE greatest($4::bigint / 10, 50) END FROM r)::bigint::text, false)`,
			t.lease, advisoryHolder("$2", "$3")),

		// lock waits for the lock, until lock_timeout. $1 the key.
		lock: `SELECT pg_advisory_lock($1)`,

		// take is run by the holder of the lock: the previous holder's
		// session is gone, so the row is taken whatever its deadline.
		// $2 host, $3 pid, $4 TTL in ms, $5, $6 the key, $7 and $8 the
		// candidate's App and Jobs. It takes nothing unless this session
		// holds the lock, which is not so behind a pooler in transaction
		// mode.
		//
		// The new term is the greater of the database's clock in
		// microseconds and the highest term still visible (the lease
		// row's, the ledger's term marker) + 1: a term is never issued
		// twice even when the lease row or both tables were deleted,
		// provided the database's clock does not step back further than
		// the time since the last term began.
		//
		// The ledger's term marker is moved to the new term in the same
		// statement, unless the marker was behind the lease row's term
		// (the ledger is stale: restored, replaced, or dropped and
		// recreated): then it stays behind until the term claims. It
		// returns the new term, the previous lease term and marker.
		//
		// It commits without waiting for the WAL flush (5-30ms of a
		// takeover on an ordinary disk). That is safe: should the server
		// crash before the flush, every session ends with it, this term
		// included, and the row shows the previous term; and nothing is
		// run in this term before a claim, whose synchronous commit
		// flushes the WAL up to and including the takeover. So a term
		// number can be issued twice only to a term that ran nothing.
		// It also ends the lock_timeout of the wait, for the term's
		// statements.
		take: fmt.Sprintf(`WITH async AS (SELECT set_config('synchronous_commit', 'off', true),
				set_config('lock_timeout', '0', false)
			), prev AS (
				SELECT (SELECT term FROM %[1]s WHERE app = $1) AS lease,
					(SELECT term FROM %[2]s WHERE app = $1 AND job = %[4]s) AS marker
			), taken AS (
				INSERT INTO %[1]s AS r (app, term, host, pid, since, deadline, backend, holder_app, holder_jobs)
				SELECT $1, greatest(greatest(p.lease, p.marker) + 1, (extract(epoch FROM clock_timestamp()) * 1000000)::bigint),
					$2, $3, now(), now() + $4::float8 * interval '1 millisecond', pg_backend_pid(), $7, $8
				FROM async, prev p WHERE pg_backend_pid() IN (%[3]s)
				ON CONFLICT (app) DO UPDATE SET term = greatest(r.term + 1, excluded.term), host = excluded.host,
					pid = excluded.pid, since = excluded.since, deadline = excluded.deadline, backend = excluded.backend,
					holder_app = excluded.holder_app, holder_jobs = excluded.holder_jobs
				RETURNING r.term
			), marked AS (
				INSERT INTO %[2]s AS l (app, job, claimed, term)
				SELECT $1, %[4]s, now(), t.term FROM taken t, prev p WHERE p.lease IS NULL OR p.marker >= p.lease
				ON CONFLICT (app, job) DO UPDATE SET claimed = excluded.claimed, term = excluded.term
			)
			SELECT t.term, p.lease, p.marker FROM taken t, prev p`, t.lease, t.ledger, advisoryHolder("$5", "$6"), markerJob),

		// $3 TTL in ms.
		renew: fmt.Sprintf(`UPDATE %s SET deadline = now() + $3::float8 * interval '1 millisecond'
			WHERE app = $1 AND term = $2 AND backend = pg_backend_pid()`, t.lease),

		// release clears the holder and unlocks in one round trip. $3 key.
		release: fmt.Sprintf(`UPDATE %s SET host = NULL, pid = NULL, backend = NULL, deadline = now(),
				holder_app = NULL, holder_jobs = NULL
			WHERE app = $1 AND term = $2 AND backend = pg_backend_pid()
			RETURNING pg_advisory_unlock($3::bigint)`, t.lease),

		// holder shows the row only while its session holds the lock: a
		// SIGKILLed leader's row keeps a deadline in the future.
		// $2, $3 the key. The identity columns are read through to_jsonb
		// so that a table of an older version, which lacks them until a
		// new process campaigns, still answers (with no identity).
		holder: fmt.Sprintf(`SELECT r.host, r.pid, r.since, r.term,
				coalesce(to_jsonb(r)->>'holder_app', ''), coalesce(to_jsonb(r)->>'holder_jobs', '') FROM %s r
			WHERE r.app = $1 AND r.host IS NOT NULL AND r.deadline > now()
			AND r.backend IN (%s)`, t.lease, advisoryHolder("$2", "$3")),

		// records returns no row at all when the term is over, and one
		// row with a NULL job when no job has a record. $3 jobs.
		records: fmt.Sprintf(`SELECT l.job, l.claimed, l.completed, l.finished, l.duration_us, l.error, l.next_tick
			FROM %s r LEFT JOIN %s l ON l.app = r.app AND l.job = ANY ($3::text[]) AND l.job <> %s
			WHERE r.app = $1 AND r.term = $2`, t.lease, t.ledger, markerJob),

		// claim grants a tick after the last claimed one, or, for the jobs
		// in $5, the last claimed tick again if it never completed.
		// $3 jobs, $4 ticks. One statement whatever the number of jobs.
		// With $6 it also moves the term marker to this term: the first
		// claim of a term that found the ledger stale makes it current.
		claim: fmt.Sprintf(`WITH lease AS (%[1]s), marked AS (
				INSERT INTO %[2]s (app, job, claimed, term)
				SELECT $1, %[3]s, now(), $2 WHERE $6::boolean AND EXISTS (SELECT 1 FROM lease)
				ON CONFLICT (app, job) DO UPDATE SET claimed = excluded.claimed, term = excluded.term
			), granted AS (
				INSERT INTO %[2]s AS l (app, job, claimed)
				SELECT $1, c.job, c.tick FROM unnest($3::text[], $4::timestamptz[]) AS c(job, tick)
				WHERE EXISTS (SELECT 1 FROM lease) AND c.job <> %[3]s
				ON CONFLICT (app, job) DO UPDATE SET claimed = excluded.claimed
				WHERE excluded.claimed > l.claimed
					OR (excluded.claimed = l.claimed
						AND (l.completed IS NULL OR l.completed < l.claimed)
						AND excluded.job IN (SELECT unnest($5::text[])))
				RETURNING l.job
			)
			SELECT EXISTS (SELECT 1 FROM lease), coalesce((SELECT array_agg(job) FROM granted), '{}')`,
			fenced, t.ledger, markerJob),

		// complete records how claimed ticks ended: it moves completed
		// ticks forward, and, for the outcomes that ran, sets the last run
		// that finished unless the record holds a later one, and the next
		// tick, which only moves forward. Of several runs of one job in a
		// batch the latest tick counts (of two of one tick, the later
		// given). $3 jobs, $4 ticks, $5 whether each ran, $6 durations in
		// µs, $7 errors ("" for success, stored as NULL), $8 next ticks
		// (NULL when unknown: greatest and max skip NULLs, so it changes
		// nothing).
		complete: fmt.Sprintf(`WITH lease AS (%[1]s), d AS (
				SELECT * FROM unnest($3::text[], $4::timestamptz[], $5::boolean[], $6::bigint[], $7::text[], $8::timestamptz[])
					WITH ORDINALITY AS d(job, tick, ran, duration_us, error, next_tick, n)
			), o AS (
				SELECT c.job, c.tick AS completed, c.next_tick, f.tick AS finished, f.duration_us, f.error
				FROM (SELECT job, max(tick) AS tick, max(next_tick) AS next_tick FROM d GROUP BY job) c
				LEFT JOIN (SELECT DISTINCT ON (job) job, tick, duration_us, nullif(error, '') AS error
					FROM d WHERE ran ORDER BY job, tick DESC, n DESC) f ON f.job = c.job
			), done AS (
				UPDATE %[2]s AS l SET completed = greatest(l.completed, o.completed),
					finished = CASE WHEN %[4]s THEN o.finished ELSE l.finished END,
					duration_us = CASE WHEN %[4]s THEN o.duration_us ELSE l.duration_us END,
					error = CASE WHEN %[4]s THEN o.error ELSE l.error END,
					next_tick = greatest(l.next_tick, o.next_tick)
				FROM o
				WHERE l.app = $1 AND l.job = o.job AND l.job <> %[3]s AND EXISTS (SELECT 1 FROM lease)
					AND (l.completed IS NULL OR l.completed < o.completed OR %[4]s
						OR o.next_tick > coalesce(l.next_tick, '-infinity'))
				RETURNING 1
			)
			SELECT EXISTS (SELECT 1 FROM lease), (SELECT count(*) FROM done)`,
			fenced, t.ledger, markerJob, `(o.finished IS NOT NULL AND (l.finished IS NULL OR l.finished <= o.finished))`),

		// reset sets a job's claimed and completed ticks, even backwards,
		// creating the record if there is none. $3 job, $4 tick.
		reset: fmt.Sprintf(`WITH lease AS (%s), done AS (
				INSERT INTO %s AS l (app, job, claimed, completed)
				SELECT $1, $3, $4, $4 WHERE EXISTS (SELECT 1 FROM lease) AND $3 <> %s
				ON CONFLICT (app, job) DO UPDATE SET claimed = excluded.claimed, completed = excluded.completed
			)
			SELECT EXISTS (SELECT 1 FROM lease)`,
			fenced, t.ledger, markerJob),

		// finish ends a job's own transaction (RunTx) before its commit:
		// it locks the lease row of the run's term, so that a takeover
		// waits for the commit, and completes the run's tick if it is
		// the job's last claimed tick and not completed yet. $3 the job
		// (NULL for a manual run: fenced only), $4 the tick, $5 how long
		// the server lets the transaction sit idle from here (ms, text).
		// It returns whether the term is current and the tick was
		// completed, and the record as it was.
		finish: fmt.Sprintf(`WITH lease AS (%[1]s), done AS (
				UPDATE %[2]s AS l SET completed = $4
				WHERE l.app = $1 AND l.job = $3 AND l.claimed = $4 AND (l.completed IS NULL OR l.completed < $4)
					AND EXISTS (SELECT 1 FROM lease)
				RETURNING 1
			)
			SELECT EXISTS (SELECT 1 FROM lease), EXISTS (SELECT 1 FROM done),
				(SELECT claimed FROM %[2]s WHERE app = $1 AND job = $3),
				(SELECT completed FROM %[2]s WHERE app = $1 AND job = $3),
				set_config('idle_in_transaction_session_timeout', $5, true)`,
			fenced, t.ledger),

		// The statements below are not fenced: any process makes them,
		// on a connection of its own (see spare). $1 app.

		// observe reads the App's ledger and control rows in one round
		// trip, the term marker left out. It needs all three tables as
		// this version makes them; else observeLedger and observeControl
		// read what there is.
		observe: fmt.Sprintf(`SELECT coalesce(l.job, c.job), l.claimed, l.completed, l.finished, l.duration_us, l.error,
				l.next_tick, coalesce(c.paused, false), c.requested
			FROM (SELECT job, claimed, completed, finished, duration_us, error, next_tick FROM %s WHERE app = $1 AND job <> %s) l
			FULL JOIN (SELECT job, paused, requested FROM %s WHERE app = $1) c ON c.job = l.job`,
			t.ledger, markerJob, t.control),

		// observeLedger reads the columns added since the first version
		// through to_jsonb, so that a ledger no process of this version
		// has upgraded yet still answers (with no last run, or no next
		// tick).
		observeLedger: fmt.Sprintf(`SELECT l.job, l.claimed, l.completed, (to_jsonb(l)->>'finished')::timestamptz,
				(to_jsonb(l)->>'duration_us')::bigint, to_jsonb(l)->>'error', (to_jsonb(l)->>'next_tick')::timestamptz,
				false, NULL::timestamptz
			FROM %s l WHERE l.app = $1 AND l.job <> %s`, t.ledger, markerJob),
		observeControl: fmt.Sprintf(`SELECT job, NULL::timestamptz, NULL::timestamptz, NULL::timestamptz,
				NULL::bigint, NULL::text, NULL::timestamptz, paused, requested
			FROM %s WHERE app = $1`, t.control),

		// control is the leader's poll, once a second: the rows with
		// control state, found through the primary key.
		control: fmt.Sprintf(`SELECT job, paused, requested FROM %s
			WHERE app = $1 AND (paused OR requested IS NOT NULL)`, t.control),

		// $2 job, $3 paused.
		setPaused: fmt.Sprintf(`INSERT INTO %s AS c (app, job, paused) VALUES ($1, $2, $3)
			ON CONFLICT (app, job) DO UPDATE SET paused = excluded.paused WHERE c.paused <> excluded.paused`, t.control),

		// requestRun sets the request to the server's clock, or 1µs past
		// the previous request if that is not earlier: requests only
		// grow, whatever the clock does. $2 job.
		requestRun: fmt.Sprintf(`INSERT INTO %s AS c (app, job, requested)
			VALUES ($1, $2, date_trunc('microseconds', clock_timestamp()))
			ON CONFLICT (app, job) DO UPDATE SET requested = greatest(excluded.requested, c.requested + interval '1 microsecond')`,
			t.control),
	}
}
