import assert from "node:assert/strict";
import { join } from "node:path";
import { main } from "./main.ts";
import { captureIo } from "./_capture_io.ts";

async function withProject(
  files: Record<string, string>,
  fn: (dir: string) => Promise<void>,
  config: Record<string, unknown> = { model: "test", sandbox: "memory" },
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "flue-devloop-" });
  try {
    await Deno.writeTextFile(join(dir, "deno.json"), JSON.stringify({ flue: config }));
    for (const [path, text] of Object.entries(files)) {
      await Deno.mkdir(join(dir, path, ".."), { recursive: true });
      await Deno.writeTextFile(join(dir, path), text);
    }
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const GREET = `export function run(ctx) { return { hello: ctx.payload ?? "world" }; }\n`;
const FAIL =
  `export function run() {\n  throw new Error("database unreachable", { cause: new Error("connection refused") });\n}\n`;

Deno.test("flue run prints its run id on stderr; flue runs lists runs; flue logs --last prints the newest", async () => {
  await withProject({ "workflows/greet.ts": GREET, "workflows/fail.ts": FAIL }, async (dir) => {
    const first = captureIo();
    assert.equal(await main(["run", "greet", "--project", dir, "--payload", '"a"'], first), 0, first.err);
    const runId = first.err.match(/run (workflow:greet:\S+) started/)?.[1];
    assert.ok(runId, first.err);
    assert.deepEqual(JSON.parse(first.out), { hello: "a" });

    const failed = captureIo();
    assert.equal(await main(["run", "fail", "--project", dir], failed), 1);
    const lines = failed.err.trimEnd().split("\n");
    assert.match(lines[0], /^run workflow:fail:\S+ started/);
    assert.equal(lines[1], "error: database unreachable");
    assert.match(lines[2], /^ {4}at .*workflows\/fail\.ts:2:9$/);
    assert.equal(lines[3], "  caused by: connection refused");
    assert.doesNotMatch(failed.err, /^Error:/m);

    const runs = captureIo();
    assert.equal(await main(["runs", "--project", dir], runs), 0, runs.err);
    const listed = runs.out.trimEnd().split("\n");
    assert.equal(listed.length, 2);
    assert.match(listed[0], /^workflow:fail:\S+ {2}failed +fail .*database unreachable/);
    assert.ok(listed[1].startsWith(`${runId}  done`));
    const onlyDone = captureIo();
    assert.equal(await main(["runs", "--project", dir, "--status", "done", "--json"], onlyDone), 0);
    assert.deepEqual(onlyDone.out.trimEnd().split("\n").map((line) => JSON.parse(line).runId), [runId]);

    const last = captureIo();
    assert.equal(await main(["logs", "--last", "--workflow", "greet", "--project", dir, "--json"], last), 0, last.err);
    const events = last.out.trimEnd().split("\n").map((line) => JSON.parse(line));
    assert.equal(events[0].runId, runId);
    assert.equal(events.at(-1).type, "run_end");

    const bad = captureIo();
    assert.equal(await main(["runs", "--project", dir, "--status", "sleeping"], bad), 2);
  }, { model: "test", sandbox: "memory", store: { kind: "sqlite" } });
});

Deno.test("flue run --debug and FLUE_DEBUG=1 print full stacks", async () => {
  await withProject({ "workflows/fail.ts": FAIL }, async (dir) => {
    const io = captureIo();
    assert.equal(await main(["run", "fail", "--project", dir, "--debug"], io), 1);
    assert.match(io.err, /error: database unreachable\n\s+at (Module\.)?run \(file:.*fail\.ts:2:9\)\n\s+at /);
    assert.match(io.err, /caused by: connection refused\n\s+at /);
  });
});

Deno.test("a workflow module with a syntax error prints a syntax error line, not TypeError: SyntaxError:", async () => {
  await withProject({ "workflows/broken.ts": "export function run() { return 1 +; }\n" }, async (dir) => {
    const io = captureIo();
    assert.equal(await main(["run", "broken", "--project", dir], io), 1);
    assert.match(io.err, /^error: .*syntax error: Expression expected/);
    assert.doesNotMatch(io.err, /TypeError/);
  });
});

Deno.test("flue run --stream ends the streamed text with a newline before the result", async () => {
  const workflow = `import { createAgent } from "${new URL("../agent/create_agent.ts", import.meta.url).href}";
const agent = createAgent(() => ({ model: "test", sandbox: "memory" }));
export async function run(ctx) {
  const session = await (await ctx.init(agent)).session();
  return { text: (await session.prompt("Say something")).text };
}
`;
  await withProject({ "workflows/talk.ts": workflow }, async (dir) => {
    const io = captureIo();
    assert.equal(await main(["run", "talk", "--project", dir, "--stream"], io), 0, io.err);
    assert.ok(io.err.endsWith("\n"), JSON.stringify(io.err));
    const streamed = io.err.split("\n").filter((line) => !line.startsWith("run "));
    assert.ok(streamed.join("").length > 0);
    assert.ok(JSON.parse(io.out).text);
  });
});

Deno.test("flue help --help prints help and exits 0", async () => {
  const io = captureIo();
  assert.equal(await main(["help", "--help"], io), 0);
  assert.match(io.out, /Usage:/);
});

Deno.test("flue check reports a bad model string, a missing key, an unknown sandbox and broken front matter", async () => {
  await withProject({}, async (dir) => {
    const io = captureIo();
    assert.equal(await main(["check", "--project", dir], io), 0, io.err);
    assert.match(io.out, /^ok: /);
  });
  const skill = "---\nname: triage\ndescription: [unclosed\n---\nBody\n";
  await withProject({ ".agents/skills/triage/SKILL.md": skill }, async (dir) => {
    const io = captureIo();
    assert.equal(await main(["check", "--project", dir, "--json"], io), 1);
    const report = JSON.parse(io.out);
    assert.equal(report.ok, false);
    const text = report.problems.map((problem: { where: string; message: string }) =>
      `${problem.where}: ${problem.message}`
    )
      .join("\n");
    assert.match(text, /deno\.json "flue\.model": unknown provider "opneai" .*did you mean "openai"\?/);
    assert.match(text, /deno\.json "flue\.sandbox": unknown sandbox "docker"/);
    assert.match(text, /skills: .*SKILL\.md/);
  }, { model: "opneai:gpt-5.5", sandbox: "docker" });
  await withProject({}, async (dir) => {
    const env = { ...Deno.env.toObject() };
    delete env.OPENAI_API_KEY;
    const command = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", new URL("../../cli.ts", import.meta.url).pathname, "serve", "--project", dir, "--port", "0"],
      env: { ...env, FLUE_MODEL: "openai:gpt-5.5", NO_COLOR: "1" },
      clearEnv: true,
      stdout: "piped",
      stderr: "piped",
    });
    const { code, stderr, stdout } = await command.output();
    const text = new TextDecoder().decode(stderr);
    assert.equal(code, 1, text);
    assert.equal(new TextDecoder().decode(stdout), "");
    assert.match(
      text,
      /^error: FLUE_MODEL \(over .*deno\.json "flue\.model"\): model "openai:gpt-5\.5" needs OPENAI_API_KEY/,
    );
  });
});

Deno.test("flue serve with a too-short FLUE_API_TOKEN exits 2 with the rule", async () => {
  const command = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("../../cli.ts", import.meta.url).pathname, "serve", "--port", "0"],
    env: { FLUE_API_TOKEN: "short", NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  });
  const { code, stderr } = await command.output();
  const text = new TextDecoder().decode(stderr);
  assert.equal(code, 2, text);
  assert.match(text, /^error: .*16 characters/);
});

Deno.test("flue invoke --message - and flue run --prompt - drop the newline that ends the piped line", async () => {
  const agent = `import { createAgent } from "${new URL("../agent/create_agent.ts", import.meta.url).href}";
export default createAgent(() => ({ model: "test", sandbox: "memory" }));
`;
  await withProject({ "agents/echo.ts": agent }, async (dir) => {
    for (const args of [["invoke", "echo", "a", "--message", "-"], ["run", "--prompt", "-"]]) {
      const child = new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", new URL("../../cli.ts", import.meta.url).pathname, ...args, "--project", dir],
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
        env: { NO_COLOR: "1" },
      }).spawn();
      const writer = child.stdin.getWriter();
      await writer.write(new TextEncoder().encode("piped words\n"));
      await writer.close();
      const { code, stdout, stderr } = await child.output();
      const text = new TextDecoder().decode(stdout);
      assert.equal(code, 0, new TextDecoder().decode(stderr));
      assert.match(text, /"piped words"/, args[0]);
      assert.doesNotMatch(text, /piped words\n"/);
    }
  });
});
