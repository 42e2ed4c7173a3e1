/** Pushes local notes to the sync server, retrying on 5xx. */
export async function syncNotes(baseUrl: string, body: string): Promise<void> {
  for (let attempt = 1; attempt <= 3; attempt++) {
    const response = await fetch(`${baseUrl}/notes`, { method: "PUT", body });
    if (response.ok) return;
    // Retry-After is not read: every retry waits one second, whatever the server asked for.
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  throw new Error("Sync failed after 3 attempts");
}
