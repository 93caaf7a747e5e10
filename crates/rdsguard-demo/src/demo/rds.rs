//! The demo's RDS estate: every engine family, Aurora and Multi-AZ DB clusters, a read replica,
//! proxies, snapshots, parameter and option groups, subnet groups, event subscriptions, CA
//! certificates and engine versions.

use std::collections::BTreeMap;

use rdsguard_model::{
    CaCertificate, ClusterMember, DbCluster, DbInstance, DbProxy, DbSnapshot, DbSubnetGroup,
    EngineVersion, EventSubscription, GroupMembership, OptionGroup, OptionGroupOption,
    OptionSetting, Parameter, ParameterGroup, ProxyAuth, RdsData, RestoreAttribute,
    VpcSecurityGroupMembership,
};

use super::network::vpc_name;
use super::{
    ACCOUNT, AP, AWS_RDS_KEY, EU, PARTNER_ACCOUNT, UNKNOWN_ACCOUNT, US, key_arn, sg_id, subnet_id,
    vpc_id,
};
use crate::build::{arn, fnv1a, rds_arn, strings, tags, token};

pub(crate) fn rds(region: &str) -> RdsData {
    match region {
        US => us_east_1(),
        EU => eu_west_1(),
        _ => ap_southeast_2(),
    }
}

/// The random-looking part of RDS endpoints, per account and region.
fn endpoint_suffix(region: &str) -> String {
    format!(
        "{}.{region}.rds.amazonaws.com",
        token(&format!("{ACCOUNT}/{region}"), 12).to_ascii_lowercase()
    )
}

/// A DB instance with the fields every demo instance shares; callers set the rest.
fn instance(
    region: &str,
    id: &str,
    engine: &str,
    version: &str,
    class: &str,
    az: &str,
) -> DbInstance {
    DbInstance {
        db_instance_identifier: id.to_string(),
        db_instance_arn: rds_arn(region, ACCOUNT, "db", id),
        dbi_resource_id: Some(format!("db-{}", token(&format!("{region}/{id}"), 26))),
        engine: engine.to_string(),
        engine_version: version.to_string(),
        db_instance_class: class.to_string(),
        db_instance_status: "available".to_string(),
        endpoint_address: Some(format!("{id}.{}", endpoint_suffix(region))),
        vpc_id: Some(vpc_id(region, vpc_name(region))),
        availability_zone: Some(format!("{region}{az}")),
        storage_type: Some("gp3".to_string()),
        instance_create_time: Some(created(id)),
        ..Default::default()
    }
}

/// A plausible creation time between 2019 and 2025, stable per identifier.
fn created(id: &str) -> String {
    let h = fnv1a(id);
    format!(
        "{}-{:02}-{:02}T{:02}:{:02}:00Z",
        2019 + h % 7,
        1 + (h >> 8) % 12,
        1 + (h >> 16) % 28,
        (h >> 24) % 24,
        (h >> 32) % 60
    )
}

fn groups(region: &str, names: &[&str]) -> Vec<VpcSecurityGroupMembership> {
    names
        .iter()
        .map(|n| VpcSecurityGroupMembership {
            vpc_security_group_id: sg_id(region, n),
            status: "active".to_string(),
        })
        .collect()
}

fn membership(name: &str) -> Vec<GroupMembership> {
    vec![GroupMembership {
        name: name.to_string(),
        status: "in-sync".to_string(),
    }]
}

fn monitoring(region: &str, db: &mut DbInstance, interval: i32) {
    db.monitoring_interval = Some(interval);
    if let Some(resource_id) = &db.dbi_resource_id {
        db.enhanced_monitoring_resource_arn = Some(arn(
            "logs",
            region,
            ACCOUNT,
            &format!("log-group:RDSOSMetrics:log-stream:{resource_id}"),
        ));
    }
}

fn parameter_group(
    region: &str,
    name: &str,
    family: &str,
    cluster: bool,
    values: &[(&str, &str, &str)],
) -> ParameterGroup {
    let kind = if cluster { "cluster-pg" } else { "pg" };
    let description = if name.starts_with("default.") {
        format!("Default parameter group for {family}")
    } else {
        format!("{name} ({family})")
    };
    ParameterGroup {
        name: name.to_string(),
        arn: Some(rds_arn(region, ACCOUNT, kind, name)),
        family: family.to_string(),
        description: Some(description),
        parameters: values
            .iter()
            .map(|(n, v, source)| {
                (
                    n.to_string(),
                    Parameter {
                        value: Some(v.to_string()),
                        source: Some(source.to_string()),
                        apply_type: None,
                    },
                )
            })
            .collect::<BTreeMap<_, _>>(),
    }
}

fn option_group(
    region: &str,
    name: &str,
    engine: &str,
    major: &str,
    options: Vec<OptionGroupOption>,
) -> OptionGroup {
    OptionGroup {
        name: name.to_string(),
        arn: Some(rds_arn(region, ACCOUNT, "og", name)),
        engine_name: engine.to_string(),
        major_engine_version: major.to_string(),
        options,
    }
}

fn option(name: &str, settings: &[(&str, &str)]) -> OptionGroupOption {
    OptionGroupOption {
        option_name: name.to_string(),
        port: None,
        vpc_security_group_ids: Vec::new(),
        settings: settings
            .iter()
            .map(|(n, v)| OptionSetting {
                name: n.to_string(),
                value: Some(v.to_string()),
            })
            .collect(),
    }
}

fn subnet_group(region: &str, name: &str, subnets: &[&str]) -> DbSubnetGroup {
    DbSubnetGroup {
        name: name.to_string(),
        arn: Some(rds_arn(region, ACCOUNT, "subgrp", name)),
        vpc_id: Some(vpc_id(region, vpc_name(region))),
        subnet_ids: subnets.iter().map(|s| subnet_id(region, s)).collect(),
        tags: Default::default(),
    }
}

/// A cluster member entry.
fn member(id: &str, writer: bool) -> ClusterMember {
    ClusterMember {
        db_instance_identifier: id.to_string(),
        is_cluster_writer: writer,
        db_cluster_parameter_group_status: Some("in-sync".to_string()),
    }
}

struct SnapshotSpec<'a> {
    region: &'a str,
    id: &'a str,
    cluster: bool,
    source: &'a str,
    engine: &'a str,
    version: &'a str,
    snapshot_type: &'a str,
    key: Option<&'a str>,
    created: &'a str,
    restore: Option<RestoreAttribute>,
}

fn snapshot(spec: SnapshotSpec<'_>) -> DbSnapshot {
    let kind = if spec.cluster {
        "cluster-snapshot"
    } else {
        "snapshot"
    };
    DbSnapshot {
        identifier: spec.id.to_string(),
        arn: rds_arn(spec.region, ACCOUNT, kind, spec.id),
        source_identifier: Some(spec.source.to_string()),
        engine: spec.engine.to_string(),
        engine_version: Some(spec.version.to_string()),
        snapshot_type: spec.snapshot_type.to_string(),
        status: Some("available".to_string()),
        encrypted: spec.key.is_some(),
        kms_key_id: spec.key.map(|k| key_arn(spec.region, k)),
        snapshot_create_time: Some(spec.created.to_string()),
        restore: spec.restore,
        tags: Default::default(),
    }
}

fn private() -> Option<RestoreAttribute> {
    Some(RestoreAttribute::default())
}

fn shared_with(accounts: &[&str]) -> Option<RestoreAttribute> {
    Some(RestoreAttribute {
        public: false,
        shared_with: strings(accounts),
    })
}

fn public() -> Option<RestoreAttribute> {
    Some(RestoreAttribute {
        public: true,
        shared_with: Vec::new(),
    })
}

fn certificates() -> Vec<CaCertificate> {
    let ca = |id: &str, kind: &str, from: &str, till: &str, overridden: bool| CaCertificate {
        certificate_identifier: id.to_string(),
        certificate_type: Some(kind.to_string()),
        valid_from: Some(from.to_string()),
        valid_till: Some(till.to_string()),
        customer_override: overridden,
    };
    vec![
        ca(
            "rds-ca-2019",
            "CA",
            "2019-08-22T17:08:50Z",
            "2024-08-22T17:08:50Z",
            false,
        ),
        ca(
            "rds-ca-ecc384-g1",
            "CA",
            "2021-05-21T22:23:47Z",
            "2121-05-21T23:23:47Z",
            false,
        ),
        ca(
            "rds-ca-rsa2048-g1",
            "CA",
            "2021-05-21T22:15:12Z",
            "2061-05-21T23:15:12Z",
            false,
        ),
        ca(
            "rds-ca-rsa4096-g1",
            "CA",
            "2021-05-21T22:38:38Z",
            "2121-05-21T23:38:38Z",
            false,
        ),
    ]
}

fn versions(entries: &[(&str, &str, &str)]) -> Vec<EngineVersion> {
    entries
        .iter()
        .map(|(engine, version, status)| EngineVersion {
            engine: engine.to_string(),
            engine_version: version.to_string(),
            status: Some(status.to_string()),
        })
        .collect()
}

const EXTENDED_SUPPORT: &str = "open-source-rds-extended-support";
const EXTENDED_SUPPORT_DISABLED: &str = "open-source-rds-extended-support-disabled";

const PG16: &str = "16.4";
const PG13: &str = "13.15";
const MYSQL: &str = "8.0.35";
const MSSQL: &str = "15.00.4345.5.v1";
const ORACLE: &str = "19.0.0.0.ru-2024-10.rur-2024-10.r1";
const AURORA_PG: &str = "16.4";
const MAZ_PG: &str = "16.3";
const MARIADB: &str = "10.6.19";
const AURORA_MYSQL: &str = "8.0.mysql_aurora.3.05.2";
const DB2: &str = "11.5.9.0.sb00000000.r1";
const AU_PG: &str = "15.8";

fn us_east_1() -> RdsData {
    let r = US;
    let aws_rds = key_arn(r, AWS_RDS_KEY);
    let mut dbs = Vec::new();

    // The well-built production database.
    let mut orders = instance(r, "orders-prod", "postgres", PG16, "db.r6g.xlarge", "a");
    orders.multi_az = true;
    orders.storage_encrypted = true;
    orders.kms_key_id = Some(key_arn(r, "orders-db"));
    orders.port = Some(5432);
    orders.db_subnet_group_name = Some("orders-db-private".into());
    orders.vpc_security_groups = groups(r, &["db-postgres"]);
    orders.db_parameter_groups = membership("orders-pg16");
    orders.option_group_memberships = membership("default:postgres-16");
    orders.backup_retention_period = 14;
    orders.deletion_protection = true;
    orders.iam_database_authentication_enabled = true;
    orders.auto_minor_version_upgrade = true;
    orders.enabled_cloudwatch_logs_exports = strings(&["postgresql", "upgrade"]);
    monitoring(r, &mut orders, 60);
    orders.copy_tags_to_snapshot = true;
    orders.master_username = Some("orders_admin".into());
    orders.manage_master_user_password = true;
    orders.ca_certificate_identifier = Some("rds-ca-rsa2048-g1".into());
    orders.certificate_valid_till = Some("2027-10-14T12:00:00Z".into());
    orders.performance_insights_enabled = true;
    orders.engine_lifecycle_support = Some(EXTENDED_SUPPORT_DISABLED.into());
    orders.performance_insights_kms_key_id = Some(aws_rds.clone());
    orders.tags = tags(&[
        ("Application", "orders"),
        ("DataClassification", "confidential"),
        ("Environment", "prod"),
        ("Owner", "platform-team"),
    ]);
    dbs.push(orders);

    // The headline problem: an old reporting database, public, unencrypted, open to the world.
    let mut legacy = instance(r, "legacy-reports", "postgres", PG13, "db.t3.medium", "b");
    legacy.publicly_accessible = true;
    legacy.port = Some(5432);
    legacy.db_subnet_group_name = Some("legacy-public".into());
    legacy.vpc_security_groups = groups(r, &["legacy-reports-open"]);
    legacy.db_parameter_groups = membership("default.postgres13");
    legacy.option_group_memberships = membership("default:postgres-13");
    legacy.backup_retention_period = 7;
    legacy.auto_minor_version_upgrade = true;
    legacy.master_username = Some("postgres".into());
    legacy.ca_certificate_identifier = Some("rds-ca-2019".into());
    legacy.certificate_valid_till = Some("2024-08-22T17:08:50Z".into());
    legacy.engine_lifecycle_support = Some(EXTENDED_SUPPORT.into());
    legacy.storage_type = Some("gp2".into());
    dbs.push(legacy);

    let mut catalog = instance(r, "catalog-mysql", "mysql", MYSQL, "db.m6g.large", "a");
    catalog.storage_encrypted = true;
    catalog.kms_key_id = Some(aws_rds.clone());
    catalog.port = Some(3306);
    catalog.db_subnet_group_name = Some("app-db".into());
    catalog.vpc_security_groups = groups(r, &["db-mysql-open"]);
    catalog.db_parameter_groups = membership("catalog-mysql80");
    catalog.option_group_memberships = membership("default:mysql-8-0");
    catalog.backup_retention_period = 1;
    catalog.auto_minor_version_upgrade = false;
    catalog.enabled_cloudwatch_logs_exports = strings(&["error"]);
    catalog.master_username = Some("admin".into());
    catalog.ca_certificate_identifier = Some("rds-ca-rsa2048-g1".into());
    catalog.certificate_valid_till = Some("2027-03-02T08:30:00Z".into());
    catalog.performance_insights_enabled = true;
    // MySQL 8.0 left standard support in July 2026: enrolled (and billed) by default.
    catalog.engine_lifecycle_support = Some(EXTENDED_SUPPORT.into());
    catalog.performance_insights_kms_key_id = Some(aws_rds.clone());
    catalog.tags = tags(&[("Application", "catalog"), ("Environment", "prod")]);
    let mut replica = catalog.clone();
    let replica_id = "catalog-mysql-replica";
    let base = instance(r, replica_id, "mysql", MYSQL, "db.m6g.large", "b");
    replica.db_instance_identifier = base.db_instance_identifier;
    replica.db_instance_arn = base.db_instance_arn;
    replica.dbi_resource_id = base.dbi_resource_id;
    replica.endpoint_address = base.endpoint_address;
    replica.availability_zone = base.availability_zone;
    replica.instance_create_time = base.instance_create_time;
    replica.backup_retention_period = 0;
    replica.performance_insights_enabled = false;
    replica.performance_insights_kms_key_id = None;
    replica.read_replica_source_db_instance_identifier = Some("catalog-mysql".into());
    dbs.push(catalog);
    dbs.push(replica);

    let mut finance = instance(
        r,
        "finance-mssql",
        "sqlserver-se",
        MSSQL,
        "db.m5.xlarge",
        "a",
    );
    finance.storage_encrypted = true;
    finance.kms_key_id = Some(aws_rds.clone());
    finance.port = Some(1433);
    finance.db_subnet_group_name = Some("app-db".into());
    finance.vpc_security_groups = groups(r, &["db-mssql"]);
    finance.db_parameter_groups = membership("finance-sqlserver-se-15");
    finance.option_group_memberships = membership("finance-sqlserver-se-15");
    finance.backup_retention_period = 7;
    finance.deletion_protection = true;
    finance.auto_minor_version_upgrade = true;
    finance.enabled_cloudwatch_logs_exports = strings(&["agent", "error"]);
    finance.master_username = Some("finadmin".into());
    finance.ca_certificate_identifier = Some("rds-ca-rsa2048-g1".into());
    finance.certificate_valid_till = Some("2027-05-19T10:00:00Z".into());
    finance.tags = tags(&[("Application", "finance"), ("Environment", "prod")]);
    dbs.push(finance);

    let mut erp = instance(r, "erp-oracle", "oracle-ee", ORACLE, "db.r5.2xlarge", "b");
    erp.multi_az = true;
    erp.storage_encrypted = true;
    erp.kms_key_id = Some(key_arn(r, "erp-oracle"));
    erp.port = Some(1521);
    erp.db_subnet_group_name = Some("app-db".into());
    erp.vpc_security_groups = groups(r, &["db-oracle"]);
    erp.db_parameter_groups = membership("default.oracle-ee-19");
    erp.option_group_memberships = membership("erp-oracle-ee-19");
    erp.backup_retention_period = 14;
    erp.deletion_protection = true;
    erp.auto_minor_version_upgrade = true;
    erp.enabled_cloudwatch_logs_exports = strings(&["alert", "audit", "listener", "trace"]);
    monitoring(r, &mut erp, 30);
    erp.copy_tags_to_snapshot = true;
    erp.master_username = Some("erpadmin".into());
    erp.ca_certificate_identifier = Some("rds-ca-rsa4096-g1".into());
    erp.certificate_valid_till = Some("2027-08-01T00:00:00Z".into());
    erp.performance_insights_enabled = true;
    erp.performance_insights_kms_key_id = Some(key_arn(r, "erp-oracle"));
    erp.storage_type = Some("io1".into());
    erp.tags = tags(&[
        ("Application", "erp"),
        ("DataClassification", "restricted"),
        ("Environment", "prod"),
    ]);
    dbs.push(erp);

    for (id, az, writer) in [
        ("payments-aurora-1", "a", true),
        ("payments-aurora-2", "b", false),
    ] {
        let mut db = instance(r, id, "aurora-postgresql", AURORA_PG, "db.r6g.large", az);
        db.db_cluster_identifier = Some("payments-aurora".into());
        db.storage_encrypted = true;
        db.kms_key_id = Some(key_arn(r, "payments-aurora"));
        db.port = Some(5432);
        db.db_subnet_group_name = Some("orders-db-private".into());
        db.vpc_security_groups = groups(r, &["db-postgres"]);
        db.db_parameter_groups = membership("default.aurora-postgresql16");
        db.option_group_memberships = membership("default:aurora-postgresql-16");
        db.backup_retention_period = 14;
        db.deletion_protection = true;
        db.iam_database_authentication_enabled = true;
        db.auto_minor_version_upgrade = true;
        db.enabled_cloudwatch_logs_exports = strings(&["postgresql"]);
        monitoring(r, &mut db, 60);
        db.copy_tags_to_snapshot = true;
        db.master_username = Some("payments_admin".into());
        db.ca_certificate_identifier = Some("rds-ca-rsa2048-g1".into());
        db.certificate_valid_till = Some("2027-09-30T00:00:00Z".into());
        db.performance_insights_enabled = true;
        db.performance_insights_kms_key_id = Some(aws_rds.clone());
        db.engine_lifecycle_support = Some(EXTENDED_SUPPORT_DISABLED.into());
        db.storage_type = Some("aurora".into());
        db.tags = tags(&[
            ("Application", "payments"),
            ("Environment", "prod"),
            ("Role", if writer { "writer" } else { "reader" }),
        ]);
        dbs.push(db);
    }

    // Multi-AZ DB cluster members: untagged (tags live on the cluster).
    for (i, az) in ["a", "b", "c"].iter().enumerate() {
        let id = format!("analytics-maz-instance-{}", i + 1);
        let mut db = instance(r, &id, "postgres", MAZ_PG, "db.r6gd.large", az);
        db.db_cluster_identifier = Some("analytics-maz".into());
        db.storage_encrypted = true;
        db.kms_key_id = Some(aws_rds.clone());
        db.port = Some(5432);
        db.db_subnet_group_name = Some("orders-db-private".into());
        db.vpc_security_groups = groups(r, &["db-analytics"]);
        db.db_parameter_groups = membership("default.postgres16");
        db.option_group_memberships = membership("default:postgres-16");
        db.backup_retention_period = 7;
        db.auto_minor_version_upgrade = false;
        db.master_username = Some("analytics".into());
        db.ca_certificate_identifier = Some("rds-ca-rsa2048-g1".into());
        db.certificate_valid_till = Some("2027-06-11T00:00:00Z".into());
        db.engine_lifecycle_support = Some(EXTENDED_SUPPORT_DISABLED.into());
        db.storage_type = Some("io2".into());
        dbs.push(db);
    }

    let mut payments = DbCluster {
        db_cluster_identifier: "payments-aurora".into(),
        db_cluster_arn: rds_arn(r, ACCOUNT, "cluster", "payments-aurora"),
        engine: "aurora-postgresql".into(),
        engine_version: AURORA_PG.into(),
        engine_mode: Some("provisioned".into()),
        status: "available".into(),
        members: vec![
            member("payments-aurora-1", true),
            member("payments-aurora-2", false),
        ],
        multi_az: true,
        availability_zones: ["a", "b", "c"].iter().map(|z| format!("{r}{z}")).collect(),
        storage_encrypted: true,
        kms_key_id: Some(key_arn(r, "payments-aurora")),
        endpoint: Some(format!("payments-aurora.cluster-{}", endpoint_suffix(r))),
        reader_endpoint: Some(format!("payments-aurora.cluster-ro-{}", endpoint_suffix(r))),
        port: Some(5432),
        vpc_security_groups: groups(r, &["db-postgres"]),
        db_subnet_group: Some("orders-db-private".into()),
        db_cluster_parameter_group: Some("payments-aurora-pg16".into()),
        backup_retention_period: 14,
        deletion_protection: true,
        iam_database_authentication_enabled: true,
        enabled_cloudwatch_logs_exports: strings(&["postgresql"]),
        copy_tags_to_snapshot: true,
        master_username: Some("payments_admin".into()),
        manage_master_user_password: true,
        monitoring_interval: Some(60),
        engine_lifecycle_support: Some(EXTENDED_SUPPORT_DISABLED.into()),
        tags: tags(&[("Application", "payments"), ("Environment", "prod")]),
        ..Default::default()
    };
    payments.activity_stream_status = Some("stopped".into());

    let analytics = DbCluster {
        db_cluster_identifier: "analytics-maz".into(),
        db_cluster_arn: rds_arn(r, ACCOUNT, "cluster", "analytics-maz"),
        engine: "postgres".into(),
        engine_version: MAZ_PG.into(),
        status: "available".into(),
        members: vec![
            member("analytics-maz-instance-1", true),
            member("analytics-maz-instance-2", false),
            member("analytics-maz-instance-3", false),
        ],
        multi_az: true,
        availability_zones: ["a", "b", "c"].iter().map(|z| format!("{r}{z}")).collect(),
        storage_encrypted: true,
        kms_key_id: Some(aws_rds.clone()),
        endpoint: Some(format!("analytics-maz.cluster-{}", endpoint_suffix(r))),
        reader_endpoint: Some(format!("analytics-maz.cluster-ro-{}", endpoint_suffix(r))),
        port: Some(5432),
        publicly_accessible: Some(false),
        vpc_security_groups: groups(r, &["db-analytics"]),
        db_subnet_group: Some("orders-db-private".into()),
        db_cluster_parameter_group: Some("analytics-maz-pg16".into()),
        backup_retention_period: 7,
        enabled_cloudwatch_logs_exports: strings(&["postgresql"]),
        master_username: Some("analytics".into()),
        auto_minor_version_upgrade: Some(false),
        db_cluster_instance_class: Some("db.r6gd.large".into()),
        monitoring_interval: Some(0),
        engine_lifecycle_support: Some(EXTENDED_SUPPORT_DISABLED.into()),
        tags: tags(&[("Application", "analytics"), ("Environment", "prod")]),
        ..Default::default()
    };

    let rds_snapshot = |id, source, engine, version, kind, key, created, restore| {
        snapshot(SnapshotSpec {
            region: r,
            id,
            cluster: false,
            source,
            engine,
            version,
            snapshot_type: kind,
            key,
            created,
            restore,
        })
    };
    let db_snapshots = vec![
        rds_snapshot(
            "rds:orders-prod-2026-10-31-03-10",
            "orders-prod",
            "postgres",
            PG16,
            "automated",
            Some("orders-db"),
            "2026-10-31T03:10:00Z",
            None,
        ),
        rds_snapshot(
            "orders-prod-pre-pg16-upgrade",
            "orders-prod",
            "postgres",
            "15.7",
            "manual",
            Some("orders-db"),
            "2025-02-08T22:00:00Z",
            private(),
        ),
        rds_snapshot(
            "orders-prod-partner-share",
            "orders-prod",
            "postgres",
            PG16,
            "manual",
            Some("orders-db"),
            "2026-10-01T06:00:00Z",
            shared_with(&[PARTNER_ACCOUNT]),
        ),
        rds_snapshot(
            "legacy-reports-export",
            "legacy-reports",
            "postgres",
            PG13,
            "manual",
            None,
            "2025-06-30T18:45:00Z",
            public(),
        ),
        rds_snapshot(
            "rds:catalog-mysql-2026-10-31-05-00",
            "catalog-mysql",
            "mysql",
            MYSQL,
            "automated",
            Some(AWS_RDS_KEY),
            "2026-10-31T05:00:00Z",
            None,
        ),
        rds_snapshot(
            "catalog-mysql-debug-2026-10",
            "catalog-mysql",
            "mysql",
            MYSQL,
            "manual",
            Some("snapshot-sharing"),
            "2026-10-12T14:20:00Z",
            shared_with(&[UNKNOWN_ACCOUNT]),
        ),
        rds_snapshot(
            "erp-oracle-2024-archive",
            "erp-oracle",
            "oracle-ee",
            "19.0.0.0.ru-2024-01.rur-2024-01.r1",
            "manual",
            Some("legacy-archive"),
            "2024-03-31T23:00:00Z",
            private(),
        ),
    ];
    let cluster_snapshot = |id, source, engine, version, kind, key, created, restore| {
        snapshot(SnapshotSpec {
            region: r,
            id,
            cluster: true,
            source,
            engine,
            version,
            snapshot_type: kind,
            key,
            created,
            restore,
        })
    };
    let db_cluster_snapshots = vec![
        cluster_snapshot(
            "rds:payments-aurora-2026-10-31-04-00",
            "payments-aurora",
            "aurora-postgresql",
            AURORA_PG,
            "automated",
            Some("payments-aurora"),
            "2026-10-31T04:00:00Z",
            None,
        ),
        cluster_snapshot(
            "payments-aurora-manual-2026-09",
            "payments-aurora",
            "aurora-postgresql",
            AURORA_PG,
            "manual",
            Some("payments-aurora"),
            "2026-09-15T02:00:00Z",
            private(),
        ),
        // A seed snapshot of a staging cluster that no longer exists, left public.
        cluster_snapshot(
            "sessions-staging-seed",
            "sessions-staging",
            "aurora-postgresql",
            "14.9",
            "manual",
            None,
            "2024-11-20T10:30:00Z",
            public(),
        ),
    ];

    RdsData {
        db_instances: dbs,
        db_clusters: vec![payments, analytics],
        db_snapshots,
        db_cluster_snapshots,
        db_parameter_groups: vec![
            parameter_group(
                r,
                "orders-pg16",
                "postgres16",
                false,
                &[
                    ("rds.force_ssl", "1", "user"),
                    ("ssl", "1", "system"),
                    ("ssl_min_protocol_version", "TLSv1.2", "user"),
                    ("password_encryption", "scram-sha-256", "user"),
                    ("log_connections", "1", "user"),
                    ("log_disconnections", "1", "user"),
                    ("log_statement", "ddl", "user"),
                    ("pgaudit.log", "ddl,role", "user"),
                    ("pgaudit.role", "rds_pgaudit", "user"),
                    (
                        "shared_preload_libraries",
                        "pg_stat_statements,pgaudit",
                        "user",
                    ),
                    ("rds.log_retention_period", "4320", "engine-default"),
                ],
            ),
            // PostgreSQL 13's default group does not report rds.force_ssl: the engine default
            // (0, TLS optional) applies.
            parameter_group(
                r,
                "default.postgres13",
                "postgres13",
                false,
                &[
                    ("ssl", "1", "system"),
                    ("ssl_min_protocol_version", "TLSv1.2", "engine-default"),
                    ("password_encryption", "md5", "engine-default"),
                    ("log_connections", "0", "engine-default"),
                    ("log_statement", "none", "engine-default"),
                    ("shared_preload_libraries", "pg_stat_statements", "system"),
                    ("rds.log_retention_period", "4320", "engine-default"),
                ],
            ),
            parameter_group(
                r,
                "default.postgres16",
                "postgres16",
                false,
                &[
                    ("rds.force_ssl", "1", "engine-default"),
                    ("ssl", "1", "system"),
                    ("ssl_min_protocol_version", "TLSv1.2", "engine-default"),
                    ("password_encryption", "scram-sha-256", "engine-default"),
                    ("log_connections", "0", "engine-default"),
                    ("shared_preload_libraries", "pg_stat_statements", "system"),
                ],
            ),
            parameter_group(
                r,
                "catalog-mysql80",
                "mysql8.0",
                false,
                &[
                    ("require_secure_transport", "0", "user"),
                    ("tls_version", "TLSv1,TLSv1.1,TLSv1.2", "user"),
                    (
                        "default_authentication_plugin",
                        "mysql_native_password",
                        "user",
                    ),
                    ("general_log", "0", "engine-default"),
                    ("slow_query_log", "1", "user"),
                    ("log_output", "FILE", "user"),
                    ("local_infile", "1", "engine-default"),
                ],
            ),
            parameter_group(
                r,
                "finance-sqlserver-se-15",
                "sqlserver-se-15.0",
                false,
                &[
                    ("rds.force_ssl", "0", "user"),
                    ("rds.tls10", "default", "engine-default"),
                    ("rds.tls11", "default", "engine-default"),
                    ("rds.tls12", "default", "engine-default"),
                    ("rds.rc4", "default", "engine-default"),
                    ("rds.3des168", "default", "engine-default"),
                    ("rds.diffie-hellman", "default", "engine-default"),
                    ("rds.sqlserver_audit", "fedramp_hipaa", "system"),
                ],
            ),
            parameter_group(r, "default.oracle-ee-19", "oracle-ee-19", false, &[]),
            parameter_group(
                r,
                "default.aurora-postgresql16",
                "aurora-postgresql16",
                false,
                &[
                    ("log_connections", "0", "engine-default"),
                    ("shared_preload_libraries", "pg_stat_statements", "system"),
                ],
            ),
        ],
        db_cluster_parameter_groups: vec![
            parameter_group(
                r,
                "payments-aurora-pg16",
                "aurora-postgresql16",
                true,
                &[
                    ("rds.force_ssl", "1", "user"),
                    ("ssl", "1", "system"),
                    ("ssl_min_protocol_version", "TLSv1.2", "user"),
                    ("password_encryption", "scram-sha-256", "user"),
                    ("log_connections", "1", "user"),
                    ("log_disconnections", "1", "user"),
                    ("pgaudit.log", "all", "user"),
                    (
                        "shared_preload_libraries",
                        "pg_stat_statements,pgaudit",
                        "user",
                    ),
                ],
            ),
            parameter_group(
                r,
                "analytics-maz-pg16",
                "postgres16",
                true,
                &[
                    ("rds.force_ssl", "1", "engine-default"),
                    ("ssl_min_protocol_version", "TLSv1.2", "engine-default"),
                    ("log_connections", "0", "engine-default"),
                ],
            ),
        ],
        option_groups: vec![
            option_group(r, "default:postgres-16", "postgres", "16", Vec::new()),
            option_group(r, "default:postgres-13", "postgres", "13", Vec::new()),
            option_group(r, "default:mysql-8-0", "mysql", "8.0", Vec::new()),
            option_group(
                r,
                "default:aurora-postgresql-16",
                "aurora-postgresql",
                "16",
                Vec::new(),
            ),
            // Backups to S3 but no TRANSPARENT_DATA_ENCRYPTION option.
            option_group(
                r,
                "finance-sqlserver-se-15",
                "sqlserver-se",
                "15.00",
                vec![option(
                    "SQLSERVER_BACKUP_RESTORE",
                    &[(
                        "IAM_ROLE_ARN",
                        &format!("arn:aws:iam::{ACCOUNT}:role/rds-sqlserver-backup"),
                    )],
                )],
            ),
            // TDE on, but native network encryption only REQUESTED (clients may opt out).
            option_group(
                r,
                "erp-oracle-ee-19",
                "oracle-ee",
                "19",
                vec![
                    option("TDE", &[]),
                    option(
                        "NATIVE_NETWORK_ENCRYPTION",
                        &[
                            ("SQLNET.ENCRYPTION_SERVER", "REQUESTED"),
                            ("SQLNET.CRYPTO_CHECKSUM_SERVER", "REQUESTED"),
                            (
                                "SQLNET.ENCRYPTION_TYPES_SERVER",
                                "AES256,AES192,AES128,3DES168",
                            ),
                            (
                                "SQLNET.CRYPTO_CHECKSUM_TYPES_SERVER",
                                "SHA256,SHA384,SHA512,SHA1",
                            ),
                        ],
                    ),
                ],
            ),
        ],
        db_subnet_groups: vec![
            subnet_group(r, "orders-db-private", &["db-a", "db-b", "db-c"]),
            subnet_group(r, "app-db", &["private-a", "private-b", "private-c"]),
            subnet_group(r, "legacy-public", &["public-a", "public-b"]),
        ],
        db_proxies: vec![
            DbProxy {
                name: "orders-proxy".into(),
                arn: rds_arn(
                    r,
                    ACCOUNT,
                    "db-proxy",
                    &format!("prx-0{}", token("orders-proxy", 16).to_ascii_lowercase()),
                ),
                engine_family: "POSTGRESQL".into(),
                require_tls: true,
                vpc_id: Some(vpc_id(r, vpc_name(r))),
                vpc_security_group_ids: vec![sg_id(r, "rds-proxy")],
                vpc_subnet_ids: vec![subnet_id(r, "private-a"), subnet_id(r, "private-b")],
                endpoint: Some(format!("orders-proxy.proxy-{}", endpoint_suffix(r))),
                auth: vec![ProxyAuth {
                    auth_scheme: Some("SECRETS".into()),
                    iam_auth: Some("REQUIRED".into()),
                    client_password_auth_type: Some("POSTGRES_SCRAM_SHA_256".into()),
                    secret_arn: Some(arn(
                        "secretsmanager",
                        r,
                        ACCOUNT,
                        "secret:rds!db-orders-proxy-Ab12Cd",
                    )),
                }],
                debug_logging: false,
                status: Some("available".into()),
                tags: tags(&[("Application", "orders"), ("Environment", "prod")]),
            },
            DbProxy {
                name: "catalog-proxy".into(),
                arn: rds_arn(
                    r,
                    ACCOUNT,
                    "db-proxy",
                    &format!("prx-0{}", token("catalog-proxy", 16).to_ascii_lowercase()),
                ),
                engine_family: "MYSQL".into(),
                require_tls: false,
                vpc_id: Some(vpc_id(r, vpc_name(r))),
                vpc_security_group_ids: vec![sg_id(r, "rds-proxy")],
                vpc_subnet_ids: vec![subnet_id(r, "private-a"), subnet_id(r, "private-b")],
                endpoint: Some(format!("catalog-proxy.proxy-{}", endpoint_suffix(r))),
                auth: vec![ProxyAuth {
                    auth_scheme: Some("SECRETS".into()),
                    iam_auth: Some("DISABLED".into()),
                    client_password_auth_type: Some("MYSQL_NATIVE_PASSWORD".into()),
                    secret_arn: Some(arn(
                        "secretsmanager",
                        r,
                        ACCOUNT,
                        "secret:catalog/proxy-user-Xy98Zw",
                    )),
                }],
                debug_logging: true,
                status: Some("available".into()),
                tags: Default::default(),
            },
        ],
        // Instance events only: nothing tells anyone about cluster, parameter group or
        // security group changes.
        event_subscriptions: vec![EventSubscription {
            name: "acme-db-instance-alerts".into(),
            arn: Some(rds_arn(r, ACCOUNT, "es", "acme-db-instance-alerts")),
            sns_topic_arn: Some(arn("sns", r, ACCOUNT, "acme-db-alerts")),
            source_type: Some("db-instance".into()),
            source_ids: Vec::new(),
            event_categories: strings(&[
                "availability",
                "configuration change",
                "failover",
                "failure",
                "maintenance",
            ]),
            enabled: true,
            status: Some("active".into()),
        }],
        certificates: certificates(),
        engine_versions: versions(&[
            ("postgres", "13.15", "deprecated"),
            ("postgres", "13.18", "deprecated"),
            ("postgres", "16.3", "available"),
            ("postgres", "16.4", "available"),
            ("postgres", "16.6", "available"),
            ("mysql", "8.0.35", "available"),
            ("mysql", "8.0.40", "available"),
            ("sqlserver-se", MSSQL, "available"),
            ("oracle-ee", ORACLE, "available"),
            ("aurora-postgresql", "16.4", "available"),
            ("aurora-postgresql", "16.6", "available"),
        ]),
    }
}

fn eu_west_1() -> RdsData {
    let r = EU;
    let mut dbs = Vec::new();

    let mut customers = instance(r, "customers-eu", "mariadb", MARIADB, "db.m6g.large", "a");
    customers.storage_encrypted = true;
    customers.kms_key_id = Some(key_arn(r, "customers-eu"));
    customers.port = Some(3306);
    customers.db_subnet_group_name = Some("eu-db-private".into());
    customers.vpc_security_groups = groups(r, &["eu-db-mariadb"]);
    customers.db_parameter_groups = membership("customers-mariadb106");
    customers.option_group_memberships = membership("default:mariadb-10-6");
    customers.backup_retention_period = 7;
    customers.deletion_protection = true;
    customers.iam_database_authentication_enabled = true;
    customers.auto_minor_version_upgrade = true;
    customers.enabled_cloudwatch_logs_exports = strings(&["audit", "error", "slowquery"]);
    customers.copy_tags_to_snapshot = true;
    customers.master_username = Some("custadmin".into());
    customers.manage_master_user_password = true;
    customers.ca_certificate_identifier = Some("rds-ca-rsa2048-g1".into());
    // The server certificate is due for rotation within the month.
    customers.certificate_valid_till = Some("2026-11-29T08:14:00Z".into());
    customers.tags = tags(&[
        ("Application", "customers"),
        ("DataResidency", "eu"),
        ("Environment", "prod"),
    ]);
    dbs.push(customers);

    let mut sessions = instance(
        r,
        "eu-sessions-1",
        "aurora-mysql",
        AURORA_MYSQL,
        "db.r6g.large",
        "a",
    );
    sessions.db_cluster_identifier = Some("eu-sessions".into());
    sessions.storage_encrypted = true;
    sessions.kms_key_id = Some(key_arn(r, "eu-sessions"));
    sessions.port = Some(3306);
    sessions.db_subnet_group_name = Some("eu-db-private".into());
    sessions.vpc_security_groups = groups(r, &["eu-aurora-mysql"]);
    sessions.db_parameter_groups = membership("default.aurora-mysql8.0");
    sessions.option_group_memberships = membership("default:aurora-mysql-8-0");
    sessions.backup_retention_period = 1;
    sessions.auto_minor_version_upgrade = true;
    sessions.master_username = Some("sessions".into());
    sessions.ca_certificate_identifier = Some("rds-ca-rsa2048-g1".into());
    sessions.certificate_valid_till = Some("2027-04-22T00:00:00Z".into());
    sessions.engine_lifecycle_support = Some(EXTENDED_SUPPORT_DISABLED.into());
    sessions.storage_type = Some("aurora".into());
    sessions.tags = tags(&[("Environment", "prod")]);
    dbs.push(sessions);

    let mut ledger = instance(r, "eu-ledger-db2", "db2-se", DB2, "db.m6i.large", "b");
    ledger.storage_encrypted = true;
    ledger.kms_key_id = Some(key_arn(r, "eu-ledger"));
    ledger.port = Some(50000);
    ledger.db_subnet_group_name = Some("eu-db-private".into());
    ledger.vpc_security_groups = groups(r, &["eu-db2"]);
    ledger.db_parameter_groups = membership("ledger-db2-se-11-5");
    ledger.option_group_memberships = membership("default:db2-se-11-5");
    ledger.backup_retention_period = 7;
    ledger.deletion_protection = true;
    ledger.auto_minor_version_upgrade = true;
    ledger.enabled_cloudwatch_logs_exports = strings(&["diag.log", "notify.log"]);
    ledger.master_username = Some("db2admin".into());
    ledger.ca_certificate_identifier = Some("rds-ca-rsa2048-g1".into());
    ledger.certificate_valid_till = Some("2027-02-14T00:00:00Z".into());
    ledger.storage_type = Some("io1".into());
    ledger.tags = tags(&[("Application", "ledger")]);
    dbs.push(ledger);

    let sessions_cluster = DbCluster {
        db_cluster_identifier: "eu-sessions".into(),
        db_cluster_arn: rds_arn(r, ACCOUNT, "cluster", "eu-sessions"),
        engine: "aurora-mysql".into(),
        engine_version: AURORA_MYSQL.into(),
        engine_mode: Some("provisioned".into()),
        status: "available".into(),
        members: vec![member("eu-sessions-1", true)],
        multi_az: false,
        availability_zones: ["a", "b", "c"].iter().map(|z| format!("{r}{z}")).collect(),
        storage_encrypted: true,
        kms_key_id: Some(key_arn(r, "eu-sessions")),
        endpoint: Some(format!("eu-sessions.cluster-{}", endpoint_suffix(r))),
        reader_endpoint: Some(format!("eu-sessions.cluster-ro-{}", endpoint_suffix(r))),
        port: Some(3306),
        vpc_security_groups: groups(r, &["eu-aurora-mysql"]),
        db_subnet_group: Some("eu-db-private".into()),
        db_cluster_parameter_group: Some("sessions-aurora-mysql80".into()),
        backup_retention_period: 1,
        master_username: Some("sessions".into()),
        backtrack_window: None,
        engine_lifecycle_support: Some(EXTENDED_SUPPORT_DISABLED.into()),
        tags: tags(&[("Environment", "prod")]),
        ..Default::default()
    };

    RdsData {
        db_instances: dbs,
        db_clusters: vec![sessions_cluster],
        db_snapshots: vec![
            snapshot(SnapshotSpec {
                region: r,
                id: "rds:customers-eu-2026-10-31-02-30",
                cluster: false,
                source: "customers-eu",
                engine: "mariadb",
                version: MARIADB,
                snapshot_type: "automated",
                key: Some("customers-eu"),
                created: "2026-10-31T02:30:00Z",
                restore: None,
            }),
            snapshot(SnapshotSpec {
                region: r,
                id: "customers-eu-gdpr-audit-2026",
                cluster: false,
                source: "customers-eu",
                engine: "mariadb",
                version: MARIADB,
                snapshot_type: "manual",
                key: Some("customers-eu"),
                created: "2026-05-25T09:00:00Z",
                restore: private(),
            }),
        ],
        db_cluster_snapshots: vec![snapshot(SnapshotSpec {
            region: r,
            id: "rds:eu-sessions-2026-10-31-01-00",
            cluster: true,
            source: "eu-sessions",
            engine: "aurora-mysql",
            version: AURORA_MYSQL,
            snapshot_type: "automated",
            key: Some("eu-sessions"),
            created: "2026-10-31T01:00:00Z",
            restore: None,
        })],
        db_parameter_groups: vec![
            parameter_group(
                r,
                "customers-mariadb106",
                "mariadb10.6",
                false,
                &[
                    ("require_secure_transport", "1", "user"),
                    ("tls_version", "TLSv1.2,TLSv1.3", "user"),
                    ("server_audit_logging", "1", "user"),
                    ("server_audit_events", "CONNECT,QUERY_DDL,QUERY_DCL", "user"),
                    ("server_audit_excl_users", "rdsadmin", "user"),
                    ("general_log", "0", "engine-default"),
                    ("local_infile", "0", "user"),
                ],
            ),
            parameter_group(
                r,
                "default.aurora-mysql8.0",
                "aurora-mysql8.0",
                false,
                &[
                    ("general_log", "0", "engine-default"),
                    ("slow_query_log", "0", "engine-default"),
                    ("local_infile", "1", "engine-default"),
                ],
            ),
            // SSL needs db2comm to include SSL and an ssl_svcename: TCP only here.
            parameter_group(
                r,
                "ledger-db2-se-11-5",
                "db2-se-11.5",
                false,
                &[("db2comm", "TCPIP", "user")],
            ),
        ],
        db_cluster_parameter_groups: vec![parameter_group(
            r,
            "sessions-aurora-mysql80",
            "aurora-mysql8.0",
            true,
            &[
                ("require_secure_transport", "OFF", "engine-default"),
                ("tls_version", "TLSv1.2,TLSv1.3", "engine-default"),
                ("server_audit_logging", "0", "user"),
                ("server_audit_events", "", "engine-default"),
            ],
        )],
        option_groups: vec![
            option_group(r, "default:mariadb-10-6", "mariadb", "10.6", Vec::new()),
            option_group(
                r,
                "default:aurora-mysql-8-0",
                "aurora-mysql",
                "8.0",
                Vec::new(),
            ),
            option_group(r, "default:db2-se-11-5", "db2-se", "11.5", Vec::new()),
        ],
        db_subnet_groups: vec![subnet_group(r, "eu-db-private", &["db-a", "db-b", "db-c"])],
        db_proxies: Vec::new(),
        event_subscriptions: Vec::new(),
        certificates: certificates(),
        engine_versions: versions(&[
            ("mariadb", MARIADB, "available"),
            ("mariadb", "10.6.20", "available"),
            ("aurora-mysql", AURORA_MYSQL, "available"),
            ("aurora-mysql", "8.0.mysql_aurora.3.08.0", "available"),
            ("db2-se", DB2, "available"),
        ]),
    }
}

fn ap_southeast_2() -> RdsData {
    let r = AP;
    let mut inventory = instance(r, "au-inventory", "postgres", AU_PG, "db.t4g.medium", "a");
    inventory.storage_encrypted = true;
    inventory.kms_key_id = Some(key_arn(r, AWS_RDS_KEY));
    inventory.port = Some(5432);
    inventory.db_subnet_group_name = Some("au-db".into());
    inventory.vpc_security_groups = groups(r, &["au-db"]);
    inventory.db_parameter_groups = membership("default.postgres15");
    inventory.option_group_memberships = membership("default:postgres-15");
    inventory.backup_retention_period = 7;
    inventory.auto_minor_version_upgrade = true;
    inventory.master_username = Some("inventory".into());
    inventory.ca_certificate_identifier = Some("rds-ca-rsa2048-g1".into());
    // The response carried no CertificateDetails, and DescribeCertificates was denied here:
    // the certificate's expiry is unknown (not assessed, never assumed fine).
    inventory.certificate_valid_till = None;
    inventory.engine_lifecycle_support = Some(EXTENDED_SUPPORT_DISABLED.into());
    inventory.storage_type = Some("gp3".into());

    RdsData {
        db_instances: vec![inventory],
        db_snapshots: vec![snapshot(SnapshotSpec {
            region: r,
            id: "rds:au-inventory-2026-10-31-16-00",
            cluster: false,
            source: "au-inventory",
            engine: "postgres",
            version: AU_PG,
            snapshot_type: "automated",
            key: Some(AWS_RDS_KEY),
            created: "2026-10-31T16:00:00Z",
            restore: None,
        })],
        db_parameter_groups: vec![parameter_group(
            r,
            "default.postgres15",
            "postgres15",
            false,
            &[
                ("rds.force_ssl", "1", "engine-default"),
                ("ssl", "1", "system"),
                ("ssl_min_protocol_version", "TLSv1.2", "engine-default"),
                ("password_encryption", "scram-sha-256", "engine-default"),
            ],
        )],
        option_groups: vec![option_group(
            r,
            "default:postgres-15",
            "postgres",
            "15",
            Vec::new(),
        )],
        db_subnet_groups: vec![subnet_group(r, "au-db", &["private-a", "private-b"])],
        // DescribeCertificates was denied here (see the region's gaps).
        certificates: Vec::new(),
        engine_versions: versions(&[
            ("postgres", AU_PG, "available"),
            ("postgres", "15.10", "available"),
        ]),
        ..Default::default()
    }
}
