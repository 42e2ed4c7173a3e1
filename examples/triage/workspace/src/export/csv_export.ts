import type { Note } from "../storage/notes_file.ts";

/** Exports notes as CSV: one row per note, with a header. */
export function exportCsv(notes: Note[]): string {
  const rows = notes.map((note) => [note.id, note.title, note.due ?? "", note.tags.join(" ")].map(quote).join(","));
  return ["id,title,due,tags", ...rows].join("\n");
}

function quote(value: string): string {
  return /[",\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}
