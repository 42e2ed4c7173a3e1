export async function getJson(url: string): Promise<unknown> {
  // TODO: honour retry-after on 429 responses
  const response = await fetch(url);
  if (!response.ok) throw new Error(`GET ${url} failed with ${response.status}`);
  return await response.json();
}
