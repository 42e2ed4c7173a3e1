/**
 * An in-memory tracer for tests: finished spans, plus a count of spans started and not ended.
 *
 * @module
 */

import type { Context, Tracer } from "@opentelemetry/api";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
  type Span,
  type SpanProcessor,
} from "@opentelemetry/sdk-trace-base";

/** Spans recorded by one provider. */
export interface SpanRecorder {
  /** The provider, for tests that register it globally. */
  provider: BasicTracerProvider;
  /** A tracer of the provider. */
  tracer: Tracer;
  /** The finished spans, in the order they ended. */
  spans(): ReadableSpan[];
  /** Spans started and not yet ended. */
  open(): number;
}

/**
 * Creates a recorder.
 *
 * @returns The recorder.
 */
export function spanRecorder(): SpanRecorder {
  const exporter = new InMemorySpanExporter();
  let open = 0;
  const counter: SpanProcessor = {
    onStart: (_span: Span, _context: Context) => void open++,
    onEnd: () => void open--,
    forceFlush: () => Promise.resolve(),
    shutdown: () => Promise.resolve(),
  };
  const provider = new BasicTracerProvider({ spanProcessors: [counter, new SimpleSpanProcessor(exporter)] });
  return { provider, tracer: provider.getTracer("test"), spans: () => exporter.getFinishedSpans(), open: () => open };
}

/**
 * The finished span with a name; fails when there is not exactly one.
 *
 * @param spans Finished spans.
 * @param name The span name.
 * @returns The span.
 */
export function only(spans: ReadableSpan[], name: string): ReadableSpan {
  const found = spans.filter((span) => span.name === name);
  if (found.length !== 1) {
    throw new Error(`Expected one span "${name}", found ${found.length} among ${spans.map((s) => s.name).join(", ")}`);
  }
  return found[0];
}

/**
 * The span id of a span's parent.
 *
 * @param span A finished span.
 * @returns The parent's span id, or undefined for a root span.
 */
export function parentId(span: ReadableSpan): string | undefined {
  return span.parentSpanContext?.spanId;
}

/**
 * A span's id.
 *
 * @param span A finished span.
 * @returns Its span id.
 */
export function idOf(span: ReadableSpan): string {
  return span.spanContext().spanId;
}
