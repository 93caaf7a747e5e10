//! The demo account: consistent, deterministic, and carrying the facts the README's first
//! command is meant to show.

use std::path::Path;

use rdsguard_demo::demo::{ACCOUNT, AP, EU, PARTNER_ACCOUNT, REGIONS, UNKNOWN_ACCOUNT, US};
use rdsguard_demo::{demo_snapshot, integrity};
use rdsguard_model::{DbInstance, GapKind, RegionSnapshot, Snapshot, io, ops};

fn region<'a>(snap: &'a Snapshot, name: &str) -> &'a RegionSnapshot {
    snap.accounts[0].region(name).expect("region present")
}

fn db<'a>(snap: &'a Snapshot, region_name: &str, id: &str) -> &'a DbInstance {
    region(snap, region_name)
        .rds
        .db_instances
        .iter()
        .find(|d| d.db_instance_identifier == id)
        .unwrap_or_else(|| panic!("{id} in {region_name}"))
}

#[test]
fn round_trips_through_a_snapshot_file() {
    let snap = demo_snapshot();
    let dir = std::env::temp_dir().join(format!("rdsguard-demo-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("demo.json");
    io::write_snapshot(&snap, &path).unwrap();
    let back = io::read_snapshot(&path).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(back, snap);

    let text = serde_json::to_string(&snap).unwrap();
    assert_eq!(
        io::from_json_str(&text, Path::new("demo.json")).unwrap(),
        snap
    );
}

#[test]
fn is_deterministic() {
    assert_eq!(demo_snapshot(), demo_snapshot());
}

#[test]
fn is_structurally_consistent() {
    let problems = integrity::problems(&demo_snapshot());
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn integrity_catches_a_dangling_reference() {
    // The consistency test above is only meaningful if the checker can fail.
    let mut snap = demo_snapshot();
    snap.accounts[0].regions[0].rds.db_instances[0].vpc_security_groups[0].vpc_security_group_id =
        "sg-0000000000000dead".into();
    let problems = integrity::problems(&snap);
    assert!(
        problems.iter().any(|p| p.contains("sg-0000000000000dead")),
        "{problems:#?}"
    );
}

#[test]
fn describes_one_account_in_three_regions() {
    let snap = demo_snapshot();
    assert_eq!(snap.source.kind, "demo");
    assert_eq!(snap.collected_at, "2026-11-01T09:00:00Z");
    assert_eq!(snap.accounts.len(), 1);
    assert_eq!(snap.accounts[0].account_id, ACCOUNT);
    let names: Vec<_> = snap.accounts[0]
        .regions
        .iter()
        .map(|r| r.region.as_str())
        .collect();
    assert_eq!(names, REGIONS);
    for r in REGIONS {
        assert!(
            !region(&snap, r).rds.db_instances.is_empty(),
            "{r} has databases"
        );
    }
}

#[test]
fn covers_every_engine_family_and_cluster_kind() {
    let snap = demo_snapshot();
    let engines: std::collections::BTreeSet<_> = snap.accounts[0]
        .regions
        .iter()
        .flat_map(|r| &r.rds.db_instances)
        .map(|d| d.engine.as_str())
        .collect();
    for engine in [
        "postgres",
        "mysql",
        "mariadb",
        "oracle-ee",
        "sqlserver-se",
        "db2-se",
        "aurora-postgresql",
        "aurora-mysql",
    ] {
        assert!(engines.contains(engine), "missing {engine}: {engines:?}");
    }
    let clusters: Vec<_> = snap.accounts[0]
        .regions
        .iter()
        .flat_map(|r| &r.rds.db_clusters)
        .collect();
    assert!(
        clusters
            .iter()
            .any(|c| c.is_aurora() && c.members.len() == 1)
    );
    assert!(
        clusters
            .iter()
            .any(|c| c.is_aurora() && c.members.len() >= 2)
    );
    assert!(
        clusters
            .iter()
            .any(|c| !c.is_aurora() && c.db_cluster_instance_class.is_some())
    );
    assert!(db(&snap, US, "catalog-mysql-replica").is_read_replica());
}

#[test]
fn headline_database_is_public_unencrypted_and_open_to_the_internet() {
    let snap = demo_snapshot();
    let us = region(&snap, US);
    let legacy = db(&snap, US, "legacy-reports");
    assert!(legacy.publicly_accessible && !legacy.storage_encrypted);
    assert_eq!(legacy.engine_version, "13.15");
    let open = us
        .ec2
        .security_groups
        .iter()
        .find(|g| legacy.security_group_ids().any(|id| id == g.group_id))
        .unwrap();
    assert!(
        open.ingress
            .iter()
            .any(|p| p.ipv4_ranges.iter().any(|c| c == "0.0.0.0/0") && p.from_port == Some(5432))
    );
    // Its subnets route 0.0.0.0/0 to an internet gateway.
    let group = us
        .rds
        .db_subnet_groups
        .iter()
        .find(|g| Some(&g.name) == legacy.db_subnet_group_name.as_ref())
        .unwrap();
    for subnet in &group.subnet_ids {
        let table = us
            .ec2
            .route_tables
            .iter()
            .find(|t| {
                t.associations
                    .iter()
                    .any(|a| a.subnet_id.as_ref() == Some(subnet))
            })
            .unwrap();
        assert!(table.routes.iter().any(|r| {
            r.destination_cidr_block.as_deref() == Some("0.0.0.0/0")
                && r.gateway_id
                    .as_deref()
                    .is_some_and(|g| g.starts_with("igw-"))
        }));
    }
    // PostgreSQL 13's default group leaves rds.force_ssl to the engine default.
    let pg = us
        .rds
        .db_parameter_groups
        .iter()
        .find(|g| g.name == "default.postgres13")
        .unwrap();
    assert_eq!(pg.value("rds.force_ssl"), None);
}

#[test]
fn snapshots_are_shared_publicly_with_a_partner_and_with_an_unknown_account() {
    let snap = demo_snapshot();
    let us = region(&snap, US);
    let all: Vec<_> = us
        .rds
        .db_snapshots
        .iter()
        .chain(&us.rds.db_cluster_snapshots)
        .collect();
    assert!(
        all.iter()
            .any(|s| s.restore.as_ref().is_some_and(|r| r.public) && !s.encrypted)
    );
    assert!(all.iter().any(|s| {
        s.restore
            .as_ref()
            .is_some_and(|r| r.shared_with == [UNKNOWN_ACCOUNT])
    }));
    assert!(all.iter().any(|s| {
        s.restore
            .as_ref()
            .is_some_and(|r| r.shared_with == [PARTNER_ACCOUNT])
    }));
    assert!(
        us.rds
            .db_cluster_snapshots
            .iter()
            .any(|s| s.restore.as_ref().is_some_and(|r| r.public))
    );
    assert!(
        all.iter()
            .filter(|s| s.is_automated())
            .all(|s| s.restore.is_none())
    );
}

#[test]
fn keys_include_aws_managed_pending_deletion_disabled_and_public_ones() {
    let snap = demo_snapshot();
    let keys: Vec<_> = snap.accounts[0]
        .regions
        .iter()
        .flat_map(|r| &r.kms.keys)
        .collect();
    assert!(keys.iter().any(|k| k.key_manager.as_deref() == Some("AWS")
        && k.aliases.iter().any(|a| a == "alias/aws/rds")));
    assert!(keys.iter().any(|k| k.key_state.as_deref() == Some("PendingDeletion")
        && k.deletion_date.is_some()));
    assert!(
        keys.iter()
            .any(|k| k.key_state.as_deref() == Some("Disabled"))
    );
    assert!(
        keys.iter()
            .any(|k| k.rotation_enabled == Some(false)
                && k.key_manager.as_deref() == Some("CUSTOMER"))
    );
    let public = keys
        .iter()
        .filter_map(|k| k.policy.as_deref())
        .filter(|p| p.contains("\"Principal\": \"*\""))
        .count();
    assert_eq!(public, 1);
    // The Aurora MySQL cluster is encrypted with the key scheduled for deletion.
    let eu = region(&snap, EU);
    let sessions = eu
        .rds
        .db_clusters
        .iter()
        .find(|c| c.engine == "aurora-mysql")
        .unwrap();
    let key = eu
        .kms
        .resolve(sessions.kms_key_id.as_deref().unwrap())
        .unwrap();
    assert_eq!(key.key_state.as_deref(), Some("PendingDeletion"));
}

#[test]
fn cloudtrail_covers_only_the_main_region_and_certificates_are_a_gap_in_sydney() {
    let snap = demo_snapshot();
    let trails = &region(&snap, US).cloudtrail.trails;
    assert_eq!(trails.len(), 1);
    assert!(!trails[0].is_multi_region_trail && !trails[0].log_file_validation_enabled);
    assert!(region(&snap, EU).cloudtrail.trails.is_empty());
    assert!(region(&snap, AP).cloudtrail.trails.is_empty());

    let ap = region(&snap, AP);
    let gap = ap.listing_gap(ops::RDS_DESCRIBE_CERTIFICATES).unwrap();
    assert_eq!(gap.kind, GapKind::AccessDenied);
    assert!(ap.rds.certificates.is_empty());
    assert!(region(&snap, US).gaps.is_empty() && region(&snap, EU).gaps.is_empty());
}

#[test]
fn iam_has_the_policies_the_demo_tells_about() {
    let snap = demo_snapshot();
    let iam = snap.accounts[0].iam.as_ref().unwrap();
    let admin = iam
        .policy("arn:aws:iam::aws:policy/AdministratorAccess")
        .unwrap();
    assert!(
        admin
            .document
            .as_deref()
            .unwrap()
            .contains("\"Action\": \"*\"")
    );
    let narrow_name = iam
        .policies
        .iter()
        .find(|p| p.name.as_deref() == Some("orders-db-only"))
        .unwrap();
    assert!(
        narrow_name
            .document
            .as_deref()
            .unwrap()
            .contains("rds:Delete*")
    );
    let break_glass = iam.roles.iter().find(|r| r.name == "break-glass").unwrap();
    assert!(
        break_glass.inline_policies[0]
            .document
            .contains("NotAction")
    );
    assert!(
        iam.users
            .iter()
            .any(|u| u.permissions_boundary_arn.is_some())
    );
    assert!(
        iam.roles
            .iter()
            .any(|r| r.path.as_deref() == Some("/aws-service-role/rds.amazonaws.com/"))
    );
}
