/**
 * A string for a simple regular expression: literals, character classes, `\d \w \s`, groups, alternation and
 * quantifiers. The shortest choice is taken everywhere, and the result is checked against the real expression.
 *
 * @module
 */

/** Characters tried, in order, for a negated class or an escape such as `\W`. */
const FALLBACK_CHARACTERS = "a0A_- .x";

/**
 * Generates a string that matches `source`, when the expression uses only the simple constructs this understands.
 *
 * @param source The pattern, as JSON Schema writes it.
 * @returns A matching string, or `undefined` when the pattern is beyond this generator.
 */
export function samplePattern(source: string): string | undefined {
  let expression: RegExp;
  try {
    expression = new RegExp(source, "u");
  } catch {
    return undefined;
  }
  const parser = new PatternParser(source);
  let generated: string | undefined;
  try {
    generated = parser.alternation();
  } catch {
    return undefined;
  }
  return generated !== undefined && parser.done() && expression.test(generated) ? generated : undefined;
}

class PatternParser {
  #source: string;
  #index = 0;

  constructor(source: string) {
    this.#source = source;
  }

  done(): boolean {
    return this.#index >= this.#source.length;
  }

  /** The first alternative that can be generated; `a|b` gives `a`. */
  alternation(): string | undefined {
    let chosen = this.sequence();
    while (this.#source[this.#index] === "|") {
      this.#index++;
      const other = this.sequence();
      chosen ??= other;
    }
    return chosen;
  }

  sequence(): string | undefined {
    let text = "";
    let possible = true;
    while (!this.done() && this.#source[this.#index] !== "|" && this.#source[this.#index] !== ")") {
      const atom = this.atom();
      const count = this.quantifier();
      if (atom === undefined) {
        if (count > 0) possible = false;
        continue;
      }
      text += atom.repeat(count);
    }
    return possible ? text : undefined;
  }

  atom(): string | undefined {
    const char = this.#source[this.#index++];
    if (char === "^" || char === "$") return "";
    if (char === ".") return "a";
    if (char === "(") {
      let lookaround = false;
      if (this.#source[this.#index] === "?") {
        const kind = this.#source[this.#index + 1];
        if (kind === "=" || kind === "!") lookaround = true;
        if (kind === "<" && /[=!]/.test(this.#source[this.#index + 2])) lookaround = true;
        // Skip the group's prefix: `?:`, `?=`, `?!`, `?<=`, `?<!` or `?<name>`.
        const named = /^\?(?::|=|!|<=|<!|<[A-Za-z_][A-Za-z0-9_]*>)/.exec(this.#source.slice(this.#index));
        if (!named) throw new SyntaxError("Unsupported group");
        this.#index += named[0].length;
      }
      const inner = this.alternation();
      if (this.#source[this.#index++] !== ")") throw new SyntaxError("Unclosed group");
      // A lookaround asserts without consuming; the final check against the real expression decides.
      return lookaround ? "" : inner;
    }
    if (char === "[") return this.characterClass();
    if (char === "\\") return this.escape();
    if ("*+?{".includes(char)) throw new SyntaxError("Nothing to repeat");
    return char;
  }

  quantifier(): number {
    const char = this.#source[this.#index];
    let count = 1;
    if (char === "?" || char === "*") {
      count = 0;
      this.#index++;
    } else if (char === "+") {
      this.#index++;
    } else if (char === "{") {
      const match = /^\{(\d+)(,\d*)?\}/.exec(this.#source.slice(this.#index));
      if (!match) return 1;
      count = Number(match[1]);
      this.#index += match[0].length;
    } else {
      return 1;
    }
    if (this.#source[this.#index] === "?") this.#index++;
    return count;
  }

  escape(): string | undefined {
    const char = this.#source[this.#index++];
    switch (char) {
      case "d":
        return "1";
      case "w":
        return "a";
      case "s":
        return " ";
      case "D":
      case "S":
        return "a";
      case "W":
        return "-";
      case "b":
      case "B":
        return "";
      case "p":
      case "P":
      case "u":
      case "x":
        throw new SyntaxError("Unsupported escape");
      case "n":
        return "\n";
      case "t":
        return "\t";
      default:
        return char;
    }
  }

  characterClass(): string {
    const negated = this.#source[this.#index] === "^";
    if (negated) this.#index++;
    const members: ((char: string) => boolean)[] = [];
    let first: string | undefined;
    while (this.#source[this.#index] !== "]") {
      if (this.done()) throw new SyntaxError("Unclosed class");
      let char = this.#source[this.#index++];
      if (char === "\\") {
        const escaped = this.#source[this.#index++];
        const test = ({ d: /\d/, w: /\w/, s: /\s/, D: /\D/, W: /\W/, S: /\S/ } as Record<string, RegExp>)[escaped];
        if (test) {
          members.push((candidate) => test.test(candidate));
          first ??= this.escapeSample(escaped);
          continue;
        }
        if ("pPux".includes(escaped)) throw new SyntaxError("Unsupported escape");
        char = escaped === "n" ? "\n" : escaped === "t" ? "\t" : escaped;
      }
      if (this.#source[this.#index] === "-" && this.#source[this.#index + 1] !== "]") {
        this.#index++;
        let end = this.#source[this.#index++];
        if (end === "\\") end = this.#source[this.#index++];
        const low = char;
        members.push((candidate) => candidate >= low && candidate <= end);
      } else {
        const literal = char;
        members.push((candidate) => candidate === literal);
      }
      first ??= char;
    }
    this.#index++;
    if (!negated && first !== undefined) return first;
    const inClass = (candidate: string): boolean => members.some((member) => member(candidate));
    const chosen = [...FALLBACK_CHARACTERS].find((candidate) => inClass(candidate) !== negated);
    if (chosen === undefined) throw new SyntaxError("No character fits the class");
    return chosen;
  }

  escapeSample(escaped: string): string {
    return escaped === "d" ? "1" : escaped === "s" ? " " : escaped === "W" ? "-" : "a";
  }
}
