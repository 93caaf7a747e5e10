//! Tests of the logging, CloudTrail and Security Hub checks.

use rdsguard_findings::{Finding, Status};
use rdsguard_model::{
    ClusterMember, DbCluster, DbInstance, Gap, GapKind, ManagementEvents, Parameter,
    ParameterGroup, RegionSnapshot, Trail, ops,
};

use super::*;
use crate::testkit::{REGION, region, run, snapshot, status_of};

fn finding<'a>(findings: &'a [Finding], id: &str) -> &'a Finding {
    findings
        .iter()
        .find(|f| f.resource.id == id)
        .unwrap_or_else(|| panic!("no finding for {id}: {findings:#?}"))
}

fn db(id: &str, engine: &str, logs: &[&str]) -> DbInstance {
    DbInstance {
        db_instance_identifier: id.into(),
        db_instance_arn: format!("arn:aws:rds:us-east-1:111122223333:db:{id}"),
        engine: engine.into(),
        enabled_cloudwatch_logs_exports: logs.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    }
}

fn cluster(id: &str, engine: &str, logs: &[&str]) -> DbCluster {
    DbCluster {
        db_cluster_identifier: id.into(),
        db_cluster_arn: format!("arn:aws:rds:us-east-1:111122223333:cluster:{id}"),
        engine: engine.into(),
        engine_version: "8.0.mysql_aurora.3.05.2".into(),
        enabled_cloudwatch_logs_exports: logs.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    }
}

#[test]
fn instance_log_exports_lists_missing_types() {
    let mut r = region();
    let mut member = db("member", "aurora-mysql", &[]);
    member.db_cluster_identifier = Some("c".into());
    r.rds.db_instances = vec![
        db("pg-ok", "postgres", &["postgresql", "upgrade"]),
        db("pg-half", "postgres", &["postgresql"]),
        db(
            "ora-ok",
            "oracle-ee",
            &["alert", "audit", "trace", "listener"],
        ),
        db("ss-none", "sqlserver-se", &[]),
        db(
            "maria-ok",
            "mariadb",
            &["Audit", "error", "general", "slowquery"],
        ),
        db("db2", "db2-se", &[]),
        member,
    ];
    let f = run(&RDS_INSTANCE_LOG_EXPORTS, &snapshot(r, None));
    assert_eq!(status_of(&f, "pg-ok"), Status::Pass);
    assert_eq!(status_of(&f, "pg-half"), Status::Fail);
    assert_eq!(
        finding(&f, "pg-half").evidence["missing_log_types"],
        serde_json::json!(["upgrade"])
    );
    assert_eq!(status_of(&f, "ora-ok"), Status::Pass);
    assert_eq!(status_of(&f, "ss-none"), Status::Fail);
    assert_eq!(
        finding(&f, "ss-none").evidence["missing_log_types"],
        serde_json::json!(["error", "agent"])
    );
    assert_eq!(status_of(&f, "maria-ok"), Status::Pass);
    assert_eq!(status_of(&f, "db2"), Status::NotApplicable);
    assert_eq!(status_of(&f, "member"), Status::NotApplicable);
}

#[test]
fn cluster_log_exports() {
    let mut r = region();
    let mut serverless = cluster("sls", "aurora-mysql", &[]);
    serverless.engine_mode = Some("serverless".into());
    r.rds.db_clusters = vec![
        cluster(
            "ams-ok",
            "aurora-mysql",
            &["audit", "error", "general", "slowquery"],
        ),
        cluster(
            "ams-noaudit",
            "aurora-mysql",
            &["error", "general", "slowquery"],
        ),
        cluster("apg-ok", "aurora-postgresql", &["postgresql"]),
        cluster("neptune", "neptune", &[]),
        serverless,
    ];
    let f = run(&RDS_CLUSTER_LOG_EXPORTS, &snapshot(r, None));
    assert_eq!(status_of(&f, "ams-ok"), Status::Pass);
    assert_eq!(status_of(&f, "ams-noaudit"), Status::Fail);
    assert!(finding(&f, "ams-noaudit").message.contains("audit"));
    assert_eq!(status_of(&f, "apg-ok"), Status::Pass);
    assert_eq!(status_of(&f, "neptune"), Status::NotApplicable);
    assert_eq!(status_of(&f, "sls"), Status::NotApplicable);
}

fn audit_group(name: &str, params: &[(&str, Option<&str>)]) -> ParameterGroup {
    ParameterGroup {
        name: name.into(),
        parameters: params
            .iter()
            .map(|(k, v)| {
                (
                    k.to_string(),
                    Parameter {
                        value: v.map(str::to_string),
                        ..Default::default()
                    },
                )
            })
            .collect(),
        ..Default::default()
    }
}

#[test]
fn aurora_mysql_audit_logging() {
    let mut r = region();
    r.rds.db_cluster_parameter_groups = vec![
        audit_group(
            "on",
            &[
                ("server_audit_logging", Some("1")),
                ("server_audit_events", Some("CONNECT,QUERY_DDL")),
            ],
        ),
        audit_group(
            "off",
            &[
                ("server_audit_logging", Some("0")),
                ("server_audit_events", None),
            ],
        ),
        audit_group(
            "no-events",
            &[
                ("server_audit_logging", Some("1")),
                ("server_audit_events", None),
            ],
        ),
        audit_group("unset", &[]),
    ];
    let with_group = |id: &str, g: &str, status: &str| DbCluster {
        db_cluster_parameter_group: Some(g.into()),
        members: vec![ClusterMember {
            db_instance_identifier: format!("{id}-1"),
            is_cluster_writer: true,
            db_cluster_parameter_group_status: Some(status.into()),
        }],
        ..cluster(id, "aurora-mysql", &[])
    };
    r.rds.db_clusters = vec![
        with_group("on", "on", "in-sync"),
        with_group("off", "off", "in-sync"),
        with_group("no-events", "no-events", "in-sync"),
        with_group("unset", "unset", "in-sync"),
        with_group("pending", "on", "pending-reboot"),
        with_group("missing", "absent", "in-sync"),
        cluster("apg", "aurora-postgresql", &[]),
    ];
    let f = run(&RDS_CLUSTER_AURORA_MYSQL_AUDIT_LOGGING, &snapshot(r, None));
    let expect = [
        ("on", Status::Pass),
        ("off", Status::Fail),
        ("no-events", Status::Fail),
        ("unset", Status::NotAssessed),
        ("pending", Status::Fail),
        ("missing", Status::NotAssessed),
        ("apg", Status::NotApplicable),
    ];
    for (id, status) in expect {
        assert_eq!(status_of(&f, id), status, "{id}: {:#?}", finding(&f, id));
    }
}

fn trail(
    name: &str,
    multi: bool,
    logging: Option<bool>,
    events: Option<ManagementEvents>,
) -> Trail {
    Trail {
        name: name.into(),
        trail_arn: format!("arn:aws:cloudtrail:us-east-1:111122223333:trail/{name}"),
        home_region: Some(REGION.into()),
        is_multi_region_trail: multi,
        is_logging: logging,
        management_events: events,
        ..Default::default()
    }
}

fn rw() -> Option<ManagementEvents> {
    Some(ManagementEvents {
        write: true,
        read: true,
        excluded_event_sources: vec![],
    })
}

fn with_db(trails: Vec<Trail>) -> RegionSnapshot {
    let mut r = region();
    r.rds.db_instances = vec![db("db", "postgres", &[])];
    r.cloudtrail.trails = trails;
    r
}

fn region_status(def: &CheckDef, r: RegionSnapshot) -> (Status, String) {
    let f = run(def, &snapshot(r, None));
    assert_eq!(f.len(), 1, "{f:#?}");
    (f[0].status, f[0].message.to_string())
}

#[test]
fn rds_management_events() {
    let def = &CLOUDTRAIL_RDS_MANAGEMENT_EVENTS_RECORDED;
    assert_eq!(region_status(def, region()).0, Status::NotApplicable);
    assert_eq!(region_status(def, with_db(vec![])).0, Status::Fail);
    assert_eq!(
        region_status(def, with_db(vec![trail("t", false, Some(true), rw())])).0,
        Status::Pass
    );
    let excluded = Some(ManagementEvents {
        write: true,
        read: true,
        excluded_event_sources: vec!["rds.amazonaws.com".into()],
    });
    let (s, m) = region_status(def, with_db(vec![trail("t", true, Some(true), excluded)]));
    assert_eq!(s, Status::Fail);
    assert!(m.contains("excludes rds.amazonaws.com"), "{m}");
    let read_only = Some(ManagementEvents {
        write: false,
        read: true,
        excluded_event_sources: vec![],
    });
    assert_eq!(
        region_status(def, with_db(vec![trail("t", true, Some(true), read_only)])).0,
        Status::Fail
    );
    assert_eq!(
        region_status(def, with_db(vec![trail("t", true, Some(false), rw())])).0,
        Status::Fail
    );
    // A single-region trail homed elsewhere does not cover this region.
    let mut elsewhere = trail("t", false, Some(true), rw());
    elsewhere.home_region = Some("eu-west-1".into());
    assert_eq!(region_status(def, with_db(vec![elsewhere])).0, Status::Fail);
    // Unknown logging status: not assessed, with the per-trail gap as reason.
    let mut r = with_db(vec![trail("t", true, None, rw())]);
    r.gaps.push(
        Gap::new(
            ops::CLOUDTRAIL_GET_TRAIL_STATUS,
            Some(REGION),
            GapKind::AccessDenied,
            "denied",
        )
        .with_resource("t"),
    );
    let (s, m) = region_status(def, r);
    assert_eq!(s, Status::NotAssessed);
    assert!(m.contains("GetTrailStatus access denied"), "{m}");
    // A known-good trail wins over an unknown one.
    assert_eq!(
        region_status(
            def,
            with_db(vec![
                trail("u", true, None, None),
                trail("t", true, Some(true), rw())
            ])
        )
        .0,
        Status::Pass
    );
}

#[test]
fn multi_region_trail() {
    let def = &CLOUDTRAIL_MULTI_REGION_ENABLED;
    assert_eq!(region_status(def, region()).0, Status::Fail);
    assert_eq!(
        region_status(def, with_db(vec![trail("t", true, Some(true), rw())])).0,
        Status::Pass
    );
    assert_eq!(
        region_status(def, with_db(vec![trail("t", false, Some(true), rw())])).0,
        Status::Fail
    );
    let write_only = Some(ManagementEvents {
        write: true,
        read: false,
        excluded_event_sources: vec![],
    });
    assert_eq!(
        region_status(def, with_db(vec![trail("t", true, Some(true), write_only)])).0,
        Status::Fail
    );
    assert_eq!(
        region_status(def, with_db(vec![trail("t", true, Some(true), None)])).0,
        Status::NotAssessed
    );
}

#[test]
fn trail_hygiene_per_home_trail() {
    let mut good = trail("good", true, Some(true), rw());
    good.log_file_validation_enabled = true;
    good.kms_key_id = Some("arn:aws:kms:us-east-1:111122223333:key/k".into());
    let bad = trail("bad", true, Some(true), rw());
    let mut shadow = trail("shadow", true, Some(true), rw());
    shadow.home_region = Some("eu-west-1".into());
    let r = with_db(vec![good, bad, shadow]);
    let f = run(&CLOUDTRAIL_LOG_FILE_VALIDATION, &snapshot(r.clone(), None));
    assert_eq!(status_of(&f, "good"), Status::Pass);
    assert_eq!(status_of(&f, "bad"), Status::Fail);
    assert!(f.iter().all(|x| x.resource.id != "shadow"));
    let f = run(&CLOUDTRAIL_KMS_ENCRYPTION, &snapshot(r, None));
    assert_eq!(status_of(&f, "good"), Status::Pass);
    assert_eq!(status_of(&f, "bad"), Status::Fail);
    let (s, _) = region_status(&CLOUDTRAIL_KMS_ENCRYPTION, region());
    assert_eq!(s, Status::NotApplicable);
}

#[test]
fn securityhub() {
    let def = &SECURITYHUB_ENABLED;
    assert_eq!(region_status(def, region()).0, Status::NotApplicable);
    let mut r = with_db(vec![]);
    r.securityhub.enabled = Some(true);
    assert_eq!(region_status(def, r).0, Status::Pass);
    let mut r = with_db(vec![]);
    r.securityhub.enabled = Some(false);
    assert_eq!(region_status(def, r).0, Status::Fail);
    assert_eq!(region_status(def, with_db(vec![])).0, Status::NotAssessed);
    let mut r = with_db(vec![]);
    r.gaps.push(Gap::new(
        ops::SECURITYHUB_DESCRIBE_HUB,
        Some(REGION),
        GapKind::NotEnabled,
        "not subscribed",
    ));
    assert_eq!(region_status(def, r).0, Status::Fail);
    let mut r = with_db(vec![]);
    r.gaps.push(Gap::new(
        ops::SECURITYHUB_DESCRIBE_HUB,
        Some(REGION),
        GapKind::AccessDenied,
        "denied",
    ));
    assert_eq!(region_status(def, r).0, Status::NotAssessed);
}
