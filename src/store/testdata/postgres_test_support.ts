// Helpers for tests that need a real PostgreSQL server: where it is (FLUE_TEST_POSTGRES_URL) and a private schema per
// store, dropped afterwards, so parallel test files and repeated runs never see each other's tables.
import postgres from "postgres";

/** The test server's URL, or undefined when the tests should be skipped. */
export const TEST_POSTGRES_URL: string | undefined = Deno.env.get("FLUE_TEST_POSTGRES_URL") || undefined;

/** The line printed, and the name given to the ignored test, when no server is configured. */
export const SKIP_MESSAGE = "SKIPPED: set FLUE_TEST_POSTGRES_URL";

/** A schema name no other test uses. */
export function testSchemaName(): string {
  const random = Array.from(crypto.getRandomValues(new Uint8Array(6)), (byte) => byte.toString(16).padStart(2, "0"));
  return `flue_test_${random.join("")}`;
}

/** Runs one statement batch on the test server with a short-lived connection. */
export async function withAdmin<T>(url: string, body: (sql: postgres.Sql) => Promise<T>): Promise<T> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    return await body(sql);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** Drops a test schema and everything in it. */
export async function dropSchema(url: string, schema: string): Promise<void> {
  await withAdmin(url, (sql) => sql`DROP SCHEMA IF EXISTS ${sql(schema)} CASCADE`);
}
