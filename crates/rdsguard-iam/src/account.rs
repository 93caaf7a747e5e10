//! The account model: IAM principals and their policies, compiled once from a snapshot, and
//! the questions asked of it: who can do an action on a resource (static analysis, with
//! "allowed if `<conditions>`" answers), why one principal can or cannot (explain), and which
//! databases an identifier names.
//!
//! What the snapshot does not hold is said, never assumed away: without organization data the
//! answers assume no SCP or RCP restricts the account (see [`crate::org`]), KMS grants are
//! evaluated when their details were collected and reported as unevaluated otherwise, and a
//! policy that is missing or unreadable makes the answers of the principals it is attached to
//! incomplete.

use std::collections::BTreeMap;

use rdsguard_model::{AccountSnapshot, IamData, KmsGrant, KmsKey, Snapshot, Tags};
use serde::Serialize;

use crate::compile::{CompiledPolicy, PolicyKind, TextCompiler};
use crate::context::{
    ContextLayer, ContextValue, PrincipalKind, RequestAction, RequestContext, RequestPrincipal,
    RequestResource,
};
use crate::error::RequestError;
use crate::eval::{
    Applies, Decision, PolicySet, Request, StatementTrace, StaticDecision, evaluate_static,
    evaluate_traced,
};
use crate::fasthash::FastMap;
use crate::org::OrgPolicies;
use crate::policy::{Effect, PolicyDocument, PrincipalValue, Statement};
use crate::sar::{self, ValidatedRequest};

/// How a policy reaches a principal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Attachment {
    Inline,
    Managed,
    GroupInline { group: String },
    GroupManaged { group: String },
    Boundary,
    ResourcePolicy,
}

#[derive(Debug, Clone)]
pub(crate) struct Attached {
    pub(crate) policy: usize,
    pub(crate) via: Attachment,
}

/// A user or role of the account.
#[derive(Debug, Clone)]
pub struct ModelPrincipal {
    pub arn: String,
    pub name: String,
    pub kind: PrincipalKind,
    pub unique_id: Option<String>,
    pub tags: Tags,
    pub groups: Vec<String>,
    pub(crate) identity: Vec<Attached>,
    pub(crate) boundary: Option<usize>,
    /// Why this principal's answers may be incomplete (missing or unreadable policies).
    pub incomplete: Vec<String>,
    pub(crate) request_principal: RequestPrincipal,
    /// Context keys every request of this principal carries, computed once.
    pub(crate) facts: ContextLayer,
}

/// A policy that could not be used, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyIssue {
    pub policy: String,
    pub problem: String,
}

/// One principal per ARN. An ARN listed twice (IAM data that AWS never returns, a snapshot
/// edited or merged by hand) keeps its first entry, marked incomplete: which entry holds is
/// unknown, so no answer about it is complete.
/// Also returns each ARN's position.
fn first_of_each_arn(
    principals: Vec<ModelPrincipal>,
) -> (Vec<ModelPrincipal>, FastMap<String, usize>) {
    let mut at: FastMap<String, usize> = FastMap::default();
    let mut kept: Vec<ModelPrincipal> = Vec::with_capacity(principals.len());
    for p in principals {
        match at.get(&p.arn) {
            Some(&first) => {
                if let Some(first) = kept.get_mut(first) {
                    let note = format!(
                        "{} is listed more than once in the snapshot's IAM data: only its first \
                         entry is evaluated",
                        p.arn
                    );
                    if !first.incomplete.contains(&note) {
                        first.incomplete.push(note);
                    }
                }
            }
            None => {
                at.insert(p.arn.clone(), kept.len());
                kept.push(p);
            }
        }
    }
    (kept, at)
}

/// IAM of one account, compiled.
#[derive(Debug, Clone)]
pub struct AccountModel {
    pub account_id: String,
    pub partition: String,
    pub(crate) policies: Vec<CompiledPolicy>,
    /// The policies that may have a statement for each service (by position in `policies`,
    /// ascending), and those that may have one for any service: what an action's policies
    /// are chosen among, instead of every policy.
    policies_by_service: FastMap<String, Vec<usize>>,
    any_service_policies: Vec<usize>,
    pub principals: Vec<ModelPrincipal>,
    /// Each principal's position in `principals`, by ARN (one principal per ARN).
    pub(crate) principal_by_arn: FastMap<String, usize>,
    pub issues: Vec<PolicyIssue>,
    /// The SCPs and RCPs that apply to the account, with caveats.
    pub org: OrgPolicies,
}

impl AccountModel {
    /// Compile the IAM data of an account, without organization policies (answers say that
    /// SCPs and RCPs were not considered). `None` when IAM was not collected.
    pub fn build(account: &AccountSnapshot) -> Option<AccountModel> {
        let iam = account.iam.as_ref()?;
        let mut model = AccountModel::from_iam(&account.account_id, &account.partition, iam);
        model.org = OrgPolicies::for_account(None, account);
        Some(model)
    }

    /// Compile the IAM data of an account of `snapshot`, with the SCPs and RCPs of the
    /// snapshot's organization on the account's path. `None` when IAM was not collected.
    pub fn build_in(snapshot: &Snapshot, account: &AccountSnapshot) -> Option<AccountModel> {
        let mut model = AccountModel::build(account)?;
        model.org = OrgPolicies::for_account(snapshot.organization.as_ref(), account);
        if model.org.org_id.is_some() {
            for i in 0..model.principals.len() {
                let facts = facts_layer(&model.principals[i], &model.account_id, &model.org);
                model.principals[i].facts = facts;
            }
        }
        Some(model)
    }

    pub fn from_iam(account_id: &str, partition: &str, iam: &IamData) -> AccountModel {
        let mut policies = Vec::new();
        let mut issues = Vec::new();
        let mut managed: FastMap<&str, Result<usize, String>> = FastMap::default();
        // Roles made from one template repeat their inline policies: compiled once per text.
        let mut texts = TextCompiler::new(PolicyKind::Identity);
        for mp in &iam.policies {
            let r = match &mp.document {
                None => Err(format!(
                    "managed policy {} has no document in the snapshot",
                    mp.arn
                )),
                Some(doc) => match texts.compile(&mp.arn, doc) {
                    Ok(p) => {
                        policies.push(p);
                        Ok(policies.len() - 1)
                    }
                    Err(e) => {
                        issues.push(PolicyIssue {
                            policy: mp.arn.clone(),
                            problem: e.to_string(),
                        });
                        Err(format!("managed policy {} is unreadable: {e}", mp.arn))
                    }
                },
            };
            managed.insert(mp.arn.as_str(), r);
        }
        let mut compile_inline = |owner: &str,
                                  name: &str,
                                  doc: &str,
                                  policies: &mut Vec<CompiledPolicy>,
                                  issues: &mut Vec<PolicyIssue>| {
            let label = format!("{owner} inline {name}");
            match texts.compile(&label, doc) {
                Ok(p) => {
                    policies.push(p);
                    Ok(policies.len() - 1)
                }
                Err(e) => {
                    issues.push(PolicyIssue {
                        policy: label.clone(),
                        problem: e.to_string(),
                    });
                    Err(format!("{label} is unreadable: {e}"))
                }
            }
        };
        let lookup_managed = |arn: &str| -> Result<usize, String> {
            match managed.get(arn) {
                Some(r) => r.clone(),
                None => Err(format!(
                    "managed policy {arn} is attached but not in the snapshot"
                )),
            }
        };
        // Groups: their attachments, shared by their members.
        let mut group_attached: FastMap<&str, (Vec<Attached>, Vec<String>)> = FastMap::default();
        for g in &iam.groups {
            let mut att = Vec::new();
            let mut missing = Vec::new();
            for ip in &g.inline_policies {
                match compile_inline(&g.arn, &ip.name, &ip.document, &mut policies, &mut issues) {
                    Ok(i) => att.push(Attached {
                        policy: i,
                        via: Attachment::GroupInline {
                            group: g.name.clone(),
                        },
                    }),
                    Err(e) => missing.push(e),
                }
            }
            for arn in &g.attached_policy_arns {
                match lookup_managed(arn) {
                    Ok(i) => att.push(Attached {
                        policy: i,
                        via: Attachment::GroupManaged {
                            group: g.name.clone(),
                        },
                    }),
                    Err(e) => missing.push(e),
                }
            }
            group_attached.insert(g.name.as_str(), (att, missing));
        }
        let mut principals = Vec::new();
        for u in &iam.users {
            let mut identity = Vec::new();
            let mut incomplete = Vec::new();
            for ip in &u.inline_policies {
                match compile_inline(&u.arn, &ip.name, &ip.document, &mut policies, &mut issues) {
                    Ok(i) => identity.push(Attached {
                        policy: i,
                        via: Attachment::Inline,
                    }),
                    Err(e) => incomplete.push(e),
                }
            }
            for arn in &u.attached_policy_arns {
                match lookup_managed(arn) {
                    Ok(i) => identity.push(Attached {
                        policy: i,
                        via: Attachment::Managed,
                    }),
                    Err(e) => incomplete.push(e),
                }
            }
            for g in &u.groups {
                match group_attached.get(g.as_str()) {
                    Some((att, missing)) => {
                        identity.extend(att.iter().cloned());
                        incomplete.extend(missing.iter().cloned());
                    }
                    None => incomplete.push(format!("group {g} is not in the snapshot")),
                }
            }
            let boundary = boundary_of(
                &u.permissions_boundary_arn,
                &lookup_managed,
                &mut incomplete,
            );
            let Ok(rp) = RequestPrincipal::parse(&u.arn) else {
                issues.push(PolicyIssue {
                    policy: u.arn.clone(),
                    problem: "not a valid IAM user ARN".into(),
                });
                continue;
            };
            let mut p = ModelPrincipal {
                arn: u.arn.clone(),
                name: u.name.clone(),
                kind: PrincipalKind::User,
                unique_id: u.user_id.clone(),
                tags: u.tags.clone(),
                groups: u.groups.clone(),
                identity,
                boundary,
                incomplete,
                request_principal: rp,
                facts: ContextLayer::default(),
            };
            p.facts = facts_layer(&p, account_id, &OrgPolicies::default());
            principals.push(p);
        }
        for r in &iam.roles {
            let mut identity = Vec::new();
            let mut incomplete = Vec::new();
            for ip in &r.inline_policies {
                match compile_inline(&r.arn, &ip.name, &ip.document, &mut policies, &mut issues) {
                    Ok(i) => identity.push(Attached {
                        policy: i,
                        via: Attachment::Inline,
                    }),
                    Err(e) => incomplete.push(e),
                }
            }
            for arn in &r.attached_policy_arns {
                match lookup_managed(arn) {
                    Ok(i) => identity.push(Attached {
                        policy: i,
                        via: Attachment::Managed,
                    }),
                    Err(e) => incomplete.push(e),
                }
            }
            let boundary = boundary_of(
                &r.permissions_boundary_arn,
                &lookup_managed,
                &mut incomplete,
            );
            let Ok(rp) = RequestPrincipal::parse(&r.arn) else {
                issues.push(PolicyIssue {
                    policy: r.arn.clone(),
                    problem: "not a valid IAM role ARN".into(),
                });
                continue;
            };
            let mut p = ModelPrincipal {
                arn: r.arn.clone(),
                name: r.name.clone(),
                kind: PrincipalKind::Role,
                unique_id: r.role_id.clone(),
                tags: r.tags.clone(),
                groups: Vec::new(),
                identity,
                boundary,
                incomplete,
                request_principal: rp,
                facts: ContextLayer::default(),
            };
            p.facts = facts_layer(&p, account_id, &OrgPolicies::default());
            principals.push(p);
        }
        let (principals, principal_by_arn) = first_of_each_arn(principals);
        let mut policies_by_service: FastMap<String, Vec<usize>> = FastMap::default();
        let mut any_service_policies = Vec::new();
        for (i, policy) in policies.iter().enumerate() {
            let (services, any) = policy.services();
            for service in services {
                policies_by_service
                    .entry(service.to_string())
                    .or_default()
                    .push(i);
            }
            if any {
                any_service_policies.push(i);
            }
        }
        AccountModel {
            account_id: account_id.to_string(),
            partition: partition.to_string(),
            policies,
            policies_by_service,
            any_service_policies,
            principals,
            principal_by_arn,
            issues,
            org: OrgPolicies::default(),
        }
    }

    /// The positions of the policies that may have a statement for `service` (lower-cased):
    /// every other policy has none ([`CompiledPolicy::candidates`] is empty for it).
    pub(crate) fn policies_for_service(&self, service: &str) -> impl Iterator<Item = usize> + '_ {
        let specific = self
            .policies_by_service
            .get(service)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        crate::compile::merge_sorted(specific, &self.any_service_policies)
    }

    /// The principal with this ARN; an assumed-role session ARN finds its role.
    pub fn principal(&self, arn: &str) -> Option<&ModelPrincipal> {
        if let Some(p) = self.principals.iter().find(|p| p.arn == arn) {
            return Some(p);
        }
        let rp = RequestPrincipal::parse(arn).ok()?;
        if rp.kind == PrincipalKind::AssumedRole {
            let role = rp.base_name.as_deref()?;
            return self
                .principals
                .iter()
                .find(|p| p.kind == PrincipalKind::Role && p.name == role);
        }
        None
    }

    fn policy_set<'a>(
        &'a self,
        p: &ModelPrincipal,
        resource: Option<&'a CompiledPolicy>,
    ) -> PolicySet<'a> {
        PolicySet {
            identity: p
                .identity
                .iter()
                .map(|a| &self.policies[a.policy])
                .collect(),
            permission_boundaries: p
                .boundary
                .map(|b| vec![&self.policies[b]])
                .unwrap_or_default(),
            session: None,
            scp_levels: self.org.scp_refs(&p.arn),
            rcp_levels: self.org.rcp_refs(),
            resource,
        }
    }

    pub(crate) fn attachment_of(&self, p: &ModelPrincipal, policy_name: &str) -> Attachment {
        if p.boundary
            .is_some_and(|b| &*self.policies[b].name == policy_name)
        {
            return Attachment::Boundary;
        }
        p.identity
            .iter()
            .find(|a| &*self.policies[a.policy].name == policy_name)
            .map(|a| a.via.clone())
            .unwrap_or(Attachment::ResourcePolicy)
    }

    /// The compiled identity policies (for checks that inspect policies themselves).
    pub fn policies(&self) -> &[CompiledPolicy] {
        &self.policies
    }

    /// The policies attached to a principal, with how they are attached.
    pub fn attached(&self, p: &ModelPrincipal) -> Vec<(&CompiledPolicy, Attachment)> {
        p.identity
            .iter()
            .map(|a| (&self.policies[a.policy], a.via.clone()))
            .collect()
    }
}

fn boundary_of(
    arn: &Option<String>,
    lookup: &dyn Fn(&str) -> Result<usize, String>,
    incomplete: &mut Vec<String>,
) -> Option<usize> {
    let arn = arn.as_deref()?;
    match lookup(arn) {
        Ok(i) => Some(i),
        Err(e) => {
            incomplete.push(format!("permissions boundary: {e}"));
            None
        }
    }
}

/// Facts about the resource of a query, found in the snapshot.
#[derive(Clone, Copy)]
pub(crate) struct ResourceFacts<'s> {
    pub(crate) tags: Option<&'s Tags>,
    /// RDS tag key prefix for this resource type (`rds:db-tag/`).
    pub(crate) rds_tag_prefix: Option<&'static str>,
    pub(crate) key: Option<&'s KmsKey>,
}

pub(crate) fn resource_facts<'s>(account: &'s AccountSnapshot, arn: &str) -> ResourceFacts<'s> {
    for region in &account.regions {
        if let Some(d) = region
            .rds
            .db_instances
            .iter()
            .find(|d| d.db_instance_arn == arn)
        {
            return ResourceFacts {
                tags: Some(&d.tags),
                rds_tag_prefix: Some("rds:db-tag/"),
                key: None,
            };
        }
        if let Some(c) = region
            .rds
            .db_clusters
            .iter()
            .find(|c| c.db_cluster_arn == arn)
        {
            return ResourceFacts {
                tags: Some(&c.tags),
                rds_tag_prefix: Some("rds:cluster-tag/"),
                key: None,
            };
        }
        if let Some(s) = region.rds.db_snapshots.iter().find(|s| s.arn == arn) {
            return ResourceFacts {
                tags: Some(&s.tags),
                rds_tag_prefix: Some("rds:snapshot-tag/"),
                key: None,
            };
        }
        if let Some(s) = region
            .rds
            .db_cluster_snapshots
            .iter()
            .find(|s| s.arn == arn)
        {
            return ResourceFacts {
                tags: Some(&s.tags),
                rds_tag_prefix: Some("rds:cluster-snapshot-tag/"),
                key: None,
            };
        }
        if let Some(k) = region.kms.keys.iter().find(|k| k.arn == arn) {
            return ResourceFacts {
                tags: Some(&k.tags),
                rds_tag_prefix: None,
                key: Some(k),
            };
        }
    }
    ResourceFacts {
        tags: None,
        rds_tag_prefix: None,
        key: None,
    }
}

/// Principal facts every request of this principal carries (IAM User Guide, *AWS global
/// condition context keys*: `aws:PrincipalArn`, `aws:PrincipalAccount`, `aws:PrincipalType`,
/// `aws:username` for IAM users only, `aws:userid`, `aws:PrincipalTag/*`).
fn principal_facts(p: &ModelPrincipal, account: &str, ctx: &mut RequestContext) {
    ctx.insert_single("aws:PrincipalArn", p.arn.clone());
    ctx.insert_single("aws:PrincipalAccount", account);
    ctx.insert_single("aws:PrincipalIsAWSService", "false");
    match p.kind {
        PrincipalKind::User => {
            ctx.insert_single("aws:PrincipalType", "User");
            ctx.insert_single("aws:username", p.name.clone());
            if let Some(id) = &p.unique_id {
                ctx.insert_single("aws:userid", id.clone());
            }
        }
        _ => {
            ctx.insert_single("aws:PrincipalType", "AssumedRole");
        }
    }
    for (k, v) in &p.tags {
        ctx.insert_single(&format!("aws:PrincipalTag/{k}"), v.clone());
    }
}

fn facts_layer(p: &ModelPrincipal, account: &str, org: &OrgPolicies) -> ContextLayer {
    let mut ctx = RequestContext::new();
    principal_facts(p, account, &mut ctx);
    org.insert_context(true, &mut ctx);
    ctx.into_layer()
}

/// What a static request about a resource knows for a principal of `kind`: keys left unset
/// are unknown, except `aws:username` for a role (absent) and the principal's tags, and the
/// resource's tags when they are known (a tag not set is absent); only the keys `validated`
/// allows apply. The same for every resource of one type and action whose tags are known
/// (or not).
pub(crate) fn static_knowledge(
    kind: PrincipalKind,
    facts: &ResourceFacts<'_>,
    validated: &ValidatedRequest,
) -> RequestContext {
    // aws:username exists only for IAM users.
    let absent: Vec<&str> = if kind == PrincipalKind::User {
        Vec::new()
    } else {
        vec!["aws:username"]
    };
    let mut prefixes = vec!["aws:principaltag/".to_string()];
    if facts.tags.is_some() {
        prefixes.push("aws:resourcetag/".into());
        if let Some(pre) = facts.rds_tag_prefix {
            prefixes.push(pre.into());
        }
    }
    let mut knowledge = RequestContext::partial(absent, prefixes);
    knowledge.restrict_to_applicable(
        validated.allowed_keys.clone(),
        validated.allowed_prefixes.clone(),
    );
    knowledge
}

/// KMS's key for the account of the principal making the request (set for KMS actions only,
/// where the service reference lists it).
const KMS_CALLER_ACCOUNT: &str = "kms:CallerAccount";

/// What the request knows from the resource: its account, the region the request goes to
/// (a regional resource is acted on through its region's endpoint, so `aws:RequestedRegion`
/// is the region of its ARN; ARNs without one, such as IAM's, leave it unknown) and its tags.
fn resource_facts_into(
    facts: &ResourceFacts<'_>,
    resource_account: Option<&str>,
    resource_region: Option<&str>,
    ctx: &mut RequestContext,
) {
    if let Some(a) = resource_account {
        ctx.insert_single("aws:ResourceAccount", a);
    }
    if let Some(r) = resource_region.filter(|r| !r.is_empty()) {
        ctx.insert_single("aws:RequestedRegion", r);
    }
    if let Some(tags) = facts.tags {
        for (k, v) in tags {
            ctx.insert_single(&["aws:ResourceTag/", k].concat(), v.clone());
            if let Some(prefix) = facts.rds_tag_prefix {
                ctx.insert_single(&[prefix, k].concat(), v.clone());
            }
        }
    }
}

/// A statement that grants (or conditionally grants) the action.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Grant {
    pub policy: std::sync::Arc<str>,
    pub policy_kind: PolicyKind,
    pub attachment: Attachment,
    pub statement: std::sync::Arc<str>,
    pub effect: Effect,
    /// `false` when the statement applies only if its conditions hold.
    pub unconditional: bool,
}

/// One principal that can (or can under conditions) perform the action.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PrincipalAnswer {
    pub principal: String,
    pub name: String,
    pub kind: PrincipalKind,
    /// Groups the user belongs to (grants through a group name it in `attachment`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    pub decision: StaticDecision,
    /// The allowing statements that matter (and the denies that might apply).
    pub grants: Vec<Grant>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub incomplete: Vec<String>,
}

impl PrincipalAnswer {
    /// The same answer for the principal `id`, which gets it for the same reasons (no policy
    /// of its own plays a part: its grants come from resource policies only).
    pub(crate) fn with_identity(&self, id: &PrincipalIdentity) -> PrincipalAnswer {
        PrincipalAnswer {
            principal: id.principal.clone(),
            name: id.name.clone(),
            kind: id.kind,
            groups: id.groups.clone(),
            decision: self.decision.clone(),
            grants: self.grants.clone(),
            incomplete: id.incomplete.clone(),
        }
    }
}

/// What a [`PrincipalAnswer`] says about who it is about: what principals sharing another's
/// answer take from their own entry.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PrincipalIdentity {
    pub(crate) principal: String,
    pub(crate) name: String,
    pub(crate) kind: PrincipalKind,
    pub(crate) groups: Vec<String>,
    pub(crate) incomplete: Vec<String>,
}

impl PrincipalIdentity {
    pub(crate) fn of(p: &ModelPrincipal) -> PrincipalIdentity {
        PrincipalIdentity {
            principal: p.arn.clone(),
            name: p.name.clone(),
            kind: p.kind,
            groups: p.groups.clone(),
            incomplete: p.incomplete.clone(),
        }
    }
}

/// A resource-policy statement granting principals outside the account's IAM users and roles
/// (another account, a service, everyone).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExternalGrant {
    pub principal: String,
    pub statement: String,
    pub decision: StaticDecision,
}

/// A principal not allowed by the policies that could be read, but with policies missing
/// from the snapshot: its answer is unknown.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Undetermined {
    pub principal: String,
    pub missing: Vec<String>,
}

/// The answer for one action.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ActionAnswer {
    pub action: String,
    pub principals: Vec<PrincipalAnswer>,
    pub external: Vec<ExternalGrant>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub undetermined: Vec<Undetermined>,
}

/// `who_can`'s answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WhoCanAnswer {
    pub account_id: String,
    pub resource: String,
    /// Resource type per the Service Authorization Reference (`db`, `cluster`, `key`...).
    pub resource_type: Option<String>,
    pub actions: Vec<ActionAnswer>,
    pub principals_evaluated: usize,
    /// Caveats: data the snapshot lacks, and what the answer assumes about it.
    pub notes: Vec<String>,
}

impl WhoCanAnswer {
    /// Principals allowed (unconditionally or under conditions) for any action.
    pub fn allowed_principals(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self
            .actions
            .iter()
            .flat_map(|a| a.principals.iter().map(|p| p.principal.as_str()))
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    }
}

/// Expand an action that may contain wildcards against the actions applying to a resource.
fn expand_actions(action: &str, resource: &str) -> Result<Vec<String>, RequestError> {
    let reference = sar::reference()?;
    if !action.contains(['*', '?']) {
        reference.validate(action, resource)?;
        return Ok(vec![action.to_string()]);
    }
    let (svc, pattern) = action
        .split_once(':')
        .ok_or_else(|| RequestError::MalformedAction(action.to_string()))?;
    let service = reference.service(svc).ok_or_else(|| {
        RequestError::UnknownService(svc.to_string(), reference.service_prefixes().join(", "))
    })?;
    let glob = crate::glob::Glob::new(&pattern.to_lowercase());
    let mut out: Vec<String> = service
        .actions()
        .filter(|a| glob.matches(&a.name.to_lowercase()))
        .map(|a| a.full_name())
        .filter(|a| reference.validate(a, resource).is_ok())
        .collect();
    out.sort();
    if out.is_empty() {
        return Err(RequestError::Invalid(format!(
            "no action matching `{action}` applies to `{resource}`"
        )));
    }
    Ok(out)
}

/// Who can perform `action` (may contain `*`, e.g. `rds:Delete*`) on `resource_arn` in
/// `account_id`. Compiles the account's IAM on each call; use [`AccountModel::who_can`] to
/// ask many questions of one model.
pub fn who_can(
    snapshot: &Snapshot,
    account_id: &str,
    action: &str,
    resource_arn: &str,
) -> Result<WhoCanAnswer, RequestError> {
    let account = snapshot
        .accounts
        .iter()
        .find(|a| a.account_id == account_id)
        .ok_or_else(|| {
            RequestError::Invalid(format!("account {account_id} is not in the snapshot"))
        })?;
    let model = AccountModel::build_in(snapshot, account).ok_or_else(|| {
        RequestError::Invalid(format!(
            "IAM data of account {account_id} was not collected; who-can cannot be answered"
        ))
    })?;
    model.who_can(account, action, resource_arn)
}

impl AccountModel {
    /// Who can perform `action` on `resource_arn`: every user and role of the account whose
    /// request would be allowed, unconditionally or under residual conditions, plus
    /// resource-policy grants to other principals.
    pub fn who_can(
        &self,
        account: &AccountSnapshot,
        action: &str,
        resource_arn: &str,
    ) -> Result<WhoCanAnswer, RequestError> {
        self.who_can_with_facts(resource_facts(account, resource_arn), action, resource_arn)
    }

    /// [`AccountModel::who_can`] with the resource's facts already looked up.
    pub(crate) fn who_can_with_facts(
        &self,
        facts: ResourceFacts<'_>,
        action: &str,
        resource_arn: &str,
    ) -> Result<WhoCanAnswer, RequestError> {
        let actions = expand_actions(action, resource_arn)?;
        let resource = RequestResource::parse(resource_arn, None)?;
        let mut notes = self.org.notes.clone();
        let key_policy = key_policy_of(&facts, resource_arn)?;
        notes.extend(key_grant_note(&facts));
        let mut resource_type = None;
        let mut answers = Vec::new();
        for action in &actions {
            let validated = sar::reference()?.validate(action, resource_arn)?;
            resource_type = validated.resource_type.map(|r| r.key.clone());
            let req_action = RequestAction::parse(action)?;
            let mut principals = Vec::new();
            let mut undetermined = Vec::new();
            // Policies with no statement for this action contribute nothing: skip them for
            // every principal (boundaries are kept whole, an empty one means "no boundary").
            let relevant: Vec<bool> = self
                .policies
                .iter()
                .map(|p| {
                    p.candidates(&req_action.service)
                        .any(|st| st.action_matches(&req_action))
                })
                .collect();
            let user_base = self.static_base(
                PrincipalKind::User,
                &facts,
                resource.account.as_deref(),
                resource.arn_lower.as_ref().map(|a| a.region()),
                &validated,
            );
            let role_base = self.static_base(
                PrincipalKind::Role,
                &facts,
                resource.account.as_deref(),
                resource.arn_lower.as_ref().map(|a| a.region()),
                &validated,
            );
            for p in &self.principals {
                let base = if p.kind == PrincipalKind::User {
                    &user_base
                } else {
                    &role_base
                };
                let ctx = base.with_layers(vec![p.facts.clone()]);
                let mut set = self.policy_set(p, key_policy.as_ref());
                set.identity = p
                    .identity
                    .iter()
                    .filter(|a| relevant[a.policy])
                    .map(|a| &self.policies[a.policy])
                    .collect();
                let req = Request {
                    principal: &p.request_principal,
                    action: &req_action,
                    resource: &resource,
                    context: &ctx,
                };
                let decision = evaluate_static(&set, &req, None);
                if matches!(decision, StaticDecision::Denied { .. }) {
                    if !p.incomplete.is_empty() {
                        undetermined.push(Undetermined {
                            principal: p.arn.clone(),
                            missing: p.incomplete.clone(),
                        });
                    }
                    continue;
                }
                // Allowed or conditional: evaluate again, recording the statements.
                let mut traces = Vec::new();
                let _ = evaluate_static(&set, &req, Some(&mut traces));
                principals.push(PrincipalAnswer {
                    principal: p.arn.clone(),
                    name: p.name.clone(),
                    kind: p.kind,
                    groups: p.groups.clone(),
                    decision,
                    grants: self.grants_from(p, &traces),
                    incomplete: p.incomplete.clone(),
                });
            }
            let external = key_policy
                .as_ref()
                .map(|kp| {
                    external_grants(
                        kp,
                        &SingleStatements::new(kp),
                        &self.org.rcp_refs(),
                        &self.account_id,
                        &req_action,
                        &resource,
                        &validated,
                    )
                })
                .unwrap_or_default();
            answers.push(ActionAnswer {
                action: action.clone(),
                principals,
                external,
                undetermined,
            });
        }
        if !self.issues.is_empty() {
            notes.push(format!(
                "{} polic(ies) could not be read; principals they attach to are marked incomplete",
                self.issues.len()
            ));
        }
        Ok(WhoCanAnswer {
            account_id: self.account_id.clone(),
            resource: resource_arn.to_string(),
            resource_type,
            actions: answers,
            principals_evaluated: self.principals.len(),
            notes,
        })
    }

    /// The partial context shared by every principal of one kind for one query: what is
    /// known about the resource, which keys can appear at all, which are known absent.
    pub(crate) fn static_base(
        &self,
        kind: PrincipalKind,
        facts: &ResourceFacts<'_>,
        resource_account: Option<&str>,
        resource_region: Option<&str>,
        validated: &ValidatedRequest,
    ) -> RequestContext {
        self.static_base_from(
            &static_knowledge(kind, facts, validated),
            &self.resource_layer(facts, resource_account, resource_region),
            validated,
        )
    }

    /// What the request knows from the resource (see [`resource_facts_into`]) and, for a
    /// resource of this account, its organization: the same for every action and principal.
    pub(crate) fn resource_layer(
        &self,
        facts: &ResourceFacts<'_>,
        resource_account: Option<&str>,
        resource_region: Option<&str>,
    ) -> ContextLayer {
        let mut resource_values = RequestContext::new();
        resource_facts_into(
            facts,
            resource_account,
            resource_region,
            &mut resource_values,
        );
        if resource_account == Some(self.account_id.as_str()) {
            self.org.insert_context(false, &mut resource_values);
        }
        resource_values.into_layer()
    }

    /// [`static_base`](Self::static_base) from its parts: what is known
    /// ([`static_knowledge`]), the resource's layer ([`resource_layer`](Self::resource_layer))
    /// and, for a KMS action, the caller's account.
    pub(crate) fn static_base_from(
        &self,
        knowledge: &RequestContext,
        resource_layer: &ContextLayer,
        validated: &ValidatedRequest,
    ) -> RequestContext {
        let mut layers = Vec::with_capacity(2);
        // Every principal of the model is in its account: a KMS request's caller account.
        if validated.key_allowed(KMS_CALLER_ACCOUNT) {
            let mut caller = RequestContext::new();
            caller.insert_single(KMS_CALLER_ACCOUNT, self.account_id.clone());
            layers.push(caller.into_layer());
        }
        layers.push(resource_layer.clone());
        knowledge.with_layers(layers)
    }

    pub(crate) fn grants_from(&self, p: &ModelPrincipal, traces: &[StatementTrace]) -> Vec<Grant> {
        traces
            .iter()
            .filter(|t| t.applies != Applies::No)
            .filter(|t| {
                matches!(
                    t.policy_kind,
                    PolicyKind::Identity | PolicyKind::Resource | PolicyKind::PermissionBoundary
                ) && (t.effect == Effect::Deny || t.policy_kind != PolicyKind::PermissionBoundary)
            })
            .map(|t| Grant {
                policy: t.policy.clone(),
                policy_kind: t.policy_kind,
                attachment: self.attachment_of(p, &t.policy),
                statement: t.statement.clone(),
                effect: t.effect,
                unconditional: t.applies == Applies::Yes,
            })
            .collect()
    }
}

/// The compiled key policy when the resource is a KMS key of the snapshot; an error when it
/// cannot be read, or when the resource is a KMS key missing from the snapshot.
pub(crate) fn key_policy_of(
    facts: &ResourceFacts<'_>,
    resource_arn: &str,
) -> Result<Option<CompiledPolicy>, RequestError> {
    key_policy_of_with(facts, resource_arn, &mut compile_text)
}

/// A key policy's text compiled under `name` (what [`key_policy_of_with`] is given when no
/// compilation is kept for other keys).
fn compile_text(text: &str, name: &str) -> Result<CompiledPolicy, crate::error::ParseError> {
    CompiledPolicy::from_json(name, PolicyKind::Resource, text)
}

/// Whether `arn`'s service (its third part) is `service`, reading only up to it.
fn names_service(arn: &str, service: &str) -> bool {
    let mut colons = 0;
    let mut start = 0;
    for (i, &b) in arn.as_bytes().iter().enumerate() {
        if b == b':' {
            colons += 1;
            match colons {
                2 => start = i + 1,
                3 => return &arn[start..i] == service,
                _ => {}
            }
        }
    }
    false
}

/// [`key_policy_of`] with the key policy's text compiled by `compile` (text, policy name),
/// which may keep what it compiled: keys made from one template share their policy's text.
pub(crate) fn key_policy_of_with(
    facts: &ResourceFacts<'_>,
    resource_arn: &str,
    compile: &mut dyn FnMut(&str, &str) -> Result<CompiledPolicy, crate::error::ParseError>,
) -> Result<Option<CompiledPolicy>, RequestError> {
    let key_policy = match facts.key {
        Some(k) => Some(compile_key_policy_with(k, compile)?),
        None => None,
    };
    if facts.key.is_none() && names_service(resource_arn, "kms") {
        return Err(RequestError::Invalid(format!(
            "KMS key {resource_arn} is not in the snapshot; its key policy decides access"
        )));
    }
    Ok(key_policy)
}

/// The key's policy compiled together with its grants: each grant becomes an `Allow`
/// statement naming its grantee for its operations (Sid `KMS grant <grant id>`), with its
/// encryption-context constraints as conditions. Grants then behave as AWS evaluates them: an
/// alternative to the key policy and IAM policies that names the principal directly, and that
/// an explicit deny anywhere (IAM, key policy, SCP) still overrides.
pub(crate) fn compile_key_policy(k: &KmsKey) -> Result<CompiledPolicy, RequestError> {
    compile_key_policy_with(k, &mut compile_text)
}

/// [`compile_key_policy`] with the policy's text compiled by `compile` (text, policy name).
/// The grants' statements follow the text's, compiled under the same name and version.
fn compile_key_policy_with(
    k: &KmsKey,
    compile: &mut dyn FnMut(&str, &str) -> Result<CompiledPolicy, crate::error::ParseError>,
) -> Result<CompiledPolicy, RequestError> {
    let Some(doc) = &k.policy else {
        return Err(RequestError::Invalid(format!(
            "the key policy of {} was not collected; who-can cannot be answered",
            k.arn
        )));
    };
    let name = format!("key policy of {}", k.arn);
    let unreadable = |e: &dyn std::fmt::Display| {
        RequestError::Invalid(format!("the key policy of {} is unreadable: {e}", k.arn))
    };
    let text = compile(doc, &name).map_err(|e| unreadable(&e))?;
    let grants = k.grants.as_deref().unwrap_or_default();
    // Built directly when the JSON form would parse (always, for grants KMS reports): a key
    // may have thousands of grants, and printing then parsing them cost more than the rest.
    let statements: Vec<Statement> = if grants.iter().all(grant_parses) {
        grants
            .iter()
            .filter_map(grant_statement_direct)
            .enumerate()
            .map(|(index, st)| Statement { index, ..st })
            .collect()
    } else {
        let grant_statements: Vec<serde_json::Value> =
            grants.iter().filter_map(grant_statement).collect();
        if grant_statements.is_empty() {
            Vec::new()
        } else {
            let grants =
                serde_json::json!({"Version": "2012-10-17", "Statement": grant_statements});
            PolicyDocument::from_value(&grants)
                .map_err(|e| unreadable(&e.within(&format!("the grants of {}", k.arn))))?
                .statements
        }
    };
    if statements.is_empty() {
        return Ok(text);
    }
    // Under the text's version, as when they were statements of the text.
    let grants = PolicyDocument {
        version: text.version,
        id: None,
        statements,
    };
    let grants = CompiledPolicy::compile(&name, PolicyKind::Resource, grants)
        .map_err(|e| unreadable(&e.within(&name)))?;
    Ok(text.followed_by(&grants))
}

/// Whether [`grant_statement`]'s JSON form of `g` parses, so that
/// [`grant_statement_direct`] gives the same statement: its operations are action names, and
/// an exact encryption context names at least one key.
fn grant_parses(g: &KmsGrant) -> bool {
    g.operations
        .iter()
        .all(|o| !o.is_empty() && !o.contains(':') && !o.chars().any(char::is_whitespace))
        && g.encryption_context_equals
            .as_ref()
            .is_none_or(|pairs| !pairs.is_empty())
}

/// [`grant_statement`] as the statement its JSON parses to (with index 0), for a grant
/// [`grant_parses`] accepts: the same principal, actions and conditions, in the order the
/// parser reads them (operators, then keys, in sorted order).
fn grant_statement_direct(g: &KmsGrant) -> Option<Statement> {
    use crate::condition::Operator;
    use crate::policy::{ConditionEntry, PrincipalBlock, ValueBlock};
    let grantee = g.grantee_principal.as_deref()?;
    if g.operations.is_empty() {
        return None;
    }
    let principal = if grantee.starts_with("arn:") || grantee.len() == 12 {
        PrincipalValue::Aws(grantee.to_string())
    } else {
        PrincipalValue::Service(grantee.to_string())
    };
    let condition = |operator: &str, key: String, values: Vec<String>| {
        Operator::parse(operator).map(|op| ConditionEntry {
            operator: op,
            operator_text: operator.to_string(),
            key,
            values,
        })
    };
    let mut conditions = Vec::new();
    if let Some(pairs) = &g.encryption_context_equals {
        conditions.push(condition(
            "ForAllValues:StringEquals",
            "kms:EncryptionContextKeys".to_string(),
            pairs.keys().cloned().collect(),
        )?);
    }
    // One value per key: the exact context's when both name it.
    let mut string_equals: BTreeMap<String, &str> = BTreeMap::new();
    for pairs in [&g.encryption_context_subset, &g.encryption_context_equals]
        .into_iter()
        .flatten()
    {
        for (k, v) in pairs {
            string_equals.insert(["kms:EncryptionContext:", k].concat(), v);
        }
    }
    for (key, value) in string_equals {
        conditions.push(condition("StringEquals", key, vec![value.to_string()])?);
    }
    Some(Statement {
        index: 0,
        // Concatenated, not formatted (`format!` pads each argument): thousands of grants.
        sid: Some(["KMS grant ", &g.grant_id].concat()),
        effect: Effect::Allow,
        principal: Some(PrincipalBlock {
            negated: false,
            principals: vec![principal],
        }),
        action: ValueBlock {
            negated: false,
            values: g.operations.iter().map(|o| ["kms:", o].concat()).collect(),
        },
        resource: Some(ValueBlock {
            negated: false,
            values: vec!["*".to_string()],
        }),
        conditions,
    })
}

/// A grant as a key-policy statement; `None` for a grant without grantee or operations.
fn grant_statement(g: &KmsGrant) -> Option<serde_json::Value> {
    use serde_json::{Map, Value, json};
    let grantee = g.grantee_principal.as_deref()?;
    if g.operations.is_empty() {
        return None;
    }
    let principal = if grantee.starts_with("arn:") || grantee.len() == 12 {
        json!({ "AWS": grantee })
    } else {
        json!({ "Service": grantee })
    };
    let actions: Vec<String> = g.operations.iter().map(|o| format!("kms:{o}")).collect();
    let mut string_equals = Map::new();
    for pairs in [&g.encryption_context_subset, &g.encryption_context_equals]
        .into_iter()
        .flatten()
    {
        for (k, v) in pairs {
            string_equals.insert(format!("kms:EncryptionContext:{k}"), Value::from(v.clone()));
        }
    }
    let mut condition = Map::new();
    if !string_equals.is_empty() {
        condition.insert("StringEquals".into(), Value::Object(string_equals));
    }
    if let Some(pairs) = &g.encryption_context_equals {
        // Exactly these keys: no other key may be in the request's encryption context.
        let keys: Vec<Value> = pairs.keys().map(|k| Value::from(k.clone())).collect();
        condition.insert(
            "ForAllValues:StringEquals".into(),
            json!({ "kms:EncryptionContextKeys": keys }),
        );
    }
    let mut st = json!({
        "Sid": format!("KMS grant {}", g.grant_id),
        "Effect": "Allow",
        "Principal": principal,
        "Action": actions,
        "Resource": "*",
    });
    if !condition.is_empty()
        && let Value::Object(o) = &mut st
    {
        o.insert("Condition".into(), Value::Object(condition));
    }
    Some(st)
}

/// The caveat for a key whose grants exist but were not collected.
pub(crate) fn key_grant_note(facts: &ResourceFacts<'_>) -> Option<String> {
    let k = facts.key?;
    let count = k.grants_count.unwrap_or(0);
    (k.grants.is_none() && count > 0).then(|| {
        format!(
            "{count} KMS grant(s) on the key are not evaluated (grant details were not collected)"
        )
    })
}

/// A resource policy's statements compiled one by one, on demand: [`external_grants`]
/// evaluates each statement alone, for every action asked about the resource.
pub(crate) struct SingleStatements(Vec<std::cell::OnceCell<Option<CompiledPolicy>>>);

impl SingleStatements {
    pub(crate) fn new(policy: &CompiledPolicy) -> SingleStatements {
        SingleStatements(
            (0..policy.statements.len())
                .map(|_| std::cell::OnceCell::new())
                .collect(),
        )
    }

    /// Statement `index` of `policy` (the policy this was made for) alone.
    fn get(&self, policy: &CompiledPolicy, index: usize) -> Option<&CompiledPolicy> {
        self.0
            .get(index)?
            .get_or_init(|| policy.statement_alone(index))
            .as_ref()
    }
}

/// Allow statements of a key policy that name principals other than the account's own IAM
/// users and roles: other accounts, services, `*`. `singles` holds `kp`'s statements alone.
/// The principal a key-policy statement's principal value stands for, and the context of its
/// request (what is known about it), for [`external_grants`].
fn representative_request(
    pv: &PrincipalValue,
    validated: &ValidatedRequest,
    resource: &RequestResource,
) -> Option<(RequestPrincipal, RequestContext)> {
    let rp = match pv {
        PrincipalValue::Service(s) => RequestPrincipal::parse(s).ok(),
        PrincipalValue::Aws(a) if a.len() == 12 => {
            RequestPrincipal::parse(&format!("arn:aws:iam::{a}:root")).ok()
        }
        PrincipalValue::Aws(a) => RequestPrincipal::parse(a).ok(),
        _ => RequestPrincipal::parse("arn:aws:iam::000000000000:user/anyone").ok(),
    }?;
    let mut ctx = RequestContext::partial(Vec::<String>::new(), Vec::<String>::new());
    ctx.restrict_to_applicable(
        validated.allowed_keys.clone(),
        validated.allowed_prefixes.clone(),
    );
    if matches!(pv, PrincipalValue::Wildcard) {
        // Everyone: nothing is known about the principal.
    } else if let Some(a) = &rp.account {
        ctx.insert_single("aws:PrincipalAccount", a.clone());
        if matches!(pv, PrincipalValue::Aws(_)) && validated.key_allowed(KMS_CALLER_ACCOUNT) {
            ctx.insert_single(KMS_CALLER_ACCOUNT, a.clone());
        }
    }
    // The request goes to the resource's region, whoever makes it.
    if let Some(region) = resource
        .arn_lower
        .as_ref()
        .map(|a| a.region())
        .filter(|r| !r.is_empty())
    {
        ctx.insert_single("aws:RequestedRegion", region);
    }
    Some((rp, ctx))
}

pub(crate) fn external_grants(
    kp: &CompiledPolicy,
    singles: &SingleStatements,
    rcp_levels: &[Vec<&CompiledPolicy>],
    account_id: &str,
    action: &RequestAction,
    resource: &RequestResource,
    validated: &ValidatedRequest,
) -> Vec<ExternalGrant> {
    let mut out = Vec::new();
    let mut representatives: Vec<(&PrincipalValue, Option<(RequestPrincipal, RequestContext)>)> =
        Vec::new();
    for index in kp.candidate_indices(&action.service) {
        let index = index as usize;
        let Some(st) = kp.statements.get(index) else {
            continue;
        };
        // A statement for other actions grants this one to nobody: its evaluation would be a
        // denial (a key's grants are statements too, most of them for other operations).
        if st.effect != Effect::Allow || st.is_not_principal() || !st.action_matches(action) {
            continue;
        }
        for pv in st.source.principal.iter().flat_map(|p| p.principals.iter()) {
            // The principal as the answer names it (written only for a grant kept below).
            let principal_text: &str = match pv {
                PrincipalValue::Wildcard => "*",
                PrincipalValue::Aws(a) => {
                    let acct = if a.len() == 12 {
                        a.as_str()
                    } else {
                        rdsguard_model::arn_part(a, 4).unwrap_or_default()
                    };
                    if acct == account_id {
                        continue;
                    }
                    a
                }
                PrincipalValue::Service(s) => s,
                PrincipalValue::Federated(s) | PrincipalValue::CanonicalUser(s) => s,
            };
            // Evaluate the key policy alone for a representative principal: conditions on the
            // principal stay symbolic. Made once per principal (a key's grants all name the
            // same service).
            let known = representatives.iter().position(|(p, _)| *p == pv);
            let position = match known {
                Some(i) => i,
                None => {
                    representatives.push((pv, representative_request(pv, validated, resource)));
                    representatives.len() - 1
                }
            };
            let Some((rp, ctx)) = &representatives[position].1 else {
                continue;
            };
            let Some(single) = singles.get(kp, index) else {
                continue;
            };
            // The other side (another account's IAM, or nobody's for `*`) is outside this
            // account: assume it allows, so the answer is what the key policy grants.
            let their_side = allow_all_identity();
            // RCPs restrict every principal's requests to the account's resources.
            let set = PolicySet {
                identity: their_side.into_iter().collect(),
                resource: Some(single),
                rcp_levels: rcp_levels.to_vec(),
                ..PolicySet::default()
            };
            let req = Request {
                principal: rp,
                action,
                resource,
                context: ctx,
            };
            let decision = evaluate_static(&set, &req, None);
            if matches!(decision, StaticDecision::Denied { .. }) {
                continue;
            }
            out.push(ExternalGrant {
                principal: principal_text.to_string(),
                statement: st.label(),
                decision,
            });
        }
    }
    out
}

/// An identity policy allowing everything: stands for the unknown identity side of a
/// principal outside the account.
pub fn allow_all_identity() -> Option<&'static CompiledPolicy> {
    static ALLOW_ALL: std::sync::LazyLock<Option<CompiledPolicy>> = std::sync::LazyLock::new(
        || {
            CompiledPolicy::from_json(
                "(their own identity policies, assumed to allow)",
                PolicyKind::Identity,
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
            )
            .ok()
        },
    );
    ALLOW_ALL.as_ref()
}

/// `explain`'s answer: the decision and every statement that was considered.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Explanation {
    pub principal: String,
    pub action: String,
    pub resource: String,
    pub decision: Decision,
    /// The statements that decided: applying denies when denied explicitly, applying allows
    /// when allowed.
    pub deciding: Vec<StatementTrace>,
    /// Every statement whose action matched.
    pub statements: Vec<StatementTrace>,
    /// The request context the decision used (lower-cased keys).
    pub context: BTreeMap<String, ContextValue>,
    /// Given context keys that do not apply to this action and resource, so were ignored.
    pub ignored_context_keys: Vec<String>,
    pub notes: Vec<String>,
}

/// Explain one decision, like the IAM policy simulator. `context` holds request context
/// values (`aws:SourceIp`, `aws:MultiFactorAuthPresent`...); principal facts (ARN, account,
/// user name, tags) and resource tags come from the snapshot unless given.
pub fn explain(
    snapshot: &Snapshot,
    principal_arn: &str,
    action: &str,
    resource_arn: &str,
    context: &[(String, ContextValue)],
) -> Result<Explanation, RequestError> {
    let principal = RequestPrincipal::parse(principal_arn)?;
    let account_id = principal
        .account
        .clone()
        .ok_or_else(|| RequestError::MalformedPrincipal(principal_arn.to_string()))?;
    let account = snapshot
        .accounts
        .iter()
        .find(|a| a.account_id == account_id)
        .ok_or_else(|| {
            RequestError::Invalid(format!("account {account_id} is not in the snapshot"))
        })?;
    let model = AccountModel::build_in(snapshot, account).ok_or_else(|| {
        RequestError::Invalid(format!(
            "IAM data of account {account_id} was not collected"
        ))
    })?;
    let mp = model.principal(principal_arn).ok_or_else(|| {
        RequestError::Invalid(format!("principal {principal_arn} is not in the snapshot"))
    })?;
    let validated = sar::reference()?.validate(action, resource_arn)?;
    let (mut ctx, ignored) = validated.normalize_context(context);
    let resource_account_snapshot = RequestResource::parse(resource_arn, None)?
        .account
        .and_then(|a| snapshot.accounts.iter().find(|s| s.account_id == a));
    let facts = resource_account_snapshot
        .map(|s| resource_facts(s, resource_arn))
        .unwrap_or(ResourceFacts {
            tags: None,
            rds_tag_prefix: None,
            key: None,
        });
    let mut derived = RequestContext::new();
    principal_facts(mp, &account_id, &mut derived);
    // Kept below only where the action has the key (KMS actions).
    derived.insert_single(KMS_CALLER_ACCOUNT, account_id.clone());
    model.org.insert_context(true, &mut derived);
    if principal.kind == PrincipalKind::AssumedRole {
        derived.insert_single("aws:PrincipalArn", mp.arn.clone());
    }
    let resource = RequestResource::parse(resource_arn, None)?;
    resource_facts_into(
        &facts,
        resource.account.as_deref(),
        resource.arn_lower.as_ref().map(|a| a.region()),
        &mut derived,
    );
    if resource.account.as_deref() == Some(account_id.as_str()) {
        model.org.insert_context(false, &mut derived);
    }
    for (k, v) in derived.iter() {
        if ctx.get(k).is_none() && validated.key_allowed(k) {
            ctx.insert(k, v.clone());
        }
    }
    let mut notes = model.org.notes.clone();
    notes.extend(mp.incomplete.iter().cloned());
    let key_policy = match facts.key {
        Some(k) => Some(compile_key_policy(k)?),
        None => None,
    };
    notes.extend(key_grant_note(&facts));
    if resource_arn.contains(":kms:") && key_policy.is_none() {
        notes.push(
            "the KMS key is not in the snapshot: without its key policy no access is granted"
                .into(),
        );
    }
    let req_action = RequestAction::parse(action)?;
    let set = model.policy_set(mp, key_policy.as_ref());
    let req = Request {
        principal: &principal,
        action: &req_action,
        resource: &resource,
        context: &ctx,
    };
    let (decision, statements) = evaluate_traced(&set, &req);
    let deciding = statements
        .iter()
        .filter(|t| t.applies == Applies::Yes)
        .filter(|t| match decision {
            Decision::ExplicitlyDenied => t.effect == Effect::Deny,
            Decision::Allowed => t.effect == Effect::Allow,
            Decision::ImplicitlyDenied => false,
        })
        .cloned()
        .collect();
    if decision == Decision::ImplicitlyDenied {
        notes.push(implicit_deny_reason(&statements, key_policy.is_some()));
    }
    let statements: Vec<StatementTrace> = statements
        .into_iter()
        .filter(|t| t.action_matched)
        .collect();
    Ok(Explanation {
        principal: principal_arn.to_string(),
        action: action.to_string(),
        resource: resource_arn.to_string(),
        decision,
        deciding,
        statements,
        context: ctx
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
        ignored_context_keys: ignored,
        notes,
    })
}

fn implicit_deny_reason(traces: &[StatementTrace], key_policy: bool) -> String {
    let allows = |kind: PolicyKind| {
        traces.iter().any(|t| {
            t.policy_kind == kind && t.effect == Effect::Allow && t.applies == Applies::Yes
        })
    };
    if key_policy && allows(PolicyKind::Identity) {
        return "an identity policy allows, but the key policy neither allows the principal nor \
                delegates to IAM (no statement for the account root)"
            .into();
    }
    if allows(PolicyKind::Identity) {
        return "an identity policy allows, but the permissions boundary does not".into();
    }
    "no policy allows the request (implicit deny)".into()
}

/// A database named by an identifier or ARN.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DbResource {
    /// `db`, `cluster`, `snapshot` or `cluster-snapshot` (resource types of the reference).
    pub resource_type: String,
    pub identifier: String,
    pub arn: String,
    pub account_id: String,
    pub region: String,
}

/// Every DB instance, cluster, snapshot or cluster snapshot named `identifier` (or with that
/// ARN), across accounts and regions.
pub fn resolve_db(snapshot: &Snapshot, identifier: &str) -> Vec<DbResource> {
    let mut out = Vec::new();
    for account in &snapshot.accounts {
        for region in &account.regions {
            let mut push = |rt: &str, id: &str, arn: &str| {
                if id == identifier || arn == identifier {
                    out.push(DbResource {
                        resource_type: rt.to_string(),
                        identifier: id.to_string(),
                        arn: arn.to_string(),
                        account_id: account.account_id.clone(),
                        region: region.region.clone(),
                    });
                }
            };
            for d in &region.rds.db_instances {
                push("db", &d.db_instance_identifier, &d.db_instance_arn);
            }
            for c in &region.rds.db_clusters {
                push("cluster", &c.db_cluster_identifier, &c.db_cluster_arn);
            }
            for s in &region.rds.db_snapshots {
                push("snapshot", &s.identifier, &s.arn);
            }
            for s in &region.rds.db_cluster_snapshots {
                push("cluster-snapshot", &s.identifier, &s.arn);
            }
        }
    }
    out
}

/// The RDS actions that apply to a resource type (`db`, `cluster`, `snapshot`,
/// `cluster-snapshot`), from the Service Authorization Reference.
pub fn rds_actions_for(resource_type: &str) -> Vec<String> {
    sar::actions_for_resource_type("rds", resource_type)
        .into_iter()
        .map(|(a, _)| a.full_name())
        .collect()
}

#[cfg(test)]
mod grant_tests {
    use super::*;
    use proptest::prelude::*;

    /// The statement the JSON form of `g` parses to, when it parses.
    fn parsed(g: &KmsGrant) -> Option<Result<Statement, String>> {
        let st = grant_statement(g)?;
        let doc = serde_json::json!({"Version": "2012-10-17", "Statement": [st]});
        Some(
            PolicyDocument::from_value(&doc)
                .map(|d| d.statements[0].clone())
                .map_err(|e| e.to_string()),
        )
    }

    fn pairs() -> impl Strategy<Value = Option<Tags>> {
        proptest::option::of(proptest::collection::btree_map(
            "[ab:]{0,2}",
            "[xy]{0,2}",
            0..3,
        ))
    }

    proptest! {
        /// Grants built directly are the statements their JSON form parses to; the others
        /// take the JSON path (and its errors).
        #[test]
        fn direct_grants_are_the_parsed_ones(
            grantee in proptest::option::of(prop_oneof![
                Just("rds.us-east-1.amazonaws.com".to_string()),
                Just("111122223333".to_string()),
                Just("arn:aws:iam::111122223333:role/app".to_string()),
                Just("*".to_string()),
            ]),
            operations in proptest::collection::vec("(Decrypt|Encrypt|CreateGrant|a b|x:y|)", 0..3),
            subset in pairs(),
            equals in pairs(),
        ) {
            let g = KmsGrant {
                grant_id: "g-1".into(),
                grantee_principal: grantee,
                operations,
                encryption_context_subset: subset,
                encryption_context_equals: equals,
                ..Default::default()
            };
            let direct = grant_statement_direct(&g);
            match parsed(&g) {
                None => prop_assert!(direct.is_none()),
                Some(Ok(st)) => {
                    prop_assert!(grant_parses(&g));
                    prop_assert_eq!(direct, Some(st));
                }
                Some(Err(_)) => prop_assert!(!grant_parses(&g)),
            }
        }
    }
}
