#!/usr/bin/env python3
"""Turn a nestbox plan (`nestbox explain --json ...`) into the equivalent bubblewrap command line.

    bench-bwrap-args.py PLAN.json FILEDIR --nul       the arguments after `bwrap`, NUL-terminated
    bench-bwrap-args.py PLAN.json FILEDIR --shell     `bwrap ...` as one shell-quoted line
    bench-bwrap-args.py PLAN.json FILEDIR --pretty    the same, one plan step a line
    bench-bwrap-args.py PLAN.json FILEDIR --markdown  a table: each plan step and its bwrap options

Same namespaces, same mount steps in the same order, same ids, host name, environment and working
directory. Where bwrap has no one-to-one option the mapping says so (the `note` column):
  * the /dev block (tmpfs /dev, the device binds, devpts, the ptmx and fd symlinks) is `--dev /dev`,
    which makes exactly those; /dev/shm stays a separate tmpfs;
  * a generated file is written under FILEDIR and bound read-only (hyperfine cannot hand bwrap a
    file descriptor for --file / --ro-bind-data). Its contents are what nestbox writes
    (src/plan/build.rs); the plan's JSON leaves the bytes out, so they are rebuilt here;
  * `protect` (a /proc entry bound read-only over itself) is `--ro-bind-try`, whose source is the
    host's /proc entry rather than the sandbox's own: the same mount work.
FILEDIR must be readable by whoever runs bwrap; it is (re)written on every call.
"""

import grp
import json
import os
import pwd
import shlex
import sys

# What `bwrap --dev /dev` makes (bubblewrap.c, SETUP_MOUNT_DEV): a tmpfs, these device nodes bound
# from the host, these symlinks, and a new devpts instance on /dev/pts (/dev/shm only as a directory).
DEV_NODES = {"null", "zero", "full", "random", "urandom", "tty"}
DEV_LINKS = {
    "/dev/ptmx": "pts/ptmx",
    "/dev/fd": "/proc/self/fd",
    "/dev/stdin": "/proc/self/fd/0",
    "/dev/stdout": "/proc/self/fd/1",
    "/dev/stderr": "/proc/self/fd/2",
    "/dev/core": "/proc/kcore",
}
BIND_OPTION = {"read-only": "--ro-bind", "read-write": "--bind", "device": "--dev-bind"}


def die(message):
    sys.stderr.write(f"bench-bwrap-args: {message}\n")
    sys.exit(1)


def file_contents(plan, dst):
    """The bytes nestbox writes at dst (src/plan/build.rs, Builder::etc; src/plan/media.rs)."""
    uid, gid = plan["uid_map"]["inside"], plan["gid_map"]["inside"]
    host = plan["hostname"]
    if dst == "/etc/passwd":
        user = pwd.getpwuid(uid)
        return f"{user.pw_name}:x:{uid}:{gid}::{plan['home']}:{user.pw_shell}\n"
    if dst == "/etc/group":
        try:
            name = grp.getgrgid(gid).gr_name
        except KeyError:
            name = str(gid)
        return f"{name}:x:{gid}:\n"
    if dst == "/etc/hostname":
        return f"{host}\n"
    if dst == "/etc/hosts":
        return f"127.0.0.1\tlocalhost\n::1\tlocalhost\n127.0.1.1\t{host}\n"
    if dst == "/run/nestbox/pulse-client.conf":  # src/plan/media.rs, CLIENT_CONF_TEXT
        return "# Written by nestbox.\nenable-shm = no\nenable-memfd = no\nautospawn = no\n"
    die(f"no known contents for the generated file {dst} (the plan's JSON leaves them out)")


def describe(m):
    op = m["op"]
    if op in ("tmpfs", "dir"):
        return f"{op} {m['dst']} (mode {m['mode']:04o})"
    if op == "bind":
        src = "" if m["src"] == m["dst"] else f" <- {m['src']}"
        return f"bind {m['dst']}{src} ({m['kind']})"
    if op == "symlink":
        return f"symlink {m['dst']} -> {m['target']}"
    if op == "file":
        return f"file {m['dst']} (mode {m['mode']:04o}): {m['contents']['describe']}"
    return f"{op} {m['dst']}"


def in_dev_block(m):
    """Whether `--dev /dev` makes this step."""
    if m["op"] == "bind":
        return (
            m["kind"] == "device"
            and m["src"] == m["dst"]
            and os.path.dirname(m["dst"]) == "/dev"
            and os.path.basename(m["dst"]) in DEV_NODES
        )
    if m["op"] == "devpts":
        return m["dst"] == "/dev/pts"
    if m["op"] == "symlink":
        return DEV_LINKS.get(m["dst"]) == m["target"]
    return False


def translate(plan, filedir):
    """[(plan step, bwrap args, note)] for the whole command, in order."""
    rows = []
    ns = plan["namespaces"]
    if not (ns["user"] and ns["mount"]):
        die("the plan has no user or mount namespace; bwrap always makes both")
    unshare = [f"--unshare-{n}" for n in ("user", "pid", "ipc", "uts", "cgroup", "net") if ns[n]]
    rows.append(("namespaces: " + ", ".join(n for n in ns if ns[n]), unshare, "mount: always"))
    rows.append(
        (
            "die with nestbox; app in a new session",
            ["--die-with-parent", "--new-session"],
            "",
        )
    )
    uid, gid = plan["uid_map"], plan["gid_map"]
    rows.append(
        (
            f"uid {uid['inside']}, gid {gid['inside']} inside",
            ["--uid", str(uid["inside"]), "--gid", str(gid["inside"])],
            "",
        )
    )
    rows.append((f"host name {plan['hostname']}", ["--hostname", plan["hostname"]], ""))

    mounts = plan["mounts"]
    i = 0
    while i < len(mounts):
        m, n = mounts[i], i + 1
        op, dst = m["op"], m.get("dst")
        if op == "tmpfs" and dst == "/dev":
            # The block runs to the last step --dev makes; a tmpfs /dev/shm inside it is kept
            # and mounted right after --dev (bwrap makes /dev/shm only as a directory).
            j, shm = i + 1, []
            while j < len(mounts):
                if in_dev_block(mounts[j]):
                    j += 1
                elif mounts[j]["op"] == "tmpfs" and mounts[j]["dst"] == "/dev/shm" and not shm:
                    shm.append((j + 1, mounts[j]))
                    j += 1
                else:
                    break
            covered = len(mounts[i:j]) - len(shm)
            wanted = 1 + len(DEV_NODES) + 1 + len(DEV_LINKS)
            if covered != wanted or m["mode"] != 0o755:
                die("the plan's /dev differs from what `bwrap --dev` makes")
            rows.append(
                (
                    f"{n}-{j}. tmpfs /dev (mode 0755), {len(DEV_NODES)} device binds "
                    f"({', '.join(sorted(DEV_NODES))}), devpts /dev/pts, {len(DEV_LINKS)} symlinks "
                    "(ptmx, fd, stdin, stdout, stderr, core)"
                    + (f", except step {shm[0][0]}" if shm else ""),
                    ["--dev", "/dev"],
                    "no one-to-one form (bwrap has no devpts option): --dev makes this same set",
                )
            )
            for k, s in shm:
                rows.append(
                    (
                        f"{k}. {describe(s)}",
                        ["--perms", f"{s['mode']:04o}", "--tmpfs", s["dst"]],
                        "after the whole /dev block: --dev makes only a directory here",
                    )
                )
            i = j
            continue
        step = f"{n}. {describe(m)}"
        if op == "tmpfs":
            rows.append((step, ["--perms", f"{m['mode']:04o}", "--tmpfs", dst], ""))
        elif op == "bind":
            rows.append((step, [BIND_OPTION[m["kind"]], m["src"], dst], ""))
        elif op == "proc":
            rows.append((step, ["--proc", dst], ""))
        elif op == "dir":
            rows.append((step, ["--perms", f"{m['mode']:04o}", "--dir", dst], ""))
        elif op == "symlink":
            rows.append((step, ["--symlink", m["target"], dst], ""))
        elif op == "file":
            path = os.path.join(filedir, dst.lstrip("/"))
            os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
            with open(path, "w", encoding="utf-8") as f:
                f.write(file_contents(plan, dst))
            os.chmod(path, m["mode"])
            rows.append((step, ["--ro-bind", path, dst], "a bound copy, not a written file"))
        elif op == "protect":
            rows.append((step, ["--ro-bind-try", dst, dst], "source: the host's " + dst))
        elif op == "read-only":
            rows.append((step, ["--remount-ro", dst], ""))
        elif op == "launch-socket" and m["of"] == "pulse":
            rows.append(
                (
                    step,
                    ["--ro-bind", plan["audio"]["server"]["socket"], dst],
                    "the server's main socket: bwrap has no socket of the sandbox's own",
                )
            )
        else:
            die(f"step {n} ({op}) has no bwrap equivalent")
        i += 1

    env = plan["process"]["env"]
    env_args = ["--clearenv"]
    for k, v in env.items():
        env_args += ["--setenv", k, v]
    rows.append((f"environment: {len(env)} variables, nothing else", env_args, ""))
    rows.append(
        (f"working directory {plan['process']['cwd']}", ["--chdir", plan["process"]["cwd"]], "")
    )
    argv = plan["process"]["argv"]
    if argv[0] != plan["process"]["program"]:
        die("argv[0] differs from the program; bwrap 0.8 has no --argv0")
    rows.append((f"run {plan['process']['program']}", argv, ""))
    return rows


def main():
    if len(sys.argv) != 4 or sys.argv[3] not in ("--nul", "--shell", "--pretty", "--markdown"):
        die("usage: bench-bwrap-args.py PLAN.json FILEDIR --nul|--shell|--pretty|--markdown")
    with open(sys.argv[1], encoding="utf-8") as f:
        plan = json.load(f)
    rows = translate(plan, sys.argv[2])
    args = [a for _, row, _ in rows for a in row]
    mode = sys.argv[3]
    if mode == "--nul":
        sys.stdout.write("".join(a + "\0" for a in args))
    elif mode == "--shell":
        print(shlex.join(["bwrap"] + args))
    elif mode == "--pretty":
        lines = ["bwrap"]
        for _, row, _ in rows:
            if row[:1] == ["--clearenv"]:
                lines += ["--clearenv"] + [shlex.join(row[k : k + 3]) for k in range(1, len(row), 3)]
            else:
                lines.append(shlex.join(row))
        print(" \\\n    ".join(lines))
    else:
        print("| nestbox plan | bwrap | note |")
        print("|---|---|---|")
        for step, row, note in rows:
            print(f"| {step} | `{shlex.join(row)}` | {note} |")


if __name__ == "__main__":
    main()
