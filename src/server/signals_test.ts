import assert from "node:assert/strict";
import { join } from "node:path";
import { flueSource } from "../cli/init_command.ts";
import { projectFiles } from "../cli/_templates.ts";

const CLI = new URL("../../cli.ts", import.meta.url).pathname;

async function generatedProject(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "flue-signals-" });
  for (const [path, text] of Object.entries(projectFiles(flueSource()))) {
    await Deno.mkdir(join(dir, path, ".."), { recursive: true });
    await Deno.writeTextFile(join(dir, path), text);
  }
  return dir;
}

/**
 * Starts a server process, prompts its agent once (so agent instances and the worker are busy with state), sends the
 * signal, and returns how it exited. A process still alive 20 s after the signal (twice the grace period) is killed,
 * which the caller sees as `signal: "SIGKILL"`.
 */
async function stopWith(signal: Deno.Signal, args: string[], cwd: string): Promise<Deno.CommandStatus> {
  const child = new Deno.Command(Deno.execPath(), {
    args,
    cwd,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    env: { FLUE_API_TOKEN: "", NO_COLOR: "1" },
  }).spawn();
  let output = "";
  const url = Promise.withResolvers<string>();
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      output += chunk;
      const found = output.match(/(http:\/\/127\.0\.0\.1:\d+)/)?.[1];
      if (found) url.resolve(found);
    }
  };
  const pumps = Promise.all([pump(child.stdout), pump(child.stderr)]);
  const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
  try {
    const base = await Promise.race([url.promise, child.status.then(() => Promise.reject(new Error(output)))]);
    const response = await fetch(`${base}/agents/assistant/a`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ message: "Hello" }),
    });
    assert.equal(response.status, 200, await response.text());
    clearTimeout(timer);
    child.kill(signal);
    const killer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    const status = await child.status;
    clearTimeout(killer);
    await child.stdin.close().catch(() => {});
    await pumps;
    return status;
  } finally {
    clearTimeout(timer);
    try {
      child.kill("SIGKILL");
    } catch {
      // exited
    }
  }
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  Deno.test(`deno serve server.ts stops on ${signal} within the grace period`, async () => {
    const dir = await generatedProject();
    try {
      const status = await stopWith(signal, ["serve", "-A", "--host", "127.0.0.1", "--port", "0", "server.ts"], dir);
      assert.equal(status.signal, null, "exited by itself, not killed");
      assert.equal(status.code, 0);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });

  Deno.test(`flue serve and flue dev stop on ${signal} and exit 0`, async () => {
    const dir = await generatedProject();
    try {
      for (const command of ["serve", "dev"]) {
        const args = ["run", "-A", "--config", join(dir, "deno.json"), CLI, command, "--port", "0"];
        const status = await stopWith(signal, args, dir);
        assert.equal(status.signal, null, `flue ${command} exited by itself, not killed`);
        assert.equal(status.code, 0, `flue ${command}`);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}
