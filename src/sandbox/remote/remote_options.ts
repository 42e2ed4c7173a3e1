/**
 * The connection options of each remote provider, kept apart from the adapters so that naming them never loads an SDK.
 *
 * @module
 */

/** Options of the `deno-sandbox` provider. */
export interface DenoSandboxProviderOptions {
  /** The Deno Deploy organization access token. Default: `DENO_DEPLOY_TOKEN`. */
  token?: string;
  /** The Sandbox API endpoint. Default: `DENO_SANDBOX_ENDPOINT`, else the SDK's regional endpoint. */
  sandboxEndpoint?: string;
  /** The region, `ord` or `ams`. Default: the SDK's. */
  region?: "ord" | "ams";
  /** Memory of the microVM, such as `"1GiB"`. Default: the SDK's (1280 MiB). */
  memory?: string;
  /** The workspace directory in the microVM. Default `/workspace`. */
  workspaceRoot?: string;
}

/** Options of the `e2b` provider. */
export interface E2BProviderOptions {
  /** The E2B API key. Default: `E2B_API_KEY`. */
  apiKey?: string;
  /** The API base URL. Default: `E2B_API_URL`, else the SDK's. */
  apiUrl?: string;
  /** One URL for every sandbox's daemon (sandboxes are named in headers). Default: `E2B_SANDBOX_URL`, else per host. */
  sandboxUrl?: string;
  /** The E2B domain. Default: `E2B_DOMAIN`, else the SDK's. */
  domain?: string;
  /** The sandbox template. Default: the SDK's (`base`). */
  template?: string;
  /** The workspace directory in the sandbox. Default `/home/user/workspace`. */
  workspaceRoot?: string;
}

/** Options of the `daytona` provider. */
export interface DaytonaProviderOptions {
  /** The Daytona API key. Default: `DAYTONA_API_KEY`. */
  apiKey?: string;
  /** The API base URL (the toolbox URL comes from its replies). Default: `DAYTONA_API_URL`, else the SDK's. */
  apiUrl?: string;
  /** The target region. Default: `DAYTONA_TARGET`, else the organization's default. */
  target?: string;
  /** The snapshot to start from. Default: the SDK's. */
  snapshot?: string;
  /** The workspace directory in the sandbox. Default `/home/daytona/workspace`. */
  workspaceRoot?: string;
}
