//! One module per subcommand.

pub mod audit;
pub mod checks;
pub mod collect;
pub mod diff;
pub mod exposure;
pub mod fix;
pub mod iam;
pub mod merge;
pub mod trail;
