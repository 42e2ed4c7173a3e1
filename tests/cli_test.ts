import assert from "node:assert/strict";
import { join } from "node:path";
import { SqliteStore } from "../mod.ts";
import { ROOT, runCli } from "./_cli_helpers.ts";

async function withProject(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "flue-cli-" });
  try {
    const init = await runCli(["init", dir], { cwd: ROOT });
    assert.equal(init.code, 0, init.stderr);
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("flue --version prints the version from deno.json", async () => {
  const { version } = JSON.parse(await Deno.readTextFile(join(ROOT, "deno.json")));
  const run = await runCli(["--version"], { cwd: ROOT });
  assert.equal(run.code, 0);
  assert.equal(run.stdout.trim(), `flue ${version}`);
});

Deno.test("flue help lists the commands; help run shows run's flags", async () => {
  const help = await runCli(["help"], { cwd: ROOT });
  assert.equal(help.code, 0);
  assert.match(help.stdout, /flue init/);
  const runHelp = await runCli(["help", "run"], { cwd: ROOT });
  assert.match(runHelp.stdout, /--payload/);
});

Deno.test("an unknown command or flag exits 2 and names what is valid", async () => {
  const command = await runCli(["deploy-now"], { cwd: ROOT });
  assert.equal(command.code, 2);
  assert.match(command.stderr, /Unknown command "deploy-now": commands are init, run/);
  const flag = await runCli(["run", "--promt", "hi"], { cwd: ROOT });
  assert.equal(flag.code, 2);
  assert.match(flag.stderr, /--promt/);
  assert.match(flag.stderr, /valid flags are .*--prompt/);
});

Deno.test("flue init writes a project that answers a prompt key-less", async () => {
  await withProject(async (dir) => {
    const files = [
      "AGENTS.md",
      ".agents/skills/review-text/SKILL.md",
      "deno.json",
      "src/agents/assistant.ts",
      "src/workflows/summarize.ts",
    ];
    for (const file of files) {
      await Deno.stat(join(dir, file));
    }
    const run = await runCli(["run", "--prompt", "Hello there"], { cwd: dir, config: join(dir, "deno.json") });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout.trim(), 'Test reply to: "Hello there"');
  });
});

Deno.test("flue run --prompt - reads the message from standard input", async () => {
  await withProject(async (dir) => {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--quiet", "--config", join(dir, "deno.json"), `${ROOT}cli.ts`, "run", "--prompt", "-"],
      cwd: dir,
      env: { NO_COLOR: "1" },
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode("A long prompt from a pipe"));
    await writer.close();
    const output = await child.output();
    assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
    assert.equal(new TextDecoder().decode(output.stdout).trim(), 'Test reply to: "A long prompt from a pipe"');
  });
});

Deno.test("flue init again changes nothing; a file with other contents is refused by name unless --force", async () => {
  await withProject(async (dir) => {
    const same = await runCli(["init", dir], { cwd: ROOT });
    assert.equal(same.code, 0, same.stderr);
    assert.doesNotMatch(same.stdout, /wrote/);
    await Deno.writeTextFile(join(dir, "AGENTS.md"), "# Mine\n");
    const again = await runCli(["init", dir], { cwd: ROOT });
    assert.equal(again.code, 2);
    assert.match(again.stderr, /Not changing .*: AGENTS.md already exist.*--force/);
    assert.equal(await Deno.readTextFile(join(dir, "AGENTS.md")), "# Mine\n");
    assert.equal((await runCli(["init", dir, "--force"], { cwd: ROOT })).code, 0);
    assert.match(await Deno.readTextFile(join(dir, "AGENTS.md")), /# Project instructions/);
  });
});

Deno.test("flue run --json prints one JSON result and a second process resumes the session", async () => {
  await withProject(async (dir) => {
    const config = join(dir, "deno.json");
    const first = await runCli(["run", "--prompt", "first", "--session", "s1", "--json"], { cwd: dir, config });
    assert.equal(first.code, 0, first.stderr);
    const result = JSON.parse(first.stdout);
    assert.equal(result.session, "s1");
    assert.equal(result.agent, "assistant");
    assert.equal(typeof result.usage.totalTokens, "number");
    const second = await runCli(["run", "--prompt", "second", "--session", "s1"], { cwd: dir, config });
    assert.equal(second.code, 0, second.stderr);
    const store = new SqliteStore({ path: join(dir, ".flue", "flue.db") });
    try {
      const history = await store.load({ agent: "assistant", instanceId: "default", session: "s1" });
      assert.deepEqual(history.map((entry) => entry.message.content), [
        "first",
        'Test reply to: "first"',
        "second",
        'Test reply to: "second"',
      ]);
    } finally {
      await store.close();
    }
  });
});

Deno.test("flue run --stream prints text on stdout and tool activity on stderr", async () => {
  await withProject(async (dir) => {
    await Deno.writeTextFile(join(dir, "AGENTS.md"), "# Notes\n");
    const run = await runCli(["run", "--prompt", 'Use ls to look at "."', "--stream"], {
      cwd: dir,
      config: join(dir, "deno.json"),
    });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /→ ls/);
    assert.match(run.stderr, /✓ ls/);
    assert.ok(!run.stderr.includes("\x1b["), "NO_COLOR output has no escape codes");
    assert.ok(run.stdout.trim().length > 0);
  });
});

Deno.test("flue run <workflow> runs it with a JSON payload, inline or from a file", async () => {
  await withProject(async (dir) => {
    const config = join(dir, "deno.json");
    const inline = await runCli(["run", "summarize", "--payload", '{"text":"Deno runs TypeScript."}', "--json"], {
      cwd: dir,
      config,
    });
    assert.equal(inline.code, 0, inline.stderr);
    const { runId, result } = JSON.parse(inline.stdout);
    assert.match(runId, /^workflow:summarize:run_/);
    assert.equal(typeof result.summary, "string");
    assert.ok(Array.isArray(result.keywords));
    await Deno.writeTextFile(join(dir, "payload.json"), '{"text":"From a file."}');
    const fromFile = await runCli(["run", "summarize", "--payload", "@payload.json"], { cwd: dir, config });
    assert.equal(fromFile.code, 0, fromFile.stderr);
    assert.equal(typeof JSON.parse(fromFile.stdout).summary, "string");
  });
});

Deno.test("flue run <workflow> --stream keeps stdout for the JSON result and streams activity on stderr", async () => {
  await withProject(async (dir) => {
    const run = await runCli(["run", "summarize", "--payload", '{"text":"Streams."}', "--stream"], {
      cwd: dir,
      config: join(dir, "deno.json"),
    });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(typeof JSON.parse(run.stdout).summary, "string");
    assert.match(run.stderr, /run workflow:summarize:run_\S+ started/);
    assert.match(run.stderr, /\[info\] summarising/);
    assert.match(run.stderr, /run finished in \d+ ms/);
  });
});

Deno.test("flue run rejects a bad payload with exit 2 and says what JSON is expected", async () => {
  await withProject(async (dir) => {
    const run = await runCli(["run", "summarize", "--payload", "{text: oops"], {
      cwd: dir,
      config: join(dir, "deno.json"),
    });
    assert.equal(run.code, 2);
    assert.match(run.stderr, /--payload is not valid JSON/);
    const missing = await runCli(["run", "summarize", "--payload", "@nope.json"], {
      cwd: dir,
      config: join(dir, "deno.json"),
    });
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /Could not read --payload file/);
  });
});

Deno.test("flue run with an unknown workflow names the known ones", async () => {
  await withProject(async (dir) => {
    const run = await runCli(["run", "summarise"], { cwd: dir, config: join(dir, "deno.json") });
    assert.equal(run.code, 1);
    assert.match(run.stderr, /No workflow named "summarise": known workflows are summarize/);
  });
});

Deno.test("flue run with a real provider and no key says which variable to set", async () => {
  await withProject(async (dir) => {
    const run = await runCli(["run", "--prompt", "hi", "--model", "openai:gpt-5.5"], {
      cwd: dir,
      config: join(dir, "deno.json"),
      env: { OPENAI_API_KEY: "" },
    });
    assert.equal(run.code, 1);
    assert.match(run.stderr, /OPENAI_API_KEY/);
    assert.match(run.stderr, /--model test/);
  });
});

Deno.test("an unknown configuration key is an error naming the known keys", async () => {
  await withProject(async (dir) => {
    const config = JSON.parse(await Deno.readTextFile(join(dir, "deno.json")));
    config.flue.allowWrites = true;
    await Deno.writeTextFile(join(dir, "deno.json"), JSON.stringify(config));
    const run = await runCli(["run", "--prompt", "hi"], { cwd: dir, config: join(dir, "deno.json") });
    assert.equal(run.code, 1);
    assert.match(
      run.stderr,
      /unknown key "allowWrites" in "flue" \(did you mean "allowWrite"\?\): known keys are .*allowWrite/,
    );
  });
});

Deno.test("the generated project's own tests pass", async () => {
  await withProject(async (dir) => {
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["test", "-A", "--quiet", "--config", join(dir, "deno.json")],
      cwd: dir,
      stdout: "piped",
      stderr: "piped",
      stdin: "null",
    }).output();
    const text = new TextDecoder().decode(output.stdout) + new TextDecoder().decode(output.stderr);
    assert.equal(output.code, 0, text);
    assert.match(text, /1 passed/);
  });
});

Deno.test("flue run exits 2 when the payload does not match the schema the workflow exports", async () => {
  await withProject(async (dir) => {
    const run = await runCli(["run", "summarize", "--payload", '{"txt":"typo"}'], {
      cwd: dir,
      config: join(dir, "deno.json"),
    });
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, /Invalid payload for workflow "summarize": text: /);
  });
});
