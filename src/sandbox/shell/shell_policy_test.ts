import assert from "node:assert/strict";
import { PolicyDeniedError } from "../../errors.ts";
import type { SandboxPolicy } from "../sandbox.ts";
import { MAX_COMMAND_BYTES, planCommand } from "./shell_policy.ts";

function policy(allowedCommands: string[], overrides: Partial<SandboxPolicy> = {}): SandboxPolicy {
  return {
    allowWrite: false,
    allowShell: true,
    allowedCommands,
    allowCompoundCommands: false,
    allowNet: false,
    ...overrides,
  };
}

function denial(command: string, rules: SandboxPolicy): PolicyDeniedError {
  try {
    planCommand(command, rules);
  } catch (error) {
    if (error instanceof PolicyDeniedError) return error;
    throw error;
  }
  assert.fail(`expected ${JSON.stringify(command)} to be denied`);
}

Deno.test("planCommand() refuses every command without allowShell", () => {
  const error = denial("ls", policy(["ls"], { allowShell: false }));
  assert.equal(error.option, "allowShell");
  assert.match(error.message, /set "allowShell"/);
});

Deno.test("planCommand() plans a simple allowed command as argv", () => {
  assert.deepEqual(planCommand("ls -la 'my dir'", policy(["ls"])), { kind: "argv", argv: ["ls", "-la", "my dir"] });
});

Deno.test("planCommand() denies every program when allowedCommands is empty", () => {
  const error = denial("ls", policy([]));
  assert.equal(error.option, "allowedCommands");
  assert.match(error.message, /"allowedCommands" is empty/);
});

Deno.test("planCommand() denies a program that is not listed and says what to add", () => {
  const error = denial("rm -rf .", policy(["ls", "git status"]));
  assert.equal(error.option, "allowedCommands");
  assert.match(error.message, /lists "ls", "git status"; add "rm"/);
});

Deno.test("planCommand() matches an entry with a subcommand only for that subcommand", () => {
  const rules = policy(["git status", "npm test"]);
  assert.equal(planCommand("git status --short", rules).kind, "argv");
  assert.equal(planCommand("git -C sub status", rules).kind, "argv");
  assert.equal(planCommand("npm test -- --watch=false", rules).kind, "argv");
  assert.match(denial("git push", rules).message, /add "git push"/);
  assert.equal(denial("npm install", rules).option, "allowedCommands");
  assert.equal(denial("git", rules).option, "allowedCommands");
});

Deno.test("planCommand() lets a bare program entry allow every subcommand", () => {
  assert.equal(planCommand("git log --oneline", policy(["git"])).kind, "argv");
});

Deno.test("planCommand() refuses programs given as paths unless the exact path is listed", () => {
  for (const command of ["./git status", "/tmp/x/git status", "bin/ls"]) {
    assert.match(denial(command, policy(["git", "ls"])).message, /given as a path/);
  }
  assert.equal(planCommand("/usr/bin/git status", policy(["/usr/bin/git"])).kind, "argv");
});

Deno.test("planCommand() refuses program names with lookalike Unicode or control characters", () => {
  assert.match(denial("gіt status", policy(["git", "gіt"])).message, /non-ASCII characters/);
  assert.match(denial("'git\t' status", policy(["git"])).message, /control characters/);
});

Deno.test("planCommand() refuses commands over the size cap and NUL bytes", () => {
  assert.throws(() => planCommand(`echo ${"a".repeat(MAX_COMMAND_BYTES)}`, policy(["echo"])), {
    name: "RangeError",
    message: /over the limit of 131072/,
  });
  assert.throws(() => planCommand("echo a\0b", policy(["echo"])), { name: "SyntaxError", message: /NUL byte/ });
  assert.throws(() => planCommand("  ", policy(["echo"])), { name: "TypeError", message: /empty/ });
});

Deno.test("planCommand() rejects malformed allowlist entries", () => {
  assert.throws(() => planCommand("ls", policy(["ls && rm"])), { name: "TypeError", message: /entry "ls && rm"/ });
  assert.throws(() => planCommand("ls", policy([""])), { name: "TypeError" });
});

Deno.test("planCommand() refuses compound syntax without allowCompoundCommands and names it", () => {
  for (const command of ["ls && rm x", "ls | wc", "ls > out", "echo $HOME", "ls *.ts", "echo $(id)", "ls\nrm x"]) {
    const error = denial(command, policy(["ls", "rm", "wc", "echo"]));
    assert.equal(error.option, "allowCompoundCommands");
    assert.match(error.message, /uses shell syntax: "/);
  }
});

Deno.test("planCommand() plans an allowed compound command as a bash script", () => {
  const rules = policy(["ls", "wc", "echo"], { allowCompoundCommands: true });
  assert.deepEqual(planCommand("ls | wc -l && echo done > log.txt 2>&1", rules), {
    kind: "script",
    script: "ls | wc -l && echo done > log.txt 2>&1",
  });
  for (const command of ['for f in *.ts; do wc -l "$f"; done', "if ls; then echo a; fi", "(ls; echo) | wc"]) {
    assert.equal(planCommand(command, rules).kind, "script", command);
  }
});

Deno.test("planCommand() checks every simple command of a compound script against the allowlist", () => {
  const rules = policy(["ls", "echo"], { allowCompoundCommands: true });
  for (const command of ["ls; rm -rf .", "ls | sh", "ls && { echo; curl x; }", "if ls; then rm x; fi", "(rm x)"]) {
    assert.equal(denial(command, rules).option, "allowedCommands", command);
  }
  assert.match(
    denial("echo ok > f; git push", policy(["echo", "git status"], { allowCompoundCommands: true })).message,
    /git push/,
  );
});

Deno.test("planCommand() refuses constructs it cannot analyse even with allowCompoundCommands", () => {
  const rules = policy(["echo", "ls", "cat", "printf", "test", "eval", "source", "."], { allowCompoundCommands: true });
  const cases = [
    "echo $(rm -rf .)",
    "echo `id`",
    "echo ${x:-$(id)}",
    "cat <(ls)",
    "cat <<EOF\n$(id)\nEOF",
    "((x = 1))",
    "echo $((1 + 2))",
    "ls; eval ls",
    "ls; source script.sh",
    "ls; . script.sh",
    "FOO=1 ls",
    "case x in y) ls;; esac",
    "printf -v 'a[$(id)]' x; ls",
    "test -v 'a[$(id)]'; ls",
    "$PROGRAM arg; ls",
    "for PATH in /workspace; do ls; done",
    "ls; function f { ls; }",
  ];
  for (const command of cases) {
    const error = denial(command, rules);
    assert.equal(error.option, "allowedCommands", command);
    assert.match(error.message, /cannot be checked|name the program literally/, command);
  }
});

Deno.test("planCommand() refuses arguments known only at run time for programs whose arguments are checked", () => {
  const rules = policy(["git", "find", "ls"], { allowCompoundCommands: true });
  assert.match(denial("ls; git $SUBCOMMAND", rules).message, /known only when the shell runs/);
  assert.match(denial("ls; find . *", rules).message, /known only when the shell runs/);
  assert.equal(planCommand("ls $HOME *.ts", rules).kind, "script");
});

const RUNNERS = [
  "env rm -rf .",
  "sh -c 'rm -rf .'",
  "bash script.sh",
  "zsh -c x",
  "dash -c x",
  "xargs rm",
  "nice rm x",
  "nohup rm x",
  "timeout 5 rm x",
  "stdbuf -o0 rm x",
  "sudo rm x",
  "su -c x",
  "doas rm x",
  "chroot / rm x",
  "busybox rm x",
];

for (const command of RUNNERS) {
  const program = command.split(" ")[0];
  Deno.test(`planCommand() refuses "${program}" as a program that runs other programs`, () => {
    // Allowed through a subcommand entry, so only the runner rule can refuse it.
    const error = denial(command, policy([`${command.split(" ").slice(0, 2).join(" ")}`]));
    assert.equal(error.option, "allowedCommands");
    assert.match(error.message, new RegExp(`"${program}" runs other programs`));
  });
}

const RUNNER_FORMS: Array<[command: string, allowed: string, form: string]> = [
  ["find . -exec rm {} ';'", "find", "find -exec"],
  ["find . -execdir rm {} ';'", "find", "find -execdir"],
  ["find . -ok rm {} ';'", "find", "find -ok"],
  ["find . -okdir rm {} ';'", "find", "find -okdir"],
  ["git -c core.pager=sh log", "git", "git -c"],
  ["git --config-env=core.pager=X log", "git", "git --config-env"],
  ["git --exec-path=/tmp status", "git", "git --exec-path"],
  ["git fetch --upload-pack=sh origin", "git", "git --upload-pack"],
  ["git fetch --upl=sh origin", "git", "git --upload-pack"],
  ["git push --receive-pack=sh origin", "git", "git --receive-pack"],
  ["git clone -u sh src dst", "git", "git -u"],
  ["git archive --remote=x --exec=sh HEAD", "git", "git --exec"],
  ["git clone ext::sh src", "git", "git ext::"],
  ["git diff --ext-diff", "git", "git --ext-diff"],
  ["git rebase -x make HEAD~2", "git", "git rebase --exec"],
  ["git bisect run make", "git", "git bisect run"],
  ["git submodule foreach make", "git", "git submodule foreach"],
  ["git grep -Osh x", "git", "git grep -O"],
  ["git help status", "git", "git help"],
  ["python -c 'import os'", "python", "python -c"],
  ["python3 -Ic 'import os'", "python3", "python3 -c"],
  ["node -e 'process.exit()'", "node", "node -e"],
  ["node --print 1", "node", "node -e"],
  ["deno eval 'Deno.exit()'", "deno", "deno eval"],
  ["deno run main.ts", "deno", "deno run"],
  ["deno main.ts", "deno", "deno run"],
  ["deno task build", "deno", "deno task"],
  ["perl -e 'system(1)'", "perl", "perl -e"],
  ["perl -lne 'print'", "perl", "perl -e"],
  ["ruby -e 'exit'", "ruby", "ruby -e"],
  ["php -r 'exit;'", "php", "php -r"],
  [`awk 'BEGIN { system("id") }'`, "awk", "awk system"],
  [`gawk '{ print | "sh" }'`, "gawk", "gawk system"],
  ["awk -f prog.awk", "awk", "awk -f"],
  ["tar -xI zstd -f a.tar", "tar", "tar -I"],
  ["tar --to-command=sh -xf a.tar", "tar", "tar --to-command"],
  ["rsync -e sh a b", "rsync", "rsync -e"],
];

for (const [command, allowed, form] of RUNNER_FORMS) {
  Deno.test(`planCommand() refuses "${form}" in ${JSON.stringify(command)} unless that form is listed`, () => {
    const error = denial(command, policy([allowed]));
    assert.equal(error.option, "allowedCommands");
    assert.match(error.message, new RegExp(`^"${form.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}" .*list "`));
    assert.equal(planCommand(command, policy([allowed, form])).kind, "argv");
  });
}

Deno.test("planCommand() lets the same programs run in forms that do not run other programs", () => {
  const rules = policy(["find", "git", "python3", "node", "deno", "awk", "tar"]);
  const commands = [
    "find . -name '*.ts' -delete",
    "git diff --text --stat",
    "git status -uno",
    "git add -u",
    "python3 script.py -c",
    "node build.js -e",
    "deno fmt --check",
    "awk -F: '{ print $1 || $2 }' file",
    "tar -czf out.tgz dir",
  ];
  for (const command of commands) assert.equal(planCommand(command, rules).kind, "argv", command);
});

Deno.test("planCommand() refuses git aliases and external git commands", () => {
  const error = denial("git st", policy(["git"]));
  assert.match(error.message, /"git st" is not a built-in git command; aliases/);
  assert.match(denial("git lfs pull", policy(["git"])).message, /"git lfs"/);
  assert.equal(planCommand("git st", policy(["git", "git st"])).kind, "argv");
});
