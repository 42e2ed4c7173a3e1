import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const REMOTE_SDK_PACKAGES = ["@deno/sandbox", "e2b", "@daytonaio/sdk"];

Deno.test("provider SDKs load only when a remote sandbox is chosen", async () => {
  // A copy of the project's import map in which every provider SDK throws when loaded: mod.ts and agents on other
  // sandboxes must work without them, and a remote sandbox must fail with a clear error on its first use.
  const rootUrl = new URL("../../../", import.meta.url);
  const root = fileURLToPath(rootUrl);
  const config = JSON.parse(await Deno.readTextFile(join(root, "deno.json")));
  const imports: Record<string, string> = { ...config.imports };
  for (const name of REMOTE_SDK_PACKAGES) {
    imports[name] =
      "data:text/javascript,export const Sandbox = 0, CommandExitError = 0, FileType = 0, NotFoundError = 0, " +
      "Daytona = 0, DaytonaError = 0, DaytonaNotFoundError = 0;" +
      "throw new Error('provider SDK loaded')";
  }
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(join(dir, "deno.json"), JSON.stringify({ imports }));
    await Deno.writeTextFile(
      join(dir, "main.ts"),
      `
      import { init, remoteSandbox } from ${JSON.stringify(new URL("mod.ts", rootUrl).href)};
      const memory = await init({ model: "test", store: "memory", sandbox: "memory", allowWrite: true });
      const session = await memory.session();
      await session.fs.writeFile("a.txt", "memory ran");
      console.log(await session.fs.readFile("a.txt"));
      await memory.close();
      for (const name of ["deno-sandbox", "e2b", "daytona"]) {
        const remote = await init({
          model: "test", store: "memory", sandbox: remoteSandbox(name, { token: "t", apiKey: "k" }), allowWrite: true,
        });
        try {
          await (await remote.session()).fs.writeFile("a.txt", "x");
        } catch (error) {
          console.log(error.name + ": " + error.message);
        }
        await remote.close();
      }
      `,
    );
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", "--no-check", "--no-lock", "--quiet", "--config", join(dir, "deno.json"), "main.ts"],
      cwd: dir,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stdout = new TextDecoder().decode(output.stdout).trim().split("\n");
    assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
    assert.equal(stdout[0], "memory ran");
    assert.match(
      stdout[1],
      /^SandboxUnavailableError: The "deno-sandbox" sandbox could not load its SDK \(npm:@deno\/sandbox\): provider SDK loaded/,
    );
    assert.match(
      stdout[2],
      /^SandboxUnavailableError: The "e2b" sandbox could not load its SDK \(npm:e2b\): provider SDK loaded/,
    );
    assert.match(
      stdout[3],
      /^SandboxUnavailableError: The "daytona" sandbox could not load its SDK \(npm:@daytonaio\/sdk\): provider SDK loaded/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
