//! Planner tests: golden plans on the demo account (insta), idempotence on fixed resources,
//! scoping, merging and option validation. These are plan-only: the moto end-to-end tests
//! (tests/moto_fix.rs) apply plans.

use rdsguard_checks::Config;
use rdsguard_findings::Finding;
use rdsguard_model::Snapshot;

use crate::options::FixOptions;
use crate::plan::{Plan, Remediation, contains_secret_key};

fn demo() -> (Snapshot, Config) {
    let config = Config::from_toml_str(
        rdsguard_demo::demo_config_toml(),
        std::path::Path::new("demo.toml"),
    )
    .unwrap();
    (rdsguard_demo::demo_snapshot(), config)
}

fn audit(snapshot: &Snapshot, config: &Config) -> Vec<Finding> {
    let now = time::OffsetDateTime::parse(
        &snapshot.collected_at,
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let mut findings =
        rdsguard_checks::evaluate_with(snapshot, config, now, &rdsguard_checks::check_defs());
    // In the report's order, as `rdsguard fix` plans from the audit report (not in the order
    // the engine evaluates checks).
    rdsguard_findings::sort_findings(&mut findings);
    findings
}

fn plan_of(snapshot: &Snapshot, config: &Config, opts: &FixOptions) -> Plan {
    super::plan(snapshot, &audit(snapshot, config), opts).unwrap()
}

fn demo_opts(config: &Config) -> FixOptions {
    FixOptions::from_config(config)
}

/// One line a step: the overview of the whole demo plan.
fn overview(plan: &Plan) -> String {
    plan.steps
        .iter()
        .map(|s| {
            format!(
                "{} {}:{} [{}] fixes {}",
                s.id,
                s.service,
                s.operation,
                s.impact,
                s.fixes.len()
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn demo_plan_overview_is_golden() {
    let (snapshot, config) = demo();
    let plan = plan_of(&snapshot, &config, &demo_opts(&config));
    plan.validate().unwrap();
    insta::assert_snapshot!("demo_plan_overview", overview(&plan));
}

#[test]
fn demo_plan_of_one_database_is_golden() {
    let (snapshot, config) = demo();
    let opts = FixOptions {
        dbs: vec!["legacy-reports".into()],
        ..demo_opts(&config)
    };
    let plan = plan_of(&snapshot, &config, &opts);
    for r in [
        Remediation::Network,
        Remediation::Tls,
        Remediation::Protection,
        Remediation::Encryption,
    ] {
        assert!(plan.steps.iter().any(|s| s.remediation == r), "no {r} step");
    }
    insta::assert_json_snapshot!("demo_plan_legacy_reports", plan);
}

#[test]
fn plans_are_deterministic_valid_and_free_of_secrets() {
    let (snapshot, config) = demo();
    let a = plan_of(&snapshot, &config, &demo_opts(&config));
    let b = plan_of(&snapshot, &config, &demo_opts(&config));
    assert_eq!(a.hash(), b.hash());
    a.validate().unwrap();
    assert!(a.steps.iter().all(|s| !contains_secret_key(&s.parameters)));
    let text = serde_json::to_string(&a).unwrap().to_ascii_lowercase();
    assert!(
        !text.contains("password\":"),
        "a plan must never carry a password"
    );
}

#[test]
fn a_fixed_database_gets_no_protection_or_network_steps() {
    let (mut snapshot, config) = demo();
    let before = plan_of(
        &snapshot,
        &config,
        &FixOptions {
            dbs: vec!["catalog-mysql".into()],
            ..demo_opts(&config)
        },
    );
    assert!(
        before
            .steps
            .iter()
            .any(|s| s.remediation == Remediation::Protection)
    );
    for account in &mut snapshot.accounts {
        for region in &mut account.regions {
            for d in region
                .rds
                .db_instances
                .iter_mut()
                .filter(|d| d.db_instance_identifier == "catalog-mysql")
            {
                d.deletion_protection = true;
                d.iam_database_authentication_enabled = true;
                d.copy_tags_to_snapshot = true;
                d.auto_minor_version_upgrade = true;
                d.backup_retention_period = 14;
                d.enabled_cloudwatch_logs_exports = ["audit", "error", "general", "slowquery"]
                    .iter()
                    .map(|s| s.to_string())
                    .collect();
                d.publicly_accessible = false;
            }
        }
    }
    let after = plan_of(
        &snapshot,
        &config,
        &FixOptions {
            dbs: vec!["catalog-mysql".into()],
            ..demo_opts(&config)
        },
    );
    assert!(
        !after
            .steps
            .iter()
            .any(|s| s.remediation == Remediation::Protection),
        "{}",
        overview(&after)
    );
}

#[test]
fn check_and_db_filters_scope_the_plan() {
    let (snapshot, config) = demo();
    let opts = FixOptions {
        checks: vec!["rds_*_deletion_protection".into()],
        ..demo_opts(&config)
    };
    let plan = plan_of(&snapshot, &config, &opts);
    assert!(!plan.steps.is_empty());
    assert!(
        plan.steps
            .iter()
            .all(|s| s.parameters["DeletionProtection"] == true)
    );
    assert!(
        plan.fixed_findings()
            .iter()
            .all(|f| f.check_id.ends_with("_deletion_protection"))
    );
    let opts = FixOptions {
        dbs: vec!["no-such-db".into()],
        ..demo_opts(&config)
    };
    assert!(plan_of(&snapshot, &config, &opts).steps.is_empty());
}

#[test]
fn a_cluster_setting_is_one_call_fixing_every_member_finding() {
    let (snapshot, config) = demo();
    let opts = FixOptions {
        checks: vec!["rds_*_deletion_protection".into()],
        ..demo_opts(&config)
    };
    let plan = plan_of(&snapshot, &config, &opts);
    let cluster_steps: Vec<_> = plan
        .steps
        .iter()
        .filter(|s| s.operation == "ModifyDBCluster")
        .collect();
    assert!(!cluster_steps.is_empty());
    let merged = cluster_steps
        .iter()
        .find(|s| s.fixes.len() > 1)
        .expect("a merged cluster step");
    assert!(
        merged
            .fixes
            .iter()
            .any(|f| f.resource_type == "AwsRdsDbInstance")
    );
    assert!(
        merged
            .fixes
            .iter()
            .any(|f| f.resource_type == "AwsRdsDbCluster")
    );
    let ids: std::collections::BTreeSet<&str> = plan.steps.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids.len(), plan.steps.len(), "step ids are unique");
}

#[test]
fn explicit_sources_replace_the_carried_over_ones_and_the_internet_is_refused() {
    let (snapshot, config) = demo();
    let opts = FixOptions {
        dbs: vec!["legacy-reports".into()],
        allow_cidrs: vec!["10.42.0.0/16".into()],
        allow_security_groups: vec!["sg-0123456789abcdef0".into()],
        ..demo_opts(&config)
    };
    let plan = plan_of(&snapshot, &config, &opts);
    let ingress = plan
        .steps
        .iter()
        .find(|s| s.operation == "AuthorizeSecurityGroupIngress")
        .unwrap();
    let perm = &ingress.parameters["IpPermissions"][0];
    assert_eq!(perm["IpRanges"][0]["CidrIp"], "10.42.0.0/16");
    assert_eq!(
        perm["UserIdGroupPairs"][0]["GroupId"],
        "sg-0123456789abcdef0"
    );
    assert_eq!(perm["IpRanges"].as_array().unwrap().len(), 1);
    for bad in ["0.0.0.0/0", "::/0", "10.0.0.0/33", "not-a-cidr"] {
        let opts = FixOptions {
            allow_cidrs: vec![bad.into()],
            ..demo_opts(&config)
        };
        assert!(
            super::plan(&snapshot, &audit(&snapshot, &config), &opts).is_err(),
            "{bad} accepted"
        );
    }
}

#[test]
fn an_existing_encrypted_copy_is_not_planned_again() {
    let (mut snapshot, config) = demo();
    let opts = FixOptions {
        dbs: vec!["legacy-reports".into()],
        checks: vec!["rds_instance_storage_encrypted".into()],
        ..demo_opts(&config)
    };
    assert!(!plan_of(&snapshot, &config, &opts).steps.is_empty());
    for account in &mut snapshot.accounts {
        for region in &mut account.regions {
            let copy = region
                .rds
                .db_instances
                .iter()
                .find(|d| d.db_instance_identifier == "legacy-reports")
                .cloned();
            if let Some(mut copy) = copy {
                copy.db_instance_identifier = "legacy-reports-encrypted".into();
                copy.storage_encrypted = true;
                region.rds.db_instances.push(copy);
            }
        }
    }
    let plan = plan_of(&snapshot, &config, &opts);
    assert!(plan.steps.is_empty(), "{}", overview(&plan));
    assert!(
        plan.skipped
            .iter()
            .any(|s| s.reason.contains("legacy-reports-encrypted"))
    );
}

#[test]
fn the_iam_grant_plans_a_verified_policy_a_user_and_the_attachment() {
    let (snapshot, config) = demo();
    let opts = FixOptions {
        checks: vec!["none".into()],
        iam: Some(crate::options::IamGrant {
            db: "orders-prod".into(),
            actions: vec!["rds:ModifyDBInstance".into()],
            principal: crate::options::IamPrincipal::User("orders-operator".into()),
            require_encryption: false,
            kms_key: None,
        }),
        ..demo_opts(&config)
    };
    let plan = plan_of(&snapshot, &config, &opts);
    let ops: Vec<&str> = plan.steps.iter().map(|s| s.operation.as_str()).collect();
    assert_eq!(ops, ["CreatePolicy", "CreateUser", "AttachUserPolicy"]);
    let doc = plan.steps[0].parameters["PolicyDocument"].as_str().unwrap();
    assert!(
        doc.contains(":db:orders-prod") && !doc.contains("\"Resource\":\"*\""),
        "{doc}"
    );
    assert!(
        plan.steps[2].parameters["PolicyArn"]
            .as_str()
            .unwrap()
            .starts_with("${")
    );
}
