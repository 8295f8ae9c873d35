import { after, test } from "node:test";
import assert from "node:assert/strict";
import { CLIENT_KINDS, REDIS_URL, redisFixtures, SKIP_REASON } from "./_redis.ts";
import { conformance } from "./_conformance.ts";

if (REDIS_URL === undefined) {
  console.log(`skipping the Redis tests: ${SKIP_REASON}`);
  test("the Redis transport passes the conformance suite", { skip: SKIP_REASON }, () => {});
} else {
  for (const kind of CLIENT_KINDS) {
    const { factory, done } = redisFixtures(kind);
    after(done);
    conformance(`redis (${kind.label})`, factory);
  }
}
void assert;
