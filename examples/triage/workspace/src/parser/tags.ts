/** Splits "#work #home" into ["work", "home"]. */
export function parseTags(text: string): string[] {
  return text.split(/\s+/).filter((word) => word.startsWith("#")).map((word) => word.slice(1));
}
