/**
 * Captures one output stream of a command up to a byte cap: the first bytes are kept, the rest only counted, so a
 * command printing gigabytes costs no more memory than the cap.
 *
 * @module
 */

/** A capped buffer for one stream. */
export class CappedOutput {
  readonly #cap: number;
  #buffer: Uint8Array;
  #keptLength = 0;
  #droppedBytes = 0;

  /** @param cap How many bytes to keep. */
  constructor(cap: number) {
    this.#cap = cap;
    this.#buffer = new Uint8Array(Math.min(cap, 64 * 1024));
  }

  /**
   * Adds a chunk: its bytes up to the cap are kept, the rest counted.
   *
   * @param chunk Bytes read from the stream.
   */
  push(chunk: Uint8Array): void {
    const keep = Math.min(this.#cap - this.#keptLength, chunk.length);
    if (keep > 0) {
      if (this.#keptLength + keep > this.#buffer.length) {
        const grown = new Uint8Array(Math.min(this.#cap, Math.max(this.#keptLength + keep, this.#buffer.length * 2)));
        grown.set(this.#buffer.subarray(0, this.#keptLength));
        this.#buffer = grown;
      }
      this.#buffer.set(chunk.subarray(0, keep), this.#keptLength);
      this.#keptLength += keep;
    }
    this.#droppedBytes += chunk.length - keep;
  }

  /** Whether bytes were dropped. */
  get isTruncated(): boolean {
    return this.#droppedBytes > 0;
  }

  /**
   * The kept output as text, ending with `[output truncated: N more bytes]` when bytes were dropped. A character cut
   * in half at the cap is left out, and counted.
   *
   * @returns The text.
   */
  text(): string {
    const bytes = this.#buffer.subarray(0, this.#keptLength);
    if (this.#droppedBytes === 0) return new TextDecoder().decode(bytes);
    const end = completeCharactersEnd(bytes);
    const dropped = this.#droppedBytes + (bytes.length - end);
    const text = new TextDecoder().decode(bytes.subarray(0, end));
    return `${text}${text.endsWith("\n") || text === "" ? "" : "\n"}[output truncated: ${dropped} more bytes]`;
  }
}

/** Where the last complete UTF-8 character ends, so a cut never splits one. */
function completeCharactersEnd(bytes: Uint8Array): number {
  let start = bytes.length;
  for (let back = 1; back <= 4 && bytes.length - back >= 0; back++) {
    const byte = bytes[bytes.length - back];
    if ((byte & 0b1100_0000) !== 0b1000_0000) {
      start = bytes.length - back;
      break;
    }
  }
  if (start === bytes.length) return bytes.length;
  const lead = bytes[start];
  const length = lead < 0x80 ? 1 : lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
  return start + length <= bytes.length ? bytes.length : start;
}

/**
 * Reads a stream to its end into a capped buffer.
 *
 * @param stream The stream.
 * @param output Where the bytes go.
 * @param reading Receives the reader, so the caller can cancel it when descendants keep the pipe open.
 * @returns Resolves when the stream ends or is cancelled.
 */
export async function drainInto(
  stream: ReadableStream<Uint8Array>,
  output: CappedOutput,
  reading: { reader?: ReadableStreamDefaultReader<Uint8Array> },
): Promise<void> {
  const reader = stream.getReader();
  reading.reader = reader;
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (done) return;
      output.push(value);
    }
  } catch {
    // A cancelled read ends the capture; the bytes so far are kept.
  } finally {
    reader.releaseLock();
  }
}
