//! Encryption at rest: a customer managed KMS key (rotation on, administrators separated from
//! users, use only through RDS in this account, an alias), then encrypted copies:
//!
//! - instance: snapshot → copy encrypted with the key → restore `<id>-encrypted` with the same
//!   settings (class, subnet group, security groups, parameter and option groups, tags,
//!   deletion protection... plus the hardening this plan applies to the original);
//! - cluster: cluster snapshot → encrypted copy → restore `<id>-encrypted` and its members;
//! - snapshot: an encrypted copy `<id>-encrypted` beside it.
//!
//! The key of an encrypted instance cannot be changed in place, so this is the only way. The
//! original is never modified or deleted: the user cuts over when ready, and the plan says how.
//! An existing copy means the work is done: the finding is reported as waiting for cut-over,
//! not planned again.

use rdsguard_findings::Finding;
use rdsguard_model::{DbCluster, DbInstance, DbSnapshot, Tags};
use serde_json::{Value, json};

use super::{RegionPlan, Target, aws_name, with_wait};
use crate::plan::{FindingRef, Impact, Remediation, WaitFor, placeholder};

const CHECKS: &[&str] = &[
    "rds_instance_storage_encrypted",
    "rds_instance_encrypted_with_cmk",
    "rds_cluster_storage_encrypted",
    "rds_cluster_encrypted_with_cmk",
    "rds_snapshot_encrypted",
    "rds_snapshot_encrypted_with_cmk",
];

/// Suffix of every encrypted copy.
pub const SUFFIX: &str = "-encrypted";

pub(super) fn handles(check: &str) -> bool {
    CHECKS.contains(&check)
}

/// Identifier of the encrypted copy of `id` (RDS identifiers: at most 63 characters for
/// instances and clusters, 255 for snapshots).
fn copy_id(id: &str, max: usize) -> String {
    let base = aws_name(&[id]);
    let keep = max.saturating_sub(SUFFIX.len());
    let mut base: String = base.chars().take(keep).collect();
    while base.ends_with('-') {
        base.pop();
    }
    format!("{base}{SUFFIX}")
}

pub(super) fn plan(ctx: &mut RegionPlan<'_, '_>, findings: &[&Finding]) {
    for f in findings {
        match ctx.target(f) {
            Some(Target::Instance(d)) => match d.db_cluster_identifier.as_deref() {
                Some(c) => match ctx.cluster(c) {
                    Some(c) => cluster(ctx, f, c),
                    None => ctx
                        .b
                        .skip(f, format!("its cluster {c} is not in the snapshot")),
                },
                None if d.is_read_replica() => ctx.b.skip(
                    f,
                    "a read replica: encrypt its source, then create an encrypted replica"
                        .to_string(),
                ),
                None => instance(ctx, f, d),
            },
            Some(Target::Cluster(c)) => cluster(ctx, f, c),
            Some(Target::Snapshot(s)) => snapshot(ctx, f, s, false),
            Some(Target::ClusterSnapshot(s)) => snapshot(ctx, f, s, true),
            None => ctx
                .b
                .skip(f, "the resource is not in the snapshot".to_string()),
        }
    }
}

/// The key reference later steps use: an existing key's ARN, or the placeholder of the key
/// this plan creates (planned once per region).
fn key(ctx: &mut RegionPlan<'_, '_>, fix: &FindingRef) -> String {
    if let Some(k) = &ctx.b.opts.kms_key {
        return k.clone();
    }
    let alias = ctx.b.opts.kms_alias.clone();
    let existing = ctx
        .region
        .kms
        .aliases
        .iter()
        .find(|a| a.alias_name == alias)
        .and_then(|a| a.target_key_id.clone());
    if let Some(target) = existing {
        return ctx
            .region
            .kms
            .keys
            .iter()
            .find(|k| k.key_id == target || k.arn == target)
            .map(|k| k.arn.clone())
            .unwrap_or(target);
    }
    let create_key = ctx.key(&["kms-create-key"]);
    if let Some(s) = ctx.b.planned(&create_key) {
        let arn = s.output_ref("KeyArn");
        for k in ["kms-create-key", "kms-rotation", "kms-alias"] {
            let key = ctx.key(&[k]);
            ctx.b.add_fix(&key, fix.clone());
        }
        return arn;
    }
    let account = ctx.account.account_id.clone();
    let partition = if ctx.account.partition.is_empty() {
        "aws".to_string()
    } else {
        ctx.account.partition.clone()
    };
    let region = ctx.region.region.clone();
    let root = format!("arn:{partition}:iam::{account}:root");
    let admins = if ctx.b.opts.key_admins.is_empty() {
        vec![root.clone()]
    } else {
        ctx.b.opts.key_admins.clone()
    };
    let users = if ctx.b.opts.key_users.is_empty() {
        vec![root]
    } else {
        ctx.b.opts.key_users.clone()
    };
    let policy = json!({
        "Version": "2012-10-17",
        "Id": "rdsguard-rds-key",
        "Statement": [
            {
                "Sid": "KeyAdministrators",
                "Effect": "Allow",
                "Principal": {"AWS": admins},
                "Action": [
                    "kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*",
                    "kms:Update*", "kms:Revoke*", "kms:Disable*", "kms:Get*",
                    "kms:TagResource", "kms:UntagResource", "kms:CancelKeyDeletion"
                ],
                "Resource": "*"
            },
            {
                "Sid": "KeyUsersThroughRds",
                "Effect": "Allow",
                "Principal": {"AWS": users},
                "Action": [
                    "kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*",
                    "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:DescribeKey"
                ],
                "Resource": "*",
                "Condition": {"StringEquals": {
                    "kms:ViaService": format!("rds.{region}.amazonaws.com"),
                    "kms:CallerAccount": account
                }}
            },
            {
                "Sid": "KeyUsersGrantsForRds",
                "Effect": "Allow",
                "Principal": {"AWS": users},
                "Action": ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"],
                "Resource": "*",
                "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}}
            }
        ]
    });
    let policy_text = serde_json::to_string(&policy).unwrap_or_default();
    let mut create = ctx.step(
        "kms/create-key".to_string(),
        Remediation::Encryption,
        vec![fix.clone()],
        "kms",
        "CreateKey",
        json!({
            "Description": format!("rdsguard: customer managed key for RDS in {region}"),
            "KeyUsage": "ENCRYPT_DECRYPT",
            "KeySpec": "SYMMETRIC_DEFAULT",
            "Policy": policy_text,
            "Tags": [{"TagKey": "rdsguard:purpose", "TagValue": "rds-encryption"}]
        }),
        Impact::None,
        format!(
            "Create a customer managed key for RDS: administrators {} (no kms:ScheduleKeyDeletion), \
             users {} through RDS only (kms:GenerateDataKey, kms:Decrypt, grants for RDS)",
            ctx.b.opts.key_admins.join(", ").if_empty("the account (IAM decides)"),
            ctx.b.opts.key_users.join(", ").if_empty("the account (IAM decides)"),
        ),
    );
    create.outputs = vec!["KeyArn".into(), "KeyId".into()];
    create.verification = "DescribeKey shows the key Enabled".into();
    create.rollback = "DisableKey (a key that encrypts data must never be deleted)".into();
    let id = ctx.b.add(&create_key, create);
    let mut rotation = ctx.step(
        "kms/enable-rotation".to_string(),
        Remediation::Encryption,
        vec![fix.clone()],
        "kms",
        "EnableKeyRotation",
        json!({"KeyId": placeholder(&id, "KeyId")}),
        Impact::None,
        "Turn on yearly automatic rotation of the key".to_string(),
    );
    rotation.verification = "GetKeyRotationStatus is true".into();
    rotation.rollback = "DisableKeyRotation".into();
    let key_rotation = ctx.key(&["kms-rotation"]);
    ctx.b.add(&key_rotation, rotation);
    let mut alias_step = ctx.step(
        "kms/create-alias".to_string(),
        Remediation::Encryption,
        vec![fix.clone()],
        "kms",
        "CreateAlias",
        json!({"AliasName": alias, "TargetKeyId": placeholder(&id, "KeyId")}),
        Impact::None,
        format!("Name the key {alias}"),
    );
    alias_step.verification = "ListAliases shows the alias".into();
    alias_step.rollback = "DeleteAlias (the key stays)".into();
    let key_alias = ctx.key(&["kms-alias"]);
    ctx.b.add(&key_alias, alias_step);
    placeholder(&id, "KeyArn")
}

trait IfEmpty {
    fn if_empty(self, other: &str) -> String;
}

impl IfEmpty for String {
    fn if_empty(self, other: &str) -> String {
        if self.is_empty() {
            other.to_string()
        } else {
            self
        }
    }
}

fn tags_json(tags: &Tags, copy_of: &str) -> Value {
    let mut list: Vec<Value> = tags
        .iter()
        .filter(|(k, _)| !k.starts_with("aws:"))
        .map(|(k, v)| json!({"Key": k, "Value": v}))
        .collect();
    list.push(json!({"Key": "rdsguard:encrypted-copy-of", "Value": copy_of}));
    Value::Array(list)
}

fn snapshot_exists<'s>(
    ctx: &RegionPlan<'_, 's>,
    id: &str,
    cluster: bool,
) -> Option<&'s DbSnapshot> {
    let list = if cluster {
        &ctx.region.rds.db_cluster_snapshots
    } else {
        &ctx.region.rds.db_snapshots
    };
    list.iter().find(|s| s.identifier == id)
}

fn instance(ctx: &mut RegionPlan<'_, '_>, f: &Finding, d: &DbInstance) {
    let id = d.db_instance_identifier.clone();
    let new_id = copy_id(&id, 63);
    if ctx.instance(&new_id).is_some() {
        ctx.b.skip(
            f,
            format!(
                "the encrypted copy {new_id} exists: cut over to it, then retire {id} yourself \
                 (rdsguard never deletes it)"
            ),
        );
        return;
    }
    let fix = FindingRef::of(f);
    let key_ref = key(ctx, &fix);
    let snap_id = format!("rdsguard-{}-pre-encryption", aws_name(&[&id]));
    let copy_snap = copy_id(&format!("rdsguard-{id}"), 255);
    let mut source_ref = snap_id.clone();
    if snapshot_exists(ctx, &snap_id, false).is_none() {
        let key = ctx.key(&["CreateDBSnapshot", &id]);
        let mut step = ctx.step(
            format!("{id}/snapshot"),
            Remediation::Encryption,
            vec![fix.clone()],
            "rds",
            "CreateDBSnapshot",
            json!({"DBInstanceIdentifier": id, "DBSnapshotIdentifier": snap_id,
                   "Tags": [{"Key": "rdsguard:purpose", "Value": "pre-encryption"}]}),
            Impact::None,
            format!(
                "Snapshot {id} (the instance keeps running; single-AZ instances pause I/O briefly)"
            ),
        );
        step.outputs = vec!["DBSnapshotIdentifier".into()];
        step.verification = "the snapshot is available".into();
        step.rollback = "none needed (the snapshot is a copy; keep it until cut-over)".into();
        let sid = ctx
            .b
            .add(&key, with_wait(step, WaitFor::DbSnapshotAvailable));
        source_ref = placeholder(&sid, "DBSnapshotIdentifier");
    }
    let mut restore_source = copy_snap.clone();
    if snapshot_exists(ctx, &copy_snap, false).is_none() {
        let key = ctx.key(&["CopyDBSnapshot", &copy_snap]);
        let mut step = ctx.step(
            format!("{id}/copy-snapshot-encrypted"),
            Remediation::Encryption,
            vec![fix.clone()],
            "rds",
            "CopyDBSnapshot",
            json!({"SourceDBSnapshotIdentifier": source_ref, "TargetDBSnapshotIdentifier": copy_snap,
                   "KmsKeyId": key_ref, "CopyTags": true}),
            Impact::None,
            format!("Copy the snapshot of {id}, encrypted with the customer managed key"),
        );
        step.outputs = vec!["DBSnapshotIdentifier".into()];
        step.verification = "the copy is available and Encrypted with the key".into();
        step.rollback = "none needed (a new snapshot)".into();
        let cid = ctx
            .b
            .add(&key, with_wait(step, WaitFor::DbSnapshotAvailable));
        restore_source = placeholder(&cid, "DBSnapshotIdentifier");
    }
    let planned = ctx.planned_instance_settings(&id);
    let mut params = serde_json::Map::new();
    let mut set = |k: &str, v: Value| {
        params.insert(k.to_string(), v);
    };
    set("DBInstanceIdentifier", json!(new_id));
    set("DBSnapshotIdentifier", json!(restore_source));
    set("DBInstanceClass", json!(d.db_instance_class));
    if let Some(sg) = &d.db_subnet_group_name {
        set("DBSubnetGroupName", json!(sg));
    }
    let groups: Vec<&str> = d.security_group_ids().collect();
    set("VpcSecurityGroupIds", json!(groups));
    if let Some(pg) = d.db_parameter_groups.first() {
        set("DBParameterGroupName", json!(pg.name));
    }
    if let Some(og) = d
        .option_group_memberships
        .first()
        .filter(|o| !o.name.starts_with("default:"))
    {
        set("OptionGroupName", json!(og.name));
    }
    if let Some(port) = d.port {
        set("Port", json!(port));
    }
    set("MultiAZ", json!(d.multi_az));
    set("PubliclyAccessible", json!(d.publicly_accessible));
    set(
        "AutoMinorVersionUpgrade",
        json!(d.auto_minor_version_upgrade),
    );
    set("CopyTagsToSnapshot", json!(d.copy_tags_to_snapshot));
    set("DeletionProtection", json!(d.deletion_protection));
    set(
        "EnableIAMDatabaseAuthentication",
        json!(d.iam_database_authentication_enabled),
    );
    if !d.enabled_cloudwatch_logs_exports.is_empty() {
        set(
            "EnableCloudwatchLogsExports",
            json!(d.enabled_cloudwatch_logs_exports),
        );
    }
    if let Some(ca) = &d.ca_certificate_identifier {
        set("CACertificateIdentifier", json!(ca));
    }
    if let Some(st) = &d.storage_type {
        set("StorageType", json!(st));
    }
    set("Tags", tags_json(&d.tags, &id));
    // The hardening this plan applies to the original applies to the copy too.
    for (k, v) in planned {
        if k != "BackupRetentionPeriod" {
            set(&k, v);
        }
    }
    let key = ctx.key(&["RestoreDBInstanceFromDBSnapshot", &new_id]);
    let mut step = ctx.step(
        format!("{id}/restore-encrypted"),
        Remediation::Encryption,
        vec![fix],
        "rds",
        "RestoreDBInstanceFromDBSnapshot",
        Value::Object(params),
        Impact::NewResourceCutover,
        format!(
            "Restore {new_id}, encrypted, with the settings of {id}; {id} is left untouched \
             until you cut over"
        ),
    );
    step.preconditions = vec![format!(
        "writes to {id} after its snapshot are not in {new_id}: stop writes before applying, \
         or catch up before cutting over"
    )];
    step.verification = format!("{new_id} is available and StorageEncrypted with the key");
    step.rollback = format!("{new_id} is new: stop or delete it yourself; {id} was never changed");
    ctx.b
        .add(&key, with_wait(step, WaitFor::DbInstanceAvailable));
    ctx.b.note(format!(
        "DB instance {id}: the encrypted copy is {new_id} (new endpoint). Cut over: stop writes \
         to {id}, point clients at {new_id}'s endpoint (or swap names with ModifyDBInstance \
         NewDBInstanceIdentifier), keep {id} until you are sure, then delete it yourself. \
         Apply --db {new_id} fixes that are not inherited (backup retention)."
    ));
}

fn cluster(ctx: &mut RegionPlan<'_, '_>, f: &Finding, c: &DbCluster) {
    let id = c.db_cluster_identifier.clone();
    let new_id = copy_id(&id, 63);
    if ctx.cluster(&new_id).is_some() {
        ctx.b.skip(
            f,
            format!(
                "the encrypted copy {new_id} exists: cut over to it, then retire {id} yourself"
            ),
        );
        return;
    }
    let fix = FindingRef::of(f);
    let restore_key = ctx.key(&["RestoreDBClusterFromSnapshot", &new_id]);
    if ctx.b.planned(&restore_key).is_some() {
        // Another finding (a member's) already planned this cluster's copy.
        for k in [
            ctx.key(&["CreateDBClusterSnapshot", &id]),
            ctx.key(&["CopyDBClusterSnapshot", &id]),
            restore_key.clone(),
        ] {
            ctx.b.add_fix(&k, fix.clone());
        }
        return;
    }
    let key_ref = key(ctx, &fix);
    let snap_id = format!("rdsguard-{}-pre-encryption", aws_name(&[&id]));
    let copy_snap = copy_id(&format!("rdsguard-{id}"), 255);
    let k = ctx.key(&["CreateDBClusterSnapshot", &id]);
    let mut step = ctx.step(
        format!("{id}/cluster-snapshot"),
        Remediation::Encryption,
        vec![fix.clone()],
        "rds",
        "CreateDBClusterSnapshot",
        json!({"DBClusterIdentifier": id, "DBClusterSnapshotIdentifier": snap_id,
               "Tags": [{"Key": "rdsguard:purpose", "Value": "pre-encryption"}]}),
        Impact::None,
        format!("Snapshot cluster {id} (no interruption)"),
    );
    step.outputs = vec!["DBClusterSnapshotIdentifier".into()];
    step.verification = "the cluster snapshot is available".into();
    step.rollback = "none needed (a copy)".into();
    let sid = ctx
        .b
        .add(&k, with_wait(step, WaitFor::DbClusterSnapshotAvailable));
    let k = ctx.key(&["CopyDBClusterSnapshot", &id]);
    let mut step = ctx.step(
        format!("{id}/copy-cluster-snapshot-encrypted"),
        Remediation::Encryption,
        vec![fix.clone()],
        "rds",
        "CopyDBClusterSnapshot",
        json!({"SourceDBClusterSnapshotIdentifier": placeholder(&sid, "DBClusterSnapshotIdentifier"),
               "TargetDBClusterSnapshotIdentifier": copy_snap, "KmsKeyId": key_ref, "CopyTags": true}),
        Impact::None,
        format!("Copy the snapshot of cluster {id}, encrypted with the customer managed key"),
    );
    step.outputs = vec!["DBClusterSnapshotIdentifier".into()];
    step.verification = "the copy is available and encrypted".into();
    step.rollback = "none needed (a new snapshot)".into();
    let cid = ctx
        .b
        .add(&k, with_wait(step, WaitFor::DbClusterSnapshotAvailable));
    let mut params = json!({
        "DBClusterIdentifier": new_id,
        "SnapshotIdentifier": placeholder(&cid, "DBClusterSnapshotIdentifier"),
        "Engine": c.engine,
        "EngineVersion": c.engine_version,
        "VpcSecurityGroupIds": c.security_group_ids().collect::<Vec<_>>(),
        "DeletionProtection": c.deletion_protection,
        "EnableIAMDatabaseAuthentication": c.iam_database_authentication_enabled,
        "CopyTagsToSnapshot": c.copy_tags_to_snapshot,
        "Tags": tags_json(&c.tags, &id),
    });
    if let Some(sg) = &c.db_subnet_group {
        params["DBSubnetGroupName"] = json!(sg);
    }
    if let Some(pg) = &c.db_cluster_parameter_group {
        params["DBClusterParameterGroupName"] = json!(pg);
    }
    if let Some(port) = c.port {
        params["Port"] = json!(port);
    }
    if !c.enabled_cloudwatch_logs_exports.is_empty() {
        params["EnableCloudwatchLogsExports"] = json!(c.enabled_cloudwatch_logs_exports);
    }
    if let Some(class) = &c.db_cluster_instance_class {
        params["DBClusterInstanceClass"] = json!(class);
    }
    let mut step = ctx.step(
        format!("{id}/restore-cluster-encrypted"),
        Remediation::Encryption,
        vec![fix.clone()],
        "rds",
        "RestoreDBClusterFromSnapshot",
        params,
        Impact::NewResourceCutover,
        format!(
            "Restore cluster {new_id}, encrypted, with the settings of {id}; {id} is left untouched"
        ),
    );
    step.preconditions = vec![format!(
        "writes to {id} after its snapshot are not in {new_id}"
    )];
    step.verification = format!("{new_id} is available and StorageEncrypted");
    step.rollback =
        format!("{new_id} is new: delete it yourself if unwanted; {id} was never changed");
    ctx.b
        .add(&restore_key, with_wait(step, WaitFor::DbClusterAvailable));
    if c.is_aurora() {
        for m in &c.members {
            let Some(member) = ctx.instance(&m.db_instance_identifier) else {
                continue;
            };
            let member_new = copy_id(&member.db_instance_identifier, 63);
            let mut p = json!({
                "DBInstanceIdentifier": member_new,
                "DBClusterIdentifier": new_id,
                "Engine": member.engine,
                "DBInstanceClass": member.db_instance_class,
                "PubliclyAccessible": member.publicly_accessible,
                "AutoMinorVersionUpgrade": member.auto_minor_version_upgrade,
                "Tags": tags_json(&member.tags, &member.db_instance_identifier),
            });
            if let Some(pg) = member.db_parameter_groups.first() {
                p["DBParameterGroupName"] = json!(pg.name);
            }
            if let Some(az) = &member.availability_zone {
                p["AvailabilityZone"] = json!(az);
            }
            let k = ctx.key(&["CreateDBInstance", &member_new]);
            let mut step = ctx.step(
                format!("{id}/member/{}", member.db_instance_identifier),
                Remediation::Encryption,
                vec![fix.clone()],
                "rds",
                "CreateDBInstance",
                p,
                Impact::NewResourceCutover,
                format!(
                    "Add instance {member_new} to {new_id}, like {} in {id}",
                    member.db_instance_identifier
                ),
            );
            step.verification = "the instance is available".into();
            step.rollback = "a new instance: delete it yourself if unwanted".into();
            ctx.b.add(&k, with_wait(step, WaitFor::DbInstanceAvailable));
        }
    }
    ctx.b.note(format!(
        "DB cluster {id}: the encrypted copy is {new_id} (new endpoints). Cut over when ready; \
         {id} is never modified or deleted by rdsguard."
    ));
}

fn snapshot(ctx: &mut RegionPlan<'_, '_>, f: &Finding, s: &DbSnapshot, cluster: bool) {
    let id = s.identifier.clone();
    if id.starts_with("rdsguard-") && id.ends_with("-pre-encryption") {
        ctx.b.skip(
            f,
            format!(
                "{id} is the snapshot rdsguard took to make an encrypted copy; delete it \
                 yourself after cut-over"
            ),
        );
        return;
    }
    let new_id = copy_id(&id, 255);
    if snapshot_exists(ctx, &new_id, cluster).is_some_and(|e| e.encrypted) {
        ctx.b.skip(
            f,
            format!(
                "the encrypted copy {new_id} exists; delete {id} yourself once you no longer \
                 need it (rdsguard never deletes)"
            ),
        );
        return;
    }
    let fix = FindingRef::of(f);
    let key_ref = key(ctx, &fix);
    let (operation, src, dst, wait) = if cluster {
        (
            "CopyDBClusterSnapshot",
            "SourceDBClusterSnapshotIdentifier",
            "TargetDBClusterSnapshotIdentifier",
            WaitFor::DbClusterSnapshotAvailable,
        )
    } else {
        (
            "CopyDBSnapshot",
            "SourceDBSnapshotIdentifier",
            "TargetDBSnapshotIdentifier",
            WaitFor::DbSnapshotAvailable,
        )
    };
    let mut params = json!({"KmsKeyId": key_ref, "CopyTags": true});
    params[src] = json!(id);
    params[dst] = json!(new_id);
    let k = ctx.key(&[operation, &new_id]);
    let mut step = ctx.step(
        format!("{}/copy-encrypted", aws_name(&[&id])),
        Remediation::Encryption,
        vec![fix],
        "rds",
        operation,
        params,
        Impact::None,
        format!(
            "Copy snapshot {id} to {new_id}, encrypted with the customer managed key; {id} stays"
        ),
    );
    step.outputs = vec![
        if cluster {
            "DBClusterSnapshotIdentifier"
        } else {
            "DBSnapshotIdentifier"
        }
        .into(),
    ];
    step.verification = "the copy is available and encrypted".into();
    step.rollback = "none needed (a new snapshot)".into();
    ctx.b.add(&k, with_wait(step, wait));
    ctx.b.note(format!(
        "Snapshot {id}: restore from {new_id} from now on; delete {id} yourself when it is no \
         longer needed."
    ));
}
