//! rdsguard's network exposure engine: exactly which addresses can open a TCP connection to
//! each RDS database's port, computed from a [`Snapshot`] alone (no AWS calls).
//!
//! For every DB instance, DB cluster and RDS proxy it combines:
//! - the ingress rules of the attached security groups that cover TCP on the real port, with
//!   every source resolved to addresses: IPv4 and IPv6 CIDRs, managed prefix-list entries, and
//!   the private addresses of the network interfaces carrying a referenced group;
//! - the PubliclyAccessible flag, the route tables of the DB subnet group's subnets (explicit
//!   association or the VPC's main table, longest-prefix match, blackhole routes, internet
//!   gateway attachment), the network ACLs inbound (first match in rule-number order) and
//!   outbound for the replies to ephemeral ports, per address family;
//! - egress (what the groups and routes let out) and VPC peering.
//!
//! Sets are exact CIDR interval arithmetic ([`ipset`]). Missing data makes an answer unknown,
//! never "not reachable".
//!
//! ```no_run
//! # let snapshot: rdsguard_model::Snapshot = unimplemented!();
//! let report = rdsguard_network::analyze(&snapshot);
//! println!("{}", rdsguard_network::render_table(&report));
//! let json = serde_json::to_string_pretty(&report).unwrap();
//! ```

mod analyze;
mod family;
mod index;

/// The engine's hash maps: foldhash, several times faster than SipHash on the short string
/// keys looked up for every database, randomly seeded per process like the standard maps.
type Map<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
pub mod ipset;
mod nacl;
mod reach;
mod render;
mod report;
mod routes;
mod sg;

use rdsguard_model::{AccountSnapshot, RegionSnapshot, Snapshot};

pub use analyze::{GroupPositions, ReferenceState, RegionAnalysis};
pub use nacl::EPHEMERAL_PORTS;
pub use reach::{DbReach, SourceSets};
pub use render::render_table;
pub use report::*;
pub use sg::{is_all_ports, is_all_protocols};

/// Errors of the exposure API.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExposureError {
    #[error("no DB instance, DB cluster or RDS proxy named `{0}` in the snapshot")]
    DatabaseNotFound(String),
}

/// The exposure of every database (instance, cluster, proxy) in every account and region.
pub fn analyze(snapshot: &Snapshot) -> ExposureReport {
    let mut databases = Vec::new();
    for account in &snapshot.accounts {
        for region in &account.regions {
            databases.extend(analyze_region(snapshot, account, region));
        }
    }
    ExposureReport {
        schema_version: EXPOSURE_SCHEMA_VERSION,
        databases,
    }
}

/// The exposure of the databases of one region of one account. `snapshot` is used to resolve
/// security groups referenced across accounts.
pub fn analyze_region(
    snapshot: &Snapshot,
    account: &AccountSnapshot,
    region: &RegionSnapshot,
) -> Vec<DbExposure> {
    RegionAnalysis::new(snapshot, account, region).databases()
}

/// The report restricted to databases whose identifier or ARN is `db`
/// (`rdsguard exposure --db`).
pub fn analyze_db(snapshot: &Snapshot, db: &str) -> Result<ExposureReport, ExposureError> {
    let mut report = analyze(snapshot);
    report
        .databases
        .retain(|d| d.identifier == db || d.arn == db);
    if report.databases.is_empty() {
        return Err(ExposureError::DatabaseNotFound(db.to_string()));
    }
    Ok(report)
}
