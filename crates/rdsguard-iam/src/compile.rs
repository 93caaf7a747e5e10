//! Compiled policies: every pattern parsed once (lower-cased action patterns, split ARN
//! patterns, parsed condition values) and statements indexed by service prefix, so evaluating
//! a request never re-parses or re-allocates for policies without variables.

use std::sync::Arc;

use serde::Serialize;

use crate::condition::CompiledCondition;
use crate::context::{
    PrincipalKind, RequestAction, RequestContext, RequestPrincipal, RequestResource,
};
use crate::error::ParseError;
use crate::formula::Atom;
use crate::glob::{Glob, match_segments};
use crate::policy::{Effect, PolicyDocument, PolicyVersion, PrincipalValue, Statement};
use crate::variables::{Resolved, Template};

/// What kind of policy a document is, which decides what its statements may contain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PolicyKind {
    Identity,
    PermissionBoundary,
    Session,
    Scp,
    Rcp,
    Resource,
}

impl PolicyKind {
    pub fn label(self) -> &'static str {
        match self {
            PolicyKind::Identity => "identity policy",
            PolicyKind::PermissionBoundary => "permissions boundary",
            PolicyKind::Session => "session policy",
            PolicyKind::Scp => "service control policy",
            PolicyKind::Rcp => "resource control policy",
            PolicyKind::Resource => "resource-based policy",
        }
    }
}

/// `Action`/`NotAction` entry.
#[derive(Debug, Clone)]
enum ActionPattern {
    All,
    Service { service: String, name: Glob },
}

/// `Resource`/`NotResource` entry.
#[derive(Debug, Clone)]
enum ResourcePattern {
    All,
    Arn {
        partition: Glob,
        service: Glob,
        region: Glob,
        account: Glob,
        resource: ResourcePart,
    },
    /// Not `*` and not an ARN: matches nothing.
    Never,
}

#[derive(Debug, Clone)]
enum ResourcePart {
    Static(Glob),
    Template(Template),
}

/// How a resource-policy principal matched the request principal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PrincipalMatch {
    NoMatch,
    /// The statement names the principal's account (`123456789012` or `...:root`): the account
    /// delegates to its own IAM policies.
    Account,
    /// The statement names the role (or IAM user) that the requesting session belongs to.
    ViaSessionIssuer,
    /// The statement names the principal itself.
    Exact,
    /// `*` or `{"AWS": "*"}`.
    Wildcard,
}

#[derive(Debug, Clone)]
struct PrincipalMatcher {
    negated: bool,
    principals: Vec<PrincipalValue>,
}

/// A compiled statement.
#[derive(Debug, Clone)]
pub struct CompiledStatement {
    /// How explanations and grants name it ([`Statement::label`]), made once: every trace of
    /// an evaluation carries it.
    label: Arc<str>,
    pub index: usize,
    pub sid: Option<String>,
    pub effect: Effect,
    actions_negated: bool,
    /// Shared by the consecutive statements of a resource policy with the same `Action` texts
    /// (a KMS key's grants, one list of operations for every grant RDS makes).
    actions: Arc<[ActionPattern]>,
    resources: Option<(bool, Vec<ResourcePattern>)>,
    principal: Option<PrincipalMatcher>,
    pub conditions: Vec<CompiledCondition>,
    /// The residual condition reported when the `Resource` depends on an unknown variable,
    /// made when compiling a statement with a policy variable in its `Resource` (the others
    /// need none: see [`Self::unknown_resource_atom`]).
    resource_atom: Option<Arc<Atom>>,
    pub source: Statement,
}

/// A compiled policy, ready for evaluation.
#[derive(Debug, Clone)]
pub struct CompiledPolicy {
    /// Name or ARN, as shown in explanations.
    pub name: Arc<str>,
    pub kind: PolicyKind,
    pub version: PolicyVersion,
    /// Shared: a policy made of some of another's statements (one statement alone, those
    /// about some resources, a key policy's text under each key's name) copies none.
    pub statements: Vec<Arc<CompiledStatement>>,
    /// Statement indexes by lower-cased service prefix of their `Action` patterns, sorted by
    /// service (a policy names a few services: searched, not hashed, and no table to build).
    by_service: Vec<(String, Vec<u32>)>,
    /// Statements that can apply to any service (`*`, or `NotAction`).
    any_service: Vec<u32>,
}

impl CompiledPolicy {
    /// Parse and compile JSON text.
    pub fn from_json(
        name: &str,
        kind: PolicyKind,
        text: &str,
    ) -> Result<CompiledPolicy, ParseError> {
        let doc = PolicyDocument::parse(text).map_err(|e| e.within(name))?;
        CompiledPolicy::compile(name, kind, doc).map_err(|e| e.within(name))
    }

    /// Compile a parsed document, checking the rules of its kind: identity-side policies have
    /// no `Principal` and need `Resource`/`NotResource`; resource-based policies need a
    /// `Principal`/`NotPrincipal` (IAM User Guide, *IAM JSON policy elements: Principal*: "You
    /// cannot use the Principal element in an identity-based policy"; "You must use the
    /// Principal element in resource-based policies").
    pub fn compile(
        name: &str,
        kind: PolicyKind,
        doc: PolicyDocument,
    ) -> Result<CompiledPolicy, ParseError> {
        let mut statements = Vec::with_capacity(doc.statements.len());
        let version = doc.version;
        let multi = doc.statements.len() > 1;
        for st in &doc.statements {
            // Written only for an error.
            let path = || {
                if multi {
                    format!("Statement[{}]", st.index)
                } else {
                    "Statement".to_string()
                }
            };
            if kind == PolicyKind::Rcp {
                check_rcp_statement(st, doc.version, &path())?;
            }
            match kind {
                PolicyKind::Resource | PolicyKind::Rcp => {
                    if st.principal.is_none() {
                        return Err(ParseError::new(
                            path(),
                            format!(
                                "a {} statement needs Principal or NotPrincipal",
                                kind.label()
                            ),
                        ));
                    }
                }
                _ => {
                    if st.principal.is_some() {
                        return Err(ParseError::new(
                            format!("{}.Principal", path()),
                            format!("a {} cannot have Principal or NotPrincipal", kind.label()),
                        ));
                    }
                    if st.resource.is_none() {
                        return Err(ParseError::new(
                            path(),
                            format!("a {} statement needs Resource or NotResource", kind.label()),
                        ));
                    }
                }
            }
        }
        let name: Arc<str> = Arc::from(name);
        // Resource policies only (a key's grants): identity policies seldom repeat a
        // statement's actions, and comparing them cost the IAM model more than it saved.
        let share_actions = kind == PolicyKind::Resource;
        for st in doc.statements {
            // The previous statement's actions when its texts are the same.
            let same_actions = statements.last().filter(|_| share_actions).and_then(
                |prev: &Arc<CompiledStatement>| {
                    (prev.source.action.values == st.action.values).then(|| prev.actions.clone())
                },
            );
            statements.push(Arc::new(compile_statement(
                st,
                version,
                &name,
                same_actions,
            )));
        }
        let (by_service, any_service) = index_by_service(&statements);
        Ok(CompiledPolicy {
            name,
            kind,
            version,
            statements,
            by_service,
            any_service,
        })
    }

    /// A copy keeping only the statements `keep` selects (same name, kind and statement
    /// labels): what the policy says about the resources those statements cover.
    pub fn retain_statements(&self, keep: impl Fn(&CompiledStatement) -> bool) -> CompiledPolicy {
        self.with_statements(
            self.statements
                .iter()
                .filter(|s| keep(s))
                .cloned()
                .collect(),
        )
    }

    /// These statements under the name `name` (same kind and version), when no statement
    /// carries the name (no condition, no policy variable in `Resource`: their residual
    /// conditions would name this policy). `None` otherwise: compile the text under `name`.
    pub fn renamed(&self, name: &str) -> Option<CompiledPolicy> {
        if !self.renamable() {
            return None;
        }
        Some(CompiledPolicy {
            name: Arc::from(name),
            ..self.clone()
        })
    }

    /// Whether [`renamed`](Self::renamed) can give these statements another policy's name.
    pub fn renamable(&self) -> bool {
        !self.statements.iter().any(|st| st.names_its_policy())
    }

    /// This policy with `more` statements after its own (indexed again).
    pub fn followed_by(&self, more: &CompiledPolicy) -> CompiledPolicy {
        let mut statements = self.statements.clone();
        statements.extend(more.statements.iter().cloned());
        self.with_statements(statements)
    }

    /// Statement `index` alone, as compiling it alone under this policy's name, version and
    /// kind gives it (a statement compiles the same alone or not), without compiling it again.
    pub fn statement_alone(&self, index: usize) -> Option<CompiledPolicy> {
        Some(self.with_statements(vec![self.statements.get(index)?.clone()]))
    }

    /// A policy of this one's name, kind and version with `statements`, indexed.
    fn with_statements(&self, statements: Vec<Arc<CompiledStatement>>) -> CompiledPolicy {
        let (by_service, any_service) = index_by_service(&statements);
        CompiledPolicy {
            name: self.name.clone(),
            kind: self.kind,
            version: self.version,
            statements,
            by_service,
            any_service,
        }
    }

    /// Statements whose `Action`/`NotAction` may apply to `service` (lower-cased), in document
    /// order.
    pub fn candidates(&self, service: &str) -> impl Iterator<Item = &CompiledStatement> {
        merge_sorted(self.of_service(service), &self.any_service)
            .map(|i| &*self.statements[i as usize])
    }

    /// The indexes of the statements naming `service` in their actions.
    fn of_service(&self, service: &str) -> &[u32] {
        match self
            .by_service
            .binary_search_by(|(s, _)| s.as_str().cmp(service))
        {
            Ok(i) => &self.by_service[i].1,
            Err(_) => &[],
        }
    }

    /// The services some statement of the policy names in its actions, and whether a
    /// statement may apply to any service (`*` actions, `NotAction`).
    pub(crate) fn services(&self) -> (impl Iterator<Item = &str>, bool) {
        (
            self.by_service.iter().map(|(s, _)| s.as_str()),
            !self.any_service.is_empty(),
        )
    }

    /// The indexes in `statements` of [`candidates`](Self::candidates).
    pub fn candidate_indices(&self, service: &str) -> impl Iterator<Item = u32> + '_ {
        merge_sorted(self.of_service(service), &self.any_service)
    }
}

/// Policies of one kind compiled once per text when no statement names its policy (no
/// condition, no policy variable in `Resource`): keys made from one template share their key
/// policy's text, roles made from one template their inline policies, and each copy takes the
/// same statements under its own name. Other texts are compiled under each name.
pub struct TextCompiler {
    kind: PolicyKind,
    renamable: crate::fasthash::FastMap<String, CompiledPolicy>,
}

impl TextCompiler {
    pub fn new(kind: PolicyKind) -> TextCompiler {
        TextCompiler {
            kind,
            renamable: Default::default(),
        }
    }

    /// `text` compiled as [`CompiledPolicy::from_json`] compiles it under `name`.
    pub fn compile(&mut self, name: &str, text: &str) -> Result<CompiledPolicy, ParseError> {
        if let Some(renamed) = self.renamable.get(text).and_then(|p| p.renamed(name)) {
            return Ok(renamed);
        }
        let compiled = CompiledPolicy::from_json(name, self.kind, text)?;
        if compiled.renamable() {
            self.renamable.insert(text.to_string(), compiled.clone());
        }
        Ok(compiled)
    }
}

/// Statement indexes by service prefix of their actions, and those that apply to any service.
fn index_by_service(statements: &[Arc<CompiledStatement>]) -> (Vec<(String, Vec<u32>)>, Vec<u32>) {
    let mut by_service: Vec<(String, Vec<u32>)> = Vec::new();
    let mut any_service = Vec::new();
    for (i, st) in statements.iter().enumerate() {
        let i = i as u32;
        if st.actions_negated || st.actions.iter().any(|a| matches!(a, ActionPattern::All)) {
            any_service.push(i);
            continue;
        }
        for a in st.actions.iter() {
            if let ActionPattern::Service { service, .. } = a {
                let at = by_service.binary_search_by(|(s, _)| s.as_str().cmp(service));
                let list = match at {
                    Ok(at) => &mut by_service[at].1,
                    Err(at) => {
                        by_service.insert(at, (service.clone(), Vec::new()));
                        &mut by_service[at].1
                    }
                };
                // Statements are visited in order: an index is last when already listed.
                if list.last() != Some(&i) {
                    list.push(i);
                }
            }
        }
    }
    (by_service, any_service)
}

/// Which resources a statement's `Resource` can match, so that statements can be indexed by
/// resource instead of being tried on every one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResourceScope {
    /// Every resource: `Resource` contains `*` (or there is no `Resource` element).
    Any,
    /// Only resources named by these entries: exact ARNs (as [`resource_key`] spells them)
    /// and, when `wildcard`, patterns that must be tried (static, no policy variable).
    Listed { exact: Vec<String>, wildcard: bool },
    /// `NotResource`, or a policy variable in `Resource`: decided per request only.
    Opaque,
}

/// The key under which a resource ARN is indexed: partition, service, region and account
/// lower-cased (matching is case-insensitive there), the resource part as written.
pub fn resource_key(arn_lower: &crate::context::Arn) -> String {
    arn_lower.key().to_string()
}

/// RCP syntax (AWS Organizations User Guide, *RCP syntax*): version 2012-10-17, `Effect`
/// `Deny` (the managed `RCPFullAWSAccess` is the only allow), `Principal` `"*"`, no
/// `NotPrincipal` or `NotAction`, and `Action` cannot be `"*"`.
fn check_rcp_statement(
    st: &Statement,
    version: PolicyVersion,
    path: &str,
) -> Result<(), ParseError> {
    let err = |p: String, m: &str| {
        Err(ParseError::new(
            p,
            format!("{m} in a resource control policy"),
        ))
    };
    if version != PolicyVersion::V2012 {
        return err("Version".into(), "Version must be \"2012-10-17\"");
    }
    if st.effect != Effect::Deny {
        return err(format!("{path}.Effect"), "Effect must be \"Deny\"");
    }
    match &st.principal {
        Some(p) if !p.negated && p.principals == [PrincipalValue::Wildcard] => {}
        _ => {
            return err(
                format!("{path}.Principal"),
                "Principal must be \"*\" (NotPrincipal is not allowed)",
            );
        }
    }
    if st.action.negated {
        return err(format!("{path}.NotAction"), "NotAction is not allowed");
    }
    if let Some(i) = st.action.values.iter().position(|a| a == "*") {
        return err(format!("{path}.Action[{i}]"), "Action cannot be \"*\"");
    }
    Ok(())
}

/// Merge two sorted index lists without allocating.
pub(crate) fn merge_sorted<'a, T: Copy + Ord>(
    a: &'a [T],
    b: &'a [T],
) -> impl Iterator<Item = T> + 'a {
    let (mut i, mut j) = (0usize, 0usize);
    std::iter::from_fn(move || match (a.get(i), b.get(j)) {
        (Some(&x), Some(&y)) => {
            if x <= y {
                i += 1;
                if x == y {
                    j += 1;
                }
                Some(x)
            } else {
                j += 1;
                Some(y)
            }
        }
        (Some(&x), None) => {
            i += 1;
            Some(x)
        }
        (None, Some(&y)) => {
            j += 1;
            Some(y)
        }
        (None, None) => None,
    })
}

/// `actions`: the statement's actions compiled already (another statement's with the same
/// texts), if any.
fn compile_statement(
    st: Statement,
    version: PolicyVersion,
    policy_name: &Arc<str>,
    actions: Option<Arc<[ActionPattern]>>,
) -> CompiledStatement {
    let label: Arc<str> = match &st.sid {
        // `Statement::label`, copied once.
        Some(sid) if !sid.is_empty() => Arc::from(sid.as_str()),
        _ => Arc::from(st.label()),
    };
    let actions =
        actions.unwrap_or_else(|| st.action.values.iter().map(|a| compile_action(a)).collect());
    let resources: Option<(bool, Vec<ResourcePattern>)> = st.resource.as_ref().map(|r| {
        (
            r.negated,
            r.values
                .iter()
                .map(|v| compile_resource(v, version))
                .collect(),
        )
    });
    let has_variable = resources.as_ref().is_some_and(|(_, patterns)| {
        patterns.iter().any(|p| {
            matches!(
                p,
                ResourcePattern::Arn {
                    resource: ResourcePart::Template(_),
                    ..
                }
            )
        })
    });
    let principal = st.principal.as_ref().map(|p| PrincipalMatcher {
        negated: p.negated,
        principals: p.principals.clone(),
    });
    let conditions = st
        .conditions
        .iter()
        .map(|c| CompiledCondition::compile_in(c, version, policy_name, &label, st.effect))
        .collect();
    let resource_atom = has_variable.then(|| resource_atom(policy_name, &label, st.effect, &st));
    CompiledStatement {
        label,
        index: st.index,
        sid: st.sid.clone(),
        effect: st.effect,
        actions_negated: st.action.negated,
        actions,
        resources,
        principal,
        conditions,
        resource_atom,
        source: st,
    }
}

/// The residual condition of a statement whose `Resource` depends on an unknown variable.
fn resource_atom(policy: &Arc<str>, label: &Arc<str>, effect: Effect, st: &Statement) -> Arc<Atom> {
    Arc::new(Atom {
        policy: policy.clone(),
        statement: label.clone(),
        effect,
        operator: "Resource".into(),
        key: "(policy variable)".into(),
        values: st
            .resource
            .as_ref()
            .map(|r| r.values.clone())
            .unwrap_or_default(),
    })
}

/// Actions match case-insensitively, with `*` and `?` in the action name; the service prefix
/// is literal (IAM User Guide, *IAM JSON policy elements: Action*).
fn compile_action(text: &str) -> ActionPattern {
    if text == "*" {
        return ActionPattern::All;
    }
    match text.split_once(':') {
        Some((svc, name)) => ActionPattern::Service {
            service: svc.to_ascii_lowercase(),
            // Action names are ASCII: case-folded without Unicode tables then.
            name: Glob::of_owned(if name.is_ascii() {
                name.to_ascii_lowercase()
            } else {
                name.to_lowercase()
            }),
        },
        None => ActionPattern::Service {
            service: String::new(),
            name: Glob::Exact(String::new()),
        },
    }
}

/// Resource ARN patterns (IAM User Guide, *IAM JSON policy elements: Resource*): "You can use
/// wildcard characters (* and ?) within the individual segments of an ARN (the parts separated
/// by colons)"; "If the * wildcard is the last character of a resource ARN segment, it can
/// expand to match beyond the colon boundaries". So partition, service, region and account
/// are matched segment by segment, the resource part (which may itself contain colons) as a
/// whole, and an ARN with fewer than six parts whose last part ends in `*` is completed with
/// `*` segments. Variables are substituted in the resource part only ("in the part of the ARN
/// that identifies the specific resource").
fn compile_resource(text: &str, version: PolicyVersion) -> ResourcePattern {
    if text == "*" {
        return ResourcePattern::All;
    }
    // Six parts, the missing ones `*` (no list allocated: policies have thousands of ARNs).
    let mut parts = ["*"; 6];
    let mut count = 0;
    for (slot, part) in parts.iter_mut().zip(text.splitn(6, ':')) {
        *slot = part;
        count += 1;
    }
    if parts[0] != "arn" {
        return ResourcePattern::Never;
    }
    if count < 6 && !parts[count - 1].ends_with('*') {
        return ResourcePattern::Never;
    }
    let seg = |s: &str| Glob::of_owned(s.to_ascii_lowercase());
    // Without `${` there is no variable: the pattern as written (what the template's static
    // segments give, without building the template).
    let resource = if parts[5].contains("${") {
        let template = Template::parse(parts[5], version.supports_variables(), true);
        match template.static_segments() {
            Some(segs) => ResourcePart::Static(Glob::from_segments(segs)),
            None => ResourcePart::Template(template),
        }
    } else {
        ResourcePart::Static(Glob::new(parts[5]))
    };
    ResourcePattern::Arn {
        partition: seg(parts[1]),
        service: seg(parts[2]),
        region: seg(parts[3]),
        account: seg(parts[4]),
        resource,
    }
}

/// Outcome of matching one `Resource` entry.
enum EntryMatch {
    Yes,
    No,
    /// An unresolvable variable: the entry fails for `Resource` and `NotResource` alike.
    Fails,
    /// Depends on a variable not known statically.
    Unknown,
}

fn resource_entry_matches(
    p: &ResourcePattern,
    req: &RequestResource,
    ctx: &RequestContext,
) -> EntryMatch {
    match p {
        ResourcePattern::All => EntryMatch::Yes,
        ResourcePattern::Never => EntryMatch::No,
        ResourcePattern::Arn {
            partition,
            service,
            region,
            account,
            resource,
        } => {
            // The request resource `*` (wildcard-only actions) is matched only by `*`.
            let Some(arn) = &req.arn_lower else {
                return EntryMatch::No;
            };
            let ok = partition.matches(arn.partition())
                && service.matches(arn.service())
                && region.matches(arn.region())
                && account.matches(arn.account());
            if !ok {
                return EntryMatch::No;
            }
            match resource {
                ResourcePart::Static(g) => {
                    if g.matches(arn.resource()) {
                        EntryMatch::Yes
                    } else {
                        EntryMatch::No
                    }
                }
                ResourcePart::Template(t) => match t.resolve(ctx) {
                    Resolved::Value(segs) => {
                        if match_segments(&segs, arn.resource()) {
                            EntryMatch::Yes
                        } else {
                            EntryMatch::No
                        }
                    }
                    // A variable without a value invalidates the entry, but only where the rest
                    // of the pattern could match at all: `db:${aws:username}` never names a
                    // cluster, whatever the user name.
                    Resolved::Unresolvable | Resolved::Unknown
                        if !match_segments(&t.resolve_or_wildcard(ctx), arn.resource()) =>
                    {
                        EntryMatch::No
                    }
                    Resolved::Unresolvable => EntryMatch::Fails,
                    Resolved::Unknown => EntryMatch::Unknown,
                },
            }
        }
    }
}

/// Three-valued match of a statement element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tri {
    Yes,
    No,
    Unknown,
}

impl CompiledStatement {
    pub fn action_matches(&self, action: &RequestAction) -> bool {
        let any = self.actions.iter().any(|p| match p {
            ActionPattern::All => true,
            ActionPattern::Service { service, name } => {
                *service == action.service && name.matches(&action.name)
            }
        });
        any != self.actions_negated
    }

    /// `Resource`: any entry matches; `NotResource`: no entry matches. A statement without
    /// either (trust policies) applies to the resource it is attached to.
    pub fn resource_matches(&self, req: &RequestResource, ctx: &RequestContext) -> Tri {
        let Some((negated, patterns)) = &self.resources else {
            return Tri::Yes;
        };
        let mut unknown = false;
        let mut failed = false;
        let mut any = false;
        for p in patterns {
            match resource_entry_matches(p, req, ctx) {
                EntryMatch::Yes => {
                    any = true;
                    break;
                }
                EntryMatch::No => {}
                EntryMatch::Fails => failed = true,
                EntryMatch::Unknown => unknown = true,
            }
        }
        match (*negated, any) {
            (false, true) => Tri::Yes,
            (true, true) => Tri::No,
            (_, false) if unknown => Tri::Unknown,
            (false, false) => Tri::No,
            (true, false) => {
                if failed {
                    Tri::No
                } else {
                    Tri::Yes
                }
            }
        }
    }

    /// Whether [`resource_scope`](Self::resource_scope) is [`ResourceScope::Any`], without
    /// writing out the ARNs it lists otherwise.
    pub fn matches_any_resource(&self) -> bool {
        match &self.resources {
            None => true,
            Some((negated, patterns)) => {
                !*negated && patterns.iter().any(|p| matches!(p, ResourcePattern::All))
            }
        }
    }

    /// How widely the `Resource` element can match (see [`ResourceScope`]).
    pub fn resource_scope(&self) -> ResourceScope {
        let Some((negated, patterns)) = &self.resources else {
            return ResourceScope::Any;
        };
        if *negated {
            return ResourceScope::Opaque;
        }
        if patterns.iter().any(|p| matches!(p, ResourcePattern::All)) {
            return ResourceScope::Any;
        }
        let mut exact = Vec::new();
        let mut wildcard = false;
        for p in patterns {
            match p {
                ResourcePattern::All | ResourcePattern::Never => {}
                ResourcePattern::Arn {
                    partition,
                    service,
                    region,
                    account,
                    resource,
                } => match resource {
                    ResourcePart::Template(_) => return ResourceScope::Opaque,
                    ResourcePart::Static(res) => match (partition, service, region, account, res) {
                        (
                            Glob::Exact(p),
                            Glob::Exact(s),
                            Glob::Exact(r),
                            Glob::Exact(a),
                            Glob::Exact(x),
                        ) => exact.push([p, ":", s, ":", r, ":", a, ":", x].concat()),
                        _ => wildcard = true,
                    },
                },
            }
        }
        ResourceScope::Listed { exact, wildcard }
    }

    /// Whether the statement reads the request beyond its action, resource and principal: a
    /// condition, or a policy variable in its `Resource`/`NotResource`. Without either, it
    /// applies alike to every principal it applies to.
    pub fn reads_request(&self) -> bool {
        !self.conditions.is_empty() || self.resource_atom.is_some()
    }

    /// Whether a condition may read the region the request goes to: `aws:RequestedRegion`
    /// (set from the resource's region), or a policy variable, which could name it.
    pub fn conditions_may_read_region(&self) -> bool {
        self.conditions.iter().any(|c| {
            c.key == "aws:requestedregion" || c.atom.values.iter().any(|v| v.contains("${"))
        })
    }

    /// Whether a condition reads something that differs from one resource to another
    /// (`aws:Resource*` keys, resource tag keys such as `rds:db-tag/...`, or a policy variable).
    pub fn conditions_depend_on_resource(&self) -> bool {
        self.conditions.iter().any(|c| {
            c.key.starts_with("aws:resource")
                || c.key.contains("-tag/")
                || c.atom.values.iter().any(|v| v.contains("${"))
        })
    }

    /// The principal ARNs a `Principal` element names exactly (AWS, federated and canonical
    /// values: an IAM user or role matches only its own ARN; account values match it through
    /// its account). `None` when the statement may match any principal (`*`, `NotPrincipal`).
    pub fn exact_principal_names(&self) -> Option<Vec<&str>> {
        let Some(m) = &self.principal else {
            return Some(Vec::new());
        };
        if m.negated || m.principals.contains(&PrincipalValue::Wildcard) {
            return None;
        }
        Some(
            m.principals
                .iter()
                .filter_map(|p| match p {
                    PrincipalValue::Aws(v)
                    | PrincipalValue::Federated(v)
                    | PrincipalValue::CanonicalUser(v) => Some(v.as_str()),
                    PrincipalValue::Service(_) | PrincipalValue::Wildcard => None,
                })
                .collect(),
        )
    }

    pub fn has_principal(&self) -> bool {
        self.principal.is_some()
    }

    pub fn is_not_principal(&self) -> bool {
        self.principal.as_ref().is_some_and(|p| p.negated)
    }

    /// How the statement's `Principal`/`NotPrincipal` matches the request principal.
    /// For `NotPrincipal` the result is `Exact` when the principal is not excluded.
    pub fn principal_matches(&self, principal: &RequestPrincipal) -> PrincipalMatch {
        let Some(m) = &self.principal else {
            return PrincipalMatch::NoMatch;
        };
        let best = m
            .principals
            .iter()
            .map(|p| principal_value_matches(p, principal))
            .max()
            .unwrap_or(PrincipalMatch::NoMatch);
        if m.negated {
            if best == PrincipalMatch::NoMatch {
                PrincipalMatch::Exact
            } else {
                PrincipalMatch::NoMatch
            }
        } else {
            best
        }
    }

    /// `Sid` or `#index`.
    pub fn label(&self) -> String {
        self.label.to_string()
    }

    /// Whether the statement's residual conditions name its policy (it has conditions, or a
    /// policy variable in `Resource`).
    fn names_its_policy(&self) -> bool {
        !self.conditions.is_empty() || self.resource_atom.is_some()
    }

    /// The residual condition reported when the `Resource` depends on a variable not known
    /// statically (made now for a statement compiled without one: no pattern of it can be
    /// unknown, but the answer must never lose the condition).
    pub fn unknown_resource_atom(&self, policy: &Arc<str>) -> Arc<Atom> {
        match &self.resource_atom {
            Some(a) => a.clone(),
            None => resource_atom(policy, &self.label, self.effect, &self.source),
        }
    }

    /// [`label`](Self::label), shared.
    pub fn shared_label(&self) -> Arc<str> {
        self.label.clone()
    }
}

/// Principal element semantics (IAM User Guide, *AWS JSON policy elements: Principal*):
/// - an account id or `arn:aws:iam::<acct>:root` names the account: "the account ... delegates
///   to the account's administrators", so it grants nothing by itself;
/// - a role ARN matches the role's sessions ("role sessions ... specify the role ARN");
/// - a user ARN matches the user and its federated-user sessions;
/// - wildcards inside principal ARNs are not supported (`*` alone means everyone).
fn principal_value_matches(p: &PrincipalValue, req: &RequestPrincipal) -> PrincipalMatch {
    match p {
        PrincipalValue::Wildcard => PrincipalMatch::Wildcard,
        PrincipalValue::Service(s) => {
            if req.kind == PrincipalKind::Service && *s == req.arn {
                PrincipalMatch::Exact
            } else {
                PrincipalMatch::NoMatch
            }
        }
        PrincipalValue::Federated(s) | PrincipalValue::CanonicalUser(s) => {
            if *s == req.arn {
                PrincipalMatch::Exact
            } else {
                PrincipalMatch::NoMatch
            }
        }
        PrincipalValue::Aws(v) => {
            let Some(acct) = req.account.as_deref() else {
                return PrincipalMatch::NoMatch;
            };
            if v.len() == 12 && v.bytes().all(|b| b.is_ascii_digit()) {
                return if v == acct {
                    PrincipalMatch::Account
                } else {
                    PrincipalMatch::NoMatch
                };
            }
            if let Some(rest) = v.strip_suffix(":root")
                && let Some(a) = rest.rsplit(':').next()
                && v.starts_with("arn:")
                && rest.contains(":iam:")
            {
                return if a == acct {
                    PrincipalMatch::Account
                } else {
                    PrincipalMatch::NoMatch
                };
            }
            if *v == req.arn {
                return PrincipalMatch::Exact;
            }
            match req.kind {
                PrincipalKind::AssumedRole => {
                    // arn:aws:iam::<acct>:role/<path/>name names sessions of that role.
                    let prefix = format!("arn:{}:iam::{acct}:role/", req.partition);
                    if let (Some(role_path), Some(role)) = (v.strip_prefix(&prefix), &req.base_name)
                        && role_path.rsplit('/').next() == Some(role.as_str())
                    {
                        return PrincipalMatch::ViaSessionIssuer;
                    }
                    PrincipalMatch::NoMatch
                }
                PrincipalKind::FederatedUser => {
                    let user = format!(
                        "arn:{}:iam::{acct}:user/{}",
                        req.partition,
                        req.base_name.as_deref().unwrap_or_default()
                    );
                    if *v == user {
                        PrincipalMatch::ViaSessionIssuer
                    } else {
                        PrincipalMatch::NoMatch
                    }
                }
                _ => PrincipalMatch::NoMatch,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    proptest! {
        /// A resource part without `${` compiles as the template of it would (the shortcut
        /// in `compile_resource`), in both policy versions.
        #[test]
        fn a_resource_without_variables_is_its_glob(text in "[a-c*?:/${}]{0,12}", v2012: bool) {
            prop_assume!(!text.contains("${"));
            let version = if v2012 { PolicyVersion::V2012 } else { PolicyVersion::V2008 };
            let template = Template::parse(&text, version.supports_variables(), true);
            let segs = template.static_segments();
            prop_assert!(segs.is_some());
            prop_assert_eq!(Glob::from_segments(segs.unwrap_or_default()), Glob::new(&text));
        }
    }
    use super::*;

    fn policy(kind: PolicyKind, json: &str) -> CompiledPolicy {
        CompiledPolicy::from_json("p", kind, json).unwrap()
    }

    fn st(json_statement: &str) -> CompiledStatement {
        let p = policy(
            PolicyKind::Identity,
            &format!(r#"{{"Version":"2012-10-17","Statement":[{json_statement}]}}"#),
        );
        (*p.statements[0]).clone()
    }

    fn res(arn: &str) -> RequestResource {
        RequestResource::parse(arn, None).unwrap()
    }

    /// Consecutive statements of a resource policy with the same `Action` texts share one
    /// compiled list (a key's grants), and each matches the actions it matches when compiled
    /// alone; an identity policy's statements compile their own.
    #[test]
    fn statements_with_the_same_actions_share_them_and_match_as_alone() {
        let statements = [
            r#"{"Effect":"Allow","Principal":"*","Action":["kms:Decrypt","kms:Encrypt"],"Resource":"*"}"#,
            r#"{"Effect":"Allow","Principal":"*","Action":["kms:Decrypt","kms:Encrypt"],"Resource":"arn:aws:kms:*:*:key/k"}"#,
            r#"{"Effect":"Allow","Principal":"*","Action":["kms:Decrypt","kms:CreateGrant"],"Resource":"*"}"#,
            r#"{"Effect":"Allow","Principal":"*","NotAction":["kms:Decrypt","kms:CreateGrant"],"Resource":"*"}"#,
            r#"{"Effect":"Allow","Principal":"*","Action":["KMS:decrypt","kms:CreateGrant"],"Resource":"*"}"#,
        ];
        let document = |statements: &[&str]| {
            format!(
                r#"{{"Version":"2012-10-17","Statement":[{}]}}"#,
                statements.join(",")
            )
        };
        let p = policy(PolicyKind::Resource, &document(&statements));
        let shared =
            |a: usize, b: usize| Arc::ptr_eq(&p.statements[a].actions, &p.statements[b].actions);
        assert!(shared(0, 1));
        assert!(!shared(1, 2));
        // The same texts under `NotAction`: the same patterns, negated apart.
        assert!(shared(2, 3));
        assert!(!shared(3, 4));
        for action in [
            "kms:Decrypt",
            "kms:Encrypt",
            "kms:CreateGrant",
            "kms:PutKeyPolicy",
        ] {
            let action = RequestAction::parse(action).unwrap();
            for (i, text) in statements.iter().enumerate() {
                let alone = policy(PolicyKind::Resource, &document(&[text]));
                assert_eq!(
                    p.statements[i].action_matches(&action),
                    alone.statements[0].action_matches(&action),
                    "{text} for {action:?}"
                );
            }
        }
        let identity = policy(
            PolicyKind::Identity,
            &document(&[
                r#"{"Effect":"Allow","Action":"kms:Decrypt","Resource":"*"}"#,
                r#"{"Effect":"Allow","Action":"kms:Decrypt","Resource":"arn:aws:kms:*:*:key/k"}"#,
            ]),
        );
        assert!(!Arc::ptr_eq(
            &identity.statements[0].actions,
            &identity.statements[1].actions
        ));
    }

    /// A statement taken alone from its compiled policy is what compiling it alone gives.
    #[test]
    fn a_statement_alone_compiles_as_it_does_in_its_policy() {
        let text = r#"{"Version":"2012-10-17","Statement":[
            {"Sid":"Root","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"},
            {"Effect":"Allow","Principal":{"Service":"rds.amazonaws.com"},"Action":["kms:Decrypt","kms:CreateGrant"],"Resource":"*","Condition":{"StringEquals":{"kms:ViaService":"rds.us-east-1.amazonaws.com"},"Bool":{"kms:GrantIsForAWSResource":"true"}}},
            {"Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::111122223333:role/Admin"},"NotAction":"kms:Describe*","NotResource":"arn:aws:kms:*:*:key/${aws:username}"}
        ]}"#;
        let whole = policy(PolicyKind::Resource, text);
        let doc = PolicyDocument::parse(text).unwrap();
        for (i, source) in doc.statements.into_iter().enumerate() {
            let compiled = CompiledPolicy::compile(
                "p",
                PolicyKind::Resource,
                PolicyDocument {
                    version: whole.version,
                    id: None,
                    statements: vec![source],
                },
            )
            .unwrap();
            let alone = whole.statement_alone(i).unwrap();
            assert_eq!(
                format!("{alone:?}"),
                format!("{compiled:?}"),
                "statement {i}"
            );
        }
        assert!(whole.statement_alone(3).is_none());
    }

    #[test]
    fn resource_scope_sorts_statements_for_indexing() {
        let scope =
            |r: &str| st(&format!(r#"{{"Effect":"Allow","Action":"rds:*",{r}}}"#)).resource_scope();
        assert_eq!(
            scope(r#""Resource":["arn:aws:rds:us-east-1:1:db:a","*"]"#),
            ResourceScope::Any
        );
        assert_eq!(
            scope(r#""Resource":["arn:AWS:RDS:US-EAST-1:1:db:Orders","arn:aws:rds:*:1:db:p*"]"#),
            ResourceScope::Listed {
                exact: vec!["aws:rds:us-east-1:1:db:Orders".to_string()],
                wildcard: true
            }
        );
        assert_eq!(
            scope(r#""NotResource":"arn:aws:rds:us-east-1:1:db:a""#),
            ResourceScope::Opaque
        );
        assert_eq!(
            scope(r#""Resource":"arn:aws:rds:us-east-1:1:db:${aws:username}""#),
            ResourceScope::Opaque
        );
        // `matches_any_resource` is `resource_scope() == Any`, without the ARNs written out.
        for r in [
            r#""Resource":["arn:aws:rds:us-east-1:1:db:a","*"]"#,
            r#""Resource":"*""#,
            r#""Resource":"arn:aws:rds:us-east-1:1:db:a""#,
            r#""Resource":"arn:aws:rds:*:1:db:p*""#,
            r#""NotResource":"*""#,
            r#""NotResource":"arn:aws:rds:us-east-1:1:db:a""#,
            r#""Resource":"arn:aws:rds:us-east-1:1:db:${aws:username}""#,
            r#""Resource":"not-an-arn""#,
        ] {
            let st = st(&format!(r#"{{"Effect":"Allow","Action":"rds:*",{r}}}"#));
            assert_eq!(
                st.matches_any_resource(),
                st.resource_scope() == ResourceScope::Any,
                "{r}"
            );
        }
        // The key of a request resource is the key of the exact pattern naming it.
        let r = res("arn:aws:rds:us-east-1:1:db:Orders");
        assert_eq!(
            resource_key(r.arn_lower.as_ref().unwrap()),
            "aws:rds:us-east-1:1:db:Orders"
        );
        let tagged = st(
            r#"{"Effect":"Allow","Action":"rds:*","Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/team":"core"}}}"#,
        );
        assert!(tagged.conditions_depend_on_resource());
        let mfa = st(
            r#"{"Effect":"Allow","Action":"rds:*","Resource":"*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}}"#,
        );
        assert!(!mfa.conditions_depend_on_resource());
    }

    #[test]
    fn retain_statements_keeps_labels_and_service_index() {
        let p = policy(
            PolicyKind::Identity,
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:Decrypt","Resource":"*"},{"Sid":"Rds","Effect":"Allow","Action":"rds:*","Resource":"*"}]}"#,
        );
        let kept = p.retain_statements(|s| {
            s.action_matches(&RequestAction::parse("rds:DeleteDBInstance").unwrap())
        });
        assert_eq!(kept.statements.len(), 1);
        assert_eq!(kept.statements[0].label(), "Rds");
        assert_eq!(kept.candidates("rds").count(), 1);
        assert_eq!(kept.candidates("kms").count(), 0);
    }

    #[test]
    fn actions_are_case_insensitive_with_wildcards() {
        let s = st(r#"{"Effect":"Allow","Action":["RDS:delete*","kms:Decr?pt"],"Resource":"*"}"#);
        assert!(s.action_matches(&RequestAction::parse("rds:DeleteDBInstance").unwrap()));
        assert!(s.action_matches(&RequestAction::parse("kms:Decrypt").unwrap()));
        assert!(!s.action_matches(&RequestAction::parse("rds:CreateDBInstance").unwrap()));
        assert!(!s.action_matches(&RequestAction::parse("ec2:DeleteVpc").unwrap()));
        let n = st(r#"{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}"#);
        assert!(n.action_matches(&RequestAction::parse("rds:DeleteDBInstance").unwrap()));
        assert!(!n.action_matches(&RequestAction::parse("iam:CreateUser").unwrap()));
    }

    #[test]
    fn resources_are_case_sensitive_and_segment_aware() {
        let ctx = RequestContext::new();
        let s = st(
            r#"{"Effect":"Allow","Action":"rds:*","Resource":"arn:aws:rds:*:111122223333:db:prod-*"}"#,
        );
        assert_eq!(
            s.resource_matches(&res("arn:aws:rds:us-east-1:111122223333:db:prod-1"), &ctx),
            Tri::Yes
        );
        assert_eq!(
            s.resource_matches(&res("arn:aws:rds:us-east-1:111122223333:db:Prod-1"), &ctx),
            Tri::No
        );
        assert_eq!(
            s.resource_matches(&res("arn:aws:rds:us-east-1:444455556666:db:prod-1"), &ctx),
            Tri::No
        );
        // `*` in the region segment does not swallow the account.
        let s2 = st(r#"{"Effect":"Allow","Action":"rds:*","Resource":"arn:aws:rds:*:db:prod"}"#);
        assert_eq!(
            s2.resource_matches(&res("arn:aws:rds:us-east-1:111122223333:db:prod"), &ctx),
            Tri::No
        );
        // A short ARN ending in `*` expands.
        let s3 = st(r#"{"Effect":"Allow","Action":"rds:*","Resource":"arn:aws:rds:*"}"#);
        assert_eq!(
            s3.resource_matches(&res("arn:aws:rds:us-east-1:111122223333:db:prod"), &ctx),
            Tri::Yes
        );
        // Resource `*` request only matched by `*`.
        assert_eq!(s.resource_matches(&res("*"), &ctx), Tri::No);
        let nr =
            st(r#"{"Effect":"Allow","Action":"rds:*","NotResource":"arn:aws:rds:*:*:db:prod-*"}"#);
        assert_eq!(
            nr.resource_matches(&res("arn:aws:rds:us-east-1:111122223333:db:dev"), &ctx),
            Tri::Yes
        );
        assert_eq!(
            nr.resource_matches(&res("arn:aws:rds:us-east-1:111122223333:db:prod-1"), &ctx),
            Tri::No
        );
    }

    #[test]
    fn resource_variables() {
        let s = st(
            r#"{"Effect":"Allow","Action":"rds:*","Resource":"arn:aws:rds:*:*:db:${aws:username}-*"}"#,
        );
        let mut ctx = RequestContext::new();
        assert_eq!(
            s.resource_matches(&res("arn:aws:rds:us-east-1:1:db:alice-1"), &ctx),
            Tri::No
        );
        ctx.insert_single("aws:username", "alice");
        assert_eq!(
            s.resource_matches(&res("arn:aws:rds:us-east-1:1:db:alice-1"), &ctx),
            Tri::Yes
        );
        assert_eq!(
            s.resource_matches(&res("arn:aws:rds:us-east-1:1:db:bob-1"), &ctx),
            Tri::No
        );
    }

    #[test]
    fn principals() {
        let p = policy(
            PolicyKind::Resource,
            r#"{"Version":"2012-10-17","Statement":[
              {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"},
              {"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::111122223333:role/ops/Admin","444455556666"]},"Action":"kms:*","Resource":"*"},
              {"Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::111122223333:user/alice"},"Action":"kms:*","Resource":"*"}
            ]}"#,
        );
        let alice = RequestPrincipal::parse("arn:aws:iam::111122223333:user/alice").unwrap();
        let session =
            RequestPrincipal::parse("arn:aws:sts::111122223333:assumed-role/Admin/s1").unwrap();
        let other = RequestPrincipal::parse("arn:aws:iam::444455556666:user/bob").unwrap();
        assert_eq!(
            p.statements[0].principal_matches(&alice),
            PrincipalMatch::Account
        );
        assert_eq!(
            p.statements[1].principal_matches(&session),
            PrincipalMatch::ViaSessionIssuer
        );
        assert_eq!(
            p.statements[1].principal_matches(&other),
            PrincipalMatch::Account
        );
        assert_eq!(
            p.statements[2].principal_matches(&alice),
            PrincipalMatch::NoMatch
        );
        assert_eq!(
            p.statements[2].principal_matches(&other),
            PrincipalMatch::Exact
        );
    }

    #[test]
    fn kind_rules() {
        let e = CompiledPolicy::from_json(
            "id",
            PolicyKind::Identity,
            r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"a:b","Resource":"*"}]}"#,
        )
        .unwrap_err();
        assert_eq!(e.path, "id.Statement.Principal");
        let e = CompiledPolicy::from_json(
            "kp",
            PolicyKind::Resource,
            r#"{"Statement":[{"Effect":"Allow","Action":"a:b","Resource":"*"}]}"#,
        )
        .unwrap_err();
        assert_eq!(e.path, "kp.Statement");
    }

    #[test]
    fn candidates_index_by_service() {
        let p = policy(
            PolicyKind::Identity,
            r#"{"Statement":[
              {"Effect":"Allow","Action":"rds:Describe*","Resource":"*"},
              {"Effect":"Allow","Action":"kms:Decrypt","Resource":"*"},
              {"Effect":"Deny","NotAction":"iam:*","Resource":"*"},
              {"Effect":"Allow","Action":["rds:a","ec2:b"],"Resource":"*"}
            ]}"#,
        );
        let idx: Vec<usize> = p.candidates("rds").map(|s| s.index).collect();
        assert_eq!(idx, vec![0, 2, 3]);
        let idx: Vec<usize> = p.candidates("s3").map(|s| s.index).collect();
        assert_eq!(idx, vec![2]);
    }
}
