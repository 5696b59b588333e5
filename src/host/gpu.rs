//! GPU discovery (being written).
