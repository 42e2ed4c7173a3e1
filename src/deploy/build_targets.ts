/**
 * The targets of `flue build` and `flue deploy`: what each writes, and which platform CLI deploys it.
 *
 * @module
 */

import type { BuildContext } from "./build_context.ts";

/** A platform CLI that `flue deploy` runs after the build. */
export interface PlatformCli {
  /** The executables to look for on `PATH`, preferred first. */
  executables: string[];
  /** The arguments, given the build. */
  args: (context: BuildContext) => string[];
  /** The command that installs the CLI, printed when it is missing. */
  install: string;
}

/** A build target. */
export interface BuildTarget {
  /** One line for help texts. */
  summary: string;
  /** Writes the target's files; returns a command the user (or `flue build`) runs next, if any. */
  build: (context: BuildContext, options: { triple?: string }) => Promise<string[] | void>;
  /** How `flue deploy` ships the build; `undefined` where deploying is a manual step (`manual` says which). */
  cli?: PlatformCli;
  /** What to do instead of `flue deploy`, for targets without a CLI. */
  manual?: string;
}

/** The targets, by name. */
export const BUILD_TARGETS: Record<string, BuildTarget> = {
  binary: {
    summary: "a deno compile'd executable with every agent and workflow (serve, run, invoke, routes)",
    build: async (context, options) => (await import("./binary_target.ts")).buildBinary(context, options),
    manual: "copy dist/<name> to the machine and run it (flue build --target systemd writes a unit for it)",
  },
  "deno-deploy": {
    summary: "main.ts and the deploy key of deno.json (Deno KV store, memory sandbox)",
    build: async (context) => (await import("./deno_deploy_target.ts")).buildDenoDeploy(context),
    cli: {
      executables: ["deployctl"],
      args: () => ["deploy", "--prod"],
      install: "deno install -gArf jsr:@deno/deployctl",
    },
  },
  docker: {
    summary: "Dockerfile (Deno 2.9.6, non-root, bubblewrap, /health) and .dockerignore",
    build: async (context) => (await import("./docker_target.ts")).buildDocker(context),
    cli: {
      executables: ["docker", "podman"],
      args: (context) => ["build", "--tag", context.name, "."],
      install: "see https://docs.docker.com/engine/install/ (or apt-get install podman)",
    },
  },
  fly: {
    summary: "fly.toml (a volume for the sqlite store, /health check) and the Dockerfile",
    build: async (context) => (await import("./platform_targets.ts")).buildFly(context),
    cli: {
      executables: ["flyctl", "fly"],
      args: () => ["deploy", "--config", "fly.toml"],
      install: "curl -L https://fly.io/install.sh | sh",
    },
  },
  railway: {
    summary: "railway.json (PostgreSQL store, /health check) and the Dockerfile",
    build: async (context) => (await import("./platform_targets.ts")).buildRailway(context),
    cli: {
      executables: ["railway"],
      args: () => ["up", "--ci"],
      install: "npm install -g @railway/cli",
    },
  },
  render: {
    summary: "render.yaml (a Blueprint with a disk for the sqlite store) and the Dockerfile",
    build: async (context) => (await import("./platform_targets.ts")).buildRender(context),
    manual: "push the repository and create a Blueprint from render.yaml in Render's dashboard",
  },
  "github-actions": {
    summary: ".github/workflows/flue.yml: Deno 2.9.6, deno task check and deno task test",
    build: async (context) => (await import("./ci_targets.ts")).buildGithubActions(context),
    manual: "commit .github/workflows/flue.yml and push",
  },
  systemd: {
    summary: "deploy/<name>.service: a hardened unit for the binary",
    build: async (context) => (await import("./ci_targets.ts")).buildSystemd(context),
    manual: "install the binary and the unit as the unit's header says, then systemctl enable --now <name>",
  },
};

/**
 * Targets Flue does not build, with the reason and the nearest one that works. A Flue server loads its agents from
 * the file system, keeps state in sqlite or Deno KV and runs sandboxes in subprocesses; these platforms offer none of
 * that to a long-lived server (see docs/deploy.md).
 */
export const REFUSED_TARGETS: Record<string, { reason: string; instead: string }> = {
  vercel: {
    reason: "Vercel functions are short-lived and have no Deno runtime, durable disk or background worker for " +
      "dispatches and runs",
    instead: "deno-deploy (serverless, Deno KV) or docker",
  },
  netlify: {
    reason: "Netlify Edge Functions run Hono but not Flue's project loader, sqlite store, subprocess sandboxes or " +
      "background dispatch worker",
    instead: "deno-deploy, which runs the same Deno code with Deno KV",
  },
  cloudflare: {
    reason: "Cloudflare Workers are not Deno: no Deno KV, node:sqlite, subprocesses or file-system discovery",
    instead: "deno-deploy for serverless, or docker on Cloudflare Containers",
  },
};
