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
  const rules = policy(["git status", "npm test"], { allowInterpreters: true });
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
  "xargs rm",
  "nice rm x",
  "nohup rm x",
  "timeout 5 rm x",
  "stdbuf -o0 rm x",
  "sudo rm x",
  "su -c x",
  "doas rm x",
  "chroot / rm x",
  "socat - EXEC:id",
  "valgrind rm x",
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

/** Interpreters, each listed, and the form the refusal names. */
const INTERPRETERS: Array<[command: string, allowed: string, form: string]> = [
  ["sh -c 'rm -rf .'", "sh", "sh"],
  ["bash script.sh", "bash", "bash"],
  ["zsh -c x", "zsh", "zsh"],
  ["dash -c x", "dash", "dash"],
  ["busybox rm x", "busybox", "busybox"],
  ["python -c 'import os'", "python", "python"],
  ["python3 script.py", "python3", "python3"],
  ["node -e 'process.exit()'", "node", "node"],
  ["node build.js", "node", "node"],
  ["deno eval 'Deno.exit()'", "deno", "deno eval"],
  ["deno run main.ts", "deno", "deno run"],
  ["deno main.ts", "deno", "deno run"],
  ["deno task build", "deno", "deno task"],
  ["perl -e 'system(1)'", "perl", "perl"],
  ["ruby -e 'exit'", "ruby", "ruby"],
  ["php -r 'exit;'", "php", "php"],
  ["lua -e 'os.execute()'", "lua", "lua"],
  ["vim -c '!id' -c q", "vim", "vim"],
  ["ex -c '!id'", "ex", "ex"],
  ["vi -c '!id'", "vi", "vi"],
  ["make -f Makefile", "make", "make"],
  ["gdb -batch -ex '!id'", "gdb", "gdb"],
  ["emacs --batch --eval '(shell-command \"id\")'", "emacs", "emacs"],
  ["m4 in.m4", "m4", "m4"],
  ["ed -s file", "ed", "ed"],
  ["sqlite3 db .shell", "sqlite3", "sqlite3"],
  ["npm test", "npm test", "npm"],
  ["cargo build", "cargo", "cargo"],
  ["gcc -wrapper sh,-c,id x.c", "gcc", "gcc"],
  ["psql -c '\\! id'", "psql", "psql"],
  [`awk 'BEGIN { system("id") }'`, "awk", "awk system()"],
  [`gawk '{ print | "sh" }'`, "gawk", "gawk system()"],
  [`gawk 'BEGIN { f = "sys" "tem"; @f("id") }'`, "gawk", "gawk system()"],
  ["awk -f prog.awk", "awk", "awk -f"],
  ["mawk -W exec prog.awk", "mawk", "mawk -W"],
];

for (const [command, allowed, form] of INTERPRETERS) {
  Deno.test(`planCommand() refuses the interpreter in ${JSON.stringify(command)} without allowInterpreters`, () => {
    const error = denial(command, policy([allowed]));
    assert.equal(error.option, "allowInterpreters");
    assert.match(error.message, /set "allowInterpreters" to allow interpreters$/);
    assert.ok(error.message.startsWith(`"${form}" `), error.message);
    assert.equal(planCommand(command, policy([allowed], { allowInterpreters: true })).kind, "argv");
  });
}

Deno.test("planCommand() still needs an interpreter listed when allowInterpreters is on", () => {
  const error = denial("python3 -c 1", policy(["git"], { allowInterpreters: true }));
  assert.equal(error.option, "allowedCommands");
});

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
  ["git submodule foreach make", "git", "git submodule"],
  ["git submodule update", "git", "git submodule"],
  ["git status --ignore-submodules=none", "git", "git --ignore-submodules"],
  ["git checkout --recurse-submodules main", "git", "git --recurse-submodules"],
  ["git clone --recursive https://example.com/r", "git", "git --recurse-submodules"],
  ["git clone --template=tpl https://example.com/r", "git", "git --template"],
  ["git grep -Osh x", "git", "git grep -O"],
  ["git help status", "git", "git help"],
  ["tar -xI zstd -f a.tar", "tar", "tar -I"],
  ["tar --to-command=sh -xf a.tar", "tar", "tar --to-command"],
  ["tar -c -F script.sh -f a.tar .", "tar", "tar -F"],
  ["tar cf a.tar --checkpoint=1 --checkpoint-action=exec=sh .", "tar", "tar --checkpoint-action"],
  ["rsync -e sh a b", "rsync", "rsync -e"],
  ["rsync -M --x a b", "rsync", "rsync -M"],
  ["sort --compress-program=sh -S 1 big.txt", "sort", "sort --compress-program"],
  ["sort --compress=sh big.txt", "sort", "sort --compress"],
  ["sort -rny big.txt", "sort", "sort -y"],
  ["zip -TT 'sh -c id' a.zip f", "zip", "zip -TT"],
  ["zip a.zip f -T --unzip-command 'sh -c id'", "zip", "zip --unzip-command"],
  ["sdiff --diff-program=sh a b", "sdiff", "sdiff --diff-program"],
  ["diff3 --diff-program=sh a b c", "diff3", "diff3 --diff-program"],
  ["man -P 'sh -c id' ls", "man", "man -P"],
  ["man --html=sh ls", "man", "man --html"],
  ["curl -K cfg https://example.com", "curl", "curl -K"],
  ["wget --use-askpass=sh https://example.com", "wget", "wget --use-askpass"],
  ["wget -e 'use_askpass=sh' https://example.com", "wget", "wget -e"],
  ["split --filter='sh -c id' big.txt", "split", "split --filter"],
  ["install -s --strip-program=sh a b", "install", "install --strip-program"],
  ["nc -e /bin/sh 127.0.0.1 1", "nc", "nc -e"],
  ["ncat --sh-exec id -l 1", "ncat", "ncat --sh-exec"],
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
  const rules = policy([
    "find",
    "git",
    "deno",
    "awk",
    "tar",
    "sort",
    "zip",
    "sed",
    "rsync",
    "man",
    "less",
    "constructor",
  ]);
  const commands = [
    "find . -name '*.ts' -delete",
    "git diff --text --stat",
    "git status -uno",
    "git add -u",
    "deno fmt --check",
    "awk -F: '{ print $1 || $2 }' file",
    "awk -v n=1 -F , 'NR > n' file",
    "tar -czf out.tgz dir",
    "tar xzf out.tgz",
    "sort -rn -k 2,2 -t , -o out.txt --parallel=2 --check=quiet in.txt",
    "sort -u --reverse -- -odd-name",
    "zip -r -T out.zip dir",
    "sed -n 's/a/b/p' file",
    "rsync -a src/ dst/",
    "man -k ls",
    "less -N file",
    "constructor --x",
  ];
  for (const command of commands) assert.equal(planCommand(command, rules).kind, "argv", command);
});

Deno.test("planCommand() refuses git aliases and external git commands", () => {
  const error = denial("git st", policy(["git"]));
  assert.match(error.message, /"git st" is not a built-in git command; aliases/);
  assert.match(denial("git lfs pull", policy(["git"])).message, /"git lfs"/);
  assert.equal(planCommand("git st", policy(["git", "git st"])).kind, "argv");
});
