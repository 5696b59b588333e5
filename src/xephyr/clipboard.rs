//! The clipboard bridge of a nested display, for profiles that ask for one (`[nested] clipboard`).
//! A process of nestbox's, outside the sandbox, that is an X client of both displays: when text is
//! copied (CLIPBOARD) on one side it fetches it as UTF8_STRING and takes the CLIPBOARD of the other
//! side, where it hands the text to whoever pastes. Text only, CLIPBOARD only (not PRIMARY), in the
//! directions the profile allows; it ends when either display does, or with nestbox.

use super::{memfd, XephyrError};
use crate::profile::Clipboard;
use nix::errno::Errno;
use std::os::fd::AsRawFd;
use xcb::{x, xfixes, Xid};

/// The largest text passed across, in bytes (larger needs the INCR protocol, which is not spoken).
const MAX_TEXT: u32 = 4 << 20;

/// A running bridge; dropping it stops it.
pub struct Bridge {
    pid: libc::pid_t,
}

impl Drop for Bridge {
    fn drop(&mut self) {
        // SAFETY: kill and reap our own child.
        unsafe {
            libc::kill(self.pid, libc::SIGKILL);
            libc::waitpid(self.pid, std::ptr::null_mut(), 0);
        }
    }
}

/// Fork the bridge between the host display and nested display `number` (whose cookie is given).
pub fn start(
    host: &str,
    number: u32,
    cookie: &[u8],
    direction: Clipboard,
) -> Result<Bridge, XephyrError> {
    let entry = crate::host::XauthEntry {
        family: crate::host::FAMILY_WILD,
        address: Vec::new(),
        number: number.to_string().into_bytes(),
        name: crate::host::MIT_MAGIC_COOKIE.to_vec(),
        data: cookie.to_vec(),
    };
    let auth = memfd(
        c"nestbox-clipboard-auth",
        &crate::host::write_xauthority(&[entry]),
    )?;
    // SAFETY: getpid has no preconditions.
    let parent = unsafe { libc::getpid() };
    // The child goes on in nestbox's memory (it allocates, talks X): only safe with no other
    // thread that could have held a lock at the fork.
    if !crate::sandbox::single_threaded() {
        return Err(XephyrError::Threaded);
    }
    // SAFETY: nestbox is single-threaded (checked above); the child only runs the bridge and exits.
    match unsafe { libc::fork() } {
        -1 => Err(XephyrError::Os {
            what: "fork the clipboard bridge",
            errno: Errno::last(),
        }),
        0 => {
            // SAFETY: plain process-attribute calls in the new child.
            unsafe {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                if libc::getppid() != parent {
                    libc::_exit(0);
                }
                libc::setsid();
                // Hold nothing of nestbox's but the cookie: not the sound helper's pipe, whose
                // closing tells it the sandbox is done.
                let keep = auth.as_raw_fd() as libc::c_uint;
                libc::syscall(libc::SYS_close_range, 3u32, keep - 1, 0u32);
                libc::syscall(libc::SYS_close_range, keep + 1, u32::MAX, 0u32);
            }
            let nested = format!(":{number}");
            let auth_path = format!("/proc/self/fd/{}", auth.as_raw_fd());
            let code = match run(host, &nested, &auth_path, direction) {
                Ok(()) => 0,
                Err(e) => {
                    tracing::debug!("clipboard bridge ends: {e}");
                    1
                }
            };
            // SAFETY: leave without running the parent's destructors in this copy of it.
            unsafe { libc::_exit(code) }
        }
        pid => Ok(Bridge { pid }),
    }
}

struct Atoms {
    clipboard: x::Atom,
    utf8: x::Atom,
    text: x::Atom,
    targets: x::Atom,
    property: x::Atom,
}

/// One display's end: a hidden window that owns the CLIPBOARD and receives conversions.
struct Side {
    conn: xcb::Connection,
    window: x::Window,
    atoms: Atoms,
    /// The text this side serves while it owns the CLIPBOARD.
    text: Option<Vec<u8>>,
    /// Whether text copied on this side goes to the other.
    gives: bool,
    /// A conversion this side asked for and has no answer to yet: only its answer is taken.
    asked: bool,
}

impl Side {
    /// Ask the CLIPBOARD's owner on this side for its text, into our window's property.
    fn request_text(&mut self, time: x::Timestamp) -> BridgeResult<()> {
        self.asked = true;
        self.conn.send_request(&x::ConvertSelection {
            requestor: self.window,
            selection: self.atoms.clipboard,
            target: self.atoms.utf8,
            property: self.atoms.property,
            time,
        });
        self.conn.flush()?;
        Ok(())
    }
}

type BridgeResult<T> = Result<T, Box<dyn std::error::Error>>;

fn open(display: &str, gives: bool) -> BridgeResult<Side> {
    crate::host::libxcb()?;
    let (conn, screen) =
        xcb::Connection::connect_with_extensions(Some(display), &[xcb::Extension::XFixes], &[])?;
    let setup = conn.get_setup();
    let root = setup
        .roots()
        .nth(usize::try_from(screen).unwrap_or(0))
        .ok_or("no screen")?
        .root();
    let version = conn.send_request(&xfixes::QueryVersion {
        client_major_version: 5,
        client_minor_version: 0,
    });
    conn.wait_for_reply(version)?;
    let intern = |name: &str| -> BridgeResult<x::Atom> {
        let c = conn.send_request(&x::InternAtom {
            only_if_exists: false,
            name: name.as_bytes(),
        });
        Ok(conn.wait_for_reply(c)?.atom())
    };
    let atoms = Atoms {
        clipboard: intern("CLIPBOARD")?,
        utf8: intern("UTF8_STRING")?,
        text: intern("TEXT")?,
        targets: intern("TARGETS")?,
        property: intern("NESTBOX_CLIPBOARD")?,
    };
    let window: x::Window = conn.generate_id();
    conn.send_and_check_request(&x::CreateWindow {
        depth: x::COPY_FROM_PARENT as u8,
        wid: window,
        parent: root,
        x: -10,
        y: -10,
        width: 1,
        height: 1,
        border_width: 0,
        class: x::WindowClass::InputOnly,
        visual: x::COPY_FROM_PARENT,
        value_list: &[],
    })?;
    conn.send_and_check_request(&xfixes::SelectSelectionInput {
        window,
        selection: atoms.clipboard,
        event_mask: xfixes::SelectionEventMask::SET_SELECTION_OWNER,
    })?;
    Ok(Side {
        conn,
        window,
        atoms,
        text: None,
        gives,
        asked: false,
    })
}

fn run(host: &str, nested: &str, nested_auth: &str, direction: Clipboard) -> BridgeResult<()> {
    let host_side = open(host, matches!(direction, Clipboard::In | Clipboard::Both))?;
    // The nested server's cookie: libxcb reads it from the file XAUTHORITY names.
    std::env::set_var("XAUTHORITY", nested_auth);
    let nested_side = open(
        nested,
        matches!(direction, Clipboard::Out | Clipboard::Both),
    )?;
    let mut sides = [host_side, nested_side];
    // Text copied before the bridge started: XFixes tells of changes only.
    for side in &mut sides {
        let owner = side.conn.send_request(&x::GetSelectionOwner {
            selection: side.atoms.clipboard,
        });
        if side.gives && !side.conn.wait_for_reply(owner)?.owner().is_none() {
            side.request_text(x::CURRENT_TIME)?;
        }
    }
    loop {
        let mut fds = [0, 1].map(|i| libc::pollfd {
            fd: sides[i].conn.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        });
        // SAFETY: two valid pollfds.
        if unsafe { libc::poll(fds.as_mut_ptr(), 2, -1) } < 0 && Errno::last() != Errno::EINTR {
            return Err("poll failed".into());
        }
        for i in 0..2 {
            loop {
                let event = match sides[i].conn.poll_for_event() {
                    Ok(Some(event)) => event,
                    Ok(None) => break,
                    // An error for one of our requests (a requestor window a client named that
                    // is gone, say): that request is lost, the bridge goes on.
                    Err(xcb::Error::Protocol(e)) => {
                        tracing::debug!("clipboard bridge: {e:?}");
                        continue;
                    }
                    Err(e) => return Err(e.into()),
                };
                let (this, other) = pair(&mut sides, i);
                match handle(this, other, event) {
                    Err(e)
                        if matches!(
                            e.downcast_ref::<xcb::Error>(),
                            Some(xcb::Error::Protocol(_))
                        ) =>
                    {
                        tracing::debug!("clipboard bridge: {e}");
                    }
                    r => r?,
                }
            }
        }
    }
}

/// Side `i` and the other one, both mutable.
fn pair(sides: &mut [Side; 2], i: usize) -> (&mut Side, &mut Side) {
    let (a, b) = sides.split_at_mut(1);
    if i == 0 {
        (&mut a[0], &mut b[0])
    } else {
        (&mut b[0], &mut a[0])
    }
}

fn handle(this: &mut Side, other: &mut Side, event: xcb::Event) -> BridgeResult<()> {
    let a = &this.atoms;
    match event {
        // Someone else took this side's CLIPBOARD: ask them for the text.
        xcb::Event::XFixes(xfixes::Event::SelectionNotify(ev))
            if this.gives
                && ev.selection() == a.clipboard
                && ev.owner() != this.window
                && !ev.owner().is_none() =>
        {
            this.request_text(ev.selection_timestamp())?;
        }
        // The text arrived: serve it on the other side. Only the answer to a conversion this
        // side asked for, in a direction the profile allows: any client of a display can send
        // the bridge a SelectionNotify (SendEvent), and set the property it names.
        xcb::Event::X(x::Event::SelectionNotify(ev))
            if this.gives
                && this.asked
                && ev.requestor() == this.window
                && ev.selection() == a.clipboard
                && ev.target() == a.utf8 =>
        {
            this.asked = false;
            if ev.property() != a.property {
                return Ok(());
            }
            let c = this.conn.send_request(&x::GetProperty {
                delete: true,
                window: this.window,
                property: a.property,
                r#type: x::ATOM_ANY,
                long_offset: 0,
                long_length: MAX_TEXT / 4,
            });
            let reply = this.conn.wait_for_reply(c)?;
            // Text, in bytes (format 8), whole (no INCR, nothing left over); anything else is
            // dropped. The format is checked first: reading another as bytes would panic.
            let text_type = [a.utf8, x::ATOM_STRING, a.text].contains(&reply.r#type());
            if text_type && reply.format() == 8 && reply.bytes_after() == 0 {
                other.text = Some(reply.value::<u8>().to_vec());
                other.conn.send_request(&x::SetSelectionOwner {
                    owner: other.window,
                    selection: other.atoms.clipboard,
                    time: x::CURRENT_TIME,
                });
                other.conn.flush()?;
            }
        }
        // A paste on this side, from the text we hold.
        xcb::Event::X(x::Event::SelectionRequest(ev)) => {
            let property = if ev.property().is_none() {
                ev.target()
            } else {
                ev.property()
            };
            let served = match &this.text {
                Some(_) if ev.target() == a.targets => {
                    let list = [a.targets, a.utf8, x::ATOM_STRING, a.text];
                    this.conn.send_request(&x::ChangeProperty {
                        mode: x::PropMode::Replace,
                        window: ev.requestor(),
                        property,
                        r#type: x::ATOM_ATOM,
                        data: &list,
                    });
                    true
                }
                Some(text) if [a.utf8, x::ATOM_STRING, a.text].contains(&ev.target()) => {
                    this.conn.send_request(&x::ChangeProperty {
                        mode: x::PropMode::Replace,
                        window: ev.requestor(),
                        property,
                        r#type: a.utf8,
                        data: text.as_slice(),
                    });
                    true
                }
                _ => false,
            };
            let notify = x::SelectionNotifyEvent::new(
                ev.time(),
                ev.requestor(),
                ev.selection(),
                ev.target(),
                if served { property } else { x::ATOM_NONE },
            );
            this.conn.send_request(&x::SendEvent {
                propagate: false,
                destination: x::SendEventDest::Window(ev.requestor()),
                event_mask: x::EventMask::NO_EVENT,
                event: &notify,
            });
            this.conn.flush()?;
        }
        xcb::Event::X(x::Event::SelectionClear(_)) => this.text = None,
        _ => {}
    }
    Ok(())
}
