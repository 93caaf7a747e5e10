//! The bundled demo account: "Acme", an e-commerce company, account 123456789012, with a
//! production footprint in us-east-1, EU customer data in eu-west-1 and a small ap-southeast-2
//! presence.
//!
//! It is what `rdsguard audit --demo` audits, so it is built to look like a real account that
//! grew over years: a sound new stack (the orders database, the Aurora payments cluster) beside
//! legacy databases with the classic problems (a public unencrypted PostgreSQL 13 reachable from
//! the internet, MySQL without TLS, a publicly restorable snapshot, a key scheduled for
//! deletion, an IAM policy broader than its name, CloudTrail covering one region of three), and
//! one collection gap (DescribeCertificates denied in ap-southeast-2) to show that missing data
//! is reported as not assessed, never as a pass.
//!
//! Everything is built in code and deterministic: identifiers are hashes of names (see
//! [`crate::build`]), so resources refer to each other by name.

mod iam;
mod kms;
mod logging;
mod network;
mod rds;

use rdsguard_model::{AccountSnapshot, RegionSnapshot, SCHEMA_VERSION, Snapshot, SnapshotSource};

use crate::build::{ec2_id, kms_key_arn, uuid};

/// The demo account.
pub const ACCOUNT: &str = "123456789012";
/// A partner (analytics vendor) account: peered VPC, shared snapshot; trusted in the demo config.
pub const PARTNER_ACCOUNT: &str = "444455556666";
/// An account nobody at Acme can name, which a snapshot is shared with.
pub const UNKNOWN_ACCOUNT: &str = "999988887777";
/// When the demo snapshot was "collected".
pub const COLLECTED_AT: &str = "2026-11-01T09:00:00Z";

pub const US: &str = "us-east-1";
pub const EU: &str = "eu-west-1";
pub const AP: &str = "ap-southeast-2";
/// The demo's regions, main region first.
pub const REGIONS: [&str; 3] = [US, EU, AP];

/// The rdsguard.toml shipped with the demo (trusted partner account, one suppression).
pub const DEMO_CONFIG_TOML: &str = include_str!("../../demo-rdsguard.toml");

/// The complete demo snapshot. Deterministic: two calls return equal snapshots.
pub fn demo_snapshot() -> Snapshot {
    let regions = REGIONS
        .iter()
        .map(|&region| {
            let mut r = RegionSnapshot::new(region);
            r.ec2 = network::ec2(region);
            r.rds = rds::rds(region);
            r.kms = kms::kms(region);
            // The RDS-managed network interfaces follow from the databases and proxies.
            let enis = network::rds_interfaces(region, &r.rds, &r.ec2);
            r.ec2.network_interfaces.extend(enis);
            logging::fill(region, &mut r);
            r
        })
        .collect();
    Snapshot {
        schema_version: SCHEMA_VERSION,
        collected_at: COLLECTED_AT.to_string(),
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        source: SnapshotSource {
            kind: "demo".to_string(),
            endpoint_url: None,
            regions: REGIONS.iter().map(|r| r.to_string()).collect(),
        },
        organization: None,
        accounts: vec![AccountSnapshot {
            account_id: ACCOUNT.to_string(),
            partition: "aws".to_string(),
            iam: Some(iam::iam()),
            regions,
            gaps: Vec::new(),
            ..Default::default()
        }],
    }
}

// Identifiers by name. Names are unique per region, so `region/name` is a stable seed.

pub(crate) fn vpc_id(region: &str, name: &str) -> String {
    ec2_id("vpc", &format!("{region}/{name}"))
}

pub(crate) fn subnet_id(region: &str, name: &str) -> String {
    ec2_id("subnet", &format!("{region}/{name}"))
}

pub(crate) fn sg_id(region: &str, name: &str) -> String {
    ec2_id("sg", &format!("{region}/{name}"))
}

pub(crate) fn prefix_list_id(region: &str, name: &str) -> String {
    ec2_id("pl", &format!("{region}/{name}"))
}

pub(crate) fn peering_id(region: &str, name: &str) -> String {
    ec2_id("pcx", &format!("{region}/{name}"))
}

/// The partner's security group referenced across the peering.
pub(crate) fn partner_sg_id() -> String {
    ec2_id("sg", "partner/etl-workers")
}

pub(crate) fn partner_vpc_id() -> String {
    ec2_id("vpc", "partner/analytics")
}

pub(crate) fn key_id(region: &str, name: &str) -> String {
    uuid(&format!("{region}/{name}"))
}

pub(crate) fn key_arn(region: &str, name: &str) -> String {
    kms_key_arn(region, ACCOUNT, &key_id(region, name))
}

/// Name of the AWS managed RDS key in the demo's key naming scheme.
pub(crate) const AWS_RDS_KEY: &str = "aws-rds";
