//! `nestbox-pulse SERVER DIR`: holds one sandbox's PulseAudio socket (see nestbox::pulse::helper).

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    std::process::exit(nestbox::pulse::helper::serve(&args));
}
