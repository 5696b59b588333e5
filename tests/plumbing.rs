//! Ways out through the desktop plumbing, tried as an app that wants out would try them: files
//! handed to a launch through links it planted, the user's terminal, escape sequences in what
//! nestbox prints. Real sandboxes, through the nestbox binary, as the unprivileged test user.

#[macro_use]
mod common;

use common::*;

/// A profile that can write ~/Downloads (as every browser can), running `sh -c`.
fn downloader(env: &TestEnv) {
    std::fs::create_dir_all(env.home.join("Downloads")).unwrap();
    env.profile(
        "dl",
        "[run]\ncommand = [\"sh\", \"-c\"]\n[filesystem]\nrw = [\"~/Downloads\"]\n",
    );
}

/// A viewer that tries to append to each file it is handed, then prints it.
fn viewer(env: &TestEnv, shared_files: &str) {
    env.profile(
        "view",
        &format!(
            "[run]\ncommand = [\"sh\", \"-c\", \"for f; do echo '!silent !id > ~/x' >> \\\"$f\\\" && echo wrote; cat \\\"$f\\\"; done\", \"view\"]\n\
             [sandbox]\nshared_files = \"{shared_files}\"\n"
        ),
    );
}

#[test]
fn a_link_planted_in_downloads_is_not_followed_by_share_files() {
    unprivileged!("a_link_planted_in_downloads_is_not_followed_by_share_files");
    let env = TestEnv::new("share-links");
    downloader(&env);
    viewer(&env, "read-write");
    let vimrc = env.home.join(".vimrc");
    std::fs::write(&vimrc, "set nocompatible\n").unwrap();
    // The sandbox plants its "documents": links to the user's files and the kernel's.
    let o = env.run(&[
        "run",
        "dl",
        "cd ~/Downloads && ln -s ../.vimrc invoice.pdf && ln -s /proc/self/mountinfo m.txt \
         && ln -s /proc/self/oom_score_adj o.txt && mkdir d && ln -s ../../.vimrc d/deeper.pdf",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let dl = env.home.join("Downloads");
    for name in ["invoice.pdf", "m.txt", "o.txt", "d/deeper.pdf"] {
        let word = dl.join(name).display().to_string();
        let o = env.run(&["run", "--share-files", "view", &word]);
        assert!(
            stderr(&o).contains(&format!(
                "nestbox: --share-files: {word} passes through {word}, a link a sandbox could have made; not shared"
            )),
            "{name}: {}",
            stderr(&o)
        );
        // Nothing of the host's reached the app: the word names nothing inside.
        assert!(!stdout(&o).contains("wrote"), "{name}: {}", stdout(&o));
        assert!(
            !stdout(&o).contains("nocompatible"),
            "{name}: {}",
            stdout(&o)
        );
    }
    // The same through a file:// URI, and through a link in a directory above the file.
    let uri = format!("file://{}/invoice.pdf", dl.display());
    let o = env.run(&["run", "--share-files", "view", &uri]);
    assert!(
        stderr(&o).contains("a link a sandbox could have made"),
        "{}",
        stderr(&o)
    );
    std::os::unix::fs::symlink(".", dl.join("here")).unwrap();
    let o = env.run(&[
        "run",
        "--share-files",
        "view",
        &dl.join("here/d/../invoice.pdf").display().to_string(),
    ]);
    assert!(
        stderr(&o).contains("a link a sandbox could have made"),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        std::fs::read_to_string(&vimrc).unwrap(),
        "set nocompatible\n"
    );
    // The kernel's files are never shared, named directly either.
    let o = env.run(&["run", "--share-files", "view", "/proc/self/mountinfo"]);
    assert!(
        stderr(&o).contains("/proc/self/mountinfo is in /proc, /sys or /dev; not shared"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn shared_files_are_read_only_unless_the_profile_says_read_write() {
    unprivileged!("shared_files_are_read_only_unless_the_profile_says_read_write");
    let env = TestEnv::new("share-ro");
    // The user's own link: a top-level entry of the home that leads out of it.
    let data = env.dir.join("data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(data.join("report.txt"), "numbers\n").unwrap();
    std::os::unix::fs::symlink(&data, env.home.join("Documents")).unwrap();
    let word = env.home.join("Documents/report.txt").display().to_string();
    viewer(&env, "read-only");
    let o = env.run(&["run", "--share-files", "view", &word]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "numbers\n", "read, not written: {}", stderr(&o));
    assert!(
        stderr(&o).contains("Read-only file system"),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        std::fs::read_to_string(data.join("report.txt")).unwrap(),
        "numbers\n"
    );
    let text = stdout(&env.run(&["explain", "view"]));
    assert!(
        text.contains(
            "Files handed to a launch (--share-files, as desktop launchers do): read-only"
        ),
        "{text}"
    );
    // An editor's profile asks for read-write: it can save.
    viewer(&env, "read-write");
    let o = env.run(&["run", "--share-files", "view", &word]);
    assert!(stdout(&o).starts_with("wrote\nnumbers\n"), "{}", stderr(&o));
    assert!(std::fs::read_to_string(data.join("report.txt"))
        .unwrap()
        .ends_with("~/x\n"));
}
