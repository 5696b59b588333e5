use super::*;
#[test]
fn probe() {
    let dir = std::env::temp_dir().join(format!("nestbox-probe-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cases = [
        "description = \"x\"\n[sandbox\nsys = true\n",
        "description = \"☕ é\" junk\n",
        "[sandbox]\nnetwork = \"none\"\n  display = \"host\"\n",
    ];
    let sp = SearchPath {
        dirs: vec![(SourceKind::User, dir.clone())],
    };
    for (i, c) in cases.iter().enumerate() {
        std::fs::write(dir.join(format!("p{i}.toml")), c).unwrap();
        let r = sp.load(&format!("p{i}"));
        eprintln!(
            "{c:?} => {}",
            match r {
                Ok(p) => format!(
                    "OK {:?} {:?} {:?}",
                    p.binds
                        .iter()
                        .map(|b| (&b.src, &b.dst, b.access))
                        .collect::<Vec<_>>(),
                    p.hostname,
                    p.pass_env
                ),
                Err(e) => e.to_string(),
            }
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
