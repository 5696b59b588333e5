//! The PulseAudio native protocol as it crosses a socket: frames, and the tagstruct values of the
//! control packets in them. Only what the proxy reads and writes, written for input from a
//! sandbox: every length is checked against the bytes that are there, nothing is allocated from a
//! length the peer names, and nothing here panics (`fuzz/` runs it on random input).
//!
//! A frame is a 20-byte descriptor (five big-endian u32: length, channel, offset high, offset
//! low, flags) and `length` bytes. Channel `u32::MAX` carries a control packet, a tagstruct
//! starting with a command and a tag; any other channel carries a stream's audio.

/// The descriptor's size in bytes.
pub const DESCRIPTOR: usize = 20;
/// The channel of control packets.
pub const CONTROL: u32 = u32::MAX;
/// The largest frame the server takes (its pstream's FRAME_SIZE_MAX_ALLOW).
pub const FRAME_MAX: u32 = 16 * 1024 * 1024;
/// The flag bits of shared-memory frames: a block id instead of data, never allowed here.
const FLAG_SHM_MASK: u32 = 0xFF00_0000;
/// Channels a tagstruct may name at most (PA_CHANNELS_MAX).
const CHANNELS_MAX: u8 = 32;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    #[error("a frame of {0} bytes (1 to {FRAME_MAX} allowed)")]
    Length(u32),
    #[error("a shared-memory frame (flags {0:#x}); shared memory is off")]
    SharedMemory(u32),
    #[error("a control packet with an offset or flags")]
    ControlFlags,
    #[error("a tagstruct cut short")]
    Truncated,
    #[error("unknown tagstruct tag {0:#04x}")]
    Tag(u8),
    #[error("expected {expected} in a tagstruct, found tag {found:#04x}")]
    Unexpected { expected: &'static str, found: u8 },
    #[error("invalid {0} in a tagstruct")]
    Invalid(&'static str),
}

/// A frame's descriptor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Descriptor {
    pub length: u32,
    pub channel: u32,
    pub offset_hi: u32,
    pub offset_lo: u32,
    pub flags: u32,
}

impl Descriptor {
    /// Read a descriptor and check what the proxy never forwards: an empty or oversized frame,
    /// a shared-memory one, or a control packet with an offset or flags.
    pub fn parse(bytes: &[u8; DESCRIPTOR]) -> Result<Descriptor, WireError> {
        let word =
            |i: usize| u32::from_be_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
        let d = Descriptor {
            length: word(0),
            channel: word(4),
            offset_hi: word(8),
            offset_lo: word(12),
            flags: word(16),
        };
        if d.length == 0 || d.length > FRAME_MAX {
            return Err(WireError::Length(d.length));
        }
        if d.flags & FLAG_SHM_MASK != 0 {
            return Err(WireError::SharedMemory(d.flags));
        }
        if d.channel == CONTROL && (d.offset_hi, d.offset_lo, d.flags) != (0, 0, 0) {
            return Err(WireError::ControlFlags);
        }
        Ok(d)
    }

    /// The descriptor of a control packet of `length` bytes.
    pub fn control(length: u32) -> Descriptor {
        Descriptor {
            length,
            channel: CONTROL,
            offset_hi: 0,
            offset_lo: 0,
            flags: 0,
        }
    }

    pub fn to_bytes(self) -> [u8; DESCRIPTOR] {
        let mut out = [0u8; DESCRIPTOR];
        let words = [
            self.length,
            self.channel,
            self.offset_hi,
            self.offset_lo,
            self.flags,
        ];
        for (chunk, w) in out.chunks_exact_mut(4).zip(words) {
            chunk.copy_from_slice(&w.to_be_bytes());
        }
        out
    }
}

/// Tagstruct tags.
mod tag {
    pub const STRING: u8 = b't';
    pub const STRING_NULL: u8 = b'N';
    pub const U32: u8 = b'L';
    pub const U8: u8 = b'B';
    pub const U64: u8 = b'R';
    pub const S64: u8 = b'r';
    pub const SAMPLE_SPEC: u8 = b'a';
    pub const ARBITRARY: u8 = b'x';
    pub const TRUE: u8 = b'1';
    pub const FALSE: u8 = b'0';
    pub const TIMEVAL: u8 = b'T';
    pub const USEC: u8 = b'U';
    pub const CHANNEL_MAP: u8 = b'm';
    pub const CVOLUME: u8 = b'v';
    pub const PROPLIST: u8 = b'P';
    pub const VOLUME: u8 = b'V';
    pub const FORMAT_INFO: u8 = b'f';
}

/// A reader over one control packet's tagstruct.
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Reader<'a> {
        Reader { buf, pos: 0 }
    }

    /// Where the next value starts.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// The bytes from `start` to where the next value starts.
    pub fn since(&self, start: usize) -> &'a [u8] {
        self.buf.get(start..self.pos).unwrap_or_default()
    }

    pub fn at_end(&self) -> bool {
        self.pos >= self.buf.len()
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], WireError> {
        let end = self.pos.checked_add(n).ok_or(WireError::Truncated)?;
        let bytes = self.buf.get(self.pos..end).ok_or(WireError::Truncated)?;
        self.pos = end;
        Ok(bytes)
    }

    fn byte(&mut self) -> Result<u8, WireError> {
        Ok(self.take(1)?[0])
    }

    fn be32(&mut self) -> Result<u32, WireError> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn expect(&mut self, want: u8, expected: &'static str) -> Result<(), WireError> {
        match self.byte()? {
            t if t == want => Ok(()),
            found => Err(WireError::Unexpected { expected, found }),
        }
    }

    /// A `u32` value.
    pub fn u32(&mut self) -> Result<u32, WireError> {
        self.expect(tag::U32, "a u32")?;
        self.be32()
    }

    /// An arbitrary (length-prefixed) value's bytes.
    pub fn arbitrary(&mut self) -> Result<&'a [u8], WireError> {
        self.expect(tag::ARBITRARY, "an arbitrary")?;
        let len = self.be32()? as usize;
        self.take(len)
    }

    /// A string's bytes without its NUL; `None` for the null string.
    pub fn string(&mut self) -> Result<Option<&'a [u8]>, WireError> {
        match self.byte()? {
            tag::STRING_NULL => Ok(None),
            tag::STRING => self.string_body().map(Some),
            found => Err(WireError::Unexpected {
                expected: "a string",
                found,
            }),
        }
    }

    fn string_body(&mut self) -> Result<&'a [u8], WireError> {
        let rest = self.buf.get(self.pos..).ok_or(WireError::Truncated)?;
        let len = rest
            .iter()
            .position(|&b| b == 0)
            .ok_or(WireError::Truncated)?;
        let s = self.take(len)?;
        self.pos += 1;
        Ok(s)
    }

    /// Step over one value of any type, checking that it is whole and well-formed.
    pub fn skip(&mut self) -> Result<(), WireError> {
        match self.byte()? {
            tag::STRING => self.string_body().map(drop),
            tag::STRING_NULL | tag::TRUE | tag::FALSE => Ok(()),
            tag::U32 | tag::VOLUME => self.take(4).map(drop),
            tag::U8 => self.take(1).map(drop),
            tag::U64 | tag::S64 | tag::USEC => self.take(8).map(drop),
            tag::TIMEVAL => {
                self.be32()?;
                match self.be32()? {
                    usec if usec < 1_000_000 => Ok(()),
                    _ => Err(WireError::Invalid("timeval")),
                }
            }
            tag::SAMPLE_SPEC => self.take(6).map(drop),
            tag::ARBITRARY => {
                let len = self.be32()? as usize;
                self.take(len).map(drop)
            }
            tag::CHANNEL_MAP => {
                let n = self.channels("channel map")?;
                self.take(n).map(drop)
            }
            tag::CVOLUME => {
                let n = self.channels("volume")?;
                self.take(n * 4).map(drop)
            }
            tag::PROPLIST => self.proplist_body(),
            tag::FORMAT_INFO => {
                self.expect(tag::U8, "a format encoding")?;
                self.take(1)?;
                self.expect(tag::PROPLIST, "a property list")?;
                self.proplist_body()
            }
            t => Err(WireError::Tag(t)),
        }
    }

    fn channels(&mut self, what: &'static str) -> Result<usize, WireError> {
        match self.byte()? {
            n if n <= CHANNELS_MAX => Ok(n as usize),
            _ => Err(WireError::Invalid(what)),
        }
    }

    /// Keys (non-null strings), each with a u32 length and an arbitrary of that length, up to a
    /// null string.
    fn proplist_body(&mut self) -> Result<(), WireError> {
        loop {
            let Some(key) = self.string()? else {
                return Ok(());
            };
            if key.is_empty() {
                return Err(WireError::Invalid("property name"));
            }
            let len = self.u32()?;
            if self.arbitrary()?.len() != len as usize {
                return Err(WireError::Invalid("property length"));
            }
        }
    }

    /// Step over every value left, checking each.
    pub fn skip_rest(&mut self) -> Result<(), WireError> {
        while !self.at_end() {
            self.skip()?;
        }
        Ok(())
    }
}

/// The command and tag that start every control packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub command: u32,
    pub tag: u32,
}

/// Read a control packet's header, check that the whole tagstruct is well-formed, and give a
/// reader positioned after the header: for packets from a sandbox.
pub fn control(payload: &[u8]) -> Result<(Header, Reader<'_>), WireError> {
    let (header, mut r) = header(payload)?;
    let body = r.position();
    r.skip_rest()?;
    r.pos = body;
    Ok((header, r))
}

/// Read a control packet's header only, and give a reader positioned after it: for packets from
/// the server, of which the proxy reads a few values and passes the rest on unread (a newer
/// server may use a value type this reader does not know).
pub fn header(payload: &[u8]) -> Result<(Header, Reader<'_>), WireError> {
    let mut r = Reader::new(payload);
    let header = Header {
        command: r.u32()?,
        tag: r.u32()?,
    };
    Ok((header, r))
}

/// A control packet, descriptor included, built from values.
pub struct Packet {
    bytes: Vec<u8>,
}

impl Packet {
    pub fn new(command: u32, tag: u32) -> Packet {
        let mut p = Packet {
            bytes: Descriptor::control(0).to_bytes().to_vec(),
        };
        p.u32(command).u32(tag);
        p
    }

    pub fn u32(&mut self, v: u32) -> &mut Packet {
        self.bytes.push(tag::U32);
        self.bytes.extend_from_slice(&v.to_be_bytes());
        self
    }

    pub fn arbitrary(&mut self, v: &[u8]) -> &mut Packet {
        self.bytes.push(tag::ARBITRARY);
        self.bytes
            .extend_from_slice(&(v.len() as u32).to_be_bytes());
        self.bytes.extend_from_slice(v);
        self
    }

    /// Values already encoded (a slice of another packet).
    pub fn raw(&mut self, values: &[u8]) -> &mut Packet {
        self.bytes.extend_from_slice(values);
        self
    }

    /// The frame: descriptor and tagstruct.
    pub fn finish(&mut self) -> Vec<u8> {
        let mut bytes = std::mem::take(&mut self.bytes);
        let length = (bytes.len() - DESCRIPTOR) as u32;
        bytes[..DESCRIPTOR].copy_from_slice(&Descriptor::control(length).to_bytes());
        bytes
    }
}

/// Replace the u32 value that starts at `at` in `payload` (a tag byte, then four bytes).
pub fn set_u32(payload: &mut [u8], at: usize, v: u32) -> Result<(), WireError> {
    match payload.get_mut(at..at + 5) {
        Some(slot) if slot[0] == tag::U32 => {
            slot[1..].copy_from_slice(&v.to_be_bytes());
            Ok(())
        }
        Some(slot) => Err(WireError::Unexpected {
            expected: "a u32",
            found: slot[0],
        }),
        None => Err(WireError::Truncated),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(bytes: &[u8]) -> Result<(), WireError> {
        Reader::new(bytes).skip_rest()
    }

    #[test]
    fn descriptors_out_of_bounds_are_refused() {
        let mut d = Descriptor::control(12);
        assert_eq!(Descriptor::parse(&d.to_bytes()), Ok(d));
        d.length = 0;
        assert_eq!(Descriptor::parse(&d.to_bytes()), Err(WireError::Length(0)));
        d.length = FRAME_MAX + 1;
        assert!(matches!(
            Descriptor::parse(&d.to_bytes()),
            Err(WireError::Length(_))
        ));
        d.length = 4;
        d.flags = 0x8000_0000;
        assert!(matches!(
            Descriptor::parse(&d.to_bytes()),
            Err(WireError::SharedMemory(_))
        ));
        d.channel = 3;
        d.flags = 0x4000_0000;
        assert!(Descriptor::parse(&d.to_bytes()).is_err(), "shm release");
        d.flags = 1; // a seek mode on a stream's data
        assert!(Descriptor::parse(&d.to_bytes()).is_ok());
        d.channel = CONTROL;
        assert_eq!(
            Descriptor::parse(&d.to_bytes()),
            Err(WireError::ControlFlags)
        );
    }

    #[test]
    fn every_value_type_is_walked_and_checked() {
        let mut ok = vec![b'L', 0, 0, 0, 3, b't', b'h', b'i', 0, b'N', b'1', b'0'];
        ok.extend([
            b'B', 7, b'R', 0, 0, 0, 0, 0, 0, 0, 1, b'U', 0, 0, 0, 0, 0, 0, 0, 1,
        ]);
        ok.extend([b'T', 0, 0, 0, 1, 0, 0, 0, 2, b'a', 3, 2, 0, 0, 0xac, 0x44]);
        ok.extend([b'm', 2, 1, 2, b'v', 1, 0, 1, 0, 0, b'V', 0, 1, 0, 0]);
        ok.extend([b'x', 0, 0, 0, 2, 9, 9]);
        ok.extend([
            b'P', b't', b'k', 0, b'L', 0, 0, 0, 1, b'x', 0, 0, 0, 1, b'v', b'N',
        ]);
        ok.extend([b'f', b'B', 1, b'P', b'N']);
        assert_eq!(values(&ok), Ok(()));
        // Every prefix cut inside a value is an error, never a panic.
        let mut boundaries = 0;
        for cut in 0..ok.len() {
            if values(&ok[..cut]).is_ok() {
                boundaries += 1;
            }
        }
        assert_eq!(boundaries, 16, "one cut at the start of each value");
    }

    #[test]
    fn lengths_beyond_the_packet_and_bad_values_are_errors() {
        assert_eq!(values(b"x\xff\xff\xff\xffab"), Err(WireError::Truncated));
        assert_eq!(values(b"tno nul"), Err(WireError::Truncated));
        assert_eq!(values(b"m\x21"), Err(WireError::Invalid("channel map")));
        assert_eq!(values(b"v\xff"), Err(WireError::Invalid("volume")));
        assert_eq!(
            values(b"T\0\0\0\x01\xff\xff\xff\xff"),
            Err(WireError::Invalid("timeval"))
        );
        assert_eq!(values(b"?"), Err(WireError::Tag(b'?')));
        // A property whose stated length differs from its value's.
        let bad = b"Ptk\0L\0\0\0\x05x\0\0\0\x01vN";
        assert_eq!(values(bad), Err(WireError::Invalid("property length")));
        // A proplist with no end.
        assert_eq!(
            values(b"Ptk\0L\0\0\0\x01x\0\0\0\x01v"),
            Err(WireError::Truncated)
        );
    }

    #[test]
    fn packets_are_built_and_read_back() {
        let frame = Packet::new(8, 1).u32(35).arbitrary(&[7; 4]).finish();
        let d = Descriptor::parse(frame[..DESCRIPTOR].try_into().unwrap()).unwrap();
        assert_eq!(d.length as usize, frame.len() - DESCRIPTOR);
        let (h, mut r) = control(&frame[DESCRIPTOR..]).unwrap();
        assert_eq!(h, Header { command: 8, tag: 1 });
        assert_eq!(r.u32(), Ok(35));
        assert_eq!(r.arbitrary(), Ok(&[7u8; 4][..]));
        assert!(r.at_end());
        let mut payload = frame[DESCRIPTOR..].to_vec();
        set_u32(&mut payload, 10, 13).unwrap();
        assert_eq!(control(&payload).unwrap().1.u32(), Ok(13));
        assert!(set_u32(&mut payload, 14, 1).is_err());
        assert!(set_u32(&mut payload, 100, 1).is_err());
    }
}
