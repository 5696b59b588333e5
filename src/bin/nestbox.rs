//! The `nestbox` command.

fn main() {
    std::process::exit(nestbox::cli::main());
}
