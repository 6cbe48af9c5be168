// Documented at its `mod` line in lib.rs: `build.rs` includes this file with `include!`,
// where inner doc comments are not allowed.

/// The fingerprint of `bytes` as 16 hex digits.
pub fn fnv1a_hex(bytes: &[u8]) -> String {
    format!("{:016x}", fnv1a(bytes))
}

/// FNV-1a (64-bit) of `bytes`.
///
/// Never inlined: the page checks the model's 141 kB with it while loading, and the browser
/// recompiles (optimizes) a function that has run that long; the loop is kept out of the
/// large function that loads the model, whose recompiling cost the start-up (docs/performance.md, "The
/// page").
#[inline(never)]
pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash = 0xcbf2_9ce4_8422_2325u64;
    for &b in bytes {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}
