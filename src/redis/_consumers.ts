// Consumer-name hygiene. Each transport object reads as a consumer of its own
// (`soiree:<uuid>`) in every group it touches, and `close()` removes that name where it holds
// nothing; a process killed before it closed leaves its name in each group for good. So any
// transport on the same prefix removes, in every group of the stream, the consumers that hold
// no pending entry and have been idle for CONSUMER_IDLE: when it registers a name, and then at
// most every SWEEP_EVERY while it settles deliveries. A consumer that still holds entries is
// never removed (XGROUP DELCONSUMER would drop them from the pending list): its leases end, the
// entries are claimed elsewhere, and it goes once idle. Removing a live one is harmless: Redis
// makes the consumer again at its next read or claim. Owns the sweep script and its pacing.

import type { Scripts } from "./_reply.ts";
import { int } from "./_reply.ts";

/** How long (ms) a consumer holding nothing stays idle before a sweep removes it: an hour. */
export const CONSUMER_IDLE = 3_600_000;
/** At most one sweep per transport object in this long (ms), besides those at registration. */
export const SWEEP_EVERY = 600_000;

/**
 * Removes, in every group of the stream, each consumer that holds no pending entry and has been
 * idle for at least ARGV[1] ms, checking and removing in one step. KEYS: stream. ARGV: idle (ms).
 * Returns how many were removed.
 */
export const FORGET_IDLE: string = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local idle = tonumber(ARGV[1])
local removed = 0
for _, group in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do
  local name = nil
  for i = 1, #group, 2 do if group[i] == 'name' then name = group[i + 1] end end
  for _, consumer in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], name)) do
    local info = {}
    for i = 1, #consumer, 2 do info[consumer[i]] = consumer[i + 1] end
    if tonumber(info['pending']) == 0 and tonumber(info['idle']) >= idle then
      redis.call('XGROUP', 'DELCONSUMER', KEYS[1], name, info['name'])
      removed = removed + 1
    end
  end
end
return removed
`;

/**
 * Removes the consumers of every group of `stream` that hold nothing and have been idle for at
 * least `idle` ms; resolves with how many.
 */
export async function forgetIdleConsumers(
  scripts: Scripts,
  stream: string,
  idle: number = CONSUMER_IDLE,
): Promise<number> {
  return int(await scripts.run(FORGET_IDLE, [stream], [String(idle)]));
}

/** Paces the sweeps of one transport object; each is best effort and never rejects. */
export class ConsumerSweeper {
  readonly #scripts: Scripts;
  readonly #stream: string;
  #last = -Infinity;
  #running = false;

  constructor(scripts: Scripts, stream: string) {
    this.#scripts = scripts;
    this.#stream = stream;
  }

  /** Sweeps now unless one is running or, with `paced`, one began less than SWEEP_EVERY ago. */
  sweep(paced: boolean): void {
    const now = performance.now();
    if (this.#running || (paced && now - this.#last < SWEEP_EVERY)) return;
    this.#running = true;
    this.#last = now;
    forgetIdleConsumers(this.#scripts, this.#stream).catch(() => {
      // Housekeeping: the next sweep tries again.
    }).finally(() => (this.#running = false));
  }
}
