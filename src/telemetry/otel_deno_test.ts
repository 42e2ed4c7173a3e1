import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

interface OtlpSpan {
  name: string;
  spanId: string;
  parentSpanId?: string;
  traceId: string;
  attributes?: { key: string; value: Record<string, unknown> }[];
}

// Deno's built-in OpenTelemetry (OTEL_DENO=true) exports to an OTLP endpoint: here a receiver in this test.
Deno.test("with OTEL_DENO=true, the default tracer's spans reach an OTLP/HTTP JSON collector, correctly parented", async () => {
  const bodies: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (request) => {
    if (new URL(request.url).pathname === "/v1/traces") bodies.push(await request.text());
    else await request.body?.cancel();
    return Response.json({});
  });
  try {
    const script = fileURLToPath(new URL("./testdata/otel_deno_agent.ts", import.meta.url));
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", script],
      env: {
        OTEL_DENO: "true",
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${server.addr.port}`,
        OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
        OTEL_SERVICE_NAME: "flue-otel-test",
      },
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
  } finally {
    await server.shutdown();
  }

  // Deno flushes its exporter when the process exits, so every span has arrived once the script has ended.
  const spans: OtlpSpan[] = [];
  let serviceName: unknown;
  for (const body of bodies) {
    for (const resourceSpans of JSON.parse(body).resourceSpans ?? []) {
      serviceName = resourceSpans.resource?.attributes?.find((a: { key: string }) => a.key === "service.name")?.value;
      for (const scopeSpans of resourceSpans.scopeSpans) spans.push(...scopeSpans.spans);
    }
  }
  assert.deepEqual(serviceName, { stringValue: "flue-otel-test" });
  const byName = (name: string) => spans.filter((span) => span.name === name);
  const [script] = byName("script");
  const [operation] = byName("invoke_agent otel-check");
  assert.ok(script && operation, `spans received: ${spans.map((span) => span.name).join(", ")}`);
  assert.equal(operation.parentSpanId, script.spanId, "Deno's context manager made the script's span the parent");
  assert.equal(byName("chat test").length, 2);
  assert.equal(byName("execute_tool echo").length, 1);
  for (const child of [...byName("chat test"), ...byName("execute_tool echo")]) {
    assert.equal(child.parentSpanId, operation.spanId);
    assert.equal(child.traceId, script.traceId);
  }
  const attribute = (span: OtlpSpan, key: string) => span.attributes?.find((entry) => entry.key === key)?.value;
  assert.deepEqual(attribute(operation, "gen_ai.operation.name"), { stringValue: "invoke_agent" });
  assert.deepEqual(attribute(byName("execute_tool echo")[0], "gen_ai.tool.name"), { stringValue: "echo" });
});
