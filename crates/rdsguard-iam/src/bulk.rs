//! Who-can over many resources of one account, in time linear in resources and principals.
//!
//! [`AccountModel::who_can`] evaluates every principal for every resource: quadratic for an
//! audit of thousands of databases with hundreds of principals. Most grants do not depend on
//! the resource (`"Resource": "*"`), so [`BulkWhoCan`]:
//! - evaluates once per action and kind of resource (resource type, owning account) what the
//!   principals' resource-independent statements allow: the [`SharedAnswers`];
//! - indexes the statements that name resources (exact ARNs in a hash map; wildcard patterns,
//!   tried in turn) and evaluates, per resource, only the principals with such a statement
//!   matching it, with all their policies: their answer replaces the shared one.
//!
//! The answers are exactly `who_can`'s ([`ResourceAnswer::to_action_answer`]). Principals whose
//! statements for the action read conditions that differ between resources (resource tags,
//! `aws:ResourceAccount`...), or use `NotResource` or policy variables in `Resource`, are
//! evaluated for every resource. A KMS key whose policy treats the principals it does not name
//! alike (unconditional delegation to the account, or nothing) shares answers too, the
//! principals it names being evaluated per key. Other key policies (`*`, `NotPrincipal`,
//! conditions on the account's statements) share answers between the keys created from the
//! same policy template (the same document apart from the key's own ARN in `Resource`, the
//! same tags, no grant to a principal of the account): see [`KeyTemplate`]. The rest, and
//! IAM/STS actions, are evaluated per resource for every principal with an identity grant for
//! the action or named by the policy (every principal when the policy names everyone).

use std::borrow::Cow;
use std::cell::{OnceCell, RefCell};
use std::hash::BuildHasher;
use std::rc::Rc;
use std::sync::Arc;

use rdsguard_model::{AccountSnapshot, KmsKey, RegionSnapshot};

use crate::account::{
    AccountModel, ActionAnswer, Attachment, ExternalGrant, Grant, ModelPrincipal, PrincipalAnswer,
    PrincipalIdentity, ResourceFacts, SingleStatements, Undetermined, external_grants,
    key_policy_of_with, static_knowledge,
};
use crate::compile::{
    CompiledPolicy, CompiledStatement, PolicyKind, PrincipalMatch, ResourceScope, TextCompiler, Tri,
};
use crate::context::{
    Arn, ArnInPlace, ContextLayer, PrincipalKind, RequestAction, RequestContext, RequestPrincipal,
    RequestResource,
};
use crate::error::RequestError;
use crate::eval::{PolicySet, Request, StaticDecision, evaluate_static_grants};
use crate::fasthash::FastMap;
use crate::policy::{Effect, PolicyDocument};
use crate::sar;

/// The facts `who_can` reads about each resource of an account, indexed by ARN once (instead
/// of a scan of the account per question).
pub struct ResourceCatalog<'s> {
    account: &'s AccountSnapshot,
    index: Rc<CatalogIndex>,
    /// For a catalog of one region: the whole account, indexed on the first question about a
    /// resource of another region.
    rest: Option<OnceCell<CatalogIndex>>,
}

impl<'s> ResourceCatalog<'s> {
    pub fn new(account: &'s AccountSnapshot) -> ResourceCatalog<'s> {
        ResourceCatalog {
            account,
            index: Rc::new(CatalogIndex::of_regions(account, |_| true)),
            rest: None,
        }
    }

    /// The catalog the checks of one region use: that region's resources are indexed up
    /// front (the region's checks ask about them), the rest of the account only if asked, so
    /// that a check run per region does not index the whole account in every region.
    pub fn for_region(account: &'s AccountSnapshot, region: &str) -> ResourceCatalog<'s> {
        Self::with_region_index(account, Rc::new(CatalogIndex::of_region(account, region)))
    }

    /// [`for_region`](Self::for_region) with the region's index already built (by
    /// [`CatalogIndex::of_region`] on this `account`): every check of a region shares one.
    pub fn with_region_index(
        account: &'s AccountSnapshot,
        index: Rc<CatalogIndex>,
    ) -> ResourceCatalog<'s> {
        ResourceCatalog {
            account,
            index,
            rest: Some(OnceCell::new()),
        }
    }

    /// [`facts`](Self::facts) of the resource at `place`, whose ARN is `arn`.
    /// Whether `arn` is the resource at `place` in this catalog's index (the facts of that
    /// place are the resource's).
    fn resolves_at(&self, arn: &str, place: Place) -> bool {
        self.index.resolves(self.account, arn, place)
    }

    pub(crate) fn facts_at(&self, arn: &str, place: Option<Place>) -> ResourceFacts<'s> {
        place
            .and_then(|p| self.index.facts_at(self.account, arn, p))
            .unwrap_or_else(|| self.facts(arn))
    }

    pub(crate) fn facts(&self, arn: &str) -> ResourceFacts<'s> {
        let found = self.index.facts(self.account, arn).or_else(|| {
            let all = self.rest.as_ref()?;
            all.get_or_init(|| CatalogIndex::of_regions(self.account, |_| true))
                .facts(self.account, arn)
        });
        found.unwrap_or(ResourceFacts {
            tags: None,
            rds_tag_prefix: None,
            key: None,
        })
    }
}

/// Where each resource of some regions of an account is, by ARN: positions in the snapshot,
/// not references to it, so that the index can be kept and shared (the checks of a region
/// keep one for all their questions). Same precedence as a scan: regions in order, then
/// instances, clusters, snapshots, cluster snapshots and keys; the first occurrence of an ARN
/// wins.
#[derive(Debug, Default)]
pub struct CatalogIndex {
    by_hash: FastMap<u64, Place>,
    /// Places whose ARN's hash an earlier, different ARN already has (kept, so that lookups
    /// stay exact).
    collisions: Vec<(u64, Place)>,
    /// The regions indexed (positions in the account), in order.
    regions: Vec<u32>,
    /// Places whose ARN an earlier place already has (a lookup of the ARN finds that one): a
    /// set, since a snapshot may repeat many ARNs and every place asked about is checked.
    repeated: std::collections::HashSet<Place, foldhash::fast::FixedState>,
}

/// Where a resource is in its account's snapshot: its region (position in the account), its
/// list and its position there. Asking about a resource by place ([`BulkWhoCan::answer_at`])
/// spares looking its ARN up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Place {
    pub region: u32,
    pub kind: PlaceKind,
    pub item: u32,
}

/// The region lists a [`Place`] can be in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PlaceKind {
    Instance,
    Cluster,
    Snapshot,
    ClusterSnapshot,
    Key,
}

impl PlaceKind {
    /// Every list, in the catalog's order of precedence.
    const ALL: [PlaceKind; 5] = [
        PlaceKind::Instance,
        PlaceKind::Cluster,
        PlaceKind::Snapshot,
        PlaceKind::ClusterSnapshot,
        PlaceKind::Key,
    ];
}

impl CatalogIndex {
    /// The index of the resources of `region` in `account`.
    pub fn of_region(account: &AccountSnapshot, region: &str) -> CatalogIndex {
        Self::of_regions(account, |r| r.region == region)
    }

    fn of_regions(account: &AccountSnapshot, keep: impl Fn(&RegionSnapshot) -> bool) -> Self {
        let mut index = CatalogIndex::default();
        // Sized once: a large region has hundreds of thousands of resources, rehashed at
        // each doubling.
        let places: usize = account
            .regions
            .iter()
            .filter(|r| keep(r))
            .flat_map(|r| PlaceKind::ALL.map(|kind| list_len(r, kind)))
            .sum();
        index.by_hash.reserve(places);
        for (r, region) in account.regions.iter().enumerate() {
            if !keep(region) {
                continue;
            }
            index.regions.push(r as u32);
            let rds = &region.rds;
            let kinds: [(PlaceKind, Vec<&str>); 5] = [
                (
                    PlaceKind::Instance,
                    rds.db_instances
                        .iter()
                        .map(|d| d.db_instance_arn.as_str())
                        .collect(),
                ),
                (
                    PlaceKind::Cluster,
                    rds.db_clusters
                        .iter()
                        .map(|c| c.db_cluster_arn.as_str())
                        .collect(),
                ),
                (
                    PlaceKind::Snapshot,
                    rds.db_snapshots.iter().map(|s| s.arn.as_str()).collect(),
                ),
                (
                    PlaceKind::ClusterSnapshot,
                    rds.db_cluster_snapshots
                        .iter()
                        .map(|s| s.arn.as_str())
                        .collect(),
                ),
                (
                    PlaceKind::Key,
                    region.kms.keys.iter().map(|k| k.arn.as_str()).collect(),
                ),
            ];
            for (kind, arns) in kinds {
                for (item, arn) in arns.into_iter().enumerate() {
                    let place = Place {
                        region: r as u32,
                        kind,
                        item: item as u32,
                    };
                    index.insert(account, arn, place);
                }
            }
        }
        index
    }

    fn hash(arn: &str) -> u64 {
        foldhash::fast::FixedState::default().hash_one(arn)
    }

    fn insert(&mut self, account: &AccountSnapshot, arn: &str, place: Place) {
        let hash = Self::hash(arn);
        match self.by_hash.entry(hash) {
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(place);
            }
            std::collections::hash_map::Entry::Occupied(o) => {
                let taken = |p: &Place| place_arn(account, p) == Some(arn);
                if !taken(o.get()) && !self.collisions.iter().any(|(h, p)| *h == hash && taken(p)) {
                    self.collisions.push((hash, place));
                } else {
                    self.repeated.insert(place);
                }
            }
        }
    }

    /// The facts of the resource at `place`, when a lookup of its ARN finds that place (it is
    /// in an indexed region and no earlier place has its ARN): what [`Self::facts`] gives
    /// for its ARN, without hashing it. `None` otherwise.
    fn facts_at<'s>(
        &self,
        account: &'s AccountSnapshot,
        arn: &str,
        place: Place,
    ) -> Option<ResourceFacts<'s>> {
        if !self.resolves(account, arn, place) {
            return None;
        }
        place_facts(account, &place)
    }

    /// Whether a lookup of `arn` finds `place` (in an indexed region, no earlier place with
    /// its ARN, and `arn` is the ARN there): [`Self::facts_at`] is `Some` exactly then.
    fn resolves(&self, account: &AccountSnapshot, arn: &str, place: Place) -> bool {
        self.regions.binary_search(&place.region).is_ok()
            // Most snapshots repeat no ARN: no hash then.
            && (self.repeated.is_empty() || !self.repeated.contains(&place))
            && place_arn(account, &place).is_some_and(|at| same_text(at, arn))
    }

    fn facts<'s>(&self, account: &'s AccountSnapshot, arn: &str) -> Option<ResourceFacts<'s>> {
        self.place_of(account, arn)
            .and_then(|p| place_facts(account, &p))
    }

    /// The place a lookup of `arn` finds: the first place with that ARN.
    fn place_of(&self, account: &AccountSnapshot, arn: &str) -> Option<Place> {
        let hash = Self::hash(arn);
        let first = self.by_hash.get(&hash)?;
        std::iter::once(first)
            .chain(
                self.collisions
                    .iter()
                    .filter(|(h, _)| *h == hash)
                    .map(|(_, p)| p),
            )
            .find(|p| place_arn(account, p) == Some(arn))
            .copied()
    }
}

/// `a == b`, without reading them when they are the same string (callers mostly pass the
/// snapshot's own ARN, which a byte comparison would read from memory again).
fn same_text(a: &str, b: &str) -> bool {
    (std::ptr::eq(a.as_ptr(), b.as_ptr()) && a.len() == b.len()) || a == b
}

/// How many resources the list `kind` of `region` has.
fn list_len(region: &RegionSnapshot, kind: PlaceKind) -> usize {
    let rds = &region.rds;
    match kind {
        PlaceKind::Instance => rds.db_instances.len(),
        PlaceKind::Cluster => rds.db_clusters.len(),
        PlaceKind::Snapshot => rds.db_snapshots.len(),
        PlaceKind::ClusterSnapshot => rds.db_cluster_snapshots.len(),
        PlaceKind::Key => region.kms.keys.len(),
    }
}

fn place_arn<'s>(account: &'s AccountSnapshot, p: &Place) -> Option<&'s str> {
    let region = account.regions.get(p.region as usize)?;
    let item = p.item as usize;
    Some(match p.kind {
        PlaceKind::Instance => region.rds.db_instances.get(item)?.db_instance_arn.as_str(),
        PlaceKind::Cluster => region.rds.db_clusters.get(item)?.db_cluster_arn.as_str(),
        PlaceKind::Snapshot => region.rds.db_snapshots.get(item)?.arn.as_str(),
        PlaceKind::ClusterSnapshot => region.rds.db_cluster_snapshots.get(item)?.arn.as_str(),
        PlaceKind::Key => region.kms.keys.get(item)?.arn.as_str(),
    })
}

fn place_facts<'s>(account: &'s AccountSnapshot, p: &Place) -> Option<ResourceFacts<'s>> {
    let region = account.regions.get(p.region as usize)?;
    let item = p.item as usize;
    let rds = |tags, prefix| ResourceFacts {
        tags: Some(tags),
        rds_tag_prefix: Some(prefix),
        key: None,
    };
    Some(match p.kind {
        PlaceKind::Instance => rds(&region.rds.db_instances.get(item)?.tags, "rds:db-tag/"),
        PlaceKind::Cluster => rds(&region.rds.db_clusters.get(item)?.tags, "rds:cluster-tag/"),
        PlaceKind::Snapshot => rds(
            &region.rds.db_snapshots.get(item)?.tags,
            "rds:snapshot-tag/",
        ),
        PlaceKind::ClusterSnapshot => rds(
            &region.rds.db_cluster_snapshots.get(item)?.tags,
            "rds:cluster-snapshot-tag/",
        ),
        PlaceKind::Key => {
            let k = region.kms.keys.get(item)?;
            ResourceFacts {
                tags: Some(&k.tags),
                rds_tag_prefix: None,
                key: Some(k),
            }
        }
    })
}

/// Answers of principals that hold for every resource with the same [`SharedKey`], except for
/// the principals a [`ResourceAnswer`] evaluates itself. Sorted by principal index.
#[derive(Debug, Default)]
pub struct SharedAnswers {
    allowed: Vec<(usize, SharedAllowed)>,
    pub undetermined: Vec<(usize, Undetermined)>,
    /// The name of the resource policy the grants of `allowed` cite, when they cite one: the
    /// policy of the first key of a [`KeyTemplate`]; the other keys rename it to theirs.
    pub resource_policy: Option<Arc<str>>,
}

/// The entry of a principal in a list sorted by principal index.
fn of_principal<T>(entries: &[(usize, T)], principal: usize) -> Option<&T> {
    entries
        .binary_search_by_key(&principal, |(i, _)| *i)
        .ok()
        .map(|pos| &entries[pos].1)
}

/// An allowed principal's shared answer: its own, or the one it shares with the principals
/// alike to it (a key policy open to everyone allows thousands of principals for the same
/// reasons: one answer, not thousands of copies).
#[derive(Debug)]
enum SharedAllowed {
    /// Boxed: entries are kept for every principal of the account, most of them `Alike`.
    Own(Box<PrincipalAnswer>),
    /// Another principal's answer; this principal's identity is in `identities`.
    Alike(Rc<PrincipalAnswer>, Rc<[PrincipalIdentity]>),
}

impl SharedAllowed {
    fn answer(&self, principal: usize) -> Cow<'_, PrincipalAnswer> {
        match self {
            SharedAllowed::Own(a) => Cow::Borrowed(&**a),
            SharedAllowed::Alike(a, identities) => match identities.get(principal) {
                Some(id) if id.principal != a.principal => Cow::Owned(a.with_identity(id)),
                _ => Cow::Borrowed(&**a),
            },
        }
    }

    /// The principal's ARN and incomplete-policy notes, without building its answer.
    fn identity(&self, principal: usize) -> (&str, &[String]) {
        match self {
            SharedAllowed::Own(a) => (&a.principal, &a.incomplete),
            SharedAllowed::Alike(a, identities) => match identities.get(principal) {
                Some(id) if id.principal != a.principal => (&id.principal, &id.incomplete),
                _ => (&a.principal, &a.incomplete),
            },
        }
    }
}

impl SharedAnswers {
    /// The shared answer of a principal (by index in [`AccountModel::principals`]), when allowed.
    pub fn allowed_of(&self, principal: usize) -> Option<Cow<'_, PrincipalAnswer>> {
        of_principal(&self.allowed, principal).map(|e| e.answer(principal))
    }

    /// Whether a principal's shared answer allows it.
    pub fn is_allowed(&self, principal: usize) -> bool {
        of_principal(&self.allowed, principal).is_some()
    }

    /// The allowed principals in index order: index, ARN and incomplete-policy notes (their
    /// answers are not built).
    pub fn allowed_principals(&self) -> impl Iterator<Item = (usize, &str, &[String])> {
        self.allowed.iter().map(|(i, e)| {
            let (arn, incomplete) = e.identity(*i);
            (*i, arn, incomplete)
        })
    }

    /// The allowed principals' answers, in index order.
    pub fn allowed(&self) -> impl Iterator<Item = (usize, Cow<'_, PrincipalAnswer>)> {
        self.allowed.iter().map(|(i, e)| (*i, e.answer(*i)))
    }

    /// Whether no principal is allowed by the shared answers.
    pub fn allows_none(&self) -> bool {
        self.allowed.is_empty()
    }

    /// The shared "undetermined" entry of a principal, when it has one.
    pub fn undetermined_of(&self, principal: usize) -> Option<&Undetermined> {
        of_principal(&self.undetermined, principal)
    }
}

/// What resource-independent statements can see of a resource: its type (which context keys
/// apply), its account (same-account rules), whether its tags are known.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct SharedKey {
    resource_type: Option<&'static str>,
    account: Option<Rc<str>>,
    /// The resource's region when the answers may depend on it (`aws:RequestedRegion`, see
    /// [`ActionPlan::reads_region`], or a key template's statements); `None` otherwise, so
    /// that one region's answers serve every region (plans are shared by all of them).
    region: Option<Rc<str>>,
    tags_known: bool,
    rds_tag_prefix: Option<&'static str>,
    /// Evaluated with a key policy delegating to the account (KMS keys).
    delegated: bool,
    /// Evaluated with the key policy of this template (see [`KeyTemplate`]) and the key's
    /// tags: the answers hold for every key of the template with the same tags.
    template: Option<TemplateKey>,
}

/// A key template's text and the key's tags (which resource-tag conditions read).
type TemplateKey = (Rc<str>, Vec<(String, String)>);

/// A key policy document with the key's own ARN in its `Resource` elements replaced by a
/// placeholder: keys created from the same template (the usual case in an estate) have the
/// same one, and the answers of the principals their policies do not name are the same for
/// all of them (statements naming the key itself match each key alike).
struct KeyTemplate {
    text: Rc<str>,
    /// The document alone (without the key's grants), compiled under the key's name.
    policy: CompiledPolicy,
    /// Whether a condition reads the key's tags (or another fact of the key): keys of the
    /// template then share answers only with the keys tagged alike.
    reads_resource: bool,
}

/// Placeholder for the key's own ARN in a [`KeyTemplate`]: not a valid ARN, so it can never
/// be a key's real one.
const OWN_KEY_ARN: &str = "${rdsguard:own-key-arn}";

/// Placeholder for the principals of the model that a statement of a [`KeyTemplate`] names
/// one by one: not an ARN, an account id or `*`, so it matches no principal.
const NAMED_PRINCIPAL: &str = "${rdsguard:named-principal}";

/// Replace, in the statements whose `Principal` is `{"AWS": ...}` listing principals of the
/// model only (`is_named`), that list with [`NAMED_PRINCIPAL`]; whether any was replaced.
///
/// Why it is exact: such a statement matches only the principals it names, and every key's
/// answer evaluates the principals its own policy names that way for the key alone
/// (`Mode::Template`'s `named`), replacing the shared answers. What the template shares is
/// then the same whichever principals those statements name, so keys whose policies differ
/// only by them (the console's default policy names each key's administrators and users)
/// share one template. `NotPrincipal`, `*`, account ids, services and principals outside the
/// model are left as they are: a statement naming any of them is kept whole.
fn replace_named_principals(
    statements: &mut [&mut serde_json::Value],
    is_named: &dyn Fn(&str) -> bool,
) -> bool {
    let mut replaced = false;
    for st in statements.iter_mut() {
        let Some(serde_json::Value::Object(principal)) = st.get_mut("Principal") else {
            continue;
        };
        if principal.len() != 1 {
            continue;
        }
        let Some(aws) = principal.get_mut("AWS") else {
            continue;
        };
        let named = |n: &serde_json::Value| n.as_str().is_some_and(is_named);
        let all_named = match &*aws {
            serde_json::Value::Array(items) => !items.is_empty() && items.iter().all(named),
            one => named(one),
        };
        if all_named {
            // One placeholder for the whole list: how many it names does not matter either.
            *aws = serde_json::Value::String(NAMED_PRINCIPAL.to_string());
            replaced = true;
        }
    }
    replaced
}

/// A policy document's statements (one statement may stand alone), `None` if it has none.
fn statements_of(doc: &mut serde_json::Value) -> Option<Vec<&mut serde_json::Value>> {
    match doc.get_mut("Statement") {
        Some(serde_json::Value::Array(statements)) => Some(statements.iter_mut().collect()),
        Some(st @ serde_json::Value::Object(_)) => Some(vec![st]),
        _ => None,
    }
}

/// The template of a key's policy, or `None` when the key cannot share answers: its policy
/// mentions the key anywhere but in `Resource`/`NotResource` (a condition, say), names other
/// resources than `*` and the key itself, or one of its grants names a principal of the
/// account (the grants are not part of the template). The principals of the model that its
/// statements name one by one are not part of it either ([`replace_named_principals`]).
fn key_template(
    key: &KmsKey,
    account_id: &str,
    is_named: &dyn Fn(&str) -> bool,
) -> Option<KeyTemplate> {
    let doc = key.policy.as_deref()?;
    let in_account = |p: &Option<String>| {
        p.as_deref()
            .is_some_and(|p| p == account_id || p.contains(&format!(":{account_id}:")))
    };
    if key
        .grants
        .iter()
        .flatten()
        .any(|g| in_account(&g.grantee_principal) || in_account(&g.retiring_principal))
    {
        return None;
    }
    let mut value: serde_json::Value = serde_json::from_str(doc).ok()?;
    // `Resource` must be `*` or the key itself: a pattern could match one key of the
    // template and not another.
    let mut resources_ok = true;
    let mut own = |v: &mut serde_json::Value| {
        let mut rename = |s: &mut serde_json::Value| match s.as_str() {
            Some(r) if r == key.arn => *s = serde_json::Value::String(OWN_KEY_ARN.to_string()),
            Some("*") => {}
            _ => resources_ok = false,
        };
        match v {
            serde_json::Value::Array(items) => items.iter_mut().for_each(&mut rename),
            other => rename(other),
        }
    };
    // The policy the shared answers are computed with: the key's own, but for the named
    // principals (compiled under the key's name, with its own ARN in `Resource`).
    let compiled_text = replace_named_principals(&mut statements_of(&mut value)?, is_named)
        .then(|| value.to_string());
    for st in statements_of(&mut value)? {
        for field in ["Resource", "NotResource"] {
            if let Some(v) = st.get_mut(field) {
                own(v);
            }
        }
    }
    if !resources_ok {
        return None;
    }
    let text = value.to_string();
    if text.contains(key.arn.as_str()) || text.contains(key.key_id.as_str()) {
        return None;
    }
    let parsed = PolicyDocument::parse(compiled_text.as_deref().unwrap_or(doc)).ok()?;
    let policy = CompiledPolicy::compile(
        &format!("key policy of {}", key.arn),
        PolicyKind::Resource,
        parsed,
    )
    .ok()?;
    let reads_resource = policy
        .statements
        .iter()
        .any(|st| st.conditions_depend_on_resource());
    Some(KeyTemplate {
        text: text.into(),
        policy,
        reads_resource,
    })
}

/// How a resource's answer is made.
enum Mode {
    /// Shared answers (with the key policy's statements for the account appended to their
    /// grants), and the principals evaluated for this resource.
    Shared {
        key_grants: Vec<Grant>,
        named: Vec<usize>,
    },
    /// Shared answers of the keys with the same [`KeyTemplate`] (their grants cite the
    /// policy of the key they were computed for, renamed for this one), and the principals
    /// evaluated for this key.
    Template {
        template: Rc<KeyTemplate>,
        named: Vec<usize>,
    },
    /// Only the principals the resource policy names can be allowed.
    OnlyNamed { named: Vec<usize> },
    /// Every principal that could be allowed is evaluated for this resource.
    Each,
}

/// The answer for one action on one resource: the shared answers, overridden for the
/// principals evaluated for this resource.
#[derive(Debug)]
pub struct ResourceAnswer {
    pub action: Rc<str>,
    pub shared: Rc<SharedAnswers>,
    /// Grants of the resource policy that every shared answer also has (a key policy's
    /// statements allowing the account), appended to their grants.
    pub shared_grants: Vec<Grant>,
    /// The resource policy's name in the shared answers' grants and this resource's, when
    /// they differ (answers shared by the keys of one template): renamed on reading.
    pub renamed_policy: Option<(Arc<str>, Arc<str>)>,
    /// Principals evaluated for this resource (sorted indices): their answer is in `own` or
    /// `own_undetermined`, or they are denied; their shared answer does not apply.
    pub evaluated: Vec<usize>,
    /// Sorted by principal index, like `evaluated`.
    pub own: Vec<(usize, PrincipalAnswer)>,
    /// Sorted by principal index, like `evaluated`.
    pub own_undetermined: Vec<(usize, Undetermined)>,
    pub external: Vec<ExternalGrant>,
}

impl ResourceAnswer {
    /// Whether the principal was evaluated for this resource (its shared answer is replaced).
    pub fn is_evaluated(&self, principal: usize) -> bool {
        self.evaluated.binary_search(&principal).is_ok()
    }

    /// The principal's answer when it is allowed (unconditionally or under conditions).
    pub fn allowed_of(&self, principal: usize) -> Option<Cow<'_, PrincipalAnswer>> {
        if self.is_evaluated(principal) {
            self.own_of(principal).map(Cow::Borrowed)
        } else {
            self.shared
                .allowed_of(principal)
                .map(|a| self.with_shared_grants(a))
        }
    }

    /// Whether the principal is allowed (unconditionally or under conditions).
    pub fn is_allowed(&self, principal: usize) -> bool {
        if self.is_evaluated(principal) {
            self.own_of(principal).is_some()
        } else {
            self.shared.is_allowed(principal)
        }
    }

    /// The principal's own answer for this resource, when it was evaluated and allowed.
    /// (A binary search: a key policy open to everyone evaluates every principal, and
    /// callers ask about each of them.)
    fn own_of(&self, principal: usize) -> Option<&PrincipalAnswer> {
        of_principal(&self.own, principal)
    }

    /// The principal's own "undetermined" entry for this resource (policies missing).
    pub fn own_undetermined_of(&self, principal: usize) -> Option<&Undetermined> {
        of_principal(&self.own_undetermined, principal)
    }

    /// Whether shared answers read through this one differ from the shared copy (grants
    /// appended or renamed), so they cannot be cached across resources.
    pub fn adjusts_shared(&self) -> bool {
        !self.shared_grants.is_empty() || self.renamed_policy.is_some()
    }

    fn with_shared_grants<'s>(&self, a: Cow<'s, PrincipalAnswer>) -> Cow<'s, PrincipalAnswer> {
        if !self.adjusts_shared() {
            return a;
        }
        let mut a = a.into_owned();
        if let Some((from, to)) = &self.renamed_policy {
            for g in &mut a.grants {
                if g.policy_kind == PolicyKind::Resource && *g.policy == **from {
                    g.policy = to.clone();
                }
            }
            // The residual conditions of the key policy name it too.
            if let StaticDecision::Conditional { allowed_if } = &mut a.decision {
                allowed_if.rename_policy(from, to);
            }
        }
        a.grants.extend(self.shared_grants.iter().cloned());
        Cow::Owned(a)
    }

    /// The answer as [`AccountModel::who_can`] gives it (principals in model order).
    pub fn to_action_answer(&self) -> ActionAnswer {
        fn merge<T: Clone>(
            shared: &[(usize, T)],
            own: &[(usize, T)],
            evaluated: &[usize],
        ) -> Vec<T> {
            let mut all: Vec<(usize, &T)> = shared
                .iter()
                .filter(|(i, _)| evaluated.binary_search(i).is_err())
                .chain(own.iter())
                .map(|(i, t)| (*i, t))
                .collect();
            all.sort_by_key(|(i, _)| *i);
            all.into_iter().map(|(_, t)| t.clone()).collect()
        }
        let shared_allowed: Vec<(usize, PrincipalAnswer)> = self
            .shared
            .allowed()
            .filter(|(i, _)| !self.is_evaluated(*i))
            .map(|(i, a)| (i, self.with_shared_grants(a).into_owned()))
            .collect();
        ActionAnswer {
            action: self.action.to_string(),
            principals: merge(&shared_allowed, &self.own, &self.evaluated),
            external: self.external.clone(),
            undetermined: merge(
                &self.shared.undetermined,
                &self.own_undetermined,
                &self.evaluated,
            ),
        }
    }
}

/// What is known about one action, for every resource.
struct ActionPlan {
    /// The action as asked, shared by every answer about it.
    action: Rc<str>,
    req_action: RequestAction,
    /// Policies with a statement for the action (others are skipped, as `who_can` does).
    relevant: Vec<bool>,
    /// Copies of the policies keeping only their resource-independent statements for the
    /// action (indexed like the model's policies; `None` when not needed).
    universal: Vec<Option<Box<CompiledPolicy>>>,
    /// Principals evaluated for every resource (opaque statements).
    always: Vec<usize>,
    /// Principals with an `Allow` statement for the action in a relevant identity policy.
    has_allow: Vec<bool>,
    /// The same principals, as a list.
    allowing: Vec<usize>,
    /// Resource key → policies with a statement for the action naming exactly that resource.
    exact: FastMap<String, Vec<usize>>,
    /// Policies with a wildcard `Resource` pattern for the action, to try on each resource,
    /// with the statements that apply to the action (by index).
    wildcard: Vec<(usize, Vec<u32>)>,
    /// Policy → principals using it (as a relevant identity policy or as boundary).
    users_of: FastMap<usize, Vec<usize>>,
    /// Principals with policies missing from the snapshot.
    incomplete: Vec<usize>,
    /// Policies (used as a relevant identity policy or a boundary) whose statements for the
    /// action read nothing of the request ([`CompiledStatement::reads_request`]): they treat
    /// every principal alike (see [`EvaluatedAlike`]).
    quiet: Vec<bool>,
    /// Whether answers may be shared between resources (no IAM/STS/KMS action).
    shareable_action: bool,
    /// Whether an SCP or RCP statement for the action names resources or reads resource
    /// conditions: keys alike in every other way then still get answers of their own.
    org_resource_specific: bool,
    /// Whether a statement the shared answers evaluate (the identity policies and boundaries
    /// of the principals, SCPs, RCPs) may read the requested region: the shared answers
    /// then differ between regions (otherwise one region's serve every region).
    reads_region: bool,
    /// For KMS actions: a key policy that only delegates to the account, to evaluate the
    /// principals a key policy does not name.
    delegation: Option<CompiledPolicy>,
    shared: RefCell<FastMap<SharedKey, Rc<SharedAnswers>>>,
}

/// The plans of the actions asked about (which policies and principals matter for an
/// action, and the answers shared between resources) and the compiled key policies, built
/// once per account: give the same cache to the [`BulkWhoCan`] of each region
/// ([`BulkWhoCan::for_region_with`]). A cache
/// serves the model it was first used with only (others get plans of their own): keep it
/// beside that model and drop them together, as the checks do, since the model is recognised
/// by its address.
#[derive(Default)]
pub struct PlanCache {
    /// The address of the model the plans were built for.
    model: std::cell::Cell<usize>,
    plans: RefCell<FastMap<String, Rc<ActionPlan>>>,
    /// The account's key policies, compiled once for every engine using the cache.
    keys: Rc<KeyCaches>,
    /// The identities of the model's principals (see [`BulkWhoCan::identities`]).
    identities: OnceCell<Rc<[PrincipalIdentity]>>,
}

/// KMS key policies compiled for who-can, by key ARN: with their grants, their statements
/// alone, their templates. Compiled once per key for every action, engine and check (and
/// kept for their explanations).
struct KeyCaches {
    /// Key templates by key ARN (`None`: the key shares nothing).
    templates: RefCell<FastMap<String, Option<Rc<KeyTemplate>>>>,
    /// Compiled key policies by key ARN.
    policies: RefCell<FastMap<String, Rc<CompiledPolicy>>>,
    /// The statements of each of `policies` alone, by the policy's address.
    singles: RefCell<FastMap<usize, Rc<SingleStatements>>>,
    /// Key policy texts, compiled once where keys made alike can share them (each key's
    /// compiled policy still has its own name and grants).
    texts: RefCell<TextCompiler>,
}

impl Default for KeyCaches {
    fn default() -> KeyCaches {
        KeyCaches {
            templates: RefCell::default(),
            policies: RefCell::default(),
            singles: RefCell::default(),
            texts: RefCell::new(TextCompiler::new(PolicyKind::Resource)),
        }
    }
}

/// Who-can for many resources of one account (see the module documentation).
pub struct BulkWhoCan<'a> {
    model: &'a AccountModel,
    catalog: ResourceCatalog<'a>,
    /// This engine's plans, unless `shared_plans` serves its model.
    plans: RefCell<FastMap<String, Rc<ActionPlan>>>,
    shared_plans: Option<&'a PlanCache>,
    /// Actions asked about, looked up in the service reference.
    action_refs: RefCell<FastMap<String, &'static sar::ActionRef>>,
    /// Validations by action (its address) and ARN prefix, where the prefix decides them.
    validations: RefCell<FastMap<usize, FastMap<String, sar::ValidatedRequest>>>,
    /// Principal ARN → index in the model (resource policies name principals by ARN).
    principal_by_arn: &'a FastMap<String, usize>,
    /// Principals of another account than the model's (evaluated alone on resource policies).
    foreign: Vec<usize>,
    /// A user of the account that no policy names: how resource policies treat the
    /// principals they do not name.
    account_probe: Option<RequestPrincipal>,
    /// The empty shared answers of resources evaluated principal by principal. Every
    /// `SharedAnswers` handed out lives as long as this value, so callers may key caches on
    /// its address.
    no_shared: Rc<SharedAnswers>,
    /// Key policies: this engine's, or those of `shared_plans`.
    keys: Rc<KeyCaches>,
    /// The shared answers last used for each plan (by address), with their key: resources
    /// asked in turn mostly share the previous one's.
    last_shared: RefCell<Vec<(usize, SharedKey, Rc<SharedAnswers>)>>,
    /// The resource last asked about: the checks ask several actions of each resource in turn.
    last_resource: RefCell<Option<Rc<PreparedResource<'a>>>>,
    /// This engine's principal identities, unless `shared_plans` serves its model.
    identities: OnceCell<Rc<[PrincipalIdentity]>>,
    /// The validations last made for each action asked (its reference's address), with the
    /// ARN prefix that decided them (up to [`KEPT_PREFIXES`] per action, oldest first):
    /// resources asked in turn mostly share a recent one's prefix, compared instead of hashed.
    last_validations: RefCell<Vec<(usize, String, sar::ValidatedRequest)>>,
    /// The answers of plain resources (see [`PlainAnswer`]), learnt from the first one of each.
    plain: RefCell<Vec<PlainAnswer>>,
    /// What requests know, by principal kind, resource tags and action (see
    /// [`KnownContexts`]).
    known_contexts: KnownContexts,
}

/// The answer every "plain" resource of one list of a region gets for one action: an RDS
/// resource whose ARN extends `prefix` (a validation prefix that decides the action's
/// validation), found at its place in the catalog, for an action whose answers are shared
/// (no resource policy) and whose plan evaluates no principal for every resource, and that no
/// policy names exactly or by a pattern. Such a resource's answer is the shared answers of its
/// [`SharedKey`] and nothing of its own, and every part of that key is decided by the prefix
/// (account, region, resource type) and the list (its facts: tags known, the tag prefix), so
/// one answer serves them all: returned without validating, parsing or looking the resource
/// up again. Learnt from a full answer that has nothing of its own.
struct PlainAnswer {
    /// The plan of the action (its `action` names it).
    plan: Rc<ActionPlan>,
    region: u32,
    kind: PlaceKind,
    prefix: String,
    answer: Rc<ResourceAnswer>,
}

/// Answers to one action about the resources of one list of one region, asked in turn as
/// a check's loop over the region's databases asks them: the answers of
/// [`BulkWhoCan::answer_at`], a plain resource ([`PlainAnswer`]) served the answer of the
/// last ARN prefix met after a test of its prefix and its place, instead of the search of
/// the learnt answers and the hash of its ARN that `answer_at` takes for each resource.
pub struct ListAsker<'b, 'a> {
    bulk: &'b BulkWhoCan<'a>,
    action: &'b str,
    region: u32,
    kind: PlaceKind,
    /// The plain answers of the ARN prefixes met (the prefix, the answer), the most used
    /// first, at most [`KEPT_PLAIN`] (a list's ARN shapes: manual and automated snapshots
    /// come mixed).
    last: Vec<(String, Rc<ResourceAnswer>)>,
    /// The resources of the list a policy of the action's plan names exactly (not plain),
    /// by position, with the plan's address: made with the first plain answer met.
    named: Option<(usize, Vec<bool>)>,
}

impl<'a> ListAsker<'_, 'a> {
    /// [`BulkWhoCan::answer_at`] about the resource at position `item` of the list, whose
    /// ARN is `arn`.
    pub fn answer_at(
        &mut self,
        arn: &'a str,
        item: u32,
    ) -> Result<Rc<ResourceAnswer>, RequestError> {
        let place = Place {
            region: self.region,
            kind: self.kind,
            item,
        };
        // What `plain_answer` tests, with the same learnt answer (one prefix per ARN): the
        // prefix, the exact names (by position), the place (the plan has no patterns, or
        // nothing was learnt).
        if let Some((_, named)) = &self.named
            && let Some(at) = self
                .last
                .iter()
                .position(|(prefix, _)| sar::prefix_extended_by(prefix, arn))
            && named.get(item as usize) == Some(&false)
            && self.bulk.catalog.resolves_at(arn, place)
        {
            // Moved a step towards the front at each use: the list's most common shape ends
            // up tried first.
            let at = match at.checked_sub(1) {
                Some(before) => {
                    self.last.swap(before, at);
                    before
                }
                None => at,
            };
            if let Some((_, answer)) = self.last.get(at) {
                return Ok(answer.clone());
            }
        }
        let answer = self.bulk.answer_at(self.action, arn, Some(place))?;
        self.learn(arn, place);
        Ok(answer)
    }

    /// Keep the plain answer learnt for `arn`'s prefix in this list, if any.
    fn learn(&mut self, arn: &str, place: Place) {
        if self
            .last
            .iter()
            .any(|(prefix, _)| sar::prefix_extended_by(prefix, arn))
        {
            return;
        }
        let plain = self.bulk.plain.borrow();
        let Some(known) = plain.iter().find(|p| {
            p.region == place.region
                && p.kind == place.kind
                && *p.plan.action == *self.action
                && sar::prefix_extended_by(&p.prefix, arn)
        }) else {
            return;
        };
        // Learnt only for plans without patterns (`is_plain`).
        if !known.plan.wildcard.is_empty() {
            return;
        }
        let plan_at = Rc::as_ptr(&known.plan) as usize;
        if self.named.as_ref().is_none_or(|(at, _)| *at != plan_at) {
            let named = self.bulk.named_items(&known.plan, place.region, place.kind);
            self.named = Some((plan_at, named));
            // Answers learnt under another plan go with their names.
            self.last.clear();
        }
        self.last.truncate(KEPT_PLAIN - 1);
        self.last
            .insert(0, (known.prefix.clone(), known.answer.clone()));
    }
}

/// How many [`PlainAnswer`]s are kept per action and list (ARN shapes of one list: manual and
/// automated snapshots).
const KEPT_PLAIN: usize = 4;

/// How many ARN prefixes [`BulkWhoCan::validate`] keeps at hand per action.
const KEPT_PREFIXES: usize = 4;

impl<'a> BulkWhoCan<'a> {
    pub fn new(model: &'a AccountModel, account: &'a AccountSnapshot) -> BulkWhoCan<'a> {
        Self::with_catalog(model, ResourceCatalog::new(account))
    }

    /// For the resources of one region (answers about others stay exact, see
    /// [`ResourceCatalog::for_region`]).
    pub fn for_region(
        model: &'a AccountModel,
        account: &'a AccountSnapshot,
        region: &str,
    ) -> BulkWhoCan<'a> {
        Self::with_catalog(model, ResourceCatalog::for_region(account, region))
    }

    /// [`for_region`](Self::for_region), with plans shared with the engines of the other
    /// regions (and other questions) about the same model.
    pub fn for_region_with(
        model: &'a AccountModel,
        account: &'a AccountSnapshot,
        region: &str,
        plans: &'a PlanCache,
    ) -> BulkWhoCan<'a> {
        Self::for_catalog_with(model, ResourceCatalog::for_region(account, region), plans)
    }

    /// [`for_region_with`](Self::for_region_with), given the region's catalog (say, one with
    /// a shared index: [`ResourceCatalog::with_region_index`]).
    pub fn for_catalog_with(
        model: &'a AccountModel,
        catalog: ResourceCatalog<'a>,
        plans: &'a PlanCache,
    ) -> BulkWhoCan<'a> {
        let address = std::ptr::from_ref(model) as usize;
        if plans.model.get() == 0 {
            plans.model.set(address);
        }
        let mut bulk = Self::with_catalog(model, catalog);
        if plans.model.get() == address {
            bulk.shared_plans = Some(plans);
            bulk.keys = plans.keys.clone();
        }
        bulk
    }

    fn with_catalog(model: &'a AccountModel, catalog: ResourceCatalog<'a>) -> BulkWhoCan<'a> {
        BulkWhoCan {
            model,
            catalog,
            plans: RefCell::new(FastMap::default()),
            shared_plans: None,
            action_refs: RefCell::new(FastMap::default()),
            validations: RefCell::new(FastMap::default()),
            principal_by_arn: &model.principal_by_arn,
            foreign: model
                .principals
                .iter()
                .enumerate()
                .filter(|(_, p)| {
                    p.request_principal.account.as_deref() != Some(model.account_id.as_str())
                })
                .map(|(i, _)| i)
                .collect(),
            account_probe: RequestPrincipal::parse(&format!(
                "arn:{}:iam::{}:user/rdsguard-bulk-probe-unnamed",
                model.partition, model.account_id
            ))
            .ok(),
            no_shared: Rc::new(SharedAnswers::default()),
            keys: Rc::default(),
            last_resource: RefCell::new(None),
            last_shared: RefCell::new(Vec::new()),
            identities: OnceCell::new(),
            last_validations: RefCell::new(Vec::new()),
            plain: RefCell::new(Vec::new()),
            known_contexts: KnownContexts::default(),
        }
    }

    /// The identity of each principal of the model, built once per model: answers shared by
    /// alike principals take each one's from here.
    fn identities(&self) -> Rc<[PrincipalIdentity]> {
        let cell = self
            .shared_plans
            .map_or(&self.identities, |c| &c.identities);
        cell.get_or_init(|| {
            self.model
                .principals
                .iter()
                .map(PrincipalIdentity::of)
                .collect()
        })
        .clone()
    }

    pub fn model(&self) -> &'a AccountModel {
        self.model
    }

    /// The index in [`AccountModel::principals`] of the principal with this ARN.
    pub fn principal_index(&self, arn: &str) -> Option<usize> {
        self.principal_by_arn.get(arn).copied()
    }

    /// The reference entry of `action`, looked up once per action.
    fn action_ref(&self, action: &str) -> Result<&'static sar::ActionRef, RequestError> {
        if let Some(a) = self.action_refs.borrow().get(action) {
            return Ok(a);
        }
        let a = sar::reference()?.action(action)?;
        self.action_refs.borrow_mut().insert(action.to_string(), a);
        Ok(a)
    }

    /// `action` checked against the service reference for `resource_arn`, once per action
    /// and [`sar::validation_prefix`] where the prefix decides it (the usual case: every
    /// database of a region validates alike).
    fn validate(
        &self,
        action: &str,
        resource_arn: &str,
    ) -> Result<sar::ValidatedRequest, RequestError> {
        let reference = sar::reference()?;
        let a = self.action_ref(action)?;
        let action_key = std::ptr::from_ref(a) as usize;
        // Resources asked in turn mostly extend the previous one's prefix: only the rest of
        // the ARN is then read. An ARN extends a kept prefix exactly when that prefix is its
        // own (`sar::prefix_extended_by`), so the kept ones need no other lookup.
        if let Some((_, _, v)) = self
            .last_validations
            .borrow()
            .iter()
            .find(|(k, p, _)| *k == action_key && sar::prefix_extended_by(p, resource_arn))
        {
            return Ok(v.clone());
        }
        let prefix = sar::validation_prefix(resource_arn);
        if let Some(prefix) = prefix {
            let known = self
                .validations
                .borrow()
                .get(&action_key)
                .and_then(|by_prefix| by_prefix.get(prefix))
                .cloned();
            if let Some(v) = known {
                // A few prefixes per action: lists alternate between shapes of ARN (manual and
                // automated snapshots, `…:snapshot:name` and `…:snapshot:rds:name`).
                let mut last = self.last_validations.borrow_mut();
                if last.iter().filter(|(k, _, _)| *k == action_key).count() >= KEPT_PREFIXES
                    && let Some(oldest) = last.iter().position(|(k, _, _)| *k == action_key)
                {
                    last.remove(oldest);
                }
                last.push((action_key, prefix.to_string(), v.clone()));
                return Ok(v);
            }
        }
        let validated = reference.validate_action(a, resource_arn)?;
        if let Some(prefix) = prefix
            && reference.decided_by_prefix(a, prefix)
        {
            self.validations
                .borrow_mut()
                .entry(action_key)
                .or_default()
                .insert(prefix.to_string(), validated.clone());
        }
        Ok(validated)
    }

    fn plan(&self, action: &str) -> Result<Rc<ActionPlan>, RequestError> {
        let plans = self.shared_plans.map_or(&self.plans, |c| &c.plans);
        if let Some(p) = plans.borrow().get(action) {
            return Ok(p.clone());
        }
        let plan = Rc::new(build_plan(self.model, action)?);
        plans.borrow_mut().insert(action.to_string(), plan.clone());
        Ok(plan)
    }

    /// The compiled policy of the resource (with its grants, for a KMS key), compiled once
    /// per key (the checks ask about each key for several actions).
    fn key_policy(
        &self,
        facts: &ResourceFacts<'_>,
        resource_arn: &str,
    ) -> Result<Option<Rc<CompiledPolicy>>, RequestError> {
        if let Some(k) = facts.key
            && let Some(p) = self.keys.policies.borrow().get(&k.arn)
        {
            return Ok(Some(p.clone()));
        }
        let mut compile = |text: &str, name: &str| self.keys.texts.borrow_mut().compile(name, text);
        let compiled = key_policy_of_with(facts, resource_arn, &mut compile)?.map(Rc::new);
        if let (Some(k), Some(p)) = (facts.key, &compiled) {
            self.keys
                .policies
                .borrow_mut()
                .insert(k.arn.clone(), p.clone());
        }
        Ok(compiled)
    }

    /// The statements of `kp` alone, compiled once per key policy (each in `keys.policies`,
    /// which keeps its address) for all the actions asked about the key.
    fn singles_of(&self, kp: &CompiledPolicy) -> Rc<SingleStatements> {
        let key = std::ptr::from_ref(kp) as usize;
        self.keys
            .singles
            .borrow_mut()
            .entry(key)
            .or_insert_with(|| Rc::new(SingleStatements::new(kp)))
            .clone()
    }

    /// The template of a key's policy (computed once per key).
    fn template_of(&self, key: &KmsKey) -> Option<Rc<KeyTemplate>> {
        if let Some(t) = self.keys.templates.borrow().get(&key.arn) {
            return t.clone();
        }
        // The model keeps one principal per ARN: the statement matches no other one.
        let is_named = |arn: &str| self.principal_by_arn.contains_key(arn);
        let t = key_template(key, &self.model.account_id, &is_named).map(Rc::new);
        self.keys
            .templates
            .borrow_mut()
            .insert(key.arn.clone(), t.clone());
        t
    }

    /// How a key policy treats the principals it does not name, for one action on one key:
    /// the principals it names, and the grants it gives every other principal of the account
    /// through its IAM policies (`None`: it gives them nothing). `None` overall when that
    /// depends on the principal (conditions, `*`, `NotPrincipal`, policy variables).
    fn split_key_policy(
        &self,
        kp: &CompiledPolicy,
        plan: &ActionPlan,
        resource: &RequestResource,
    ) -> Option<(Vec<usize>, Option<Vec<Grant>>)> {
        let probe = self.account_probe.as_ref()?;
        let empty = RequestContext::new();
        let mut named = Vec::new();
        let mut grants = Vec::new();
        let mut deny_all = false;
        for st in kp.candidates(&plan.req_action.service) {
            if !st.action_matches(&plan.req_action) {
                continue;
            }
            let names = st.exact_principal_names()?;
            named.extend(
                names
                    .into_iter()
                    .filter_map(|n| self.principal_by_arn.get(n).copied()),
            );
            match st.principal_matches(probe) {
                PrincipalMatch::NoMatch => continue,
                PrincipalMatch::Account => {}
                _ => return None,
            }
            if !st.conditions.is_empty() {
                return None;
            }
            match st.resource_matches(resource, &empty) {
                Tri::No => continue,
                Tri::Unknown => return None,
                Tri::Yes => {}
            }
            match st.effect {
                Effect::Deny => deny_all = true,
                Effect::Allow => grants.push(Grant {
                    policy: kp.name.clone(),
                    policy_kind: kp.kind,
                    attachment: Attachment::ResourcePolicy,
                    statement: st.shared_label(),
                    effect: Effect::Allow,
                    unconditional: true,
                }),
            }
        }
        let delegated = !deny_all && !grants.is_empty();
        Some((named, delegated.then_some(grants)))
    }

    /// The statements of `resource_policy` for `plan`'s action when a principal with no
    /// policy of its own for the action gets an answer that depends on nothing but its kind,
    /// account and whether SCPs apply to it (see [`alike_key`](Self::alike_key)): none of
    /// them, nor any SCP or RCP statement for the action, has a condition (which could read
    /// the principal's name or tags), and none uses `NotPrincipal`. `None` otherwise.
    fn alike_without_grant<'p>(
        &self,
        resource_policy: &'p CompiledPolicy,
        plan: &ActionPlan,
    ) -> Option<Vec<&'p CompiledStatement>> {
        let action = &plan.req_action;
        let org_quiet = !self.model.org.conditional_for(action);
        let statements: Vec<&CompiledStatement> = resource_policy
            .candidates(&action.service)
            .filter(|st| st.action_matches(action))
            .collect();
        let quiet = statements
            .iter()
            .all(|st| st.conditions.is_empty() && !st.is_not_principal());
        (org_quiet && quiet).then_some(statements)
    }

    /// The class of principals answered alike under the `statements` of
    /// [`alike_without_grant`](Self::alike_without_grant): `None` unless `p` has no identity
    /// policy for the action (nor one named like the resource policy, which would change how
    /// its grants read), no permissions boundary, nothing missing, and no statement names it
    /// (only its account, or everyone).
    /// `name_taken`: whether a policy of the model has the resource policy's name (compared
    /// per principal only then).
    fn alike_key(
        &self,
        p: &ModelPrincipal,
        plan: &ActionPlan,
        resource_policy: &CompiledPolicy,
        statements: &[&CompiledStatement],
        name_taken: bool,
    ) -> Option<AlikeKey> {
        let policies = &self.model.policies;
        let plain = p.boundary.is_none()
            && p.incomplete.is_empty()
            && p.identity.iter().all(|a| !plan.relevant[a.policy])
            && (!name_taken
                || p.identity
                    .iter()
                    .all(|a| policies[a.policy].name != resource_policy.name))
            && statements.iter().all(|st| {
                matches!(
                    st.principal_matches(&p.request_principal),
                    PrincipalMatch::NoMatch | PrincipalMatch::Account | PrincipalMatch::Wildcard
                )
            });
        plain.then(|| AlikeKey {
            kind: p.kind,
            account: p.request_principal.account.clone(),
            scps_apply: crate::org::OrgPolicies::scps_apply_to(&p.arn),
        })
    }

    /// What decides the answer of principal `idx` evaluated in full for `plan`'s action on a
    /// resource without a resource policy, when nothing else does: its relevant identity
    /// policies (in order, with how each is attached, as its grants cite them) and boundary,
    /// none reading the request (so neither its name, tags nor kind-specific keys play a
    /// part), its kind, account and whether SCPs apply to it. `None` otherwise (a policy that
    /// reads the request, or policies missing).
    fn evaluated_alike(&self, idx: usize, plan: &ActionPlan) -> Option<EvaluatedAlike> {
        let model = self.model;
        let p = model.principals.get(idx)?;
        if !p.incomplete.is_empty() {
            return None;
        }
        let quiet = |policy: usize| plan.quiet.get(policy).copied().unwrap_or(false);
        let mut policies = Vec::new();
        for a in p.identity.iter().filter(|a| plan.relevant[a.policy]) {
            if !quiet(a.policy) {
                return None;
            }
            let via = model.attachment_of(p, &model.policies[a.policy].name);
            policies.push((a.policy, via));
        }
        if p.boundary.is_some_and(|b| !quiet(b)) {
            return None;
        }
        Some(EvaluatedAlike {
            kind: p.kind,
            account: p.request_principal.account.clone(),
            scps_apply: crate::org::OrgPolicies::scps_apply_to(&p.arn),
            boundary: p.boundary,
            policies,
        })
    }

    /// Whether `policy` may allow `plan`'s action to a principal without an identity grant
    /// for it, other than those it names (added to `named`): allowed needs an identity grant,
    /// or a resource-policy statement naming the principal (users and roles match by exact
    /// ARN) or everyone (`*`, `NotPrincipal`; and every STS action).
    fn named_by(&self, policy: &CompiledPolicy, plan: &ActionPlan, named: &mut Vec<usize>) -> bool {
        let mut everyone = plan.req_action.service == "sts";
        for st in policy.candidates(&plan.req_action.service) {
            if st.effect != Effect::Allow || !st.action_matches(&plan.req_action) {
                continue;
            }
            match st.exact_principal_names() {
                None => everyone = true,
                Some(names) => named.extend(
                    names
                        .into_iter()
                        .filter_map(|n| self.principal_by_arn.get(n).copied()),
                ),
            }
        }
        everyone
    }

    /// What every question about `resource_arn` needs, made once for the actions asked in
    /// turn about it; the resource's account and region shared with the previous resource's
    /// when equal (they key the shared answers). The ARN is parsed only when an answer needs
    /// more than its account and region ([`PreparedResource::resource`]): most answers are
    /// the shared ones.
    fn prepare(
        &self,
        resource_arn: &'a str,
        place: Option<Place>,
    ) -> Result<Rc<PreparedResource<'a>>, RequestError> {
        let last = self.last_resource.borrow().clone();
        if let Some(p) = &last
            && same_text(p.text, resource_arn)
        {
            return Ok(p.clone());
        }
        // An ARN is read in place; anything else is parsed now (`*`, or the error).
        let parsing = match ArnInPlace::of(resource_arn) {
            Some(parts) => Parsing::Lazy(parts, OnceCell::new()),
            None => Parsing::Done(RequestResource::parse(resource_arn, None)?),
        };
        let (account, region): (Option<&str>, Option<Cow<'_, str>>) = match &parsing {
            Parsing::Lazy(parts, _) => (
                Some(parts.account()).filter(|a| !a.is_empty()),
                Some(lower_case(parts.region())),
            ),
            Parsing::Done(r) => (
                r.account.as_deref(),
                r.arn_lower.as_ref().map(|a| Cow::Borrowed(a.region())),
            ),
        };
        let same_or_new = |text: Option<&str>, previous: Option<&Rc<str>>| {
            text.map(|t| match previous {
                Some(p) if **p == *t => p.clone(),
                _ => Rc::from(t),
            })
        };
        let account = same_or_new(account, last.as_ref().and_then(|p| p.account.as_ref()));
        let region = same_or_new(
            region.as_deref(),
            last.as_ref().and_then(|p| p.region.as_ref()),
        );
        let prepared = Rc::new(PreparedResource {
            facts: self.catalog.facts_at(resource_arn, place),
            text: resource_arn,
            parsing,
            account,
            region,
            resource_layer: OnceCell::new(),
        });
        *self.last_resource.borrow_mut() = Some(prepared.clone());
        Ok(prepared)
    }

    /// What every who-can question starts with, in this order (so errors come in it): the
    /// action is one action, the ARN is a resource it applies to, the resource's facts and
    /// policy, the action's plan.
    fn begin(
        &self,
        action: &str,
        resource_arn: &'a str,
        place: Option<Place>,
    ) -> Result<Begun<'a>, RequestError> {
        if action.bytes().any(|b| b == b'*' || b == b'?') {
            return Err(RequestError::Invalid(format!(
                "bulk who-can takes one action, not the pattern `{action}`"
            )));
        }
        let validated = self.validate(action, resource_arn)?;
        let prepared = self.prepare(resource_arn, place)?;
        let key_policy = self.key_policy(&prepared.facts, resource_arn)?;
        let plan = self.plan(action)?;
        Ok(Begun {
            validated,
            prepared,
            key_policy,
            plan,
        })
    }

    /// The answers shared with other resources, for a resource answered in `mode` (Shared
    /// or Template; otherwise the empty ones), computed on first use.
    fn shared_of(
        &self,
        mode: &Mode,
        plan: &Rc<ActionPlan>,
        prepared: &PreparedResource<'a>,
        validated: &sar::ValidatedRequest,
        key_policy: Option<&CompiledPolicy>,
        asker: &Asker<'_, 'a>,
    ) -> Rc<SharedAnswers> {
        let model = self.model;
        let ask = |idx: usize, shared: Option<Option<&CompiledPolicy>>| asker.ask(idx, shared);
        let facts = prepared.facts;
        match mode {
            Mode::Shared { .. } | Mode::Template { .. } => {
                let template = match &mode {
                    Mode::Template { template, .. } => Some(template),
                    _ => None,
                };
                let key = SharedKey {
                    resource_type: validated.resource_type.map(|r| r.key.as_str()),
                    account: prepared.account.clone(),
                    // A template's statements may name the region in their resources.
                    region: if plan.reads_region || template.is_some() {
                        prepared.region.clone()
                    } else {
                        None
                    },
                    tags_known: facts.tags.is_some(),
                    rds_tag_prefix: facts.rds_tag_prefix,
                    delegated: key_policy.is_some(),
                    // The tags only when the template reads them: the identity statements
                    // evaluated here read none (principals with policies that read the
                    // resource are evaluated per resource), nor do SCPs or RCPs (a plan
                    // with organization policies that read them shares no key's answers).
                    template: template.map(|t| {
                        let tags = facts
                            .tags
                            .iter()
                            .filter(|_| t.reads_resource)
                            .flat_map(|tags| tags.iter())
                            .map(|(k, v)| (k.clone(), v.clone()))
                            .collect();
                        (t.text.clone(), tags)
                    }),
                };
                // Resources asked in turn mostly share the previous one's answers: compared,
                // not hashed.
                let plan_address = Rc::as_ptr(plan) as usize;
                let last = self
                    .last_shared
                    .borrow()
                    .iter()
                    .find(|(p, k, _)| *p == plan_address && *k == key)
                    .map(|(_, _, s)| s.clone());
                let cached = last.or_else(|| {
                    let found = plan.shared.borrow().get(&key).cloned()?;
                    let mut last = self.last_shared.borrow_mut();
                    last.retain(|(p, _, _)| *p != plan_address);
                    last.push((plan_address, key.clone(), found.clone()));
                    Some(found)
                });
                match cached {
                    Some(s) => s,
                    None => {
                        let delegation = if key_policy.is_some() {
                            plan.delegation.as_ref()
                        } else {
                            None
                        };
                        let mut s = SharedAnswers::default();
                        // The template may allow principals without an IAM grant: those it
                        // names, or anyone. Others are denied without being evaluated.
                        let possible = template.and_then(|t| {
                            let mut named = Vec::new();
                            if self.named_by(&t.policy, plan, &mut named) {
                                return None;
                            }
                            let mut possible = plan.has_allow.clone();
                            for &idx in named.iter().chain(&plan.incomplete) {
                                possible[idx] = true;
                            }
                            Some(possible)
                        });
                        // When the template lets in anyone, the principals without a policy
                        // of their own for the action get the same answer: evaluated once per
                        // kind of principal.
                        let alike = match (template, &possible) {
                            (Some(t), None) => self.alike_without_grant(&t.policy, plan),
                            _ => None,
                        };
                        // Checked once here rather than for every principal's policies.
                        let name_taken = match (template, &alike) {
                            (Some(t), Some(_)) => {
                                model.policies.iter().any(|p| p.name == t.policy.name)
                            }
                            _ => false,
                        };
                        let mut alike_answers: Vec<(AlikeKey, Option<Rc<PrincipalAnswer>>)> =
                            Vec::new();
                        let mut always = plan.always.iter().peekable();
                        for idx in 0..model.principals.len() {
                            if always.next_if_eq(&&idx).is_some() {
                                continue;
                            }
                            let answer = match template {
                                Some(_) if possible.as_ref().is_some_and(|p| !p[idx]) => None,
                                Some(t) => {
                                    let p = &model.principals[idx];
                                    let key = alike.as_ref().and_then(|statements| {
                                        self.alike_key(p, plan, &t.policy, statements, name_taken)
                                    });
                                    match key {
                                        Some(key) => {
                                            let known = alike_answers
                                                .iter()
                                                .find(|(k, _)| *k == key)
                                                .map(|(_, a)| a.clone());
                                            let answer = known.unwrap_or_else(|| {
                                                let answer =
                                                    ask(idx, Some(Some(&t.policy))).map(Rc::new);
                                                alike_answers.push((key, answer.clone()));
                                                answer
                                            });
                                            answer
                                                .map(|a| SharedAllowed::Alike(a, self.identities()))
                                        }
                                        None => ask(idx, Some(Some(&t.policy)))
                                            .map(|a| SharedAllowed::Own(Box::new(a))),
                                    }
                                }
                                None if plan.has_allow[idx] => {
                                    ask(idx, Some(delegation)).map(|mut a| {
                                        // The key's own statements are added per key.
                                        a.grants.retain(|g| g.policy_kind != PolicyKind::Resource);
                                        SharedAllowed::Own(Box::new(a))
                                    })
                                }
                                None => None,
                            };
                            push_answer(model, idx, answer, &mut s.allowed, &mut s.undetermined);
                        }
                        s.resource_policy = template.map(|t| t.policy.name.clone());
                        let s = Rc::new(s);
                        plan.shared.borrow_mut().insert(key, s.clone());
                        s
                    }
                }
            }
            _ => self.no_shared.clone(),
        }
    }

    /// The principals evaluated for this resource alone (sorted): their answers replace the
    /// shared ones.
    fn evaluated_of(
        &self,
        mode: &Mode,
        plan: &ActionPlan,
        prepared: &PreparedResource<'a>,
        key_policy: Option<&CompiledPolicy>,
    ) -> Vec<usize> {
        let model = self.model;
        // The principals to evaluate for this resource alone.
        let mut evaluated: Vec<usize> = Vec::new();
        match mode {
            Mode::Shared { named, .. } | Mode::Template { named, .. } => {
                evaluated.extend(plan.always.iter().copied());
                evaluated.extend(named.iter().copied());
                if key_policy.is_some() {
                    evaluated.extend(self.foreign.iter().copied());
                }
                let mut add_users = |policy: usize| {
                    if let Some(users) = plan.users_of.get(&policy) {
                        evaluated.extend(users.iter().copied());
                    }
                };
                if !plan.exact.is_empty()
                    && let Some(key) = prepared.key()
                    && let Some(policies) = plan.exact.get(key)
                {
                    policies.iter().for_each(|&p| add_users(p));
                }
                let empty = RequestContext::new();
                for (policy, wanted) in &plan.wildcard {
                    let statements = &model.policies[*policy].statements;
                    let matches = wanted.iter().any(|&i| {
                        statements.get(i as usize).is_some_and(|st| {
                            st.resource_matches(prepared.resource(), &empty) != Tri::No
                        })
                    });
                    if matches {
                        add_users(*policy);
                    }
                }
            }
            Mode::OnlyNamed { named } => {
                // The key policy neither names the others nor lets the account's IAM
                // policies grant: they are denied (undetermined when policies are missing).
                evaluated.extend(named.iter().copied());
                evaluated.extend(self.foreign.iter().copied());
                evaluated.extend(plan.incomplete.iter().copied());
            }
            Mode::Each => {
                let everyone = match key_policy {
                    Some(kp) => self.named_by(kp, plan, &mut evaluated),
                    None => plan.req_action.service == "sts",
                };
                if everyone {
                    evaluated.extend(0..model.principals.len());
                } else {
                    evaluated.extend(plan.allowing.iter().copied());
                }
                // The others are denied: undetermined when policies are missing.
                evaluated.extend(plan.incomplete.iter().copied());
            }
        }
        evaluated.sort_unstable();
        evaluated.dedup();
        evaluated
    }

    /// Who can perform `action` (one action, no wildcard) on `resource_arn`: the same answer
    /// as [`AccountModel::who_can`] (and the same errors), split into shared and own parts.
    pub fn answer(
        &self,
        action: &str,
        resource_arn: &'a str,
    ) -> Result<Rc<ResourceAnswer>, RequestError> {
        self.answer_at(action, resource_arn, None)
    }

    /// [`answer`](Self::answer) about the resource at `place` (whose ARN is `resource_arn`):
    /// the same answer, without looking the ARN up in the catalog when the place is indexed,
    /// and without working it out again for a plain resource ([`PlainAnswer`]: plain
    /// resources of one kind get one answer, the same `Rc`).
    pub fn answer_at(
        &self,
        action: &str,
        resource_arn: &'a str,
        place: Option<Place>,
    ) -> Result<Rc<ResourceAnswer>, RequestError> {
        let Some(place) = place else {
            return self.full_answer(action, resource_arn, None).map(Rc::new);
        };
        if let Some(answer) = self.plain_answer(action, resource_arn, place) {
            return Ok(answer);
        }
        let answer = Rc::new(self.full_answer(action, resource_arn, Some(place))?);
        self.learn_plain(action, resource_arn, place, &answer);
        Ok(answer)
    }

    /// The answer of a plain resource at `place`, when one was learnt for its action, list and
    /// ARN prefix and the resource is plain.
    fn plain_answer(&self, action: &str, arn: &str, place: Place) -> Option<Rc<ResourceAnswer>> {
        let plain = self.plain.borrow();
        let known = plain.iter().find(|p| {
            p.region == place.region
                && p.kind == place.kind
                && *p.plan.action == *action
                && sar::prefix_extended_by(&p.prefix, arn)
        })?;
        self.is_plain(&known.plan, arn, place)
            .then(|| known.answer.clone())
    }

    /// Whether the resource at `place`, whose ARN extends a prefix of a [`PlainAnswer`] of
    /// `plan`'s, is plain: found at its place, named by no policy of the plan exactly, and the
    /// plan has no patterns to try on it.
    fn is_plain(&self, plan: &ActionPlan, arn: &str, place: Place) -> bool {
        plan.wildcard.is_empty()
            && self.catalog.resolves_at(arn, place)
            // The resource's key (the ARN without `arn:`, its prefix in lower case).
            && arn
                .strip_prefix("arn:")
                .is_some_and(|key| !plan.exact.contains_key(key))
    }

    /// Keep `answer` as the [`PlainAnswer`] of its action, list and ARN prefix when the
    /// resource is plain and the answer has nothing of its own.
    fn learn_plain(&self, action: &str, arn: &str, place: Place, answer: &Rc<ResourceAnswer>) {
        let own_nothing = answer.evaluated.is_empty()
            && answer.own.is_empty()
            && answer.own_undetermined.is_empty()
            && answer.external.is_empty()
            && answer.shared_grants.is_empty()
            && answer.renamed_policy.is_none();
        if !own_nothing || place.kind == PlaceKind::Key {
            return;
        }
        let Ok(plan) = self.plan(action) else {
            return;
        };
        if !plan.shareable_action || !plan.always.is_empty() || !self.is_plain(&plan, arn, place) {
            return;
        }
        // The prefix must decide the validation, and be the key's as written (lower case).
        let Some(prefix) = sar::validation_prefix(arn) else {
            return;
        };
        let decided = sar::reference().is_ok_and(|reference| {
            self.action_ref(action)
                .is_ok_and(|a| reference.decided_by_prefix(a, prefix))
        });
        if !decided || prefix.bytes().any(|b| b.is_ascii_uppercase()) {
            return;
        }
        let mut plain = self.plain.borrow_mut();
        let same_list = |p: &PlainAnswer| {
            p.region == place.region && p.kind == place.kind && *p.plan.action == *action
        };
        if plain.iter().any(|p| same_list(p) && p.prefix == prefix) {
            return;
        }
        if plain.iter().filter(|p| same_list(p)).count() >= KEPT_PLAIN
            && let Some(oldest) = plain.iter().position(same_list)
        {
            plain.remove(oldest);
        }
        plain.push(PlainAnswer {
            plan,
            region: place.region,
            kind: place.kind,
            prefix: prefix.to_string(),
            answer: answer.clone(),
        });
    }

    /// Who-can for `action` about the resources of the list `kind` of the account's region
    /// at position `region`, asked in turn (see [`ListAsker`]).
    pub fn list_asker<'b>(
        &'b self,
        action: &'b str,
        region: u32,
        kind: PlaceKind,
    ) -> ListAsker<'b, 'a> {
        ListAsker {
            bulk: self,
            action,
            region,
            kind,
            last: Vec::new(),
            named: None,
        }
    }

    /// Which resources of the list `kind` of region `region` a policy of `plan` names
    /// exactly (the keys of [`ActionPlan::exact`], found through the catalog: the first place
    /// of each ARN), by position.
    fn named_items(&self, plan: &ActionPlan, region: u32, kind: PlaceKind) -> Vec<bool> {
        let account = self.catalog.account;
        let len = account
            .regions
            .get(region as usize)
            .map_or(0, |r| list_len(r, kind));
        let mut named = vec![false; len];
        let mut arn = String::new();
        for key in plan.exact.keys() {
            arn.clear();
            arn.push_str("arn:");
            arn.push_str(key);
            if let Some(p) = self.catalog.index.place_of(account, &arn)
                && p.region == region
                && p.kind == kind
                && let Some(slot) = named.get_mut(p.item as usize)
            {
                *slot = true;
            }
        }
        named
    }

    /// [`answer_at`](Self::answer_at) worked out in full.
    fn full_answer(
        &self,
        action: &str,
        resource_arn: &'a str,
        place: Option<Place>,
    ) -> Result<ResourceAnswer, RequestError> {
        let Begun {
            validated,
            prepared,
            key_policy,
            plan,
        } = self.begin(action, resource_arn, place)?;
        let facts = prepared.facts;
        let key_policy = key_policy.as_deref();
        let model = self.model;
        let asker = Asker::new(
            model,
            &plan,
            &validated,
            &prepared,
            key_policy,
            &self.known_contexts,
        );
        let ask = |idx: usize, shared: Option<Option<&CompiledPolicy>>| asker.ask(idx, shared);
        // How answers can be shared between resources: without a resource policy (unless the
        // action reads the resource itself), or for a KMS key whose policy treats every
        // principal it does not name alike (the usual delegation to the account).
        let is_key = || {
            prepared
                .resource()
                .arn_lower
                .as_ref()
                .is_some_and(|a| a.service() == "kms" && a.resource().starts_with("key/"))
        };
        let mode = match key_policy {
            None if plan.shareable_action => Mode::Shared {
                key_grants: Vec::new(),
                named: Vec::new(),
            },
            Some(kp) if is_key() && plan.delegation.is_some() && !plan.org_resource_specific => {
                match self.split_key_policy(kp, &plan, prepared.resource()) {
                    Some((named, Some(key_grants))) => Mode::Shared { key_grants, named },
                    Some((named, None)) => Mode::OnlyNamed { named },
                    None => Mode::Each,
                }
            }
            _ => Mode::Each,
        };
        // A key policy that the account's principals cannot share is still the same for
        // every key created from the same template.
        let mode = match (mode, key_policy, facts.key) {
            (Mode::Each, Some(kp), Some(k))
                if is_key() && plan.delegation.is_some() && !plan.org_resource_specific =>
            {
                match self.template_of(k) {
                    Some(template) => Mode::Template {
                        template,
                        named: kp
                            .statements
                            .iter()
                            .filter_map(|st| st.exact_principal_names())
                            .flatten()
                            .filter_map(|n| self.principal_by_arn.get(n).copied())
                            .collect(),
                    },
                    None => Mode::Each,
                }
            }
            (mode, _, _) => mode,
        };
        let shared = self.shared_of(&mode, &plan, &prepared, &validated, key_policy, &asker);
        let evaluated = self.evaluated_of(&mode, &plan, &prepared, key_policy);
        let mut own = Vec::new();
        let mut own_undetermined = Vec::new();
        // Without a resource policy (which may name principals) nor an organization policy
        // reading the request, principals alike in their policies for the action are asked
        // once: the members of a group whose policy names the resource, mostly.
        let alike_possible = evaluated.len() > 1
            && key_policy.is_none()
            && !model.org.reads_request_for(&plan.req_action);
        let mut alike: Vec<(EvaluatedAlike, Option<PrincipalAnswer>)> = Vec::new();
        for &idx in &evaluated {
            let key = if alike_possible {
                self.evaluated_alike(idx, &plan)
            } else {
                None
            };
            let answer = match key {
                Some(key) => match alike.iter().find(|(k, _)| *k == key) {
                    Some((_, answer)) => answer
                        .as_ref()
                        .map(|a| a.with_identity(&self.identities()[idx])),
                    None => {
                        let answer = ask(idx, None);
                        alike.push((key, answer.clone()));
                        answer
                    }
                },
                None => ask(idx, None),
            };
            push_answer(model, idx, answer, &mut own, &mut own_undetermined);
        }
        let external = key_policy
            .map(|kp| {
                external_grants(
                    kp,
                    &self.singles_of(kp),
                    &model.org.rcp_refs(),
                    &model.account_id,
                    &plan.req_action,
                    prepared.resource(),
                    &validated,
                )
            })
            .unwrap_or_default();
        let renamed_policy = match (&shared.resource_policy, key_policy) {
            (Some(from), Some(kp)) if *from != kp.name => Some((from.clone(), kp.name.clone())),
            _ => None,
        };
        let shared_grants = match mode {
            Mode::Shared { key_grants, .. } => key_grants,
            _ => Vec::new(),
        };
        Ok(ResourceAnswer {
            action: plan.action.clone(),
            shared,
            shared_grants,
            renamed_policy,
            evaluated,
            own,
            own_undetermined,
            external,
        })
    }
}

/// What a who-can question starts from ([`BulkWhoCan::begin`]).
struct Begun<'a> {
    validated: sar::ValidatedRequest,
    prepared: Rc<PreparedResource<'a>>,
    key_policy: Option<Rc<CompiledPolicy>>,
    plan: Rc<ActionPlan>,
}

/// Evaluates principals for one (action, resource), with the request context of each kind of
/// principal built when first needed.
struct Asker<'s, 'a> {
    model: &'a AccountModel,
    plan: &'s ActionPlan,
    validated: &'s sar::ValidatedRequest,
    prepared: &'s PreparedResource<'a>,
    key_policy: Option<&'s CompiledPolicy>,
    /// What requests know, shared by the askers of one engine ([`KnownContexts`]).
    known: &'s KnownContexts,
    user_base: OnceCell<RequestContext>,
    role_base: OnceCell<RequestContext>,
}

/// [`static_knowledge`] by its inputs: whether the principal is a user, whether the resource
/// has tags and its RDS tag prefix, and the condition keys the action allows (by the address
/// of the sets, which the entry keeps so that no other set can take it).
#[derive(Default)]
struct KnownContexts(RefCell<FastMap<KnownKey, KnownContext>>);

type KnownKey = (bool, bool, Option<&'static str>, usize, usize);

struct KnownContext {
    _keys: Arc<crate::fasthash::FastSet<String>>,
    _prefixes: Arc<Vec<String>>,
    context: RequestContext,
}

impl KnownContexts {
    fn of(
        &self,
        kind: PrincipalKind,
        facts: &ResourceFacts<'_>,
        validated: &sar::ValidatedRequest,
    ) -> RequestContext {
        let key = (
            kind == PrincipalKind::User,
            facts.tags.is_some(),
            facts.rds_tag_prefix,
            Arc::as_ptr(&validated.allowed_keys) as usize,
            Arc::as_ptr(&validated.allowed_prefixes) as usize,
        );
        if let Some(known) = self.0.borrow().get(&key) {
            return known.context.clone();
        }
        let context = static_knowledge(kind, facts, validated);
        self.0.borrow_mut().insert(
            key,
            KnownContext {
                _keys: validated.allowed_keys.clone(),
                _prefixes: validated.allowed_prefixes.clone(),
                context: context.clone(),
            },
        );
        context
    }
}

impl<'s, 'a> Asker<'s, 'a> {
    fn new(
        model: &'a AccountModel,
        plan: &'s ActionPlan,
        validated: &'s sar::ValidatedRequest,
        prepared: &'s PreparedResource<'a>,
        key_policy: Option<&'s CompiledPolicy>,
        known: &'s KnownContexts,
    ) -> Self {
        Asker {
            model,
            plan,
            validated,
            prepared,
            key_policy,
            known,
            user_base: OnceCell::new(),
            role_base: OnceCell::new(),
        }
    }

    fn base_of(&self, kind: PrincipalKind) -> &RequestContext {
        let cell = if kind == PrincipalKind::User {
            &self.user_base
        } else {
            &self.role_base
        };
        cell.get_or_init(|| {
            // The knowledge and the resource's layer are made once for all the actions and
            // resources that share them; the base is `AccountModel::static_base`'s.
            let knowledge = self.known.of(kind, &self.prepared.facts, self.validated);
            let layer = self.prepared.resource_layer.get_or_init(|| {
                self.model.resource_layer(
                    &self.prepared.facts,
                    self.prepared.resource().account.as_deref(),
                    self.prepared.region.as_deref(),
                )
            });
            // Frozen: every principal's context is made from it, sharing its values.
            self.model
                .static_base_from(&knowledge, layer, self.validated)
                .frozen()
        })
    }

    /// `shared`: evaluate the resource-independent statements only, with this resource
    /// policy in place of the resource's own; `None`: every statement, the resource's policy.
    fn ask(&self, idx: usize, shared: Option<Option<&CompiledPolicy>>) -> Option<PrincipalAnswer> {
        let (model, plan) = (self.model, self.plan);
        let p = &model.principals[idx];
        let ctx = self.base_of(p.kind).with_layers(vec![p.facts.clone()]);
        let pick = |policy: usize| -> &CompiledPolicy {
            match (&plan.universal[policy], shared.is_some()) {
                (Some(u), true) => u,
                _ => &model.policies[policy],
            }
        };
        let set = PolicySet {
            identity: p
                .identity
                .iter()
                .filter(|a| plan.relevant[a.policy])
                .map(|a| pick(a.policy))
                .collect(),
            permission_boundaries: p.boundary.map(|b| vec![pick(b)]).unwrap_or_default(),
            resource: shared.unwrap_or(self.key_policy),
            scp_levels: model.org.scp_refs(&p.arn),
            rcp_levels: model.org.rcp_refs(),
            ..PolicySet::default()
        };
        evaluate_principal(
            model,
            p,
            &set,
            &plan.req_action,
            self.prepared.resource(),
            &ctx,
        )
    }
}

/// Principals that get the same answer when they have no policy for an action (see
/// [`BulkWhoCan::alike_key`]).
#[derive(PartialEq, Eq)]
struct AlikeKey {
    kind: PrincipalKind,
    account: Option<String>,
    scps_apply: bool,
}

/// Principals evaluated for one resource that get the same answer but for who they are
/// (see [`BulkWhoCan::evaluated_alike`]).
#[derive(PartialEq, Eq)]
struct EvaluatedAlike {
    kind: PrincipalKind,
    account: Option<String>,
    scps_apply: bool,
    boundary: Option<usize>,
    policies: Vec<(usize, Attachment)>,
}

/// A resource asked about, parsed once for every action asked about it.
struct PreparedResource<'a> {
    /// The ARN as asked.
    text: &'a str,
    /// The ARN parsed, or read in place and parsed when first needed (see
    /// [`BulkWhoCan::prepare`]).
    parsing: Parsing<'a>,
    facts: ResourceFacts<'a>,
    account: Option<Rc<str>>,
    /// In lower case, as the parsed ARN has it.
    region: Option<Rc<str>>,
    /// What requests know from the resource ([`AccountModel::resource_layer`]), made once
    /// for every action asked about it.
    resource_layer: OnceCell<ContextLayer>,
}

/// A resource's ARN read in place and parsed on first use, or parsed already (what is not an
/// ARN: `*`).
enum Parsing<'a> {
    Lazy(ArnInPlace<'a>, OnceCell<RequestResource>),
    Done(RequestResource),
}

impl PreparedResource<'_> {
    /// The resource parsed (once).
    fn resource(&self) -> &RequestResource {
        match &self.parsing {
            Parsing::Lazy(parts, parsed) => {
                parsed.get_or_init(|| RequestResource::of_parts(*parts, None))
            }
            Parsing::Done(resource) => resource,
        }
    }

    /// [`Arn::key`] of the resource, without parsing it when the ARN is written as the key.
    fn key(&self) -> Option<&str> {
        match &self.parsing {
            Parsing::Lazy(parts, _) => parts
                .key_as_written()
                .or_else(|| self.resource().arn_lower.as_ref().map(Arn::key)),
            Parsing::Done(resource) => resource.arn_lower.as_ref().map(Arn::key),
        }
    }
}

/// `text` in ASCII lower case, copied only when it has upper-case letters.
fn lower_case(text: &str) -> Cow<'_, str> {
    if text.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(text.to_ascii_lowercase())
    } else {
        Cow::Borrowed(text)
    }
}

/// Record an evaluation: allowed answers, or "undetermined" for a denied principal with
/// missing policies (as `who_can` does).
fn push_answer<T>(
    model: &AccountModel,
    idx: usize,
    answer: Option<T>,
    allowed: &mut Vec<(usize, T)>,
    undetermined: &mut Vec<(usize, Undetermined)>,
) {
    let p = &model.principals[idx];
    match answer {
        Some(a) => allowed.push((idx, a)),
        None if !p.incomplete.is_empty() => undetermined.push((
            idx,
            Undetermined {
                principal: p.arn.clone(),
                missing: p.incomplete.clone(),
            },
        )),
        None => {}
    }
}

/// One principal's static decision, with the grants that make it (as `who_can` records them);
/// `None` when denied.
fn evaluate_principal(
    model: &AccountModel,
    p: &ModelPrincipal,
    set: &PolicySet<'_>,
    action: &RequestAction,
    resource: &RequestResource,
    ctx: &RequestContext,
) -> Option<PrincipalAnswer> {
    let req = Request {
        principal: &p.request_principal,
        action,
        resource,
        context: ctx,
    };
    // One pass with traces: the principals evaluated here are mostly allowed (they have a
    // grant for the action, or the resource policy names them or everyone). Only the
    // statements that apply are kept: the grants are made of them.
    let mut traces = Vec::new();
    let decision = evaluate_static_grants(set, &req, &mut traces);
    if matches!(decision, StaticDecision::Denied { .. }) {
        return None;
    }
    Some(PrincipalAnswer {
        principal: p.arn.clone(),
        name: p.name.clone(),
        kind: p.kind,
        groups: p.groups.clone(),
        decision,
        grants: model.grants_from(p, &traces),
        incomplete: p.incomplete.clone(),
    })
}

/// How one policy's statements for the action reach resources.
#[derive(Default)]
struct PolicyReach {
    /// A statement must be evaluated per resource (NotResource, variables, resource
    /// conditions on a `*` statement).
    opaque: bool,
    exact: Vec<String>,
    wildcard: bool,
}

fn build_plan(model: &AccountModel, action: &str) -> Result<ActionPlan, RequestError> {
    let req_action = RequestAction::parse(action)?;
    let service = req_action.service.clone();
    // Only the policies with statements for the service can be relevant; each of them read
    // once here (a policy with no statement for the service allows nothing and reads nothing).
    let mut relevant = vec![false; model.policies.len()];
    let mut allows = vec![false; model.policies.len()];
    let mut reads_request = vec![false; model.policies.len()];
    for i in model.policies_for_service(&service) {
        for st in model.policies[i].candidates(&service) {
            if st.action_matches(&req_action) {
                relevant[i] = true;
                allows[i] |= st.effect == Effect::Allow;
                reads_request[i] |= st.reads_request();
            }
        }
    }
    let mut used = vec![false; model.policies.len()];
    let mut users_of: FastMap<usize, Vec<usize>> = FastMap::default();
    for (idx, p) in model.principals.iter().enumerate() {
        let policies = p
            .identity
            .iter()
            .map(|a| a.policy)
            .filter(|&i| relevant[i])
            .chain(p.boundary);
        for policy in policies {
            used[policy] = true;
            let users = users_of.entry(policy).or_default();
            if users.last() != Some(&idx) {
                users.push(idx);
            }
        }
    }
    let mut reach: Vec<PolicyReach> = Vec::with_capacity(model.policies.len());
    // Boxed: a plan is built per action asked about, and the account's 20,000 policies were
    // 2 MB of fresh memory per plan for the few thousand the action concerns.
    let mut universal: Vec<Option<Box<CompiledPolicy>>> = Vec::with_capacity(model.policies.len());
    for (i, policy) in model.policies.iter().enumerate() {
        let mut r = PolicyReach::default();
        if !used[i] {
            reach.push(r);
            universal.push(None);
            continue;
        }
        for st in policy.candidates(&service) {
            if !st.action_matches(&req_action) {
                continue;
            }
            match st.resource_scope() {
                ResourceScope::Any => r.opaque |= st.conditions_depend_on_resource(),
                ResourceScope::Opaque => r.opaque = true,
                ResourceScope::Listed { exact, wildcard } => {
                    r.exact.extend(exact);
                    r.wildcard |= wildcard;
                }
            }
        }
        universal.push(Some(Box::new(policy.retain_statements(|st| {
            st.action_matches(&req_action) && st.matches_any_resource()
        }))));
        reach.push(r);
    }
    let quiet = (0..model.policies.len())
        .map(|i| used[i] && !reads_request[i])
        .collect();
    let mut exact: FastMap<String, Vec<usize>> = FastMap::default();
    let mut wildcard = Vec::new();
    for (i, r) in reach.iter().enumerate() {
        for key in &r.exact {
            let policies = exact.entry(key.clone()).or_default();
            if policies.last() != Some(&i) {
                policies.push(i);
            }
        }
        if r.wildcard {
            // The statements that apply to the action: only their resources vary.
            let policy = &model.policies[i];
            let statements = policy
                .candidate_indices(&service)
                .filter(|&s| {
                    policy
                        .statements
                        .get(s as usize)
                        .is_some_and(|st| st.action_matches(&req_action))
                })
                .collect();
            wildcard.push((i, statements));
        }
    }
    let mut always = Vec::new();
    let mut has_allow = Vec::with_capacity(model.principals.len());
    let mut incomplete = Vec::new();
    for (idx, p) in model.principals.iter().enumerate() {
        let relevant_identity = || p.identity.iter().map(|a| a.policy).filter(|&i| relevant[i]);
        if relevant_identity()
            .chain(p.boundary)
            .any(|i| reach[i].opaque)
        {
            always.push(idx);
        }
        has_allow.push(relevant_identity().any(|i| allows[i]));
        if !p.incomplete.is_empty() {
            incomplete.push(idx);
        }
    }
    // SCP or RCP statements that name resources decide differently per resource.
    let org_resource_specific = model.org.resource_specific_for(&req_action);
    let reads_region = model.org.reads_region_for(&req_action)
        || model.policies.iter().enumerate().any(|(i, policy)| {
            used[i]
                && policy
                    .statements
                    .iter()
                    .any(|st| st.conditions_may_read_region())
        });
    let shareable_action =
        !matches!(service.as_str(), "iam" | "sts" | "kms") && !org_resource_specific;
    let allowing = (0..has_allow.len()).filter(|&i| has_allow[i]).collect();
    let delegation = if service == "kms" {
        CompiledPolicy::from_json(
            "(key policy delegating to the account)",
            PolicyKind::Resource,
            &format!(
                r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:{}:iam::{}:root"}},"Action":"*","Resource":"*"}}]}}"#,
                model.partition, model.account_id
            ),
        )
        .ok()
    } else {
        None
    };
    Ok(ActionPlan {
        action: Rc::from(action),
        req_action,
        relevant,
        universal,
        always,
        has_allow,
        allowing,
        exact,
        wildcard,
        users_of,
        incomplete,
        quiet,
        shareable_action,
        org_resource_specific,
        reads_region,
        delegation,
        shared: RefCell::new(FastMap::default()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rdsguard_model::{DbInstance, Tags};

    fn db(arn: &str, env: &str) -> DbInstance {
        DbInstance {
            db_instance_arn: arn.into(),
            tags: Tags::from_iter([("env".to_string(), env.to_string())]),
            ..Default::default()
        }
    }

    fn env_of(facts: &ResourceFacts<'_>) -> Option<String> {
        facts.tags?.get("env").cloned()
    }

    /// The catalog finds every resource by ARN, the first occurrence of a duplicated ARN
    /// winning (as a scan would), resources of other regions through the whole account, and
    /// nothing for unknown ARNs.
    #[test]
    fn catalog_lookups_keep_scan_precedence() {
        let a = "arn:aws:rds:us-east-1:111122223333:db:a";
        let b = "arn:aws:rds:eu-west-1:111122223333:db:b";
        let mut east = RegionSnapshot::new("us-east-1");
        east.rds.db_instances = vec![db(a, "first"), db(a, "second")];
        east.kms.keys.push(KmsKey {
            arn: "arn:aws:kms:us-east-1:111122223333:key/k".into(),
            ..Default::default()
        });
        let mut west = RegionSnapshot::new("eu-west-1");
        west.rds.db_instances = vec![db(b, "west"), db(a, "third")];
        let account = AccountSnapshot {
            account_id: "111122223333".into(),
            regions: vec![east, west],
            ..Default::default()
        };
        for catalog in [
            ResourceCatalog::new(&account),
            ResourceCatalog::for_region(&account, "us-east-1"),
            ResourceCatalog::with_region_index(
                &account,
                Rc::new(CatalogIndex::of_region(&account, "eu-west-1")),
            ),
        ] {
            assert_eq!(env_of(&catalog.facts(b)).as_deref(), Some("west"));
            let key = catalog.facts("arn:aws:kms:us-east-1:111122223333:key/k");
            assert!(key.key.is_some() && key.rds_tag_prefix.is_none());
            let missing = catalog.facts("arn:aws:rds:us-east-1:111122223333:db:none");
            assert!(missing.tags.is_none() && missing.key.is_none());
        }
        // Asked by place, every catalog gives what it gives for the place's ARN (a repeated
        // ARN: its first place's facts), and ignores a place whose ARN is another.
        for catalog in [
            ResourceCatalog::new(&account),
            ResourceCatalog::for_region(&account, "us-east-1"),
            ResourceCatalog::for_region(&account, "eu-west-1"),
        ] {
            for (r, region) in account.regions.iter().enumerate() {
                for (i, d) in region.rds.db_instances.iter().enumerate() {
                    let place = Place {
                        region: r as u32,
                        kind: PlaceKind::Instance,
                        item: i as u32,
                    };
                    let arn = d.db_instance_arn.as_str();
                    let by_arn = env_of(&catalog.facts(arn));
                    assert_eq!(env_of(&catalog.facts_at(arn, Some(place))), by_arn, "{arn}");
                    let other = catalog.facts_at("arn:aws:rds:us-east-1:1:db:x", Some(place));
                    assert!(other.tags.is_none());
                }
            }
        }
        // The region's own first occurrence wins; a region index alone knows only its region.
        let east_first = ResourceCatalog::for_region(&account, "us-east-1");
        assert_eq!(env_of(&east_first.facts(a)).as_deref(), Some("first"));
        let west_only = CatalogIndex::of_region(&account, "eu-west-1");
        let west_a = west_only.facts(&account, a);
        assert_eq!(west_a.as_ref().and_then(env_of).as_deref(), Some("third"));
        assert!(
            west_only
                .facts(&account, "arn:aws:kms:us-east-1:111122223333:key/k")
                .is_none()
        );
    }

    /// Two different ARNs with the same hash are both found (a collision kept aside).
    #[test]
    fn colliding_hashes_stay_exact() {
        let a = "arn:aws:rds:us-east-1:111122223333:db:a";
        let b = "arn:aws:rds:us-east-1:111122223333:db:b";
        let mut east = RegionSnapshot::new("us-east-1");
        east.rds.db_instances = vec![db(a, "a"), db(b, "b")];
        let account = AccountSnapshot {
            regions: vec![east],
            ..Default::default()
        };
        // Force the collision: both places under `a`'s hash.
        let hash = CatalogIndex::hash(a);
        let place = |item| Place {
            region: 0,
            kind: PlaceKind::Instance,
            item,
        };
        let mut index = CatalogIndex::default();
        index.by_hash.insert(hash, place(0));
        index.collisions.push((hash, place(1)));
        assert_eq!(
            index
                .facts(&account, a)
                .as_ref()
                .and_then(env_of)
                .as_deref(),
            Some("a")
        );
        // `b` hashes elsewhere: not found under `a`'s hash, as its own place is not indexed.
        assert!(index.facts(&account, b).is_none());
        // Inserting `b` under the taken hash goes aside, once.
        let mut index = CatalogIndex::default();
        index.by_hash.insert(CatalogIndex::hash(b), place(0));
        index.insert(&account, b, place(1));
        index.insert(&account, b, place(1));
        assert_eq!(index.collisions.len(), 1);
        assert_eq!(
            index
                .facts(&account, b)
                .as_ref()
                .and_then(env_of)
                .as_deref(),
            Some("b")
        );
    }

    /// A list asked in turn: its plain resources get the plain answer of their prefix from
    /// the asker itself (the resource a policy names exactly, and a place repeating another's
    /// ARN, from the engine), each the engine's answer.
    #[test]
    fn list_askers_serve_plain_resources_and_only_them() {
        use rdsguard_model::{IamData, IamRole, InlinePolicy};
        let arn = |name: &str| format!("arn:aws:rds:us-east-1:111122223333:db:{name}");
        let role = |name: &str, resource: &str| IamRole {
            name: name.into(),
            arn: format!("arn:aws:iam::111122223333:role/{name}"),
            inline_policies: vec![InlinePolicy {
                name: "p".into(),
                document: format!(
                    r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"rds:DeleteDBInstance","Resource":"{resource}"}}]}}"#
                ),
            }],
            ..Default::default()
        };
        let mut east = RegionSnapshot::new("us-east-1");
        east.rds.db_instances = ["a", "b", "named", "c", "a"]
            .iter()
            .map(|n| db(&arn(n), "prod"))
            .collect();
        let account = AccountSnapshot {
            account_id: "111122223333".into(),
            partition: "aws".into(),
            iam: Some(IamData {
                roles: vec![role("admin", "*"), role("owner", &arn("named"))],
                ..Default::default()
            }),
            regions: vec![east],
            ..Default::default()
        };
        let Some(model) = AccountModel::build(&account) else {
            panic!("the account has IAM data");
        };
        let bulk = BulkWhoCan::new(&model, &account);
        let mut asker = bulk.list_asker("rds:DeleteDBInstance", 0, PlaceKind::Instance);
        let dbs = &account.regions[0].rds.db_instances;
        let mut got = Vec::new();
        for (i, d) in dbs.iter().enumerate() {
            let answer = asker.answer_at(&d.db_instance_arn, i as u32);
            got.push(answer.map_err(|e| e.to_string()));
        }
        let Ok(got) = got.into_iter().collect::<Result<Vec<_>, _>>() else {
            panic!("every database is answered");
        };
        // The asker learnt the prefix's plain answer and which database the plan names.
        assert_eq!(asker.last.len(), 1);
        assert_eq!(
            asker.named.as_ref().map(|(_, named)| named.clone()),
            Some(vec![false, false, true, false, false])
        );
        // The plain databases share one answer; the named one and the repeated place have
        // answers of their own, worked out by the engine.
        assert!(Rc::ptr_eq(&got[0], &got[1]) && Rc::ptr_eq(&got[1], &got[3]));
        assert!(!Rc::ptr_eq(&got[2], &got[0]) && !Rc::ptr_eq(&got[4], &got[0]));
        let allowed = |a: &ResourceAnswer| {
            a.to_action_answer()
                .principals
                .iter()
                .map(|p| p.principal.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(allowed(&got[0]).len(), 1);
        assert_eq!(allowed(&got[2]).len(), 2);
        // Each is what the engine answers about its place.
        let fresh = BulkWhoCan::new(&model, &account);
        for (i, d) in dbs.iter().enumerate() {
            let place = Place {
                region: 0,
                kind: PlaceKind::Instance,
                item: i as u32,
            };
            let Ok(expected) =
                fresh.answer_at("rds:DeleteDBInstance", &d.db_instance_arn, Some(place))
            else {
                panic!("the engine answers");
            };
            assert_eq!(
                got[i].to_action_answer(),
                expected.to_action_answer(),
                "{i}"
            );
        }
    }
}
