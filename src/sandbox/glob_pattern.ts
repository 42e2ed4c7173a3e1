/**
 * The glob dialect of the model's `glob` and `grep` tools and of the file runner: `*` (within a segment), `**`
 * (across segments), `?`, `[abc]`/`[!abc]` and `{a,b}`. The three functions are self-contained (no imports, no
 * outer names) because the runner embeds their source text in the program it runs under Deno permissions.
 *
 * @module
 */

/**
 * Compiles a glob to an anchored regular expression.
 *
 * @example Usage
 * ```ts
 * import { globToRegExp } from "./glob_pattern.ts";
 *
 * if (!globToRegExp("src/**\/*.{ts,tsx}").test("src/a/b.tsx")) throw new Error("unexpected");
 * ```
 *
 * @param glob The pattern.
 * @returns An anchored regular expression.
 */
export function globToRegExp(glob: string): RegExp {
  return new RegExp(`^${globSource(glob)}$`);
}

/**
 * The regular-expression source of a glob, unanchored.
 *
 * @param glob The pattern.
 * @returns The source.
 */
export function globSource(glob: string): string {
  let source = "";
  let index = 0;
  while (index < glob.length) {
    const character = glob[index];
    if (character === "*") {
      if (glob[index + 1] === "*") {
        const atSegmentStart = index === 0 || glob[index - 1] === "/";
        if (atSegmentStart && glob[index + 2] === "/") {
          source += "(?:.*/)?";
          index += 3;
        } else {
          source += ".*";
          index += 2;
        }
      } else {
        source += "[^/]*";
        index += 1;
      }
    } else if (character === "?") {
      source += "[^/]";
      index += 1;
    } else if (character === "[") {
      const close = glob.indexOf("]", index + 2);
      if (close === -1) {
        source += "\\[";
        index += 1;
      } else {
        let body = glob.slice(index + 1, close);
        const negated = body.startsWith("!") || body.startsWith("^");
        if (negated) body = body.slice(1);
        source += `[${negated ? "^" : ""}${body.replaceAll("\\", "\\\\").replaceAll("]", "\\]")}]`;
        index = close + 1;
      }
    } else if (character === "{") {
      const close = matchingBrace(glob, index);
      if (close === -1) {
        source += "\\{";
        index += 1;
      } else {
        const alternatives = splitAlternatives(glob.slice(index + 1, close));
        source += `(?:${alternatives.map(globSource).join("|")})`;
        index = close + 1;
      }
    } else {
      source += character.replace(/[.+^$()|\\{}[\]]/g, "\\$&");
      index += 1;
    }
  }
  return source;
}

/**
 * The index of the brace closing the one at `open`, or -1.
 *
 * @param glob The pattern.
 * @param open The index of an opening brace.
 * @returns The index of its closing brace.
 */
export function matchingBrace(glob: string, open: number): number {
  let depth = 0;
  for (let index = open; index < glob.length; index += 1) {
    if (glob[index] === "{") depth += 1;
    else if (glob[index] === "}" && --depth === 0) return index;
  }
  return -1;
}

/**
 * Splits the body of a `{a,b}` group on its top-level commas.
 *
 * @param body The text between the braces.
 * @returns The alternatives.
 */
export function splitAlternatives(body: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let index = 0; index < body.length; index += 1) {
    if (body[index] === "{") depth += 1;
    else if (body[index] === "}") depth -= 1;
    else if (body[index] === "," && depth === 0) {
      parts.push(body.slice(start, index));
      start = index + 1;
    }
  }
  parts.push(body.slice(start));
  return parts;
}
