import { createAgent } from "flue";
import { createTriageModel } from "../models/triage_model.ts";

// The triage agent. Its model is the key-less stand-in in src/models/; `flue run triage --model openai:gpt-5.5`
// (or `model: "openai:gpt-5.5"` here) runs the same agent on a real model.
export default createAgent(() => ({
  name: "triager",
  model: createTriageModel(),
  instructions: "You triage new issues of the notekeeper project. Follow AGENTS.md exactly, back every claim with " +
    "code or an existing issue you have read, and never change src/ or issues/.",
  // Each session works on a private copy of workspace/ under .flue/sandboxes/triager/<id>/<session>/.
  sandbox: "virtual",
  seedFrom: "workspace",
  // The maintainer writes the triage report into that copy; nothing else may run (no shell, no network).
  allowWrite: true,
  skills: ["classify-issue", "find-duplicates"],
  subagents: {
    "duplicate-finder": {
      description: "Searches issues/ for existing issues that report the same problem as a new one",
      instructions: "You search the issue tracker in issues/. Load the find-duplicates skill with activate_skill " +
        "and follow it exactly. You only read files.",
      // A child never gets more than its caller; this one cannot write even though the triager can.
      tools: ["activate_skill", "glob", "grep", "read"],
      maxTurns: 6,
    },
  },
}));
