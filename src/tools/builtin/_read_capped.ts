/**
 * Reading a subprocess stream to its end while keeping only a bounded head and tail, so a snippet that prints without
 * end cannot exhaust the harness's memory.
 *
 * @module
 */

/** The bounded view of one stream. */
export interface CappedOutput {
  /** The first bytes, up to the cap, decoded and ending on a whole character. */
  head: string;
  /** Whether the stream was longer than the cap. */
  truncated: boolean;
  /** How many bytes the stream carried. */
  totalBytes: number;
  /** The last bytes, up to the tail size, decoded. */
  tail: string;
  /**
   * The head limited to the stream's first `bytes` bytes.
   *
   * @param bytes How many bytes of the stream to show at most.
   * @returns The decoded text.
   */
  headBefore(bytes: number): string;
}

/**
 * Reads `stream` to its end, keeping its first `maxBytes` and its last `tailBytes`.
 *
 * @param stream The stream.
 * @param maxBytes Bytes kept from the start.
 * @param tailBytes Bytes kept from the end; 0 keeps none.
 * @returns The head, tail and size.
 */
export async function readCapped(
  stream: ReadableStream<Uint8Array>,
  maxBytes: number,
  tailBytes: number,
): Promise<CappedOutput> {
  const head = new Uint8Array(maxBytes);
  let headLength = 0;
  let tail = new Uint8Array(0);
  let totalBytes = 0;
  for await (const chunk of stream) {
    totalBytes += chunk.length;
    if (headLength < maxBytes) {
      const take = Math.min(chunk.length, maxBytes - headLength);
      head.set(chunk.subarray(0, take), headLength);
      headLength += take;
    }
    if (tailBytes > 0) {
      const joined = new Uint8Array(Math.min(tailBytes, tail.length + chunk.length));
      const fromChunk = Math.min(chunk.length, joined.length);
      const fromTail = joined.length - fromChunk;
      joined.set(tail.subarray(tail.length - fromTail), 0);
      joined.set(chunk.subarray(chunk.length - fromChunk), fromTail);
      tail = joined;
    }
  }
  const decodeHead = (bytes: number): string => decodeWhole(head.subarray(0, Math.min(bytes, headLength)));
  return {
    head: decodeHead(headLength),
    truncated: totalBytes > maxBytes,
    totalBytes,
    tail: new TextDecoder().decode(tail),
    headBefore: decodeHead,
  };
}

/** Decodes UTF-8, dropping a character cut off at the end. */
function decodeWhole(bytes: Uint8Array): string {
  let end = bytes.length;
  let back = 0;
  // Walk back over at most three continuation bytes to the start of the last character; drop it if incomplete.
  while (back < 3 && end - back - 1 >= 0 && (bytes[end - back - 1] & 0xc0) === 0x80) back += 1;
  const lead = bytes[end - back - 1];
  if (lead !== undefined && lead >= 0xc0) {
    const needed = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;
    if (back + 1 < needed) end = end - back - 1;
  }
  return new TextDecoder().decode(bytes.subarray(0, end));
}
