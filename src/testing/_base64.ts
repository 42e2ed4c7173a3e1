/**
 * Base64 for the fakes' wire formats.
 *
 * @module
 */

import { Buffer } from "node:buffer";

/**
 * Encodes bytes as base64.
 *
 * @param bytes The bytes.
 * @returns Their base64 text.
 */
export function encodeBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("base64");
}

/**
 * Decodes base64 text.
 *
 * @param text The base64 text.
 * @returns The bytes.
 */
export function decodeBase64(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, "base64"));
}
