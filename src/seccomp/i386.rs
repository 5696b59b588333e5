//! The filter for i386 (32-bit x86) programs on an x86_64 kernel: Steam's and Wine's 32-bit
//! parts make their system calls under other numbers, through the i386 entry. seccompiler builds
//! filters for one architecture, so this one is written by hand: the same refusals as the main
//! filter, by the i386 numbers of the same names.

use super::{
    op, SeccompPlan, JEQ_K, JSET_K, LD_W_ABS, PERSONALITY_QUERY, PER_LINUX, RET_K, TIOCLINUX,
    TIOCSTI,
};
use seccompiler::{sock_filter, BpfProgram};

#[path = "syscalls_i386.rs"]
mod syscalls;

const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;
const AUDIT_ARCH_I386: u32 = 0x4000_0003;

// Offsets in struct seccomp_data: nr, arch, then the arguments, 8 bytes each (the low half
// first on little-endian x86; an i386 program's arguments are 32 bits).
const NR: u32 = 0;
const ARCH: u32 = 4;
const fn arg(n: u32) -> u32 {
    16 + 8 * n
}

const ALLOW: u32 = libc::SECCOMP_RET_ALLOW;
const KILL: u32 = libc::SECCOMP_RET_KILL_PROCESS;
const fn errno(e: i32) -> u32 {
    libc::SECCOMP_RET_ERRNO | e as u32
}

/// The i386 number of system call `name`, where i386 has it.
pub fn number(name: &str) -> Option<u32> {
    syscalls::SYSCALLS
        .binary_search_by(|(n, _)| n.cmp(&name))
        .ok()
        .map(|i| syscalls::SYSCALLS[i].1)
}

/// One system call's check: when the number is `nr`, run `then` (which must return), else go on.
fn case(program: &mut BpfProgram, nr: u32, then: &[sock_filter]) {
    program.push(op(JEQ_K, 0, then.len() as u8, nr));
    program.extend_from_slice(then);
}

/// The i386 part of the filter (x86_64 calls never reach it: [`dispatch`] sends them to the
/// main part): i386 calls are judged as the plan says, any other architecture is killed (x32
/// calls carry the x86_64 architecture and a number bit of their own, refused there).
pub fn filter(plan: &SeccompPlan) -> BpfProgram {
    let mut p = vec![
        op(LD_W_ABS, 0, 0, ARCH),
        op(JEQ_K, 1, 0, AUDIT_ARCH_I386),
        op(RET_K, 0, 0, KILL),
        op(LD_W_ABS, 0, 0, NR),
    ];
    let denied = |name: &str| plan.deny.iter().any(|d| d == name);
    for nr in plan.deny.iter().filter_map(|n| number(n)) {
        case(&mut p, nr, &[op(RET_K, 0, 0, errno(libc::EPERM))]);
    }
    let conditional = |name| number(name).filter(|_| !denied(name));
    if let Some(nr) = conditional("ioctl") {
        case(
            &mut p,
            nr,
            &[
                op(LD_W_ABS, 0, 0, arg(1)),
                op(JEQ_K, 2, 0, TIOCSTI as u32),
                op(JEQ_K, 1, 0, TIOCLINUX as u32),
                op(RET_K, 0, 0, ALLOW),
                op(RET_K, 0, 0, errno(libc::EPERM)),
            ],
        );
    }
    if let Some(nr) = conditional("personality") {
        case(
            &mut p,
            nr,
            &[
                op(LD_W_ABS, 0, 0, arg(0)),
                op(JEQ_K, 2, 0, PER_LINUX as u32),
                op(JEQ_K, 1, 0, PERSONALITY_QUERY as u32),
                op(RET_K, 0, 0, errno(libc::EPERM)),
                op(RET_K, 0, 0, ALLOW),
            ],
        );
    }
    if !plan.user_namespaces {
        // i386's clone takes its flags first, as unshare does.
        for name in ["clone", "unshare"] {
            if let Some(nr) = conditional(name) {
                case(
                    &mut p,
                    nr,
                    &[
                        op(LD_W_ABS, 0, 0, arg(0)),
                        op(JSET_K, 0, 1, libc::CLONE_NEWUSER as u32),
                        op(RET_K, 0, 0, errno(libc::EPERM)),
                        op(RET_K, 0, 0, ALLOW),
                    ],
                );
            }
        }
        if let Some(nr) = conditional("clone3") {
            case(&mut p, nr, &[op(RET_K, 0, 0, errno(libc::ENOSYS))]);
        }
    }
    p.push(op(RET_K, 0, 0, ALLOW));
    p
}

/// One program from the two: `x86_64` judges the calls of this architecture (it must end each of
/// its paths with a return), `i386` the calls of that one (it kills any other architecture).
pub fn dispatch(x86_64: BpfProgram, i386: BpfProgram) -> BpfProgram {
    const JA: u16 = 0x05;
    let mut p = vec![
        op(LD_W_ABS, 0, 0, ARCH),
        op(JEQ_K, 1, 0, AUDIT_ARCH_X86_64),
        op(JA, 0, 0, x86_64.len() as u32),
    ];
    p.extend(x86_64);
    p.extend(i386);
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_sorted_and_has_the_i386_numbers() {
        assert!(syscalls::SYSCALLS.windows(2).all(|w| w[0].0 < w[1].0));
        assert_eq!(number("ioctl"), Some(54));
        assert_eq!(number("keyctl"), Some(288));
        assert_eq!(number("clone3"), Some(435));
        assert_eq!(number("socketcall"), Some(102));
        // x86_64 only.
        assert_eq!(number("arch_prctl"), Some(384));
        assert_eq!(number("no_such_call"), None);
    }

    const JA: u16 = 0x05;

    /// A tiny classic-BPF interpreter, enough for these filters: what `program` answers for a
    /// call of `arch` with number `nr` and first two arguments.
    fn run(program: &[sock_filter], arch: u32, nr: u32, args: [u32; 2]) -> u32 {
        let mut acc = 0;
        let mut pc = 0;
        loop {
            let i = &program[pc];
            pc += 1;
            match i.code {
                LD_W_ABS => {
                    acc = match i.k {
                        NR => nr,
                        ARCH => arch,
                        k if k == arg(0) => args[0],
                        k if k == arg(1) => args[1],
                        k => panic!("load at {k}"),
                    }
                }
                JA => pc += i.k as usize,
                JEQ_K => pc += usize::from(if acc == i.k { i.jt } else { i.jf }),
                JSET_K => pc += usize::from(if acc & i.k != 0 { i.jt } else { i.jf }),
                RET_K => return i.k,
                c => panic!("opcode {c:#x}"),
            }
        }
    }

    fn plan(user_namespaces: bool) -> SeccompPlan {
        SeccompPlan {
            deny: super::super::DEFAULT_DENY
                .iter()
                .map(|s| s.to_string())
                .collect(),
            user_namespaces,
            architectures: crate::seccomp::native_architectures(),
        }
    }

    #[test]
    fn i386_calls_get_the_main_filters_answers() {
        let f = filter(&plan(false));
        let i386 = |nr, args| run(&f, AUDIT_ARCH_I386, nr, args);
        let eperm = errno(libc::EPERM);
        assert_eq!(i386(288, [0, 0]), eperm, "keyctl");
        assert_eq!(i386(21, [0, 0]), eperm, "mount");
        assert_eq!(i386(3, [0, 0]), ALLOW, "read");
        assert_eq!(i386(54, [0, TIOCSTI as u32]), eperm);
        assert_eq!(i386(54, [0, TIOCLINUX as u32]), eperm);
        assert_eq!(i386(54, [0, 0x5401]), ALLOW, "TCGETS");
        assert_eq!(i386(136, [0, 0]), ALLOW, "personality(PER_LINUX)");
        assert_eq!(i386(136, [0xffff_ffff, 0]), ALLOW);
        assert_eq!(i386(136, [0x0040_0000, 0]), eperm, "READ_IMPLIES_EXEC");
        let newuser = libc::CLONE_NEWUSER as u32;
        assert_eq!(i386(120, [newuser, 0]), eperm, "clone");
        assert_eq!(i386(120, [0x11, 0]), ALLOW, "clone, a plain fork");
        assert_eq!(i386(310, [newuser, 0]), eperm, "unshare");
        assert_eq!(i386(435, [0, 0]), errno(libc::ENOSYS), "clone3");
        // Other architectures die.
        assert_eq!(run(&f, 0xc000_00b7, 3, [0, 0]), KILL);
        // In the one program, x86_64 calls go to their own part, i386 calls to this one.
        const X86_64_PART: u32 = errno(4095);
        let both = dispatch(vec![op(RET_K, 0, 0, X86_64_PART)], f.clone());
        assert_eq!(run(&both, AUDIT_ARCH_X86_64, 250, [0, 0]), X86_64_PART);
        assert_eq!(run(&both, AUDIT_ARCH_I386, 54, [0, TIOCSTI as u32]), eperm);
        assert_eq!(run(&both, AUDIT_ARCH_I386, 3, [0, 0]), ALLOW);
        assert_eq!(run(&both, 0xc000_00b7, 3, [0, 0]), KILL);
        let open = filter(&plan(true));
        assert_eq!(run(&open, AUDIT_ARCH_I386, 120, [newuser, 0]), ALLOW);
        assert_eq!(run(&open, AUDIT_ARCH_I386, 435, [0, 0]), ALLOW);
    }

    #[test]
    fn a_denied_conditional_call_is_denied_outright() {
        let mut p = plan(false);
        p.deny.push("ioctl".into());
        let f = filter(&p);
        assert_eq!(
            run(&f, AUDIT_ARCH_I386, 54, [0, 0x5401]),
            errno(libc::EPERM)
        );
    }
}
