import assert from "node:assert/strict";
import { join } from "node:path";
import { PolicyDeniedError, SandboxUnavailableError } from "../../errors.ts";
import { startFakeDenoSandbox } from "../../testing/fake_deno_sandbox.ts";
import { startFakeE2B } from "../../testing/fake_e2b.ts";
import { startFakeDaytona } from "../../testing/fake_daytona.ts";
import type { FakeMachine } from "../../testing/_fake_machine.ts";
import type { SandboxContext, SandboxPolicy } from "../sandbox.ts";
import { createNamedRemoteSandbox, type RemoteSandboxName } from "./remote_providers.ts";
import type { RemoteSandbox } from "./remote_sandbox.ts";

const SHELL: SandboxPolicy = {
  allowWrite: true,
  allowShell: true,
  allowedCommands: ["cat", "echo", "printenv", "sleep", "sh"],
  allowCompoundCommands: true,
  allowNet: false,
  allowInterpreters: true,
};

interface Fake {
  options: Record<string, unknown>;
  requests: string[];
  machineIds(): string[];
  machine(id: string): FakeMachine | undefined;
  expire(id: string): Promise<void>;
  dropConnections(): void;
  close(): Promise<void>;
}

const FAKES: Record<RemoteSandboxName, () => Promise<Fake>> = {
  "deno-sandbox": startFakeDenoSandbox,
  e2b: startFakeE2B,
  daytona: startFakeDaytona,
};

interface World {
  fake: Fake;
  stateDir: string;
  open(options?: Record<string, unknown>, context?: Partial<SandboxContext>): Promise<RemoteSandbox>;
}

function eachProvider(behaviour: string, body: (world: World, name: RemoteSandboxName) => Promise<void>): void {
  for (const [name, start] of Object.entries(FAKES) as [RemoteSandboxName, () => Promise<Fake>][]) {
    Deno.test(`${name}: ${behaviour}`, async () => {
      const fake = await start();
      const stateDir = await Deno.makeTempDir({ prefix: "flue_remote_" });
      const opened: RemoteSandbox[] = [];
      try {
        await body({
          fake,
          stateDir,
          async open(options = {}, context = {}) {
            const sandbox = await createNamedRemoteSandbox(name, {
              projectDir: stateDir,
              stateDir,
              agent: "remote",
              instanceId: "1",
              session: "main",
              policy: SHELL,
              ...context,
            }, { ...fake.options, ...options }) as RemoteSandbox;
            opened.push(sandbox);
            return sandbox;
          },
        }, name);
      } finally {
        await Promise.all(opened.map((sandbox) => sandbox.close().catch(() => undefined)));
        await fake.close();
        await Deno.remove(stateDir, { recursive: true });
      }
    });
  }
}

async function storedIds(stateDir: string): Promise<Record<string, string>> {
  try {
    return JSON.parse(await Deno.readTextFile(join(stateDir, "remote-sandboxes.json")));
  } catch {
    return {};
  }
}

async function until(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let attempt = 0; attempt < 200 && !(await condition()); attempt++) {
    await new Promise((done) => setTimeout(done, 25));
  }
  assert.ok(await condition(), `timed out waiting for ${what}`);
}

eachProvider("reconnects to the stored machine after a restart and deletes it on destroy()", async (world) => {
  const first = await world.open({ keepOnClose: true });
  await first.writeFile("kept.txt", "still here\n");
  const id = await first.machineId;
  assert.ok(id);
  assert.deepEqual(Object.values(await storedIds(world.stateDir)), [id]);
  await first.close();
  assert.deepEqual(world.fake.machineIds(), [id], "keepOnClose leaves the machine running");

  const second = await world.open();
  assert.equal(await second.machineId, id);
  assert.equal(await second.readFile("kept.txt"), "still here\n");
  await second.destroy();
  assert.deepEqual(world.fake.machineIds(), []);
  assert.deepEqual(await storedIds(world.stateDir), {});
  await assert.rejects(second.readFile("kept.txt"), /closed/);
});

eachProvider("close() deletes the machine unless keepOnClose, so nothing is left running", async (world) => {
  const sandbox = await world.open();
  await sandbox.writeFile("a.txt", "x");
  assert.equal(world.fake.machineIds().length, 1);
  await sandbox.close();
  assert.deepEqual(world.fake.machineIds(), []);
  assert.deepEqual(await storedIds(world.stateDir), {});
});

eachProvider("sessions get machines of their own", async (world) => {
  const one = await world.open({}, { session: "one" });
  const two = await world.open({}, { session: "two" });
  await one.writeFile("who.txt", "one");
  assert.equal(await two.exists("who.txt"), false);
  assert.notEqual(await one.machineId, await two.machineId);
  assert.equal(Object.keys(await storedIds(world.stateDir)).length, 2);
});

eachProvider("a stored machine the provider no longer has (404) is replaced by a new one", async (world) => {
  const first = await world.open({ keepOnClose: true });
  const oldId = (await first.machineId)!;
  await first.close();
  await world.fake.expire(oldId);
  const second = await world.open();
  const newId = await second.machineId;
  assert.ok(newId && newId !== oldId);
  assert.deepEqual(Object.values(await storedIds(world.stateDir)), [newId]);
  assert.equal(await second.exists("anything"), false);
});

eachProvider("a machine that vanishes mid-session fails the call clearly, then a new one starts", async (world) => {
  const sandbox = await world.open();
  await sandbox.writeFile("a.txt", "x");
  const oldId = (await sandbox.machineId)!;
  await world.fake.expire(oldId);
  await assert.rejects(sandbox.readFile("a.txt"), SandboxUnavailableError);
  await sandbox.writeFile("b.txt", "fresh");
  const newId = await sandbox.machineId;
  assert.ok(newId && newId !== oldId);
  assert.equal(await sandbox.readFile("b.txt"), "fresh");
  assert.deepEqual(world.fake.machineIds(), [newId]);
});

eachProvider("a dropped connection fails the running command, and the next call reconnects by id", async (world) => {
  const sandbox = await world.open();
  await sandbox.writeFile("a.txt", "before\n");
  const id = await sandbox.machineId;
  const running = sandbox.exec("sh -c 'echo started; sleep 20'");
  await until(
    () => world.fake.requests.some((line) => /spawn|Process\/Start|session\/[^/]+\/exec$/.test(line)),
    "the command to start",
  );
  await new Promise((done) => setTimeout(done, 200));
  world.fake.dropConnections();
  await assert.rejects(running, SandboxUnavailableError);
  assert.equal(await sandbox.readFile("a.txt"), "before\n");
  assert.equal(await sandbox.machineId, id);
});

eachProvider("a refused credential (401) is a SandboxUnavailableError naming the variable", async (world, name) => {
  const wrong = {
    e2b: { apiKey: "e2b_wrong" },
    daytona: { apiKey: "dtn_wrong" },
    "deno-sandbox": { token: "ddo_wrong" },
  };
  const variable = { e2b: /E2B_API_KEY/, daytona: /DAYTONA_API_KEY/, "deno-sandbox": /DENO_DEPLOY_TOKEN/ };
  await assert.rejects(world.open(wrong[name]), (error: unknown) => {
    assert.ok(error instanceof SandboxUnavailableError, String(error));
    assert.match(error.message, variable[name]);
    return true;
  });
  assert.deepEqual(world.fake.machineIds(), []);
});

eachProvider("the idle timeout deletes the machine; the next call starts a new one", async (world) => {
  const sandbox = await world.open({ idleTimeoutMs: 150 });
  await sandbox.writeFile("a.txt", "x");
  const id = await sandbox.machineId;
  await until(
    async () => world.fake.machineIds().length === 0 && Object.keys(await storedIds(world.stateDir)).length === 0,
    "the idle machine to be deleted and forgotten",
  );
  assert.equal(await sandbox.exists("a.txt"), false);
  assert.notEqual(await sandbox.machineId, id);
});

eachProvider("a long command is not cut by the idle timeout", async (world) => {
  const sandbox = await world.open({ idleTimeoutMs: 100 });
  const result = await sandbox.exec("sh -c 'sleep 0.5; echo done'");
  assert.equal(result.stdout, "done\n");
  assert.equal(world.fake.machineIds().length, 1);
});

eachProvider("seedFrom uploads the seed without .git or the state directory", async (world) => {
  const seed = join(world.stateDir, "seed");
  await Deno.mkdir(join(seed, "src"), { recursive: true });
  await Deno.mkdir(join(seed, ".git"), { recursive: true });
  await Deno.mkdir(join(seed, ".flue"), { recursive: true });
  await Deno.writeTextFile(join(seed, "src/main.ts"), "console.log(1);\n");
  await Deno.writeTextFile(join(seed, ".git/config"), "[core]\n");
  await Deno.writeTextFile(join(seed, ".flue/flue.db"), "state");
  await Deno.symlink("/etc/passwd", join(seed, "passwd"));
  const sandbox = await world.open({}, { seedFrom: seed, stateDir: join(seed, ".flue") });
  assert.equal(await sandbox.readFile("src/main.ts"), "console.log(1);\n");
  assert.deepEqual((await sandbox.readdir(".")).map((entry) => entry.name), ["src"]);
});

eachProvider("secrets reach one command as its environment and never come back", async (world, name) => {
  const sandbox = await world.open();
  const secret = "s3cr3t-token-value";
  const result = await sandbox.exec("sh -c 'echo token=$API_TOKEN; echo $API_TOKEN >&2'", {
    env: { API_TOKEN: secret },
  });
  assert.equal(result.stdout, "token=[REDACTED:API_TOKEN]\n");
  assert.equal(result.stderr, "[REDACTED:API_TOKEN]\n");
  const later = await sandbox.exec("printenv API_TOKEN");
  assert.equal(later.stdout, "");
  const machine = world.fake.machine((await sandbox.machineId)!)!;
  if (name === "daytona") {
    // Daytona's session commands take no environment: the command read its variables from a file it deleted first.
    assert.deepEqual([...Deno.readDirSync(machine.hostPath("/tmp"))], [], "the variables file is gone");
    assert.ok(machine.commandEnvs.every((env) => !Object.values(env).includes(secret)));
  } else {
    const withSecret = machine.commandEnvs.filter((env) => Object.values(env).includes(secret));
    assert.equal(withSecret.length, 1, "only the one command saw the secret");
  }
  assert.ok(!world.fake.requests.some((line) => line.includes(secret)));
});

eachProvider("a timed-out command keeps the output streamed before the timeout", async (world) => {
  const sandbox = await world.open();
  const result = await sandbox.exec("sh -c 'echo first; sleep 20; echo never'", { timeoutMs: 1500 });
  assert.equal(result.timedOut, true);
  assert.equal(result.exitCode, 124);
  assert.equal(result.stdout, "first\n");
});

Deno.test("allowNet maps onto each provider's network controls", async () => {
  const deno = await startFakeDenoSandbox();
  const e2b = await startFakeE2B();
  const daytona = await startFakeDaytona();
  const stateDir = await Deno.makeTempDir({ prefix: "flue_remote_net_" });
  try {
    for (const allowNet of [false, true]) {
      const context = { projectDir: stateDir, stateDir, agent: "net", instanceId: String(allowNet), session: "main" };
      const policy = { ...SHELL, allowNet };
      await (await createNamedRemoteSandbox("deno-sandbox", { ...context, policy }, deno.options)).close();
      await (await createNamedRemoteSandbox("e2b", { ...context, policy }, e2b.options)).close();
      await (await createNamedRemoteSandbox("daytona", { ...context, policy }, daytona.options)).close();
    }
    assert.deepEqual(deno.createConfigs.map((config) => config.allow_net), [[], undefined]);
    assert.deepEqual(e2b.createBodies.map((body) => body.allow_internet_access), [false, true]);
    assert.deepEqual(daytona.createBodies.map((body) => body.networkBlockAll), [true, undefined]);
  } finally {
    await deno.close();
    await e2b.close();
    await daytona.close();
    await Deno.remove(stateDir, { recursive: true });
  }
});

eachProvider("escape: a symlink made by a command cannot take file operations out of the workspace", async (world) => {
  const sandbox = await world.open();
  await sandbox.exec("sh -c 'ln -s /etc outside && ln -s .. up && mkdir -p sub && ln -s ../.. sub/top'");
  await sandbox.writeFile("real.txt", "inside\n");
  await sandbox.exec("sh -c 'ln -s real.txt alias && ln -s sub inner'");
  for (const path of ["outside/passwd", "outside", "up/escape.txt", "sub/top/etc/passwd", "inner/top/x"]) {
    await assert.rejects(sandbox.readFile(path), PolicyDeniedError, path);
    await assert.rejects(sandbox.writeFile(path, "escaped"), PolicyDeniedError, path);
    await assert.rejects(sandbox.stat(path), PolicyDeniedError, path);
    await assert.rejects(sandbox.readdir(path), PolicyDeniedError, path);
    await assert.rejects(sandbox.remove(path, { recursive: true }), PolicyDeniedError, path);
  }
  assert.equal(await sandbox.readFile("alias"), "inside\n", "a link that stays inside works");
  assert.equal((await sandbox.stat("inner")).isDirectory, true);
});
