// The shared sandbox conformance suite, run against each remote sandbox through its real SDK and a local fake of
// its provider's wire protocol.
import { startFakeDenoSandbox } from "../../testing/fake_deno_sandbox.ts";
import { startFakeE2B } from "../../testing/fake_e2b.ts";
import { startFakeDaytona } from "../../testing/fake_daytona.ts";
import type { SandboxPolicy } from "../sandbox.ts";
import { defineSandboxContractTests, type SandboxUnderTest } from "../sandbox_contract.ts";
import { createNamedRemoteSandbox, type RemoteSandboxName } from "./remote_providers.ts";

interface Fake {
  options: Record<string, unknown>;
  close(): Promise<void>;
}

const FAKES: Record<RemoteSandboxName, () => Promise<Fake>> = {
  "deno-sandbox": startFakeDenoSandbox,
  e2b: startFakeE2B,
  daytona: startFakeDaytona,
};

for (const [name, startFake] of Object.entries(FAKES) as [RemoteSandboxName, () => Promise<Fake>][]) {
  defineSandboxContractTests(name, async (policy: SandboxPolicy): Promise<SandboxUnderTest> => {
    const fake = await startFake();
    const stateDir = await Deno.makeTempDir({ prefix: "flue_remote_contract_" });
    const sandbox = await createNamedRemoteSandbox(name, {
      projectDir: stateDir,
      stateDir,
      agent: "contract",
      instanceId: "1",
      session: "main",
      policy,
    }, fake.options);
    return {
      sandbox,
      async cleanup() {
        await fake.close();
        await Deno.remove(stateDir, { recursive: true });
      },
    };
  });
}
