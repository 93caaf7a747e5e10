//! RDS detections: exposure, snapshot sharing, copies, restores and exports, credential and
//! protection changes, deletions, backups, IAM auth, log exports and TLS parameters.

use rdsguard_findings::Severity;
use serde_json::Value;

use super::{Det, Hit};
use crate::event::{EventView, as_i64, as_text, is_false, is_true};

/// The resource a modify/create/delete call is about.
struct Target {
    resource_type: &'static str,
    id: String,
    kind: &'static str,
    arn: Option<String>,
}

fn field<'v>(v: Option<&'v Value>, key: &str) -> Option<&'v Value> {
    v?.get(key)
}

/// The DB instance or cluster named by a request (for restores, the new one).
fn db_target(ev: &EventView<'_>) -> Option<Target> {
    let req = ev.request();
    let resp = ev.response();
    let pick = |keys: &[&str]| {
        keys.iter()
            .find_map(|k| as_text(field(req, k)).or_else(|| as_text(field(resp, k))))
    };
    if let Some(id) = pick(&["targetDBInstanceIdentifier", "dBInstanceIdentifier"]) {
        return Some(Target {
            resource_type: "AwsRdsDbInstance",
            id,
            kind: "DB instance",
            arn: as_text(field(resp, "dBInstanceArn")),
        });
    }
    if let Some(id) = pick(&["dBClusterIdentifier"]) {
        return Some(Target {
            resource_type: "AwsRdsDbCluster",
            id,
            kind: "DB cluster",
            arn: as_text(field(resp, "dBClusterArn")),
        });
    }
    None
}

fn snapshot_target(ev: &EventView<'_>) -> Option<Target> {
    let req = ev.request();
    let resp = ev.response();
    if let Some(id) = as_text(field(req, "dBSnapshotIdentifier")) {
        return Some(Target {
            resource_type: "AwsRdsDbSnapshot",
            id,
            kind: "DB snapshot",
            arn: as_text(field(resp, "dBSnapshotArn")),
        });
    }
    if let Some(id) = as_text(field(req, "dBClusterSnapshotIdentifier")) {
        return Some(Target {
            resource_type: "AwsRdsDbClusterSnapshot",
            id,
            kind: "DB cluster snapshot",
            arn: as_text(field(resp, "dBClusterSnapshotArn")),
        });
    }
    None
}

fn unknown(kind: &'static str) -> Target {
    Target {
        resource_type: "AwsRdsDbInstance",
        id: "unknown".into(),
        kind,
        arn: None,
    }
}

fn hit(det: Det, t: &Target, message: String) -> Hit {
    Hit::new(det, t.resource_type, t.id.clone(), message).arn(t.arn.clone())
}

pub(crate) fn detect(name: &str, ev: &EventView<'_>, out: &mut Vec<Hit>) {
    match name {
        "ModifyDBInstance" | "ModifyDBCluster" => modify(name, ev, out),
        "CreateDBInstance" | "CreateDBCluster" | "CreateDBInstanceReadReplica" => {
            created(name, ev, out)
        }
        "RestoreDBInstanceFromDBSnapshot"
        | "RestoreDBClusterFromSnapshot"
        | "RestoreDBInstanceToPointInTime"
        | "RestoreDBClusterToPointInTime" => restored(name, ev, out),
        "RestoreDBInstanceFromS3" | "RestoreDBClusterFromS3" => created(name, ev, out),
        "ModifyDBSnapshotAttribute" | "ModifyDBClusterSnapshotAttribute" => shared(ev, out),
        "CopyDBSnapshot" | "CopyDBClusterSnapshot" => copied(name, ev, out),
        "StartExportTask" => exported(ev, out),
        "DeleteDBInstance" | "DeleteDBCluster" => deleted_db(name, ev, out),
        "DeleteDBSnapshot" | "DeleteDBClusterSnapshot" => {
            let t = snapshot_target(ev).unwrap_or_else(|| unknown("DB snapshot"));
            out.push(hit(
                Det::RdsDeleted,
                &t,
                format!("{} {} deleted", t.kind, t.id),
            ));
        }
        "DeleteDBInstanceAutomatedBackup" | "DeleteDBClusterAutomatedBackup" => {
            let req = ev.request();
            let id = [
                "dbiResourceId",
                "dbClusterResourceId",
                "dBInstanceAutomatedBackupsArn",
            ]
            .iter()
            .find_map(|k| as_text(field(req, k)))
            .unwrap_or_else(|| "unknown".into());
            let (rt, kind) = if name == "DeleteDBClusterAutomatedBackup" {
                ("AwsRdsDbCluster", "DB cluster")
            } else {
                ("AwsRdsDbInstance", "DB instance")
            };
            out.push(Hit::new(
                Det::RdsDeleted,
                rt,
                id.clone(),
                format!("automated backups of {kind} {id} deleted"),
            ));
        }
        "ModifyDBParameterGroup" | "ModifyDBClusterParameterGroup" => tls(name, ev, false, out),
        "ResetDBParameterGroup" | "ResetDBClusterParameterGroup" => tls(name, ev, true, out),
        _ => {}
    }
}

fn modify(name: &str, ev: &EventView<'_>, out: &mut Vec<Hit>) {
    let Some(req) = ev.request() else {
        return;
    };
    let t = db_target(ev).unwrap_or_else(|| unknown("DB instance"));
    let pending = field(ev.response(), "pendingModifiedValues");
    if is_true(req.get("publiclyAccessible")) {
        out.push(
            hit(
                Det::RdsMadePublic,
                &t,
                format!("{} {} made publicly accessible ({name})", t.kind, t.id),
            )
            .detail("publiclyAccessible", true),
        );
    }
    if req.get("masterUserPassword").is_some() || field(pending, "masterUserPassword").is_some() {
        out.push(hit(
            Det::RdsMasterPasswordChanged,
            &t,
            format!(
                "master user password of {} {} changed ({name})",
                t.kind, t.id
            ),
        ));
    }
    if is_false(req.get("deletionProtection")) {
        out.push(
            hit(
                Det::RdsDeletionProtectionDisabled,
                &t,
                format!("deletion protection of {} {} disabled", t.kind, t.id),
            )
            .detail("deletionProtection", false),
        );
    }
    if as_i64(req.get("backupRetentionPeriod")) == Some(0) {
        out.push(
            hit(
                Det::RdsBackupRetentionDisabled,
                &t,
                format!(
                    "automated backups of {} {} disabled (retention 0)",
                    t.kind, t.id
                ),
            )
            .detail("backupRetentionPeriod", 0),
        );
    }
    if is_false(req.get("enableIAMDatabaseAuthentication")) {
        out.push(
            hit(
                Det::RdsIamAuthDisabled,
                &t,
                format!(
                    "IAM database authentication of {} {} disabled",
                    t.kind, t.id
                ),
            )
            .detail("enableIAMDatabaseAuthentication", false),
        );
    }
    if let Some(disabled) = req
        .get("cloudwatchLogsExportConfiguration")
        .and_then(|c| c.get("disableLogTypes"))
        .and_then(Value::as_array)
        .filter(|a| !a.is_empty())
    {
        let types: Vec<String> = disabled.iter().filter_map(|v| as_text(Some(v))).collect();
        out.push(
            hit(
                Det::RdsLogExportsDisabled,
                &t,
                format!(
                    "log exports of {} {} disabled: {}",
                    t.kind,
                    t.id,
                    types.join(", ")
                ),
            )
            .detail("disableLogTypes", disabled.clone()),
        );
    }
}

fn created(name: &str, ev: &EventView<'_>, out: &mut Vec<Hit>) {
    let req = ev.request();
    let t = db_target(ev).unwrap_or_else(|| unknown("DB instance"));
    if is_true(field(req, "publiclyAccessible"))
        || is_true(field(ev.response(), "publiclyAccessible"))
    {
        out.push(
            hit(
                Det::RdsMadePublic,
                &t,
                format!("{} {} created publicly accessible ({name})", t.kind, t.id),
            )
            .detail("publiclyAccessible", true),
        );
    }
    if name == "CreateDBInstance" && as_i64(field(req, "backupRetentionPeriod")) == Some(0) {
        out.push(
            hit(
                Det::RdsBackupRetentionDisabled,
                &t,
                format!(
                    "{} {} created without automated backups (retention 0)",
                    t.kind, t.id
                ),
            )
            .detail("backupRetentionPeriod", 0),
        );
    }
}

fn restored(name: &str, ev: &EventView<'_>, out: &mut Vec<Hit>) {
    let req = ev.request();
    let t = db_target(ev).unwrap_or_else(|| unknown("DB instance"));
    let source = [
        "dBSnapshotIdentifier",
        "dBClusterSnapshotIdentifier",
        "snapshotIdentifier",
        "sourceDBInstanceIdentifier",
        "sourceDBClusterIdentifier",
        "sourceDbiResourceId",
    ]
    .iter()
    .find_map(|k| as_text(field(req, k)).map(|v| (*k, v)));
    let mut h = hit(
        Det::RdsRestoredFromSnapshot,
        &t,
        match &source {
            Some((_, s)) => format!("{} {} restored from {s} ({name})", t.kind, t.id),
            None => format!("{} {} restored ({name})", t.kind, t.id),
        },
    );
    if let Some((k, v)) = source {
        h = h.detail(k, v);
    }
    out.push(h);
    created(name, ev, out);
}

fn shared(ev: &EventView<'_>, out: &mut Vec<Hit>) {
    let Some(req) = ev.request() else {
        return;
    };
    let attribute = as_text(req.get("attributeName")).unwrap_or_default();
    if !attribute.eq_ignore_ascii_case("restore") {
        return;
    }
    let Some(added) = req.get("valuesToAdd").and_then(Value::as_array) else {
        return;
    };
    let t = snapshot_target(ev).unwrap_or_else(|| unknown("DB snapshot"));
    for value in added {
        let Some(account) = as_text(Some(value)) else {
            continue;
        };
        if account.eq_ignore_ascii_case("all") {
            out.push(
                hit(
                    Det::RdsSnapshotShared,
                    &t,
                    format!("{} {} made public (restore: all)", t.kind, t.id),
                )
                .severity(Severity::Critical)
                .discriminator("all")
                .detail("valuesToAdd", Value::Array(added.clone())),
            );
        } else {
            let mut h = hit(
                Det::RdsSnapshotShared,
                &t,
                format!("{} {} shared with account {account}", t.kind, t.id),
            )
            .severity(Severity::High)
            .discriminator(account.clone())
            .detail("sharedWithAccount", account.clone());
            h.unless_trusted = Some(account);
            out.push(h);
        }
    }
}

/// (account, region) of an RDS ARN.
fn arn_account_region(arn: &str) -> Option<(String, String)> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    if parts.len() == 6 && parts[0] == "arn" {
        Some((parts[4].to_string(), parts[3].to_string()))
    } else {
        None
    }
}

fn copied(name: &str, ev: &EventView<'_>, out: &mut Vec<Hit>) {
    let req = ev.request();
    let source = [
        "sourceDBSnapshotIdentifier",
        "sourceDBClusterSnapshotIdentifier",
    ]
    .iter()
    .find_map(|k| as_text(field(req, k)));
    let Some(source) = source else {
        return;
    };
    let target = [
        "targetDBSnapshotIdentifier",
        "targetDBClusterSnapshotIdentifier",
    ]
    .iter()
    .find_map(|k| as_text(field(req, k)))
    .unwrap_or_else(|| "unknown".into());
    let here_account = ev
        .recipient_account()
        .map(|c| c.into_owned())
        .unwrap_or_default();
    let here_region = ev.region().map(|c| c.into_owned()).unwrap_or_default();
    let (src_account, mut src_region) = arn_account_region(&source).unwrap_or_default();
    if let Some(r) = as_text(field(req, "sourceRegion")) {
        src_region = r;
    }
    let cross_account =
        !src_account.is_empty() && !here_account.is_empty() && src_account != here_account;
    let cross_region =
        !src_region.is_empty() && !here_region.is_empty() && src_region != here_region;
    if !cross_account && !cross_region {
        return;
    }
    let (rt, kind) = if name == "CopyDBClusterSnapshot" {
        ("AwsRdsDbClusterSnapshot", "DB cluster snapshot")
    } else {
        ("AwsRdsDbSnapshot", "DB snapshot")
    };
    let mut what = Vec::new();
    if cross_account {
        what.push(format!(
            "from account {src_account} into account {here_account}"
        ));
    }
    if cross_region {
        what.push(format!("from region {src_region} to region {here_region}"));
    }
    let arn = as_text(field(ev.response(), "dBSnapshotArn"))
        .or_else(|| as_text(field(ev.response(), "dBClusterSnapshotArn")));
    out.push(
        Hit::new(
            Det::RdsSnapshotCopied,
            rt,
            target.clone(),
            format!("{kind} {source} copied to {target} {}", what.join(" and ")),
        )
        .arn(arn)
        .severity(if cross_account {
            Severity::High
        } else {
            Severity::Medium
        })
        .detail("source", source)
        .detail("crossAccount", cross_account)
        .detail("crossRegion", cross_region),
    );
}

fn exported(ev: &EventView<'_>, out: &mut Vec<Hit>) {
    let req = ev.request();
    let source = as_text(field(req, "sourceArn")).unwrap_or_else(|| "unknown".into());
    let bucket = as_text(field(req, "s3BucketName")).unwrap_or_else(|| "unknown".into());
    let rt = if source.contains(":cluster-snapshot:") {
        "AwsRdsDbClusterSnapshot"
    } else if source.contains(":cluster:") {
        "AwsRdsDbCluster"
    } else {
        "AwsRdsDbSnapshot"
    };
    let id = source.rsplit(':').next().unwrap_or(&source).to_string();
    let mut h = Hit::new(
        Det::RdsSnapshotExported,
        rt,
        id,
        format!("{source} exported to S3 bucket {bucket}"),
    )
    .arn(source.starts_with("arn:").then(|| source.clone()))
    .detail("s3BucketName", bucket);
    if let Some(role) = as_text(field(req, "iamRoleArn")) {
        h = h.detail("iamRoleArn", role);
    }
    out.push(h);
}

fn deleted_db(name: &str, ev: &EventView<'_>, out: &mut Vec<Hit>) {
    let req = ev.request();
    let t = db_target(ev).unwrap_or_else(|| unknown("DB instance"));
    let skip = is_true(field(req, "skipFinalSnapshot"));
    let mut h = hit(
        Det::RdsDeleted,
        &t,
        format!("{} {} deleted ({name})", t.kind, t.id),
    );
    h = h.detail("skipFinalSnapshot", skip);
    if let Some(v) = field(req, "deleteAutomatedBackups") {
        h = h.detail("deleteAutomatedBackups", v.clone());
    }
    out.push(h);
    if skip {
        out.push(
            hit(
                Det::RdsDeletedWithoutFinalSnapshot,
                &t,
                format!("{} {} deleted without a final snapshot", t.kind, t.id),
            )
            .detail("skipFinalSnapshot", true),
        );
    }
}

/// A parameter that makes TLS optional (or allows old TLS versions) when set to `value`.
fn weakens_tls(parameter: &str, value: &str) -> bool {
    let v = value.trim().to_ascii_lowercase();
    match parameter.to_ascii_lowercase().as_str() {
        "rds.force_ssl" => matches!(v.as_str(), "0" | "false" | "off"),
        "require_secure_transport" => matches!(v.as_str(), "0" | "off" | "false"),
        "ssl_min_protocol_version" => matches!(v.as_str(), "tlsv1" | "tlsv1.1"),
        "tls_version" => v
            .split(',')
            .any(|p| matches!(p.trim(), "tlsv1" | "tlsv1.1")),
        _ => false,
    }
}

const TLS_PARAMETERS: [&str; 4] = [
    "rds.force_ssl",
    "require_secure_transport",
    "ssl_min_protocol_version",
    "tls_version",
];

fn tls(name: &str, ev: &EventView<'_>, reset: bool, out: &mut Vec<Hit>) {
    let req = ev.request();
    let (rt, group) = match as_text(field(req, "dBClusterParameterGroupName")) {
        Some(g) => ("AwsRdsDbClusterParameterGroup", g),
        None => (
            "AwsRdsDbParameterGroup",
            as_text(field(req, "dBParameterGroupName")).unwrap_or_else(|| "unknown".into()),
        ),
    };
    let params: Vec<&Value> = match field(req, "parameters") {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(Value::Object(o)) => o
            .get("items")
            .and_then(Value::as_array)
            .map(|a| a.iter().collect())
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    let mut weakened = Vec::new();
    for p in params {
        let Some(pname) = as_text(p.get("parameterName")) else {
            continue;
        };
        if reset {
            if TLS_PARAMETERS
                .iter()
                .any(|t| t.eq_ignore_ascii_case(&pname))
            {
                weakened.push(format!("{pname} reset to the engine default"));
            }
        } else if let Some(value) = as_text(p.get("parameterValue"))
            && weakens_tls(&pname, &value)
        {
            weakened.push(format!("{pname}={value}"));
        }
    }
    if reset && is_true(field(req, "resetAllParameters")) {
        weakened.push("all parameters reset to engine defaults".into());
    }
    if weakened.is_empty() {
        return;
    }
    out.push(
        Hit::new(
            Det::RdsTlsWeakened,
            rt,
            group.clone(),
            format!("parameter group {group}: {} ({name})", weakened.join(", ")),
        )
        .detail("changes", weakened),
    );
}
