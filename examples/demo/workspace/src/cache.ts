const entries = new Map<string, { value: unknown; expires: number }>();

export function remember(key: string, value: unknown, ttlMs: number): void {
  entries.set(key, { value, expires: Date.now() + ttlMs });
}

export function recall(key: string): unknown {
  const entry = entries.get(key);
  return entry && entry.expires > Date.now() ? entry.value : undefined;
}
