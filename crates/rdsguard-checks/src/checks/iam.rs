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
//!
//! Scale: who-can runs through `rdsguard_iam::bulk` (answers shared between resources, only
//! resource-specific grants evaluated per resource), and a finding lists the first
//! [`MAX_LISTED`] principals by ARN with the total count, so time and findings grow linearly
//! with databases and principals.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::rc::Rc;
use std::sync::Arc;

use rdsguard_findings::{EvidenceValue, ResourceRef, Severity, SharedList, Status};
use rdsguard_iam::account::{AccountModel, ActionAnswer, PrincipalAnswer};
use rdsguard_iam::bulk::{
    BulkWhoCan, CatalogIndex, ListAsker, Place, PlaceKind, PlanCache, ResourceAnswer,
    ResourceCatalog, SharedAnswers,
};
use rdsguard_iam::compile::{CompiledPolicy, PolicyKind};
use rdsguard_iam::context::{RequestAction, RequestContext, RequestPrincipal, RequestResource};
use rdsguard_iam::error::{ParseError, RequestError};
use rdsguard_iam::eval::{
    Decision, PolicySet, Request, StaticDecision, evaluate, evaluate_static, evaluate_static_quick,
};
use rdsguard_iam::formula::Formula;
use rdsguard_iam::policy::{Effect, PrincipalValue};
use rdsguard_model::{AccountSnapshot, KmsKey, ops};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::common::{FastMap, FastSet};
use super::common::{
    KeyLookup, KeyRef, cluster_resource, cluster_snapshot_resource, instance_resource,
    key_resource, lookup_key_ref, snapshot_resource,
};
use crate::engine::{
    AccountCtx, CheckDef, Emitter, RegionCtx, Runner, SharedResource, scope_resource,
};
use crate::engine::{Evidence, explaining};
use crate::msg;

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

/// The compiled IAM model of an account, memoized so the IAM checks of every region (and the
/// account) compile it once, with the who-can plans they share.
struct IamModel(Result<AccountModel, String>, PlanCache);

fn memo_model(
    memo: &crate::engine::Memo,
    snapshot: &rdsguard_model::Snapshot,
    account: &AccountSnapshot,
) -> std::rc::Rc<IamModel> {
    memo.get_or_init_plain(|| IamModel(model_of(snapshot, account), PlanCache::default()))
}

/// The account model (with the organization's SCPs and RCPs), or why it is not available.
fn model_of(
    snapshot: &rdsguard_model::Snapshot,
    account: &AccountSnapshot,
) -> Result<AccountModel, String> {
    if let Some(g) = account.gap(ops::IAM_GET_ACCOUNT_AUTHORIZATION_DETAILS, None) {
        return Err(g.describe());
    }
    AccountModel::build_in(snapshot, account).ok_or_else(|| {
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
                arr.push(object([
                    ("action", Value::String(a.action.to_string())),
                    ("decision", Value::String(decision)),
                    ("grants", Value::Array(grants)),
                ]));
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
                arr.push(json!({"action": &*a.action, "statement": e.statement}));
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

/// At most this many principals (and incomplete-policy notes) are listed in a finding, with
/// the total count: findings stay small whatever the size of the account.
const MAX_LISTED: usize = 20;

/// The first [`MAX_LISTED`] items, and how many were left out.
fn capped<T>(mut items: Vec<T>) -> (Vec<T>, usize) {
    let left_out = items.len().saturating_sub(MAX_LISTED);
    items.truncate(MAX_LISTED);
    (items, left_out)
}

fn decision_text(d: &StaticDecision) -> String {
    match d {
        StaticDecision::Allowed => "allowed".to_string(),
        StaticDecision::Conditional { allowed_if } => format!("allowed if {allowed_if}"),
        StaticDecision::Denied { kind } => kind.as_str().to_string(),
    }
}

fn allow_grants(p: &PrincipalAnswer) -> Vec<Value> {
    p.grants
        .iter()
        .filter(|g| g.effect == Effect::Allow)
        .map(|g| json!({"policy": g.policy, "statement": g.statement, "attachment": g.attachment}))
        .collect()
}

/// A JSON object from its fields, moving the values in (`json!` would copy a `Value` it is
/// given, and this runs for every principal listed in every finding).
fn object<const N: usize>(fields: [(&str, Value); N]) -> Value {
    Value::Object(
        fields
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
    )
}

/// The evidence entry of one principal: its decision and grants per action.
fn principal_entry(answers: &[Rc<ResourceAnswer>], arn: &str, idx: usize) -> Value {
    let mut kind = None;
    let mut actions = Vec::new();
    for a in answers {
        if let Some(p) = a.allowed_of(idx) {
            kind.get_or_insert(p.kind);
            actions.push(object([
                ("action", Value::String(a.action.to_string())),
                ("decision", Value::String(decision_text(&p.decision))),
                ("grants", Value::Array(allow_grants(&p))),
            ]));
        }
    }
    object([
        ("principal", Value::String(arn.to_string())),
        ("kind", json!(kind)),
        ("actions", Value::Array(actions)),
    ])
}

/// Who can do any of several actions on one resource, summarised: the count, the first
/// [`MAX_LISTED`] principals (by ARN) with their evidence, and the incomplete-policy notes.
struct WhoSummary {
    count: usize,
    /// Entries are shared with the other resources listing the same principal.
    listed: Vec<(Arc<str>, Arc<Value>)>,
    /// Every listed entry is one of the cached (resource-independent) ones, so the whole
    /// list may be shared with the resources listing the same entries.
    shareable: bool,
    incomplete: Vec<String>,
}

/// The principals allowed by the shared answers of a set of actions (one per action), built
/// once per combination and reused for every resource that shares them.
struct SharedUnion {
    /// Allowed principals (service-linked roles left out), sorted by ARN.
    sorted: Vec<(Arc<str>, usize)>,
    members: FastSet<usize>,
    /// Incomplete-policy notes these answers contribute, with multiplicity.
    incomplete: BTreeMap<String, usize>,
    /// Evidence entries of principals listed from these answers, built once.
    entries: RefCell<FastMap<usize, Arc<Value>>>,
}

fn shared_union(shared: &[&SharedAnswers]) -> SharedUnion {
    let mut members = FastSet::default();
    let mut sorted = Vec::new();
    let mut incomplete: BTreeMap<String, usize> = BTreeMap::new();
    for s in shared {
        for (idx, principal, notes) in s.allowed_principals() {
            if is_service_linked(principal) {
                continue;
            }
            for m in notes {
                *incomplete.entry(m.clone()).or_default() += 1;
            }
            if members.insert(idx) {
                sorted.push((Arc::from(principal), idx));
            }
        }
        for (_, u) in &s.undetermined {
            if !is_service_linked(&u.principal) {
                for m in &u.missing {
                    *incomplete
                        .entry(format!("{}: {m}", u.principal))
                        .or_default() += 1;
                }
            }
        }
    }
    sorted.sort();
    SharedUnion {
        sorted,
        members,
        incomplete,
        entries: RefCell::new(FastMap::default()),
    }
}

/// Answers who-can questions for the resources of a region: the bulk engine and the unions
/// of shared answers already built.
struct Access<'a> {
    bulk: BulkWhoCan<'a>,
    unions: RefCell<FastMap<Vec<usize>, Rc<SharedUnion>>>,
    /// The union last used, with its key.
    last_union: RefCell<Option<(Vec<usize>, Rc<SharedUnion>)>>,
    /// Evidence lists of principals already built, by the entries they list.
    lists: RefCell<FastMap<Vec<usize>, Arc<SharedList>>>,
    /// What the answers assume about the organization (SCPs, RCPs), shared by every finding.
    assumes: Arc<Value>,
    /// The actions asked about, as evidence shared by the findings asking them.
    actions: RefCell<Vec<(Vec<String>, Arc<Value>)>>,
    /// The answers about one resource, kept between resources for their room.
    answers: RefCell<Vec<Rc<ResourceAnswer>>>,
    /// Answers that another who-can check of the region asks again (see [`ReaskedAnswers`]).
    reasked: Rc<ReaskedAnswers>,
    /// The last statuses decided without explaining, most recent first (at most
    /// [`KEPT_STATUSES`]): resources with the same answers (plain resources share theirs) get
    /// the same status, also when a resource with answers of its own came between them.
    last_status: RefCell<Vec<DecidedStatus>>,
}

/// How many decided statuses [`Access`] keeps: the plain answers of a list's few ARN
/// prefixes, and room for the answers of their own that come between them.
const KEPT_STATUSES: usize = 4;

/// A status decided from `answers` against the threshold `max`; the answers are kept alive,
/// so that equal addresses mean the same answers.
struct DecidedStatus {
    answers: Vec<Rc<ResourceAnswer>>,
    max: usize,
    status: Status,
}

/// Who-can answers that several checks of a region ask about the same resource
/// (`rds:ModifyDBInstance` by the delete, share and master-password checks;
/// `rds:ModifyDBCluster` by the delete and master-password checks), kept by the resource's
/// position in the region so that the later checks reuse them instead of asking again (one
/// indexed read instead of the ARN's validation, parsing, lookups and evaluations).
///
/// Only these actions are kept: the others are asked by one check, and keeping their answers
/// would only hold memory until the analysis ends.
#[derive(Default)]
struct ReaskedAnswers {
    by_action: RefCell<Vec<(&'static str, PlaceKind, AnswerSlots)>>,
}

/// The answers to one action about each resource of a list, by position.
type AnswerSlots = Vec<Option<Rc<ResourceAnswer>>>;

/// The actions asked by more than one check about the resources of a list.
const REASKED: &[(&str, PlaceKind)] = &[
    ("rds:ModifyDBInstance", PlaceKind::Instance),
    ("rds:ModifyDBCluster", PlaceKind::Cluster),
];

/// Where the resource at `index` of the list `kind` of the context's region is in its
/// account (`None` outside the account's regions), so that its facts are not looked up by
/// ARN.
fn place_in(ctx: &RegionCtx<'_>, kind: PlaceKind, index: usize) -> Option<Place> {
    Some(Place {
        region: region_position(ctx)?,
        kind,
        item: u32::try_from(index).ok()?,
    })
}

/// The position of the context's region in its account.
fn region_position(ctx: &RegionCtx<'_>) -> Option<u32> {
    super::common::position_of(&ctx.account.regions, ctx.region).and_then(|r| u32::try_from(r).ok())
}

impl ReaskedAnswers {
    fn of_region(ctx: &RegionCtx<'_>) -> Rc<ReaskedAnswers> {
        ctx.memo.get_or_init_plain(ReaskedAnswers::default)
    }

    /// Where the answers to `action` about the resources of `list` (`len` of them) are
    /// kept, when they are ([`REASKED`]): made the first time.
    fn slots_of(&self, action: &'static str, list: PlaceKind, len: usize) -> Option<usize> {
        if !REASKED.contains(&(action, list)) {
            return None;
        }
        let mut by_action = self.by_action.borrow_mut();
        Some(
            match by_action
                .iter()
                .position(|(a, l, _)| *a == action && *l == list)
            {
                Some(i) => i,
                None => {
                    by_action.push((action, list, vec![None; len]));
                    by_action.len() - 1
                }
            },
        )
    }

    /// The answer kept at `index` of the answers `slots` ([`Self::slots_of`]), asked with
    /// `ask` the first time.
    fn get_or_ask(
        &self,
        slots: usize,
        index: usize,
        ask: impl FnOnce() -> Result<Rc<ResourceAnswer>, RequestError>,
    ) -> Result<Rc<ResourceAnswer>, RequestError> {
        let mut by_action = self.by_action.borrow_mut();
        let Some(slot) = by_action
            .get_mut(slots)
            .and_then(|(_, _, answers)| answers.get_mut(index))
        else {
            drop(by_action);
            return ask();
        };
        if let Some(a) = slot {
            return Ok(a.clone());
        }
        // Errors are not kept: asked again, they come again.
        let answer = ask()?;
        *slot = Some(answer.clone());
        Ok(answer)
    }
}

impl<'a> Access<'a> {
    /// An engine of its own (tests compare it with the checks' shared ones).
    #[cfg(test)]
    fn new(
        model: &'a AccountModel,
        account: &'a AccountSnapshot,
        region: &str,
        plans: Option<&'a PlanCache>,
    ) -> Access<'a> {
        let bulk = match plans {
            Some(plans) => BulkWhoCan::for_region_with(model, account, region, plans),
            None => BulkWhoCan::for_region(model, account, region),
        };
        Self::with_bulk(model, bulk)
    }

    /// The who-can engine of a region's check: the region's resources indexed once for every
    /// who-can check of the region (and their explanations).
    fn of_region(ctx: &RegionCtx<'a>, memo: &'a IamModel, model: &'a AccountModel) -> Access<'a> {
        let index = ctx
            .memo
            .get_or_init_plain(|| CatalogIndex::of_region(ctx.account, &ctx.region.region));
        let catalog = ResourceCatalog::with_region_index(ctx.account, index);
        let mut access =
            Self::with_bulk(model, BulkWhoCan::for_catalog_with(model, catalog, &memo.1));
        access.reasked = ReaskedAnswers::of_region(ctx);
        access
    }

    fn with_bulk(model: &'a AccountModel, bulk: BulkWhoCan<'a>) -> Access<'a> {
        Access {
            bulk,
            unions: RefCell::new(FastMap::default()),
            last_union: RefCell::new(None),
            lists: RefCell::new(FastMap::default()),
            assumes: Arc::new(json!(model.org.notes)),
            actions: RefCell::new(Vec::new()),
            answers: RefCell::new(Vec::new()),
            reasked: Rc::default(),
            last_status: RefCell::new(Vec::with_capacity(KEPT_STATUSES)),
        }
    }

    /// `actions` as evidence, built once per set of actions.
    fn actions_value(&self, actions: &[&str]) -> Arc<Value> {
        let mut known = self.actions.borrow_mut();
        if let Some((_, v)) = known.iter().find(|(a, _)| a.iter().eq(actions.iter())) {
            return v.clone();
        }
        let v = Arc::new(json!(actions));
        known.push((actions.iter().map(|a| a.to_string()).collect(), v.clone()));
        v
    }

    fn union_of(&self, answers: &[Rc<ResourceAnswer>]) -> Rc<SharedUnion> {
        // The shared answers live as long as the bulk engine: their address identifies them.
        let address = |a: &Rc<ResourceAnswer>| Rc::as_ptr(&a.shared) as usize;
        // Resources asked in turn mostly have the previous one's union: compared, not hashed.
        if let Some((key, u)) = &*self.last_union.borrow()
            && key.iter().copied().eq(answers.iter().map(address))
        {
            return u.clone();
        }
        let key: Vec<usize> = answers.iter().map(address).collect();
        if let Some(u) = self.unions.borrow().get(&key) {
            *self.last_union.borrow_mut() = Some((key, u.clone()));
            return u.clone();
        }
        let shared: Vec<&SharedAnswers> = answers.iter().map(|a| &*a.shared).collect();
        let u = Rc::new(shared_union(&shared));
        self.unions.borrow_mut().insert(key.clone(), u.clone());
        *self.last_union.borrow_mut() = Some((key, u.clone()));
        u
    }

    /// Summarise the answers (one per action) for one resource, in time proportional to the
    /// principals evaluated for it, not to every principal allowed.
    ///
    /// Without `listed` (only the count and what is incomplete) unless `explain`.
    fn summarize(&self, answers: &[Rc<ResourceAnswer>], explain: bool) -> WhoSummary {
        // Resource-policy grants to principals outside the account's IAM (key policies).
        // Their actions only for the evidence (the count needs the principals alone).
        let mut externals: BTreeMap<&str, Vec<Value>> = BTreeMap::new();
        for a in answers {
            for e in &a.external {
                let actions = externals.entry(e.principal.as_str()).or_default();
                if explain {
                    actions.push(json!({"action": &*a.action, "statement": e.statement}));
                }
            }
        }
        if externals
            .keys()
            .any(|k| self.bulk.principal_index(k).is_some())
        {
            // An outside grant naming one of the account's principals: the full answer.
            let full: Vec<ActionAnswer> = answers.iter().map(|a| a.to_action_answer()).collect();
            let who = collect(&full);
            return WhoSummary {
                count: who.principals.len(),
                listed: who
                    .principals
                    .into_iter()
                    .take(MAX_LISTED)
                    .map(|(k, v)| (Arc::from(k), Arc::new(v)))
                    .collect(),
                shareable: false,
                incomplete: who.incomplete,
            };
        }
        let model = self.bulk.model();
        let union = self.union_of(answers);
        let mut affected: Vec<usize> = answers
            .iter()
            .flat_map(|a| a.evaluated.iter().copied())
            .filter(|&i| !is_service_linked(&model.principals[i].arn))
            .collect();
        affected.sort_unstable();
        affected.dedup();
        let mut count = union.sorted.len();
        let mut added: Vec<(Arc<str>, usize)> = Vec::new();
        let mut delta: FastMap<String, isize> = FastMap::default();
        for &idx in &affected {
            let now = answers.iter().any(|a| a.is_allowed(idx));
            let was = union.members.contains(&idx);
            match (was, now) {
                (true, false) => count -= 1,
                (false, true) => count += 1,
                _ => {}
            }
            // Listed only when explaining.
            if now && explain {
                added.push((Arc::from(model.principals[idx].arn.as_str()), idx));
            }
            for a in answers.iter().filter(|a| a.is_evaluated(idx)) {
                let mut note = |m: String, by: isize| *delta.entry(m).or_default() += by;
                if let Some(p) = a.shared.allowed_of(idx) {
                    p.incomplete.iter().for_each(|m| note(m.clone(), -1));
                }
                if let Some(u) = a.shared.undetermined_of(idx) {
                    u.missing
                        .iter()
                        .for_each(|m| note(format!("{}: {m}", u.principal), -1));
                }
                if let Some(p) = a.allowed_of(idx) {
                    p.incomplete.iter().for_each(|m| note(m.clone(), 1));
                }
                if let Some(u) = a.own_undetermined_of(idx) {
                    u.missing
                        .iter()
                        .for_each(|m| note(format!("{}: {m}", u.principal), 1));
                }
            }
        }
        added.sort();
        // The first principals by ARN: shared ones not re-evaluated, merged with the
        // re-evaluated ones still allowed.
        let mut listed = Vec::new();
        let mut shareable = true;
        let mut shared_iter = union
            .sorted
            .iter()
            .filter(|(_, i)| affected.binary_search(i).is_err())
            .peekable();
        let mut added_iter = added.iter().peekable();
        while explain && listed.len() < MAX_LISTED {
            let next = match (shared_iter.peek(), added_iter.peek()) {
                (Some(s), Some(a)) if s.0 <= a.0 => shared_iter.next(),
                (Some(_), Some(_)) | (None, Some(_)) => added_iter.next(),
                (Some(_), None) => shared_iter.next(),
                (None, None) => None,
            };
            let Some((arn, idx)) = next else {
                break;
            };
            // Entries are the same for every resource, unless re-evaluated here or carrying
            // the resource's own key-policy grants.
            let cacheable =
                affected.binary_search(idx).is_err() && answers.iter().all(|a| !a.adjusts_shared());
            shareable &= cacheable;
            let entry = if !cacheable {
                Arc::new(principal_entry(answers, arn, *idx))
            } else {
                // Not evaluated for this resource: the same entry as for every other one.
                union
                    .entries
                    .borrow_mut()
                    .entry(*idx)
                    .or_insert_with(|| Arc::new(principal_entry(answers, arn, *idx)))
                    .clone()
            };
            listed.push((arn.clone(), entry));
        }
        let mut incomplete: Vec<String> = Vec::new();
        if !union.incomplete.is_empty() || !delta.is_empty() {
            for (m, n) in &union.incomplete {
                if *n as isize + delta.get(m).copied().unwrap_or(0) > 0 {
                    incomplete.push(m.clone());
                }
            }
            for (m, d) in &delta {
                if *d > 0 && !union.incomplete.contains_key(m) {
                    incomplete.push(m.clone());
                }
            }
            incomplete.sort();
        }
        if !externals.is_empty() {
            count += externals.len();
            shareable = false;
        }
        if explain && !externals.is_empty() {
            listed.extend(externals.into_iter().take(MAX_LISTED).map(|(k, actions)| {
                let v = object([
                    ("principal", Value::String(k.to_string())),
                    ("kind", Value::String("External".to_string())),
                    ("actions", Value::Array(actions)),
                ]);
                (Arc::from(k), Arc::new(v))
            }));
            listed.sort_by(|a, b| a.0.cmp(&b.0));
            listed.truncate(MAX_LISTED);
        }
        WhoSummary {
            count,
            listed,
            shareable,
            incomplete,
        }
    }

    /// The evidence list of `who`'s principals, shared by every finding listing the same
    /// entries (most resources of a region get the same answer): one copy, not one each.
    fn principals_value(&self, who: &WhoSummary) -> EvidenceValue {
        // Entries are shared, not copied, even when the list is this resource's own.
        let build = || {
            Arc::new(SharedList::new(
                who.listed.iter().map(|(_, v)| v.clone()).collect(),
            ))
        };
        if !who.shareable {
            return build().into();
        }
        // Cached entries live as long as `self` (in `unions`): their addresses identify them.
        let key: Vec<usize> = who
            .listed
            .iter()
            .map(|(_, v)| Arc::as_ptr(v) as usize)
            .collect();
        self.lists
            .borrow_mut()
            .entry(key)
            .or_insert_with(build)
            .clone()
            .into()
    }
}

/// Who-can for `actions` on the resources of one list of the region (instances, clusters,
/// snapshots...), judged in turn against `max`, PASS/FAIL: what depends only on the list and
/// the actions (where the answers other checks ask again are kept, the plain answers of the
/// list's ARN prefixes) is found once, not for each resource.
struct ListJudge<'x, 'a> {
    access: &'x Access<'a>,
    /// Each action with its asker (`None` outside the account's regions) and where its
    /// answers are kept for the other checks ([`ReaskedAnswers::slots_of`]).
    askers: Vec<(&'static str, Option<ListAsker<'x, 'a>>, Option<usize>)>,
    actions: &'x [&'static str],
    max: usize,
    what: &'x str,
}

impl<'x, 'a> ListJudge<'x, 'a> {
    fn new(
        ctx: &RegionCtx<'_>,
        access: &'x Access<'a>,
        (kind, len): (PlaceKind, usize),
        actions: &'x [&'static str],
        max: usize,
        what: &'x str,
    ) -> Self {
        let region = region_position(ctx);
        let askers = actions
            .iter()
            .map(|&action| {
                (
                    action,
                    region.map(|r| access.bulk.list_asker(action, r, kind)),
                    access.reasked.slots_of(action, kind, len),
                )
            })
            .collect();
        ListJudge {
            access,
            askers,
            actions,
            max,
            what,
        }
    }

    /// Judge the resource at position `index` of the list, whose ARN is `arn`.
    fn judge(&mut self, em: &mut Emitter<'_>, res: SharedResource, index: usize, arn: &'a str) {
        // One result, whatever happens below.
        if em.skip_unwanted() {
            return;
        }
        let access = self.access;
        let item = u32::try_from(index).ok();
        let mut answers = access.answers.take();
        answers.clear();
        for (action, asker, slots) in &mut self.askers {
            let action: &'static str = action;
            let mut ask = || match (asker.as_mut(), item) {
                (Some(asker), Some(item)) => asker.answer_at(arn, item),
                _ => access.bulk.answer_at(action, arn, None),
            };
            let answer = match slots {
                Some(slots) => access.reasked.get_or_ask(*slots, index, ask),
                None => ask(),
            };
            match answer {
                Ok(a) => answers.push(a),
                Err(e) => {
                    access.answers.replace(answers);
                    em.not_assessed(res, msg!("cannot evaluate {action} on {arn}: {e}"));
                    return;
                }
            }
        }
        decide(
            em,
            access,
            res,
            arn,
            answers,
            (self.actions, self.max, self.what),
        );
    }
}

/// The result of a resource from its `answers` (one per action of `actions`) against `max`.
fn decide(
    em: &mut Emitter<'_>,
    access: &Access<'_>,
    res: SharedResource,
    arn: &str,
    mut answers: Vec<Rc<ResourceAnswer>>,
    (actions, max, what): (&[&'static str], usize, &str),
) {
    let explain = explaining();
    if !explain {
        // The status alone (see `explaining`): no evidence, no message; a recent one when
        // the answers are the same.
        let mut last = access.last_status.borrow_mut();
        let known = last.iter().find(|decided| {
            decided.max == max
                && decided.answers.len() == answers.len()
                && decided
                    .answers
                    .iter()
                    .zip(&answers)
                    .all(|(p, a)| Rc::ptr_eq(p, a))
        });
        let status = match known {
            Some(decided) => decided.status,
            None => {
                let who = access.summarize(&answers, false);
                let status = if who.count > max {
                    Status::Fail
                } else if !who.incomplete.is_empty() {
                    Status::NotAssessed
                } else {
                    Status::Pass
                };
                last.truncate(KEPT_STATUSES - 1);
                last.insert(
                    0,
                    DecidedStatus {
                        answers: answers.clone(),
                        max,
                        status,
                    },
                );
                status
            }
        };
        drop(last);
        answers.clear();
        access.answers.replace(answers);
        em.emit(status, res, "", Evidence::new());
        return;
    }
    let who = access.summarize(&answers, explain);
    answers.clear();
    access.answers.replace(answers);
    let count = who.count;
    let not_listed = count.saturating_sub(who.listed.len());
    let mut ev = crate::evidence! {
        "count" => count,
        "threshold" => max,
    };
    ev.insert_shared("actions".into(), access.actions_value(actions));
    ev.insert_shared("assumes".into(), access.assumes.clone());
    // Shared, not copied: this is most of a finding's size.
    ev.put("principals".into(), access.principals_value(&who));
    if not_listed > 0 {
        ev.insert("principals_not_listed".into(), json!(not_listed));
    }
    let (incomplete, incomplete_left_out) = capped(who.incomplete);
    if !incomplete.is_empty() {
        ev.insert("incomplete".into(), json!(incomplete));
        if incomplete_left_out > 0 {
            ev.insert("incomplete_not_listed".into(), json!(incomplete_left_out));
        }
    }
    if count > max {
        let names = names_in_message(&who.listed, count);
        // Sized up front: this message is written for most databases of a large account.
        let mut message = String::with_capacity(48 + what.len() + arn.len() + names.len());
        let _ = write!(
            message,
            "{count} principals can {what} {arn} (threshold {max}): {names}"
        );
        em.fail(res, message, ev);
    } else if !incomplete.is_empty() {
        let more = if incomplete_left_out > 0 {
            format!("; and {incomplete_left_out} more")
        } else {
            String::new()
        };
        em.not_assessed(
            res,
            format!(
                "{count} principals can {what} {arn}, but some policies are missing from the \
                 snapshot: {}{more}",
                incomplete.join("; ")
            ),
        );
    } else {
        let mut message = String::with_capacity(48 + what.len() + arn.len());
        let _ = write!(
            message,
            "{count} principals can {what} {arn} (threshold {max})"
        );
        em.pass(res, message, ev);
    }
}

/// At most this many principals are named in a message (the evidence lists more, up to
/// [`MAX_LISTED`], and counts all): a one-line message stays readable.
const NAMED_IN_MESSAGE: usize = 5;

/// The first principals of a summary for a message, and how many others there are.
fn names_in_message(listed: &[(Arc<str>, Arc<Value>)], count: usize) -> String {
    let shown = &listed[..listed.len().min(NAMED_IN_MESSAGE)];
    let mut text =
        String::with_capacity(shown.iter().map(|(n, _)| n.len() + 2).sum::<usize>() + 16);
    for (i, (name, _)) in shown.iter().enumerate() {
        if i > 0 {
            text.push_str(", ");
        }
        text.push_str(name);
    }
    let others = count.saturating_sub(shown.len());
    if others > 0 {
        text.push_str(&format!(", and {others} more"));
    }
    text
}

fn region_model(
    ctx: &RegionCtx<'_>,
    em: &mut Emitter<'_>,
    def: &CheckDef,
) -> Option<std::rc::Rc<IamModel>> {
    // Compiled once per account, not once per region.
    let m = memo_model(ctx.account_memo, ctx.snapshot, ctx.account);
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
    let access = Access::of_region(ctx, &memo, model);
    let max = ctx.config.iam.max_principals_delete;
    let what = "delete or unprotect";
    let rds = &ctx.region.rds;
    let list = (PlaceKind::Instance, rds.db_instances.len());
    let actions = ["rds:DeleteDBInstance", "rds:ModifyDBInstance"];
    let mut judge = ListJudge::new(ctx, &access, list, &actions, max, what);
    for (i, db) in rds.db_instances.iter().enumerate() {
        judge.judge(em, instance_resource(ctx, db), i, &db.db_instance_arn);
    }
    let list = (PlaceKind::Cluster, rds.db_clusters.len());
    let actions = ["rds:DeleteDBCluster", "rds:ModifyDBCluster"];
    let mut judge = ListJudge::new(ctx, &access, list, &actions, max, what);
    for (i, c) in rds.db_clusters.iter().enumerate() {
        judge.judge(em, cluster_resource(ctx, c), i, &c.db_cluster_arn);
    }
    let list = (PlaceKind::Snapshot, rds.db_snapshots.len());
    let mut judge = ListJudge::new(ctx, &access, list, &["rds:DeleteDBSnapshot"], max, "delete");
    for (i, s) in rds.db_snapshots.iter().enumerate() {
        judge.judge(em, snapshot_resource(ctx, s), i, &s.arn);
    }
    let list = (PlaceKind::ClusterSnapshot, rds.db_cluster_snapshots.len());
    let actions = ["rds:DeleteDBClusterSnapshot"];
    let mut judge = ListJudge::new(ctx, &access, list, &actions, max, "delete");
    for (i, s) in rds.db_cluster_snapshots.iter().enumerate() {
        judge.judge(em, cluster_snapshot_resource(ctx, s), i, &s.arn);
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
    let access = Access::of_region(ctx, &memo, model);
    let max = ctx.config.iam.max_principals_share;
    let rds = &ctx.region.rds;
    let list = (PlaceKind::Instance, rds.db_instances.len());
    let actions = ["rds:ModifyDBInstance"];
    let mut judge = ListJudge::new(ctx, &access, list, &actions, max, "make public");
    for (i, db) in rds.db_instances.iter().enumerate() {
        judge.judge(em, instance_resource(ctx, db), i, &db.db_instance_arn);
    }
    let what = "share or make public";
    let list = (PlaceKind::Snapshot, rds.db_snapshots.len());
    let actions = ["rds:ModifyDBSnapshotAttribute"];
    let mut judge = ListJudge::new(ctx, &access, list, &actions, max, what);
    for (i, s) in rds.db_snapshots.iter().enumerate() {
        judge.judge(em, snapshot_resource(ctx, s), i, &s.arn);
    }
    let list = (PlaceKind::ClusterSnapshot, rds.db_cluster_snapshots.len());
    let actions = ["rds:ModifyDBClusterSnapshotAttribute"];
    let mut judge = ListJudge::new(ctx, &access, list, &actions, max, what);
    for (i, s) in rds.db_cluster_snapshots.iter().enumerate() {
        judge.judge(em, cluster_snapshot_resource(ctx, s), i, &s.arn);
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
    let access = Access::of_region(ctx, &memo, model);
    let max = ctx.config.iam.max_principals_master_password;
    let rds = &ctx.region.rds;
    let what = "change the master password of";
    let list = (PlaceKind::Instance, rds.db_instances.len());
    let mut judge = ListJudge::new(ctx, &access, list, &["rds:ModifyDBInstance"], max, what);
    for (i, db) in rds.db_instances.iter().enumerate() {
        // Cluster members take their master password from the cluster.
        if db.db_cluster_identifier.is_some() {
            continue;
        }
        judge.judge(em, instance_resource(ctx, db), i, &db.db_instance_arn);
    }
    let list = (PlaceKind::Cluster, rds.db_clusters.len());
    let mut judge = ListJudge::new(ctx, &access, list, &["rds:ModifyDBCluster"], max, what);
    for (i, c) in rds.db_clusters.iter().enumerate() {
        judge.judge(em, cluster_resource(ctx, c), i, &c.db_cluster_arn);
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
    let access = Access::of_region(ctx, &memo, model);
    let th = &ctx.config.iam;
    // Keys of encrypted databases, deduplicated.
    let rds = &ctx.region.rds;
    let mut refs: Vec<(KeyRef<'_>, &str)> =
        Vec::with_capacity(rds.db_instances.len() + rds.db_clusters.len());
    for db in &ctx.region.rds.db_instances {
        if let Some(k) = KeyRef::instance(ctx, db) {
            refs.push((k, &db.db_instance_identifier));
        }
    }
    for c in &ctx.region.rds.db_clusters {
        if let Some(k) = KeyRef::cluster(ctx, c) {
            refs.push((k, &c.db_cluster_identifier));
        }
    }
    if refs.is_empty() {
        em.not_applicable(
            scope_resource(&RDS_KMS_KEY_ACCESS, ctx.account, Some(&ctx.region.region)),
            "no encrypted RDS databases in the region",
        );
        return;
    }
    let mut seen: FastSet<&str> = FastSet::default();
    // The keys met already, by place: a key's ARN is hashed only the first time (most
    // databases share their key with others).
    let mut met = vec![false; ctx.region.kms.keys.len()];
    // Each database's key resolved once for every check (`lookup_key_ref`).
    for (key_ref, db) in refs {
        let reference = key_ref.text;
        let key: &KmsKey = match lookup_key_ref(ctx, key_ref) {
            KeyLookup::Found(k) => k,
            KeyLookup::Unknown(reason) => {
                em.not_assessed(
                    ResourceRef {
                        resource_type: "AwsKmsKey".into(),
                        id: reference.to_string(),
                        arn: reference.starts_with("arn:").then(|| reference.to_string()),
                        account_id: super::common::region_names(ctx).0,
                        region: Some(super::common::region_names(ctx).1),
                    },
                    msg!("key of {db}: {reason}"),
                );
                continue;
            }
        };
        if let Some(met) =
            super::common::position_of(&ctx.region.kms.keys, key).and_then(|i| met.get_mut(i))
        {
            // The same key as before, whose ARN is in `seen`.
            if *met {
                continue;
            }
            *met = true;
        }
        if !seen.insert(key.arn.as_str()) {
            continue;
        }
        // One result per key from here.
        if em.skip_unwanted() {
            continue;
        }
        let res = key_resource(ctx, key);
        match key.is_customer_managed() {
            Some(false) => {
                em.not_applicable(
                    res,
                    msg!("{} is an AWS managed key (its policy is AWS's)", key.arn),
                );
                continue;
            }
            None => {
                em.not_assessed(
                    res,
                    msg!(
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
        let keys = &ctx.region.kms.keys;
        let place =
            super::common::position_of(keys, key).and_then(|i| place_in(ctx, PlaceKind::Key, i));
        let use_answers = access
            .bulk
            .answer_at("kms:Decrypt", &key.arn, place)
            .map(|a| vec![a]);
        let admin_answers = [
            "kms:PutKeyPolicy",
            "kms:ScheduleKeyDeletion",
            "kms:DisableKey",
        ]
        .iter()
        .map(|a| access.bulk.answer_at(a, &key.arn, place))
        .collect::<Result<Vec<_>, _>>();
        let explain = explaining();
        let (users, admins) = match (use_answers, admin_answers) {
            (Ok(u), Ok(a)) => (access.summarize(&u, explain), access.summarize(&a, explain)),
            (Err(e), _) | (_, Err(e)) => {
                em.not_assessed(res, msg!("cannot evaluate access to {}: {e}", key.arn));
                continue;
            }
        };
        let (nu, na) = (users.count, admins.count);
        let ev = if explain {
            key_access_evidence(&access, key, db, th, &users, &admins)
        } else {
            Evidence::new()
        };
        if nu > th.max_principals_key_use || na > th.max_principals_key_admin {
            em.fail(
                res,
                msg!(
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
        } else if key.grants.is_none() && key.grants_count != Some(0) {
            // Grants give principals KMS operations outside the policies: unread, they could
            // push the count over the threshold.
            let why = ctx
                .region
                .gap(ops::KMS_LIST_GRANTS, Some(&key.key_id))
                .or_else(|| ctx.region.gap(ops::KMS_LIST_GRANTS, Some(&key.arn)))
                .map(|g| g.describe())
                .unwrap_or_else(|| match key.grants_count {
                    Some(n) => format!("{n} grant(s) on {} were counted but not read", key.arn),
                    None => format!("the grants on {} were not collected", key.arn),
                });
            em.not_assessed(res, msg!("{nu} principals can decrypt with {} and {na} can administer it by its policies, but {why}", key.arn));
        } else {
            em.pass(
                res,
                msg!(
                    "{nu} principals can decrypt with {} and {na} can administer it",
                    key.arn
                ),
                ev,
            );
        }
    }
}

/// The evidence of `rds_kms_key_access` for `key` (of database `db`).
fn key_access_evidence(
    access: &Access<'_>,
    key: &KmsKey,
    db: &str,
    th: &IamThresholds,
    users: &WhoSummary,
    admins: &WhoSummary,
) -> Evidence {
    let (decrypt_left_out, admin_left_out) = (
        users.count - users.listed.len(),
        admins.count - admins.listed.len(),
    );
    let mut ev = crate::evidence! {
        "key" => key.arn,
        "database" => db,
        "max_principals_key_use" => th.max_principals_key_use,
        "max_principals_key_admin" => th.max_principals_key_admin,
        "grants_evaluated" => key.grants.as_ref().map(Vec::len),
    };
    if key.grants.is_none() && key.grants_count.unwrap_or(0) > 0 {
        ev.insert("grants_not_evaluated".into(), json!(key.grants_count));
    }
    ev.put("decrypt_principals".into(), access.principals_value(users));
    ev.put("admin_principals".into(), access.principals_value(admins));
    if decrypt_left_out > 0 {
        ev.insert(
            "decrypt_principals_not_listed".into(),
            json!(decrypt_left_out),
        );
    }
    if admin_left_out > 0 {
        ev.insert("admin_principals_not_listed".into(), json!(admin_left_out));
    }
    ev
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
    let memo = memo_model(ctx.memo, ctx.snapshot, ctx.account);
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
    // Parsed once for every principal (`None`: a probe does not parse, and no principal is
    // found admin-equivalent, as when each was parsed per principal).
    let probes: Option<Vec<RequestAction>> = RDS_ADMIN_PROBES
        .iter()
        .map(|a| RequestAction::parse(a).ok())
        .collect();
    let delete = RequestAction::parse("rds:DeleteDBInstance").ok();
    // Unconditional access, whatever the request context: conditions stay unknown and only an
    // unconditional allow counts.
    let ctx_partial = RequestContext::partial(Vec::<String>::new(), Vec::<String>::new());
    // The admins' statements are evidence: listed only when explaining.
    let explain = explaining();
    let mut count = 0;
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
        let all = probes.as_ref().is_some_and(|probes| {
            probes.iter().all(|action| {
                evaluate_static_quick(
                    &set,
                    &Request {
                        principal: &principal,
                        action,
                        resource: &resource,
                        context: &ctx_partial,
                    },
                ) == StaticDecision::Allowed
            })
        });
        if !all {
            incomplete.extend(p.incomplete.iter().cloned());
            continue;
        }
        count += 1;
        if !explain {
            continue;
        }
        let via: Vec<Value> = attached
            .iter()
            .flat_map(|(pol, att)| {
                pol.statements
                    .iter()
                    .filter(|s| s.effect == Effect::Allow)
                    .filter(|s| delete.as_ref().is_some_and(|a| s.action_matches(a)))
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
        account_id: acct.clone().into(),
        region: None,
    };
    let ev = crate::evidence! {
        "admins" => admins,
        "count" => count,
        "threshold" => max,
        "probed_actions" => RDS_ADMIN_PROBES,
    };
    if count > max {
        em.fail(
            res,
            msg!("{count} principals have admin-equivalent RDS access (threshold {max})"),
            ev,
        );
    } else if !incomplete.is_empty() {
        incomplete.sort();
        incomplete.dedup();
        em.not_assessed(
            res,
            msg!(
                "{count} principals have admin-equivalent RDS access, but some policies are missing: {}",
                incomplete.join("; ")
            ),
        );
    } else {
        em.pass(
            res,
            msg!("{count} principals have admin-equivalent RDS access (threshold {max})"),
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
    let mut compiled_texts: FastMap<&str, Result<Rc<CompiledPolicy>, ParseError>> =
        FastMap::default();
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
        // Keys made from one template share their policy's text: compiled once per text.
        let compiled = compiled_texts.entry(doc.as_str()).or_insert_with(|| {
            CompiledPolicy::from_json("key policy", PolicyKind::Resource, doc).map(Rc::new)
        });
        let policy = match compiled {
            Ok(p) => p.clone(),
            Err(e) => {
                em.not_assessed(
                    res,
                    msg!("the key policy of {} is unreadable: {e}", key.arn),
                );
                continue;
            }
        };
        let open = public_statements(&policy, &key.arn);
        if open.is_empty() {
            em.pass(
                res,
                msg!(
                    "the key policy of {} allows no unrestricted `*` principal",
                    key.arn
                ),
                crate::evidence! {},
            );
        } else {
            em.fail(
                res,
                msg!(
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
            identity: their_side.into_iter().collect(),
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
    let memo = memo_model(ctx.memo, ctx.snapshot, ctx.account);
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
    let named = InstanceNames::new(&instances);
    let mut found = false;
    for policy in model.policies() {
        let name = policy_short_name(&policy.name);
        let Some(&(id, arn, region)) = named.longest_in(name).map(|i| &instances[i]) else {
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
            account_id: ctx.account.account_id.clone().into(),
            region: None,
        };
        if broader.is_empty() {
            em.pass(
                res,
                msg!("{name} grants RDS actions only on {id}"),
                crate::evidence! {"instance" => arn},
            );
        } else {
            em.fail(
                res,
                msg!(
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

/// DB instance identifiers, lower-cased and indexed by length, to find the instance a policy
/// name mentions without trying every identifier on every name.
struct InstanceNames<'a> {
    /// Lower-cased identifier → the instance a name containing it designates: the greatest
    /// (identifier length as written, index in snapshot order) among the instances with that
    /// identifier (only the greatest can win, see [`InstanceNames::longest_in`]).
    by_id: FastMap<Cow<'a, str>, (usize, usize)>,
    /// Byte lengths of the lower-cased identifiers, longest first.
    lengths: Vec<usize>,
}

impl<'a> InstanceNames<'a> {
    fn new(instances: &[(&'a str, &str, &str)]) -> InstanceNames<'a> {
        let mut by_id: FastMap<Cow<'a, str>, (usize, usize)> =
            FastMap::with_capacity_and_hasher(instances.len(), Default::default());
        for (i, (id, _, _)) in instances.iter().enumerate() {
            // RDS identifiers are lower-case ASCII: most need no lower-cased copy.
            let lower = if id.bytes().any(|b| !b.is_ascii() || b.is_ascii_uppercase()) {
                Cow::Owned(id.to_lowercase())
            } else {
                Cow::Borrowed(*id)
            };
            let candidate = (id.len(), i);
            let best = by_id.entry(lower).or_insert(candidate);
            *best = (*best).max(candidate);
        }
        let mut lengths: Vec<usize> = by_id.keys().map(|k| k.len()).collect();
        lengths.sort_unstable_by(|a, b| b.cmp(a));
        lengths.dedup();
        InstanceNames { by_id, lengths }
    }

    /// The instance whose identifier the name contains (case-insensitively): the longest
    /// identifier, the last in snapshot order among equals.
    fn longest_in(&self, name: &str) -> Option<usize> {
        let lname = name.to_lowercase();
        let mut best: Option<(usize, usize)> = None; // (identifier length, instance index)
        for &len in &self.lengths {
            for start in 0..lname.len().saturating_sub(len - 1) {
                let Some(window) = lname.get(start..start + len) else {
                    continue;
                };
                let Some(&candidate) = self.by_id.get(window) else {
                    continue;
                };
                if best.is_none_or(|b| candidate > b) {
                    best = Some(candidate);
                }
            }
        }
        best.map(|(_, i)| i)
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
            // Grants listed: none.
            grants_count: Some(0),
            grants: Some(Vec::new()),
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
    fn key_access_counts_kms_grants_and_is_not_assessed_when_they_were_not_read() {
        let direct_only = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/admin0"},"Action":"kms:*","Resource":"*"}]}"#;
        let mut r = region_with_db();
        let mut k = key(Some(direct_only));
        // Six grants to roles of a partner account: six more principals can decrypt.
        k.grants = Some(
            (0..6)
                .map(|i| rdsguard_model::KmsGrant {
                    grant_id: format!("g{i}"),
                    grantee_principal: Some(format!("arn:aws:iam::444455556666:role/r{i}")),
                    operations: vec!["Decrypt".into()],
                    ..Default::default()
                })
                .collect(),
        );
        k.grants_count = Some(6);
        r.kms.keys.push(k.clone());
        let f = run(&RDS_KMS_KEY_ACCESS, &snapshot(r, Some(iam(admins(1)))));
        assert_eq!(status_of(&f, "k1"), Status::Fail);
        let text = f[0].evidence["decrypt_principals"].to_string();
        assert!(text.contains("444455556666:role/r5"), "{text}");
        assert_eq!(f[0].evidence["grants_evaluated"], 6);
        // Grants counted but not read: they could add principals, so never a PASS.
        let mut r = region_with_db();
        k.grants = None;
        r.kms.keys.push(k);
        let f = run(&RDS_KMS_KEY_ACCESS, &snapshot(r, Some(iam(admins(1)))));
        assert_eq!(status_of(&f, "k1"), Status::NotAssessed);
        assert!(f[0].message.contains("6 grant(s)"), "{}", f[0].message);
    }

    #[test]
    fn an_organization_scp_denying_deletes_removes_every_deleter() {
        use rdsguard_model::{OrgPolicy, OrgTarget, OrganizationData, SERVICE_CONTROL_POLICY};
        let mut snap = snapshot(region_with_db(), Some(iam(admins(4))));
        assert_eq!(
            status_of(&run(&RDS_IAM_DELETE_ACCESS, &snap), "orders"),
            Status::Fail
        );
        let scp = |id: &str, doc: &str| OrgPolicy {
            id: id.into(),
            policy_type: SERVICE_CONTROL_POLICY.into(),
            content: Some(doc.into()),
            ..Default::default()
        };
        snap.organization = Some(OrganizationData {
            id: "o-test".into(),
            management_account_id: Some("999999999999".into()),
            enabled_policy_types: vec![SERVICE_CONTROL_POLICY.into()],
            policies: vec![
                scp("p-full", &allow("*", "*")),
                scp(
                    "p-nodelete",
                    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":["rds:Delete*","rds:Modify*"],"Resource":"*"}]}"#,
                ),
            ],
            ..Default::default()
        });
        snap.accounts[0].org_path = vec![
            OrgTarget {
                id: "r-1".into(),
                kind: "ROOT".into(),
                policy_ids: vec!["p-full".into(), "p-nodelete".into()],
                ..Default::default()
            },
            OrgTarget {
                id: ACCOUNT.into(),
                kind: "ACCOUNT".into(),
                policy_ids: vec!["p-full".into()],
                ..Default::default()
            },
        ];
        let f = run(&RDS_IAM_DELETE_ACCESS, &snap);
        assert_eq!(status_of(&f, "orders"), Status::Pass);
        assert_eq!(f[0].evidence["count"], 0);
        let assumes = f[0].evidence["assumes"].to_string();
        assert!(assumes.contains("3 SCP(s) over 2 level(s)"), "{assumes}");
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

    /// Resources of every region with the actions the IAM checks ask about them, every
    /// `stride`-th one.
    fn sampled_questions(
        account: &AccountSnapshot,
        stride: usize,
    ) -> Vec<(String, Vec<&'static str>)> {
        let mut out = Vec::new();
        for r in &account.regions {
            for d in &r.rds.db_instances {
                out.push((
                    d.db_instance_arn.clone(),
                    vec!["rds:DeleteDBInstance", "rds:ModifyDBInstance"],
                ));
            }
            for c in &r.rds.db_clusters {
                out.push((
                    c.db_cluster_arn.clone(),
                    vec!["rds:DeleteDBCluster", "rds:ModifyDBCluster"],
                ));
            }
            for s in &r.rds.db_snapshots {
                out.push((
                    s.arn.clone(),
                    vec!["rds:DeleteDBSnapshot", "rds:ModifyDBSnapshotAttribute"],
                ));
            }
            for s in &r.rds.db_cluster_snapshots {
                out.push((
                    s.arn.clone(),
                    vec![
                        "rds:DeleteDBClusterSnapshot",
                        "rds:ModifyDBClusterSnapshotAttribute",
                    ],
                ));
            }
            for k in &r.kms.keys {
                out.push((k.arn.clone(), vec!["kms:Decrypt", "kms:PutKeyPolicy"]));
            }
        }
        out.into_iter().step_by(stride.max(1)).collect()
    }

    /// The bulk engine gives who-can's answers, and the summaries give what collecting the
    /// full answers gives (count, first principals, incomplete notes).
    fn assert_bulk_matches_who_can(snap: &rdsguard_model::Snapshot, stride: usize) -> usize {
        let mut compared = 0;
        for account in &snap.accounts {
            let Some(model) = AccountModel::build_in(snap, account) else {
                continue;
            };
            // One engine per region, sharing their plans (and the answers shared between
            // resources) as the checks do; a resource of no region goes to the first
            // region's engine (its fallback), and so does every other question.
            // Asked before the engines are made: they borrow the questions.
            let questions = sampled_questions(account, stride);
            let plans = PlanCache::default();
            let engines: Vec<(&str, Access<'_>)> = account
                .regions
                .iter()
                .map(|r| {
                    let region = r.region.as_str();
                    (region, Access::new(&model, account, region, Some(&plans)))
                })
                .collect();
            let unshared = Access::new(
                &model,
                account,
                account.regions.first().map_or("", |r| r.region.as_str()),
                None,
            );
            for (i, (arn, actions)) in questions.iter().enumerate() {
                let region = arn.split(':').nth(3).unwrap_or_default();
                let access = match engines.iter().find(|(r, _)| *r == region) {
                    Some((_, a)) if i % 3 != 0 => a,
                    _ => &unshared,
                };
                let mut full = Vec::new();
                let mut bulk = Vec::new();
                for action in actions {
                    let old = model.who_can(account, action, arn);
                    let new = access.bulk.answer(action, arn);
                    match (old, new) {
                        (Ok(o), Ok(n)) => {
                            assert_eq!(o.actions.len(), 1);
                            assert_eq!(n.to_action_answer(), o.actions[0], "{action} on {arn}");
                            full.extend(o.actions);
                            bulk.push(n);
                        }
                        (Err(o), Err(n)) => assert_eq!(o.to_string(), n.to_string()),
                        (o, n) => panic!("{action} on {arn}: {o:?} vs {n:?}"),
                    }
                    compared += 1;
                }
                if bulk.len() == actions.len() {
                    let want = collect(&full);
                    let got = access.summarize(&bulk, true);
                    assert_eq!(got.count, want.principals.len(), "{arn}");
                    let want_listed: Vec<(Arc<str>, Arc<Value>)> = want
                        .principals
                        .into_iter()
                        .take(MAX_LISTED)
                        .map(|(k, v)| (Arc::from(k), Arc::new(v)))
                        .collect();
                    assert_eq!(got.listed, want_listed, "{arn}");
                    assert_eq!(got.incomplete, want.incomplete, "{arn}");
                }
            }
        }
        compared
    }

    /// The who-can checks asking the same action about the same databases share their
    /// answers (`ReaskedAnswers`): together they find what each finds alone, explained or not.
    #[test]
    fn checks_sharing_answers_find_what_each_finds_alone() {
        let now = crate::testkit::now();
        let shared = [
            &RDS_IAM_DELETE_ACCESS,
            &RDS_IAM_PUBLIC_OR_SHARE_ACCESS,
            &RDS_IAM_MASTER_PASSWORD_ACCESS,
        ];
        let synthetic =
            rdsguard_demo::synthetic(&rdsguard_demo::SyntheticParams::with_instances(400));
        for snap in [rdsguard_demo::demo_snapshot(), synthetic] {
            let config = Config::default();
            let together = crate::evaluate_with(&snap, &config, now, &shared);
            let analysis = crate::analyze(&snap, &config, now, &shared);
            assert_eq!(analysis.outcomes.len(), together.len());
            let mut alone = Vec::new();
            for def in shared {
                let findings = crate::evaluate_with(&snap, &config, now, &[def]);
                assert!(
                    findings.iter().any(|f| f.status == Status::Fail),
                    "{}",
                    def.id
                );
                alone.extend(findings);
            }
            let json = |f: &[rdsguard_findings::Finding]| {
                let mut rows: Vec<String> = f
                    .iter()
                    .map(|f| serde_json::to_string(f).unwrap_or_default())
                    .collect();
                rows.sort();
                rows
            };
            assert_eq!(json(&together), json(&alone));
            let statuses = |a: &crate::Analysis<'_>| {
                let mut rows: Vec<(u16, String, Status)> = a
                    .outcomes
                    .iter()
                    .map(|o| {
                        let id = a.resource_of(o).map(|r| r.id.clone()).unwrap_or_default();
                        (o.check, id, o.status)
                    })
                    .collect();
                rows.sort();
                rows
            };
            let mut explained: Vec<(u16, String, Status)> = together
                .iter()
                .map(|f| {
                    let check = shared.iter().position(|d| d.id == f.check_id.as_str());
                    (check.unwrap_or(99) as u16, f.resource.id.clone(), f.status)
                })
                .collect();
            explained.sort();
            assert_eq!(statuses(&analysis), explained);
        }
    }

    #[test]
    fn bulk_who_can_matches_who_can_on_the_demo() {
        let compared = assert_bulk_matches_who_can(&rdsguard_demo::demo_snapshot(), 1);
        assert!(compared > 20, "{compared}");
    }

    #[test]
    fn bulk_who_can_matches_who_can_on_2000_synthetic_instances() {
        let snap = rdsguard_demo::synthetic(&rdsguard_demo::SyntheticParams::with_instances(2000));
        let compared = assert_bulk_matches_who_can(&snap, 41);
        assert!(compared > 100, "{compared}");
    }

    #[test]
    fn bulk_who_can_matches_on_resource_specific_policies() {
        // Grants that depend on the resource: exact ARNs, wildcards, tag conditions,
        // NotResource, denies and boundaries naming one database, a missing policy.
        let other_arn = "arn:aws:rds:us-east-1:111122223333:db:payments";
        let docs = [
            allow("rds:DeleteDBInstance", DB_ARN),
            allow("rds:DeleteDBInstance", "arn:aws:rds:*:*:db:pay*"),
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"rds:*","Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/team":"core"}}}]}"#.to_string(),
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"rds:Delete*","NotResource":"arn:aws:rds:us-east-1:111122223333:db:orders"}]}"#.to_string(),
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"rds:DeleteDBInstance","Resource":"arn:aws:rds:us-east-1:111122223333:db:orders"}]}"#.to_string(),
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"rds:*","Resource":"*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}}]}"#.to_string(),
            allow("rds:DeleteDBInstance", "arn:aws:rds:us-east-1:111122223333:db:${aws:username}"),
        ];
        let mut users: Vec<IamUser> = docs
            .iter()
            .enumerate()
            .map(|(i, d)| user(&format!("u{i}"), d))
            .collect();
        let mut bounded = user("bounded", &allow("rds:*", "*"));
        bounded.permissions_boundary_arn =
            Some("arn:aws:iam::111122223333:policy/OnlyOrders".into());
        users.push(bounded);
        let mut missing = user("missing", &allow("ec2:*", "*"));
        missing
            .attached_policy_arns
            .push("arn:aws:iam::111122223333:policy/Missing".into());
        users.push(missing);
        users.push(user("orders", &allow("rds:*", "*")));
        let mut data = iam(users);
        data.policies.push(rdsguard_model::ManagedPolicy {
            arn: "arn:aws:iam::111122223333:policy/OnlyOrders".into(),
            name: Some("OnlyOrders".into()),
            document: Some(allow("rds:*", DB_ARN)),
            ..Default::default()
        });
        let mut r = region_with_db();
        r.rds.db_instances[0]
            .tags
            .insert("team".into(), "core".into());
        r.rds.db_instances.push(DbInstance {
            db_instance_identifier: "payments".into(),
            db_instance_arn: other_arn.into(),
            engine: "postgres".into(),
            ..Default::default()
        });
        // Keys: delegating to the account (answers shared between keys), naming one user
        // only, open to everyone, delegating under a condition (evaluated key by key).
        let key_docs = [
            r#"{"Version":"2012-10-17","Statement":[{"Sid":"Root","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"},{"Sid":"App","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/u1"},"Action":"kms:Decrypt","Resource":"*"}]}"#,
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/u4"},"Action":"kms:*","Resource":"*"}]}"#,
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"},{"Sid":"Share","Effect":"Allow","Principal":"*","Action":"kms:Decrypt","Resource":"*"}]}"#,
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"kms:*","Resource":"*","Condition":{"StringEquals":{"kms:ViaService":"rds.us-east-1.amazonaws.com"}}},{"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::111122223333:user/u5"},"Action":"kms:*","Resource":"*"}]}"#,
        ];
        for (i, doc) in key_docs.iter().enumerate() {
            let mut k = key(Some(doc));
            k.key_id = format!("k{i}");
            k.arn = format!("arn:aws:kms:us-east-1:111122223333:key/k{i}");
            r.kms.keys.push(k);
        }
        let snap = snapshot(r, Some(data));
        assert_eq!(
            assert_bulk_matches_who_can(&snap, 1),
            4 + 2 * key_docs.len()
        );
        // And the check's evidence: grants naming one database count only on it.
        let f = run(&RDS_IAM_DELETE_ACCESS, &snap);
        let orders = f.iter().find(|x| x.resource.id == "orders").unwrap();
        let text = orders.evidence["principals"].to_string();
        assert!(
            text.contains("user/u0") && text.contains("user/bounded"),
            "{text}"
        );
        assert!(!text.contains("user/u1"), "{text}");
        let payments = f.iter().find(|x| x.resource.id == "payments").unwrap();
        let text = payments.evidence["principals"].to_string();
        assert!(
            text.contains("user/u1") && !text.contains("user/u0"),
            "{text}"
        );
    }

    #[test]
    fn evidence_lists_the_first_principals_and_counts_all() {
        let snap = snapshot(region_with_db(), Some(iam(admins(25))));
        let f = run(&RDS_IAM_DELETE_ACCESS, &snap);
        assert_eq!(f[0].status, Status::Fail);
        assert_eq!(f[0].evidence["count"], 25);
        assert_eq!(
            f[0].evidence["principals"].as_array().unwrap().len(),
            MAX_LISTED
        );
        assert_eq!(f[0].evidence["principals_not_listed"], 5);
        // The message names the first few and counts the others.
        assert!(
            f[0].message.ends_with("user/admin12, and 20 more"),
            "{}",
            f[0].message
        );
        assert_eq!(
            f[0].message.matches("arn:aws:iam::").count(),
            NAMED_IN_MESSAGE
        );
        // The listed ones are the first by ARN.
        assert_eq!(
            f[0].evidence["principals"][0]["principal"],
            format!("arn:aws:iam::{ACCOUNT}:user/admin0")
        );
    }

    #[test]
    fn instance_policy_scope_picks_the_longest_identifier_named() {
        let names = InstanceNames::new(&[
            ("orders", "arn:1", "r"),
            ("orders-archive", "arn:2", "r"),
            ("ORDERS", "arn:3", "r2"),
            ("Øst", "arn:4", "r"),
            ("øST", "arn:5", "r"),
        ]);
        assert_eq!(names.longest_in("Orders-Archive-admin"), Some(1));
        // Lower-cased beyond ASCII too; among equals, the last.
        assert_eq!(names.longest_in("øst-reader"), Some(4));
        // Equal identifiers (case-insensitively): the last in snapshot order.
        assert_eq!(names.longest_in("orders-admin"), Some(2));
        assert_eq!(names.longest_in("billing-admin"), None);
    }
}
