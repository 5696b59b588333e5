//! The seccomp layer: the system calls an app inside may not make, compiled to BPF before clone
//! and applied last before exec (in `sandbox`). What is refused is the plan's to say
//! ([`SeccompPlan`]); this module knows system calls, their names, and BPF.
//!
//! Refused calls fail with EPERM, as they would for an unprivileged process, so apps take their
//! usual fallbacks. Two refusals are not by name: the TIOCSTI and TIOCLINUX ioctls (typing into,
//! or reading, the terminal the app was started from; only the low 32 bits of the request are
//! compared, as the kernel does, the CVE-2019-10063 lesson), and personality() beyond PER_LINUX.
//! New user namespaces are refused unless the profile allows them: unshare() and clone() with
//! CLONE_NEWUSER get EPERM, and clone3() gets ENOSYS (its flags sit in memory a filter cannot
//! read), which makes glibc fall back to clone().
//!
//! On x86_64, i386 programs (Steam's and Wine's 32-bit parts) get the same refusals by their own
//! numbers from a filter of their own (`i386`); x32 calls are refused outright.

#[cfg(target_arch = "x86_64")]
mod i386;
#[cfg(target_arch = "x86_64")]
pub mod syscalls;

use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule, TargetArch,
};
use serde::Serialize;
use std::collections::BTreeMap;

/// Refused by default: kernel keyrings, BPF, perf, userfaultfd and io_uring (a large share of
/// recent kernel exploits), module and kexec loading, the mount API old and new, file handles
/// (open_by_handle_at escaped Docker), accounting, swap, reboot, the clock, ptrace and the calls
/// that read or write another process's memory, take its descriptors or move its pages, modify_ldt, the kernel log,
/// and a few relics.
pub const DEFAULT_DENY: &[&str] = &[
    "acct",
    "add_key",
    "bpf",
    "clock_adjtime",
    "clock_settime",
    "delete_module",
    "finit_module",
    "fsconfig",
    "fsmount",
    "fsopen",
    "fspick",
    "init_module",
    "io_uring_enter",
    "io_uring_register",
    "io_uring_setup",
    "kcmp",
    "kexec_file_load",
    "kexec_load",
    "keyctl",
    "lookup_dcookie",
    "migrate_pages",
    "modify_ldt",
    "mount",
    "mount_setattr",
    "move_mount",
    "move_pages",
    "open_by_handle_at",
    "open_tree",
    "open_tree_attr",
    "perf_event_open",
    "pidfd_getfd",
    "pivot_root",
    "process_vm_readv",
    "process_vm_writev",
    "ptrace",
    "quotactl",
    "reboot",
    "request_key",
    "settimeofday",
    "swapoff",
    "swapon",
    "syslog",
    "umount2",
    "uselib",
    "userfaultfd",
    "vhangup",
];

/// What the filter refuses, as the plan decides it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct SeccompPlan {
    /// System calls refused with EPERM, by name, sorted.
    pub deny: Vec<String>,
    /// Whether the app may make new user namespaces (Firefox and Chromium sandbox themselves so).
    pub user_namespaces: bool,
    /// The architectures whose calls the filter judges by these names (x86_64 and i386 on an
    /// x86_64 machine; x32 calls are refused outright); empty when nestbox has no table of this
    /// machine's calls, and then no filter is installed.
    #[serde(default = "native_architectures")]
    pub architectures: Vec<String>,
}

/// The architectures this build has a filter for.
pub fn native_architectures() -> Vec<String> {
    if cfg!(target_arch = "x86_64") {
        vec!["x86_64".into(), "i386".into()]
    } else {
        Vec::new()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SeccompError {
    #[error("{0:?} is not a system call nestbox knows on this machine")]
    UnknownSyscall(String),
    #[error("cannot build the seccomp filter: {0}")]
    Build(String),
}

/// The number of system call `name` on this machine.
pub fn number(name: &str) -> Option<i64> {
    #[cfg(target_arch = "x86_64")]
    {
        syscalls::SYSCALLS
            .binary_search_by(|(n, _)| n.cmp(&name))
            .ok()
            .map(|i| syscalls::SYSCALLS[i].1)
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = name;
        None
    }
}

/// Whether this build knows the machine's system calls: x86_64 only, for now. Elsewhere nestbox
/// runs without a filter and says so (explain, and a line on stderr at launch).
pub const AVAILABLE: bool = cfg!(target_arch = "x86_64");

const TIOCSTI: u64 = 0x5412;
const TIOCLINUX: u64 = 0x541c;
const PER_LINUX: u64 = 0;
const PERSONALITY_QUERY: u64 = 0xffff_ffff;

/// The one filter every process started inside installs last. On x86_64 it dispatches on the
/// architecture first: x86_64 calls meet the x32 refusal, clone3's ENOSYS (where user namespaces
/// are refused) and then the main filter by name; i386 calls go to the i386 part; any other
/// architecture is killed. One program, so the kernel checks, compiles and runs one filter per
/// call instead of four. Empty where the plan names no architecture (nestbox has no table of
/// this machine's calls).
pub fn compile(plan: &SeccompPlan) -> Result<BpfProgram, SeccompError> {
    if plan.architectures.is_empty() || !AVAILABLE {
        return Ok(Vec::new());
    }
    let main = main_filter(plan)?;
    #[cfg(target_arch = "x86_64")]
    {
        let mut x86_64 = no_x32();
        if !plan.user_namespaces {
            x86_64.extend(enosys(nr("clone3")?));
        }
        x86_64.extend(main);
        Ok(i386::dispatch(x86_64, i386::filter(plan)))
    }
    #[cfg(not(target_arch = "x86_64"))]
    Ok(main)
}

fn build(e: &dyn std::fmt::Display) -> SeccompError {
    SeccompError::Build(e.to_string())
}

fn nr(name: &str) -> Result<i64, SeccompError> {
    number(name).ok_or_else(|| SeccompError::UnknownSyscall(name.into()))
}

/// The calls refused by name (EPERM), with the ioctl, personality and user-namespace
/// conditions, for this machine's own architecture (seccompiler's).
fn main_filter(plan: &SeccompPlan) -> Result<BpfProgram, SeccompError> {
    let arch = TargetArch::try_from(std::env::consts::ARCH).map_err(|e| build(&e))?;
    let cond =
        |arg, len, op, value| SeccompCondition::new(arg, len, op, value).map_err(|e| build(&e));
    let rule = |conds: Vec<SeccompCondition>| SeccompRule::new(conds).map_err(|e| build(&e));

    let mut rules: BTreeMap<i64, Vec<SeccompRule>> = BTreeMap::new();
    for name in &plan.deny {
        rules.insert(nr(name)?, Vec::new());
    }
    let dword_eq = |arg, value| cond(arg, SeccompCmpArgLen::Dword, SeccompCmpOp::Eq, value);
    rules.entry(nr("ioctl")?).or_default().extend([
        rule(vec![dword_eq(1, TIOCSTI)?])?,
        rule(vec![dword_eq(1, TIOCLINUX)?])?,
    ]);
    let dword_ne = |value| cond(0, SeccompCmpArgLen::Dword, SeccompCmpOp::Ne, value);
    rules.entry(nr("personality")?).or_default().push(rule(vec![
        dword_ne(PER_LINUX)?,
        dword_ne(PERSONALITY_QUERY)?,
    ])?);
    if !plan.user_namespaces {
        let newuser = libc::CLONE_NEWUSER as u64;
        let has_newuser = || {
            cond(
                0,
                SeccompCmpArgLen::Qword,
                SeccompCmpOp::MaskedEq(newuser),
                newuser,
            )
        };
        for call in ["unshare", "clone"] {
            rules
                .entry(nr(call)?)
                .or_default()
                .push(rule(vec![has_newuser()?])?);
        }
    }
    // A rule list that is empty means "always"; one with rules, "when any rule matches". A name
    // denied outright must stay outright even where conditional rules were added above.
    for name in &plan.deny {
        if let Some(list) = rules.get_mut(&nr(name)?) {
            list.clear();
        }
    }
    let errno = |e: i32| SeccompAction::Errno(e as u32);
    let main = SeccompFilter::new(rules, SeccompAction::Allow, errno(libc::EPERM), arch)
        .map_err(|e| build(&e))?;
    BpfProgram::try_from(main).map_err(|e| build(&e))
}

// Classic BPF opcodes (linux/bpf_common.h).
const LD_W_ABS: u16 = 0x20;
const JEQ_K: u16 = 0x05 | 0x10;
const JSET_K: u16 = 0x05 | 0x40;
const RET_K: u16 = 0x06;

fn op(code: u16, jt: u8, jf: u8, k: u32) -> seccompiler::sock_filter {
    seccompiler::sock_filter { code, jt, jf, k }
}

/// x32 system calls (x86_64 numbers with bit 30 set) reach the same kernel code under other
/// numbers, which a filter by number would let through: refuse them all (ENOSYS, as a kernel
/// built without x32 does). Falls through for every other call, the number loaded.
#[cfg(target_arch = "x86_64")]
fn no_x32() -> BpfProgram {
    const X32_SYSCALL_BIT: u32 = 0x4000_0000;
    vec![
        // seccomp_data.nr, at offset 0.
        op(LD_W_ABS, 0, 0, 0),
        op(JSET_K, 0, 1, X32_SYSCALL_BIT),
        op(RET_K, 0, 0, libc::SECCOMP_RET_ERRNO | libc::ENOSYS as u32),
    ]
}

/// Call `nr` gets ENOSYS (clone3, whose flags sit in memory a filter cannot read: glibc falls
/// back to clone, which the main filter judges). Expects the number loaded; falls through.
fn enosys(nr: i64) -> BpfProgram {
    vec![
        op(JEQ_K, 0, 1, nr as u32),
        op(RET_K, 0, 0, libc::SECCOMP_RET_ERRNO | libc::ENOSYS as u32),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_sorted_and_knows_the_defaults() {
        #[cfg(target_arch = "x86_64")]
        assert!(syscalls::SYSCALLS.windows(2).all(|w| w[0].0 < w[1].0));
        for name in DEFAULT_DENY {
            assert!(number(name).is_some(), "{name}");
        }
        assert_eq!(number("read"), Some(libc::SYS_read));
        assert_eq!(number("clone3"), Some(libc::SYS_clone3));
        assert_eq!(number("no_such_call"), None);
    }

    #[test]
    fn compiles_to_one_filter_with_and_without_user_namespaces() {
        let deny: Vec<String> = DEFAULT_DENY.iter().map(|s| s.to_string()).collect();
        let plan = SeccompPlan {
            deny,
            user_namespaces: false,
            architectures: native_architectures(),
        };
        let closed = compile(&plan).unwrap();
        let open = compile(&SeccompPlan {
            user_namespaces: true,
            ..plan.clone()
        })
        .unwrap();
        assert!(!closed.is_empty());
        // The kernel takes at most 4096 instructions.
        assert!(closed.len() < 4096, "{}", closed.len());
        assert!(open.len() < closed.len());
        let none = compile(&SeccompPlan {
            architectures: Vec::new(),
            ..plan
        })
        .unwrap();
        assert!(none.is_empty(), "no architecture named, no filter");
    }
}
