//! The catalogue, one module per area. Add a check by writing a `CheckDef` static in the
//! module of its area and listing it in that module's `CHECKS`.

use crate::engine::CheckDef;

pub mod account;
pub mod common;
pub(crate) mod lookups;

pub mod cluster;
pub mod encryption;
pub mod events;
pub mod iam;
pub mod instance;
pub mod logging;
pub mod network;
pub mod snapshot;
pub mod tagging;
pub mod tls;

/// Every check, in catalogue order.
pub fn all() -> Vec<&'static CheckDef> {
    let mut v: Vec<&'static CheckDef> = Vec::new();
    for area in [
        network::CHECKS,
        encryption::CHECKS,
        tls::CHECKS,
        instance::CHECKS,
        cluster::CHECKS,
        snapshot::CHECKS,
        logging::CHECKS,
        events::CHECKS,
        iam::CHECKS,
        tagging::CHECKS,
        account::CHECKS,
    ] {
        v.extend(area.iter().copied());
    }
    v
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    #[test]
    fn check_ids_are_unique_and_snake_case() {
        let mut seen = HashSet::new();
        for def in super::all() {
            assert!(seen.insert(def.id), "duplicate check id {}", def.id);
            assert!(
                def.id
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
                "{} is not snake_case",
                def.id
            );
            assert!(!def.title.is_empty() && !def.remediation.is_empty());
        }
    }
}
