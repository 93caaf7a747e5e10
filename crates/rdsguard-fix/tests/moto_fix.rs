//! End to end against moto, for every remediation moto emulates: seed the problem, collect,
//! audit, plan, apply through the AWS SDK, re-collect and re-audit to PASS, plan again and get
//! nothing. A denied call in the middle (the fault-injecting proxy of the collector's tests)
//! stops the run with the journal intact, and `resume` finishes it.
//!
//! The collector's moto helpers (one fresh moto account per test, the proxy) are shared by
//! path. Without RDSGUARD_MOTO_ENDPOINT (scripts/test.sh sets it) the tests are skipped, and
//! fail in CI.

#[path = "../../rdsguard-collect/tests/moto/proxy.rs"]
#[allow(dead_code)]
mod proxy;
#[path = "../../rdsguard-collect/tests/moto/support.rs"]
#[allow(dead_code)]
mod support;

use aws_sdk_ec2::types as ec2t;
use aws_sdk_rds::types as rdst;
use aws_types::SdkConfig;
use rdsguard_checks::Config;
use rdsguard_collect::{NoProgress, collect_with_sdk_config};
use rdsguard_findings::{Finding, Status};
use rdsguard_fix::aws::SdkExecutor;
use rdsguard_fix::{ApplyError, FixOptions, Journal, Plan, Remediation};
use rdsguard_model::{Op, Snapshot};
use support::{REGION, endpoint, fresh_account, options, sdk_config};

async fn collect(sdk: &SdkConfig, moto: &str) -> Snapshot {
    collect_with_sdk_config(sdk, &options(moto, &[REGION]), &NoProgress)
        .await
        .expect("collection")
        .0
}

fn audit(snapshot: &Snapshot) -> Vec<Finding> {
    rdsguard_checks::evaluate_with(
        snapshot,
        &Config::default(),
        time::OffsetDateTime::now_utc(),
        &rdsguard_checks::check_defs(),
    )
}

fn executor(sdk: &SdkConfig) -> SdkExecutor {
    let mut exec = SdkExecutor::from_sdk_config(sdk.clone());
    exec.poll_interval = std::time::Duration::from_millis(200);
    exec.wait_timeout = std::time::Duration::from_secs(60);
    exec
}

/// Audit, plan with `opts`, and return (plan, findings).
async fn plan_live(sdk: &SdkConfig, moto: &str, opts: &FixOptions) -> (Plan, Vec<Finding>) {
    let snapshot = collect(sdk, moto).await;
    let findings = audit(&snapshot);
    let plan = rdsguard_fix::plan(&snapshot, &findings, opts).expect("plan");
    (plan, findings)
}

/// Every finding the plan fixes passes in a fresh audit.
async fn assert_fixed(sdk: &SdkConfig, moto: &str, plan: &Plan) {
    let after = audit(&collect(sdk, moto).await);
    let outcome = rdsguard_fix::outcome::compare(plan, &after);
    assert!(
        outcome.not_yet.is_empty(),
        "findings still failing after the fix: {:#?}",
        outcome.not_yet
    );
    assert_eq!(outcome.now_passing.len(), plan.fixed_findings().len());
}

struct Vpc {
    vpc_id: String,
    open_sg: String,
    /// Only the VPC on 5432.
    private_sg: String,
}

/// A VPC with two subnets, a DB subnet group `db-subnets`, and a security group open to the
/// internet on 5432 (plus an office network that must keep access).
async fn seed_network(sdk: &SdkConfig) -> Vpc {
    let ec2 = aws_sdk_ec2::Client::new(sdk);
    let rds = aws_sdk_rds::Client::new(sdk);
    let vpc_id = ec2
        .create_vpc()
        .cidr_block("10.20.0.0/16")
        .send()
        .await
        .unwrap()
        .vpc()
        .and_then(|v| v.vpc_id())
        .unwrap()
        .to_string();
    let mut subnets = Vec::new();
    for (cidr, az) in [
        ("10.20.1.0/24", "us-east-1a"),
        ("10.20.2.0/24", "us-east-1b"),
    ] {
        let s = ec2
            .create_subnet()
            .vpc_id(&vpc_id)
            .cidr_block(cidr)
            .availability_zone(az)
            .send()
            .await
            .unwrap();
        subnets.push(s.subnet().and_then(|s| s.subnet_id()).unwrap().to_string());
    }
    rds.create_db_subnet_group()
        .db_subnet_group_name("db-subnets")
        .db_subnet_group_description("db")
        .set_subnet_ids(Some(subnets))
        .send()
        .await
        .unwrap();
    let open_sg = ec2
        .create_security_group()
        .group_name("db-open")
        .description("open to the world")
        .vpc_id(&vpc_id)
        .send()
        .await
        .unwrap()
        .group_id()
        .unwrap()
        .to_string();
    let perm = |cidr: &str| {
        ec2t::IpPermission::builder()
            .ip_protocol("tcp")
            .from_port(5432)
            .to_port(5432)
            .ip_ranges(ec2t::IpRange::builder().cidr_ip(cidr).build())
            .build()
    };
    ec2.authorize_security_group_ingress()
        .group_id(&open_sg)
        .ip_permissions(perm("0.0.0.0/0"))
        .ip_permissions(perm("192.0.2.0/24"))
        .send()
        .await
        .unwrap();
    let private_sg = ec2
        .create_security_group()
        .group_name("db-private")
        .description("the VPC only")
        .vpc_id(&vpc_id)
        .send()
        .await
        .unwrap()
        .group_id()
        .unwrap()
        .to_string();
    ec2.authorize_security_group_ingress()
        .group_id(&private_sg)
        .ip_permissions(perm("10.20.0.0/16"))
        .send()
        .await
        .unwrap();
    Vpc {
        vpc_id,
        open_sg,
        private_sg,
    }
}

/// The checks of the first test. The instance TLS check cannot be assessed on moto (its
/// DescribeOptionGroups listing fails with a KeyError in moto 5.2.5), so TLS is exercised on
/// an Aurora cluster parameter group; the instance path is covered by the golden plans.
const CORE_CHECKS: &[&str] = &[
    "rds_instance_no_public_access",
    "rds_db_port_open_to_internet",
    "rds_cluster_tls_enforced",
    "rds_instance_ca_obsolete",
    "rds_instance_deletion_protection",
    "rds_instance_backup_retention",
    "rds_instance_copy_tags_to_snapshots",
    "rds_instance_auto_minor_version_upgrade",
    "rds_instance_iam_authentication",
    "rds_instance_log_exports",
    "rds_snapshot_public",
    "rds_snapshot_shared_with_untrusted_account",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn network_tls_protection_and_snapshot_privacy_with_a_denied_call_and_resume() {
    let Some(moto) = endpoint() else { return };
    let account = fresh_account(61);
    let sdk = sdk_config(&account, &moto, Some(REGION)).await;
    let vpc = seed_network(&sdk).await;
    let rds = aws_sdk_rds::Client::new(&sdk);
    rds.create_db_instance()
        .db_instance_identifier("orders")
        .engine("postgres")
        .engine_version("14.10")
        .db_instance_class("db.t3.micro")
        .allocated_storage(20)
        .master_username("orders_admin")
        .master_user_password("not-a-real-secret-1")
        .db_subnet_group_name("db-subnets")
        .vpc_security_group_ids(&vpc.open_sg)
        .publicly_accessible(true)
        .backup_retention_period(1)
        .ca_certificate_identifier("rds-ca-2019")
        .auto_minor_version_upgrade(false)
        .send()
        .await
        .unwrap();
    // An Aurora PostgreSQL cluster whose cluster parameter group does not force TLS.
    rds.create_db_cluster_parameter_group()
        .db_cluster_parameter_group_name("events-cpg")
        .db_parameter_group_family("aurora-postgresql15")
        .description("TLS not forced")
        .send()
        .await
        .unwrap();
    rds.modify_db_cluster_parameter_group()
        .db_cluster_parameter_group_name("events-cpg")
        .parameters(
            rdst::Parameter::builder()
                .parameter_name("rds.force_ssl")
                .parameter_value("0")
                .apply_method(rdst::ApplyMethod::Immediate)
                .build(),
        )
        .send()
        .await
        .unwrap();
    rds.create_db_cluster()
        .db_cluster_identifier("events")
        .engine("aurora-postgresql")
        .engine_version("15.4")
        .master_username("events_admin")
        .master_user_password("not-a-real-secret-4")
        .db_cluster_parameter_group_name("events-cpg")
        .db_subnet_group_name("db-subnets")
        .vpc_security_group_ids(&vpc.private_sg)
        .storage_encrypted(true)
        .deletion_protection(true)
        .send()
        .await
        .unwrap();
    rds.create_db_snapshot()
        .db_instance_identifier("orders")
        .db_snapshot_identifier("orders-manual")
        .send()
        .await
        .unwrap();
    rds.modify_db_snapshot_attribute()
        .db_snapshot_identifier("orders-manual")
        .attribute_name("restore")
        .values_to_add("all")
        .values_to_add("999988887777")
        .send()
        .await
        .unwrap();

    let opts = FixOptions {
        checks: CORE_CHECKS.iter().map(|s| s.to_string()).collect(),
        ..FixOptions::default()
    };
    let (plan, findings) = plan_live(&sdk, &moto, &opts).await;
    let failing: Vec<&str> = findings
        .iter()
        .filter(|f| f.status == Status::Fail && CORE_CHECKS.contains(&&*f.check_id))
        .map(|f| &*f.check_id)
        .collect();
    for check in CORE_CHECKS {
        assert!(
            failing.contains(check),
            "the seed must fail {check}: {failing:?}"
        );
    }
    for r in [
        Remediation::Network,
        Remediation::Tls,
        Remediation::Protection,
        Remediation::SnapshotPrivacy,
    ] {
        assert!(plan.steps.iter().any(|s| s.remediation == r), "no {r} step");
    }
    assert!(plan.skipped.is_empty(), "{:#?}", plan.skipped);
    // The office network keeps access through the dedicated group; the internet does not.
    let ingress = plan
        .steps
        .iter()
        .find(|s| s.operation == "AuthorizeSecurityGroupIngress")
        .expect("ingress step");
    let text = ingress.parameters.to_string();
    assert!(
        text.contains("192.0.2.0/24") && !text.contains("0.0.0.0/0"),
        "{text}"
    );
    let plan_json = serde_json::to_string(&plan).unwrap();
    assert!(!plan_json.contains("not-a-real-secret-1"));

    // First run through a proxy that denies ModifyDBSnapshotAttribute (the snapshot privacy
    // step, after the network, TLS and protection steps): it stops there.
    let dir = tempfile::tempdir().unwrap();
    let journal_path = dir.path().join("fix.journal");
    let denied = Op {
        service: "rds",
        operation: "ModifyDBSnapshotAttribute",
    };
    let proxy = proxy::Proxy::start(&moto, Some(proxy::Fault::Deny(denied))).await;
    let via_proxy = sdk_config(&account, &proxy.url, Some(REGION)).await;
    let mut journal = Journal::create(&journal_path, &plan).unwrap();
    let err = rdsguard_fix::apply(&executor(&via_proxy), &mut journal, &mut |_| {})
        .await
        .expect_err("the denied call stops the run");
    let ApplyError::StepFailed { step_id, error, .. } = &err else {
        panic!("unexpected error {err}");
    };
    assert_eq!(
        plan.step(step_id).unwrap().operation,
        "ModifyDBSnapshotAttribute"
    );
    assert!(error.to_string().contains("AccessDenied"), "{error}");
    assert!(err.to_string().contains("--resume"), "{err}");
    let done_before = journal.state.succeeded.len();
    assert!(done_before > 0 && done_before < plan.steps.len());
    drop(journal);
    drop(proxy);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&journal_path)
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    // Resume directly against moto: the completed steps are re-checked, the rest applied.
    let mut journal = Journal::open(&journal_path, Some(&plan)).unwrap();
    let report = rdsguard_fix::apply(&executor(&sdk), &mut journal, &mut |_| {})
        .await
        .expect("resume completes");
    assert_eq!(report.already_done.len(), done_before);
    assert_eq!(report.applied.len() + done_before, plan.steps.len());
    assert!(journal.state.finished);

    assert_fixed(&sdk, &moto, &plan).await;
    // Nothing is deleted: the old group still exists, only detached and without the
    // internet rule.
    let ec2 = aws_sdk_ec2::Client::new(&sdk);
    let groups = ec2
        .describe_security_groups()
        .group_ids(&vpc.open_sg)
        .send()
        .await
        .unwrap();
    assert_eq!(groups.security_groups().len(), 1);
    let (again, _) = plan_live(&sdk, &moto, &opts).await;
    assert!(again.steps.is_empty(), "second plan: {:#?}", again.steps);
    let _ = vpc.vpc_id;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn encryption_makes_encrypted_copies_and_leaves_the_originals() {
    let Some(moto) = endpoint() else { return };
    let account = fresh_account(62);
    let sdk = sdk_config(&account, &moto, Some(REGION)).await;
    let vpc = seed_network(&sdk).await;
    let rds = aws_sdk_rds::Client::new(&sdk);
    rds.create_db_instance()
        .db_instance_identifier("ledger")
        .engine("postgres")
        .engine_version("16.3")
        .db_instance_class("db.t3.micro")
        .allocated_storage(20)
        .master_username("ledger_admin")
        .master_user_password("not-a-real-secret-2")
        .db_subnet_group_name("db-subnets")
        .vpc_security_group_ids(&vpc.open_sg)
        .deletion_protection(true)
        .tags(rdst::Tag::builder().key("team").value("finance").build())
        .send()
        .await
        .unwrap();
    rds.create_db_snapshot()
        .db_instance_identifier("ledger")
        .db_snapshot_identifier("ledger-2026-11")
        .send()
        .await
        .unwrap();
    // An unencrypted Aurora cluster with one member.
    rds.create_db_cluster()
        .db_cluster_identifier("reports")
        .engine("aurora-postgresql")
        .engine_version("15.4")
        .master_username("reports_admin")
        .master_user_password("not-a-real-secret-5")
        .db_subnet_group_name("db-subnets")
        .vpc_security_group_ids(&vpc.private_sg)
        .send()
        .await
        .unwrap();
    rds.create_db_instance()
        .db_instance_identifier("reports-1")
        .db_cluster_identifier("reports")
        .engine("aurora-postgresql")
        .db_instance_class("db.r6g.large")
        .availability_zone("us-east-1a")
        .send()
        .await
        .unwrap();
    let checks = [
        "rds_instance_storage_encrypted",
        "rds_cluster_storage_encrypted",
        "rds_snapshot_encrypted",
    ];
    let opts = FixOptions {
        checks: checks.iter().map(|s| s.to_string()).collect(),
        dbs: vec!["ledger".into(), "ledger-2026-11".into(), "reports".into()],
        ..FixOptions::default()
    };
    let (plan, _) = plan_live(&sdk, &moto, &opts).await;
    let ops: Vec<&str> = plan.steps.iter().map(|s| s.operation.as_str()).collect();
    for op in [
        "CreateKey",
        "EnableKeyRotation",
        "CreateAlias",
        "CreateDBSnapshot",
        "CopyDBSnapshot",
        "RestoreDBInstanceFromDBSnapshot",
        "CreateDBClusterSnapshot",
        "CopyDBClusterSnapshot",
        "RestoreDBClusterFromSnapshot",
        "CreateDBInstance",
    ] {
        assert!(ops.contains(&op), "{op} missing from {ops:?}");
    }
    let restore = plan
        .steps
        .iter()
        .find(|s| s.operation == "RestoreDBInstanceFromDBSnapshot")
        .unwrap();
    assert_eq!(
        restore.parameters["DBInstanceIdentifier"],
        "ledger-encrypted"
    );
    assert_eq!(restore.parameters["DeletionProtection"], true);
    assert_eq!(restore.parameters["DBSubnetGroupName"], "db-subnets");
    assert!(
        !serde_json::to_string(&plan)
            .unwrap()
            .contains("not-a-real-secret-2")
    );

    let dir = tempfile::tempdir().unwrap();
    let mut journal = Journal::create(&dir.path().join("enc.journal"), &plan).unwrap();
    rdsguard_fix::apply(&executor(&sdk), &mut journal, &mut |_| {})
        .await
        .expect("apply");

    let snapshot = collect(&sdk, &moto).await;
    let after = audit(&snapshot);
    let status = |check: &str, id: &str| {
        after
            .iter()
            .find(|f| &*f.check_id == check && &*f.resource.id == id)
            .map(|f| f.status)
    };
    assert_eq!(
        status("rds_instance_storage_encrypted", "ledger-encrypted"),
        Some(Status::Pass)
    );
    let outcome = rdsguard_fix::outcome::compare(&plan, &after);
    assert!(outcome.not_yet.is_empty(), "{:#?}", outcome.not_yet);
    assert!(
        outcome
            .passing_on_copy
            .iter()
            .any(|(original, copy)| original.resource_id == "ledger"
                && copy.resource_id == "ledger-encrypted")
    );
    assert_eq!(
        status("rds_snapshot_encrypted", "ledger-2026-11-encrypted"),
        Some(Status::Pass)
    );
    assert_eq!(
        status("rds_cluster_storage_encrypted", "reports-encrypted"),
        Some(Status::Pass)
    );
    assert_eq!(
        status("rds_cluster_storage_encrypted", "reports"),
        Some(Status::Fail)
    );
    let members: Vec<&str> = snapshot.accounts[0].regions[0]
        .rds
        .db_clusters
        .iter()
        .filter(|c| c.db_cluster_identifier == "reports-encrypted")
        .flat_map(|c| c.members.iter().map(|m| m.db_instance_identifier.as_str()))
        .collect();
    assert_eq!(members, ["reports-1-encrypted"]);
    // The originals are untouched.
    assert_eq!(
        status("rds_instance_storage_encrypted", "ledger"),
        Some(Status::Fail)
    );
    assert_eq!(
        status("rds_snapshot_encrypted", "ledger-2026-11"),
        Some(Status::Fail)
    );
    let region = &snapshot.accounts[0].regions[0];
    let key = region
        .kms
        .keys
        .iter()
        .find(|k| k.aliases.iter().any(|a| a == "alias/rdsguard-rds"))
        .expect("the key and its alias");
    assert_eq!(key.rotation_enabled, Some(true));
    let copy = region
        .rds
        .db_instances
        .iter()
        .find(|d| d.db_instance_identifier == "ledger-encrypted")
        .unwrap();
    assert!(copy.deletion_protection);
    assert_eq!(copy.tags.get("team").map(String::as_str), Some("finance"));

    // Second run: nothing to do, and the plan says why.
    let again = rdsguard_fix::plan(&snapshot, &after, &opts).unwrap();
    assert!(again.steps.is_empty(), "{:#?}", again.steps);
    assert!(
        again
            .skipped
            .iter()
            .any(|s| s.reason.contains("ledger-encrypted"))
    );
}

/// moto cannot list option groups (DescribeOptionGroups fails with a KeyError in moto 5.2.5),
/// so the TDE check is NOT_ASSESSED there: this test plans from the FAIL finding the check
/// gives on AWS (synthesized from the NOT_ASSESSED one), applies the plan for real, and
/// verifies the instance's option group membership with DescribeDBInstances.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tde_option_group_and_least_privilege_iam_policy() {
    let Some(moto) = endpoint() else { return };
    let account = fresh_account(63);
    let sdk = sdk_config(&account, &moto, Some(REGION)).await;
    let vpc = seed_network(&sdk).await;
    let rds = aws_sdk_rds::Client::new(&sdk);
    rds.create_db_instance()
        .db_instance_identifier("erp")
        .engine("oracle-ee")
        .engine_version("19.0.0.0.ru-2024-04.rur-2024-04.r1")
        .db_instance_class("db.m5.large")
        .allocated_storage(100)
        .master_username("erp_admin")
        .master_user_password("not-a-real-secret-3")
        .license_model("bring-your-own-license")
        .db_subnet_group_name("db-subnets")
        .vpc_security_group_ids(&vpc.private_sg)
        .storage_encrypted(true)
        .send()
        .await
        .unwrap();
    let opts = FixOptions {
        checks: vec!["rds_instance_oracle_tde".into()],
        iam: Some(rdsguard_fix::IamGrant {
            db: "erp".into(),
            actions: vec!["rds:ModifyDBInstance".into(), "rds:RebootDBInstance".into()],
            principal: rdsguard_fix::IamPrincipal::User("erp-operator".into()),
            require_encryption: false,
            kms_key: None,
        }),
        ..FixOptions::default()
    };
    let snapshot = collect(&sdk, &moto).await;
    let mut findings = audit(&snapshot);
    let tde = findings
        .iter_mut()
        .find(|f| &*f.check_id == "rds_instance_oracle_tde")
        .expect("the TDE check ran");
    assert_eq!(
        tde.status,
        Status::NotAssessed,
        "moto learned to list option groups: drop the synthesis"
    );
    tde.status = Status::Fail;
    let mut resource = (*tde.resource).clone();
    resource.id = "erp".into();
    resource.resource_type = "AwsRdsDbInstance".into();
    tde.resource = resource.into();
    let plan = rdsguard_fix::plan(&snapshot, &findings, &opts).unwrap();
    let ops: Vec<&str> = plan.steps.iter().map(|s| s.operation.as_str()).collect();
    assert_eq!(
        ops,
        [
            "CreateOptionGroup",
            "ModifyOptionGroup",
            "ModifyDBInstance",
            "CreatePolicy",
            "CreateUser",
            "AttachUserPolicy"
        ]
    );
    let dir = tempfile::tempdir().unwrap();
    let mut journal = Journal::create(&dir.path().join("tde.journal"), &plan).unwrap();
    rdsguard_fix::apply(&executor(&sdk), &mut journal, &mut |_| {})
        .await
        .expect("apply");
    let group = plan.steps[0].parameters["OptionGroupName"]
        .as_str()
        .unwrap()
        .to_string();
    let db = rds
        .describe_db_instances()
        .db_instance_identifier("erp")
        .send()
        .await
        .unwrap();
    let memberships: Vec<&str> = db.db_instances()[0]
        .option_group_memberships()
        .iter()
        .filter_map(|m| m.option_group_name())
        .collect();
    assert_eq!(memberships, [group.as_str()]);

    let snapshot = collect(&sdk, &moto).await;
    let iam = snapshot.accounts[0].iam.as_ref().expect("IAM collected");
    let user = iam
        .users
        .iter()
        .find(|u| u.name == "erp-operator")
        .expect("user");
    assert!(
        user.attached_policy_arns
            .iter()
            .any(|a| a.ends_with(":policy/rdsguard-erp-access"))
    );
    // Second run: the IAM grant is in place, so nothing is planned for it.
    let again = rdsguard_fix::plan(&snapshot, &audit(&snapshot), &opts).unwrap();
    assert!(again.steps.is_empty(), "{:#?}", again.steps);
}
