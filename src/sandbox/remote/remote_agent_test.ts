// The README example (file tools, `session.shell("git status --short")`, a typed skill) run by an agent against each
// remote sandbox, through the real SDK and a local fake of the provider, plus the agent-level lifecycle: credentials
// checked at start, the machine deleted on session.delete() and on agent.close().
import assert from "node:assert/strict";
import { join } from "node:path";
import { z } from "zod";
import { init } from "../../agent/init.ts";
import { PolicyDeniedError, SandboxUnavailableError } from "../../errors.ts";
import { TestModel } from "../../model/test_models/test_model.ts";
import { startFakeDenoSandbox } from "../../testing/fake_deno_sandbox.ts";
import { startFakeE2B } from "../../testing/fake_e2b.ts";
import { startFakeDaytona } from "../../testing/fake_daytona.ts";
import type { FakeMachine } from "../../testing/_fake_machine.ts";
import { remoteSandbox, type RemoteSandboxName } from "./remote_providers.ts";

interface Fake {
  options: Record<string, unknown>;
  url: string;
  machineIds(): string[];
  machine(id: string): FakeMachine | undefined;
  close(): Promise<void>;
}

const PROVIDERS: {
  name: RemoteSandboxName;
  start: () => Promise<Fake>;
  root: string;
  env: (fake: Fake) => Record<string, string>;
}[] = [
  {
    name: "deno-sandbox",
    start: startFakeDenoSandbox,
    root: "/workspace",
    env: (fake) => ({ DENO_DEPLOY_TOKEN: String(fake.options.token), DENO_SANDBOX_ENDPOINT: fake.url }),
  },
  {
    name: "e2b",
    start: startFakeE2B,
    root: "/home/user/workspace",
    env: (fake) => ({ E2B_API_KEY: String(fake.options.apiKey), E2B_API_URL: fake.url, E2B_SANDBOX_URL: fake.url }),
  },
  {
    name: "daytona",
    start: startFakeDaytona,
    root: "/home/daytona/workspace",
    env: (fake) => ({ DAYTONA_API_KEY: String(fake.options.apiKey), DAYTONA_API_URL: String(fake.options.apiUrl) }),
  },
];

async function withProject(test: (projectDir: string) => Promise<void>): Promise<void> {
  const projectDir = await Deno.realPath(await Deno.makeTempDir({ prefix: "flue_remote_agent_" }));
  try {
    await Deno.mkdir(join(projectDir, ".agents/skills"), { recursive: true });
    await Deno.writeTextFile(
      join(projectDir, ".agents/skills/triage.md"),
      "---\nname: triage\ndescription: Triage an issue and say whether a fix was applied\n---\nTriage the issue.\n",
    );
    await test(projectDir);
  } finally {
    await Deno.remove(projectDir, { recursive: true });
  }
}

async function withEnv(values: Record<string, string | undefined>, body: () => Promise<void>): Promise<void> {
  const saved = Object.fromEntries(Object.keys(values).map((name) => [name, Deno.env.get(name)]));
  const apply = (entries: Record<string, string | undefined>) => {
    for (const [name, value] of Object.entries(entries)) {
      if (value === undefined) Deno.env.delete(name);
      else Deno.env.set(name, value);
    }
  };
  apply(values);
  try {
    await body();
  } finally {
    apply(saved);
  }
}

for (const provider of PROVIDERS) {
  Deno.test(`${provider.name}: an agent runs file tools, git status and a typed skill on the remote machine`, async () => {
    const fake = await provider.start();
    try {
      await withProject(async (projectDir) => {
        const model = new TestModel({
          script: [
            { toolCalls: [{ name: "write", args: { path: "notes/fix.md", content: "Fixed issue 123\n" } }] },
            { toolCalls: [{ name: "read", args: { path: "notes/fix.md" } }] },
            { toolCalls: [{ name: "bash", args: { command: "rm -rf notes" } }] },
            "Wrote the note",
            JSON.stringify({ fixApplied: true, summary: "Wrote notes/fix.md" }),
          ],
        });
        const agent = await init({
          model,
          projectDir,
          store: "memory",
          sandbox: remoteSandbox(provider.name, fake.options),
          allowWrite: true,
          allowShell: true,
          allowedCommands: ["git"],
        });
        try {
          const session = await agent.session("fix-123");
          const response = await session.prompt("Write the note, read it back, then clean up");
          assert.equal(response.text, "Wrote the note");
          const [machineId] = fake.machineIds();
          const machine = fake.machine(machineId)!;
          assert.equal(await Deno.readTextFile(join(machine.dir, provider.root, "notes/fix.md")), "Fixed issue 123\n");
          const toolResults = (await session.history()).map((entry) => JSON.stringify(entry.message));
          assert.ok(toolResults.some((text) => text.includes("Fixed issue 123")), "the read tool saw the file");
          assert.ok(toolResults.some((text) => /allowedCommands/.test(text)), "rm was refused before it was sent");

          // The machine's image has a repository; git runs there, not on this host.
          const init = await new Deno.Command("git", {
            args: ["init", "-q", join(machine.dir, provider.root)],
          }).output();
          assert.equal(init.code, 0);
          const status = await session.shell("git status --short");
          assert.equal(status.exitCode, 0, status.stderr);
          assert.equal(status.stdout, "?? notes/\n");
          await assert.rejects(session.shell("git status; rm -rf ."), PolicyDeniedError);
          await assert.rejects(session.shell("curl https://example.com"), PolicyDeniedError);

          const result = await session.skill("triage", {
            args: { issueNumber: 123 },
            result: z.object({ fixApplied: z.boolean(), summary: z.string() }),
          });
          assert.deepEqual(result.data, { fixApplied: true, summary: "Wrote notes/fix.md" });
          assert.equal(await session.fs.readFile("notes/fix.md"), "Fixed issue 123\n");
          assert.deepEqual(fake.machineIds(), [machineId], "one machine per session, reused across calls");

          await session.delete();
          assert.deepEqual(fake.machineIds(), [], "session.delete() deletes the machine");
        } finally {
          await agent.close();
        }
        assert.deepEqual(fake.machineIds(), []);
      });
    } finally {
      await fake.close();
    }
  });

  Deno.test(`${provider.name}: agent.close() deletes every session's machine`, async () => {
    const fake = await provider.start();
    try {
      await withProject(async (projectDir) => {
        const agent = await init({
          model: "test",
          projectDir,
          store: "memory",
          sandbox: remoteSandbox(provider.name, fake.options),
          allowWrite: true,
        });
        for (const name of ["one", "two"]) await (await agent.session(name)).fs.writeFile("a.txt", name);
        await agent.session("never-used");
        assert.equal(fake.machineIds().length, 2, "a session gets its machine on first use only");
        await agent.close();
        assert.deepEqual(fake.machineIds(), []);
      });
    } finally {
      await fake.close();
    }
  });

  Deno.test(`${provider.name}: after a restart the session's machine is reconnected by its stored id`, async () => {
    const fake = await provider.start();
    try {
      await withProject(async (projectDir) => {
        const options = { model: "test", projectDir, store: "sqlite", allowWrite: true } as const;
        const sandbox = remoteSandbox(provider.name, { ...fake.options, keepOnClose: true });
        const first = await init({ ...options, sandbox });
        await (await first.session("fix-123")).fs.writeFile("progress.md", "step 1 done\n");
        const [machineId] = fake.machineIds();
        await first.close();
        assert.deepEqual(fake.machineIds(), [machineId], "keepOnClose leaves the machine for the next process");

        const second = await init({ ...options, sandbox: remoteSandbox(provider.name, fake.options) });
        const session = await second.session("fix-123");
        assert.equal(await session.fs.readFile("progress.md"), "step 1 done\n");
        assert.deepEqual(fake.machineIds(), [machineId]);
        await session.delete();
        assert.deepEqual(fake.machineIds(), []);
        await second.close();
      });
    } finally {
      await fake.close();
    }
  });

  Deno.test(`${provider.name}: chosen by name, it reads its credential and endpoint from the environment`, async () => {
    const fake = await provider.start();
    try {
      await withProject(async (projectDir) => {
        await withEnv(provider.env(fake), async () => {
          const agent = await init({
            model: "test",
            projectDir,
            store: "memory",
            sandbox: provider.name,
            allowWrite: true,
          });
          const session = await agent.session();
          await session.fs.writeFile("by-name.txt", "ok");
          assert.equal(await session.fs.readFile("by-name.txt"), "ok");
          assert.equal(fake.machineIds().length, 1);
          await agent.close();
          assert.deepEqual(fake.machineIds(), []);
        });
      });
    } finally {
      await fake.close();
    }
  });

  Deno.test(`${provider.name}: a missing credential fails at agent start, naming the variable`, async () => {
    const variable = Object.keys(provider.env({ options: {}, url: "" } as Fake))[0];
    await withEnv({ [variable]: undefined }, async () => {
      await assert.rejects(
        init({ model: "test", store: "memory", sandbox: provider.name }),
        (error: unknown) => {
          assert.ok(error instanceof SandboxUnavailableError);
          assert.match(error.message, new RegExp(`needs ${variable}: set it in the environment`));
          return true;
        },
      );
      await assert.rejects(
        init({ model: "test", store: "memory", sandbox: remoteSandbox(provider.name) }),
        new RegExp(variable),
      );
    });
  });
}
