//! Snapshots that need no AWS account: the bundled demo account audited by
//! `rdsguard audit --demo`, and a deterministic generator of large synthetic accounts for
//! benchmarks and scale tests (`rdsguard-gen`).
//!
//! Both build plain [`rdsguard_model::Snapshot`] values, so everything downstream (checks,
//! network and IAM engines, reports) sees exactly what a live collection would produce.

pub mod build;
pub mod demo;
pub mod integrity;
pub mod synthetic;

pub use demo::demo_snapshot;
pub use synthetic::{SyntheticOrgParams, SyntheticParams, synthetic, synthetic_org};

/// The `rdsguard.toml` that goes with the demo account (a trusted partner account and one
/// suppression with a reason and an expiry date).
pub fn demo_config_toml() -> &'static str {
    demo::DEMO_CONFIG_TOML
}
