import { isBubblewrapAvailable } from "./commands/run_command.ts";
import { createLocalSandbox } from "./local_sandbox.ts";
import { createMemorySandbox } from "./memory_sandbox.ts";
import type { Sandbox, SandboxContext, SandboxPolicy } from "./sandbox.ts";
import { defineSandboxContractTests, type SandboxUnderTest } from "./sandbox_contract.ts";
import { createVirtualSandbox } from "./virtual_sandbox.ts";

const HAS_BUBBLEWRAP: boolean = await isBubblewrapAvailable();

function onTempProject(
  create: (context: SandboxContext) => Promise<Sandbox>,
): (policy: SandboxPolicy) => Promise<SandboxUnderTest> {
  return async (policy) => {
    const projectDir = await Deno.realPath(await Deno.makeTempDir({ prefix: "flue_contract_" }));
    const sandbox = await create({
      projectDir,
      stateDir: `${projectDir}/.flue`,
      agent: "contract",
      instanceId: "1",
      session: "main",
      policy,
    });
    return { sandbox, cleanup: () => Deno.remove(projectDir, { recursive: true }) };
  };
}

defineSandboxContractTests("memory", onTempProject((context) => createMemorySandbox(context)));
defineSandboxContractTests("virtual", onTempProject(createVirtualSandbox), {
  ignore: HAS_BUBBLEWRAP ? undefined : "bubblewrap is not installed",
});
defineSandboxContractTests("local", onTempProject(createLocalSandbox), {
  ignore: HAS_BUBBLEWRAP ? undefined : "bubblewrap is not installed",
});
