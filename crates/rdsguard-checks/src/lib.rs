//! rdsguard's check catalogue: pure functions from a [`Snapshot`](rdsguard_model::Snapshot)
//! to [`Finding`](rdsguard_findings::Finding)s.
//!
//! Each check is a [`CheckDef`]: its metadata (id, title, severity, rationale, remediation,
//! CIS and FSBP control ids), the collector operations it depends on, and its code, side by
//! side in `checks/<area>.rs`. The engine runs every check on every region of every account.
//!
//! Never falsely reassuring: when an operation a check depends on failed for a whole region,
//! the engine reports NOT_ASSESSED for that region instead of running the check on missing
//! data; checks themselves report NOT_ASSESSED for per-resource gaps (a parameter group whose
//! parameters could not be read, a key whose policy is unknown...).

pub mod checks;
pub mod config;
pub mod engine;
#[cfg(test)]
pub mod testkit;

pub use config::{Config, ConfigError, SuppressionRule};
pub use engine::{
    AccountCtx, Analysis, CheckDef, Emitter, ExplainError, Memo, Outcome, RegionCtx, RunTime,
    Runner, analyze, apply_suppressions, catalogue, check_defs, evaluate, evaluate_with,
    explaining, glob_match,
};
