//! (logging checks: to be written)

use crate::engine::CheckDef;

pub static CHECKS: &[&CheckDef] = &[];
