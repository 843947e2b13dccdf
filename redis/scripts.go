package redis

import goredis "github.com/redis/go-redis/v9"

// The Lua scripts. Each runs atomically in Redis, so "is the lease still
// ours" and "write the ledger" cannot be separated by another client.
// Every script that acts for a term first checks that the lease key holds
// this campaign's token and the term key this term (fence); the ledger
// scripts also check that the ledger still holds this term (ledgerFence).
//
// Keys (see keys): lease (string, the token, with PX), term (string,
// the last term granted), holder (hash, with the same PX), ledger (hash:
// field "c:<job>" last claimed tick, "d:<job>" last completed tick, in
// microseconds since the epoch; "f:<job>" the last run that finished,
// "<tick µs> <duration ns> <error>"; "n:<job>" the job's next tick, µs;
// "term", the term that last acquired; "stale" while a stale ledger has
// not been claimed in since),
// reply (string: the last claim's reply, so a retried claim is answered
// the same), control (hash: "p:<job>" "1" while paused, "r:<job>" the
// last requested run in µs; not fenced, see control.go).

const fence = `
local function ours()
  return redis.call('GET', KEYS[1]) == ARGV[1] and redis.call('GET', KEYS[2]) == ARGV[2]
end
`

// acquireScript: KEYS lease, term, holder, ledger; ARGV token, ttl ms, pid,
// host, app, jobs. Returns {1, term, since µs, stale} or {0, pttl ms of
// the current lease}. A retry of an acquisition that did succeed (lost
// reply) gets its term.
//
// The term is max(previous term + 1, the ledger's term + 1, Redis TIME in
// µs), so it grows even when the counter, or every key, was lost (a
// restart without persistence), as long as Redis's clock does not step
// back further than the time since the last term began. Terms are above
// 1e15, where Lua's default formatting of a number (a double) drops
// digits ("1.7960832001235e+15"): they are formatted with %.0f, exact
// below 2^53.
//
// stale is "<ledger's term>/<counter>" when the ledger is older than the
// counter (an old copy restored; the ledger's term is empty when the hash
// was deleted or replaced), else empty. It is kept in the ledger until a
// term claims in it, so that a term that found it stale and did nothing
// does not make it look current to the next one.
var acquireScript = goredis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  local h = redis.call('HMGET', KEYS[3], 'term', 'since')
  return {1, h[1], h[2], redis.call('HGET', KEYS[4], 'stale') or ''}
end
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return {0, redis.call('PTTL', KEYS[1])}
end
-- nil when missing (or not a number: then it cannot vouch for the ledger)
local prev = tonumber(redis.call('GET', KEYS[2]) or '')
local floor = tonumber(redis.call('HGET', KEYS[4], 'term') or '')
local stale = redis.call('HGET', KEYS[4], 'stale') or ''
if stale == '' and prev and ((not floor) or floor < prev) then
  stale = (floor and string.format('%.0f', floor) or '') .. '/' .. string.format('%.0f', prev)
end
local now = redis.call('TIME')
local since = now[1] .. string.format('%06d', tonumber(now[2]))
local term = string.format('%.0f', math.max((prev or 0) + 1, (floor or 0) + 1, tonumber(since)))
redis.call('SET', KEYS[2], term)
redis.call('HSET', KEYS[4], 'term', term)
if stale ~= '' then redis.call('HSET', KEYS[4], 'stale', stale) end
redis.call('DEL', KEYS[3])
redis.call('HSET', KEYS[3], 'token', ARGV[1], 'term', term, 'pid', ARGV[3], 'host', ARGV[4], 'since', since,
  'app', ARGV[5], 'jobs', ARGV[6])
redis.call('PEXPIRE', KEYS[3], ARGV[2])
return {1, term, since, stale}
`)

// renewScript: KEYS lease, term, holder; ARGV token, term, ttl ms.
// Returns 1 if renewed, 0 if the lease is no longer ours.
var renewScript = goredis.NewScript(fence + `
if not ours() then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('PEXPIRE', KEYS[3], ARGV[3])
return 1
`)

// releaseScript: KEYS lease, holder; ARGV token, channel. Deletes the
// lease if it holds this token and tells the standbys. The token alone is
// checked so that a campaign whose acquisition reply was lost can clean up.
var releaseScript = goredis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('PUBLISH', ARGV[2], 'released')
return 1
`)

// holderScript: KEYS lease, holder. Returns {term, pid, host, since, app,
// jobs} or nil when nobody leads.
var holderScript = goredis.NewScript(`
local tok = redis.call('GET', KEYS[1])
if not tok then return nil end
local h = redis.call('HMGET', KEYS[2], 'token', 'term', 'pid', 'host', 'since', 'app', 'jobs')
if h[1] ~= tok then return nil end
return {h[2], h[3], h[4], h[5], h[6] or '', h[7] or ''}
`)

// The errors the ledger scripts return: notLeader when the lease or the
// term key moved on, ledgerLost when the ledger no longer holds this
// term's marker (its "term" field, written at acquisition): the hash was
// deleted or replaced under the leader, so its records cannot be trusted
// and claims written there would be lost with it.
const (
	notLeader  = "NOTLEADER"
	ledgerLost = "LEDGERLOST"
)

// ledgerFence is fence for the ledger scripts (KEYS lease, term, ledger;
// ARGV token, term): refused() returns the error reply to return, or nil.
const ledgerFence = fence + `
local function refused()
  if not ours() then return redis.error_reply('` + notLeader + `') end
  if redis.call('HGET', KEYS[3], 'term') ~= ARGV[2] then return redis.error_reply('` + ledgerLost + `') end
  return nil
end
`

// fencedLedger starts the ledger scripts that check the fence first.
const fencedLedger = ledgerFence + `
local refusal = refused()
if refusal then return refusal end
`

// claimScript: KEYS lease, term, ledger, reply; ARGV token, term, nonce,
// reply ttl ms, then (job, tick µs, retry "1"/"0") per claim. Returns a
// string of '1' (granted) and '0', one per claim.
var claimScript = goredis.NewScript(ledgerFence + `
local last = redis.call('GET', KEYS[4])
local tag = ARGV[3] .. ':'
if last and string.sub(last, 1, #tag) == tag then
  return string.sub(last, #tag + 1)
end
local refusal = refused()
if refusal then return refusal end
redis.call('HDEL', KEYS[3], 'stale') -- this term acts on the ledger: it is current again
local out = {}
for i = 5, #ARGV, 3 do
  local job, tick = ARGV[i], ARGV[i + 1]
  local c = redis.call('HGET', KEYS[3], 'c:' .. job)
  local ok = not c
  if c then
    local cn, tn = tonumber(c), tonumber(tick)
    if tn > cn then
      ok = true
    elseif tn == cn and ARGV[i + 2] == '1' then
      local d = redis.call('HGET', KEYS[3], 'd:' .. job)
      ok = (not d) or tonumber(d) < cn
    end
  end
  if ok then
    redis.call('HSET', KEYS[3], 'c:' .. job, tick)
    out[#out + 1] = '1'
  else
    out[#out + 1] = '0'
  end
end
local reply = table.concat(out)
redis.call('SET', KEYS[4], tag .. reply, 'PX', ARGV[4])
return reply
`)

// completeScript: KEYS lease, term, ledger; ARGV token, term, then
// (job, tick µs, last run or "", next tick µs or "") per outcome, the
// last run as formatFinished makes it when the tick ran. Completion and
// the next tick only move forward; the last run is replaced unless it is
// of a later tick. An outcome for a job with no record is ignored.
var completeScript = goredis.NewScript(fencedLedger + `
for i = 3, #ARGV, 4 do
  local job, tick = ARGV[i], tonumber(ARGV[i + 1])
  local d = redis.call('HGET', KEYS[3], 'd:' .. job)
  if d or redis.call('HGET', KEYS[3], 'c:' .. job) then
    if (not d) or tick > tonumber(d) then
      redis.call('HSET', KEYS[3], 'd:' .. job, ARGV[i + 1])
    end
    if ARGV[i + 2] ~= '' then
      local f = redis.call('HGET', KEYS[3], 'f:' .. job)
      local finished = f and tonumber(string.match(f, '^%S+'))
      if (not finished) or tick >= finished then
        redis.call('HSET', KEYS[3], 'f:' .. job, ARGV[i + 2])
      end
    end
    if ARGV[i + 3] ~= '' then
      local n = tonumber(redis.call('HGET', KEYS[3], 'n:' .. job) or '')
      if (not n) or tonumber(ARGV[i + 3]) > n then
        redis.call('HSET', KEYS[3], 'n:' .. job, ARGV[i + 3])
      end
    end
  end
end
return 1
`)

// recordsScript: KEYS lease, term, ledger; ARGV token, term, then job
// names. Returns claimed, completed, last run, next tick per job (empty
// for never).
var recordsScript = goredis.NewScript(fencedLedger + `
local out = {}
for i = 3, #ARGV do
  local h = redis.call('HMGET', KEYS[3], 'c:' .. ARGV[i], 'd:' .. ARGV[i], 'f:' .. ARGV[i], 'n:' .. ARGV[i])
  for j = 1, 4 do out[#out + 1] = h[j] or '' end
end
return out
`)

// resetScript: KEYS lease, term, ledger; ARGV token, term, job, tick µs.
// Sets the job's claimed and completed ticks to the tick, even backwards.
var resetScript = goredis.NewScript(fencedLedger + `
redis.call('HDEL', KEYS[3], 'stale')
redis.call('HSET', KEYS[3], 'c:' .. ARGV[3], ARGV[4], 'd:' .. ARGV[3], ARGV[4])
return 1
`)

// requestScript: KEYS control; ARGV the job's request field. Sets it to
// max(Redis TIME in µs, previous + 1), formatted exactly (%.0f, as the
// terms), so that requests strictly grow whoever makes them. Returns the
// request, or an error reply naming a previous value that is not a
// number (the caller adds the key).
var requestScript = goredis.NewScript(`
local prev = redis.call('HGET', KEYS[1], ARGV[1])
local prevn = tonumber(prev or '0')
if not prevn then return redis.error_reply('malformed request time ' .. prev) end
local now = redis.call('TIME')
local t = string.format('%.0f', math.max(tonumber(now[1] .. string.format('%06d', tonumber(now[2]))), prevn + 1))
redis.call('HSET', KEYS[1], ARGV[1], t)
return t
`)
