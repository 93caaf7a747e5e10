//! Policy evaluation logic, as AWS documents it (IAM User Guide, *Policy evaluation logic*,
//! *Policy evaluation for requests within a single account*, *Cross-account policy evaluation
//! logic*, *Permissions boundaries for IAM entities*, *Session policies*, AWS Organizations
//! *SCPs* and *RCPs*, and the AWS KMS Developer Guide, *Key policies*):
//!
//! 1. **Explicit deny**: a matching `Deny` in any policy (identity, session, boundary, SCP, RCP,
//!    resource-based) denies the request.
//! 2. **SCPs**: "every level of the organization must allow": at each level (root, OUs,
//!    account) some SCP must allow the request. No levels = not in an organization.
//! 3. **RCPs**: `RCPFullAWSAccess` is attached at every level and cannot be detached, so RCPs
//!    only restrict, through their `Deny` statements.
//! 4. **Resource-based policy, same account**: a statement naming the principal (user ARN,
//!    role session ARN, or `*`) allows on its own, even where identity policies, the boundary
//!    or the session policy implicitly deny; one naming the *role* ARN for a role session is
//!    limited by the boundary and session policy. A statement naming the account
//!    (`arn:aws:iam::<acct>:root`) delegates to the account's IAM policies.
//! 5. **Identity-based policies** (user + its groups, or role; inline + managed) allow within
//!    the account, intersected with the permissions boundary and the session policy when set.
//! 6. **AWS KMS keys**: "Unlike other resource policies, ... no principal has permission to a
//!    KMS key unless the key policy allows it": IAM policies count only when the key policy
//!    has a statement for the account (the default "Enable IAM policies" statement with
//!    `arn:aws:iam::<acct>:root`), even in the same account. Role trust policies (`sts`) work
//!    the same way.
//! 7. **Cross account**: the resource-based policy must allow (the principal or its account)
//!    *and* the principal's identity policies (within boundary and session policy) must allow.
//! 8. Otherwise: **implicit deny**.

use serde::Serialize;

use crate::compile::{CompiledPolicy, CompiledStatement, PolicyKind, PrincipalMatch, Tri};
use crate::context::{
    PrincipalKind, RequestAction, RequestContext, RequestPrincipal, RequestResource,
};
use crate::formula::{Formula, Truth};
use crate::policy::Effect;

/// The policies that apply to one request.
#[derive(Debug, Clone, Default)]
pub struct PolicySet<'a> {
    /// The principal's identity policies: inline and managed, of the user and its groups, or
    /// of the role.
    pub identity: Vec<&'a CompiledPolicy>,
    /// The permissions boundary (empty: none set).
    pub permission_boundaries: Vec<&'a CompiledPolicy>,
    /// The session policy of a role session or federated user.
    pub session: Option<&'a CompiledPolicy>,
    /// SCPs by level, root first; every level must allow. Empty: not in an organization (or
    /// the management account).
    pub scp_levels: Vec<Vec<&'a CompiledPolicy>>,
    /// RCPs by level (their implicit `RCPFullAWSAccess` is assumed).
    pub rcp_levels: Vec<Vec<&'a CompiledPolicy>>,
    /// The resource-based policy (e.g. the KMS key policy).
    pub resource: Option<&'a CompiledPolicy>,
}

/// One request.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub principal: &'a RequestPrincipal,
    pub action: &'a RequestAction,
    pub resource: &'a RequestResource,
    pub context: &'a RequestContext,
}

/// The final decision, named as AWS and the IAM policy simulator name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Decision {
    Allowed,
    ExplicitlyDenied,
    ImplicitlyDenied,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Allowed => "Allowed",
            Decision::ExplicitlyDenied => "ExplicitlyDenied",
            Decision::ImplicitlyDenied => "ImplicitlyDenied",
        }
    }
}

/// Whether a statement applied to the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Applies {
    Yes,
    No,
    /// Depends on request context not known statically.
    IfConditions,
}

/// One condition entry as evaluated.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConditionTrace {
    pub operator: String,
    pub key: String,
    pub values: Vec<String>,
    /// `None`: unknown statically.
    pub result: Option<bool>,
}

/// One statement as evaluated: the policy-simulator view of "the statements that mattered".
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatementTrace {
    pub policy: std::sync::Arc<str>,
    pub policy_kind: PolicyKind,
    /// SCP/RCP level (0 = root) for organization policies.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub level: Option<usize>,
    pub statement: std::sync::Arc<str>,
    pub effect: Effect,
    pub action_matched: bool,
    pub resource_matched: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub principal_match: Option<PrincipalMatch>,
    pub conditions: Vec<ConditionTrace>,
    pub applies: Applies,
}

/// Collects statement traces when explaining; free when not.
pub(crate) struct Tracer<'t> {
    out: Option<&'t mut Vec<StatementTrace>>,
    /// Only the statements that apply (or may), without their conditions' traces: what the
    /// grants of an answer are made of ([`evaluate_static_grants`]).
    lean: bool,
}

impl<'t> Tracer<'t> {
    pub(crate) fn none() -> Tracer<'static> {
        Tracer {
            out: None,
            lean: false,
        }
    }
    pub(crate) fn into(out: &'t mut Vec<StatementTrace>) -> Tracer<'t> {
        Tracer {
            out: Some(out),
            lean: false,
        }
    }
}

/// The evaluation of one request in a truth domain `T`.
#[derive(Debug, Clone)]
pub struct Outcome<T> {
    /// Some policy explicitly denies.
    pub explicit_deny: T,
    /// The request is allowed (already includes "not explicitly denied").
    pub allowed: T,
}

/// Evaluate concretely: every context key is known.
pub fn evaluate(set: &PolicySet<'_>, req: &Request<'_>) -> Decision {
    let o: Outcome<bool> = evaluate_generic(set, req, &mut Tracer::none());
    decision_of(&o)
}

/// Evaluate concretely and record every candidate statement.
pub fn evaluate_traced(set: &PolicySet<'_>, req: &Request<'_>) -> (Decision, Vec<StatementTrace>) {
    let mut traces = Vec::new();
    let o: Outcome<bool> = evaluate_generic(set, req, &mut Tracer::into(&mut traces));
    (decision_of(&o), traces)
}

fn decision_of(o: &Outcome<bool>) -> Decision {
    if o.explicit_deny {
        Decision::ExplicitlyDenied
    } else if o.allowed {
        Decision::Allowed
    } else {
        Decision::ImplicitlyDenied
    }
}

/// The decision of a static analysis: unknown context keys stay symbolic.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum StaticDecision {
    Allowed,
    /// Allowed exactly when the formula over residual conditions holds.
    Conditional {
        allowed_if: Formula,
    },
    Denied {
        kind: Decision,
    },
}

/// Evaluate with a partial context; conditions on unknown keys become a formula.
pub fn evaluate_static(
    set: &PolicySet<'_>,
    req: &Request<'_>,
    traces: Option<&mut Vec<StatementTrace>>,
) -> StaticDecision {
    let mut tracer = match traces {
        Some(t) => Tracer::into(t),
        None => Tracer::none(),
    };
    static_decision(evaluate_generic(set, req, &mut tracer))
}

/// [`evaluate_static`] recording only the statements that apply or may apply (`Applies::No`
/// left out), without their conditions' traces: the statements an answer's grants cite, for
/// a fraction of the work of full traces (no condition is evaluated past the first that
/// fails, nothing is copied for the others).
pub fn evaluate_static_grants(
    set: &PolicySet<'_>,
    req: &Request<'_>,
    traces: &mut Vec<StatementTrace>,
) -> StaticDecision {
    let mut tracer = Tracer {
        out: Some(traces),
        lean: true,
    };
    static_decision_quick(set, req, &mut tracer)
}

/// [`evaluate_static`] without traces, on booleans when no statement of the set reads the
/// request (see [`evaluate_static_grants`]): the same decision.
pub fn evaluate_static_quick(set: &PolicySet<'_>, req: &Request<'_>) -> StaticDecision {
    static_decision_quick(set, req, &mut Tracer::none())
}

fn static_decision_quick(
    set: &PolicySet<'_>,
    req: &Request<'_>,
    tracer: &mut Tracer<'_>,
) -> StaticDecision {
    // Nothing left unknown without a statement reading the request: evaluated on booleans
    // (no formula built, combined or dropped), the same decision and statements.
    if set.reads_no_request() {
        let o: Outcome<bool> = evaluate_generic(set, req, tracer);
        return if o.explicit_deny {
            StaticDecision::Denied {
                kind: Decision::ExplicitlyDenied,
            }
        } else if o.allowed {
            StaticDecision::Allowed
        } else {
            StaticDecision::Denied {
                kind: Decision::ImplicitlyDenied,
            }
        };
    }
    static_decision(evaluate_generic(set, req, tracer))
}

impl PolicySet<'_> {
    /// Whether no statement of the set reads the request beyond its action, resource and
    /// principal ([`CompiledStatement::reads_request`]): no condition, no policy variable in
    /// a resource. A static evaluation then leaves nothing unknown.
    pub fn reads_no_request(&self) -> bool {
        let quiet = |p: &&CompiledPolicy| p.statements.iter().all(|st| !st.reads_request());
        self.identity.iter().all(quiet)
            && self.permission_boundaries.iter().all(quiet)
            && self.session.iter().all(quiet)
            && self.scp_levels.iter().flatten().all(quiet)
            && self.rcp_levels.iter().flatten().all(quiet)
            && self.resource.iter().all(quiet)
    }
}

fn static_decision(o: Outcome<Formula>) -> StaticDecision {
    if o.explicit_deny.is_true() {
        StaticDecision::Denied {
            kind: Decision::ExplicitlyDenied,
        }
    } else if o.allowed.is_true() {
        StaticDecision::Allowed
    } else if o.allowed.is_false() {
        StaticDecision::Denied {
            kind: Decision::ImplicitlyDenied,
        }
    } else {
        StaticDecision::Conditional {
            allowed_if: o.allowed,
        }
    }
}

/// Allow and deny of a set of identity-side policies (identity, boundary, session, SCP level).
struct AllowDeny<T> {
    allow: T,
    deny: T,
}

fn statement_truth<T: Truth>(
    p: &CompiledPolicy,
    level: Option<usize>,
    st: &CompiledStatement,
    req: &Request<'_>,
    principal_match: Option<PrincipalMatch>,
    tracer: &mut Tracer<'_>,
) -> T {
    let action_matched = st.action_matches(req.action);
    let resource = if action_matched {
        st.resource_matches(req.resource, req.context)
    } else {
        Tri::No
    };
    let principal_ok = principal_match.is_none_or(|m| m != PrincipalMatch::NoMatch);
    let mut t = T::from_bool(action_matched && resource != Tri::No && principal_ok);
    if resource == Tri::Unknown {
        t = t.and(T::unknown(&st.unknown_resource_atom(&p.name)));
    }
    let mut cond_traces = Vec::new();
    // Conditions are traced (each evaluated) only for full traces.
    let tracing = tracer.out.is_some() && !tracer.lean;
    if !t.is_false() || tracing {
        for c in &st.conditions {
            let r = if t.is_false() && !tracing {
                break;
            } else {
                c.evaluate(req.context)
            };
            if tracing {
                cond_traces.push(ConditionTrace {
                    operator: c.atom.operator.clone(),
                    key: c.atom.key.clone(),
                    values: c.atom.values.clone(),
                    result: r,
                });
            }
            let v = match r {
                Some(b) => T::from_bool(b),
                None => T::unknown(&c.atom),
            };
            t = t.and(v);
        }
    }
    let lean = tracer.lean;
    if let Some(out) = tracer.out.as_deref_mut()
        && !(lean && t.is_false())
    {
        out.push(StatementTrace {
            policy: p.name.clone(),
            policy_kind: p.kind,
            level,
            statement: st.shared_label(),
            effect: st.effect,
            action_matched,
            resource_matched: resource != Tri::No,
            principal_match,
            conditions: cond_traces,
            applies: if t.is_true() {
                Applies::Yes
            } else if t.is_false() {
                Applies::No
            } else {
                Applies::IfConditions
            },
        });
    }
    t
}

fn identity_side<T: Truth>(
    policies: &[&CompiledPolicy],
    level: Option<usize>,
    req: &Request<'_>,
    tracer: &mut Tracer<'_>,
) -> AllowDeny<T> {
    let mut allow = T::from_bool(false);
    let mut deny = T::from_bool(false);
    for p in policies {
        for st in p.candidates(&req.action.service) {
            let t: T = statement_truth(p, level, st, req, None, tracer);
            match st.effect {
                Effect::Allow => allow = allow.or(t),
                Effect::Deny => deny = deny.or(t),
            }
        }
    }
    AllowDeny { allow, deny }
}

/// The resource-based policy, split by how its allowing statements name the principal.
struct ResourceSide<T> {
    deny: T,
    /// Names the principal itself (or `*`): not limited by an implicit deny in a boundary.
    bypass_boundary: T,
    /// Names the exact session ARN: not limited by the session policy either.
    bypass_session: T,
    /// Any statement naming the principal, its role/user, or `*`.
    direct: T,
    /// Names the principal's account.
    account: T,
}

fn resource_side<T: Truth>(
    p: Option<&CompiledPolicy>,
    req: &Request<'_>,
    has_boundary: bool,
    tracer: &mut Tracer<'_>,
) -> ResourceSide<T> {
    let mut out = ResourceSide {
        deny: T::from_bool(false),
        bypass_boundary: T::from_bool(false),
        bypass_session: T::from_bool(false),
        direct: T::from_bool(false),
        account: T::from_bool(false),
    };
    let Some(p) = p else {
        return out;
    };
    let kind = req.principal.kind;
    for st in p.candidates(&req.action.service) {
        let mut pm = st.principal_matches(req.principal);
        // AWS: a Deny with NotPrincipal in a resource-based policy always applies to a
        // principal that has a permissions boundary (IAM User Guide, *NotPrincipal*).
        if has_boundary && st.effect == Effect::Deny && st.is_not_principal() {
            pm = PrincipalMatch::Exact;
        }
        let t: T = statement_truth(p, None, st, req, Some(pm), tracer);
        if t.is_false() {
            continue;
        }
        match st.effect {
            Effect::Deny => out.deny = out.deny.or(t),
            Effect::Allow => match pm {
                PrincipalMatch::NoMatch => {}
                PrincipalMatch::Account => out.account = out.account.or(t),
                PrincipalMatch::ViaSessionIssuer => out.direct = out.direct.or(t),
                PrincipalMatch::Exact | PrincipalMatch::Wildcard => {
                    // A role ARN stands for its sessions: a grant to the role ARN is limited
                    // by the boundary, unless granted to everyone.
                    let bypass = !(kind == PrincipalKind::Role && pm == PrincipalMatch::Exact);
                    if bypass {
                        out.bypass_boundary = out.bypass_boundary.clone().or(t.clone());
                    }
                    if pm == PrincipalMatch::Exact
                        && matches!(
                            kind,
                            PrincipalKind::AssumedRole | PrincipalKind::FederatedUser
                        )
                    {
                        out.bypass_session = out.bypass_session.clone().or(t.clone());
                    }
                    out.direct = out.direct.or(t);
                }
            },
        }
    }
    out
}

/// How a service trusts the IAM policies of the principal's own account.
fn account_trust_gate<T: Truth>(
    req: &Request<'_>,
    resource_policy: bool,
    res: &ResourceSide<T>,
) -> T {
    let service = req.action.service.as_str();
    let is_kms_key = service == "kms"
        && req
            .resource
            .arn_lower
            .as_ref()
            .is_some_and(|a| a.resource().to_ascii_lowercase().starts_with("key/"));
    if is_kms_key || (service == "sts" && resource_policy) {
        res.account.clone()
    } else {
        T::from_bool(true)
    }
}

/// Service-specific refusals that no policy can override.
fn service_refuses(req: &Request<'_>) -> bool {
    let action = req.action.name.as_str();
    // Partition to account lower-cased; the resource part as written.
    let arn = req.resource.arn_lower.as_ref();
    match req.action.service.as_str() {
        // AWS managed aliases (alias/aws/...) cannot be created, changed or deleted.
        "kms" => {
            matches!(action, "createalias" | "deletealias" | "updatealias")
                && arn.is_some_and(|a| a.resource().to_ascii_lowercase().starts_with("alias/aws/"))
        }
        // AWS managed policies and AWS reserved roles cannot be changed by customers.
        "iam" => arn.is_some_and(|a| {
            let r = a.resource().to_ascii_lowercase();
            (a.account() == "aws"
                && r.starts_with("policy/")
                && matches!(
                    action,
                    "createpolicy"
                        | "createpolicyversion"
                        | "deletepolicy"
                        | "deletepolicyversion"
                        | "setdefaultpolicyversion"
                        | "tagpolicy"
                        | "untagpolicy"
                ))
                || (r.starts_with("role/aws-reserved/")
                    && matches!(
                        action,
                        "attachrolepolicy"
                            | "createrole"
                            | "createservicelinkedrole"
                            | "deleterole"
                            | "deleterolepermissionsboundary"
                            | "deleterolepolicy"
                            | "deleteservicelinkedrole"
                            | "detachrolepolicy"
                            | "passrole"
                            | "putrolepermissionsboundary"
                            | "putrolepolicy"
                            | "tagrole"
                            | "untagrole"
                            | "updateassumerolepolicy"
                            | "updaterole"
                            | "updateroledescription"
                    ))
        }),
        _ => false,
    }
}

pub(crate) fn evaluate_generic<T: Truth>(
    set: &PolicySet<'_>,
    req: &Request<'_>,
    tracer: &mut Tracer<'_>,
) -> Outcome<T> {
    // sts:GetCallerIdentity needs no permission: "No permissions are required to perform this
    // operation" (AWS STS API Reference).
    if req.action.service == "sts" && req.action.name == "getcalleridentity" {
        return Outcome {
            explicit_deny: T::from_bool(false),
            allowed: T::from_bool(true),
        };
    }
    let kind = req.principal.kind;
    let is_root = kind == PrincipalKind::Root;
    let is_service = kind == PrincipalKind::Service;

    let identity: AllowDeny<T> = if is_service {
        AllowDeny {
            allow: T::from_bool(false),
            deny: T::from_bool(false),
        }
    } else {
        identity_side(&set.identity, None, req, tracer)
    };
    let has_boundary = !set.permission_boundaries.is_empty() && !is_root && !is_service;
    let boundary: Option<AllowDeny<T>> =
        has_boundary.then(|| identity_side(&set.permission_boundaries, None, req, tracer));
    let session: Option<AllowDeny<T>> = set
        .session
        .filter(|_| !is_root && !is_service)
        .map(|s| identity_side(&[s], None, req, tracer));
    let mut scp_ok = T::from_bool(true);
    let mut scp_deny = T::from_bool(false);
    for (i, level) in set.scp_levels.iter().enumerate() {
        let ad: AllowDeny<T> = identity_side(level, Some(i), req, tracer);
        scp_ok = scp_ok.and(ad.allow);
        scp_deny = scp_deny.or(ad.deny);
    }
    let mut rcp_deny = T::from_bool(false);
    let rcp_applies = !set.rcp_levels.is_empty()
        && crate::sar::reference().is_ok_and(|r| r.rcp_applies(&req.action.service));
    for (i, level) in set.rcp_levels.iter().enumerate().filter(|_| rcp_applies) {
        let ad: AllowDeny<T> = identity_side(level, Some(i), req, tracer);
        rcp_deny = rcp_deny.or(ad.deny);
    }
    let res: ResourceSide<T> = resource_side(set.resource, req, has_boundary, tracer);

    let mut explicit = identity
        .deny
        .clone()
        .or(scp_deny)
        .or(rcp_deny)
        .or(res.deny.clone());
    if let Some(b) = &boundary {
        explicit = explicit.or(b.deny.clone());
    }
    if let Some(s) = &session {
        explicit = explicit.or(s.deny.clone());
    }

    // The root user has every identity permission in its account; boundaries and session
    // policies do not apply to it.
    let id = if is_root {
        T::from_bool(true)
    } else {
        identity.allow
    };
    let pb = boundary
        .map(|b| b.allow)
        .unwrap_or_else(|| T::from_bool(true));
    let sess = session
        .as_ref()
        .map(|s| s.allow.clone())
        .unwrap_or_else(|| T::from_bool(true));

    let same_account =
        req.principal.account.is_some() && req.principal.account == req.resource.account;
    let core = if is_service {
        // Service principals are granted only by resource-based policies.
        res.direct.clone()
    } else if same_account {
        let trust = account_trust_gate(req, set.resource.is_some(), &res);
        let res_path = res
            .bypass_boundary
            .clone()
            .or(res.direct.clone().and(pb.clone()));
        let res_path = if session.is_some() {
            res.bypass_session.clone().or(res_path.and(sess.clone()))
        } else {
            res_path
        };
        res_path.or(id.and(pb).and(sess).and(trust))
    } else {
        res.direct
            .clone()
            .or(res.account.clone())
            .and(id)
            .and(pb)
            .and(sess)
    };
    let allowed = explicit
        .clone()
        .not()
        .and(scp_ok)
        .and(core)
        .and(T::from_bool(!service_refuses(req)));
    Outcome {
        explicit_deny: explicit,
        allowed,
    }
}
