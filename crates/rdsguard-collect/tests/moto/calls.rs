//! What goes over the wire: every request is counted, no (operation, parameters) pair is sent
//! twice, listings are paginated, progress adds up, and a snapshot written to disk and read
//! back gives the same findings.

use std::collections::BTreeMap;

use aws_sdk_rds::types as rdst;
use rdsguard_collect::collect_with_sdk_config;
use rdsguard_model::io::{read_snapshot, write_snapshot};

use crate::proxy::Proxy;
use crate::support::*;
use crate::{collect_account, seeded};

#[tokio::test(flavor = "multi_thread")]
async fn no_call_is_made_twice_and_every_call_is_counted() {
    let Some(ep) = endpoint() else { return };
    let s = seeded(&ep);
    let proxy = Proxy::start(&ep, None).await;
    let sdk = sdk_config(&s.account, &ep, Some(REGION)).await;
    let progress = RecordingProgress::default();
    let (snap, stats) = collect_with_sdk_config(&sdk, &options(&proxy.url, &[REGION]), &progress)
        .await
        .unwrap();
    let log = proxy.log();

    let mut seen: BTreeMap<(&str, &str, &str, &str), usize> = BTreeMap::new();
    for r in &log {
        *seen
            .entry((&r.service, &r.region, &r.operation, &r.params))
            .or_default() += 1;
    }
    let repeated: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        repeated.is_empty(),
        "calls made more than once: {repeated:#?}"
    );

    assert_eq!(stats.api_calls, log.len() as u64, "every request counted");
    assert_eq!(stats.http_attempts, log.len() as u64);

    // Each parameter group's parameters are read once, each manual snapshot's attributes once,
    // automated snapshots never.
    let count = |op: &str| log.iter().filter(|r| r.operation == op).count();
    let region = &snap.accounts[0].regions[0];
    assert_eq!(
        count("DescribeDBParameters"),
        region.rds.db_parameter_groups.len()
    );
    assert_eq!(
        count("DescribeDBClusterParameters"),
        region.rds.db_cluster_parameter_groups.len()
    );
    let manual = region
        .rds
        .db_snapshots
        .iter()
        .filter(|x| !x.is_automated())
        .count();
    assert_eq!(count("DescribeDBSnapshotAttributes"), manual);
    assert_eq!(count("GetTrailStatus"), region.cloudtrail.trails.len());
    // Rotation only for the customer managed key; one DescribeKey per key.
    assert_eq!(count("DescribeKey"), region.kms.keys.len());
    assert_eq!(count("GetKeyRotationStatus"), 1);
    assert_eq!(count("GetCallerIdentity"), 1);
    // Tags come from the Describe answers, except for subnet groups and proxies.
    assert_eq!(
        count("ListTagsForResource"),
        region.rds.db_subnet_groups.len() + region.rds.db_proxies.len()
    );

    // Progress: one start with the number of units, one op_done per unit, one finish.
    let total = progress.total.lock().unwrap().expect("start called");
    let done = progress.done.lock().unwrap();
    assert_eq!(done.len() as u64, total, "{done:#?}");
    assert_eq!(
        progress.finished.load(std::sync::atomic::Ordering::Relaxed),
        1
    );
    let mut units = done.clone();
    units.sort();
    units.dedup();
    assert_eq!(units.len(), done.len(), "each unit reported once");
}

#[tokio::test(flavor = "multi_thread")]
async fn listings_are_paginated() {
    let Some(ep) = endpoint() else { return };
    let account = fresh_account(30);
    let sdk = sdk_config(&account, &ep, Some(REGION)).await;
    let rds = aws_sdk_rds::Client::new(&sdk);
    // More groups than one page (100) holds.
    let names: Vec<String> = (0..105).map(|i| format!("pg-{i:03}")).collect();
    for chunk in names.chunks(15) {
        futures::future::join_all(chunk.iter().map(|n| {
            rds.create_db_parameter_group()
                .db_parameter_group_name(n)
                .db_parameter_group_family("postgres16")
                .description("paging")
                .send()
        }))
        .await
        .into_iter()
        .for_each(|r| {
            r.unwrap();
        });
    }
    rds.modify_db_parameter_group()
        .db_parameter_group_name("pg-104")
        .parameters(
            rdst::Parameter::builder()
                .parameter_name("rds.force_ssl")
                .parameter_value("1")
                .apply_method(rdst::ApplyMethod::Immediate)
                .build(),
        )
        .send()
        .await
        .unwrap();

    let proxy = Proxy::start(&ep, None).await;
    let (snap, _) = collect_account(&account, &ep, &proxy.url).await;
    let groups = &snap.accounts[0].regions[0].rds.db_parameter_groups;
    for n in &names {
        assert!(groups.iter().any(|g| &g.name == n), "{n} missing");
    }
    let last = groups.iter().find(|g| g.name == "pg-104").unwrap();
    assert_eq!(last.value("rds.force_ssl"), Some("1"));
    let pages: Vec<_> = proxy
        .log()
        .into_iter()
        .filter(|r| r.operation == "DescribeDBParameterGroups")
        .collect();
    assert_eq!(pages.len(), 2, "{pages:#?}");
    assert!(pages.iter().any(|r| r.params.contains("Marker=")));
    assert!(pages.iter().all(|r| r.params.contains("MaxRecords=100")));
}

#[tokio::test(flavor = "multi_thread")]
async fn snapshot_file_round_trip_gives_identical_findings() {
    let Some(ep) = endpoint() else { return };
    let s = seeded(&ep);
    let (snap, _) = collect_account(&s.account, &ep, &ep).await;
    let dir = std::env::temp_dir().join(format!(
        "rdsguard-collect-roundtrip-{}-{}",
        std::process::id(),
        s.account
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("snapshot.json");
    write_snapshot(&snap, &path).unwrap();
    let back = read_snapshot(&path).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(back, snap);

    let config = rdsguard_checks::Config::default();
    let now = time::OffsetDateTime::now_utc();
    let defs = rdsguard_checks::check_defs();
    let live = rdsguard_checks::evaluate_with(&snap, &config, now, &defs);
    let offline = rdsguard_checks::evaluate_with(&back, &config, now, &defs);
    assert!(!live.is_empty());
    assert_eq!(
        serde_json::to_value(&live).unwrap(),
        serde_json::to_value(&offline).unwrap()
    );
}
