//! The policy, frame by frame, without sockets: what the sandbox sends, what the server answers.

use super::*;
use crate::pulse::wire::{Descriptor, Packet, DESCRIPTOR};

/// A control frame's descriptor and payload.
fn split(frame: Vec<u8>) -> (Descriptor, Vec<u8>) {
    let d = Descriptor::parse(frame[..DESCRIPTOR].try_into().unwrap()).unwrap();
    (d, frame[DESCRIPTOR..].to_vec())
}

fn send(s: &mut Session, frame: Vec<u8>) -> Result<ToServer, Violation> {
    let (d, payload) = split(frame);
    s.from_client(&d, &payload)
}

/// A frame from the server through the session: the payload the client gets.
fn answer(s: &mut Session, frame: Vec<u8>) -> Vec<u8> {
    let (d, mut payload) = split(frame);
    match s.from_server(&d, &mut payload).unwrap() {
        Some(instead) => split(instead).1,
        None => payload,
    }
}

fn refused(code: u32, tag: u32) -> Result<ToServer, Violation> {
    Ok(ToServer::Answer(error_reply(tag, code)))
}

/// A session past AUTH (version 35, shm asked and offered) and SET_CLIENT_NAME (client 7).
fn session(grants: Grants) -> Session {
    session_of(grants, Shared::default(), 7)
}

/// The same, as client `client` of the sandbox `sandbox`.
fn session_of(grants: Grants, sandbox: Shared, client: u32) -> Session {
    let mut s = Session::new(grants, [0xC0; COOKIE_LEN], sandbox);
    let auth = Packet::new(cmd::AUTH, 0)
        .u32(35 | 0xC000_0000)
        .arbitrary(&[1; 256])
        .finish();
    let ToServer::Authenticate(sent) = send(&mut s, auth).unwrap() else {
        panic!("AUTH is rewritten");
    };
    let (_, sent) = split(sent);
    let (h, mut r) = wire::control(&sent).unwrap();
    assert_eq!(h.command, cmd::AUTH);
    assert_eq!(r.u32(), Ok(35), "the shared-memory flags are cleared");
    assert_eq!(
        r.arbitrary(),
        Ok(&[0xC0; COOKIE_LEN][..]),
        "the user's cookie"
    );
    let reply = answer(
        &mut s,
        Packet::new(cmd::REPLY, 0).u32(34 | 0x8000_0000).finish(),
    );
    assert_eq!(wire::control(&reply).unwrap().1.u32(), Ok(34));
    assert_eq!(s.version(), Some(34));
    let name = Packet::new(cmd::SET_CLIENT_NAME, 1).finish();
    assert_eq!(send(&mut s, name), Ok(ToServer::Forward));
    answer(&mut s, Packet::new(cmd::REPLY, 1).u32(client).finish());
    s
}

/// A playback stream made: channel 0, sink input 40.
fn with_stream(s: &mut Session, tag: u32) {
    let create = Packet::new(cmd::CREATE_PLAYBACK_STREAM, tag).finish();
    assert_eq!(send(s, create), Ok(ToServer::Forward));
    answer(
        s,
        Packet::new(cmd::REPLY, tag)
            .u32(0)
            .u32(40)
            .u32(4096)
            .finish(),
    );
}

#[test]
fn nothing_before_auth_and_no_second_auth() {
    let mut s = Session::new(Grants::default(), [0; COOKIE_LEN], Shared::default());
    let info = Packet::new(cmd::GET_SERVER_INFO, 1).finish();
    assert_eq!(send(&mut s, info), Err(Violation::NotAuthenticated));
    let data = {
        let mut d = Descriptor::control(4);
        d.channel = 0;
        d
    };
    assert_eq!(
        s.from_client(&data, &[0; 4]),
        Err(Violation::NotAuthenticated)
    );
    let old = Packet::new(cmd::AUTH, 3)
        .u32(12)
        .arbitrary(&[0; 256])
        .finish();
    assert_eq!(send(&mut s, old), refused(ERR_VERSION, 3));
    let mut s = session(Grants::default());
    let again = Packet::new(cmd::AUTH, 9)
        .u32(35)
        .arbitrary(&[0; 256])
        .finish();
    assert_eq!(send(&mut s, again), Err(Violation::Reauthentication));
}

#[test]
fn what_changes_the_users_server_is_refused_and_the_connection_goes_on() {
    let mut s = session(Grants::default());
    let denied = [
        51,  // LOAD_MODULE
        52,  // UNLOAD_MODULE
        44,  // SET_DEFAULT_SINK
        45,  // SET_DEFAULT_SOURCE
        48,  // KILL_CLIENT
        67,  // MOVE_SINK_INPUT
        68,  // MOVE_SOURCE_OUTPUT
        70,  // SUSPEND_SINK
        90,  // SET_CARD_PROFILE
        96,  // SET_SINK_PORT
        100, // SET_PORT_LATENCY_OFFSET
        87,  // EXTENSION
        7,   // EXIT
        15,  // CREATE_UPLOAD_STREAM
        19,  // REMOVE_SAMPLE
        26,  // GET_MODULE_INFO_LIST
        34,  // GET_SAMPLE_INFO_LIST
        104, // SEND_OBJECT_MESSAGE
        cmd::SET_SINK_VOLUME,
        cmd::SET_SOURCE_MUTE,
        cmd::CREATE_RECORD_STREAM,
        9999,
    ];
    for (tag, command) in denied.into_iter().enumerate() {
        let tag = tag as u32 + 100;
        let p = Packet::new(command, tag).u32(0).finish();
        assert_eq!(
            send(&mut s, p),
            refused(ERR_ACCESS, tag),
            "command {command}"
        );
    }
    let info = Packet::new(cmd::GET_SINK_INFO_LIST, 5).finish();
    assert_eq!(send(&mut s, info), Ok(ToServer::Forward));
}

#[test]
fn own_streams_are_the_clients_and_others_are_not() {
    let mut s = session(Grants::default());
    with_stream(&mut s, 2);
    let volume = |tag, index| {
        Packet::new(cmd::SET_SINK_INPUT_VOLUME, tag)
            .u32(index)
            .finish()
    };
    assert_eq!(send(&mut s, volume(3, 40)), Ok(ToServer::Forward));
    assert_eq!(send(&mut s, volume(4, 41)), refused(ERR_ACCESS, 4));
    let info = |tag, index| {
        Packet::new(cmd::GET_SINK_INPUT_INFO, tag)
            .u32(index)
            .finish()
    };
    assert_eq!(send(&mut s, info(5, 40)), Ok(ToServer::Forward));
    assert_eq!(send(&mut s, info(6, 39)), refused(ERR_NOENTITY, 6));
    let client = |tag, index| Packet::new(cmd::GET_CLIENT_INFO, tag).u32(index).finish();
    assert_eq!(send(&mut s, client(7, 7)), Ok(ToServer::Forward));
    assert_eq!(send(&mut s, client(8, 6)), refused(ERR_NOENTITY, 8));
    let kill = Packet::new(cmd::KILL_SINK_INPUT, 9).u32(12).finish();
    assert_eq!(send(&mut s, kill), refused(ERR_ACCESS, 9));
    // Deleted, the stream is no longer the client's (its index could be another's later).
    let delete = Packet::new(cmd::DELETE_PLAYBACK_STREAM, 10).u32(0).finish();
    assert_eq!(send(&mut s, delete), Ok(ToServer::Forward));
    answer(&mut s, Packet::new(cmd::REPLY, 10).finish());
    assert_eq!(send(&mut s, volume(11, 40)), refused(ERR_ACCESS, 11));
    // Killed by the server, the same.
    with_stream(&mut s, 12);
    answer(
        &mut s,
        Packet::new(cmd::PLAYBACK_STREAM_KILLED, u32::MAX)
            .u32(0)
            .finish(),
    );
    assert_eq!(send(&mut s, volume(13, 40)), refused(ERR_ACCESS, 13));
}

#[test]
fn a_reused_tag_cannot_pass_one_reply_for_another() {
    let mut s = session(Grants::default());
    let stat = Packet::new(cmd::STAT, 20).finish();
    assert_eq!(send(&mut s, stat), Ok(ToServer::Forward));
    let create = Packet::new(cmd::CREATE_PLAYBACK_STREAM, 20).finish();
    assert_eq!(send(&mut s, create), Err(Violation::TagInUse(20)));
}

#[test]
fn grants_open_recording_and_device_volumes() {
    let grants = Grants {
        record: true,
        device_volume: true,
    };
    let mut s = session(grants);
    let rec = Packet::new(cmd::CREATE_RECORD_STREAM, 2).finish();
    assert_eq!(send(&mut s, rec), Ok(ToServer::Forward));
    answer(&mut s, Packet::new(cmd::REPLY, 2).u32(1).u32(30).finish());
    let mute = Packet::new(cmd::SET_SOURCE_OUTPUT_MUTE, 3).u32(30).finish();
    assert_eq!(send(&mut s, mute), Ok(ToServer::Forward));
    let sink = Packet::new(cmd::SET_SINK_VOLUME, 4).u32(0).finish();
    assert_eq!(send(&mut s, sink), Ok(ToServer::Forward));
    // Still refused with every grant.
    let load = Packet::new(51, 5).finish();
    assert_eq!(send(&mut s, load), refused(ERR_ACCESS, 5));
}

#[test]
fn malformed_packets_and_offered_shared_memory_end_the_connection() {
    let mut s = session(Grants::default());
    let mut frame = Packet::new(cmd::GET_SERVER_INFO, 30).finish();
    frame.push(b'?');
    let len = (frame.len() - DESCRIPTOR) as u32;
    frame[..4].copy_from_slice(&len.to_be_bytes());
    assert_eq!(
        send(&mut s, frame),
        Err(Violation::Wire(WireError::Tag(b'?')))
    );
    let short = Packet::new(cmd::SET_SINK_INPUT_VOLUME, 31).finish();
    assert_eq!(
        send(&mut s, short),
        Err(Violation::Wire(WireError::Truncated))
    );
    let srb = Packet::new(cmd::ENABLE_SRBCHANNEL, u32::MAX).finish();
    let (d, mut payload) = split(srb);
    assert_eq!(
        s.from_server(&d, &mut payload),
        Err(Violation::SharedMemory)
    );
    // The server's packets are read only as far as needed: a value type a newer server may add
    // passes.
    let mut info = Packet::new(cmd::REPLY, 40).finish();
    info.extend_from_slice(b"?future");
    let len = (info.len() - DESCRIPTOR) as u32;
    info[..4].copy_from_slice(&len.to_be_bytes());
    let (d, mut payload) = split(info);
    assert_eq!(s.from_server(&d, &mut payload), Ok(None));
    // Replies from the client are not the server's business.
    let reply = Packet::new(cmd::REPLY, 32).finish();
    assert_eq!(send(&mut s, reply), Ok(ToServer::Drop));
}

#[test]
fn random_mutations_of_whole_sessions_never_panic() {
    let seeds: [&[u8]; 5] = [
        include_bytes!("../../../fuzz/seeds/hello"),
        include_bytes!("../../../fuzz/seeds/playback"),
        include_bytes!("../../../fuzz/seeds/refused"),
        include_bytes!("../../../fuzz/seeds/granted"),
        include_bytes!("../../../fuzz/seeds/lists"),
    ];
    // xorshift64: the same inputs on every run.
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for seed in seeds {
        replay(seed);
    }
    for _ in 0..20_000 {
        let mut input = seeds[(next() % 5) as usize].to_vec();
        for _ in 0..1 + next() % 8 {
            let at = (next() as usize) % input.len();
            match next() % 4 {
                0 => input[at] = next() as u8,
                1 => input[at] ^= 1 << (next() % 8),
                2 => drop(input.remove(at)),
                _ => input.insert(at, [0, 0xff, b'L', b'x', b'P', b'N'][(next() % 6) as usize]),
            }
            if input.is_empty() {
                input.push(0);
            }
        }
        replay(&input);
    }
}

/// One sink input entry at version 34 (18 values), of client `client`.
fn sink_input(index: u32, client: u32) -> Vec<u8> {
    let mut p = Packet::new(0, 0);
    p.u32(index)
        .raw(b"tname\0")
        .u32(u32::MAX)
        .u32(client)
        .u32(0);
    p.raw(b"a\x03\x02\0\0\xac\x44")
        .raw(b"m\x02\x01\x02")
        .raw(b"v\x01\0\x01\0\0");
    p.raw(&[b'U', 0, 0, 0, 0, 0, 0, 0, 1])
        .raw(&[b'U', 0, 0, 0, 0, 0, 0, 0, 2]);
    p.raw(b"tspeex\0").raw(b"tprotocol-native.c\0").raw(b"0");
    p.raw(b"Ptmedia.name\0L\0\0\0\x02x\0\0\0\x02a\0N")
        .raw(b"01")
        .raw(b"1");
    p.raw(b"fB\x01PN");
    // The entry alone: what follows the placeholder header (command 0, tag 0).
    p.finish()[DESCRIPTOR + 10..].to_vec()
}

#[test]
fn lists_of_streams_and_clients_hold_only_the_clients_own() {
    let mut s = session(Grants::default());
    let list = Packet::new(cmd::GET_SINK_INPUT_INFO_LIST, 50).finish();
    assert_eq!(send(&mut s, list), Ok(ToServer::Forward));
    // The host's stream (client 3), the sandbox's (client 7), another host stream (client 4).
    let mut reply = Packet::new(cmd::REPLY, 50);
    reply
        .raw(&sink_input(10, 3))
        .raw(&sink_input(11, 7))
        .raw(&sink_input(12, 4));
    let got = answer(&mut s, reply.finish());
    let mut expected = Packet::new(cmd::REPLY, 50);
    expected.raw(&sink_input(11, 7));
    assert_eq!(got, split(expected.finish()).1);
    // A reply that does not read as the list becomes an empty one.
    let list = Packet::new(cmd::GET_CLIENT_INFO_LIST, 51).finish();
    assert_eq!(send(&mut s, list), Ok(ToServer::Forward));
    let got = answer(&mut s, Packet::new(cmd::REPLY, 51).u32(7).finish());
    assert_eq!(got, split(Packet::new(cmd::REPLY, 51).finish()).1);
}

#[test]
fn a_stream_is_the_sandboxs_whichever_of_its_connections_made_it() {
    let sandbox = Shared::default();
    let mut player = session_of(Grants::default(), sandbox.clone(), 7);
    let mut mixer = session_of(Grants::default(), sandbox.clone(), 8);
    let mut other = session_of(Grants::default(), Shared::default(), 9);
    with_stream(&mut player, 2);
    let volume = |tag| {
        Packet::new(cmd::SET_SINK_INPUT_VOLUME, tag)
            .u32(40)
            .finish()
    };
    assert_eq!(send(&mut mixer, volume(3)), Ok(ToServer::Forward));
    assert_eq!(send(&mut other, volume(3)), refused(ERR_ACCESS, 3));
    let client = |tag, index| Packet::new(cmd::GET_CLIENT_INFO, tag).u32(index).finish();
    assert_eq!(send(&mut mixer, client(4, 7)), Ok(ToServer::Forward));
    // The player's connection closed: its client and stream are no longer the sandbox's.
    drop(player);
    assert_eq!(send(&mut mixer, volume(5)), refused(ERR_ACCESS, 5));
    assert_eq!(send(&mut mixer, client(6, 7)), refused(ERR_NOENTITY, 6));
}
