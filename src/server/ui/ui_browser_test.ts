/**
 * The development UI in a real headless Chromium (Debian's `chromium`, driven by `playwright-core`): a chat round
 * trip, an aborted stream, a run followed live, a dead dispatch replayed, and screenshots that are not blank. Without
 * a browser the test prints SKIPPED and is ignored.
 */

import assert from "node:assert/strict";
import { inflateSync } from "node:zlib";
import { z } from "zod";
import type { FlueContext } from "../../agent/workflow.ts";
import { FunctionModel } from "../../model/test_models/function_model.ts";
import { startTestServer } from "../testdata/test_server.ts";

const CHROMIUM = "/usr/bin/chromium";
const hasBrowser = await Deno.stat(CHROMIUM).then(() => true, () => false);
if (!hasBrowser) console.log(`SKIPPED: no browser at ${CHROMIUM} (apt-get install chromium)`);

Deno.test({
  name: "the development UI chats, aborts, follows a run live and replays a dead dispatch in a real browser",
  ignore: !hasBrowser,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const { chromium } = await import("playwright-core");
    const releaseRun = Promise.withResolvers<void>();
    const slowStarted = Promise.withResolvers<void>();
    const model = new FunctionModel(async (request) => {
      const last = request.messages.at(-1);
      const text = typeof last?.content === "string" ? last.content : "";
      if (text.includes("slow")) {
        slowStarted.resolve();
        await new Promise((_, reject) =>
          request.signal?.addEventListener("abort", () => reject(request.signal!.reason), { once: true })
        );
      }
      return `You said: ${text}`;
    });
    const broken = new FunctionModel(() => {
      throw new Error("the model is down");
    });
    const longRun = {
      payload: z.object({ topic: z.string(), rounds: z.int().default(1) }),
      result: z.object({ summary: z.string() }),
      async run(ctx: FlueContext<{ topic: string; rounds: number }>) {
        ctx.log.info(`working on ${ctx.payload.topic}`);
        await releaseRun.promise;
        ctx.log.info("almost done");
        return { summary: `${ctx.payload.topic} x${ctx.payload.rounds}` };
      },
    };
    const server = startTestServer({
      ui: true,
      agents: { assistant: { model, sandbox: "memory" }, flaky: { model: broken, sandbox: "memory" } },
      workflows: { research: longRun },
      worker: { leaseMs: 1000, pollMs: 50, backoff: { initialMs: 10, maxMs: 10 } },
    });
    const userDataDir = await Deno.makeTempDir({ prefix: "flue-chromium-" });
    // A fresh profile: playwright passes it to Chromium as --user-data-dir.
    const browser = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      viewport: { width: 1200, height: 800 },
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
    try {
      const page = await browser.newPage();
      await page.goto(server.url);
      await page.waitForSelector("body[data-ready=true]", { timeout: 20_000 });

      // A chat round trip, streamed.
      await page.fill("#message", "Hello from the browser");
      await page.click("#send");
      await page.waitForSelector(".message.assistant:has-text('You said: Hello from the browser')");
      assert.ok(await page.locator("#timeline li").count() > 0, "the event timeline fills");
      await page.waitForSelector("#send:not([disabled])");
      const chatShot = await page.screenshot();
      assertNotBlank(chatShot, "chat");
      await keep(chatShot, "chat");

      // An aborted stream.
      await page.fill("#message", "something slow");
      await page.click("#send");
      await slowStarted.promise;
      await page.click("#abort");
      await page.waitForSelector(".message.failed", { timeout: 10_000 });
      await page.waitForSelector("#send:not([disabled])");

      // The session's history survives a reload.
      await page.reload();
      await page.waitForSelector("body[data-ready=true]");
      await page.waitForSelector(".message.user:has-text('Hello from the browser')");

      // A run started from the form generated from its schema, followed live.
      await page.click("nav button[data-tab=runs]");
      await page.fill("#payload-fields input[name=topic]", "tides");
      await page.fill("#payload-fields input[name=rounds]", "3");
      await page.click("#start");
      await page.waitForSelector("#run-events li:has-text('working on tides')");
      assert.equal(await page.locator("#run-events li[data-type=run_end]").count(), 0, "still running");
      releaseRun.resolve();
      await page.waitForSelector("#run-events li[data-type=run_end]");
      await page.waitForSelector("#run-result:has-text('tides x3')");
      const runsShot = await page.screenshot();
      assertNotBlank(runsShot, "runs");
      await keep(runsShot, "runs");

      // A dispatch that dies, replayed from the queue view.
      const admitted = await server.request("/agents/flaky/u1/dispatch", {
        method: "POST",
        json: { message: "hi" },
      });
      const { dispatchId } = await admitted.json();
      for (let attempt = 0; attempt < 200; attempt++) {
        const record = await (await server.request(`/dispatches/${dispatchId}`)).json();
        if (record.status === "dead") break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await page.click("nav button[data-tab=dispatches]");
      await page.selectOption("#dispatch-status", "dead");
      const row = `tr[data-dispatch-id="${dispatchId}"]`;
      await page.waitForSelector(`${row} button.replay`);
      const dispatchesShot = await page.screenshot();
      assertNotBlank(dispatchesShot, "dispatches");
      await keep(dispatchesShot, "dispatches");
      const attemptsBefore = (await (await server.request(`/dispatches/${dispatchId}`)).json()).attempts.length;
      await page.click(`${row} button.replay`);
      // Replayed, it leaves the dead list and the worker runs it again.
      await page.waitForSelector(row, { state: "detached" });
      let attemptsAfter = attemptsBefore;
      for (let poll = 0; poll < 200 && attemptsAfter === attemptsBefore; poll++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        attemptsAfter = (await (await server.request(`/dispatches/${dispatchId}`)).json()).attempts.length;
      }
      assert.ok(attemptsAfter > attemptsBefore, "the replayed dispatch ran again");

      // With a token, the UI asks for it, keeps it, and sends it.
      const guarded = startTestServer({
        ui: true,
        token: "a-token-of-sixteen-chars",
        agents: { assistant: { model, sandbox: "memory" } },
      });
      try {
        const tokenPage = await browser.newPage();
        await tokenPage.goto(guarded.url);
        await tokenPage.waitForSelector("#token-form:not([hidden])");
        await tokenPage.fill("#token", "a-token-of-sixteen-chars");
        await tokenPage.click("#token-form button");
        await tokenPage.waitForSelector("body[data-ready=true]", { timeout: 20_000 });
        await tokenPage.fill("#message", "Hello with a token");
        await tokenPage.click("#send");
        await tokenPage.waitForSelector(".message.assistant:has-text('You said: Hello with a token')");
      } finally {
        await guarded.close();
      }
    } finally {
      await browser.close();
      await server.close();
      await Deno.remove(userDataDir, { recursive: true }).catch(() => {});
    }
  },
});

// FLUE_UI_SCREENSHOTS=<dir> keeps the screenshots for a person to look at.
async function keep(png: Uint8Array, name: string): Promise<void> {
  const dir = Deno.env.get("FLUE_UI_SCREENSHOTS");
  if (dir) await Deno.writeFile(`${dir}/${name}.png`, png);
}

// A screenshot is blank when every pixel has one colour: decode the PNG's rows and count distinct pixel values.
function assertNotBlank(png: Uint8Array, what: string): void {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const chunks: Uint8Array[] = [];
  let width = 0;
  let bytesPerPixel = 4;
  for (let offset = 8; offset < png.length;) {
    const length = view.getUint32(offset);
    const type = new TextDecoder().decode(png.subarray(offset + 4, offset + 8));
    const data = png.subarray(offset + 8, offset + 8 + length);
    if (type === "IHDR") {
      width = new DataView(data.buffer, data.byteOffset).getUint32(0);
      bytesPerPixel = data[9] === 6 ? 4 : 3;
    }
    if (type === "IDAT") chunks.push(data);
    offset += length + 12;
  }
  const raw = inflateSync(concat(chunks));
  const stride = width * bytesPerPixel + 1;
  // Rows are filtered; unfiltering is not needed to tell a single colour from many: a blank image filters to
  // repeated zeros after its first pixel, so count distinct non-zero filtered bytes across rows.
  const distinct = new Set<number>();
  for (let row = 0; row * stride < raw.length && distinct.size < 16; row++) {
    for (let index = row * stride + 1 + bytesPerPixel; index < (row + 1) * stride; index++) distinct.add(raw[index]);
  }
  assert.ok(distinct.size >= 16, `the ${what} screenshot is blank (${distinct.size} distinct values)`);
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
