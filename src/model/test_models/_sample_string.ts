/**
 * Example strings for JSON Schema string types: by format, by property name, or from strings the caller prefers.
 *
 * @module
 */

import { samplePattern } from "./_sample_pattern.ts";

/** What {@linkcode sampleString} needs besides the schema. */
export interface StringSampleContext {
  /** The property name the string is for, used to pick a fitting example. */
  name: string;
  /** The position in an array, so items differ. */
  variant: number;
  /** Strings to prefer, each used once. */
  strings: readonly string[];
  /** Indexes of `strings` already used, shared across one sample. */
  usedStrings: Set<number>;
}

const FORMAT_EXAMPLES: Readonly<Record<string, string>> = {
  "email": "user@example.com",
  "idn-email": "user@example.com",
  "uri": "https://example.com",
  "url": "https://example.com",
  "iri": "https://example.com",
  "uri-reference": "https://example.com",
  "iri-reference": "https://example.com",
  "date-time": "2024-01-01T12:00:00Z",
  "date": "2024-01-01",
  "time": "12:00:00",
  "duration": "P1D",
  "uuid": "123e4567-e89b-42d3-a456-426614174000",
  "guid": "123e4567-e89b-42d3-a456-426614174000",
  "ipv4": "192.0.2.1",
  "ipv6": "2001:db8::1",
  "cidrv4": "192.0.2.0/24",
  "cidrv6": "2001:db8::/32",
  "hostname": "example.com",
  "idn-hostname": "example.com",
  "base64": "ZXhhbXBsZQ==",
  "base64url": "ZXhhbXBsZQ",
  "nanoid": "V1StGXR8_Z5jdHi6B-myT",
  "cuid": "cjld2cjxh0000qzrmn831i7rn",
  "cuid2": "tz4a98xxat96iws9zmbrgj3a",
  "ulid": "01ARZ3NDEKTSV4RRFFQ69G5FAV",
  "xid": "9m4e2mr0ui3e8a215n4g",
  "ksuid": "0ujtsYcgvSTl8PAuAdqWYSMnLOv",
  "e164": "+15555550100",
  "emoji": "😀",
  "jwt": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl",
  "hex": "c0ffee",
  "json-pointer": "/example",
  "regex": "^example$",
};

/** Checks for formats whose values a preferred string may plausibly hold; other known formats take their example. */
const FORMAT_CHECKS: Readonly<Record<string, (value: string) => boolean>> = {
  "email": (value) => /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value),
  "uri": isAbsoluteUrl,
  "url": isAbsoluteUrl,
  "iri": isAbsoluteUrl,
  "date-time": (value) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(value),
  "date": (value) => /^\d{4}-\d\d-\d\d$/.test(value),
  "uuid": (value) => /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i.test(value),
  "hostname": (value) => /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i.test(value),
};

/** Examples by a word of the property name, first match wins (so `fileName` is a file before it is a name). */
const NAME_EXAMPLES: readonly [readonly string[], string][] = [
  [["path", "file", "filename", "filepath"], "example.txt"],
  [["dir", "directory", "folder", "cwd"], "src"],
  [["command", "cmd"], "echo hello"],
  [["url", "uri", "link", "href", "website", "endpoint"], "https://example.com"],
  [["email"], "user@example.com"],
  [["glob"], "**/*.ts"],
  [["date"], "2024-01-01"],
  [["time"], "12:00:00"],
  [["city"], "Paris"],
  [["country"], "France"],
  [["language", "lang", "locale"], "en"],
  [["color", "colour"], "blue"],
  [["phone"], "+15555550100"],
  [["version"], "1.0.0"],
  [["id", "key", "slug"], "example-id"],
  [["name", "title", "label", "author", "user"], "Example"],
  [
    ["content", "text", "body", "message", "description", "summary", "prompt", "note", "comment", "reason"],
    "Example text",
  ],
];

/**
 * A string that meets the schema's `minLength`, `maxLength`, `format` and `pattern` (own and under `allOf`), preferring
 * an unused preferred string, then the format's example, then one fitting the property name, then one generated from
 * the pattern (simple expressions only) or any known example that fits.
 *
 * @param schema The string schema.
 * @param context The property name, the array position and the preferred strings.
 * @returns The string.
 */
export function sampleString(schema: Record<string, unknown>, context: StringSampleContext): string {
  const format = typeof schema.format === "string" ? schema.format : undefined;
  const patterns = collectPatterns(schema);
  const minLength = typeof schema.minLength === "number" ? schema.minLength : 0;
  const maxLength = typeof schema.maxLength === "number" ? schema.maxLength : Infinity;
  const formatExample = format === undefined ? undefined : FORMAT_EXAMPLES[format];
  const fits = (value: string): boolean =>
    value.length >= minLength && value.length <= maxLength && patterns.every((pattern) => pattern.test(value)) &&
    (format === undefined || !(format in FORMAT_EXAMPLES) || value === formatExample ||
      (FORMAT_CHECKS[format]?.(value) ?? false));

  for (const [index, preferred] of context.strings.entries()) {
    if (context.usedStrings.has(index) || !fits(preferred)) continue;
    context.usedStrings.add(index);
    return preferred;
  }
  const base = nameExample(context.name);
  const candidates = [
    ...(formatExample === undefined ? [] : [formatExample]),
    ...patternExamples(schema, base),
    base,
    "example",
    base.toUpperCase(),
    ...patternSources(schema).map(samplePattern).filter((value): value is string => value !== undefined),
    ...Object.values(FORMAT_EXAMPLES),
    // zod checks the version digit of a UUID: one example per version.
    ...Array.from({ length: 8 }, (_, index) => `123e4567-e89b-${index + 1}2d3-a456-426614174000`),
  ];
  for (const candidate of candidates) {
    const variants = context.variant > 0 ? [`${candidate}-${context.variant + 1}`, candidate] : [candidate];
    for (const value of variants.flatMap((variant) => [variant, fitLength(variant, minLength, maxLength)])) {
      if (fits(value)) return value;
    }
  }
  return fitLength(formatExample ?? base, minLength, maxLength);
}

function fitLength(value: string, minLength: number, maxLength: number): string {
  const padded = value.length < minLength ? value + "x".repeat(minLength - value.length) : value;
  return padded.length > maxLength ? padded.slice(0, maxLength) : padded;
}

function nameExample(name: string): string {
  const words = name.replace(/([a-z0-9])([A-Z])/g, "$1 $2").toLowerCase().split(/[^a-z0-9]+/).filter(Boolean);
  for (const [keys, example] of NAME_EXAMPLES) {
    if (words.some((word) => keys.includes(word))) return example;
  }
  return "example";
}

function collectPatterns(schema: Record<string, unknown>): RegExp[] {
  const patterns: RegExp[] = [];
  for (const source of patternSources(schema)) {
    const pattern = compilePattern(source);
    if (pattern) patterns.push(pattern);
  }
  return patterns;
}

/** The schema's own pattern and those of its `allOf` parts, all of which must hold. */
function patternSources(schema: Record<string, unknown>): string[] {
  const parts = Array.isArray(schema.allOf) ? schema.allOf : [];
  return [schema, ...parts].map((part) => (part as { pattern?: unknown } | null)?.pattern)
    .filter((pattern): pattern is string => typeof pattern === "string");
}

function compilePattern(source: string): RegExp | undefined {
  // JSON Schema patterns are ECMA-262 with Unicode semantics; a pattern written without them is tried as well.
  for (const flags of ["u", ""]) {
    try {
      return new RegExp(source, flags);
    } catch {
      // try the next flags
    }
  }
  return undefined;
}

/** Builds a value from patterns zod writes for `startsWith`, `endsWith` and `includes`: `^lit.*`, `.*lit$`, `lit`. */
function patternExamples(schema: Record<string, unknown>, base: string): string[] {
  const literal = String.raw`((?:[^\\.*+?()[\]{}|^$]|\\.)*)`;
  let prefix = "";
  let suffix = "";
  let middle = "";
  let found = false;
  for (const source of patternSources(schema)) {
    const unescape = (text: string): string => text.replace(/\\(.)/g, "$1");
    const starts = new RegExp(`^\\^${literal}\\.\\*$`).exec(source);
    const ends = new RegExp(`^\\.\\*${literal}\\$$`).exec(source);
    const includes = new RegExp(`^${literal}$`).exec(source);
    if (starts) prefix = unescape(starts[1]);
    else if (ends) suffix = unescape(ends[1]);
    else if (includes) middle += unescape(includes[1]);
    else continue;
    found = true;
  }
  return found ? [`${prefix}${base}${middle}${suffix}`, `${prefix}${middle}${suffix}`] : [];
}

function isAbsoluteUrl(value: string): boolean {
  return URL.canParse(value) && /^[a-z][a-z0-9+.-]*:/i.test(value);
}
