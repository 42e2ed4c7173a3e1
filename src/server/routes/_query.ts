import { HttpError } from "../errors.ts";

/**
 * Reads a whole-number query parameter.
 *
 * @param value The parameter's text, if given.
 * @param name Its name, for the error.
 * @param fallback The value when it is absent.
 * @param min The smallest allowed value.
 * @param max The largest allowed value.
 * @returns The number.
 */
export function integerParam(
  value: string | undefined,
  name: string,
  fallback: number,
  min: number,
  max: number = Number.MAX_SAFE_INTEGER,
): number {
  if (value === undefined || value === "") return fallback;
  const number = /^-?\d{1,15}$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(number) || number < min || number > max) {
    throw new HttpError(
      400,
      "invalid_query",
      `Invalid "${name}" ${JSON.stringify(value)}: use a whole number from ${min}${
        max === Number.MAX_SAFE_INTEGER ? " up" : ` to ${max}`
      }`,
      { details: { parameter: name } },
    );
  }
  return number;
}
