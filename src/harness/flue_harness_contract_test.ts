import { defineHarnessContractTests } from "./harness_contract.ts";

defineHarnessContractTests("flue", () => ({ harness: "flue" }));
