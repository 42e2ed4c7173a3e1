/**
 * The Flue test kit: key-less models and a real OpenAI-compatible HTTP server for tests.
 *
 * - `TestModel`: deterministic; scripted as a list of text and tool-call steps, or unscripted, when it calls the tools
 *   the prompt names and returns schema-valid data for typed calls.
 * - `FunctionModel`: a function of the messages and tools decides each reply.
 * - `startFakeOpenAI()`: a Chat Completions server on 127.0.0.1 (streamed and not, tool calls, usage), scriptable,
 *   recording requests, and able to inject 429 with `retry-after`, 500, slow and malformed responses.
 * - `defineStoreContractTests()`: the conformance suite every `Store` implementation passes.
 * - `defineSandboxContractTests()`: the conformance suite every `Sandbox` passes (built-in and remote ones do).
 * - `startFakeDenoSandbox()`, `startFakeE2B()`, `startFakeDaytona()`: local fakes of the remote sandbox providers' wire protocols on
 *   127.0.0.1, so the real SDKs run in tests without the internet (`remoteSandbox(name, fake.options)`).
 *
 * @example A scripted run
 * ```ts
 * import { TestModel } from "./testing.ts";
 * import { defineTool, init } from "./mod.ts";
 * import { z } from "zod";
 *
 * const echo = defineTool({
 *   name: "echo",
 *   description: "Echoes text",
 *   input: z.object({ text: z.string() }),
 *   run: ({ text }) => text,
 * });
 * const model = new TestModel({
 *   script: [{ toolCalls: [{ name: "echo", args: { text: "hi" } }] }, "Echoed hi"],
 * });
 * const agent = await init({ model, tools: [echo], store: "memory", sandbox: "memory" });
 * const session = await agent.session();
 * const response = await session.prompt("Say hi");
 * if (response.text !== "Echoed hi") throw new Error("unexpected");
 * await agent.close();
 * ```
 *
 * @module
 */

export { TestModel } from "./src/model/test_models/test_model.ts";
export type { TestModelOptions, TestReply, TestStep, TestToolCall } from "./src/model/test_models/test_model.ts";
export { FunctionModel } from "./src/model/test_models/function_model.ts";
export type {
  FunctionModelHandler,
  FunctionModelInfo,
  FunctionModelOptions,
  FunctionModelReply,
} from "./src/model/test_models/function_model.ts";
export { ReplayCursor, ReplayModel } from "./src/model/replay_model.ts";
export { RecordingModel } from "./src/model/recording_model.ts";
export type { RecordingModelOptions } from "./src/model/recording_model.ts";
export type {
  Cassette,
  CassetteExchange,
  RecordedChunk,
  RecordedModel,
  RecordedModelRequest,
} from "./src/model/cassette.ts";
export { startFakeOpenAI } from "./src/testing/fake_openai.ts";
export type {
  FakeFailure,
  FakeMalformed,
  FakeOpenAIOptions,
  FakeOpenAIServer,
  FakeReply,
  FakeStep,
  FakeToolCall,
  RecordedRequest,
} from "./src/testing/fake_openai.ts";
export { defineStoreContractTests } from "./src/store/store_contract.ts";
export type { StoreUnderTest } from "./src/store/store_contract.ts";
export { defineSandboxContractTests } from "./src/sandbox/sandbox_contract.ts";
export type { SandboxContractOptions, SandboxUnderTest } from "./src/sandbox/sandbox_contract.ts";
export { startFakeDenoSandbox } from "./src/testing/fake_deno_sandbox.ts";
export type { FakeDenoSandboxOptions, FakeDenoSandboxServer } from "./src/testing/fake_deno_sandbox.ts";
export { startFakeE2B } from "./src/testing/fake_e2b.ts";
export type { FakeE2BOptions, FakeE2BServer } from "./src/testing/fake_e2b.ts";
export { startFakeDaytona } from "./src/testing/fake_daytona.ts";
export type { FakeDaytonaOptions, FakeDaytonaServer } from "./src/testing/fake_daytona.ts";
export type { FakeMachine, FakeProcess, FakeSpawnOptions } from "./src/testing/_fake_machine.ts";
