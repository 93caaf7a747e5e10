//! The synthetic generator: deterministic, consistent, and scaled as documented.

use rdsguard_demo::synthetic::REGION_NAMES;
use rdsguard_demo::{SyntheticParams, integrity, synthetic};

#[test]
fn same_parameters_same_snapshot_and_seed_changes_it() {
    let p = SyntheticParams::with_instances(300);
    assert_eq!(synthetic(&p), synthetic(&p));
    let other = SyntheticParams {
        seed: 2,
        ..p.clone()
    };
    assert_ne!(synthetic(&p), synthetic(&other));
}

#[test]
fn makes_exactly_the_requested_instances_over_the_requested_regions() {
    for (n, regions) in [(0, 1), (1, 4), (7, 3), (1_000, 4), (2_001, 5)] {
        let snap = synthetic(&SyntheticParams {
            db_instances: n,
            regions,
            ..Default::default()
        });
        assert_eq!(snap.db_instance_count(), n, "n={n} regions={regions}");
        assert_eq!(snap.accounts[0].regions.len(), regions);
        assert_eq!(snap.source.kind, "synthetic");
    }
    let clamped = synthetic(&SyntheticParams {
        db_instances: 10,
        regions: 1_000,
        ..Default::default()
    });
    assert_eq!(clamped.accounts[0].regions.len(), REGION_NAMES.len());
}

#[test]
fn is_structurally_consistent() {
    let snap = synthetic(&SyntheticParams {
        db_instances: 3_000,
        regions: 3,
        seed: 42,
        ..Default::default()
    });
    let problems = integrity::problems(&snap);
    assert!(
        problems.is_empty(),
        "{:#?}",
        &problems[..problems.len().min(20)]
    );
}

#[test]
fn proportions_match_the_documented_scale() {
    let n = 10_000;
    let snap = synthetic(&SyntheticParams::with_instances(n));
    let regions = &snap.accounts[0].regions;
    let sum = |f: &dyn Fn(&rdsguard_model::RegionSnapshot) -> usize| -> usize {
        regions.iter().map(f).sum()
    };
    let vpcs = sum(&|r| r.ec2.vpcs.len());
    let rules = sum(&|r| r.ec2.security_groups.iter().map(|g| g.ingress.len()).sum());
    let enis = sum(&|r| r.ec2.network_interfaces.len());
    let keys = sum(&|r| r.kms.keys.len());
    let snapshots = sum(&|r| r.rds.db_snapshots.len() + r.rds.db_cluster_snapshots.len());
    let members = sum(&|r| {
        r.rds
            .db_instances
            .iter()
            .filter(|d| d.is_cluster_member())
            .count()
    });
    let param_groups = sum(&|r| r.rds.db_parameter_groups.len());
    assert!((n / 50..=n / 50 + 8).contains(&vpcs), "vpcs {vpcs}");
    assert!((2 * n..=5 * n).contains(&rules), "rules {rules}");
    assert!(enis >= n, "enis {enis}");
    assert!((n / 20..=n / 20 + 12).contains(&keys), "keys {keys}");
    assert!((n / 2..=n).contains(&snapshots), "snapshots {snapshots}");
    assert_eq!(members, n / 10);
    // Parameter groups are shared: their number does not grow with the databases.
    let small = synthetic(&SyntheticParams::with_instances(n / 10));
    let small_groups: usize = small.accounts[0]
        .regions
        .iter()
        .map(|r| r.rds.db_parameter_groups.len())
        .sum();
    assert_eq!(param_groups, small_groups);
    let iam = snap.accounts[0].iam.as_ref().unwrap();
    let principals = iam.users.len() + iam.roles.len();
    assert_eq!(principals, n / 10);
    assert!(iam.policies.len() > 2 * principals);
}

#[test]
fn contains_misconfigurations_for_checks_to_find() {
    let snap = synthetic(&SyntheticParams::with_instances(2_000));
    let dbs: Vec<_> = snap.accounts[0]
        .regions
        .iter()
        .flat_map(|r| &r.rds.db_instances)
        .collect();
    assert!(dbs.iter().any(|d| d.publicly_accessible));
    assert!(dbs.iter().any(|d| !d.storage_encrypted));
    assert!(dbs.iter().any(|d| d.storage_encrypted));
    assert!(dbs.iter().any(|d| d.is_read_replica()));
    let snapshots: Vec<_> = snap.accounts[0]
        .regions
        .iter()
        .flat_map(|r| r.rds.db_snapshots.iter().chain(&r.rds.db_cluster_snapshots))
        .collect();
    assert!(
        snapshots
            .iter()
            .any(|s| s.restore.as_ref().is_some_and(|r| r.public))
    );
    assert!(snapshots.iter().any(|s| {
        s.restore
            .as_ref()
            .is_some_and(|r| !r.shared_with.is_empty())
    }));
}

#[test]
fn synthetic_organization_has_paths_policies_and_unassessed_accounts() {
    use rdsguard_demo::{SyntheticOrgParams, synthetic_org};
    let p = SyntheticOrgParams {
        accounts: 30,
        db_instances_per_account: 3,
        regions: 2,
        ous: 4,
        unassessed_every: 10,
        ..Default::default()
    };
    let snap = synthetic_org(&p);
    assert_eq!(snap, synthetic_org(&p), "deterministic");
    assert_eq!(snap.accounts.len(), 30);
    let ids: std::collections::BTreeSet<&str> = snap
        .accounts
        .iter()
        .map(|a| a.account_id.as_str())
        .collect();
    assert_eq!(ids.len(), 30, "distinct account ids");
    // Accounts 10 and 20 could not be assumed; the management account (0) always could.
    let unassessed: Vec<&str> = snap
        .accounts
        .iter()
        .filter(|a| a.regions.is_empty())
        .map(|a| a.name.as_deref().unwrap())
        .collect();
    assert_eq!(unassessed, ["account-10", "account-20"]);
    assert_eq!(snap.db_instance_count(), 28 * 3);
    let org = snap.organization.as_ref().unwrap();
    for a in &snap.accounts {
        assert_eq!(a.org_path.first().unwrap().kind, "ROOT");
        assert_eq!(a.org_path.last().unwrap().id, a.account_id);
        for t in &a.org_path {
            for id in &t.policy_ids {
                assert!(org.policy(id).is_some(), "{id} is defined once in the org");
            }
        }
    }
    assert_eq!(org.policies.len(), 2 + 4);
}
