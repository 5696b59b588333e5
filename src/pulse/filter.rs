//! What a sandbox may ask of the user's sound server: the proxy's policy over one connection.
//!
//! [`Session`] sees every frame of one client connection, both ways, and says what to do with
//! it. A sandbox may do what a player, a recorder (if granted) and a volume control need for
//! their own streams; everything else is answered with an access error that the app can handle,
//! and the connection goes on. A frame that breaks the protocol ends the connection.

use super::wire::{self, Descriptor, Packet, WireError, CONTROL};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// What a profile grants beyond playing sound: its `[audio]` table.
pub use crate::profile::AudioAccess as Grants;

/// The commands the proxy reads (PulseAudio's native-common.h).
pub mod cmd {
    pub const ERROR: u32 = 0;
    pub const TIMEOUT: u32 = 1;
    pub const REPLY: u32 = 2;
    pub const CREATE_PLAYBACK_STREAM: u32 = 3;
    pub const DELETE_PLAYBACK_STREAM: u32 = 4;
    pub const CREATE_RECORD_STREAM: u32 = 5;
    pub const DELETE_RECORD_STREAM: u32 = 6;
    pub const AUTH: u32 = 8;
    pub const SET_CLIENT_NAME: u32 = 9;
    pub const LOOKUP_SINK: u32 = 10;
    pub const LOOKUP_SOURCE: u32 = 11;
    pub const DRAIN_PLAYBACK_STREAM: u32 = 12;
    pub const STAT: u32 = 13;
    pub const GET_PLAYBACK_LATENCY: u32 = 14;
    pub const PLAY_SAMPLE: u32 = 18;
    pub const GET_SERVER_INFO: u32 = 20;
    pub const GET_SINK_INFO: u32 = 21;
    pub const GET_SINK_INFO_LIST: u32 = 22;
    pub const GET_SOURCE_INFO: u32 = 23;
    pub const GET_SOURCE_INFO_LIST: u32 = 24;
    pub const GET_CLIENT_INFO: u32 = 27;
    pub const GET_CLIENT_INFO_LIST: u32 = 28;
    pub const GET_SINK_INPUT_INFO: u32 = 29;
    pub const GET_SINK_INPUT_INFO_LIST: u32 = 30;
    pub const GET_SOURCE_OUTPUT_INFO: u32 = 31;
    pub const GET_SOURCE_OUTPUT_INFO_LIST: u32 = 32;
    pub const SUBSCRIBE: u32 = 35;
    pub const SET_SINK_VOLUME: u32 = 36;
    pub const SET_SINK_INPUT_VOLUME: u32 = 37;
    pub const SET_SOURCE_VOLUME: u32 = 38;
    pub const SET_SINK_MUTE: u32 = 39;
    pub const SET_SOURCE_MUTE: u32 = 40;
    pub const CORK_PLAYBACK_STREAM: u32 = 41;
    pub const FLUSH_PLAYBACK_STREAM: u32 = 42;
    pub const TRIGGER_PLAYBACK_STREAM: u32 = 43;
    pub const SET_PLAYBACK_STREAM_NAME: u32 = 46;
    pub const SET_RECORD_STREAM_NAME: u32 = 47;
    pub const KILL_SINK_INPUT: u32 = 49;
    pub const KILL_SOURCE_OUTPUT: u32 = 50;
    pub const GET_RECORD_LATENCY: u32 = 57;
    pub const CORK_RECORD_STREAM: u32 = 58;
    pub const FLUSH_RECORD_STREAM: u32 = 59;
    pub const PREBUF_PLAYBACK_STREAM: u32 = 60;
    pub const PLAYBACK_STREAM_KILLED: u32 = 64;
    pub const RECORD_STREAM_KILLED: u32 = 65;
    pub const SET_SINK_INPUT_MUTE: u32 = 69;
    pub const SET_PLAYBACK_STREAM_BUFFER_ATTR: u32 = 72;
    pub const SET_RECORD_STREAM_BUFFER_ATTR: u32 = 73;
    pub const UPDATE_PLAYBACK_STREAM_SAMPLE_RATE: u32 = 74;
    pub const UPDATE_RECORD_STREAM_SAMPLE_RATE: u32 = 75;
    pub const UPDATE_RECORD_STREAM_PROPLIST: u32 = 80;
    pub const UPDATE_PLAYBACK_STREAM_PROPLIST: u32 = 81;
    pub const UPDATE_CLIENT_PROPLIST: u32 = 82;
    pub const REMOVE_RECORD_STREAM_PROPLIST: u32 = 83;
    pub const REMOVE_PLAYBACK_STREAM_PROPLIST: u32 = 84;
    pub const REMOVE_CLIENT_PROPLIST: u32 = 85;
    pub const GET_CARD_INFO: u32 = 88;
    pub const GET_CARD_INFO_LIST: u32 = 89;
    pub const SET_SOURCE_OUTPUT_VOLUME: u32 = 98;
    pub const SET_SOURCE_OUTPUT_MUTE: u32 = 99;
    pub const ENABLE_SRBCHANNEL: u32 = 101;
    pub const REGISTER_MEMFD_SHMID: u32 = 103;
}

/// Error codes of an ERROR reply (pa_error_code_t).
pub const ERR_ACCESS: u32 = 1;
pub const ERR_NOENTITY: u32 = 5;
pub const ERR_VERSION: u32 = 17;

/// The oldest protocol version served (PulseAudio 0.9.11, 2008): the first whose SET_CLIENT_NAME
/// reply names the client.
pub const MIN_VERSION: u32 = 13;
const VERSION_MASK: u32 = 0xFFFF;
/// Requests the server has not answered yet, at most.
const PENDING_MAX: usize = 4096;
/// The size of a PulseAudio cookie.
pub const COOKIE_LEN: usize = 256;

/// Commands that act only on the connection's own streams (by channel), on the server as a
/// reader sees it, or on the client itself: forwarded as they are. (Lists of streams and clients
/// are forwarded too, and their replies cut down to the client's own entries.)
const ALLOWED: &[u32] = &[
    cmd::LOOKUP_SINK,
    cmd::LOOKUP_SOURCE,
    cmd::DRAIN_PLAYBACK_STREAM,
    cmd::STAT,
    cmd::GET_PLAYBACK_LATENCY,
    cmd::PLAY_SAMPLE,
    cmd::GET_SERVER_INFO,
    cmd::GET_SINK_INFO,
    cmd::GET_SINK_INFO_LIST,
    cmd::GET_SOURCE_INFO,
    cmd::GET_SOURCE_INFO_LIST,
    cmd::SUBSCRIBE,
    cmd::CORK_PLAYBACK_STREAM,
    cmd::FLUSH_PLAYBACK_STREAM,
    cmd::TRIGGER_PLAYBACK_STREAM,
    cmd::SET_PLAYBACK_STREAM_NAME,
    cmd::SET_RECORD_STREAM_NAME,
    cmd::GET_RECORD_LATENCY,
    cmd::CORK_RECORD_STREAM,
    cmd::FLUSH_RECORD_STREAM,
    cmd::PREBUF_PLAYBACK_STREAM,
    cmd::SET_PLAYBACK_STREAM_BUFFER_ATTR,
    cmd::SET_RECORD_STREAM_BUFFER_ATTR,
    cmd::UPDATE_PLAYBACK_STREAM_SAMPLE_RATE,
    cmd::UPDATE_RECORD_STREAM_SAMPLE_RATE,
    cmd::UPDATE_RECORD_STREAM_PROPLIST,
    cmd::UPDATE_PLAYBACK_STREAM_PROPLIST,
    cmd::UPDATE_CLIENT_PROPLIST,
    cmd::REMOVE_RECORD_STREAM_PROPLIST,
    cmd::REMOVE_PLAYBACK_STREAM_PROPLIST,
    cmd::REMOVE_CLIENT_PROPLIST,
    cmd::GET_CARD_INFO,
    cmd::GET_CARD_INFO_LIST,
];

/// Why a connection was ended.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Violation {
    #[error(transparent)]
    Wire(#[from] WireError),
    #[error("a request before authentication")]
    NotAuthenticated,
    #[error("a second authentication")]
    Reauthentication,
    #[error("tag {0} reused before its reply")]
    TagInUse(u32),
    #[error("more than {PENDING_MAX} requests waiting for replies")]
    TooManyPending,
    #[error("the server offered shared memory, which was not asked for")]
    SharedMemory,
    #[error("a control packet of {0} bytes")]
    LargeControl(u32),
}

/// What to do with a frame from the client.
#[derive(Debug, PartialEq, Eq)]
pub enum ToServer {
    /// Forward it as it came.
    Forward,
    /// Send this AUTH frame to the server instead, with the helper's credentials.
    Authenticate(Vec<u8>),
    /// Do not forward it; send this frame back to the client.
    Answer(Vec<u8>),
    /// Do not forward it (a reply from the client: the server asked nothing).
    Drop,
}

/// What a forwarded request's reply tells the proxy.
#[derive(Debug, Clone, Copy)]
enum Expect {
    Auth {
        client_version: u32,
    },
    ClientName,
    Playback,
    Record,
    DeletePlayback(u32),
    DeleteRecord(u32),
    /// A list to cut down to the client's own entries.
    Own(List),
    Nothing,
}

/// The lists whose replies the proxy cuts down to the client's own entries.
#[derive(Debug, Clone, Copy)]
enum List {
    SinkInputs,
    SourceOutputs,
    Clients,
}

impl List {
    /// The values in one entry at protocol version `v`, as PulseAudio's protocol-native.c
    /// writes them (sink_input_fill_tagstruct, source_output_fill_tagstruct,
    /// client_fill_tagstruct), and which of them is the entry's client.
    fn layout(self, v: u32) -> (usize, usize) {
        let since = |n: u32, count: usize| if v >= n { count } else { 0 };
        match self {
            // index, name, module, client, sink, sample spec, channel map, volume, two
            // latencies, resample method, driver; muted; properties; corked; has volume, volume
            // writable; format.
            List::SinkInputs => (
                12 + since(11, 1) + since(13, 1) + since(19, 1) + since(20, 2) + since(21, 1),
                3,
            ),
            // index, name, module, client, source, sample spec, channel map, two latencies,
            // resample method, driver; properties; corked; volume, muted, has volume, volume
            // writable, format.
            List::SourceOutputs => (11 + since(13, 1) + since(19, 1) + since(22, 5), 3),
            // index, name, module, driver; properties.
            List::Clients => (4 + since(13, 1), 0),
        }
    }
}

/// What the connections of one sandbox share: the clients, sink inputs and source outputs the
/// server made for them. A stream is the sandbox's own whichever of its connections made it, so
/// a volume control inside sees and sets the sandbox's streams, and nothing of the host's.
#[derive(Debug, Default)]
pub struct Sandbox {
    clients: HashSet<u32>,
    inputs: HashSet<u32>,
    outputs: HashSet<u32>,
}

/// A [`Sandbox`] shared by its connections.
pub type Shared = Arc<Mutex<Sandbox>>;

/// One client connection's state.
pub struct Session {
    grants: Grants,
    cookie: [u8; COOKIE_LEN],
    /// Whether AUTH was forwarded.
    auth_sent: bool,
    /// The protocol version agreed with the server, once it answered AUTH.
    version: Option<u32>,
    /// Forwarded requests by tag, until their reply.
    pending: HashMap<u32, Expect>,
    /// The connection's playback streams: channel to sink input index.
    playback: HashMap<u32, u32>,
    /// Its record streams: channel to source output index.
    record: HashMap<u32, u32>,
    /// The client's own index on the server.
    client: Option<u32>,
    /// What all the sandbox's connections made.
    sandbox: Shared,
}

/// An ERROR reply to `tag`.
pub fn error_reply(tag: u32, code: u32) -> Vec<u8> {
    Packet::new(cmd::ERROR, tag).u32(code).finish()
}

impl Session {
    /// A connection of the sandbox `sandbox`, authenticated to the server with `cookie` (the
    /// sandbox's is never used).
    pub fn new(grants: Grants, cookie: [u8; COOKIE_LEN], sandbox: Shared) -> Session {
        Session {
            grants,
            cookie,
            auth_sent: false,
            version: None,
            pending: HashMap::new(),
            playback: HashMap::new(),
            record: HashMap::new(),
            client: None,
            sandbox,
        }
    }

    fn sandbox(&self) -> MutexGuard<'_, Sandbox> {
        self.sandbox.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The protocol version agreed, once the server answered.
    pub fn version(&self) -> Option<u32> {
        self.version
    }

    /// Judge a frame from the client: its descriptor (checked by [`Descriptor::parse`]) and
    /// payload.
    pub fn from_client(&mut self, d: &Descriptor, payload: &[u8]) -> Result<ToServer, Violation> {
        match d.channel {
            CONTROL => self.request(payload),
            _ => self.audio().map(|()| ToServer::Forward),
        }
    }

    /// Judge a frame of a stream's audio, by its descriptor alone: forwarded once the client
    /// has authenticated (the server checks that the channel is this connection's).
    pub fn audio(&self) -> Result<(), Violation> {
        match self.auth_sent {
            true => Ok(()),
            false => Err(Violation::NotAuthenticated),
        }
    }

    /// Judge a control packet from the client (its tagstruct).
    pub fn request(&mut self, payload: &[u8]) -> Result<ToServer, Violation> {
        let (h, mut r) = wire::control(payload)?;
        if !self.auth_sent {
            if h.command != cmd::AUTH {
                return Err(Violation::NotAuthenticated);
            }
            let version = r.u32()? & VERSION_MASK;
            r.arbitrary()?;
            if version < MIN_VERSION {
                return Ok(ToServer::Answer(error_reply(h.tag, ERR_VERSION)));
            }
            self.auth_sent = true;
            self.expect(
                h.tag,
                Expect::Auth {
                    client_version: version,
                },
            )?;
            // The client's version without the flags that ask for shared memory, and the
            // user's cookie.
            let auth = Packet::new(cmd::AUTH, h.tag)
                .u32(version)
                .arbitrary(&self.cookie)
                .finish();
            return Ok(ToServer::Authenticate(auth));
        }
        let refuse = |code| Ok(ToServer::Answer(error_reply(h.tag, code)));
        let expect = match h.command {
            cmd::AUTH => return Err(Violation::Reauthentication),
            cmd::ERROR | cmd::TIMEOUT | cmd::REPLY => return Ok(ToServer::Drop),
            cmd::SET_CLIENT_NAME => Expect::ClientName,
            cmd::CREATE_PLAYBACK_STREAM => Expect::Playback,
            cmd::DELETE_PLAYBACK_STREAM => Expect::DeletePlayback(r.u32()?),
            cmd::CREATE_RECORD_STREAM if self.grants.record => Expect::Record,
            cmd::DELETE_RECORD_STREAM => Expect::DeleteRecord(r.u32()?),
            cmd::GET_SINK_INPUT_INFO if !self.own_input(r.u32()?) => return refuse(ERR_NOENTITY),
            cmd::GET_SOURCE_OUTPUT_INFO if !self.own_output(r.u32()?) => {
                return refuse(ERR_NOENTITY)
            }
            cmd::GET_CLIENT_INFO if !self.sandbox().clients.contains(&r.u32()?) => {
                return refuse(ERR_NOENTITY)
            }
            cmd::GET_SINK_INPUT_INFO | cmd::GET_SOURCE_OUTPUT_INFO | cmd::GET_CLIENT_INFO => {
                Expect::Nothing
            }
            cmd::GET_SINK_INPUT_INFO_LIST => Expect::Own(List::SinkInputs),
            cmd::GET_SOURCE_OUTPUT_INFO_LIST => Expect::Own(List::SourceOutputs),
            cmd::GET_CLIENT_INFO_LIST => Expect::Own(List::Clients),
            cmd::SET_SINK_INPUT_VOLUME | cmd::SET_SINK_INPUT_MUTE | cmd::KILL_SINK_INPUT => {
                match self.own_input(r.u32()?) {
                    true => Expect::Nothing,
                    false => return refuse(ERR_ACCESS),
                }
            }
            cmd::SET_SOURCE_OUTPUT_VOLUME
            | cmd::SET_SOURCE_OUTPUT_MUTE
            | cmd::KILL_SOURCE_OUTPUT => match self.own_output(r.u32()?) {
                true => Expect::Nothing,
                false => return refuse(ERR_ACCESS),
            },
            cmd::SET_SINK_VOLUME
            | cmd::SET_SINK_MUTE
            | cmd::SET_SOURCE_VOLUME
            | cmd::SET_SOURCE_MUTE
                if self.grants.device_volume =>
            {
                Expect::Nothing
            }
            c if ALLOWED.contains(&c) => Expect::Nothing,
            c => {
                tracing::debug!("refused command {c} from the sandbox");
                return refuse(ERR_ACCESS);
            }
        };
        self.expect(h.tag, expect)?;
        Ok(ToServer::Forward)
    }

    fn own_input(&self, index: u32) -> bool {
        self.sandbox().inputs.contains(&index)
    }

    fn own_output(&self, index: u32) -> bool {
        self.sandbox().outputs.contains(&index)
    }

    /// Note a stream the server made for this connection, playback or record: its channel and
    /// its sink input or source output index.
    fn add_stream(&mut self, playback: bool, channel: u32, index: u32) {
        self.remove_stream(playback, channel);
        let mut sandbox = self.sandbox.lock().unwrap_or_else(PoisonError::into_inner);
        match playback {
            true => {
                self.playback.insert(channel, index);
                sandbox.inputs.insert(index);
            }
            false => {
                self.record.insert(channel, index);
                sandbox.outputs.insert(index);
            }
        }
    }

    /// Forget the stream on `channel` (deleted, or killed by the server).
    fn remove_stream(&mut self, playback: bool, channel: u32) {
        let mut sandbox = self.sandbox.lock().unwrap_or_else(PoisonError::into_inner);
        match playback {
            true => {
                if let Some(index) = self.playback.remove(&channel) {
                    sandbox.inputs.remove(&index);
                }
            }
            false => {
                if let Some(index) = self.record.remove(&channel) {
                    sandbox.outputs.remove(&index);
                }
            }
        }
    }

    /// Remember a forwarded request until its reply. A tag still waiting is never reused by
    /// libpulse: reused, it could make another command's reply look like this one's.
    fn expect(&mut self, tag: u32, what: Expect) -> Result<(), Violation> {
        if self.pending.contains_key(&tag) {
            return Err(Violation::TagInUse(tag));
        }
        if self.pending.len() >= PENDING_MAX {
            return Err(Violation::TooManyPending);
        }
        self.pending.insert(tag, what);
        Ok(())
    }

    /// Take note of a frame from the server on its way to the client; `payload` may be changed
    /// (the shared-memory flags of the AUTH reply are cleared), or a frame given to send instead
    /// (a list cut down to the client's own entries).
    pub fn from_server(
        &mut self,
        d: &Descriptor,
        payload: &mut [u8],
    ) -> Result<Option<Vec<u8>>, Violation> {
        if d.channel != CONTROL {
            return Ok(None);
        }
        let (h, mut r) = wire::header(payload)?;
        let expect = match h.command {
            cmd::REPLY | cmd::ERROR => self.pending.remove(&h.tag),
            cmd::PLAYBACK_STREAM_KILLED => {
                self.remove_stream(true, r.u32()?);
                None
            }
            cmd::RECORD_STREAM_KILLED => {
                self.remove_stream(false, r.u32()?);
                None
            }
            cmd::ENABLE_SRBCHANNEL | cmd::REGISTER_MEMFD_SHMID => {
                return Err(Violation::SharedMemory)
            }
            _ => None,
        };
        let Some(expect) = expect.filter(|_| h.command == cmd::REPLY) else {
            return Ok(None);
        };
        match expect {
            Expect::Auth { client_version } => {
                let at = r.position();
                let server = r.u32()?;
                let version = server & VERSION_MASK;
                wire::set_u32(payload, at, version)?;
                self.version = Some(version.min(client_version));
            }
            Expect::ClientName => {
                let client = r.u32()?;
                self.client = Some(client);
                self.sandbox().clients.insert(client);
            }
            Expect::Playback => {
                let channel = r.u32()?;
                self.add_stream(true, channel, r.u32()?);
            }
            Expect::Record => {
                let channel = r.u32()?;
                self.add_stream(false, channel, r.u32()?);
            }
            Expect::DeletePlayback(channel) => self.remove_stream(true, channel),
            Expect::DeleteRecord(channel) => self.remove_stream(false, channel),
            Expect::Own(list) => {
                // A reply that does not read as the list it should be becomes an empty list.
                let own = self.own_entries(list, &mut r).unwrap_or_default();
                return Ok(Some(Packet::new(cmd::REPLY, h.tag).raw(&own).finish()));
            }
            Expect::Nothing => {}
        }
        Ok(None)
    }

    /// The entries of a list reply (read by `r`, after the header) that belong to the sandbox's
    /// clients, as encoded.
    fn own_entries(&self, list: List, r: &mut wire::Reader<'_>) -> Result<Vec<u8>, WireError> {
        let (values, client_at) = list.layout(self.version.unwrap_or(MIN_VERSION));
        let mut own = Vec::new();
        while !r.at_end() {
            let start = r.position();
            let mut client = None;
            for i in 0..values {
                match i == client_at {
                    true => client = Some(r.u32()?),
                    false => r.skip()?,
                }
            }
            if client.is_some_and(|c| self.sandbox().clients.contains(&c)) {
                own.extend_from_slice(r.since(start));
            }
        }
        Ok(own)
    }
}

impl Drop for Session {
    /// The connection's client and streams are gone with it: no longer the sandbox's.
    fn drop(&mut self) {
        let mut sandbox = self.sandbox.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(c) = self.client {
            sandbox.clients.remove(&c);
        }
        for i in self.playback.values() {
            sandbox.inputs.remove(i);
        }
        for o in self.record.values() {
            sandbox.outputs.remove(o);
        }
    }
}

/// Judge a whole session given as bytes, the fuzz target's input (fuzz/fuzz_targets): a byte of
/// grants (bit 0 record, bit 1 device volumes), then frames, each after a byte saying its way (bit
/// 0 clear: from the sandbox; set: from the server). A frame cut short is judged on the bytes
/// there. Whatever the bytes, this returns.
#[doc(hidden)]
pub fn replay(data: &[u8]) {
    let Some((&first, mut rest)) = data.split_first() else {
        return;
    };
    let grants = Grants {
        record: first & 1 != 0,
        device_volume: first & 2 != 0,
    };
    let mut session = Session::new(grants, [0; COOKIE_LEN], Shared::default());
    while let Some((&way, tail)) = rest.split_first() {
        let Some(Ok(head)) = tail
            .get(..wire::DESCRIPTOR)
            .map(<[u8; wire::DESCRIPTOR]>::try_from)
        else {
            return;
        };
        let Ok(d) = Descriptor::parse(&head) else {
            return;
        };
        let body = &tail[wire::DESCRIPTOR..];
        let n = (d.length as usize).min(body.len());
        let mut payload = body[..n].to_vec();
        rest = &body[n..];
        if way & 1 == 0 {
            let _ = session.from_client(&d, &payload);
        } else {
            let _ = session.from_server(&d, &mut payload);
        }
    }
}

#[cfg(test)]
mod tests;
