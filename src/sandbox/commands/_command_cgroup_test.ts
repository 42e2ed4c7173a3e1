import assert from "node:assert/strict";
import { CommandCgroup, detectCgroupSupport } from "./_command_cgroup.ts";

const support = detectCgroupSupport();
const limits = { maxProcesses: 7, maxTreeMemoryBytes: 96 * 1024 ** 2, maxCpus: 0.5 };

/** The group a pid belongs to in a controller's hierarchy, from `/proc/<pid>/cgroup`. */
async function groupOf(pid: number, controller: string): Promise<string | undefined> {
  const lines = (await Deno.readTextFile(`/proc/${pid}/cgroup`)).split("\n");
  const line = lines.find((text) => text.split(":")[1]?.split(",").includes(controller));
  return line?.slice(line.indexOf(":", line.indexOf(":") + 1) + 1);
}

Deno.test({
  name: "CommandCgroup.create() sets the limits, wrap() joins the group before the command runs, remove() cleans up",
  ignore: support === undefined,
  fn: async () => {
    const cgroup = CommandCgroup.create(limits)!;
    const pidsParent = support!.parents.pids!;
    try {
      const [program, ...args] = cgroup.wrap(["sh", "-c", "cat /proc/self/cgroup"]);
      const output = await new Deno.Command(program, { args, stdout: "piped" }).output();
      assert.equal(output.success, true);
      const groups = new TextDecoder().decode(output.stdout);
      assert.match(groups, /flue-\d+-\d+/, "the command ran inside its group");
      const made = [...Deno.readDirSync(pidsParent)].map((entry) => entry.name).filter((name) =>
        name.startsWith("flue-")
      );
      const name = groups.match(/flue-\d+-\d+/)![0];
      assert.ok(made.includes(name));
      assert.equal(Deno.readTextFileSync(`${pidsParent}/${name}/pids.max`).trim(), "7");
      if (support!.version === 1 && support!.parents.cpu !== undefined) {
        assert.equal(Deno.readTextFileSync(`${support!.parents.cpu}/${name}/cpu.cfs_quota_us`).trim(), "50000");
      }
      if (support!.version === 1 && support!.parents.memory !== undefined) {
        const bytes = Number(Deno.readTextFileSync(`${support!.parents.memory}/${name}/memory.limit_in_bytes`));
        assert.equal(bytes, 96 * 1024 ** 2);
      }
      assert.equal(await groupOf(Deno.pid, "pids") === `/${name}`, false, "the caller itself stays outside");
    } finally {
      await cgroup.remove();
    }
    const left = [...Deno.readDirSync(pidsParent)].filter((entry) => entry.name.startsWith(`flue-${Deno.pid}-`));
    assert.deepEqual(left, []);
  },
});

Deno.test({
  name: "CommandCgroup reports a refused fork and kills what is left in the group",
  ignore: support === undefined,
  fn: async () => {
    const cgroup = CommandCgroup.create({ ...limits, maxProcesses: 4 })!;
    try {
      const refused = Promise.withResolvers<void>();
      const watch = cgroup.watchRefusedForks(() => refused.resolve());
      // dash gives up on a refused fork at once; the sleeps stay behind in the group until killAll().
      const [program, ...args] = cgroup.wrap(["sh", "-c", "for i in 1 2 3 4 5 6; do sleep 41.9 & done; exit 0"]);
      await new Deno.Command(program, { args, stdout: "null", stderr: "null" }).output();
      await refused.promise;
      watch.stop();
      cgroup.killAll();
    } finally {
      await cgroup.remove();
    }
  },
});

Deno.test({
  name: "detectCgroupSupport() finds no controller off Linux or without a writable pids hierarchy, and says which",
  fn: () => {
    if (support === undefined) {
      console.log("cgroup: none usable here; commands fall back to RLIMIT_NPROC or the process-count watchdog");
      return;
    }
    assert.ok(support.version === 1 || support.version === 2);
    assert.ok(support.parents.pids?.startsWith("/sys/fs/cgroup"));
    console.log(`cgroup: v${support.version} with ${Object.keys(support.parents).join(", ")}`);
  },
});
