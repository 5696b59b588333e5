//! The sound proxy's parsers and policy on arbitrary bytes: frames as they come from a sandbox
//! (and from a server), through `Descriptor::parse`, the tagstruct walk and a `Session`, both
//! ways (`nestbox::pulse::filter::replay` says the input's format). Nothing may panic, and
//! nothing may allocate from a length the input names.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| nestbox::pulse::filter::replay(data));
