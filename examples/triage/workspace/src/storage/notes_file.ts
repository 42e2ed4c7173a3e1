/** One note. */
export interface Note {
  id: string;
  title: string;
  due?: string;
  tags: string[];
}

/** Reads the notes file; a missing file is an empty list. */
export async function loadNotes(path: string): Promise<Note[]> {
  try {
    return JSON.parse(await Deno.readTextFile(path));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
}

/** Writes the notes file in place. */
export async function saveNotes(path: string, notes: Note[]): Promise<void> {
  await Deno.writeTextFile(path, JSON.stringify(notes, null, 2));
}
