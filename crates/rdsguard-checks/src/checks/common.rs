//! Helpers shared by checks: resource references, engine families, cluster and key lookups.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;

use rdsguard_findings::{ResourceRef, Text};
use rdsguard_model::{
    DbCluster, DbInstance, DbProxy, DbSnapshot, Gap, KmsKey, Op, RegionSnapshot, ops,
};

use super::lookups::RegionLookups;
use crate::engine::{RegionCtx, ResourceTable, SharedResource};

/// Maps and sets keyed by the snapshot's identifiers and looked up per resource: foldhash
/// (SipHash, the standard hasher, showed in profiles of large accounts), seeded the same way
/// every time.
pub(crate) type FastMap<K, V> = HashMap<K, V, foldhash::fast::FixedState>;
pub(crate) type FastSet<K> = std::collections::HashSet<K, foldhash::fast::FixedState>;

/// The references of a region's resources, built once and shared by every finding about the
/// resource (a database has one per check): by position for the region's lists of databases,
/// snapshots, proxies and keys, otherwise by the addresses of the snapshot's type and id
/// strings, which outlive the region's evaluation. Findings carry them by their number in the
/// run's table.
#[derive(Default)]
pub struct SharedRefs {
    /// Where the references are numbered (the run's table).
    table: Rc<ResourceTable>,
    by_address: RefCell<HashMap<RefKey, (Arc<ResourceRef>, SharedResource), AddressHash>>,
    /// The references of the region's instances, clusters, snapshots, cluster snapshots,
    /// proxies and keys by position in their vectors: checks walk those in order, so this is
    /// a sequential read where the hash map was a cache miss per finding.
    by_position: [RefCell<Vec<Option<SharedResource>>>; Positional::COUNT],
    /// The account id and region name, shared by every reference made in the region.
    names: std::cell::OnceCell<(Text, Text)>,
    /// The KMS key each resource names, by [`KeyField`] and position (see [`KeyRef`]).
    keys: [RefCell<Vec<u32>>; KeyField::COUNT],
    /// The region's lookup tables (the memo's), asked for by most checks for each resource:
    /// kept here rather than found in the memo each time.
    pub(crate) lookups: std::cell::OnceCell<std::rc::Rc<super::lookups::RegionLookups>>,
    /// The region's instance engines (the memo's), asked for by several checks for each
    /// instance ([`instance_family`]): kept here likewise.
    engines: std::cell::OnceCell<std::rc::Rc<InstanceEngines>>,
    /// The TLS checks' verdicts by parameter group (the memo's), kept here likewise.
    pub(crate) group_verdicts: std::cell::OnceCell<std::rc::Rc<super::tls::GroupVerdicts>>,
    /// Times read from the region's text (certificate expiries), by text: a region's
    /// instances share a few expiry dates, each parsed once.
    pub(crate) times: RefCell<FastMap<Box<str>, Option<time::OffsetDateTime>>>,
}

impl SharedRefs {
    /// The references of a region, numbered in `table` (the run's).
    pub(crate) fn numbered_in(table: Rc<ResourceTable>) -> SharedRefs {
        SharedRefs {
            table,
            ..SharedRefs::default()
        }
    }
}

/// The account id and region name of the context's region, as texts shared by every
/// resource reference of the region.
pub(crate) fn region_names(ctx: &RegionCtx<'_>) -> (Text, Text) {
    ctx.refs
        .names
        .get_or_init(|| {
            // Static: each resource reference copies both (see `Text::interned`).
            (
                Text::interned(&ctx.account.account_id),
                Text::interned(&ctx.region.region),
            )
        })
        .clone()
}

/// The region vectors whose references are kept by position (see [`SharedRefs`]).
#[derive(Clone, Copy)]
pub(crate) enum Positional {
    Instances,
    Clusters,
    Snapshots,
    ClusterSnapshots,
    Proxies,
    Keys,
    SecurityGroups,
}

impl Positional {
    const COUNT: usize = 7;
}

/// The shared reference of `item` (of type `resource_type`, with `id` and `arn`), an element
/// of `items` (a vector of the context's region), kept by position: made the first time,
/// without the lookup by address (the position is its only key).
#[inline(always)]
fn positional<T>(
    ctx: &RegionCtx<'_>,
    kind: Positional,
    items: &[T],
    item: &T,
    (resource_type, id, arn): (&'static str, &str, &str),
) -> SharedResource {
    positional_with(ctx, kind, items, item, (resource_type, id), || {
        Some(arn.to_string())
    })
}

/// [`positional`], with the ARN made by `arn` when the reference is made.
// Inlined: asked for every resource by every check (once made, a reference is a lookup by
// position).
#[inline(always)]
pub(crate) fn positional_with<T>(
    ctx: &RegionCtx<'_>,
    kind: Positional,
    items: &[T],
    item: &T,
    (resource_type, id): (&'static str, &str),
    arn: impl FnOnce() -> Option<String>,
) -> SharedResource {
    // Not an element of `items` (a copy, say): no position, found by address.
    let Some(index) = position_of(items, item) else {
        return shared_resource(ctx, resource_type, id, arn);
    };
    let known = ctx.refs.by_position[kind as usize]
        .borrow()
        .get(index)
        .copied()
        .flatten();
    match known {
        Some(r) => r,
        None => positional_new(ctx, kind, items.len(), index, resource_type, id, arn()),
    }
}

/// The reference at `index` of a list of `len` made (the first time it is asked for).
#[cold]
#[inline(never)]
fn positional_new(
    ctx: &RegionCtx<'_>,
    kind: Positional,
    len: usize,
    index: usize,
    resource_type: &'static str,
    id: &str,
    arn: Option<String>,
) -> SharedResource {
    let built = new_resource(ctx, resource_type, id, arn);
    let mut refs = ctx.refs.by_position[kind as usize].borrow_mut();
    if refs.len() != len {
        refs.resize(len, None);
    }
    if let Some(slot) = refs.get_mut(index) {
        *slot = Some(built);
    }
    built
}

/// A new reference of the context's region, numbered in the run's table.
fn new_resource(
    ctx: &RegionCtx<'_>,
    resource_type: &'static str,
    id: &str,
    arn: Option<String>,
) -> SharedResource {
    let (account_id, region) = region_names(ctx);
    let built = Arc::new(ResourceRef {
        resource_type: Text::from_static(resource_type),
        id: id.to_string(),
        arn,
        account_id,
        region: Some(region),
    });
    SharedResource(ctx.refs.table.add(built))
}

pub(crate) use rdsguard_model::arn_part;
pub(crate) use rdsguard_model::position_of;

/// The AWS service an engine name belongs to when it is not RDS (Neptune and DocumentDB
/// share RDS's APIs).
pub(crate) fn non_rds_service(engine: &str) -> Option<&'static str> {
    match engine {
        "neptune" => Some("Amazon Neptune"),
        "docdb" => Some("Amazon DocumentDB"),
        _ => None,
    }
}

/// What the checks read of each instance's engine, by position in the region's instances:
/// read once per region instead of once per check (each read of an engine name is a cache
/// miss in a large region).
pub(crate) struct InstanceEngines {
    /// The instance runs an RDS engine ([`non_rds_service`] is `None`).
    pub(crate) rds: Vec<bool>,
    pub(crate) families: Vec<EngineFamily>,
}

pub(crate) fn instance_engines(ctx: &RegionCtx<'_>) -> std::rc::Rc<InstanceEngines> {
    engines_of(ctx).clone()
}

/// [`instance_engines`], borrowed from the region's references.
fn engines_of<'c>(ctx: &'c RegionCtx<'_>) -> &'c std::rc::Rc<InstanceEngines> {
    ctx.refs
        .engines
        .get_or_init(|| instance_engines_in_memo(ctx))
}

fn instance_engines_in_memo(ctx: &RegionCtx<'_>) -> std::rc::Rc<InstanceEngines> {
    ctx.memo.get_or_init_plain(|| {
        let instances = &ctx.region.rds.db_instances;
        InstanceEngines {
            rds: instances
                .iter()
                .map(|d| non_rds_service(&d.engine).is_none())
                .collect(),
            families: instances
                .iter()
                .map(|d| EngineFamily::of(&d.engine))
                .collect(),
        }
    })
}

/// The engine family of `db`, an instance of the context's region.
pub(crate) fn instance_family(ctx: &RegionCtx<'_>, db: &DbInstance) -> EngineFamily {
    position_of(&ctx.region.rds.db_instances, db)
        .and_then(|i| engines_of(ctx).families.get(i).copied())
        .unwrap_or_else(|| EngineFamily::of(&db.engine))
}

/// Addresses of the type and id strings, and the id's length.
type RefKey = (usize, usize, usize);

/// Hashes the address keys of [`SharedRefs`]: they are not attacker-chosen, and SipHash cost
/// more than the rest of the lookup (it runs once per finding).
type AddressHash = rdsguard_findings::AddressHash;

/// The shared reference of a resource of the context's region: built (with `arn()`) the
/// first time, then the same `Arc` for every finding about it. `id` should be a string of the
/// snapshot (or of a region-wide memo): its address is the key, checked against the content.
pub(crate) fn shared_resource(
    ctx: &RegionCtx<'_>,
    resource_type: &'static str,
    id: &str,
    arn: impl FnOnce() -> Option<String>,
) -> SharedResource {
    let key = (
        resource_type.as_ptr() as usize,
        id.as_ptr() as usize,
        id.len(),
    );
    let mut refs = ctx.refs.by_address.borrow_mut();
    if let Some((shared, number)) = refs.get(&key)
        && shared.id == id
        && shared.resource_type == resource_type
    {
        return *number;
    }
    // New, or a different string at a reused address: (re)build.
    let number = new_resource(ctx, resource_type, id, arn());
    if let Some(built) = ctx.refs.table.get(number.0) {
        refs.insert(key, (built, number));
    }
    number
}

fn resource(
    ctx: &RegionCtx<'_>,
    resource_type: &'static str,
    id: &str,
    arn: Option<&str>,
) -> SharedResource {
    shared_resource(ctx, resource_type, id, || arn.map(str::to_string))
}

#[inline]
pub fn instance_resource(ctx: &RegionCtx<'_>, db: &DbInstance) -> SharedResource {
    positional(
        ctx,
        Positional::Instances,
        &ctx.region.rds.db_instances,
        db,
        (
            "AwsRdsDbInstance",
            &db.db_instance_identifier,
            &db.db_instance_arn,
        ),
    )
}

pub fn cluster_resource(ctx: &RegionCtx<'_>, c: &DbCluster) -> SharedResource {
    positional(
        ctx,
        Positional::Clusters,
        &ctx.region.rds.db_clusters,
        c,
        (
            "AwsRdsDbCluster",
            &c.db_cluster_identifier,
            &c.db_cluster_arn,
        ),
    )
}

pub fn snapshot_resource(ctx: &RegionCtx<'_>, s: &DbSnapshot) -> SharedResource {
    positional(
        ctx,
        Positional::Snapshots,
        &ctx.region.rds.db_snapshots,
        s,
        ("AwsRdsDbSnapshot", &s.identifier, &s.arn),
    )
}

pub fn cluster_snapshot_resource(ctx: &RegionCtx<'_>, s: &DbSnapshot) -> SharedResource {
    positional(
        ctx,
        Positional::ClusterSnapshots,
        &ctx.region.rds.db_cluster_snapshots,
        s,
        ("AwsRdsDbClusterSnapshot", &s.identifier, &s.arn),
    )
}

pub fn proxy_resource(ctx: &RegionCtx<'_>, p: &DbProxy) -> SharedResource {
    positional(
        ctx,
        Positional::Proxies,
        &ctx.region.rds.db_proxies,
        p,
        ("AwsRdsDbProxy", &p.name, &p.arn),
    )
}

pub fn key_resource(ctx: &RegionCtx<'_>, k: &KmsKey) -> SharedResource {
    let names = ("AwsKmsKey", k.key_id.as_str(), k.arn.as_str());
    positional(ctx, Positional::Keys, &ctx.region.kms.keys, k, names)
}

/// A region-wide resource, for checks about the region as a whole (trails, subscriptions).
pub fn region_resource(ctx: &RegionCtx<'_>, resource_type: &'static str) -> SharedResource {
    resource(ctx, resource_type, &ctx.region.region, None)
}

/// A kind of resource and its identifier, displayed as `kind id` ("DB instance orders"):
/// written into messages without a string of its own.
#[derive(Clone, Copy)]
pub(crate) struct Described<'a>(pub(crate) &'static str, pub(crate) &'a str);

impl std::fmt::Display for Described<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.0, self.1)
    }
}

/// Engine families, which decide parameter names, log types and defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EngineFamily {
    Postgres,
    MySql,
    MariaDb,
    Oracle,
    SqlServer,
    Db2,
    AuroraMySql,
    AuroraPostgres,
    Other,
}

impl EngineFamily {
    pub fn of(engine: &str) -> EngineFamily {
        match engine {
            "postgres" => EngineFamily::Postgres,
            "mysql" => EngineFamily::MySql,
            "mariadb" => EngineFamily::MariaDb,
            "aurora" | "aurora-mysql" => EngineFamily::AuroraMySql,
            "aurora-postgresql" => EngineFamily::AuroraPostgres,
            e if e.starts_with("oracle") || e.starts_with("custom-oracle") => EngineFamily::Oracle,
            e if e.starts_with("sqlserver") || e.starts_with("custom-sqlserver") => {
                EngineFamily::SqlServer
            }
            e if e.starts_with("db2") => EngineFamily::Db2,
            _ => EngineFamily::Other,
        }
    }

    pub fn is_aurora(self) -> bool {
        matches!(
            self,
            EngineFamily::AuroraMySql | EngineFamily::AuroraPostgres
        )
    }

    /// The engine's default port (RDS.23).
    pub fn default_port(self) -> Option<u16> {
        match self {
            EngineFamily::Postgres | EngineFamily::AuroraPostgres => Some(5432),
            EngineFamily::MySql | EngineFamily::MariaDb | EngineFamily::AuroraMySql => Some(3306),
            EngineFamily::Oracle => Some(1521),
            EngineFamily::SqlServer => Some(1433),
            EngineFamily::Db2 => Some(50000),
            EngineFamily::Other => None,
        }
    }
}

/// The cluster an instance belongs to, if any.
pub fn cluster_of<'a>(region: &'a RegionSnapshot, db: &DbInstance) -> Option<&'a DbCluster> {
    let id = db.db_cluster_identifier.as_deref()?;
    region
        .rds
        .db_clusters
        .iter()
        .find(|c| c.db_cluster_identifier == id)
}

/// What is known about the KMS key behind a `KmsKeyId` reference.
pub enum KeyLookup<'a> {
    /// The key is in the snapshot.
    Found(&'a KmsKey),
    /// The key is not in the snapshot; the string says why (gap or other account).
    Unknown(String),
}

/// Resolve a key reference (ARN, id or alias) against the region's KMS data, explaining why
/// when it cannot be resolved (so callers report NOT_ASSESSED, never PASS).
pub fn lookup_key<'a>(region: &'a RegionSnapshot, reference: &str) -> KeyLookup<'a> {
    match region.kms.resolve(reference) {
        Some(k) => KeyLookup::Found(k),
        None => unresolved_key(|op| region.gap(op, Some(reference)), reference),
    }
}

/// The key references of the region's resources that are resolved once by position for
/// every check reading them (see [`KeyRef`]).
#[derive(Clone, Copy)]
pub(crate) enum KeyField {
    Instance,
    PerformanceInsights,
    Cluster,
    Snapshot,
    ClusterSnapshot,
}

impl KeyField {
    const COUNT: usize = 5;
}

/// Slot values of [`SharedRefs::keys`]: not resolved yet, resolved to no key of the snapshot,
/// else the key's position in the region's keys plus `KEY_AT`.
const KEY_NOT_RESOLVED: u32 = 0;
const KEY_NOT_FOUND: u32 = 1;
const KEY_AT: u32 = 2;

/// A KMS key reference (`KmsKeyId`: ARN, id or alias) and, when it is a field of one of the
/// region's resources, where: the key it names is then resolved once for every check
/// ([`lookup_key_ref`]); each resolution hashes the reference, a cache miss per resource in a
/// large region, and six checks resolve the key of every database.
#[derive(Clone, Copy)]
pub(crate) struct KeyRef<'r> {
    pub(crate) text: &'r str,
    /// The field, the resource's index and the length of its list.
    at: Option<(KeyField, usize, usize)>,
}

impl<'r> KeyRef<'r> {
    /// A reference resolved each time it is looked up.
    pub(crate) fn text(text: &'r str) -> Self {
        KeyRef { text, at: None }
    }

    fn field<T>(
        field: KeyField,
        items: &[T],
        item: &T,
        text: Option<&'r String>,
    ) -> Option<KeyRef<'r>> {
        let text = text?.as_str();
        let at = position_of(items, item).map(|i| (field, i, items.len()));
        Some(KeyRef { text, at })
    }

    /// The storage key of a DB instance of the context's region.
    pub(crate) fn instance(ctx: &RegionCtx<'_>, db: &'r DbInstance) -> Option<KeyRef<'r>> {
        let items = &ctx.region.rds.db_instances;
        Self::field(KeyField::Instance, items, db, db.kms_key_id.as_ref())
    }

    /// The Performance Insights key of a DB instance of the context's region.
    pub(crate) fn performance_insights(
        ctx: &RegionCtx<'_>,
        db: &'r DbInstance,
    ) -> Option<KeyRef<'r>> {
        let items = &ctx.region.rds.db_instances;
        let text = db.performance_insights_kms_key_id.as_ref();
        Self::field(KeyField::PerformanceInsights, items, db, text)
    }

    /// The storage key of a DB cluster of the context's region.
    pub(crate) fn cluster(ctx: &RegionCtx<'_>, c: &'r DbCluster) -> Option<KeyRef<'r>> {
        let items = &ctx.region.rds.db_clusters;
        Self::field(KeyField::Cluster, items, c, c.kms_key_id.as_ref())
    }

    /// The key of a DB snapshot or DB cluster snapshot of the context's region.
    pub(crate) fn snapshot(ctx: &RegionCtx<'_>, s: &'r DbSnapshot) -> Option<KeyRef<'r>> {
        let rds = &ctx.region.rds;
        let (field, items) = if position_of(&rds.db_cluster_snapshots, s).is_some() {
            (KeyField::ClusterSnapshot, &rds.db_cluster_snapshots)
        } else {
            (KeyField::Snapshot, &rds.db_snapshots)
        };
        Self::field(field, items, s, s.kms_key_id.as_ref())
    }
}

/// [`lookup_key_in`] for a resource's reference: resolved once per resource of the region.
pub(crate) fn lookup_key_ref<'a>(ctx: &RegionCtx<'a>, r: KeyRef<'_>) -> KeyLookup<'a> {
    let Some((field, index, len)) = r.at else {
        return lookup_key_in(ctx, r.text);
    };
    let keys = &ctx.region.kms.keys;
    let mut slots = ctx.refs.keys[field as usize].borrow_mut();
    if slots.len() != len {
        slots.resize(len, KEY_NOT_RESOLVED);
    }
    let Some(slot) = slots.get_mut(index) else {
        return lookup_key_in(ctx, r.text);
    };
    let at = slot.checked_sub(KEY_AT).and_then(|i| keys.get(i as usize));
    if let Some(k) = at {
        return KeyLookup::Found(k);
    }
    let was = *slot;
    // Not found before: looked up again for the reason (rare: keys are mostly in the snapshot).
    let lookup = lookup_key_in(ctx, r.text);
    if was == KEY_NOT_RESOLVED {
        *slot = match &lookup {
            KeyLookup::Found(k) => position_of(keys, k)
                .and_then(|i| u32::try_from(i).ok())
                .and_then(|i| i.checked_add(KEY_AT))
                .unwrap_or(KEY_NOT_RESOLVED),
            KeyLookup::Unknown(_) => KEY_NOT_FOUND,
        };
    }
    lookup
}

/// [`lookup_key`] through the region's lookup tables (for checks resolving a key per
/// resource).
pub(crate) fn lookup_key_in<'a>(ctx: &RegionCtx<'a>, reference: &str) -> KeyLookup<'a> {
    let lookups = RegionLookups::of(ctx);
    match lookups.key(ctx.region, reference) {
        Some(k) => KeyLookup::Found(k),
        None => unresolved_key(|op| lookups.gap(ctx.region, op, Some(reference)), reference),
    }
}

/// The gap recorded for `op` in the context's region, for the whole operation or for
/// `resource` ([`RegionSnapshot::gap`] through the region's lookup tables).
pub(crate) fn gap_in<'a>(ctx: &RegionCtx<'a>, op: Op, resource: Option<&str>) -> Option<&'a Gap> {
    RegionLookups::of(ctx).gap(ctx.region, op, resource)
}

fn unresolved_key<'a>(gap: impl Fn(Op) -> Option<&'a Gap>, reference: &str) -> KeyLookup<'a> {
    for op in [
        ops::KMS_LIST_KEYS,
        ops::KMS_DESCRIBE_KEY,
        ops::KMS_LIST_ALIASES,
    ] {
        if let Some(g) = gap(op) {
            return KeyLookup::Unknown(g.describe());
        }
    }
    KeyLookup::Unknown(format!(
        "KMS key {reference} is not in the snapshot (another account's key, or not collected)"
    ))
}

#[cfg(test)]
mod tests {
    use rdsguard_model::{KmsAlias, KmsKey};

    use super::*;
    use crate::Config;
    use crate::engine::Memo;
    use crate::testkit::{ACCOUNT, now, region, snapshot};

    fn found_arn(l: &KeyLookup<'_>) -> Result<String, String> {
        match l {
            KeyLookup::Found(k) => Ok(k.arn.clone()),
            KeyLookup::Unknown(why) => Err(why.clone()),
        }
    }

    /// A resource's key resolved by position is the key its reference resolves to, the first
    /// time and every time after (ARN, key id, alias name, alias ARN, unknown key).
    #[test]
    fn keys_resolved_by_position_match_their_references() {
        let key_arn = |id: &str| format!("arn:aws:kms:us-east-1:{ACCOUNT}:key/{id}");
        let mut r = region();
        for id in ["k1", "k2"] {
            r.kms.keys.push(KmsKey {
                arn: key_arn(id),
                key_id: id.into(),
                ..Default::default()
            });
        }
        r.kms.aliases.push(KmsAlias {
            alias_name: "alias/app".into(),
            alias_arn: Some(format!("arn:aws:kms:us-east-1:{ACCOUNT}:alias/app")),
            target_key_id: Some("k2".into()),
        });
        let references = [
            Some(key_arn("k1")),
            Some("k2".to_string()),
            Some("alias/app".to_string()),
            Some(format!("arn:aws:kms:us-east-1:{ACCOUNT}:alias/app")),
            Some(key_arn("gone")),
            None,
        ];
        for (i, reference) in references.iter().enumerate() {
            r.rds.db_instances.push(DbInstance {
                db_instance_identifier: format!("db{i}"),
                kms_key_id: reference.clone(),
                performance_insights_kms_key_id: references[references.len() - 1 - i].clone(),
                ..Default::default()
            });
        }
        let snap = snapshot(r, None);
        let account = &snap.accounts[0];
        let (memo, account_memo, refs) = (Memo::default(), Memo::default(), SharedRefs::default());
        let ctx = RegionCtx {
            snapshot: &snap,
            account,
            region: &account.regions[0],
            config: &Config::default(),
            now: now(),
            memo: &memo,
            account_memo: &account_memo,
            refs: &refs,
        };
        let want = [
            Ok(key_arn("k1")),
            Ok(key_arn("k2")),
            Ok(key_arn("k2")),
            Ok(key_arn("k2")),
        ];
        for _ in 0..2 {
            for (i, db) in ctx.region.rds.db_instances.iter().enumerate() {
                for key in [
                    KeyRef::instance(&ctx, db),
                    KeyRef::performance_insights(&ctx, db),
                ] {
                    let Some(key) = key else {
                        continue;
                    };
                    assert!(key.at.is_some(), "db{i} is one of the region's instances");
                    let by_position = found_arn(&lookup_key_ref(&ctx, key));
                    assert_eq!(by_position, found_arn(&lookup_key_in(&ctx, key.text)));
                    assert_eq!(by_position, found_arn(&lookup_key(ctx.region, key.text)));
                    if let Some(w) = want
                        .iter()
                        .zip(&references)
                        .find_map(|(w, r)| (r.as_deref() == Some(key.text)).then_some(w))
                    {
                        assert_eq!(&by_position, w, "{}", key.text);
                    } else {
                        assert!(by_position.is_err(), "{}", key.text);
                    }
                }
            }
        }
        let copy = ctx.region.rds.db_instances[0].clone();
        let key = KeyRef::instance(&ctx, &copy);
        assert!(
            key.is_some_and(|k| k.at.is_none()),
            "a copy has no position"
        );
    }
}
