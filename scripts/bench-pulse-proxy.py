#!/usr/bin/python3
"""What nestbox's sound proxy adds to sound, beside a direct connection to the same server, in one
run (scripts/bench-media runs this and writes the figures into docs/benchmarks-media.md):

- round trip: a request and its reply (STAT) on one connection, 2000 times each way, interleaved;
- connection set-up: connect, AUTH and SET_CLIENT_NAME, 300 times each way, interleaved; and
  `pactl info` as a whole, 100 times each way;
- pacat's reported latency while playing 48 kHz stereo (`pacat -v`, 20 ms target), 6 s each;
- loopback: a click written to pacat, found by parec on the sink's monitor, 40 clicks each way;
- the proxy's CPU time while pacat plays 48 kHz stereo through it for 20 s, at a 20 ms latency
  and at 200 ms (a player's buffer, mpv's default), beside socat relaying the same (the floor of
  any relay on the machine) and pacat's own.

usage: bench-pulse-proxy.py HELPER SERVER-SOCKET DIR OUT.json   (as the server's user)
"""
import json
import os
import re
import socket
import statistics
import struct
import subprocess
import sys
import threading
import time

helper_path, server, sockdir, out_path = sys.argv[1:5]
CONTROL = 0xFFFFFFFF
F_SETPIPE_SZ = 1031


def u32(v):
    return b"L" + struct.pack(">I", v)


def frame(payload):
    return struct.pack(">IIIII", len(payload), CONTROL, 0, 0, 0) + payload


def recv_exact(s, n):
    data = bytearray()
    while len(data) < n:
        chunk = s.recv(n - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return bytes(data)


def request(s, command, tag, body=b"", creds=False):
    """Send a request (with our credentials, as libpulse sends AUTH); its reply's command (2), or
    the error code of an ERROR as a negative."""
    data = frame(u32(command) + u32(tag) + body)
    if creds:
        ours = struct.pack("iII", os.getpid(), os.getuid(), os.getgid())
        sent = s.sendmsg([data], [(socket.SOL_SOCKET, socket.SCM_CREDENTIALS, ours)])
        data = data[sent:]
    s.sendall(data)
    while True:
        length, channel, _, _, _ = struct.unpack(">IIIII", recv_exact(s, 20))
        payload = recv_exact(s, length)
        if channel == CONTROL and struct.unpack(">I", payload[6:10])[0] == tag:
            reply = struct.unpack(">I", payload[1:5])[0]
            return reply if reply != 0 else -struct.unpack(">I", payload[11:15])[0]


def hello(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    cookie = bytes(256)
    got = request(s, 8, 0, u32(35) + b"x" + struct.pack(">I", 256) + cookie, creds=True)
    assert got == 2, f"AUTH on {path}: {got}"
    name = b"P" + b"tapplication.name\0" + u32(6) + b"x" + struct.pack(">I", 6) + b"bench\0" + b"N"
    got = request(s, 9, 1, name)
    assert got == 2, f"SET_CLIENT_NAME on {path}: {got}"
    return s


def pulse_env(path):
    env = dict(os.environ)
    env["PULSE_SERVER"] = "unix:" + path
    return env


helper = subprocess.Popen([helper_path, "--record", server, sockdir], stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE, text=True)
answer = helper.stdout.readline().strip()
if answer != "ready":
    sys.exit(f"bench-pulse-proxy: the helper answered {answer!r}")
proxy = os.path.join(sockdir, "native")
paths = {"direct": server, "proxy": proxy}
result = {}

# Round trips on one connection each.
conns = {k: hello(p) for k, p in paths.items()}
rtt = {k: [] for k in paths}
for i in range(2000):
    for k, s in conns.items():
        t = time.perf_counter()
        assert request(s, 13, 100 + i) == 2  # STAT
        rtt[k].append((time.perf_counter() - t) * 1e3)
for s in conns.values():
    s.close()
result["round_trip_ms"] = {k: statistics.median(v) for k, v in rtt.items()}

# Connection set-up.
setup = {k: [] for k in paths}
for _ in range(300):
    for k, p in paths.items():
        t = time.perf_counter()
        hello(p).close()
        setup[k].append((time.perf_counter() - t) * 1e3)
result["setup_ms"] = {k: statistics.median(v) for k, v in setup.items()}

# A whole libpulse client.
pactl = {k: [] for k in paths}
for _ in range(100):
    for k, p in paths.items():
        t = time.perf_counter()
        subprocess.run(["pactl", "info"], env=pulse_env(p), stdout=subprocess.DEVNULL, check=True)
        pactl[k].append((time.perf_counter() - t) * 1e3)
result["pactl_ms"] = {k: statistics.median(v) for k, v in pactl.items()}

# pacat's reported latency.
PCM = ["--raw", "--rate=48000", "--channels=2", "--format=s16le"]
reported = {}
for k, p in paths.items():
    with open("/dev/zero", "rb") as zero:
        r = subprocess.run(["timeout", "6", "pacat", "-v", "--latency-msec=20"] + PCM,
                           stdin=zero, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL,
                           env=pulse_env(p), text=True)
    text = r.stderr.split("Stream started", 1)[-1]
    values = [int(v) / 1000 for v in re.findall(r"Latency: (\d+) usec", text)]
    reported[k] = statistics.median(values) if values else None
result["pacat_latency_ms"] = reported


# Loopback: clicks written to pacat, found on the monitor by parec.
def loopback(path, clicks=40):
    rate, chunk = 48000, 480  # 10 ms chunks of mono s16
    fmt = ["--raw", f"--rate={rate}", "--channels=1", "--format=s16le", "--latency-msec=10"]
    rec = subprocess.Popen(["parec", "-d", "nullsink.monitor"] + fmt, stdout=subprocess.PIPE,
                           env=pulse_env(path))
    play = subprocess.Popen(["pacat"] + fmt, stdin=subprocess.PIPE, env=pulse_env(path))
    for pipe in (play.stdin, rec.stdout):
        try:
            import fcntl
            fcntl.fcntl(pipe.fileno(), F_SETPIPE_SZ, 4096)
        except OSError:
            pass
    sent, heard = [], []
    done = threading.Event()

    def listen():
        armed = False
        while not done.is_set():
            data = rec.stdout.read1(4096) if hasattr(rec.stdout, "read1") else rec.stdout.read(4096)
            if not data:
                return
            now = time.perf_counter()
            loud = any(abs(v) > 16000 for (v,) in struct.iter_unpack("<h", data[: len(data) // 2 * 2]))
            if loud and not armed and len(heard) < len(sent):
                heard.append(now)
                armed = True
            elif not loud:
                armed = False

    t = threading.Thread(target=listen, daemon=True)
    t.start()
    silence = bytes(chunk * 2)
    click = struct.pack("<h", 30000) * chunk
    start = time.perf_counter()
    n = 0
    while len(sent) < clicks and time.perf_counter() < start + 60:
        # Pace the writes at the audio's own rate.
        n += 1
        due = start + n * chunk / rate
        delay = due - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        if n > 50 and n % 30 == 0 and len(heard) == len(sent):
            play.stdin.write(click)
            play.stdin.flush()
            sent.append(time.perf_counter())
        else:
            play.stdin.write(silence)
            play.stdin.flush()
    time.sleep(0.5)
    done.set()
    play.kill()
    rec.kill()
    pairs = [h - s for s, h in zip(sent, heard)]
    return statistics.median(pairs) * 1e3 if pairs else None


result["loopback_ms"] = {k: loopback(p) for k, p in paths.items()}


# The proxy's CPU for 48 kHz stereo playback, beside socat relaying the same stream (a relay
# that reads nothing: the floor of any relay on this machine), and pacat's own. Shared memory
# off for all three (it cannot cross the proxy, nor socat).
def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


conf = os.path.join(sockdir, "..", "client.conf")
with open(conf, "w") as f:
    f.write("enable-shm = no\nenable-memfd = no\n")
socat_path = os.path.join(sockdir, "..", "socat")
socat = subprocess.Popen(["socat", f"UNIX-LISTEN:{socat_path},fork", f"UNIX-CONNECT:{server}"],
                         stderr=subprocess.DEVNULL)
time.sleep(0.3)
cpu = {}
runs = [(f"{via}_{ms}", via, p, ms) for ms in (20, 200) for via, p in [("proxy", proxy), ("socat", socat_path)]]
for name, via, path, ms in runs:
    env = dict(pulse_env(path), PULSE_CLIENTCONFIG=conf)
    with open("/dev/zero", "rb") as zero:
        play = subprocess.Popen(["pacat", f"--latency-msec={ms}"] + PCM, stdin=zero, env=env)
        time.sleep(1)
        if via == "proxy":
            relay = helper.pid
        else:
            kids = subprocess.run(["pgrep", "-P", str(socat.pid)], capture_output=True,
                                  text=True).stdout.split()
            relay = int(kids[0])
        r0, p0, t0 = cpu_seconds(relay), cpu_seconds(play.pid), time.perf_counter()
        time.sleep(20)
        r1, p1, t1 = cpu_seconds(relay), cpu_seconds(play.pid), time.perf_counter()
        play.kill()
    cpu[name] = (r1 - r0) / (t1 - t0) * 100
    cpu[name + "_client"] = (p1 - p0) / (t1 - t0) * 100
socat.kill()
result["cpu_percent"] = cpu

helper.stdin.close()
helper.wait()
json.dump(result, open(out_path, "w"), indent=1)
print(json.dumps(result, indent=1))
