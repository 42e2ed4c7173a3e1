import assert from "node:assert/strict";
import { PolicyDeniedError } from "../errors.ts";
import { MAX_PATH_LENGTH, normalizePath, resolveInsideWorkspace, toWorkspaceRelative } from "./workspace_paths.ts";

const ROOT = "/srv/ws";

function assertRefused(path: string, fragment: string): void {
  assert.throws(() => resolveInsideWorkspace(ROOT, path), (error: unknown) => {
    assert.ok(error instanceof PolicyDeniedError, `expected PolicyDeniedError for ${JSON.stringify(path)}`);
    assert.equal(error.option, "none");
    assert.match(error.message, /paths must stay inside the workspace/);
    assert.ok(error.message.includes(fragment), error.message);
    return true;
  });
}

Deno.test("resolveInsideWorkspace() resolves relative paths against the root", () => {
  assert.equal(resolveInsideWorkspace(ROOT, "a.txt"), "/srv/ws/a.txt");
  assert.equal(resolveInsideWorkspace(ROOT, "./src//lib/../a.ts"), "/srv/ws/src/a.ts");
  assert.equal(resolveInsideWorkspace(ROOT, "."), "/srv/ws");
  assert.equal(resolveInsideWorkspace(`${ROOT}/`, "a/"), "/srv/ws/a");
});

Deno.test("resolveInsideWorkspace() accepts absolute paths inside the root and under /workspace", () => {
  assert.equal(resolveInsideWorkspace(ROOT, "/srv/ws/a/b.txt"), "/srv/ws/a/b.txt");
  assert.equal(resolveInsideWorkspace(ROOT, "/srv/ws"), "/srv/ws");
  assert.equal(resolveInsideWorkspace(ROOT, "/workspace/a/b.txt"), "/srv/ws/a/b.txt");
  assert.equal(resolveInsideWorkspace(ROOT, "/workspace"), "/srv/ws");
});

Deno.test("resolveInsideWorkspace() rejects .. that leaves the workspace", () => {
  assertRefused("../x", "leaves the workspace");
  assertRefused("a/../../x", "leaves the workspace");
  assertRefused("..", "leaves the workspace");
  assertRefused("/workspace/../etc/passwd", "leaves the workspace");
  assertRefused("/srv/ws/../ws2/a", "leaves the workspace");
});

Deno.test("resolveInsideWorkspace() rejects absolute paths outside the workspace", () => {
  assertRefused("/etc/passwd", "/etc/passwd");
  assertRefused("/srv/ws2/a", "leaves the workspace");
  assertRefused("/workspaces/a", "leaves the workspace");
  assertRefused("/", "leaves the workspace");
});

Deno.test("resolveInsideWorkspace() rejects NUL bytes, empty strings and overlong paths", () => {
  assertRefused("a\0b", "NUL byte");
  assertRefused("", "is empty");
  assertRefused("a/".repeat(MAX_PATH_LENGTH), "longer than");
  assert.throws(() => resolveInsideWorkspace(ROOT, 42 as unknown as string), PolicyDeniedError);
});

Deno.test("resolveInsideWorkspace() rejects a root that is not absolute", () => {
  assert.throws(() => resolveInsideWorkspace("ws", "a"), TypeError);
});

Deno.test("toWorkspaceRelative() gives the path below the root and refuses one outside it", () => {
  assert.equal(toWorkspaceRelative(ROOT, "/srv/ws/a/b"), "a/b");
  assert.equal(toWorkspaceRelative(ROOT, "/srv/ws"), ".");
  assert.equal(toWorkspaceRelative("/", "/a"), "a");
  assert.throws(() => toWorkspaceRelative(ROOT, "/srv/wsx/a"), RangeError);
});

Deno.test("normalizePath() never climbs above / and keeps leading .. of relative paths", () => {
  assert.equal(normalizePath("/../../a"), "/a");
  assert.equal(normalizePath("../a/./b/.."), "../a");
  assert.equal(normalizePath("a/.."), ".");
});
