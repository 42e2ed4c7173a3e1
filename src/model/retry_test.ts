import { deepStrictEqual, equal, ok, rejects } from "node:assert/strict";
import { AbortError } from "../errors.ts";
import { backoffDelayMs, isRetryableStatus, parseRetryAfterMs, retry, sleep } from "./retry.ts";

const noWait = (waits: number[]) => (ms: number): Promise<void> => {
  waits.push(ms);
  return Promise.resolve();
};

Deno.test("backoffDelayMs() draws full jitter under an exponential, capped ceiling", () => {
  const top = () => 0.999999;
  deepStrictEqual([0, 1, 2, 3].map((attempt) => backoffDelayMs(attempt, { random: top, baseDelayMs: 100 })), [
    99,
    199,
    399,
    799,
  ]);
  equal(backoffDelayMs(20, { random: top, baseDelayMs: 100, maxDelayMs: 1000 }), 999);
  equal(backoffDelayMs(3, { random: () => 0 }), 0);
  equal(backoffDelayMs(1000, { random: () => 0.5 }), 15000);
});

Deno.test("parseRetryAfterMs() reads seconds, milliseconds and HTTP dates", () => {
  equal(parseRetryAfterMs(new Headers({ "retry-after": "3" })), 3000);
  equal(parseRetryAfterMs(new Headers({ "retry-after": "0.5" })), 500);
  equal(parseRetryAfterMs(new Headers({ "retry-after-ms": "1250", "retry-after": "9" })), 1250);
  const now = Date.parse("2026-01-01T00:00:00Z");
  equal(parseRetryAfterMs(new Headers({ "retry-after": "Thu, 01 Jan 2026 00:00:07 GMT" }), now), 7000);
  equal(parseRetryAfterMs(new Headers({ "retry-after": "Wed, 31 Dec 2025 23:00:00 GMT" }), now), 0);
  equal(parseRetryAfterMs(new Headers({ "retry-after": "soon" })), undefined);
  equal(parseRetryAfterMs(new Headers({ "retry-after": "-1" })), undefined);
  equal(parseRetryAfterMs(new Headers()), undefined);
  equal(parseRetryAfterMs(undefined), undefined);
});

Deno.test("isRetryableStatus() retries 408, 429 and 5xx, never other client errors", () => {
  deepStrictEqual([408, 429, 500, 502, 503, 504].map(isRetryableStatus), [true, true, true, true, true, true]);
  deepStrictEqual([400, 401, 403, 404, 409, 422].map(isRetryableStatus), [false, false, false, false, false, false]);
});

Deno.test("retry() waits the server's retry-after instead of the backoff", async () => {
  const waits: number[] = [];
  let calls = 0;
  const result = await retry(() => ++calls === 1 ? Promise.reject(new Error("busy")) : Promise.resolve("done"), {
    signal: new AbortController().signal,
    classify: () => ({ retry: true, afterMs: 2000 }),
    sleep: noWait(waits),
    random: () => 0,
  });
  deepStrictEqual([result, calls, waits], ["done", 2, [2000]]);
});

Deno.test("retry() stops at a failure the classifier calls final", async () => {
  let calls = 0;
  const final = new Error("bad request");
  await rejects(
    retry(() => {
      calls++;
      return Promise.reject(final);
    }, { signal: new AbortController().signal, classify: () => ({ retry: false }), sleep: noWait([]) }),
    (error) => error === final,
  );
  equal(calls, 1);
});

Deno.test("retry() gives up after maxRetries with the last failure", async () => {
  const waits: number[] = [];
  let calls = 0;
  await rejects(
    retry(() => Promise.reject(new Error(`failure ${++calls}`)), {
      signal: new AbortController().signal,
      classify: () => ({ retry: true }),
      maxRetries: 2,
      baseDelayMs: 100,
      random: () => 0.5,
      sleep: noWait(waits),
    }),
    { message: "failure 3" },
  );
  deepStrictEqual(waits, [50, 100]);
});

Deno.test("retry() fails at once when the server asks for a longer wait than maxRetryAfterMs", async () => {
  let calls = 0;
  await rejects(
    retry(() => Promise.reject(new Error(`failure ${++calls}`)), {
      signal: new AbortController().signal,
      classify: () => ({ retry: true, afterMs: 120_000 }),
      maxRetryAfterMs: 60_000,
      sleep: noWait([]),
    }),
    { message: "failure 1" },
  );
});

Deno.test("retry() rejects with AbortError when aborted during the wait", async () => {
  const controller = new AbortController();
  let calls = 0;
  const running = retry(() => {
    calls++;
    return Promise.reject(new Error("busy"));
  }, {
    signal: controller.signal,
    classify: () => ({ retry: true, afterMs: 60_000 }),
    onRetry: () => queueMicrotask(() => controller.abort("stop")),
  });
  await rejects(running, (error) => error instanceof AbortError && error.reason === "stop");
  equal(calls, 1);
});

Deno.test("retry() rejects an invalid maxRetries", async () => {
  await rejects(
    retry(() => Promise.resolve(1), {
      signal: new AbortController().signal,
      classify: () => ({ retry: true }),
      maxRetries: -1,
    }),
    { name: "RangeError", message: /Invalid maxRetries -1/ },
  );
});

Deno.test("sleep() resolves after the wait and rejects at once when aborted", async () => {
  await sleep(1, new AbortController().signal);
  const controller = new AbortController();
  const waiting = sleep(60_000, controller.signal);
  controller.abort(new Error("cancelled"));
  await rejects(waiting, (error) => error instanceof AbortError && /cancelled/.test(error.message));
  const aborted = new AbortController();
  aborted.abort();
  await rejects(sleep(10, aborted.signal), { name: "AbortError" });
  ok(true);
});
