#!/bin/sh
# meson's custom_target for cargo: build BINARY in release mode into meson's build directory, then
# copy it to OUTPUT. NESTBOX_PROFILEDIR (set by meson) is compiled in as the shipped profile dir.
set -eu
manifest=$1 target_dir=$2 binary=$3 output=$4
cargo build --release --manifest-path "$manifest" --target-dir "$target_dir" --bin "$binary"
cp "$target_dir/release/$binary" "$output"
