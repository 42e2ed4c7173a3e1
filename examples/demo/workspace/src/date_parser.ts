export function parseIsoWeek(text: string): { year: number; week: number } {
  const match = /^(\d{4})-W(\d{2})$/.exec(text);
  if (!match) throw new SyntaxError(`Not an ISO week date: "${text}"`);
  // FIXME: weeks above 52 are accepted even in years that have only 52
  return { year: Number(match[1]), week: Number(match[2]) };
}
