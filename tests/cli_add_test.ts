import assert from "node:assert/strict";
import { dirname, join, relative } from "node:path";
import { parse, type ParseError } from "jsonc-parser";
import { parseSkill } from "../src/project/skills.ts";
import { BUILTIN_TOOL_NAMES } from "../mod.ts";
import { parseGuide } from "../src/cli/_guide_catalog.ts";
import { main } from "../src/cli/main.ts";
import { captureIo } from "../src/cli/_capture_io.ts";
import { ROOT, runCli } from "./_cli_helpers.ts";

const decoder = new TextDecoder();

async function guideNames(): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(join(ROOT, "skills"))) {
    if (entry.isDirectory && entry.name.startsWith("add-")) names.push(entry.name.slice("add-".length));
  }
  return names.sort();
}

async function withProject(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "flue-add-" });
  try {
    const init = await runCli(["init", dir], { cwd: ROOT });
    assert.equal(init.code, 0, init.stderr);
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function readJsonc(path: string): Promise<Record<string, unknown>> {
  const errors: ParseError[] = [];
  const value = parse(await Deno.readTextFile(path), errors, { allowTrailingComma: true });
  assert.deepEqual(errors, [], `${path} is valid JSONC`);
  return value;
}

/** The fenced ```ts blocks of a guide, with the path a `title="..."` names, skipping `ts ignore` ones. */
function typeScriptBlocks(text: string): { title?: string; code: string }[] {
  const blocks = [];
  for (const match of text.matchAll(/^```ts([^\n]*)\n([\s\S]*?)^```$/gm)) {
    const info = match[1];
    if (/\bignore\b/.test(info)) continue;
    blocks.push({ title: /title="([^"]+)"/.exec(info)?.[1], code: match[2] });
  }
  return blocks;
}

Deno.test("every guide in skills/ is a valid skill named add-<name>, and the CLI embeds the same text", async () => {
  const { GUIDES } = await import("../src/cli/_guides.ts");
  const names = await guideNames();
  assert.deepEqual(Object.keys(GUIDES).sort(), names, 'run "deno task guides" after changing skills/');
  for (const name of names) {
    const file = `skills/add-${name}/SKILL.md`;
    const text = await Deno.readTextFile(join(ROOT, file));
    assert.equal(GUIDES[name], text, `${file} differs from src/cli/_guides.ts: run "deno task guides"`);
    const skill = parseSkill(text, file, `add-${name}`, BUILTIN_TOOL_NAMES);
    assert.ok(skill.instructions.length > 500, `${file} says what to install, configure and test`);
    assert.match(text, /^## Install$/m, `${file} says what to install`);
    assert.match(text, /^## Keys$/m, `${file} says which keys to set`);
    assert.match(text, /^## .*\btest it$/im, `${file} says how to test it`);
  }
});

Deno.test("flue add --list lists every guide by category; --print prints one", async () => {
  const list = await runCli(["add", "--list"], { cwd: ROOT });
  assert.equal(list.code, 0, list.stderr);
  for (const name of await guideNames()) assert.match(list.stdout, new RegExp(`^  ${name} `, "m"));
  assert.match(list.stdout, /^sandbox:\n {2}daytona/m);
  const print = await runCli(["add", "e2b", "--print"], { cwd: ROOT });
  assert.equal(print.code, 0, print.stderr);
  assert.equal(print.stdout, await Deno.readTextFile(join(ROOT, "skills/add-e2b/SKILL.md")));
});

Deno.test("flue add <name> for every guide writes a loadable skill, keeps deno.json valid and lists its variables", async () => {
  await withProject(async (dir) => {
    const pristine = await Deno.readTextFile(join(dir, "deno.json"));
    for (const name of await guideNames()) {
      await Deno.writeTextFile(join(dir, "deno.json"), pristine);
      await Deno.remove(join(dir, ".env.example")).catch(() => {});
      // In process, through the CLI's own entry, to keep twenty runs quick; the other tests spawn the CLI.
      const io = captureIo();
      assert.equal(await main(["add", name, "--project", dir], io), 0, `flue add ${name}: ${io.err}`);
      const file = `.agents/skills/add-${name}/SKILL.md`;
      assert.equal(
        await Deno.readTextFile(join(dir, file)),
        await Deno.readTextFile(join(ROOT, `skills/add-${name}/SKILL.md`)),
      );
      parseSkill(await Deno.readTextFile(join(dir, file)), file, `add-${name}`, BUILTIN_TOOL_NAMES);
      const config = await readJsonc(join(dir, "deno.json"));
      const original = JSON.parse(pristine);
      assert.deepEqual(config.tasks, original.tasks, `flue add ${name} keeps the tasks`);
      for (const [key, value] of Object.entries(original.imports)) {
        assert.equal((config.imports as Record<string, unknown>)[key], value, `flue add ${name} keeps imports`);
      }
      const guide = parseGuide(name, await Deno.readTextFile(join(dir, file)));
      const example = await Deno.readTextFile(join(dir, ".env.example")).catch(() => "");
      for (const variable of Object.keys(guide.env)) {
        assert.match(example, new RegExp(`^${variable}=`, "m"), `flue add ${name} lists ${variable}`);
      }
      for (const [specifier, target] of Object.entries(guide.imports)) {
        assert.equal((config.imports as Record<string, unknown>)[specifier], target);
      }
      for (const [key, value] of Object.entries(guide.config)) {
        assert.deepEqual((config.flue as Record<string, unknown>)[key], value, `flue add ${name} sets flue.${key}`);
      }
    }
    // The loader accepts all of them together, next to the project's own skill.
    const check = await runCli(["run", "--prompt", "hi"], { cwd: dir, config: join(dir, "deno.json") });
    assert.equal(check.code, 0, check.stderr);
  });
});

Deno.test("flue add sets the flue key, merges .env.example and refuses conflicts without changing anything", async () => {
  await withProject(async (dir) => {
    await Deno.writeTextFile(join(dir, ".env.example"), "# mine\nOPENAI_API_KEY=\n");
    const added = await runCli(["add", "e2b", "--project", dir], { cwd: ROOT });
    assert.equal(added.code, 0, added.stderr);
    assert.match(added.stdout, /"flue\.sandbox" set to "e2b" \(was "virtual"\)/);
    assert.equal(await Deno.readTextFile(join(dir, ".env.example")), "# mine\nOPENAI_API_KEY=\nE2B_API_KEY=\n");
    assert.match(await Deno.readTextFile(join(dir, ".gitignore")), /^\.env$/m);
    const config = await readJsonc(join(dir, "deno.json"));
    assert.deepEqual(config.flue, { model: "test", sandbox: "e2b" });

    const before = await Deno.readTextFile(join(dir, "deno.json"));
    const conflict = await runCli(["add", "daytona", "--project", dir], { cwd: ROOT });
    assert.equal(conflict.code, 2);
    assert.match(conflict.stderr, /nothing was changed/);
    assert.match(conflict.stderr, /"flue\.sandbox" is "e2b", the guide sets "daytona"; change it or pass --force/);
    assert.equal(await Deno.readTextFile(join(dir, "deno.json")), before);
    await assert.rejects(Deno.stat(join(dir, ".agents/skills/add-daytona")));

    const again = await runCli(["add", "e2b", "--project", dir], { cwd: ROOT });
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /SKILL\.md: unchanged/);

    const forced = await runCli(["add", "daytona", "--force", "--project", dir], { cwd: ROOT });
    assert.equal(forced.code, 0, forced.stderr);
    assert.equal((await readJsonc(join(dir, "deno.json")) as { flue: { sandbox: string } }).flue.sandbox, "daytona");
  });
});

Deno.test("flue add keeps comments and other keys of a deno.jsonc, and adds import-map entries", async () => {
  const dir = await Deno.makeTempDir({ prefix: "flue-add-" });
  try {
    const text = '{\n  // my settings\n  "tasks": { "x": "echo" },\n  "imports": { "zod": "npm:zod@4" },\n}\n';
    await Deno.writeTextFile(join(dir, "deno.jsonc"), text);
    const run = await runCli(["add", "mcp", "--project", dir], { cwd: ROOT });
    assert.equal(run.code, 0, run.stderr);
    const after = await Deno.readTextFile(join(dir, "deno.jsonc"));
    assert.match(after, /\/\/ my settings/);
    const config = await readJsonc(join(dir, "deno.jsonc"));
    assert.deepEqual(config.tasks, { x: "echo" });
    assert.match((config.imports as Record<string, string>)["@modelcontextprotocol/sdk"], /^npm:@modelcontextprotocol/);

    await Deno.writeTextFile(join(dir, "deno.jsonc"), '{ "imports": { "@modelcontextprotocol/sdk": "npm:other@1" } }');
    await Deno.remove(join(dir, ".agents"), { recursive: true });
    const conflict = await runCli(["add", "mcp", "--project", dir], { cwd: ROOT });
    assert.equal(conflict.code, 2);
    assert.match(conflict.stderr, /import "@modelcontextprotocol\/sdk" maps to "npm:other@1"/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("flue add refuses unknown names with the nearest one, and bad URLs and categories", async () => {
  const typo = await runCli(["add", "e2c"], { cwd: ROOT });
  assert.equal(typo.code, 2);
  assert.match(typo.stderr, /Unknown connector "e2c": did you mean "e2b"\?/);
  const far = await runCli(["add", "zzzzzzzz"], { cwd: ROOT });
  assert.match(far.stderr, /Unknown connector "zzzzzzzz": known ones are .*daytona/);
  const noCategory = await runCli(["add", "https://acme.dev/docs"], { cwd: ROOT });
  assert.equal(noCategory.code, 2);
  assert.match(noCategory.stderr, /needs --category/);
  const badCategory = await runCli(["add", "https://acme.dev", "--category", "sandbx"], { cwd: ROOT });
  assert.match(badCategory.stderr, /Unknown category "sandbx": did you mean "sandbox"\?/);
  for (const url of ["ftp://acme.dev/x", "https://user:pw@acme.dev/", "javascript:alert(1)"]) {
    const bad = await runCli(["add", url, "--category", "sandbox"], { cwd: ROOT });
    assert.equal(bad.code, 2, url);
    assert.match(bad.stderr, /Invalid URL/);
  }
  const noProject = await Deno.makeTempDir({ prefix: "flue-add-" });
  try {
    const missing = await runCli(["add", "postgres"], { cwd: noProject });
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /No deno\.json in/);
  } finally {
    await Deno.remove(noProject, { recursive: true });
  }
});

Deno.test("flue add <url> --category writes a generic guide the skill loader accepts", async () => {
  await withProject(async (dir) => {
    const printed = await runCli(["add", "https://docs.acme-cloud.dev/sandboxes", "--category", "sandbox", "--print"], {
      cwd: ROOT,
    });
    assert.equal(printed.code, 0, printed.stderr);
    assert.match(printed.stdout, /^name: add-acme-cloud$/m);
    assert.match(printed.stdout, /registerSandbox/);
    const run = await runCli(["add", "https://docs.acme-cloud.dev/sandboxes", "--category", "store"], { cwd: dir });
    assert.equal(run.code, 0, run.stderr);
    const file = ".agents/skills/add-acme-cloud/SKILL.md";
    const skill = parseSkill(await Deno.readTextFile(join(dir, file)), file, "add-acme-cloud", BUILTIN_TOOL_NAMES);
    assert.match(skill.instructions, /defineStoreContractTests/);
    assert.match(skill.instructions, /https:\/\/docs\.acme-cloud\.dev\/sandboxes/);
  });
});

Deno.test("every ```ts block of every guide type-checks in a project made by flue init, and their tests pass", async () => {
  await withProject(async (dir) => {
    const { GUIDES } = await import("../src/cli/_guides.ts");
    const config = JSON.parse(await Deno.readTextFile(join(dir, "deno.json")));
    const files: string[] = [];
    for (const [name, text] of Object.entries(GUIDES)) {
      Object.assign(config.imports, parseGuide(name, text).imports);
      // Each guide's blocks live in a folder of their own, so blocks that import each other resolve.
      for (const [index, block] of typeScriptBlocks(text).entries()) {
        const file = join("_guides", name, block.title ?? `block_${index}.ts`);
        await Deno.mkdir(dirname(join(dir, file)), { recursive: true });
        await Deno.writeTextFile(join(dir, file), block.code);
        files.push(file);
      }
    }
    await Deno.writeTextFile(join(dir, "deno.json"), JSON.stringify(config, null, 2));
    assert.ok(files.length >= 15, `found ${files.length} blocks`);
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["check", "--quiet", ...files],
      cwd: dir,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(output.code, 0, decoder.decode(output.stderr) + decoder.decode(output.stdout));
    const tests = files.filter((file) => file.endsWith("_test.ts"));
    assert.ok(tests.length >= 4, `found ${tests.length} tests`);
    const run = await new Deno.Command(Deno.execPath(), {
      args: ["test", "-A", "--no-check", ...tests],
      cwd: dir,
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const report = decoder.decode(run.stdout) + decoder.decode(run.stderr);
    assert.equal(run.code, 0, report);
    assert.match(report, new RegExp(`ok \\| ${tests.length} passed \\| 0 failed`));
  });
});

Deno.test("after flue add, a fresh project's own tests still pass", async () => {
  await withProject(async (dir) => {
    for (const name of ["e2b", "kv", "opentelemetry", "github", "docker"]) {
      const run = await runCli(["add", name, "--force", "--project", dir], { cwd: ROOT });
      assert.equal(run.code, 0, `flue add ${name}: ${run.stderr}`);
    }
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["task", "--quiet", "test"],
      cwd: dir,
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(output.code, 0, decoder.decode(output.stderr) + decoder.decode(output.stdout));
    assert.match(decoder.decode(output.stdout), /ok \| 1 passed/);
  });
});

Deno.test("flue add works when the CLI runs as jsr:@flue/cli/cli through a links entry", async () => {
  const dir = await Deno.makeTempDir({ prefix: "flue-add-links-" });
  try {
    const config = {
      imports: { flue: "jsr:@flue/cli@^0.1.0" },
      links: [relative(dir, ROOT)],
      flue: { model: "test" },
    };
    await Deno.writeTextFile(join(dir, "deno.json"), JSON.stringify(config, null, 2));
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--quiet", "jsr:@flue/cli/cli", "add", "postgres"],
      cwd: dir,
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(output.code, 0, decoder.decode(output.stderr));
    assert.equal(
      await Deno.readTextFile(join(dir, ".agents/skills/add-postgres/SKILL.md")),
      await Deno.readTextFile(join(ROOT, "skills/add-postgres/SKILL.md")),
    );
    const written = await readJsonc(join(dir, "deno.json"));
    assert.deepEqual(written.flue, { model: "test", store: "postgres" });
    assert.deepEqual(written.links, config.links);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
