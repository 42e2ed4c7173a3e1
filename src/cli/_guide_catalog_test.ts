import assert from "node:assert/strict";
import { loadGuides, nearestName, parseGuide } from "./_guide_catalog.ts";

const GUIDE = (front: string) => `---\n${front}\n---\n# Guide\n\nSteps.\n`;

Deno.test("parseGuide() reads what flue add applies from the front matter's metadata", () => {
  const guide = parseGuide(
    "acme",
    GUIDE(
      "name: add-acme\ndescription: Acme\nmetadata:\n  category: store\n  config: { store: postgres }\n" +
        "  env: { ACME_KEY: '' }\n  imports: { acme: 'npm:acme@1.0.0' }",
    ),
  );
  assert.equal(guide.skillName, "add-acme");
  assert.equal(guide.category, "store");
  assert.deepEqual(guide.config, { store: "postgres" });
  assert.deepEqual(guide.env, { ACME_KEY: "" });
  assert.deepEqual(guide.imports, { acme: "npm:acme@1.0.0" });
  assert.deepEqual(guide.unstable, []);
});

Deno.test("parseGuide() rejects a wrong name, an unknown category or a bad variable name, naming the field", () => {
  assert.throws(
    () => parseGuide("acme", GUIDE("name: add-other\ndescription: x\nmetadata: { category: store }")),
    /field "name" must be "add-acme", got "add-other"/,
  );
  assert.throws(
    () => parseGuide("acme", GUIDE("name: add-acme\ndescription: x\nmetadata: { category: database }")),
    /field "metadata\.category"/,
  );
  assert.throws(
    () =>
      parseGuide("acme", GUIDE("name: add-acme\ndescription: x\nmetadata: { category: store, env: { 'A-B': '' } }")),
    /field "metadata\.env/,
  );
  assert.throws(() => parseGuide("acme", GUIDE("name: add-acme\nmetadata: { category: store }")), /"description"/);
});

Deno.test("loadGuides() parses every embedded guide, sorted by category", async () => {
  const guides = [...(await loadGuides()).values()];
  assert.ok(guides.length >= 20);
  assert.equal(guides[0].category, "sandbox");
  assert.equal(guides.at(-1)?.category, "deploy");
});

Deno.test("nearestName() suggests a likely typo and nothing for a distant name", () => {
  const known = ["e2b", "daytona", "deno-deploy", "deno-sandbox", "postgres"];
  assert.equal(nearestName("e2c", known), "e2b");
  assert.equal(nearestName("daytonna", known), "daytona");
  assert.equal(nearestName("postgresql", known), "postgres");
  assert.equal(nearestName("kubernetes", known), undefined);
});
