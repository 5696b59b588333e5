#!/usr/bin/python3
"""Write fuzz/seeds/: sessions in the fuzz target's input format (a grants byte, then frames each
after a direction byte: 0 from the sandbox, 1 from the server), built from the commands the proxy
reads, so that cargo-fuzz starts from frames that pass the framing and the tagstruct walk."""
import os
import struct

C, S = 0, 1


def u32(v):
    return b"L" + struct.pack(">I", v)


def s(t):
    return b"t" + t.encode() + b"\0"


def x(b):
    return b"x" + struct.pack(">I", len(b)) + b


def props(**kv):
    out = b"P"
    for k, v in kv.items():
        v = v.encode() + b"\0"
        out += s(k) + u32(len(v)) + x(v)
    return out + b"N"


def ctl(way, *values):
    payload = b"".join(values)
    return bytes([way]) + struct.pack(">IIIII", len(payload), 0xFFFFFFFF, 0, 0, 0) + payload


def data(way, channel, n):
    return bytes([way]) + struct.pack(">IIIII", n, channel, 0, 0, 0) + bytes(n)


spec = b"a\x03\x02" + struct.pack(">I", 44100)
cmap = b"m\x02\x01\x02"
cvol = b"v\x02" + struct.pack(">II", 0x10000, 0x10000)
fmt = b"fB\x01" + props(**{"format.rate": "44100"})
hello = [
    ctl(C, u32(8), u32(0), u32(35 | 0xC0000000), x(bytes(256))),
    ctl(S, u32(2), u32(0), u32(35 | 0x80000000)),
    ctl(C, u32(9), u32(1), props(**{"application.name": "seed"})),
    ctl(S, u32(2), u32(1), u32(7)),
]
playback = [
    ctl(C, u32(3), u32(2), s("seed"), spec, cmap, u32(0xFFFFFFFF), b"N", u32(0xFFFFFFFF),
        b"0", u32(0), u32(0), u32(0), u32(0), cvol, b"1", b"0", props(**{"media.name": "t"}),
        b"B\x01", fmt),
    ctl(S, u32(2), u32(2), u32(0), u32(40), u32(4096), u32(4096), u32(4096), spec, cmap,
        u32(0), s("nullsink"), b"0", b"U" + bytes(8)),
    data(C, 0, 64),
    ctl(C, u32(37), u32(3), u32(40), cvol),
    ctl(C, u32(29), u32(4), u32(40)),
    ctl(C, u32(14), u32(5), u32(0), b"T" + struct.pack(">II", 1, 2), u32(0)),
    ctl(S, u32(64), u32(0xFFFFFFFF), u32(0)),
    ctl(C, u32(4), u32(6), u32(0)),
    ctl(S, u32(2), u32(6)),
]
# A sink input entry at version 35 (18 values), of client 7.
entry = (u32(40) + s("t") + u32(0xFFFFFFFF) + u32(7) + u32(0) + spec + cmap + cvol
         + b"U" + bytes(8) + b"U" + bytes(8) + s("speex") + s("protocol-native.c") + b"0"
         + props(**{"media.name": "t"}) + b"0" + b"1" + b"1" + fmt)
lists = [
    ctl(C, u32(30), u32(20)),
    ctl(S, u32(2), u32(20), entry, entry.replace(u32(7), u32(3), 1)),
    ctl(C, u32(28), u32(21)),
    ctl(S, u32(2), u32(21), u32(7), s("seed"), u32(0xFFFFFFFF), s("protocol-native.c"),
        props(**{"application.name": "seed"})),
]
refused = [
    ctl(C, u32(51), u32(10), s("module-null-sink"), s("sink_name=x")),
    ctl(C, u32(44), u32(11), u32(0xFFFFFFFF), s("nullsink")),
    ctl(C, u32(5), u32(12), u32(0xFFFFFFFF), s("nullsink.monitor"), spec, cmap),
    ctl(S, u32(0), u32(12), u32(1)),
    ctl(C, u32(36), u32(13), u32(0), b"N", cvol),
]
os.makedirs("seeds", exist_ok=True)
for name, grants, frames in [
    ("hello", 0, hello),
    ("playback", 0, hello + playback),
    ("refused", 0, hello + refused),
    ("granted", 3, hello + refused + playback),
    ("lists", 0, hello + playback[:2] + lists),
]:
    with open(f"seeds/{name}", "wb") as f:
        f.write(bytes([grants]) + b"".join(frames))
