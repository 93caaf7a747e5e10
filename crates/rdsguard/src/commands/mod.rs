//! One module per subcommand.

pub mod audit;
pub mod checks;
pub mod collect;
