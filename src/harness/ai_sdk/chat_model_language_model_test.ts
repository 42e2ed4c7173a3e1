import assert from "node:assert/strict";
import { generateText, jsonSchema, streamText, tool } from "ai";
import { FunctionModel } from "../../model/test_models/function_model.ts";
import { TestModel } from "../../model/test_models/test_model.ts";
import { ChatModelLanguageModel } from "./chat_model_language_model.ts";

Deno.test("ChatModelLanguageModel streams a TestModel's text through streamText as it arrives", async () => {
  const model = new ChatModelLanguageModel(new TestModel({ script: ["one two three four five six"] }));
  const result = streamText({ model, prompt: "count" });
  const deltas: string[] = [];
  for await (const text of result.textStream) deltas.push(text);
  assert.ok(deltas.length >= 2, `several deltas: ${JSON.stringify(deltas)}`);
  assert.equal(deltas.join(""), "one two three four five six");
  assert.equal((await result.usage).outputTokens, 7);
});

Deno.test("ChatModelLanguageModel hands tool calls to the SDK and tool results back to the model", async () => {
  const chatModel = new FunctionModel((_request, { callIndex }) =>
    callIndex === 0 ? { toolCalls: [{ name: "shout", args: { text: "hi" } }] } : "done"
  );
  const result = await generateText({
    model: new ChatModelLanguageModel(chatModel),
    prompt: "shout hi",
    tools: {
      shout: tool({
        description: "Shouts",
        inputSchema: jsonSchema<{ text: string }>({ type: "object", properties: { text: { type: "string" } } }),
        execute: ({ text }) => text.toUpperCase(),
      }),
    },
    stopWhen: () => false,
  });
  assert.equal(result.text, "done");
  assert.deepEqual(chatModel.calls[0].tools.map((schema) => schema.name), ["shout"]);
  const toolMessage = chatModel.calls[1].messages.find((message) => message.role === "tool");
  assert.deepEqual(toolMessage, { role: "tool", toolCallId: "call_1", name: "shout", content: "HI" });
});

Deno.test("ChatModelLanguageModel reports settings a ChatModel cannot take as warnings", async () => {
  const model = new ChatModelLanguageModel(new TestModel({ script: ["ok"] }));
  const result = await model.doGenerate({
    prompt: [{ role: "user", content: [{ type: "text", text: "hi" }] }],
    temperature: 0.2,
    toolChoice: { type: "required" },
    responseFormat: { type: "json", schema: { type: "object" } },
  });
  assert.deepEqual(result.content, [{ type: "text", text: "ok" }]);
  assert.deepEqual(result.warnings.map((warning) => "feature" in warning ? warning.feature : warning.type), [
    "temperature",
    "toolChoice",
  ]);
  assert.equal(result.finishReason.unified, "stop");
});

Deno.test("ChatModelLanguageModel refuses file parts, which Flue models cannot read", async () => {
  const model = new ChatModelLanguageModel(new TestModel({ script: ["ok"] }));
  await assert.rejects(
    () =>
      model.doGenerate({
        prompt: [{
          role: "user",
          content: [{ type: "file", mediaType: "image/png", data: { type: "url", url: new URL("https://x/a.png") } }],
        }],
      }),
    /A Flue model takes text only, got a "file" part/,
  );
});
