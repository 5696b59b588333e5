//! PulseAudio per-sandbox socket (being written).
