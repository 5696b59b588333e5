#!/usr/bin/python3
"""A PulseAudio client that writes the native protocol by hand, run inside a sandbox by
tests/audio.rs: what libpulse clients never send (a refused command followed by another on the
same connection, garbage, an oversized frame), to show what the proxy does with it.

usage: rawclient.py refused-then-more | garbage | oversized | big-audio | big-control
       rawclient.py call COMMAND INDEX | many N
"""
import os
import socket
import struct
import sys

CONTROL = 0xFFFFFFFF


def u32(v):
    return b"L" + struct.pack(">I", v)


def string(s):
    return b"t" + s.encode() + b"\0"


def arbitrary(b):
    return b"x" + struct.pack(">I", len(b)) + b


def frame(payload):
    return struct.pack(">IIIII", len(payload), CONTROL, 0, 0, 0) + payload


def recv_exact(s, n):
    data = b""
    while len(data) < n:
        chunk = s.recv(n - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return data


def request(s, command, tag, body=b""):
    """Send a command; the reply's command and error code (0 for a REPLY)."""
    s.sendall(frame(u32(command) + u32(tag) + body))
    while True:
        length, channel, _, _, _ = struct.unpack(">IIIII", recv_exact(s, 20))
        payload = recv_exact(s, length)
        if channel != CONTROL:
            continue
        got_command, got_tag = struct.unpack(">I", payload[1:5])[0], struct.unpack(">I", payload[6:10])[0]
        if got_tag != tag:
            continue
        code = struct.unpack(">I", payload[11:15])[0] if got_command == 0 else 0
        return got_command, code


def connect():
    path = os.environ["PULSE_SERVER"].removeprefix("unix:")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    s.settimeout(10)
    return s


def hello(s):
    command, _ = request(s, 8, 0, u32(35) + arbitrary(bytes(256)))
    assert command == 2, f"AUTH answered {command}"
    name = b"P" + string("application.name") + u32(4) + arbitrary(b"raw\0") + b"N"
    command, _ = request(s, 9, 1, name)
    assert command == 2, f"SET_CLIENT_NAME answered {command}"


def closed(s):
    """Whether the other end closed the connection (no bytes, EOF) within the timeout."""
    try:
        while s.recv(4096):
            pass
        return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False


def many(n):
    """Open n connections at once and say how many were served; then close them and try one."""
    held, served = [], 0
    for _ in range(n):
        try:
            s = connect()
            hello(s)
            held.append(s)
            served += 1
        except (EOFError, OSError):
            pass
    print(f"served {served} of {n}")
    for s in held:
        s.close()
    for _ in range(50):  # the proxy notices the closed ones as its threads end
        try:
            s = connect()
            hello(s)
            print("one more: served")
            return
        except (EOFError, OSError):
            import time
            time.sleep(0.1)
    print("one more: refused")


def main():
    mode = sys.argv[1]
    if mode == "many":
        many(int(sys.argv[2]))
        return
    s = connect()
    hello(s)
    if mode == "refused-then-more":
        command, code = request(s, 51, 2, string("module-null-sink") + string("sink_name=raw"))
        print(f"load-module: command {command} error {code}")
        command, code = request(s, 20, 3)
        print(f"server-info: command {command} error {code}")
    elif mode == "call":
        # A command that takes an index (KILL_CLIENT 48, KILL_SINK_INPUT 49: pactl has neither).
        command, code = request(s, int(sys.argv[2]), 2, u32(int(sys.argv[3])))
        print(f"command {command} error {code}")
    elif mode == "garbage":
        s.sendall(frame(b"garbage, not a tagstruct"))
        print("garbage: closed" if closed(s) else "garbage: still open")
    elif mode == "big-audio":
        # 3 MiB of audio for a channel with no stream (the server drops it), then a request:
        # the frame crossed whole, in order.
        s.sendall(struct.pack(">IIIII", 3 << 20, 5, 0, 0, 0) + bytes(3 << 20))
        command, code = request(s, 20, 3)
        print(f"big-audio: command {command} error {code}")
    elif mode == "big-control":
        try:
            s.sendall(frame(u32(20) + u32(3) + arbitrary(bytes(2 << 20))))
            shut = closed(s)
        except (BrokenPipeError, ConnectionResetError):
            shut = True  # closed while it was still sending
        print("big-control: closed" if shut else "big-control: still open")
    elif mode == "oversized":
        s.sendall(struct.pack(">IIIII", 0x7FFFFFFF, CONTROL, 0, 0, 0) + bytes(64))
        print("oversized: closed" if closed(s) else "oversized: still open")


main()
