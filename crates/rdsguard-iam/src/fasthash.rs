//! Hashing for the engine's string-keyed maps: FNV-1a for the short context keys hashed once
//! per compiled condition, foldhash for maps keyed by ARNs, actions and policy names. Keys are
//! not attacker-chosen in a way that matters for a local analysis, and SipHash dominated
//! evaluation time.

use std::collections::{HashMap, HashSet};
use std::hash::Hasher;

#[derive(Debug, Clone, Copy)]
pub struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}

/// A `HashMap` with foldhash's fast hashing, seeded the same way every time (so that
/// iteration order is reproducible; the keys are not attacker-chosen in a way that matters for
/// a local analysis). SipHash, the standard one, dominated lookups by ARN and action name.
pub type FastMap<K, V> = HashMap<K, V, foldhash::fast::FixedState>;

/// A `HashSet` like [`FastMap`].
pub type FastSet<K> = HashSet<K, foldhash::fast::FixedState>;
