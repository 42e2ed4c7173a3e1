/**
 * Reading a provider's byte stream as text chunks.
 *
 * @module
 */

/**
 * Reads a byte stream to its end, decoding UTF-8 across chunk boundaries.
 *
 * @param stream The stream, or `null` when there is none.
 * @param sink Receives each decoded chunk.
 * @returns Resolves at the end of the stream; a stream that errors (a killed process) just ends.
 */
export async function readTextStream(
  stream: ReadableStream<Uint8Array> | null,
  sink: (chunk: string) => void,
): Promise<void> {
  if (!stream) return;
  const decoder = new TextDecoder();
  try {
    for await (const bytes of stream) {
      const text = decoder.decode(bytes, { stream: true });
      if (text) sink(text);
    }
  } catch {
    // The process was killed or the connection went: what arrived so far is kept.
  }
  const rest = decoder.decode();
  if (rest) sink(rest);
}
