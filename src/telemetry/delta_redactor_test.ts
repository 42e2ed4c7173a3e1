import assert from "node:assert/strict";
import type { EventPayload } from "../events/event_types.ts";
import { DeltaRedactor } from "./delta_redactor.ts";
import { Redactor } from "./redactor.ts";

function stream(secrets: Record<string, string>, pieces: string[], turnId = "t"): string[] {
  const deltas = new DeltaRedactor(new Redactor(secrets));
  const out: EventPayload[] = [];
  for (const text of pieces) out.push(...deltas.redact({ type: "text_delta", turnId, text }));
  out.push(...deltas.flush());
  return out.map((payload) => payload.type === "text_delta" ? payload.text : "");
}

Deno.test("DeltaRedactor redacts a secret split across pieces, whatever the split", () => {
  const secret = "open sesame 4242";
  const text = `say ${secret} twice: ${secret}!`;
  for (let cut = 1; cut < text.length; cut++) {
    const pieces = stream({ KEY: secret }, [text.slice(0, cut), text.slice(cut)]);
    assert.equal(pieces.join(""), "say [REDACTED:KEY] twice: [REDACTED:KEY]!", `cut at ${cut}`);
    assert.ok(pieces.every((piece) => !piece.includes("sesame 4242")));
  }
  const oneByOne = stream({ KEY: secret }, [...text]);
  assert.equal(oneByOne.join(""), "say [REDACTED:KEY] twice: [REDACTED:KEY]!");
});

Deno.test("DeltaRedactor handles a secret that overlaps itself and text that only starts like one", () => {
  assert.equal(stream({ K: "abcab" }, ["zab", "cab", "x"]).join(""), "z[REDACTED:K]x");
  assert.deepEqual(stream({ K: "secret-value" }, ["a secret-", "va"]), ["a ", "secret-va"]);
});

Deno.test("DeltaRedactor releases held text before any other event, and passes everything through without secrets", () => {
  const deltas = new DeltaRedactor(new Redactor({ K: "hunter22" }));
  assert.deepEqual(deltas.redact({ type: "text_delta", turnId: "t", text: "pw hunt" }), [
    { type: "text_delta", turnId: "t", text: "pw " },
  ]);
  const [released, turn] = deltas.redact({ type: "turn_start", turnId: "t2" } as EventPayload);
  assert.deepEqual(released, { type: "text_delta", turnId: "t", text: "hunt" });
  assert.equal(turn.type, "turn_start");
  const open = new DeltaRedactor(new Redactor({}));
  const payload: EventPayload = { type: "text_delta", turnId: "t", text: "anything" };
  assert.equal(open.redact(payload)[0], payload);
});

Deno.test("DeltaRedactor holds back the start of a secret's base64 form split across pieces", () => {
  const secret = "sk-live-4f8a2c9e71b3d605";
  const encoded = btoa(secret);
  const deltas = new DeltaRedactor(new Redactor({ KEY: secret }));
  const pieces = [
    ...deltas.redact({ type: "text_delta", turnId: "t", text: `token: ${encoded.slice(0, 10)}` }),
    ...deltas.redact({ type: "text_delta", turnId: "t", text: `${encoded.slice(10)} done` }),
    ...deltas.flush(),
  ];
  const texts = pieces.map((piece) => "text" in piece ? piece.text : "");
  assert.equal(texts.join(""), "token: [REDACTED:KEY] done");
  assert.ok(texts.every((text) => !text.includes(encoded.slice(0, 10))), JSON.stringify(texts));
});
