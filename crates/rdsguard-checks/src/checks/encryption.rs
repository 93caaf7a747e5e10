//! Encryption at rest with a key the customer controls: customer managed KMS keys for
//! instances, clusters, snapshots and Performance Insights, rotation and state of those keys,
//! and Transparent Data Encryption (TDE) for Oracle and SQL Server.
//!
//! Unencrypted resources are NOT_APPLICABLE here (rds_instance_storage_encrypted and friends
//! fail them). Keys that are not in the snapshot, or whose KeyManager was not collected, are
//! NOT_ASSESSED, except keys an `alias/aws/*` alias points at, which are AWS managed by
//! definition.

use std::borrow::Cow;
use std::fmt::Display;

use super::common::Described;
use std::collections::BTreeMap;

use rdsguard_findings::{ResourceRef, Severity};
use rdsguard_model::{DbInstance, DbSnapshot, KmsKey, RegionSnapshot, ops};

use super::common::{
    EngineFamily, FastMap, KeyLookup, KeyRef, cluster_resource, gap_in, instance_family,
    instance_resource, key_resource, lookup_key_ref,
};
use super::instance::InstanceJudge;
use super::lookups::RegionLookups;
use super::snapshot::{SnapshotJudge, SnapshotKind};
use super::tls::param_groups::instance_option_groups;
use super::tls::tls_defaults::parse_version;
use super::tls::verdict::{Evidence, Verdict};
use crate::engine::{CheckDef, Emitter, RegionCtx, Runner, explaining};
use crate::{evidence, msg};

pub static CHECKS: &[&CheckDef] = &[
    &RDS_INSTANCE_ENCRYPTED_WITH_CMK,
    &RDS_CLUSTER_ENCRYPTED_WITH_CMK,
    &RDS_SNAPSHOT_ENCRYPTED_WITH_CMK,
    &RDS_KMS_KEY_ROTATION_ENABLED,
    &RDS_KMS_KEY_USABLE,
    &RDS_PERFORMANCE_INSIGHTS_ENCRYPTED_WITH_CMK,
    &RDS_INSTANCE_ORACLE_TDE,
    &RDS_INSTANCE_SQLSERVER_TDE,
];

const KEY_OPS: [rdsguard_model::Op; 2] = [ops::KMS_LIST_KEYS, ops::KMS_DESCRIBE_KEY];

pub static RDS_INSTANCE_ENCRYPTED_WITH_CMK: CheckDef = CheckDef {
    id: "rds_instance_encrypted_with_cmk",
    title: "RDS DB instance is encrypted with a customer managed KMS key",
    severity: Severity::High,
    resource_type: "AwsRdsDbInstance",
    description: "For each encrypted DB instance outside a cluster, checks that its KMS key is \
                  customer managed (KeyManager CUSTOMER), not the AWS managed aws/rds key. \
                  Cluster members are judged by rds_cluster_encrypted_with_cmk.",
    rationale: "With the AWS managed key, the key policy cannot be restricted, access cannot \
                be revoked, snapshots cannot be shared across accounts, and the key cannot be \
                disabled in an incident. The key of an encrypted instance cannot be changed \
                later without a snapshot/copy/restore.",
    remediation: "Create a customer managed key with rotation and a least-privilege policy, \
                  copy a snapshot with it, restore from the copy and cut over \
                  (`rdsguard fix --check rds_instance_encrypted_with_cmk`).",
    cis: &[],
    fsbp: &[],
    depends_on: &[ops::RDS_DESCRIBE_DB_INSTANCES, KEY_OPS[0], KEY_OPS[1]],
    run: Runner::Instances(InstanceJudge::any(instance_cmk)),
};

pub static RDS_CLUSTER_ENCRYPTED_WITH_CMK: CheckDef = CheckDef {
    id: "rds_cluster_encrypted_with_cmk",
    title: "RDS DB cluster is encrypted with a customer managed KMS key",
    severity: Severity::High,
    resource_type: "AwsRdsDbCluster",
    description: "For each encrypted Aurora or Multi-AZ DB cluster, checks that its KMS key is \
                  customer managed, not the AWS managed aws/rds key.",
    rationale: "With the AWS managed key, the key policy cannot be restricted, access cannot \
                be revoked and snapshots cannot be shared across accounts.",
    remediation: "Snapshot the cluster, copy the snapshot with a customer managed key, restore \
                  a new cluster from the copy and cut over.",
    cis: &[],
    fsbp: &[],
    depends_on: &[ops::RDS_DESCRIBE_DB_CLUSTERS, KEY_OPS[0], KEY_OPS[1]],
    run: Runner::Region(cluster_cmk),
};

pub static RDS_SNAPSHOT_ENCRYPTED_WITH_CMK: CheckDef = CheckDef {
    id: "rds_snapshot_encrypted_with_cmk",
    title: "RDS snapshot is encrypted with a customer managed KMS key",
    severity: Severity::Medium,
    resource_type: "AwsRdsDbSnapshot",
    description: "For each encrypted DB snapshot and DB cluster snapshot owned by the account, \
                  checks that its KMS key is customer managed.",
    rationale: "Snapshots encrypted with the AWS managed key cannot be shared with other \
                accounts (for backup isolation) and their access cannot be revoked by key \
                policy.",
    remediation: "Copy the snapshot with a customer managed key and delete the original once \
                  retention allows.",
    cis: &[],
    fsbp: &[],
    depends_on: &[
        ops::RDS_DESCRIBE_DB_SNAPSHOTS,
        ops::RDS_DESCRIBE_DB_CLUSTER_SNAPSHOTS,
        KEY_OPS[0],
        KEY_OPS[1],
    ],
    run: Runner::Snapshots(SnapshotJudge::both(snapshot_cmk)),
};

pub static RDS_KMS_KEY_ROTATION_ENABLED: CheckDef = CheckDef {
    id: "rds_kms_key_rotation_enabled",
    title: "Customer managed KMS keys used by RDS have automatic rotation enabled",
    severity: Severity::Medium,
    resource_type: "AwsKmsKey",
    description: "For every customer managed symmetric KMS key used by a DB instance, cluster, \
                  snapshot or Performance Insights in the region, checks that automatic key \
                  rotation is enabled. Evidence lists the resources using the key.",
    rationale: "Rotation limits the amount of data protected by one key version and the impact \
                of a compromised key version.",
    remediation: "aws kms enable-key-rotation --key-id <key> (optionally with \
                  --rotation-period-in-days).",
    cis: &["v1.4.0/3.8", "v3.0.0/3.6", "v5.0.0/3.6"],
    fsbp: &["KMS.4"],
    depends_on: &[
        ops::RDS_DESCRIBE_DB_INSTANCES,
        ops::RDS_DESCRIBE_DB_CLUSTERS,
        ops::RDS_DESCRIBE_DB_SNAPSHOTS,
        ops::RDS_DESCRIBE_DB_CLUSTER_SNAPSHOTS,
        KEY_OPS[0],
        KEY_OPS[1],
        ops::KMS_GET_KEY_ROTATION_STATUS,
    ],
    run: Runner::Region(key_rotation),
};

pub static RDS_KMS_KEY_USABLE: CheckDef = CheckDef {
    id: "rds_kms_key_usable",
    title: "The KMS key of an RDS database is enabled",
    severity: Severity::Critical,
    resource_type: "AwsRdsDbInstance",
    description: "For each encrypted DB instance (outside a cluster) and DB cluster, checks \
                  that its KMS key is in state Enabled. Disabled, PendingDeletion, \
                  PendingImport and Unavailable keys fail, with the deletion date when \
                  scheduled.",
    rationale: "RDS cannot read the storage of a database whose key is disabled or deleted: \
                the database becomes inaccessible (inaccessible-encryption-credentials) and, \
                once the key is deleted, its data and backups are lost for good.",
    remediation: "Enable the key (aws kms enable-key) or cancel its deletion (aws kms \
                  cancel-key-deletion), then restart the database if it went into \
                  inaccessible-encryption-credentials.",
    cis: &[],
    fsbp: &["KMS.3"],
    depends_on: &[
        ops::RDS_DESCRIBE_DB_INSTANCES,
        ops::RDS_DESCRIBE_DB_CLUSTERS,
        KEY_OPS[0],
        KEY_OPS[1],
    ],
    run: Runner::Region(key_usable),
};

pub static RDS_PERFORMANCE_INSIGHTS_ENCRYPTED_WITH_CMK: CheckDef = CheckDef {
    id: "rds_performance_insights_encrypted_with_cmk",
    title: "Performance Insights data is encrypted with a customer managed KMS key",
    severity: Severity::Low,
    resource_type: "AwsRdsDbInstance",
    description: "For each DB instance with Performance Insights enabled, checks that the \
                  Performance Insights KMS key is customer managed.",
    rationale: "Performance Insights stores query text and wait events, which can contain \
                sensitive data; a customer managed key keeps access under the key policy.",
    remediation: "The Performance Insights key cannot be changed once set: disable and \
                  re-enable Performance Insights with a customer managed key (history is lost).",
    cis: &[],
    fsbp: &[],
    depends_on: &[ops::RDS_DESCRIBE_DB_INSTANCES, KEY_OPS[0], KEY_OPS[1]],
    run: Runner::Instances(InstanceJudge::any(performance_insights_cmk)),
};

pub static RDS_INSTANCE_ORACLE_TDE: CheckDef = CheckDef {
    id: "rds_instance_oracle_tde",
    title: "RDS for Oracle DB instance uses Transparent Data Encryption",
    severity: Severity::Medium,
    resource_type: "AwsRdsDbInstance",
    description: "For each Oracle Enterprise Edition DB instance, checks that an attached option \
                  group holds the TDE or TDE_HSM option. Standard Edition 2 cannot use TDE and \
                  is NOT_APPLICABLE.",
    rationale: "TDE encrypts tablespaces inside the database, so data stays encrypted in \
                datafiles, Data Pump exports and RMAN backups, on top of storage encryption.",
    remediation: "Add the TDE option to a custom option group and attach it to the instance. \
                  TDE cannot be removed from an option group once added: test first.",
    cis: &[],
    fsbp: &[],
    depends_on: &[
        ops::RDS_DESCRIBE_DB_INSTANCES,
        ops::RDS_DESCRIBE_OPTION_GROUPS,
    ],
    run: Runner::Region(oracle_tde),
};

pub static RDS_INSTANCE_SQLSERVER_TDE: CheckDef = CheckDef {
    id: "rds_instance_sqlserver_tde",
    title: "RDS for SQL Server DB instance has Transparent Data Encryption available",
    severity: Severity::Medium,
    resource_type: "AwsRdsDbInstance",
    description: "For each SQL Server DB instance whose edition supports TDE on RDS (Enterprise \
                  Edition; Standard Edition from SQL Server 2019), checks that an attached \
                  option group holds the TDE option (TRANSPARENT_DATA_ENCRYPTION in the console, \
                  TDE in the API). Express, Web and older Standard editions are \
                  NOT_APPLICABLE.",
    rationale: "TDE encrypts database files and native backups inside SQL Server, on top of \
                storage encryption.",
    remediation: "Add the TDE option to a custom option group, attach it, then encrypt each \
                  database with ALTER DATABASE ... SET ENCRYPTION ON (the option alone only \
                  makes TDE available; per-database state is visible only inside SQL Server, in \
                  sys.dm_database_encryption_keys).",
    cis: &[],
    fsbp: &[],
    depends_on: &[
        ops::RDS_DESCRIBE_DB_INSTANCES,
        ops::RDS_DESCRIBE_OPTION_GROUPS,
    ],
    run: Runner::Region(sqlserver_tde),
};

// ---------------------------------------------------------------------------------------
// Key classification

/// Who manages a key referenced by a resource.
enum KeyClass<'a> {
    Customer(&'a KmsKey),
    /// AWS managed: the key, when in the snapshot, and how we know.
    Aws(Option<&'a KmsKey>, Cow<'static, str>),
    Unknown(String),
}

/// The key id inside a key ARN (`arn:...:key/<id>`), or the reference itself.
fn key_id_of(reference: &str) -> &str {
    reference
        .split_once(":key/")
        .map_or(reference, |(_, id)| id)
}

/// The account of a key ARN.
fn account_of(reference: &str) -> Option<&str> {
    reference
        .starts_with("arn:")
        .then(|| super::common::arn_part(reference, 4))?
}

fn aws_alias_for<'a>(region: &'a RegionSnapshot, reference: &str) -> Option<&'a str> {
    let id = key_id_of(reference);
    region
        .kms
        .aliases
        .iter()
        .find(|a| a.alias_name.starts_with("alias/aws/") && a.target_key_id.as_deref() == Some(id))
        .map(|a| a.alias_name.as_str())
}

fn classify_key<'a>(ctx: &RegionCtx<'a>, key: KeyRef<'_>) -> KeyClass<'a> {
    let region = ctx.region;
    let reference = key.text;
    match lookup_key_ref(ctx, key) {
        KeyLookup::Found(k) => match k.key_manager.as_deref() {
            Some("CUSTOMER") => KeyClass::Customer(k),
            Some("AWS") => KeyClass::Aws(Some(k), "KeyManager is AWS".into()),
            Some(other) => KeyClass::Unknown(format!("KMS key {} has KeyManager {other}", k.arn)),
            None => {
                let gap = [k.key_id.as_str(), k.arn.as_str()]
                    .iter()
                    .find_map(|r| gap_in(ctx, ops::KMS_DESCRIBE_KEY, Some(r)));
                KeyClass::Unknown(match gap {
                    Some(g) => g.describe(),
                    None => format!("the KeyManager of KMS key {} was not collected", k.arn),
                })
            }
        },
        KeyLookup::Unknown(reason) => {
            if let Some(alias) = aws_alias_for(region, reference) {
                return KeyClass::Aws(None, Cow::Owned(format!("{alias} points at it")));
            }
            match account_of(reference) {
                Some(acct) if acct != ctx.account.account_id => KeyClass::Unknown(format!(
                    "{reason}; it belongs to account {acct}, which is not in this snapshot (it is \
                     customer managed, as AWS managed keys cannot be used across accounts, but \
                     its owner and policy are not audited here)"
                )),
                _ => KeyClass::Unknown(reason),
            }
        }
    }
}

fn key_evidence(reference: &str, class: &KeyClass<'_>) -> Evidence {
    let key = match class {
        KeyClass::Customer(k) | KeyClass::Aws(Some(k), _) => Some(*k),
        _ => None,
    };
    evidence! {
        "kms_key_id" => reference,
        "key_arn" => key.map(|k| k.arn.as_str()),
        "key_manager" => key.and_then(|k| k.key_manager.as_deref()),
        "key_aliases" => key.map(|k| k.aliases.clone()).unwrap_or_default(),
        "key_state" => key.and_then(|k| k.key_state.as_deref()),
    }
}

/// The CMK verdict for a resource encrypted with `reference`.
fn cmk_verdict(ctx: &RegionCtx<'_>, what: &dyn Display, key: Option<KeyRef<'_>>) -> Verdict {
    let Some(key) = key else {
        return Verdict::NotAssessed(msg!("{what} is encrypted but reports no KMS key"));
    };
    let reference = key.text;
    let class = classify_key(ctx, key);
    let ev = key_evidence(reference, &class);
    match class {
        KeyClass::Customer(k) => Verdict::Pass(
            msg!("{what} is encrypted with customer managed key {}", k.arn),
            ev,
        ),
        KeyClass::Aws(_, how) => Verdict::Fail(
            msg!(
                "{what} is encrypted with the AWS managed key {reference} ({how}), whose policy \
                 the account cannot control"
            ),
            ev,
        ),
        KeyClass::Unknown(reason) => Verdict::NotAssessed(reason),
    }
}

fn instance_cmk(ctx: &RegionCtx<'_>, db: &DbInstance) -> Verdict {
    let what = Described("DB instance", &db.db_instance_identifier);
    if let Some(c) = &db.db_cluster_identifier {
        Verdict::NotApplicable(msg!(
            "member of DB cluster {c}: storage is encrypted with the cluster's key \
             (rds_cluster_encrypted_with_cmk)"
        ))
    } else if !db.storage_encrypted {
        Verdict::NotApplicable(msg!(
            "{what} is not encrypted at rest (rds_instance_storage_encrypted)"
        ))
    } else {
        cmk_verdict(ctx, &what, KeyRef::instance(ctx, db))
    }
}

fn cluster_cmk(ctx: &RegionCtx<'_>, em: &mut Emitter<'_>) {
    for c in &ctx.region.rds.db_clusters {
        if em.skip_unwanted() {
            continue;
        }
        let what = Described("DB cluster", &c.db_cluster_identifier);
        let verdict = if !c.storage_encrypted {
            Verdict::NotApplicable(msg!("{what} is not encrypted at rest"))
        } else {
            cmk_verdict(ctx, &what, KeyRef::cluster(ctx, c))
        };
        verdict.emit(em, cluster_resource(ctx, c));
    }
}

/// Snapshots another account shared with us carry that account's key.
fn owned(snapshot_type: &str) -> bool {
    !matches!(snapshot_type, "shared" | "public")
}

fn snapshot_cmk(ctx: &RegionCtx<'_>, kind: &SnapshotKind, s: &DbSnapshot) -> Verdict {
    let what = Described(kind.label, &s.identifier);
    if !owned(&s.snapshot_type) {
        Verdict::NotApplicable(msg!(
            "{what} is shared by another account, whose key it uses"
        ))
    } else if !s.encrypted {
        Verdict::NotApplicable(msg!("{what} is not encrypted"))
    } else {
        cmk_verdict(ctx, &what, KeyRef::snapshot(ctx, s))
    }
}

fn performance_insights_cmk(ctx: &RegionCtx<'_>, db: &DbInstance) -> Verdict {
    if !db.performance_insights_enabled {
        return Verdict::NotApplicable(msg!(
            "Performance Insights is not enabled on DB instance {}",
            db.db_instance_identifier
        ));
    }
    let what = Described(
        "Performance Insights of DB instance",
        &db.db_instance_identifier,
    );
    cmk_verdict(ctx, &what, KeyRef::performance_insights(ctx, db))
}

// ---------------------------------------------------------------------------------------
// Key rotation and state

/// Every KMS key reference used by RDS resources in the region, with the users of each (named
/// only when explaining: their number is all a status needs).
fn key_users<'a>(ctx: &RegionCtx<'a>) -> Vec<(&'a str, Vec<String>)> {
    let rds = &ctx.region.rds;
    // Hashed, then sorted once: a sorted map compares long ARNs (that share their first 40
    // bytes) a dozen times per database.
    let mut users: FastMap<&str, Vec<String>> = FastMap::default();
    let mut add = |key: Option<&'a String>, user: String| {
        if let Some(k) = key {
            users.entry(k.as_str()).or_default().push(user);
        }
    };
    for db in &rds.db_instances {
        if db.storage_encrypted {
            add(
                db.kms_key_id.as_ref(),
                msg!("instance:{}", db.db_instance_identifier),
            );
        }
        if db.performance_insights_enabled {
            add(
                db.performance_insights_kms_key_id.as_ref(),
                msg!("performance-insights:{}", db.db_instance_identifier),
            );
        }
    }
    for c in &rds.db_clusters {
        if c.storage_encrypted {
            add(
                c.kms_key_id.as_ref(),
                msg!("cluster:{}", c.db_cluster_identifier),
            );
        }
    }
    for s in &rds.db_snapshots {
        if s.encrypted && owned(&s.snapshot_type) {
            add(s.kms_key_id.as_ref(), msg!("snapshot:{}", s.identifier));
        }
    }
    for s in &rds.db_cluster_snapshots {
        if s.encrypted && owned(&s.snapshot_type) {
            add(
                s.kms_key_id.as_ref(),
                msg!("cluster-snapshot:{}", s.identifier),
            );
        }
    }
    let mut users: Vec<(&str, Vec<String>)> = users.into_iter().collect();
    users.sort_unstable_by(|a, b| a.0.cmp(b.0));
    users
}

fn unresolved_key_resource(ctx: &RegionCtx<'_>, reference: &str) -> ResourceRef {
    ResourceRef {
        resource_type: "AwsKmsKey".into(),
        id: key_id_of(reference).to_string(),
        arn: reference.starts_with("arn:").then(|| reference.to_string()),
        account_id: super::common::region_names(ctx).0,
        region: Some(super::common::region_names(ctx).1),
    }
}

fn rotation_verdict(ctx: &RegionCtx<'_>, k: &KmsKey, users: &[String]) -> Verdict {
    let ev = evidence! {
        "used_by" => users,
        "key_manager" => k.key_manager,
        "key_spec" => k.key_spec,
        "origin" => k.origin,
        "rotation_enabled" => k.rotation_enabled,
        "rotation_period_in_days" => k.rotation_period_in_days,
        "aliases" => k.aliases,
    };
    if k.key_spec
        .as_deref()
        .is_some_and(|s| s != "SYMMETRIC_DEFAULT")
    {
        return Verdict::NotApplicable(msg!(
            "KMS key {} is not a symmetric key; automatic rotation does not apply",
            k.arn
        ));
    }
    if let Some(origin) = k.origin.as_deref().filter(|o| *o != "AWS_KMS") {
        return Verdict::NotApplicable(msg!(
            "KMS key {} has origin {origin}, for which KMS cannot rotate automatically; rotate \
             its key material manually",
            k.arn
        ));
    }
    match k.rotation_enabled {
        Some(true) => Verdict::Pass(
            msg!(
                "KMS key {} used by {} rotates automatically",
                k.arn,
                users.join(", ")
            ),
            ev,
        ),
        Some(false) => Verdict::Fail(
            msg!(
                "KMS key {} used by {} does not rotate automatically",
                k.arn,
                users.join(", ")
            ),
            ev,
        ),
        None => Verdict::NotAssessed(
            [k.key_id.as_str(), k.arn.as_str()]
                .iter()
                .find_map(|r| gap_in(ctx, ops::KMS_GET_KEY_ROTATION_STATUS, Some(r)))
                .map_or_else(
                    || format!("the rotation status of KMS key {} was not collected", k.arn),
                    |g| g.describe(),
                ),
        ),
    }
}

fn key_rotation(ctx: &RegionCtx<'_>, em: &mut Emitter<'_>) {
    // Group references by the key they resolve to, so one key is reported once.
    let mut resolved: BTreeMap<&str, (&KmsKey, Vec<String>)> = BTreeMap::new();
    for (reference, users) in key_users(ctx) {
        match classify_key(ctx, KeyRef::text(reference)) {
            KeyClass::Customer(k) => resolved
                .entry(k.arn.as_str())
                .or_insert_with(|| (k, Vec::new()))
                .1
                .extend(users),
            KeyClass::Aws(key, how) => {
                let res: crate::engine::ResourceArg = match key {
                    Some(k) => key_resource(ctx, k).into(),
                    None => unresolved_key_resource(ctx, reference).into(),
                };
                em.not_applicable(
                    res,
                    msg!("KMS key {reference} ({how}) is AWS managed: AWS rotates it every year"),
                );
            }
            KeyClass::Unknown(reason) => em.not_assessed(
                unresolved_key_resource(ctx, reference),
                msg!("{reason} (used by {})", users.join(", ")),
            ),
        }
    }
    for (k, users) in resolved.into_values() {
        if em.skip_unwanted() {
            continue;
        }
        rotation_verdict(ctx, k, &users).emit(em, key_resource(ctx, k));
    }
}

fn usable_verdict(ctx: &RegionCtx<'_>, what: &dyn Display, key: Option<KeyRef<'_>>) -> Verdict {
    let Some(key) = key else {
        return Verdict::NotAssessed(msg!("{what} is encrypted but reports no KMS key"));
    };
    let reference = key.text;
    let class = classify_key(ctx, key);
    let ev = key_evidence(reference, &class);
    let key = match class {
        KeyClass::Unknown(reason) => return Verdict::NotAssessed(reason),
        KeyClass::Aws(None, how) => {
            // Customers can neither disable nor schedule the deletion of AWS managed keys.
            return Verdict::Pass(
                msg!(
                    "{what} uses the AWS managed key {reference} ({how}), which cannot be \
                     disabled or deleted"
                ),
                ev,
            );
        }
        KeyClass::Customer(k) | KeyClass::Aws(Some(k), _) => k,
    };
    let mut ev = ev;
    if explaining() {
        ev.insert("deletion_date".into(), key.deletion_date.clone().into());
    }
    match key.key_state.as_deref() {
        Some("Enabled") => Verdict::Pass(msg!("{what} uses enabled KMS key {}", key.arn), ev),
        Some("PendingDeletion") => Verdict::Fail(
            msg!(
                "KMS key {} of {what} is scheduled for deletion on {}: the database and its \
                 backups become unrecoverable then",
                key.arn,
                key.deletion_date.as_deref().unwrap_or("an unknown date")
            ),
            ev,
        ),
        Some(state @ ("Disabled" | "Unavailable" | "PendingImport" | "PendingReplicaDeletion")) => {
            Verdict::Fail(
                msg!(
                    "KMS key {} of {what} is {state}: RDS cannot decrypt the database",
                    key.arn
                ),
                ev,
            )
        }
        Some(other) => Verdict::NotAssessed(msg!(
            "KMS key {} of {what} is in state {other}, which rdsguard does not judge",
            key.arn
        )),
        None => Verdict::NotAssessed(msg!("the state of KMS key {} was not collected", key.arn)),
    }
}

fn key_usable(ctx: &RegionCtx<'_>, em: &mut Emitter<'_>) {
    for db in &ctx.region.rds.db_instances {
        if em.skip_unwanted() {
            continue;
        }
        let what = Described("DB instance", &db.db_instance_identifier);
        let verdict = if let Some(c) = &db.db_cluster_identifier {
            Verdict::NotApplicable(msg!(
                "member of DB cluster {c}: the cluster's key is checked on the cluster"
            ))
        } else if !db.storage_encrypted {
            Verdict::NotApplicable(msg!("{what} is not encrypted at rest"))
        } else {
            usable_verdict(ctx, &what, KeyRef::instance(ctx, db))
        };
        verdict.emit(em, instance_resource(ctx, db));
    }
    for c in &ctx.region.rds.db_clusters {
        if em.skip_unwanted() {
            continue;
        }
        let what = Described("DB cluster", &c.db_cluster_identifier);
        let verdict = if !c.storage_encrypted {
            Verdict::NotApplicable(msg!("{what} is not encrypted at rest"))
        } else {
            usable_verdict(ctx, &what, KeyRef::cluster(ctx, c))
        };
        verdict.emit(em, cluster_resource(ctx, c));
    }
}

// ---------------------------------------------------------------------------------------
// TDE

/// The TDE option names accepted for an engine.
fn tde_verdict(ctx: &RegionCtx<'_>, db: &DbInstance, options: &[&str]) -> Verdict {
    let id = &db.db_instance_identifier;
    let opts = match instance_option_groups(ctx.region, &RegionLookups::of(ctx), db) {
        Ok(o) => o,
        Err(reason) => return Verdict::NotAssessed(reason),
    };
    let mut ev = evidence! {
        "engine" => db.engine,
        "engine_version" => db.engine_version,
        "option_groups" => opts.names(),
        "options" => opts.option_names(),
    };
    match options
        .iter()
        .find_map(|name| opts.option(name).map(|o| (name, o)))
    {
        Some((name, (_, att))) => {
            if explaining() {
                ev.insert("tde_option".into(), (*name).into());
            }
            Verdict::Pass(
                msg!(
                    "DB instance {id} has the {name} option (option group {})",
                    att.group.name
                ),
                ev,
            )
            .pending(att.in_sync(), "option group", &att.group.name, att.status)
        }
        None => Verdict::Fail(
            msg!(
                "DB instance {id} has no {} option in option groups {}",
                options.join(" or "),
                opts.names().join(", ")
            ),
            ev,
        ),
    }
}

fn custom_engine_verdict(db: &DbInstance) -> Option<Verdict> {
    db.engine.starts_with("custom-").then(|| {
        Verdict::NotAssessed(msg!(
            "{} is RDS Custom: TDE is configured in the database on the host, not through \
             option groups",
            db.engine
        ))
    })
}

fn oracle_tde(ctx: &RegionCtx<'_>, em: &mut Emitter<'_>) {
    for db in &ctx.region.rds.db_instances {
        if em.skip_unwanted() {
            continue;
        }
        let verdict = if instance_family(ctx, db) != EngineFamily::Oracle {
            Verdict::NotApplicable(msg!("engine {} is not Oracle", db.engine))
        } else if let Some(v) = custom_engine_verdict(db) {
            v
        } else if !db.engine.starts_with("oracle-ee") {
            // TDE is part of Oracle Advanced Security, an Enterprise Edition option.
            Verdict::NotApplicable(msg!(
                "{} is not Enterprise Edition: TDE is not available; storage encryption is the \
                 control",
                db.engine
            ))
        } else {
            tde_verdict(ctx, db, &["TDE", "TDE_HSM"])
        };
        verdict.emit(em, instance_resource(ctx, db));
    }
}

/// RDS supports SQL Server TDE on Enterprise Edition (2016-2022) and on Standard Edition from
/// SQL Server 2019 (major version 15). Source: Amazon RDS User Guide, "Support for Transparent
/// Data Encryption in SQL Server".
fn sqlserver_tde_supported(engine: &str, engine_version: &str) -> Result<bool, String> {
    match engine {
        "sqlserver-ee" => Ok(true),
        "sqlserver-se" => match parse_version(engine_version).first() {
            Some(major) => Ok(*major >= 15),
            None => Err(format!(
                "cannot tell whether SQL Server Standard Edition {engine_version} supports TDE \
                 (2019 and later do)"
            )),
        },
        _ => Ok(false),
    }
}

fn sqlserver_tde(ctx: &RegionCtx<'_>, em: &mut Emitter<'_>) {
    for db in &ctx.region.rds.db_instances {
        if em.skip_unwanted() {
            continue;
        }
        let verdict = if instance_family(ctx, db) != EngineFamily::SqlServer {
            Verdict::NotApplicable(msg!("engine {} is not SQL Server", db.engine))
        } else if let Some(v) = custom_engine_verdict(db) {
            v
        } else {
            match sqlserver_tde_supported(&db.engine, &db.engine_version) {
                Err(reason) => Verdict::NotAssessed(reason),
                Ok(false) => Verdict::NotApplicable(msg!(
                    "RDS does not support TDE on {} {} (Enterprise Edition, or Standard Edition \
                     from SQL Server 2019, only)",
                    db.engine,
                    db.engine_version
                )),
                // The API names the option TDE; the console shows TRANSPARENT_DATA_ENCRYPTION.
                Ok(true) => tde_verdict(ctx, db, &["TDE", "TRANSPARENT_DATA_ENCRYPTION"]),
            }
        };
        verdict.emit(em, instance_resource(ctx, db));
    }
}

#[cfg(test)]
#[path = "encryption_tests.rs"]
mod tests;
