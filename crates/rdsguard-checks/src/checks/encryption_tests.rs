//! Tests of the encryption checks.

use rdsguard_findings::{Finding, Status};
use rdsguard_model::{
    DbCluster, DbInstance, DbSnapshot, Gap, GapKind, GroupMembership, KmsAlias, KmsKey,
    OptionGroup, OptionGroupOption, RegionSnapshot, ops,
};

use super::*;
use crate::testkit::{region, run, snapshot, status_of};

const ACCT: &str = "111122223333";

fn key_arn(id: &str) -> String {
    format!("arn:aws:kms:us-east-1:{ACCT}:key/{id}")
}

fn key(id: &str, manager: Option<&str>) -> KmsKey {
    KmsKey {
        key_id: id.into(),
        arn: key_arn(id),
        key_manager: manager.map(str::to_string),
        key_state: Some("Enabled".into()),
        key_spec: Some("SYMMETRIC_DEFAULT".into()),
        origin: Some("AWS_KMS".into()),
        ..Default::default()
    }
}

fn encrypted(id: &str, key_id: Option<&str>) -> DbInstance {
    DbInstance {
        db_instance_identifier: id.into(),
        db_instance_arn: format!("arn:aws:rds:us-east-1:{ACCT}:db:{id}"),
        engine: "postgres".into(),
        engine_version: "16.3".into(),
        storage_encrypted: key_id.is_some(),
        kms_key_id: key_id.map(key_arn),
        ..Default::default()
    }
}

fn finding<'a>(findings: &'a [Finding], id: &str) -> &'a Finding {
    findings
        .iter()
        .find(|f| f.resource.id == id)
        .unwrap_or_else(|| panic!("no finding for {id}: {findings:#?}"))
}

fn keys_region() -> RegionSnapshot {
    let mut r = region();
    r.kms.keys = vec![
        key("cmk", Some("CUSTOMER")),
        key("awskey", Some("AWS")),
        key("nomanager", None),
    ];
    r.kms.aliases = vec![KmsAlias {
        alias_name: "alias/aws/rds".into(),
        alias_arn: None,
        target_key_id: Some("aws-rds-not-described".into()),
    }];
    r
}

#[test]
fn instance_cmk_statuses() {
    let mut r = keys_region();
    let mut member = encrypted("member", Some("cmk"));
    member.db_cluster_identifier = Some("c".into());
    let mut no_key = encrypted("no-key", Some("cmk"));
    no_key.kms_key_id = None;
    let mut moto_default = encrypted("moto", Some("cmk"));
    moto_default.kms_key_id = Some("default_kms_key_id".into());
    r.rds.db_instances = vec![
        encrypted("cmk", Some("cmk")),
        encrypted("aws", Some("awskey")),
        encrypted("alias-aws", Some("aws-rds-not-described")),
        encrypted("nomanager", Some("nomanager")),
        encrypted("plain", None),
        encrypted("foreign", None),
        member,
        no_key,
        moto_default,
    ];
    r.rds.db_instances[5].storage_encrypted = true;
    r.rds.db_instances[5].kms_key_id =
        Some("arn:aws:kms:us-east-1:999988887777:key/central".into());
    let f = run(&RDS_INSTANCE_ENCRYPTED_WITH_CMK, &snapshot(r, None));
    let expect = [
        ("cmk", Status::Pass),
        ("aws", Status::Fail),
        ("alias-aws", Status::Fail),
        ("nomanager", Status::NotAssessed),
        ("plain", Status::NotApplicable),
        ("foreign", Status::NotAssessed),
        ("member", Status::NotApplicable),
        ("no-key", Status::NotAssessed),
        ("moto", Status::NotAssessed),
    ];
    for (id, status) in expect {
        assert_eq!(status_of(&f, id), status, "{id}: {:#?}", finding(&f, id));
    }
    assert!(finding(&f, "alias-aws").message.contains("alias/aws/rds"));
    assert!(finding(&f, "foreign").message.contains("999988887777"));
    assert_eq!(finding(&f, "cmk").evidence["key_manager"], "CUSTOMER");
}

#[test]
fn describe_key_gap_explains_not_assessed() {
    let mut r = keys_region();
    r.gaps.push(
        Gap::new(
            ops::KMS_DESCRIBE_KEY,
            Some("us-east-1"),
            GapKind::AccessDenied,
            "denied",
        )
        .with_resource("nomanager"),
    );
    r.rds.db_instances = vec![encrypted("db", Some("nomanager"))];
    let f = run(&RDS_INSTANCE_ENCRYPTED_WITH_CMK, &snapshot(r, None));
    assert_eq!(status_of(&f, "db"), Status::NotAssessed);
    assert!(
        f[0].message.contains("kms:DescribeKey access denied"),
        "{f:#?}"
    );
}

#[test]
fn cluster_and_snapshot_cmk() {
    let mut r = keys_region();
    r.rds.db_clusters = vec![
        DbCluster {
            db_cluster_identifier: "c-cmk".into(),
            db_cluster_arn: "arn:c1".into(),
            engine: "aurora-mysql".into(),
            storage_encrypted: true,
            kms_key_id: Some(key_arn("cmk")),
            ..Default::default()
        },
        DbCluster {
            db_cluster_identifier: "c-plain".into(),
            db_cluster_arn: "arn:c2".into(),
            engine: "aurora-mysql".into(),
            ..Default::default()
        },
    ];
    let snap = |id: &str, kind: &str, key: Option<&str>| DbSnapshot {
        identifier: id.into(),
        arn: format!("arn:{id}"),
        snapshot_type: kind.into(),
        encrypted: key.is_some(),
        kms_key_id: key.map(key_arn),
        ..Default::default()
    };
    r.rds.db_snapshots = vec![
        snap("s-aws", "manual", Some("awskey")),
        snap("s-shared", "shared", Some("awskey")),
        snap("s-plain", "automated", None),
    ];
    r.rds.db_cluster_snapshots = vec![snap("cs-cmk", "manual", Some("cmk"))];
    let f = run(&RDS_CLUSTER_ENCRYPTED_WITH_CMK, &snapshot(r.clone(), None));
    assert_eq!(status_of(&f, "c-cmk"), Status::Pass);
    assert_eq!(status_of(&f, "c-plain"), Status::NotApplicable);
    let f = run(&RDS_SNAPSHOT_ENCRYPTED_WITH_CMK, &snapshot(r, None));
    assert_eq!(status_of(&f, "s-aws"), Status::Fail);
    assert_eq!(status_of(&f, "s-shared"), Status::NotApplicable);
    assert_eq!(status_of(&f, "s-plain"), Status::NotApplicable);
    assert_eq!(status_of(&f, "cs-cmk"), Status::Pass);
    assert_eq!(
        finding(&f, "cs-cmk").resource.resource_type,
        "AwsRdsDbClusterSnapshot"
    );
}

#[test]
fn key_rotation_groups_users_per_key() {
    let mut r = keys_region();
    let mut rotating = key("rotating", Some("CUSTOMER"));
    rotating.rotation_enabled = Some(true);
    let mut fixed = key("fixed", Some("CUSTOMER"));
    fixed.rotation_enabled = Some(false);
    let unknown = key("unknown-rotation", Some("CUSTOMER"));
    let mut imported = key("imported", Some("CUSTOMER"));
    imported.origin = Some("EXTERNAL".into());
    imported.rotation_enabled = Some(false);
    r.kms.keys.extend([rotating, fixed, unknown, imported]);
    let mut pi = encrypted("pi", Some("rotating"));
    pi.performance_insights_enabled = true;
    pi.performance_insights_kms_key_id = Some(key_arn("fixed"));
    r.rds.db_instances = vec![
        encrypted("a", Some("fixed")),
        encrypted("b", Some("fixed")),
        pi,
        encrypted("c", Some("unknown-rotation")),
        encrypted("d", Some("awskey")),
        encrypted("e", Some("imported")),
        encrypted("f", Some("gone")),
    ];
    r.gaps.push(
        Gap::new(
            ops::KMS_GET_KEY_ROTATION_STATUS,
            Some("us-east-1"),
            GapKind::AccessDenied,
            "denied",
        )
        .with_resource("unknown-rotation"),
    );
    let f = run(&RDS_KMS_KEY_ROTATION_ENABLED, &snapshot(r, None));
    assert_eq!(status_of(&f, "rotating"), Status::Pass);
    assert_eq!(status_of(&f, "fixed"), Status::Fail);
    let used_by = finding(&f, "fixed").evidence["used_by"].clone();
    assert_eq!(
        used_by,
        serde_json::json!(["instance:a", "instance:b", "performance-insights:pi"])
    );
    assert_eq!(status_of(&f, "unknown-rotation"), Status::NotAssessed);
    assert!(
        finding(&f, "unknown-rotation")
            .message
            .contains("GetKeyRotationStatus")
    );
    assert_eq!(status_of(&f, "awskey"), Status::NotApplicable);
    assert_eq!(status_of(&f, "imported"), Status::NotApplicable);
    assert_eq!(status_of(&f, "gone"), Status::NotAssessed);
    assert!(finding(&f, "gone").message.contains("instance:f"));
}

#[test]
fn key_usable_states() {
    let mut r = keys_region();
    let mut disabled = key("disabled", Some("CUSTOMER"));
    disabled.key_state = Some("Disabled".into());
    let mut deleting = key("deleting", Some("CUSTOMER"));
    deleting.key_state = Some("PendingDeletion".into());
    deleting.deletion_date = Some("2026-06-08T00:00:00Z".into());
    let mut stateless = key("stateless", Some("CUSTOMER"));
    stateless.key_state = None;
    r.kms.keys.extend([disabled, deleting, stateless]);
    r.rds.db_instances = vec![
        encrypted("ok", Some("cmk")),
        encrypted("disabled", Some("disabled")),
        encrypted("deleting", Some("deleting")),
        encrypted("stateless", Some("stateless")),
        encrypted("aws-alias", Some("aws-rds-not-described")),
        encrypted("plain", None),
    ];
    r.rds.db_clusters = vec![DbCluster {
        db_cluster_identifier: "cluster".into(),
        db_cluster_arn: "arn:c".into(),
        engine: "aurora-postgresql".into(),
        storage_encrypted: true,
        kms_key_id: Some(key_arn("disabled")),
        ..Default::default()
    }];
    let f = run(&RDS_KMS_KEY_USABLE, &snapshot(r, None));
    assert_eq!(status_of(&f, "ok"), Status::Pass);
    assert_eq!(status_of(&f, "disabled"), Status::Fail);
    assert_eq!(status_of(&f, "deleting"), Status::Fail);
    assert!(finding(&f, "deleting").message.contains("2026-06-08"));
    assert_eq!(
        finding(&f, "deleting").evidence["deletion_date"],
        "2026-06-08T00:00:00Z"
    );
    assert_eq!(status_of(&f, "stateless"), Status::NotAssessed);
    assert_eq!(status_of(&f, "aws-alias"), Status::Pass);
    assert_eq!(status_of(&f, "plain"), Status::NotApplicable);
    assert_eq!(status_of(&f, "cluster"), Status::Fail);
}

#[test]
fn performance_insights_key() {
    let mut r = keys_region();
    let mut cmk = encrypted("pi-cmk", Some("cmk"));
    cmk.performance_insights_enabled = true;
    cmk.performance_insights_kms_key_id = Some(key_arn("cmk"));
    let mut aws = encrypted("pi-aws", Some("cmk"));
    aws.performance_insights_enabled = true;
    aws.performance_insights_kms_key_id = Some(key_arn("awskey"));
    let mut nokey = encrypted("pi-nokey", Some("cmk"));
    nokey.performance_insights_enabled = true;
    r.rds.db_instances = vec![cmk, aws, nokey, encrypted("pi-off", Some("cmk"))];
    let f = run(
        &RDS_PERFORMANCE_INSIGHTS_ENCRYPTED_WITH_CMK,
        &snapshot(r, None),
    );
    assert_eq!(status_of(&f, "pi-cmk"), Status::Pass);
    assert_eq!(status_of(&f, "pi-aws"), Status::Fail);
    assert_eq!(status_of(&f, "pi-nokey"), Status::NotAssessed);
    assert_eq!(status_of(&f, "pi-off"), Status::NotApplicable);
}

fn with_options(r: &mut RegionSnapshot, id: &str, engine: &str, version: &str, options: &[&str]) {
    let og = format!("og-{id}");
    r.rds.option_groups.push(OptionGroup {
        name: og.clone(),
        options: options
            .iter()
            .map(|o| OptionGroupOption {
                option_name: o.to_string(),
                port: None,
                vpc_security_group_ids: vec![],
                settings: vec![],
            })
            .collect(),
        ..Default::default()
    });
    let mut db = encrypted(id, Some("cmk"));
    db.engine = engine.into();
    db.engine_version = version.into();
    db.option_group_memberships = vec![GroupMembership {
        name: og,
        status: "in-sync".into(),
    }];
    r.rds.db_instances.push(db);
}

#[test]
fn oracle_tde() {
    let mut r = region();
    let v = "19.0.0.0.ru-2024-04.rur-2024-04.r1";
    with_options(&mut r, "tde", "oracle-ee", v, &["TDE"]);
    with_options(&mut r, "tde-hsm", "oracle-ee-cdb", v, &["TDE_HSM"]);
    with_options(&mut r, "no-tde", "oracle-ee", v, &["SSL"]);
    with_options(&mut r, "se2", "oracle-se2", v, &[]);
    with_options(&mut r, "pg", "postgres", "16.3", &[]);
    with_options(&mut r, "custom", "custom-oracle-ee", v, &[]);
    let mut missing = encrypted("missing-og", Some("cmk"));
    missing.engine = "oracle-ee".into();
    missing.option_group_memberships = vec![GroupMembership {
        name: "absent".into(),
        status: "in-sync".into(),
    }];
    r.rds.db_instances.push(missing);
    let f = run(&RDS_INSTANCE_ORACLE_TDE, &snapshot(r, None));
    let expect = [
        ("tde", Status::Pass),
        ("tde-hsm", Status::Pass),
        ("no-tde", Status::Fail),
        ("se2", Status::NotApplicable),
        ("pg", Status::NotApplicable),
        ("custom", Status::NotAssessed),
        ("missing-og", Status::NotAssessed),
    ];
    for (id, status) in expect {
        assert_eq!(status_of(&f, id), status, "{id}: {:#?}", finding(&f, id));
    }
}

#[test]
fn sqlserver_tde_by_edition_and_version() {
    let mut r = region();
    with_options(
        &mut r,
        "ee-2016",
        "sqlserver-ee",
        "13.00.6435.1.v1",
        &["TDE"],
    );
    with_options(&mut r, "ee-none", "sqlserver-ee", "16.00.4120.1.v1", &[]);
    with_options(
        &mut r,
        "se-2019",
        "sqlserver-se",
        "15.00.4365.2.v1",
        &["TRANSPARENT_DATA_ENCRYPTION"],
    );
    with_options(
        &mut r,
        "se-2019-none",
        "sqlserver-se",
        "15.00.4365.2.v1",
        &[],
    );
    with_options(&mut r, "se-2017", "sqlserver-se", "14.00.3465.1.v1", &[]);
    with_options(&mut r, "web", "sqlserver-web", "16.00.4120.1.v1", &[]);
    with_options(&mut r, "se-noversion", "sqlserver-se", "", &[]);
    let f = run(&RDS_INSTANCE_SQLSERVER_TDE, &snapshot(r, None));
    let expect = [
        ("ee-2016", Status::Pass),
        ("ee-none", Status::Fail),
        ("se-2019", Status::Pass),
        ("se-2019-none", Status::Fail),
        ("se-2017", Status::NotApplicable),
        ("web", Status::NotApplicable),
        ("se-noversion", Status::NotAssessed),
    ];
    for (id, status) in expect {
        assert_eq!(status_of(&f, id), status, "{id}: {:#?}", finding(&f, id));
    }
}

#[test]
fn sqlserver_tde_pending_option_group_fails() {
    let mut r = region();
    with_options(
        &mut r,
        "pending",
        "sqlserver-ee",
        "16.00.4120.1.v1",
        &["TDE"],
    );
    r.rds.db_instances[0].option_group_memberships[0].status = "pending-apply".into();
    let f = run(&RDS_INSTANCE_SQLSERVER_TDE, &snapshot(r, None));
    assert_eq!(status_of(&f, "pending"), Status::Fail);
    assert!(f[0].message.contains("pending-apply"));
}
