//! Tests of the TLS and certificate checks.

use rdsguard_findings::{Finding, Severity, Status};
use rdsguard_model::{
    CaCertificate, ClusterMember, DbCluster, DbInstance, DbProxy, Gap, GapKind, GroupMembership,
    OptionGroup, OptionGroupOption, OptionSetting, Parameter, ParameterGroup, RegionSnapshot, ops,
};

use super::*;
use crate::Config;
use crate::testkit::{region, run, run_with, snapshot, status_of};

fn group(name: &str, params: &[(&str, &str)]) -> ParameterGroup {
    ParameterGroup {
        name: name.into(),
        parameters: params
            .iter()
            .map(|(k, v)| {
                (
                    k.to_string(),
                    Parameter {
                        value: Some(v.to_string()),
                        ..Default::default()
                    },
                )
            })
            .collect(),
        ..Default::default()
    }
}

fn instance(id: &str, engine: &str, version: &str, group: &str) -> DbInstance {
    DbInstance {
        db_instance_identifier: id.into(),
        db_instance_arn: format!("arn:aws:rds:us-east-1:111122223333:db:{id}"),
        engine: engine.into(),
        engine_version: version.into(),
        port: Some(1521),
        db_parameter_groups: vec![GroupMembership {
            name: group.into(),
            status: "in-sync".into(),
        }],
        ..Default::default()
    }
}

fn option(name: &str, port: Option<u16>, settings: &[(&str, &str)]) -> OptionGroupOption {
    OptionGroupOption {
        option_name: name.into(),
        port,
        vpc_security_group_ids: vec![],
        settings: settings
            .iter()
            .map(|(k, v)| OptionSetting {
                name: k.to_string(),
                value: Some(v.to_string()),
            })
            .collect(),
    }
}

fn oracle(id: &str, options: Vec<OptionGroupOption>, r: &mut RegionSnapshot) -> DbInstance {
    let og = format!("og-{id}");
    r.rds.option_groups.push(OptionGroup {
        name: og.clone(),
        engine_name: "oracle-ee".into(),
        options,
        ..Default::default()
    });
    let mut db = instance(
        id,
        "oracle-ee",
        "19.0.0.0.ru-2024-04.rur-2024-04.r1",
        "default.oracle-ee-19",
    );
    db.option_group_memberships = vec![GroupMembership {
        name: og,
        status: "in-sync".into(),
    }];
    db
}

fn cluster(id: &str, engine: &str, version: &str, group: &str, status: &str) -> DbCluster {
    DbCluster {
        db_cluster_identifier: id.into(),
        db_cluster_arn: format!("arn:aws:rds:us-east-1:111122223333:cluster:{id}"),
        engine: engine.into(),
        engine_version: version.into(),
        db_cluster_parameter_group: Some(group.into()),
        members: vec![ClusterMember {
            db_instance_identifier: format!("{id}-1"),
            is_cluster_writer: true,
            db_cluster_parameter_group_status: Some(status.into()),
        }],
        ..Default::default()
    }
}

fn finding<'a>(findings: &'a [Finding], id: &str) -> &'a Finding {
    findings
        .iter()
        .find(|f| f.resource.id == id)
        .unwrap_or_else(|| panic!("no finding for {id}: {findings:#?}"))
}

fn tls_instances() -> RegionSnapshot {
    let mut r = region();
    r.rds.db_parameter_groups = vec![
        group("empty", &[]),
        group("ssl-on", &[("rds.force_ssl", "1")]),
        group("ssl-off", &[("rds.force_ssl", "0")]),
        group("rst-on", &[("require_secure_transport", "ON")]),
        group("db2-both", &[("db2comm", "TCPIP,SSL")]),
        group("db2-ssl", &[("db2comm", "ssl")]),
    ];
    r.rds.db_instances = vec![
        instance("pg16-default", "postgres", "16.3", "empty"),
        instance("pg14-default", "postgres", "14.9", "empty"),
        instance("pg16-off", "postgres", "16.3", "ssl-off"),
        instance("pg-unknown-group", "postgres", "16.3", "missing"),
        instance("mysql-on", "mysql", "8.0.35", "rst-on"),
        instance("mysql-default", "mysql", "8.0.35", "empty"),
        instance("mariadb-old", "mariadb", "10.4.34", "rst-on"),
        instance("sqlserver-on", "sqlserver-se", "15.00.4365.2.v1", "ssl-on"),
        instance("db2-both", "db2-se", "11.5.9.0.sb00000000.r1", "db2-both"),
        instance("db2-ssl", "db2-se", "11.5.9.0.sb00000000.r1", "db2-ssl"),
        instance("docdb", "docdb", "5.0.0", "empty"),
    ];
    let mut pending = instance("pg-pending", "postgres", "16.3", "ssl-on");
    pending.db_parameter_groups[0].status = "pending-reboot".into();
    r.rds.db_instances.push(pending);
    let mut member = instance("aurora-1", "aurora-postgresql", "15.4", "empty");
    member.db_cluster_identifier = Some("aurora".into());
    r.rds.db_instances.push(member);
    r
}

#[test]
fn instance_tls_per_engine_and_defaults() {
    let f = run(&RDS_INSTANCE_TLS_ENFORCED, &snapshot(tls_instances(), None));
    let expect = [
        ("pg16-default", Status::Pass),
        ("pg14-default", Status::Fail),
        ("pg16-off", Status::Fail),
        ("pg-unknown-group", Status::NotAssessed),
        ("mysql-on", Status::Pass),
        ("mysql-default", Status::Fail),
        ("mariadb-old", Status::Fail),
        ("sqlserver-on", Status::Pass),
        ("db2-both", Status::Fail),
        ("db2-ssl", Status::Pass),
        ("docdb", Status::NotApplicable),
        ("pg-pending", Status::Fail),
        ("aurora-1", Status::NotApplicable),
    ];
    for (id, status) in expect {
        assert_eq!(status_of(&f, id), status, "{id}: {:#?}", finding(&f, id));
    }
    let default = finding(&f, "pg16-default");
    assert!(
        default.evidence["value_origin"]
            .as_str()
            .is_some_and(|o| o.starts_with("engine default")),
        "{default:#?}"
    );
    assert!(finding(&f, "pg-pending").message.contains("pending-reboot"));
    assert!(finding(&f, "mariadb-old").message.contains("not supported"));
    assert!(finding(&f, "db2-both").message.contains("TCPIP"));
}

#[test]
fn instance_tls_per_group_gap_is_not_assessed() {
    let mut r = tls_instances();
    r.gaps.push(
        Gap::new(
            ops::RDS_DESCRIBE_DB_PARAMETERS,
            Some("us-east-1"),
            GapKind::AccessDenied,
            "denied",
        )
        .with_resource("ssl-on"),
    );
    let f = run(&RDS_INSTANCE_TLS_ENFORCED, &snapshot(r, None));
    assert_eq!(status_of(&f, "sqlserver-on"), Status::NotAssessed);
    assert!(
        finding(&f, "sqlserver-on")
            .message
            .contains("access denied")
    );
    assert_eq!(status_of(&f, "mysql-on"), Status::Pass);
}

#[test]
fn instance_tls_whole_operation_gap_makes_region_not_assessed() {
    let mut r = tls_instances();
    r.gaps.push(Gap::new(
        ops::RDS_DESCRIBE_DB_PARAMETERS,
        Some("us-east-1"),
        GapKind::AccessDenied,
        "denied",
    ));
    let f = run(&RDS_INSTANCE_TLS_ENFORCED, &snapshot(r, None));
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].status, Status::NotAssessed);
}

#[test]
fn oracle_tls_needs_nne_required() {
    let mut r = region();
    let dbs = vec![
        oracle(
            "nne-required",
            vec![option(
                "NATIVE_NETWORK_ENCRYPTION",
                None,
                &[("SQLNET.ENCRYPTION_SERVER", "REQUIRED")],
            )],
            &mut r,
        ),
        oracle(
            "nne-default",
            vec![option("NATIVE_NETWORK_ENCRYPTION", None, &[])],
            &mut r,
        ),
        oracle(
            "ssl-only",
            vec![option("SSL", Some(2484), &[("SQLNET.SSL_VERSION", "1.2")])],
            &mut r,
        ),
        oracle("nothing", vec![], &mut r),
    ];
    let mut missing = instance("no-og", "oracle-se2", "19.0.0.0", "default.oracle-se2-19");
    missing.option_group_memberships = vec![GroupMembership {
        name: "absent".into(),
        status: "in-sync".into(),
    }];
    r.rds.db_instances = dbs;
    r.rds.db_instances.push(missing);
    let f = run(&RDS_INSTANCE_TLS_ENFORCED, &snapshot(r, None));
    assert_eq!(status_of(&f, "nne-required"), Status::Pass);
    assert_eq!(status_of(&f, "nne-default"), Status::Fail);
    assert_eq!(
        finding(&f, "nne-default").evidence["sqlnet_encryption_server"],
        "REQUESTED"
    );
    assert_eq!(status_of(&f, "ssl-only"), Status::Fail);
    assert!(
        finding(&f, "ssl-only")
            .message
            .contains("plaintext listener on port 1521")
    );
    assert_eq!(status_of(&f, "nothing"), Status::Fail);
    assert_eq!(status_of(&f, "no-og"), Status::NotAssessed);
}

#[test]
fn cluster_tls_uses_cluster_group_and_member_status() {
    let mut r = region();
    r.rds.db_cluster_parameter_groups = vec![
        group("apg-on", &[("rds.force_ssl", "1")]),
        group("empty", &[]),
        group("ams-on", &[("require_secure_transport", "1")]),
    ];
    r.rds.db_clusters = vec![
        cluster("apg-on", "aurora-postgresql", "15.4", "apg-on", "in-sync"),
        cluster(
            "apg15-default",
            "aurora-postgresql",
            "15.4",
            "empty",
            "in-sync",
        ),
        cluster(
            "apg17-default",
            "aurora-postgresql",
            "17.4",
            "empty",
            "in-sync",
        ),
        cluster(
            "ams-default",
            "aurora-mysql",
            "8.0.mysql_aurora.3.05.2",
            "empty",
            "in-sync",
        ),
        cluster(
            "ams-pending",
            "aurora-mysql",
            "8.0.mysql_aurora.3.05.2",
            "ams-on",
            "pending-reboot",
        ),
        cluster("maz-pg", "postgres", "16.3", "empty", "in-sync"),
        cluster(
            "no-group",
            "aurora-postgresql",
            "15.4",
            "default.aurora-postgresql15",
            "in-sync",
        ),
        cluster("docdb", "docdb", "5.0.0", "empty", "in-sync"),
    ];
    let f = run(&RDS_CLUSTER_TLS_ENFORCED, &snapshot(r, None));
    let expect = [
        ("apg-on", Status::Pass),
        ("apg15-default", Status::Fail),
        ("apg17-default", Status::NotAssessed),
        ("ams-default", Status::NotAssessed),
        ("ams-pending", Status::Fail),
        ("maz-pg", Status::Pass),
        ("no-group", Status::NotAssessed),
        ("docdb", Status::NotApplicable),
    ];
    for (id, status) in expect {
        assert_eq!(status_of(&f, id), status, "{id}: {:#?}", finding(&f, id));
    }
}

#[test]
fn tls_versions_parse() {
    assert_eq!(TlsVersion::parse("TLSv1"), Some(TlsVersion::V1_0));
    assert_eq!(TlsVersion::parse("tlsv1.3"), Some(TlsVersion::V1_3));
    assert_eq!(TlsVersion::parse("1.1"), Some(TlsVersion::V1_1));
    assert_eq!(TlsVersion::parse("SSLv3"), None);
    // Any case, surrounding blanks, with or without the `v`.
    assert_eq!(TlsVersion::parse(" Tls1.2 "), Some(TlsVersion::V1_2));
    assert_eq!(TlsVersion::parse("tLsV1.0"), Some(TlsVersion::V1_0));
    assert_eq!(TlsVersion::parse("TLS"), None);
    assert_eq!(TlsVersion::parse("tlsé1.2"), None);
    assert_eq!(TlsVersion::parse("tlsv"), None);
    assert_eq!(
        TlsVersion::min_of_list("TLSv1.2,TLSv1.3"),
        Some(TlsVersion::V1_2)
    );
    assert_eq!(
        TlsVersion::min_of_list("1.2 or 1.0"),
        Some(TlsVersion::V1_0)
    );
    assert_eq!(TlsVersion::min_of_list(""), None);
    assert_eq!(TlsVersion::min_of_list("TLSv1.2,bogus"), None);
}

fn min_tls_region() -> RegionSnapshot {
    let mut r = region();
    r.rds.db_parameter_groups = vec![
        group("empty", &[]),
        group("pg12", &[("ssl_min_protocol_version", "TLSv1.2")]),
        group("pg10", &[("ssl_min_protocol_version", "TLSv1")]),
        group("my-old", &[("tls_version", "TLSv1,TLSv1.1,TLSv1.2")]),
        group(
            "ss-off",
            &[("rds.tls10", "disabled"), ("rds.tls11", "disabled")],
        ),
        group(
            "ss-default",
            &[("rds.tls10", "default"), ("rds.tls11", "default")],
        ),
    ];
    let mut dbs = vec![
        instance("pg-12", "postgres", "16.3", "pg12"),
        instance("pg-10", "postgres", "16.3", "pg10"),
        instance("pg-absent", "postgres", "16.3", "empty"),
        instance("mysql-8035", "mysql", "8.0.35", "empty"),
        instance("mysql-57", "mysql", "5.7.44", "my-old"),
        instance("ss-old-default", "sqlserver-se", "15.00.4365.2.v1", "empty"),
        instance(
            "ss-new-default",
            "sqlserver-se",
            "15.00.4375.4.v1",
            "ss-default",
        ),
        instance("ss-off", "sqlserver-ee", "15.00.4365.2.v1", "ss-off"),
    ];
    let ssl12 = oracle(
        "ora-12",
        vec![option("SSL", Some(2484), &[("SQLNET.SSL_VERSION", "1.2")])],
        &mut r,
    );
    let ssl10 = oracle(
        "ora-10",
        vec![option(
            "SSL",
            Some(2484),
            &[("SQLNET.SSL_VERSION", "1.2 or 1.0")],
        )],
        &mut r,
    );
    let nne = oracle(
        "ora-nne",
        vec![option("NATIVE_NETWORK_ENCRYPTION", None, &[])],
        &mut r,
    );
    dbs.extend([ssl12, ssl10, nne]);
    r.rds.db_instances = dbs;
    r
}

#[test]
fn instance_min_tls_per_engine() {
    let f = run(
        &RDS_INSTANCE_MIN_TLS_VERSION,
        &snapshot(min_tls_region(), None),
    );
    let expect = [
        ("pg-12", Status::Pass),
        ("pg-10", Status::Fail),
        ("pg-absent", Status::NotAssessed),
        ("mysql-8035", Status::Pass),
        ("mysql-57", Status::Fail),
        ("ss-old-default", Status::Fail),
        ("ss-new-default", Status::Pass),
        ("ss-off", Status::Pass),
        ("ora-12", Status::Pass),
        ("ora-10", Status::Fail),
        ("ora-nne", Status::NotApplicable),
    ];
    for (id, status) in expect {
        assert_eq!(status_of(&f, id), status, "{id}: {:#?}", finding(&f, id));
    }
    assert_eq!(
        finding(&f, "ss-old-default").evidence["lowest_accepted_tls"],
        "1.0"
    );
}

#[test]
fn instance_min_tls_follows_config() {
    let cfg = Config {
        min_tls_version: "1.3".into(),
        ..Config::default()
    };
    let f = run_with(
        &RDS_INSTANCE_MIN_TLS_VERSION,
        &snapshot(min_tls_region(), None),
        &cfg,
    );
    assert_eq!(status_of(&f, "mysql-8035"), Status::Fail);
    assert_eq!(status_of(&f, "ss-off"), Status::Fail);
    let cfg = Config {
        min_tls_version: "1.0".into(),
        ..Config::default()
    };
    let f = run_with(
        &RDS_INSTANCE_MIN_TLS_VERSION,
        &snapshot(min_tls_region(), None),
        &cfg,
    );
    assert_eq!(status_of(&f, "pg-10"), Status::Pass);
    assert_eq!(status_of(&f, "ss-old-default"), Status::Pass);
    let cfg = Config {
        min_tls_version: "2.0".into(),
        ..Config::default()
    };
    let f = run_with(
        &RDS_INSTANCE_MIN_TLS_VERSION,
        &snapshot(min_tls_region(), None),
        &cfg,
    );
    assert!(f.iter().all(|x| x.status == Status::NotAssessed));
}

#[test]
fn cluster_min_tls() {
    let mut r = region();
    r.rds.db_cluster_parameter_groups = vec![
        group("ams", &[("tls_version", "TLSv1.2,TLSv1.3")]),
        group("apg", &[("ssl_min_protocol_version", "TLSv1.1")]),
    ];
    r.rds.db_clusters = vec![
        cluster(
            "ams",
            "aurora-mysql",
            "8.0.mysql_aurora.3.05.2",
            "ams",
            "in-sync",
        ),
        cluster("apg", "aurora-postgresql", "15.4", "apg", "in-sync"),
        cluster(
            "ams-pending",
            "aurora-mysql",
            "8.0.mysql_aurora.3.05.2",
            "ams",
            "pending-reboot",
        ),
    ];
    let f = run(&RDS_CLUSTER_MIN_TLS_VERSION, &snapshot(r, None));
    assert_eq!(status_of(&f, "ams"), Status::Pass);
    assert_eq!(status_of(&f, "apg"), Status::Fail);
    assert_eq!(status_of(&f, "ams-pending"), Status::Fail);
}

#[test]
fn proxy_tls() {
    let mut r = region();
    let proxy = |name: &str, tls: bool| DbProxy {
        name: name.into(),
        arn: format!("arn:aws:rds:us-east-1:111122223333:db-proxy:{name}"),
        require_tls: tls,
        ..Default::default()
    };
    r.rds.db_proxies = vec![proxy("tls", true), proxy("plain", false)];
    let f = run(&RDS_PROXY_TLS_REQUIRED, &snapshot(r, None));
    assert_eq!(status_of(&f, "tls"), Status::Pass);
    assert_eq!(status_of(&f, "plain"), Status::Fail);
}

fn cert_instance(id: &str, ca: Option<&str>, valid_till: Option<&str>) -> DbInstance {
    DbInstance {
        ca_certificate_identifier: ca.map(str::to_string),
        certificate_valid_till: valid_till.map(str::to_string),
        ..instance(id, "postgres", "16.3", "empty")
    }
}

#[test]
fn certificate_expiry_grades_severity() {
    // now = 2026-06-01
    let mut r = region();
    r.rds.certificates = vec![CaCertificate {
        certificate_identifier: "rds-ca-rsa2048-g1".into(),
        valid_till: Some("2061-05-20T00:00:00Z".into()),
        ..Default::default()
    }];
    r.rds.db_instances = vec![
        cert_instance("expired", Some("rds-ca-2019"), Some("2024-08-22T17:08:50Z")),
        cert_instance(
            "soon",
            Some("rds-ca-rsa2048-g1"),
            Some("2026-06-11T00:00:00Z"),
        ),
        cert_instance(
            "within",
            Some("rds-ca-rsa2048-g1"),
            Some("2026-08-01T00:00:00Z"),
        ),
        cert_instance(
            "fine",
            Some("rds-ca-rsa2048-g1"),
            Some("2027-06-01T00:00:00Z"),
        ),
        cert_instance("from-ca", Some("rds-ca-rsa2048-g1"), None),
        cert_instance("unknown", Some("rds-ca-default"), None),
        cert_instance("garbage", Some("rds-ca-rsa2048-g1"), Some("next tuesday")),
    ];
    r.gaps.push(Gap::new(
        ops::RDS_DESCRIBE_CERTIFICATES,
        Some("us-east-1"),
        GapKind::Unsupported,
        "not implemented",
    ));
    let f = run(&RDS_INSTANCE_CERTIFICATE_EXPIRY, &snapshot(r, None));
    let sev = |id| finding(&f, id).severity;
    assert_eq!(status_of(&f, "expired"), Status::Fail);
    assert_eq!(sev("expired"), Severity::Critical);
    assert_eq!(status_of(&f, "soon"), Status::Fail);
    assert_eq!(sev("soon"), Severity::High);
    assert_eq!(status_of(&f, "within"), Status::Fail);
    assert_eq!(sev("within"), Severity::Medium);
    assert_eq!(status_of(&f, "fine"), Status::Pass);
    assert_eq!(status_of(&f, "from-ca"), Status::Pass);
    assert_eq!(status_of(&f, "unknown"), Status::NotAssessed);
    assert!(finding(&f, "unknown").message.contains("not supported"));
    assert_eq!(status_of(&f, "garbage"), Status::NotAssessed);
}

/// Expiry texts are parsed once per region: instances sharing one get its verdict, and past
/// the texts kept (more distinct expiries than `KEPT_TIMES`) each is still read on its own.
#[test]
fn certificate_expiry_of_shared_and_distinct_texts() {
    // now = 2026-06-01
    let mut r = region();
    let mut expected = Vec::new();
    for i in 0..1300 {
        let id = format!("db-{i}");
        let (till, status, severity) = match i % 4 {
            0 => (
                "2024-08-22T17:08:50Z".to_string(),
                Status::Fail,
                Some(Severity::Critical),
            ),
            1 => ("not a time".to_string(), Status::NotAssessed, None),
            // Distinct texts, one a day from 2027 on (past any number the region keeps).
            _ => {
                let day = time::Date::from_calendar_date(2027, time::Month::January, 1).unwrap()
                    + time::Duration::days(i);
                (format!("{day}T00:00:00Z"), Status::Pass, None)
            }
        };
        r.rds
            .db_instances
            .push(cert_instance(&id, Some("rds-ca-rsa2048-g1"), Some(&till)));
        expected.push((id, status, severity));
    }
    // A text that expires soon, after the region's table is full.
    r.rds.db_instances.push(cert_instance(
        "soon",
        Some("rds-ca-rsa2048-g1"),
        Some("2026-06-11T00:00:00Z"),
    ));
    expected.push(("soon".into(), Status::Fail, Some(Severity::High)));
    let f = run(&RDS_INSTANCE_CERTIFICATE_EXPIRY, &snapshot(r, None));
    for (id, status, severity) in expected {
        assert_eq!(status_of(&f, &id), status, "{id}");
        if let Some(severity) = severity {
            assert_eq!(finding(&f, &id).severity, severity, "{id}");
        }
    }
}

#[test]
fn ca_obsolete() {
    let mut r = region();
    r.rds.certificates = vec![
        CaCertificate {
            certificate_identifier: "rds-ca-2019-ap-east-1".into(),
            valid_till: Some("2061-01-01T00:00:00Z".into()),
            ..Default::default()
        },
        CaCertificate {
            certificate_identifier: "rds-ca-custom-new".into(),
            valid_till: Some("2040-01-01T00:00:00Z".into()),
            ..Default::default()
        },
        CaCertificate {
            certificate_identifier: "rds-ca-custom-old".into(),
            valid_till: Some("2025-01-01T00:00:00Z".into()),
            ..Default::default()
        },
    ];
    r.rds.db_instances = vec![
        cert_instance("ca2019", Some("rds-ca-2019"), None),
        cert_instance("ca2019-regional", Some("rds-ca-2019-ap-east-1"), None),
        cert_instance("g1", Some("rds-ca-ecc384-g1"), None),
        cert_instance("listed-new", Some("rds-ca-custom-new"), None),
        cert_instance("listed-old", Some("rds-ca-custom-old"), None),
        cert_instance("moto", Some("rds-ca-default"), None),
        cert_instance("none", None, None),
    ];
    let f = run(&RDS_INSTANCE_CA_OBSOLETE, &snapshot(r, None));
    assert_eq!(status_of(&f, "ca2019"), Status::Fail);
    assert_eq!(finding(&f, "ca2019").severity, Severity::High);
    assert_eq!(status_of(&f, "ca2019-regional"), Status::Fail);
    assert_eq!(finding(&f, "ca2019-regional").severity, Severity::Medium);
    assert_eq!(status_of(&f, "g1"), Status::Pass);
    assert_eq!(status_of(&f, "listed-new"), Status::Pass);
    assert_eq!(status_of(&f, "listed-old"), Status::Fail);
    assert_eq!(status_of(&f, "moto"), Status::NotAssessed);
    assert_eq!(status_of(&f, "none"), Status::NotAssessed);
}

/// The analysis decides the parameter-group TLS checks once per group, sync status, engine and
/// version: instances that differ in any of them still get their own statuses, and the same
/// as when every result is explained.
#[test]
fn instances_on_one_group_are_told_apart_by_sync_status_and_engine_version() {
    let mut r = region();
    r.rds.db_parameter_groups = vec![group(
        "shared-pg",
        &[("ssl_min_protocol_version", "TLSv1.2")],
    )];
    let mut pending = instance("pending", "postgres", "15.4", "shared-pg");
    pending.db_parameter_groups[0].status = "pending-reboot".into();
    r.rds.db_instances = vec![
        // No rds.force_ssl in the group: its default is 1 from PostgreSQL 15, 0 before.
        instance("pg15", "postgres", "15.4", "shared-pg"),
        pending,
        instance("pg14", "postgres", "14.9", "shared-pg"),
        instance("pg15-again", "postgres", "15.4", "shared-pg"),
    ];
    let snap = snapshot(r, None);
    let defs = [&RDS_INSTANCE_TLS_ENFORCED, &RDS_INSTANCE_MIN_TLS_VERSION];
    let now = crate::testkit::now();
    let config = Config::default();
    let analysis = crate::analyze(&snap, &config, now, &defs);
    let decided: Vec<(String, String, Status)> = analysis
        .outcomes
        .iter()
        .map(|o| {
            let id = analysis
                .resource_of(o)
                .map(|r| r.id.clone())
                .unwrap_or_default();
            (defs[o.check as usize].id.to_string(), id, o.status)
        })
        .collect();
    let explained: Vec<(String, String, Status)> = crate::evaluate_with(&snap, &config, now, &defs)
        .into_iter()
        .map(|f| (f.check_id.to_string(), f.resource.id.clone(), f.status))
        .collect();
    let mut sorted = decided.clone();
    sorted.sort();
    let mut expected = explained;
    expected.sort();
    assert_eq!(sorted, expected);
    let status = |check: &str, id: &str| {
        decided
            .iter()
            .find(|(c, i, _)| c == check && i == id)
            .map(|(_, _, s)| *s)
    };
    let enforced = RDS_INSTANCE_TLS_ENFORCED.id;
    assert_eq!(status(enforced, "pg15"), Some(Status::Pass));
    assert_eq!(status(enforced, "pg15-again"), Some(Status::Pass));
    assert_eq!(status(enforced, "pending"), Some(Status::Fail));
    assert_eq!(status(enforced, "pg14"), Some(Status::Fail));
    let min = RDS_INSTANCE_MIN_TLS_VERSION.id;
    assert_eq!(status(min, "pg15"), Some(Status::Pass));
    assert_eq!(status(min, "pending"), Some(Status::Fail));
}
