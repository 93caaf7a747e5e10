//! IAM and KMS key-policy checks, answered by the exact policy engine (`rdsguard-iam`): who can
//! delete a database or snapshot, make one public or share it, change a master password,
//! decrypt with or administer a database's key; who holds admin-equivalent RDS access; key
//! policies open to everyone; "instance-specific" policies broader than their name.
//!
//! Counting principals: IAM users and roles whose request would be allowed, unconditionally or
//! under conditions the snapshot cannot decide (source IP, MFA...), both counted (a principal
//! that can act from the right network can act). Service-linked roles (path
//! `/aws-service-role/`) are AWS's own and not counted. SCPs are not in the snapshot; answers
//! assume none restricts the account.

use std::collections::BTreeMap;

use rdsguard_findings::{ResourceRef, Severity};
use rdsguard_iam::account::{AccountModel, ActionAnswer};
use rdsguard_iam::compile::{CompiledPolicy, PolicyKind};
use rdsguard_iam::context::{RequestAction, RequestContext, RequestPrincipal, RequestResource};
use rdsguard_iam::eval::{Decision, PolicySet, Request, StaticDecision, evaluate, evaluate_static};
use rdsguard_iam::formula::Formula;
use rdsguard_iam::policy::{Effect, PrincipalValue};
use rdsguard_model::{AccountSnapshot, KmsKey, ops};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::common::{
    KeyLookup, cluster_resource, cluster_snapshot_resource, instance_resource, key_resource,
    lookup_key, snapshot_resource,
};
use crate::engine::{AccountCtx, CheckDef, Emitter, RegionCtx, Runner, scope_resource};

/// How many principals is too many, per question. Defaults are deliberately small: these
/// are the people and automation that can destroy or expose data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IamThresholds {
    /// Principals that may delete a DB instance, cluster or snapshot, or disable its deletion
    /// protection. Default 3.
    pub max_principals_delete: usize,
    /// Principals that may make a DB or snapshot public or share a snapshot. Default 3.
    pub max_principals_share: usize,
    /// Principals that may change a master password. Default 3.
    pub max_principals_master_password: usize,
    /// Principals that may decrypt with a database's KMS key. Default 5.
    pub max_principals_key_use: usize,
    /// Principals that may administer (change the policy of, disable, schedule deletion of)
    /// a database's KMS key. Default 2.
    pub max_principals_key_admin: usize,
    /// Principals with admin-equivalent RDS access. Default 2.
    pub max_rds_admins: usize,
}

impl Default for IamThresholds {
    fn default() -> Self {
        IamThresholds {
            max_principals_delete: 3,
            max_principals_share: 3,
            max_principals_master_password: 3,
            max_principals_key_use: 5,
            max_principals_key_admin: 2,
            max_rds_admins: 2,
        }
    }
}

pub static CHECKS: &[&CheckDef] = &[
    &RDS_IAM_DELETE_ACCESS,
    &RDS_IAM_PUBLIC_OR_SHARE_ACCESS,
    &RDS_IAM_MASTER_PASSWORD_ACCESS,
    &RDS_KMS_KEY_ACCESS,
    &IAM_RDS_ADMIN_EQUIVALENT,
    &KMS_KEY_POLICY_NOT_PUBLIC,
    &IAM_INSTANCE_POLICY_SCOPE,
];

const IAM_DEPS: &[rdsguard_model::Op] = &[
    ops::IAM_GET_ACCOUNT_AUTHORIZATION_DETAILS,
    ops::RDS_DESCRIBE_DB_INSTANCES,
    ops::RDS_DESCRIBE_DB_CLUSTERS,
    ops::RDS_DESCRIBE_DB_SNAPSHOTS,
    ops::RDS_DESCRIBE_DB_CLUSTER_SNAPSHOTS,
];

pub static RDS_IAM_DELETE_ACCESS: CheckDef = CheckDef {
    id: "rds_iam_delete_access",
    title: "Few principals can delete RDS databases and snapshots or disable deletion protection",
    severity: Severity::High,
    resource_type: "AwsRdsDbInstance",
    description: "Evaluates every IAM user and role's policies (with groups, permissions \
                  boundaries and conditions) for rds:DeleteDBInstance / DeleteDBCluster / \
                  DeleteDBSnapshot / DeleteDBClusterSnapshot and for ModifyDBInstance / \
                  ModifyDBCluster (which can turn deletion protection off), per resource.",
    rationale: "Every principal that can delete a database, its snapshots or its deletion \
                protection is a path to irreversible data loss.",
    remediation: "Remove delete and modify permissions from principals that do not need them; \
                  add a Deny with an MFA condition for the rest (`rdsguard who-can \
                  rds:DeleteDBInstance --resource <db>` lists them with the granting statements).",
    cis: &[],
    fsbp: &[],
    depends_on: IAM_DEPS,
    run: Runner::Region(delete_access),
};

pub static RDS_IAM_PUBLIC_OR_SHARE_ACCESS: CheckDef = CheckDef {
    id: "rds_iam_public_or_share_access",
    title: "Few principals can make RDS databases public or share snapshots",
    severity: Severity::High,
    resource_type: "AwsRdsDbInstance",
    description: "Who can call rds:ModifyDBInstance (PubliclyAccessible) on each instance and \
                  rds:ModifyDBSnapshotAttribute / ModifyDBClusterSnapshotAttribute (restore \
                  permission for other accounts or `all`) on each snapshot.",
    rationale: "Making a database reachable from the internet or a snapshot restorable by any \
                account exposes all of its data in one API call.",
    remediation: "Restrict these actions to a small administrative role; deny \
                  rds:ModifyDBSnapshotAttribute for everyone else.",
    cis: &[],
    fsbp: &[],
    depends_on: IAM_DEPS,
    run: Runner::Region(public_or_share_access),
};

pub static RDS_IAM_MASTER_PASSWORD_ACCESS: CheckDef = CheckDef {
    id: "rds_iam_master_password_access",
    title: "Few principals can change RDS master passwords",
    severity: Severity::Medium,
    resource_type: "AwsRdsDbInstance",
    description: "Who can call rds:ModifyDBInstance / rds:ModifyDBCluster (MasterUserPassword) \
                  on each instance and cluster.",
    rationale: "Resetting the master password gives full control of the database engine and \
                its data, bypassing database-level access control.",
    remediation: "Restrict ModifyDBInstance/ModifyDBCluster; manage master passwords with \
                  Secrets Manager (ManageMasterUserPassword).",
    cis: &[],
    fsbp: &[],
    depends_on: IAM_DEPS,
    run: Runner::Region(master_password_access),
};

pub static RDS_KMS_KEY_ACCESS: CheckDef = CheckDef {
    id: "rds_kms_key_access",
    title: "Few principals can decrypt with or administer the KMS key of a database",
    severity: Severity::High,
    resource_type: "AwsKmsKey",
    description: "For each customer managed key encrypting a DB instance, cluster or snapshot, \
                  evaluates the key policy together with IAM policies: who can kms:Decrypt and \
                  who can kms:PutKeyPolicy / ScheduleKeyDeletion / DisableKey.",
    rationale: "Whoever can decrypt with the key can read every snapshot copy; whoever \
                administers it can lock everyone out or destroy the data (crypto-shredding).",
    remediation: "Grant key usage only to the roles that need it (ideally with kms:ViaService \
                  rds.<region>.amazonaws.com) and key administration to one role.",
    cis: &[],
    fsbp: &[],
    depends_on: &[
        ops::IAM_GET_ACCOUNT_AUTHORIZATION_DETAILS,
        ops::RDS_DESCRIBE_DB_INSTANCES,
        ops::RDS_DESCRIBE_DB_CLUSTERS,
        ops::KMS_LIST_KEYS,
        ops::KMS_GET_KEY_POLICY,
    ],
    run: Runner::Region(key_access),
};

pub static IAM_RDS_ADMIN_EQUIVALENT: CheckDef = CheckDef {
    id: "iam_rds_admin_equivalent",
    title: "Few principals have admin-equivalent RDS access",
    severity: Severity::High,
    resource_type: "AwsIamPolicy",
    description: "Principals whose policies allow every sensitive RDS action (create, modify, \
                  delete, share, restore) on any database: `*`, `rds:*`, or NotAction \
                  statements that leave RDS in.",
    rationale: "Admin-equivalent RDS access is the blast radius of one compromised credential.",
    remediation: "Replace `*`/`rds:*` grants and broad NotAction allows with the actions and \
                  resources each principal needs (`rdsguard iam policy` generates them).",
    cis: &[],
    fsbp: &[],
    depends_on: &[ops::IAM_GET_ACCOUNT_AUTHORIZATION_DETAILS],
    run: Runner::Account(rds_admin_equivalent),
};

pub static KMS_KEY_POLICY_NOT_PUBLIC: CheckDef = CheckDef {
    id: "kms_key_policy_not_public",
    title: "KMS key policies do not allow everyone",
    severity: Severity::Critical,
    resource_type: "AwsKmsKey",
    description: "Key policy statements that allow `*` principals without a condition \
                  restricting who may call (aws:PrincipalAccount, aws:PrincipalOrgID, \
                  aws:PrincipalArn, kms:CallerAccount, aws:SourceAccount, aws:SourceVpce...).",
    rationale: "A key open to every AWS account lets anyone decrypt what it protects, including \
                RDS snapshots shared with them.",
    remediation: "Name the principals in the key policy, or add a condition on \
                  kms:CallerAccount / aws:PrincipalOrgID.",
    cis: &[],
    fsbp: &["KMS.5"],
    depends_on: &[ops::KMS_LIST_KEYS, ops::KMS_GET_KEY_POLICY],
    run: Runner::Region(key_policy_not_public),
};

pub static IAM_INSTANCE_POLICY_SCOPE: CheckDef = CheckDef {
    id: "iam_instance_policy_scope",
    title: "Instance-specific IAM policies grant nothing beyond their instance",
    severity: Severity::Medium,
    resource_type: "AwsIamPolicy",
    description: "Policies whose name contains the identifier of a DB instance of the account \
                  are evaluated against another DB instance: any RDS action they allow there \
                  makes them broader than their name suggests.",
    rationale: "A policy named for one database that also works on others silently widens \
                access when it is attached.",
    remediation: "Scope the Resource of every statement to the instance ARN \
                  (`rdsguard iam policy --db <id>` generates it).",
    cis: &[],
    fsbp: &[],
    depends_on: &[
        ops::IAM_GET_ACCOUNT_AUTHORIZATION_DETAILS,
        ops::RDS_DESCRIBE_DB_INSTANCES,
    ],
    run: Runner::Account(instance_policy_scope),
};

/// The compiled IAM model of an account, memoized so the IAM checks of a region (or account)
/// compile it once.
struct IamModel(Result<AccountModel, String>);

fn memo_model(memo: &crate::engine::Memo, account: &AccountSnapshot) -> std::rc::Rc<IamModel> {
    memo.get_or_init(|| IamModel(model_of(account)))
}

/// The account model, or why it is not available.
fn model_of(account: &AccountSnapshot) -> Result<AccountModel, String> {
    if let Some(g) = account.gap(ops::IAM_GET_ACCOUNT_AUTHORIZATION_DETAILS, None) {
        return Err(g.describe());
    }
    AccountModel::build(account).ok_or_else(|| {
        "IAM data (GetAccountAuthorizationDetails) was not collected for the account".to_string()
    })
}

fn is_service_linked(arn: &str) -> bool {
    arn.contains(":role/aws-service-role/")
}

/// Principals allowed (or conditionally allowed) by any of the answers, with evidence.
struct Who {
    principals: BTreeMap<String, Value>,
    incomplete: Vec<String>,
}

fn collect(answers: &[ActionAnswer]) -> Who {
    let mut principals: BTreeMap<String, Value> = BTreeMap::new();
    let mut incomplete = Vec::new();
    for a in answers {
        for p in &a.principals {
            if is_service_linked(&p.principal) {
                continue;
            }
            incomplete.extend(p.incomplete.iter().cloned());
            let decision = match &p.decision {
                StaticDecision::Allowed => "allowed".to_string(),
                StaticDecision::Conditional { allowed_if } => format!("allowed if {allowed_if}"),
                StaticDecision::Denied { kind } => kind.as_str().to_string(),
            };
            let grants: Vec<Value> = p
                .grants
                .iter()
                .filter(|g| g.effect == Effect::Allow)
                .map(|g| json!({"policy": g.policy, "statement": g.statement, "attachment": g.attachment}))
                .collect();
            let entry = principals.entry(p.principal.clone()).or_insert_with(
                || json!({"principal": p.principal, "kind": p.kind, "actions": []}),
            );
            if let Some(arr) = entry["actions"].as_array_mut() {
                arr.push(json!({"action": a.action, "decision": decision, "grants": grants}));
            }
        }
        for u in &a.undetermined {
            if !is_service_linked(&u.principal) {
                incomplete.extend(u.missing.iter().map(|m| format!("{}: {m}", u.principal)));
            }
        }
        for e in &a.external {
            let entry = principals.entry(e.principal.clone()).or_insert_with(
                || json!({"principal": e.principal, "kind": "External", "actions": []}),
            );
            if let Some(arr) = entry["actions"].as_array_mut() {
                arr.push(json!({"action": a.action, "statement": e.statement}));
            }
        }
    }
    incomplete.sort();
    incomplete.dedup();
    Who {
        principals,
        incomplete,
    }
}

/// Run who-can for `actions` on one resource and emit PASS/FAIL against `max`.
#[allow(clippy::too_many_arguments)]
fn judge(
    em: &mut Emitter<'_>,
    model: &AccountModel,
    account: &AccountSnapshot,
    res: ResourceRef,
    arn: &str,
    actions: &[&str],
    max: usize,
    what: &str,
) {
    let mut answers = Vec::new();
    for action in actions {
        match model.who_can(account, action, arn) {
            Ok(a) => answers.extend(a.actions),
            Err(e) => {
                em.not_assessed(res, format!("cannot evaluate {action} on {arn}: {e}"));
                return;
            }
        }
    }
    let who = collect(&answers);
    let count = who.principals.len();
    let names: Vec<&String> = who.principals.keys().collect();
    let mut ev = crate::evidence! {
        "actions" => actions,
        "principals" => who.principals.values().collect::<Vec<_>>(),
        "count" => count,
        "threshold" => max,
        "assumes" => "no SCP restricts the account (SCPs are not collected)",
    };
    if !who.incomplete.is_empty() {
        ev.insert("incomplete".into(), json!(who.incomplete));
    }
    if count > max {
        em.fail(
            res,
            format!(
                "{count} principals can {what} {arn} (threshold {max}): {}",
                names
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            ev,
        );
    } else if !who.incomplete.is_empty() {
        em.not_assessed(
            res,
            format!(
                "{count} principals can {what} {arn}, but some policies are missing from the \
                 snapshot: {}",
                who.incomplete.join("; ")
            ),
        );
    } else {
        em.pass(
            res,
            format!("{count} principals can {what} {arn} (threshold {max})"),
            ev,
        );
    }
}

fn region_model(
    ctx: &RegionCtx<'_>,
    em: &mut Emitter<'_>,
    def: &CheckDef,
) -> Option<std::rc::Rc<IamModel>> {
    let m = memo_model(ctx.memo, ctx.account);
    if let Err(reason) = &m.0 {
        em.not_assessed(
            scope_resource(def, ctx.account, Some(&ctx.region.region)),
            reason.clone(),
        );
        return None;
    }
    Some(m)
}

fn delete_access(ctx: &RegionCtx<'_>, em: &mut Emitter<'_>) {
    let Some(memo) = region_model(ctx, em, &RDS_IAM_DELETE_ACCESS) else {
        return;
    };
    let Ok(model) = &memo.0 else {
        return;
    };
    let max = ctx.config.iam.max_principals_delete;
    let what = "delete or unprotect";
    let rds = &ctx.region.rds;
    for db in &rds.db_instances {
        let actions = ["rds:DeleteDBInstance", "rds:ModifyDBInstance"];
        judge(
            em,
            model,
            ctx.account,
            instance_resource(ctx, db),
            &db.db_instance_arn,
            &actions,
            max,
            what,
        );
    }
    for c in &rds.db_clusters {
        let actions = ["rds:DeleteDBCluster", "rds:ModifyDBCluster"];
        judge(
            em,
            model,
            ctx.account,
            cluster_resource(ctx, c),
            &c.db_cluster_arn,
            &actions,
            max,
            what,
        );
    }
    for s in &rds.db_snapshots {
        judge(
            em,
            model,
            ctx.account,
            snapshot_resource(ctx, s),
            &s.arn,
            &["rds:DeleteDBSnapshot"],
            max,
            "delete",
        );
    }
    for s in &rds.db_cluster_snapshots {
        judge(
            em,
            model,
            ctx.account,
            cluster_snapshot_resource(ctx, s),
            &s.arn,
            &["rds:DeleteDBClusterSnapshot"],
            max,
            "delete",
        );
    }
    if rds.db_instances.is_empty()
        && rds.db_clusters.is_empty()
        && rds.db_snapshots.is_empty()
        && rds.db_cluster_snapshots.is_empty()
    {
        em.not_applicable(
            scope_resource(
                &RDS_IAM_DELETE_ACCESS,
                ctx.account,
                Some(&ctx.region.region),
            ),
            "no RDS databases or snapshots in the region",
        );
    }
}

fn public_or_share_access(ctx: &RegionCtx<'_>, em: &mut Emitter<'_>) {
    let Some(memo) = region_model(ctx, em, &RDS_IAM_PUBLIC_OR_SHARE_ACCESS) else {
        return;
    };
    let Ok(model) = &memo.0 else {
        return;
    };
    let max = ctx.config.iam.max_principals_share;
    let rds = &ctx.region.rds;
    for db in &rds.db_instances {
        judge(
            em,
            model,
            ctx.account,
            instance_resource(ctx, db),
            &db.db_instance_arn,
            &["rds:ModifyDBInstance"],
            max,
            "make public",
        );
    }
    for s in &rds.db_snapshots {
        judge(
            em,
            model,
            ctx.account,
            snapshot_resource(ctx, s),
            &s.arn,
            &["rds:ModifyDBSnapshotAttribute"],
            max,
            "share or make public",
        );
    }
    for s in &rds.db_cluster_snapshots {
        judge(
            em,
            model,
            ctx.account,
            cluster_snapshot_resource(ctx, s),
            &s.arn,
            &["rds:ModifyDBClusterSnapshotAttribute"],
            max,
            "share or make public",
        );
    }
    if rds.db_instances.is_empty()
        && rds.db_snapshots.is_empty()
        && rds.db_cluster_snapshots.is_empty()
    {
        em.not_applicable(
            scope_resource(
                &RDS_IAM_PUBLIC_OR_SHARE_ACCESS,
                ctx.account,
                Some(&ctx.region.region),
            ),
            "no RDS instances or snapshots in the region",
        );
    }
}

fn master_password_access(ctx: &RegionCtx<'_>, em: &mut Emitter<'_>) {
    let Some(memo) = region_model(ctx, em, &RDS_IAM_MASTER_PASSWORD_ACCESS) else {
        return;
    };
    let Ok(model) = &memo.0 else {
        return;
    };
    let max = ctx.config.iam.max_principals_master_password;
    let rds = &ctx.region.rds;
    let what = "change the master password of";
    for db in &rds.db_instances {
        // Cluster members take their master password from the cluster.
        if db.db_cluster_identifier.is_some() {
            continue;
        }
        judge(
            em,
            model,
            ctx.account,
            instance_resource(ctx, db),
            &db.db_instance_arn,
            &["rds:ModifyDBInstance"],
            max,
            what,
        );
    }
    for c in &rds.db_clusters {
        judge(
            em,
            model,
            ctx.account,
            cluster_resource(ctx, c),
            &c.db_cluster_arn,
            &["rds:ModifyDBCluster"],
            max,
            what,
        );
    }
    if rds
        .db_instances
        .iter()
        .all(|d| d.db_cluster_identifier.is_some())
        && rds.db_clusters.is_empty()
    {
        em.not_applicable(
            scope_resource(
                &RDS_IAM_MASTER_PASSWORD_ACCESS,
                ctx.account,
                Some(&ctx.region.region),
            ),
            "no RDS instances or clusters in the region",
        );
    }
}

fn key_access(ctx: &RegionCtx<'_>, em: &mut Emitter<'_>) {
    let Some(memo) = region_model(ctx, em, &RDS_KMS_KEY_ACCESS) else {
        return;
    };
    let Ok(model) = &memo.0 else {
        return;
    };
    let th = &ctx.config.iam;
    // Keys of encrypted databases, deduplicated.
    let mut refs: Vec<(&str, String)> = Vec::new();
    for db in &ctx.region.rds.db_instances {
        if let Some(k) = &db.kms_key_id {
            refs.push((k, db.db_instance_identifier.clone()));
        }
    }
    for c in &ctx.region.rds.db_clusters {
        if let Some(k) = &c.kms_key_id {
            refs.push((k, c.db_cluster_identifier.clone()));
        }
    }
    if refs.is_empty() {
        em.not_applicable(
            scope_resource(&RDS_KMS_KEY_ACCESS, ctx.account, Some(&ctx.region.region)),
            "no encrypted RDS databases in the region",
        );
        return;
    }
    let mut seen: Vec<&str> = Vec::new();
    for (reference, db) in refs {
        let key: &KmsKey = match lookup_key(ctx.region, reference) {
            KeyLookup::Found(k) => k,
            KeyLookup::Unknown(reason) => {
                em.not_assessed(
                    ResourceRef {
                        resource_type: "AwsKmsKey".into(),
                        id: reference.to_string(),
                        arn: reference.starts_with("arn:").then(|| reference.to_string()),
                        account_id: ctx.account.account_id.clone(),
                        region: Some(ctx.region.region.clone()),
                    },
                    format!("key of {db}: {reason}"),
                );
                continue;
            }
        };
        if seen.contains(&key.arn.as_str()) {
            continue;
        }
        seen.push(&key.arn);
        let res = key_resource(ctx, key);
        match key.is_customer_managed() {
            Some(false) => {
                em.not_applicable(
                    res,
                    format!("{} is an AWS managed key (its policy is AWS's)", key.arn),
                );
                continue;
            }
            None => {
                em.not_assessed(
                    res,
                    format!(
                        "whether {} is customer managed is unknown (DescribeKey failed)",
                        key.arn
                    ),
                );
                continue;
            }
            Some(true) => {}
        }
        if key.policy.is_none() {
            let reason = ctx
                .region
                .gap(ops::KMS_GET_KEY_POLICY, Some(&key.key_id))
                .or_else(|| ctx.region.gap(ops::KMS_GET_KEY_POLICY, Some(&key.arn)))
                .map(|g| g.describe())
                .unwrap_or_else(|| format!("the key policy of {} was not collected", key.arn));
            em.not_assessed(res, reason);
            continue;
        }
        let use_answers = model.who_can(ctx.account, "kms:Decrypt", &key.arn);
        let admin_answers = [
            "kms:PutKeyPolicy",
            "kms:ScheduleKeyDeletion",
            "kms:DisableKey",
        ]
        .iter()
        .map(|a| model.who_can(ctx.account, a, &key.arn))
        .collect::<Result<Vec<_>, _>>();
        let (users, admins) = match (use_answers, admin_answers) {
            (Ok(u), Ok(a)) => (
                collect(&u.actions),
                collect(&a.into_iter().flat_map(|x| x.actions).collect::<Vec<_>>()),
            ),
            (Err(e), _) | (_, Err(e)) => {
                em.not_assessed(res, format!("cannot evaluate access to {}: {e}", key.arn));
                continue;
            }
        };
        let ev = crate::evidence! {
            "key" => key.arn,
            "database" => db,
            "decrypt_principals" => users.principals.values().collect::<Vec<_>>(),
            "admin_principals" => admins.principals.values().collect::<Vec<_>>(),
            "max_principals_key_use" => th.max_principals_key_use,
            "max_principals_key_admin" => th.max_principals_key_admin,
            "grants_not_evaluated" => key.grants_count,
        };
        let (nu, na) = (users.principals.len(), admins.principals.len());
        if nu > th.max_principals_key_use || na > th.max_principals_key_admin {
            em.fail(
                res,
                format!(
                    "{nu} principals can decrypt with {} (threshold {}) and {na} can administer it (threshold {})",
                    key.arn, th.max_principals_key_use, th.max_principals_key_admin
                ),
                ev,
            );
        } else if !users.incomplete.is_empty() || !admins.incomplete.is_empty() {
            em.not_assessed(
                res,
                "some policies attached to principals are missing from the snapshot",
            );
        } else {
            em.pass(
                res,
                format!(
                    "{nu} principals can decrypt with {} and {na} can administer it",
                    key.arn
                ),
                ev,
            );
        }
    }
}

/// Sensitive RDS actions; a principal allowed all of them on any database is admin-equivalent.
const RDS_ADMIN_PROBES: &[&str] = &[
    "rds:CreateDBInstance",
    "rds:ModifyDBInstance",
    "rds:DeleteDBInstance",
    "rds:RebootDBInstance",
    "rds:CreateDBSnapshot",
    "rds:AddTagsToResource",
];

fn rds_admin_equivalent(ctx: &AccountCtx<'_>, em: &mut Emitter<'_>) {
    let memo = memo_model(ctx.memo, ctx.account);
    let model = match &memo.0 {
        Ok(m) => m,
        Err(reason) => {
            em.not_assessed(
                scope_resource(&IAM_RDS_ADMIN_EQUIVALENT, ctx.account, None),
                reason.clone(),
            );
            return;
        }
    };
    let acct = &ctx.account.account_id;
    let probe_db = format!(
        "arn:{}:rds:us-east-1:{acct}:db:rdsguard-probe",
        ctx.account.partition
    );
    let Ok(resource) = RequestResource::parse(&probe_db, None) else {
        return;
    };
    let mut admins = Vec::new();
    let mut incomplete = Vec::new();
    for p in &model.principals {
        if is_service_linked(&p.arn) {
            continue;
        }
        let Ok(principal) = RequestPrincipal::parse(&p.arn) else {
            continue;
        };
        let attached = model.attached(p);
        let set = PolicySet {
            identity: attached.iter().map(|(pol, _)| *pol).collect(),
            ..PolicySet::default()
        };
        // Unconditional access, whatever the request context: conditions stay unknown and
        // only an unconditional allow counts.
        let ctx_partial = RequestContext::partial(Vec::<String>::new(), Vec::<String>::new());
        let all = RDS_ADMIN_PROBES.iter().all(|a| {
            RequestAction::parse(a).is_ok_and(|action| {
                evaluate_static(
                    &set,
                    &Request {
                        principal: &principal,
                        action: &action,
                        resource: &resource,
                        context: &ctx_partial,
                    },
                    None,
                ) == StaticDecision::Allowed
            })
        });
        if !all {
            incomplete.extend(p.incomplete.iter().cloned());
            continue;
        }
        let via: Vec<Value> = attached
            .iter()
            .flat_map(|(pol, att)| {
                pol.statements
                    .iter()
                    .filter(|s| s.effect == Effect::Allow)
                    .filter(|s| {
                        RequestAction::parse("rds:DeleteDBInstance")
                            .is_ok_and(|a| s.action_matches(&a))
                    })
                    .map(move |s| {
                        json!({
                            "policy": &*pol.name,
                            "statement": s.label(),
                            "attachment": att,
                            "not_action": s.source.action.negated,
                        })
                    })
            })
            .collect();
        admins.push(json!({"principal": p.arn, "kind": p.kind, "statements": via}));
    }
    let max = ctx.config.iam.max_rds_admins;
    let res = ResourceRef {
        resource_type: "AwsAccount".into(),
        id: acct.clone(),
        arn: None,
        account_id: acct.clone(),
        region: None,
    };
    let count = admins.len();
    let ev = crate::evidence! {
        "admins" => admins,
        "count" => count,
        "threshold" => max,
        "probed_actions" => RDS_ADMIN_PROBES,
    };
    if count > max {
        em.fail(
            res,
            format!("{count} principals have admin-equivalent RDS access (threshold {max})"),
            ev,
        );
    } else if !incomplete.is_empty() {
        incomplete.sort();
        incomplete.dedup();
        em.not_assessed(
            res,
            format!(
                "{count} principals have admin-equivalent RDS access, but some policies are missing: {}",
                incomplete.join("; ")
            ),
        );
    } else {
        em.pass(
            res,
            format!("{count} principals have admin-equivalent RDS access (threshold {max})"),
            ev,
        );
    }
}

/// Context keys that restrict who may call: a `*` principal limited by one of them is not
/// public (FSBP KMS.5 and IAM Access Analyzer treat these as restricting).
const RESTRICTING_KEYS: &[&str] = &[
    "aws:principalaccount",
    "aws:principalarn",
    "aws:principalorgid",
    "aws:principalorgpaths",
    "aws:sourceaccount",
    "aws:sourcearn",
    "aws:sourcevpc",
    "aws:sourcevpce",
    "aws:sourceowner",
    "aws:userid",
    "kms:calleraccount",
];

fn key_policy_not_public(ctx: &RegionCtx<'_>, em: &mut Emitter<'_>) {
    let keys: Vec<&KmsKey> = ctx
        .region
        .kms
        .keys
        .iter()
        .filter(|k| k.is_customer_managed() != Some(false))
        .collect();
    if keys.is_empty() {
        em.not_applicable(
            scope_resource(
                &KMS_KEY_POLICY_NOT_PUBLIC,
                ctx.account,
                Some(&ctx.region.region),
            ),
            "no customer managed KMS keys in the region",
        );
        return;
    }
    for key in keys {
        let res = key_resource(ctx, key);
        let Some(doc) = &key.policy else {
            let reason = ctx
                .region
                .gap(ops::KMS_GET_KEY_POLICY, Some(&key.key_id))
                .or_else(|| ctx.region.gap(ops::KMS_GET_KEY_POLICY, Some(&key.arn)))
                .map(|g| g.describe())
                .unwrap_or_else(|| format!("the key policy of {} was not collected", key.arn));
            em.not_assessed(res, reason);
            continue;
        };
        let policy = match CompiledPolicy::from_json("key policy", PolicyKind::Resource, doc) {
            Ok(p) => p,
            Err(e) => {
                em.not_assessed(
                    res,
                    format!("the key policy of {} is unreadable: {e}", key.arn),
                );
                continue;
            }
        };
        let open = public_statements(&policy, &key.arn);
        if open.is_empty() {
            em.pass(
                res,
                format!(
                    "the key policy of {} allows no unrestricted `*` principal",
                    key.arn
                ),
                crate::evidence! {},
            );
        } else {
            em.fail(
                res,
                format!(
                    "the key policy of {} allows `*` without a restricting condition",
                    key.arn
                ),
                crate::evidence! { "statements" => open },
            );
        }
    }
}

/// Allow statements a principal from an unrelated account could use with no restricting
/// condition (conditions on other keys, like kms:ViaService, do not restrict who).
fn public_statements(policy: &CompiledPolicy, key_arn: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let Ok(stranger) = RequestPrincipal::parse("arn:aws:iam::000000000000:user/stranger") else {
        return out;
    };
    let Ok(resource) = RequestResource::parse(key_arn, None) else {
        return out;
    };
    for st in &policy.statements {
        if st.effect != Effect::Allow {
            continue;
        }
        let wildcard = st
            .source
            .principal
            .as_ref()
            .is_some_and(|p| p.negated || p.principals.contains(&PrincipalValue::Wildcard));
        if !wildcard {
            continue;
        }
        // Statement alone, for a stranger, with every context key unknown.
        let Ok(single) = CompiledPolicy::compile(
            &policy.name,
            PolicyKind::Resource,
            rdsguard_iam::policy::PolicyDocument {
                version: policy.version,
                id: None,
                statements: vec![st.source.clone()],
            },
        ) else {
            continue;
        };
        let ctx = RequestContext::partial(Vec::<String>::new(), Vec::<String>::new());
        // The stranger's own account allows whatever it wants: only the key policy stands
        // between it and the key.
        let their_side = rdsguard_iam::account::allow_all_identity();
        let set = PolicySet {
            identity: their_side.iter().collect(),
            resource: Some(&single),
            ..PolicySet::default()
        };
        let mut any_action = false;
        let mut restricted = true;
        for action in [
            "kms:Decrypt",
            "kms:CreateGrant",
            "kms:ReEncryptFrom",
            "kms:GenerateDataKey",
            "kms:PutKeyPolicy",
        ] {
            let Ok(a) = RequestAction::parse(action) else {
                continue;
            };
            let d = evaluate_static(
                &set,
                &Request {
                    principal: &stranger,
                    action: &a,
                    resource: &resource,
                    context: &ctx,
                },
                None,
            );
            match d {
                StaticDecision::Allowed => {
                    any_action = true;
                    restricted = false;
                }
                StaticDecision::Conditional { allowed_if } => {
                    any_action = true;
                    if !formula_restricts_caller(&allowed_if) {
                        restricted = false;
                    }
                }
                StaticDecision::Denied { .. } => {}
            }
        }
        if any_action && !restricted {
            out.push(json!({"statement": st.label(), "conditions": st.source.conditions.iter().map(|c| format!("{} {} {:?}", c.operator_text, c.key, c.values)).collect::<Vec<_>>()}));
        }
    }
    out
}

/// Whether every way of satisfying the formula requires a condition on who the caller is.
fn formula_restricts_caller(f: &Formula) -> bool {
    match f {
        Formula::True => false,
        Formula::False => true,
        Formula::Atom(a) => {
            RESTRICTING_KEYS.contains(&a.key.to_ascii_lowercase().as_str())
                && !a.values.iter().any(|v| v == "*")
        }
        Formula::And(v) => v.iter().any(formula_restricts_caller),
        Formula::Or(v) => v.iter().all(formula_restricts_caller),
        Formula::Not(_) => false,
    }
}

fn instance_policy_scope(ctx: &AccountCtx<'_>, em: &mut Emitter<'_>) {
    let memo = memo_model(ctx.memo, ctx.account);
    let model = match &memo.0 {
        Ok(m) => m,
        Err(reason) => {
            em.not_assessed(
                scope_resource(&IAM_INSTANCE_POLICY_SCOPE, ctx.account, None),
                reason.clone(),
            );
            return;
        }
    };
    let instances: Vec<(&str, &str, &str)> = ctx
        .account
        .regions
        .iter()
        .flat_map(|r| {
            r.rds.db_instances.iter().map(move |d| {
                (
                    d.db_instance_identifier.as_str(),
                    d.db_instance_arn.as_str(),
                    r.region.as_str(),
                )
            })
        })
        .filter(|(id, _, _)| id.len() >= 3)
        .collect();
    let Ok(probe_principal) = RequestPrincipal::parse(&format!(
        "arn:{}:iam::{}:user/rdsguard-probe",
        ctx.account.partition, ctx.account.account_id
    )) else {
        return;
    };
    let mut found = false;
    for policy in model.policies() {
        let name = policy_short_name(&policy.name);
        let lname = name.to_lowercase();
        let Some((id, arn, region)) = instances
            .iter()
            .filter(|(id, _, _)| lname.contains(&id.to_lowercase()))
            .max_by_key(|(id, _, _)| id.len())
        else {
            continue;
        };
        found = true;
        let other = format!(
            "arn:{}:rds:{region}:{}:db:{id}-rdsguard-other",
            ctx.account.partition, ctx.account.account_id
        );
        let set = PolicySet {
            identity: vec![policy],
            ..PolicySet::default()
        };
        let Ok(other_res) = RequestResource::parse(&other, None) else {
            continue;
        };
        let mut broader = Vec::new();
        for (action, _) in rdsguard_iam::sar::actions_for_resource_type("rds", "db") {
            let Ok(a) = RequestAction::parse(&action.full_name()) else {
                continue;
            };
            let d = evaluate(
                &set,
                &Request {
                    principal: &probe_principal,
                    action: &a,
                    resource: &other_res,
                    context: &RequestContext::new(),
                },
            );
            if d == Decision::Allowed {
                broader.push(action.full_name());
            }
        }
        let res = ResourceRef {
            resource_type: "AwsIamPolicy".into(),
            id: policy.name.to_string(),
            arn: policy
                .name
                .starts_with("arn:")
                .then(|| policy.name.to_string()),
            account_id: ctx.account.account_id.clone(),
            region: None,
        };
        if broader.is_empty() {
            em.pass(
                res,
                format!("{name} grants RDS actions only on {id}"),
                crate::evidence! {"instance" => arn},
            );
        } else {
            em.fail(
                res,
                format!(
                    "{name} is named for {id} but allows {} RDS actions on other DB instances",
                    broader.len()
                ),
                crate::evidence! {"instance" => arn, "actions_on_other_instances" => broader},
            );
        }
    }
    if !found {
        em.not_applicable(
            scope_resource(&IAM_INSTANCE_POLICY_SCOPE, ctx.account, None),
            "no IAM policy is named after a DB instance of the account",
        );
    }
}

/// `arn:aws:iam::1:policy/path/Name` → `Name`; `<arn> inline <name>` → `<name>`.
fn policy_short_name(name: &str) -> &str {
    if let Some((_, inline)) = name.split_once(" inline ") {
        return inline;
    }
    name.rsplit('/').next().unwrap_or(name)
}

#[cfg(test)]
mod tests {
    use rdsguard_findings::Status;
    use rdsguard_model::{
        DbInstance, DbSnapshot, Gap, GapKind, IamData, IamRole, IamUser, InlinePolicy, KmsKey,
        RegionSnapshot,
    };

    use super::*;
    use crate::Config;
    use crate::testkit::{ACCOUNT, region, run, run_with, snapshot, status_of};

    const DB_ARN: &str = "arn:aws:rds:us-east-1:111122223333:db:orders";
    const KEY_ARN: &str = "arn:aws:kms:us-east-1:111122223333:key/k1";

    fn user(name: &str, doc: &str) -> IamUser {
        IamUser {
            name: name.into(),
            arn: format!("arn:aws:iam::{ACCOUNT}:user/{name}"),
            inline_policies: vec![InlinePolicy {
                name: "p".into(),
                document: doc.into(),
            }],
            ..Default::default()
        }
    }

    fn allow(action: &str, resource: &str) -> String {
        format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"{action}","Resource":"{resource}"}}]}}"#
        )
    }

    fn iam(users: Vec<IamUser>) -> IamData {
        IamData {
            users,
            ..Default::default()
        }
    }

    fn region_with_db() -> RegionSnapshot {
        let mut r = region();
        r.rds.db_instances.push(DbInstance {
            db_instance_identifier: "orders".into(),
            db_instance_arn: DB_ARN.into(),
            engine: "postgres".into(),
            storage_encrypted: true,
            kms_key_id: Some(KEY_ARN.into()),
            ..Default::default()
        });
        r
    }

    fn key(policy: Option<&str>) -> KmsKey {
        KmsKey {
            key_id: "k1".into(),
            arn: KEY_ARN.into(),
            key_manager: Some("CUSTOMER".into()),
            policy: policy.map(str::to_string),
            ..Default::default()
        }
    }

    fn admins(n: usize) -> Vec<IamUser> {
        (0..n)
            .map(|i| user(&format!("admin{i}"), &allow("*", "*")))
            .collect()
    }

    #[test]
    fn delete_access_pass_fail_and_not_assessed() {
        let snap = snapshot(region_with_db(), Some(iam(admins(2))));
        assert_eq!(
            status_of(&run(&RDS_IAM_DELETE_ACCESS, &snap), "orders"),
            Status::Pass
        );
        let snap = snapshot(region_with_db(), Some(iam(admins(4))));
        let f = run(&RDS_IAM_DELETE_ACCESS, &snap);
        assert_eq!(status_of(&f, "orders"), Status::Fail);
        assert_eq!(f[0].evidence["count"], 4);
        // Stricter threshold from config.
        let mut cfg = Config::default();
        cfg.iam.max_principals_delete = 1;
        let snap = snapshot(region_with_db(), Some(iam(admins(2))));
        assert_eq!(
            status_of(&run_with(&RDS_IAM_DELETE_ACCESS, &snap, &cfg), "orders"),
            Status::Fail
        );
        // No IAM data: not assessed.
        let snap = snapshot(region_with_db(), None);
        let f = run(&RDS_IAM_DELETE_ACCESS, &snap);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].status, Status::NotAssessed);
        // A whole-operation IAM gap: not assessed by the engine.
        let mut snap = snapshot(region_with_db(), Some(iam(admins(1))));
        snap.accounts[0].gaps.push(Gap::new(
            ops::IAM_GET_ACCOUNT_AUTHORIZATION_DETAILS,
            None,
            GapKind::AccessDenied,
            "denied",
        ));
        assert_eq!(
            run(&RDS_IAM_DELETE_ACCESS, &snap)[0].status,
            Status::NotAssessed
        );
        // Nothing to protect: not applicable.
        let snap = snapshot(region(), Some(iam(admins(1))));
        assert_eq!(
            run(&RDS_IAM_DELETE_ACCESS, &snap)[0].status,
            Status::NotApplicable
        );
    }

    #[test]
    fn conditional_principals_count_and_missing_policies_are_not_assessed() {
        let cond = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"rds:*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]}"#;
        let mut users = admins(3);
        users.push(user("office", cond));
        let snap = snapshot(region_with_db(), Some(iam(users)));
        let f = run(&RDS_IAM_DELETE_ACCESS, &snap);
        assert_eq!(status_of(&f, "orders"), Status::Fail);
        let text = f[0].evidence["principals"].to_string();
        assert!(text.contains("allowed if"), "{text}");
        let mut u = user("dave", &allow("ec2:*", "*"));
        u.attached_policy_arns
            .push("arn:aws:iam::111122223333:policy/Missing".into());
        let snap = snapshot(region_with_db(), Some(iam(vec![u])));
        assert_eq!(
            status_of(&run(&RDS_IAM_DELETE_ACCESS, &snap), "orders"),
            Status::NotAssessed
        );
    }

    #[test]
    fn share_access_covers_snapshots() {
        let mut r = region_with_db();
        r.rds.db_snapshots.push(DbSnapshot {
            identifier: "snap1".into(),
            arn: "arn:aws:rds:us-east-1:111122223333:snapshot:snap1".into(),
            engine: "postgres".into(),
            snapshot_type: "manual".into(),
            ..Default::default()
        });
        let users = vec![user("sharer", &allow("rds:ModifyDBSnapshotAttribute", "*"))];
        let f = run(
            &RDS_IAM_PUBLIC_OR_SHARE_ACCESS,
            &snapshot(r.clone(), Some(iam(users))),
        );
        assert_eq!(status_of(&f, "snap1"), Status::Pass);
        let snap_f = f.iter().find(|x| x.resource.id == "snap1").unwrap();
        assert_eq!(snap_f.evidence["count"], 1);
        let mut many = admins(2);
        many.extend((0..2).map(|i| {
            user(
                &format!("s{i}"),
                &allow("rds:ModifyDBSnapshotAttribute", "*"),
            )
        }));
        let f = run(
            &RDS_IAM_PUBLIC_OR_SHARE_ACCESS,
            &snapshot(r, Some(iam(many))),
        );
        assert_eq!(status_of(&f, "snap1"), Status::Fail);
        assert_eq!(status_of(&f, "orders"), Status::Pass);
    }

    #[test]
    fn master_password_access() {
        let f = run(
            &RDS_IAM_MASTER_PASSWORD_ACCESS,
            &snapshot(region_with_db(), Some(iam(admins(4)))),
        );
        assert_eq!(status_of(&f, "orders"), Status::Fail);
        let f = run(
            &RDS_IAM_MASTER_PASSWORD_ACCESS,
            &snapshot(
                region_with_db(),
                Some(iam(vec![user("ro", &allow("rds:Describe*", "*"))])),
            ),
        );
        assert_eq!(status_of(&f, "orders"), Status::Pass);
    }

    #[test]
    fn key_access_uses_the_key_policy() {
        let delegating = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"}]}"#;
        let direct_only = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/admin0"},"Action":"kms:*","Resource":"*"}]}"#;
        let mut r = region_with_db();
        r.kms.keys.push(key(Some(delegating)));
        // Four IAM admins, all usable through the root delegation: too many administrators.
        assert_eq!(
            status_of(
                &run(&RDS_KMS_KEY_ACCESS, &snapshot(r, Some(iam(admins(4))))),
                "k1"
            ),
            Status::Fail
        );
        // Without delegation only the named user counts, whatever IAM says.
        let mut r = region_with_db();
        r.kms.keys.push(key(Some(direct_only)));
        assert_eq!(
            status_of(
                &run(&RDS_KMS_KEY_ACCESS, &snapshot(r, Some(iam(admins(4))))),
                "k1"
            ),
            Status::Pass
        );
        // Policy not collected: not assessed.
        let mut r = region_with_db();
        r.kms.keys.push(key(None));
        assert_eq!(
            status_of(
                &run(&RDS_KMS_KEY_ACCESS, &snapshot(r, Some(iam(admins(1))))),
                "k1"
            ),
            Status::NotAssessed
        );
        // AWS managed key: not applicable.
        let mut r = region_with_db();
        let mut k = key(Some(delegating));
        k.key_manager = Some("AWS".into());
        r.kms.keys.push(k);
        assert_eq!(
            status_of(
                &run(&RDS_KMS_KEY_ACCESS, &snapshot(r, Some(iam(admins(1))))),
                "k1"
            ),
            Status::NotApplicable
        );
    }

    #[test]
    fn admin_equivalent_detects_not_action_tricks() {
        let not_action = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":["iam:*","organizations:*"],"Resource":"*"}]}"#;
        let scoped = allow("rds:Describe*", "*");
        let users = vec![
            user("sneaky", not_action),
            user("ro", &scoped),
            user("a", &allow("rds:*", "*")),
            user("b", &allow("*", "*")),
        ];
        let f = run(
            &IAM_RDS_ADMIN_EQUIVALENT,
            &snapshot(region(), Some(iam(users))),
        );
        assert_eq!(status_of(&f, ACCOUNT), Status::Fail);
        let text = f[0].evidence["admins"].to_string();
        assert!(
            text.contains("sneaky") && text.contains("\"not_action\":true"),
            "{text}"
        );
        assert!(!text.contains("user/ro"));
        let f = run(
            &IAM_RDS_ADMIN_EQUIVALENT,
            &snapshot(region(), Some(iam(vec![user("ro", &scoped)]))),
        );
        assert_eq!(status_of(&f, ACCOUNT), Status::Pass);
        // Conditional admin (MFA) is not unconditional admin.
        let mfa = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"rds:*","Resource":"*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}}]}"#;
        let users = (0..3).map(|i| user(&format!("m{i}"), mfa)).collect();
        assert_eq!(
            status_of(
                &run(
                    &IAM_RDS_ADMIN_EQUIVALENT,
                    &snapshot(region(), Some(iam(users)))
                ),
                ACCOUNT
            ),
            Status::Pass
        );
        assert_eq!(
            run(&IAM_RDS_ADMIN_EQUIVALENT, &snapshot(region(), None))[0].status,
            Status::NotAssessed
        );
        // Service-linked roles are AWS's.
        let slr = IamRole {
            name: "AWSServiceRoleForRDS".into(),
            arn: "arn:aws:iam::111122223333:role/aws-service-role/rds.amazonaws.com/AWSServiceRoleForRDS".into(),
            inline_policies: vec![InlinePolicy { name: "p".into(), document: allow("*", "*") }],
            ..Default::default()
        };
        let data = IamData {
            roles: vec![slr.clone(), slr.clone(), slr],
            ..Default::default()
        };
        let mut data = data;
        for (i, r) in data.roles.iter_mut().enumerate() {
            r.arn = format!("{}{i}", r.arn);
        }
        assert_eq!(
            status_of(
                &run(&IAM_RDS_ADMIN_EQUIVALENT, &snapshot(region(), Some(data))),
                ACCOUNT
            ),
            Status::Pass
        );
    }

    #[test]
    fn key_policy_public() {
        let open = r#"{"Version":"2012-10-17","Statement":[{"Sid":"Open","Effect":"Allow","Principal":"*","Action":"kms:Decrypt","Resource":"*"}]}"#;
        let via_only = r#"{"Version":"2012-10-17","Statement":[{"Sid":"Via","Effect":"Allow","Principal":{"AWS":"*"},"Action":"kms:Decrypt","Resource":"*","Condition":{"StringEquals":{"kms:ViaService":"rds.us-east-1.amazonaws.com"}}}]}"#;
        let restricted = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"kms:Decrypt","Resource":"*","Condition":{"StringEquals":{"kms:ViaService":"rds.us-east-1.amazonaws.com","kms:CallerAccount":"111122223333"}}}]}"#;
        let named = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"}]}"#;
        for (doc, want) in [
            (open, Status::Fail),
            (via_only, Status::Fail),
            (restricted, Status::Pass),
            (named, Status::Pass),
        ] {
            let mut r = region();
            r.kms.keys.push(key(Some(doc)));
            assert_eq!(
                status_of(&run(&KMS_KEY_POLICY_NOT_PUBLIC, &snapshot(r, None)), "k1"),
                want,
                "{doc}"
            );
        }
        let mut r = region();
        r.kms.keys.push(key(None));
        assert_eq!(
            status_of(&run(&KMS_KEY_POLICY_NOT_PUBLIC, &snapshot(r, None)), "k1"),
            Status::NotAssessed
        );
        assert_eq!(
            run(&KMS_KEY_POLICY_NOT_PUBLIC, &snapshot(region(), None))[0].status,
            Status::NotApplicable
        );
    }

    #[test]
    fn instance_policy_scope() {
        let scoped = allow("rds:*", DB_ARN);
        let broad = allow("rds:*", "arn:aws:rds:*:*:db:*");
        let mk = |doc: &str| {
            let mut u = user("x", "{}");
            u.inline_policies = vec![InlinePolicy {
                name: "orders-admin".into(),
                document: doc.into(),
            }];
            u
        };
        let f = run(
            &IAM_INSTANCE_POLICY_SCOPE,
            &snapshot(region_with_db(), Some(iam(vec![mk(&scoped)]))),
        );
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].status, Status::Pass);
        let f = run(
            &IAM_INSTANCE_POLICY_SCOPE,
            &snapshot(region_with_db(), Some(iam(vec![mk(&broad)]))),
        );
        assert_eq!(f[0].status, Status::Fail);
        let u = user("y", &allow("rds:*", "*"));
        assert_eq!(
            run(
                &IAM_INSTANCE_POLICY_SCOPE,
                &snapshot(region_with_db(), Some(iam(vec![u])))
            )[0]
            .status,
            Status::NotApplicable
        );
    }
}
