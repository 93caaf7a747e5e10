//! The catalogue, one module per area. Add a check by writing a `CheckDef` static in the
//! module of its area and listing it in [`all`].

use crate::engine::CheckDef;

pub mod instance;

/// Every check, in catalogue order.
pub fn all() -> Vec<&'static CheckDef> {
    let mut v: Vec<&'static CheckDef> = Vec::new();
    v.extend(instance::CHECKS);
    v
}
