import { defineHarnessContractTests } from "../harness_contract.ts";

defineHarnessContractTests("ai-sdk", () => ({ harness: "ai-sdk" }));
