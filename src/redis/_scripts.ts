// The Lua scripts of the Redis transport, one exported string each (BullMQ keeps one file per
// script; these are short enough to share one). Every script that reads the time takes it as
// ARGV[1]: "" means the server's clock (TIME), a number the transport's own clock. Owns the
// scripts' text and the key layout they assume, nothing else.
//
// Keys (all under one hash tag, so that a cluster keeps them in one slot):
//   {p}:events        the stream every event is appended to; one consumer group per durable name.
//                     Fields: id, topic, data, at (publishedAt), to (a redriven entry's name),
//                     t (when appended, on the transport's clock: only when it was given one,
//                     as the entry ID's time is the server's)
//   {p}:names         hash: durable name → pattern
//   {p}:due:<name>    sorted set: stream entry ID → when its lease ends or its retry is due (ms)
//   {p}:dead:<name>   stream of dead letters
//   {p}:key:<key>     idempotency key → "<event id>|<expires at>", with a TTL of the window

/** The consumer that holds the entries waiting for a retry or given back. */
export const WAITING: string = "soiree:waiting";

/** Reads the time: the transport's clock when given, else the server's. */
const CLOCK = `
local function clock(arg)
  if arg ~= '' then return tonumber(arg) end
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
`;

/**
 * Whether `consumer` still holds entry `id` at delivery count `count`: claimed by nobody else
 * and not received again since.
 */
const HOLDS = `
local function holds(stream, group, id, consumer, count)
  local pending = redis.call('XPENDING', stream, group, id, id, 1)[1]
  return pending ~= nil and pending[2] == consumer and tostring(pending[4]) == count
end
`;

/**
 * Stores an event unless its idempotency key was seen within its window.
 * KEYS: stream, [idempotency key]. ARGV: now, id, topic, data, publishedAt, window.
 * Returns {0, id, stream entry ID} when stored, {1, first id} for a duplicate.
 */
export const PUBLISH: string = `${CLOCK}
local now = clock(ARGV[1])
if KEYS[2] then
  local seen = redis.call('GET', KEYS[2])
  if seen then
    local bar = string.find(seen, '|', 1, true)
    if tonumber(string.sub(seen, bar + 1)) > now then return {1, string.sub(seen, 1, bar - 1)} end
  end
  local window = tonumber(ARGV[6])
  redis.call('SET', KEYS[2], ARGV[2] .. '|' .. string.format('%.0f', now + window), 'PX', ARGV[6])
end
local entry
if ARGV[1] == '' then
  entry = redis.call('XADD', KEYS[1], '*', 'id', ARGV[2], 'topic', ARGV[3], 'data', ARGV[4],
    'at', ARGV[5])
else
  entry = redis.call('XADD', KEYS[1], '*', 'id', ARGV[2], 'topic', ARGV[3], 'data', ARGV[4],
    'at', ARGV[5], 't', string.format('%.0f', now))
end
return {0, ARGV[2], entry}
`;

/**
 * Registers a durable name: its consumer group, created at the stream's end, and its pattern.
 * KEYS: stream, names. ARGV: name, pattern.
 */
export const SUBSCRIBE: string = `
local created = redis.pcall('XGROUP', 'CREATE', KEYS[1], ARGV[1], '$', 'MKSTREAM')
if type(created) == 'table' and created.err and not string.find(created.err, 'BUSYGROUP') then
  return created
end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
return 1
`;

/**
 * Leases up to `max` deliveries of a name: first the entries whose lease ended or whose retry
 * is due (XCLAIM counts a delivery), then new entries (XREADGROUP). Each gets a lease.
 * KEYS: stream, due, names. ARGV: now, name, consumer, lease, max.
 * Returns {now, pattern or false, {{entry id, delivery count, fields}…}, new entries read,
 * the stream's newest ID}.
 */
export const CLAIM: string = `${CLOCK}
local now = clock(ARGV[1])
local stream, due, group, me = KEYS[1], KEYS[2], ARGV[2], ARGV[3]
local lease, max = tonumber(ARGV[4]), tonumber(ARGV[5])
local pattern = redis.call('HGET', KEYS[3], group)
local out = {}
local fresh = 0
if pattern then
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', due, '-inf', now, 'LIMIT', 0, max)) do
    local entry = redis.call('XCLAIM', stream, group, me, 0, id)[1]
    if entry then
      redis.call('ZADD', due, now + lease, id)
      local count = redis.call('XPENDING', stream, group, id, id, 1)[1][4]
      out[#out + 1] = {id, count, entry[2]}
    else
      -- Settled elsewhere, or its stream entry is gone: nothing to deliver.
      redis.call('ZREM', due, id)
      redis.call('XACK', stream, group, id)
    end
  end
  if #out < max then
    local read = redis.call('XREADGROUP', 'GROUP', group, me, 'COUNT', max - #out,
      'STREAMS', stream, '>')
    if read then
      for _, entry in ipairs(read[1][2]) do
        redis.call('ZADD', due, now + lease, entry[1])
        out[#out + 1] = {entry[1], 1, entry[2]}
        fresh = fresh + 1
      end
    end
  end
end
local newest = redis.call('XREVRANGE', stream, '+', '-', 'COUNT', 1)[1]
return {string.format('%.0f', now), pattern, out, fresh, newest and newest[1] or '0-0'}
`;

/**
 * Acks entries a name's pattern does not match, at once. KEYS: stream, due. ARGV: name, IDs….
 */
export const DROP: string = `
local ids = {unpack(ARGV, 2)}
redis.call('XACK', KEYS[1], ARGV[1], unpack(ids))
redis.call('ZREM', KEYS[2], unpack(ids))
return #ids
`;

/** The start of every settling script: KEYS stream, due; ARGV now, name, consumer, id, count. */
const SETTLE = `${CLOCK}${HOLDS}
local now = clock(ARGV[1])
local stream, due, group, me, id = KEYS[1], KEYS[2], ARGV[2], ARGV[3], ARGV[4]
if not holds(stream, group, id, me, ARGV[5]) then return 0 end
`;

/** Done. Returns 1, or 0 when the lease was lost. */
export const ACK: string = `${SETTLE}
redis.call('XACK', stream, group, id)
redis.call('ZREM', due, id)
return 1
`;

/**
 * Renews the lease: XCLAIM JUSTID resets the entry's idle time without counting a delivery.
 * ARGV[6]: lease (ms).
 */
export const EXTEND: string = `${SETTLE}
redis.call('ZADD', due, now + tonumber(ARGV[6]), id)
redis.call('XCLAIM', stream, group, me, 0, id, 'JUSTID')
return 1
`;

/**
 * Hands the entry to the waiting consumer, due after a delay (ARGV[6], ms), or at once when given
 * back (ARGV[7] = "1": the attempt did not start, so its delivery is not counted).
 */
export const RETRY: string = `${SETTLE}
redis.call('ZADD', due, now + tonumber(ARGV[6]), id)
if ARGV[7] == '1' then
  redis.call('XCLAIM', stream, group, '${WAITING}', 0, id, 'JUSTID', 'RETRYCOUNT',
    tonumber(ARGV[5]) - 1)
else
  redis.call('XCLAIM', stream, group, '${WAITING}', 0, id, 'JUSTID')
end
return 1
`;

/**
 * Parks the delivery in the name's dead-letter stream and acks it.
 * KEYS[3]: the dead-letter stream. ARGV[6…10]: event id, topic, data, publishedAt, error.
 */
export const DEAD_LETTER: string = `${SETTLE}
redis.call('XADD', KEYS[3], '*', 'id', ARGV[6], 'topic', ARGV[7], 'data', ARGV[8], 'at', ARGV[9],
  'attempts', ARGV[5], 'error', ARGV[10], 'deadAt', string.format('%.0f', now))
redis.call('XACK', stream, group, id)
redis.call('ZREM', due, id)
return 1
`;

/**
 * Appends up to `limit` dead letters to the stream again, addressed to their name alone (field
 * `to`), and removes them from the dead-letter stream. KEYS: stream, dead. ARGV: name, limit,
 * now ("" for the server's clock: then no field `t`). Returns {how many, the last entry ID or
 * false}.
 */
export const REDRIVE: string = `
local entries = redis.call('XRANGE', KEYS[2], '-', '+', 'COUNT', tonumber(ARGV[2]))
local last = false
for _, entry in ipairs(entries) do
  local f = {}
  for i = 1, #entry[2], 2 do f[entry[2][i]] = entry[2][i + 1] end
  local add = {'XADD', KEYS[1], '*', 'id', f.id, 'topic', f.topic, 'data', f.data, 'at', f.at,
    'to', ARGV[1]}
  if ARGV[3] ~= '' then
    add[#add + 1] = 't'
    add[#add + 1] = ARGV[3]
  end
  last = redis.call(unpack(add))
  redis.call('XDEL', KEYS[2], entry[1])
end
return {#entries, last}
`;

/** When the name's next lease ends or retry comes due. KEYS: due. ARGV: now. */
export const NEXT_DUE: string = `${CLOCK}
local now = clock(ARGV[1])
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {string.format('%.0f', now), first[2] or false}
`;

/**
 * Trims the stream below the oldest entry some group still needs: its oldest pending entry, or
 * the last one it read when nothing is pending. Without groups, no entry is needed.
 * KEYS: stream. Returns how many entries were removed.
 */
export const TRIM: string = `
local function before(a, b)
  local am, as = string.match(a, '(%d+)-(%d+)')
  local bm, bs = string.match(b, '(%d+)-(%d+)')
  am, as, bm, bs = tonumber(am), tonumber(as), tonumber(bm), tonumber(bs)
  return am < bm or (am == bm and as < bs)
end
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local low = nil
for _, group in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do
  local info = {}
  for i = 1, #group, 2 do info[group[i]] = group[i + 1] end
  local keep = info['last-delivered-id']
  if tonumber(info['pending']) > 0 then
    keep = redis.call('XPENDING', KEYS[1], info['name'], '-', '+', 1)[1][1]
  end
  if low == nil or before(keep, low) then low = keep end
end
if low == nil then return redis.call('XTRIM', KEYS[1], 'MAXLEN', 0) end
return redis.call('XTRIM', KEYS[1], 'MINID', low)
`;

/**
 * Removes a consumer from the groups where it holds nothing, as it closes.
 * KEYS: stream. ARGV: consumer, names….
 */
export const FORGET_CONSUMER: string = `
for i = 2, #ARGV do
  local pending = redis.pcall('XPENDING', KEYS[1], ARGV[i], '-', '+', 1, ARGV[1])
  if type(pending) == 'table' and not pending.err and #pending == 0 then
    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[i], ARGV[1])
  end
end
return 1
`;

/**
 * Counts a name's deliveries by state, for `Transport.inspect()`. Ready: the entries the group
 * has not read yet (whatever their topic: the pattern filters them as they are read) and those
 * the waiting consumer holds that are due; delayed: those it holds that are due later; in
 * flight: those other consumers hold, ended leases included; dead: the dead-letter stream's
 * length. The oldest ready one came due when it was appended (field `t`, else its ID's time)
 * or at its due time. Costs O(1) plus one step per entry the waiting consumer holds (on Redis
 * 6.2, which keeps no count of unread entries, one per unread entry, counting up to 10,000).
 * KEYS: stream, due, dead. ARGV: now, name.
 * Returns {ready, delayed, inFlight, dead, when the oldest ready came due or false, now}.
 */
export const INSPECT: string = `${CLOCK}
local now = clock(ARGV[1])
local stream, due, name = KEYS[1], KEYS[2], ARGV[2]
local dead = redis.call('XLEN', KEYS[3])
local stamp = string.format('%.0f', now)
if redis.call('EXISTS', stream) == 0 then return {0, 0, 0, dead, false, stamp} end
local group = nil
for _, found in ipairs(redis.call('XINFO', 'GROUPS', stream)) do
  local info = {}
  for i = 1, #found, 2 do info[found[i]] = found[i + 1] end
  if info['name'] == name then group = info end
end
if group == nil then return {0, 0, 0, dead, false, stamp} end
local ready, delayed, oldest = 0, 0, nil
local after = '(' .. group['last-delivered-id']
local first = redis.call('XRANGE', stream, after, '+', 'COUNT', 1)[1]
if first then
  -- Redis 6.2 has no lag, and 7 none once an entry after the group's position was deleted
  -- (trimming never deletes one): count them then, up to 10,000.
  local unread = group['lag']
  if type(unread) ~= 'number' then
    unread = #redis.call('XRANGE', stream, after, '+', 'COUNT', 10000)
  end
  ready = unread
  for i = 1, #first[2], 2 do
    if first[2][i] == 't' then oldest = tonumber(first[2][i + 1]) end
  end
  oldest = oldest or tonumber(string.match(first[1], '^(%d+)'))
end
local summary = redis.call('XPENDING', stream, name)
local pending = tonumber(summary[1])
local waiting = 0
for _, holder in ipairs(summary[4] or {}) do
  if holder[1] == '${WAITING}' then waiting = tonumber(holder[2]) end
end
if waiting > 0 then
  for _, entry in ipairs(redis.call('XPENDING', stream, name, '-', '+', waiting, '${WAITING}')) do
    local at = tonumber(redis.call('ZSCORE', due, entry[1]) or now)
    if at > now then
      delayed = delayed + 1
    else
      ready = ready + 1
      if oldest == nil or at < oldest then oldest = at end
    end
  end
end
return {ready, delayed, pending - waiting, dead, oldest and string.format('%.0f', oldest) or false,
  stamp}
`;
