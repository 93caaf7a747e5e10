//! Per-region lookup tables (resources by id, KMS keys, gaps, AWS Backup coverage), built once
//! per region through the engine's memo so that checks resolve references with hash lookups
//! instead of scanning a whole collection for each resource (which made evaluation quadratic).
//!
//! Tables hold positions into the region's vectors, not references, because memoized values
//! must be `'static`; the accessors take the same region back to return references. Every
//! lookup returns exactly what the linear scan it replaces returned (the first match in
//! snapshot order).

/// Maps keyed by the snapshot's identifiers and ARNs, asked once per result: foldhash, several
/// times faster than SipHash on these keys, randomly seeded per process like the standard
/// maps (never iterated: order does not matter).
type FastMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

use std::hash::BuildHasher;
use std::rc::Rc;

use hashbrown::HashTable;
use rdsguard_model::{
    DbCluster, EngineVersion, Gap, KmsAlias, KmsKey, Op, OptionGroup, ParameterGroup,
    RegionSnapshot, SecurityGroup,
};

use crate::engine::RegionCtx;

/// The position of the first item of a list under each of its `N` keys, keeping no copy of
/// the keys: they are read back from the items, which every lookup is given again. Building
/// one hashes each key once, where a map of owned keys also allocated and copied each
/// (100,000 of each per table in a large region).
struct Positions<T: 'static, const N: usize> {
    /// (position, which of the item's keys).
    table: HashTable<(usize, usize)>,
    keys: for<'x> fn(&'x T) -> [&'x str; N],
    state: foldhash::fast::RandomState,
}

impl<T: 'static, const N: usize> Positions<T, N> {
    fn new(items: &[T], keys: for<'x> fn(&'x T) -> [&'x str; N]) -> Self {
        let state = foldhash::fast::RandomState::default();
        // Sized for every key up front: growing would hash the keys read so far again.
        let mut table = HashTable::with_capacity(items.len() * N);
        let key_at = |&(p, k): &(usize, usize)| items.get(p).map(|item| keys(item)[k]);
        for (i, item) in items.iter().enumerate() {
            for (k, key) in keys(item).into_iter().enumerate() {
                let hash = state.hash_one(key);
                if table.find(hash, |e| key_at(e) == Some(key)).is_none() {
                    table.insert_unique(hash, (i, k), |e| {
                        key_at(e).map_or(0, |key| state.hash_one(key))
                    });
                }
            }
        }
        Positions { table, keys, state }
    }

    /// The position of the first of `items` (the list the table was built from) under `key`.
    fn get(&self, items: &[T], key: &str) -> Option<usize> {
        let hash = self.state.hash_one(key);
        let found = self.table.find(hash, |&(p, k)| {
            items.get(p).is_some_and(|item| (self.keys)(item)[k] == key)
        });
        found.map(|&(p, _)| p)
    }

    /// The first of `items` under `key`.
    fn item<'r>(&self, items: &'r [T], key: &str) -> Option<&'r T> {
        self.get(items, key).and_then(|i| items.get(i))
    }
}

/// The gaps of one operation: the first whole-operation gap and the first gap per resource.
#[derive(Default)]
struct OpGaps {
    whole: Option<usize>,
    by_resource: FastMap<Box<str>, usize>,
}

/// Lookup tables over one region's snapshot data. Get them with [`RegionLookups::of`].
pub(crate) struct RegionLookups {
    clusters: Positions<DbCluster, 1>,
    /// Built when first asked: the network checks find the databases' groups while judging
    /// their exposure, and look them up here only when that did not run.
    security_groups: std::cell::OnceCell<Positions<SecurityGroup, 1>>,
    option_groups: Positions<OptionGroup, 1>,
    db_parameter_groups: Positions<ParameterGroup, 1>,
    cluster_parameter_groups: Positions<ParameterGroup, 1>,
    /// Keys by ARN and by key id.
    keys: Positions<KmsKey, 2>,
    /// Positions of the engine versions of each engine, in snapshot order.
    engine_versions: FastMap<Box<str>, Vec<usize>>,
    /// Aliases by name (`alias/...`).
    aliases: Positions<KmsAlias, 1>,
    /// ARNs AWS Backup protects; `None` when not collected.
    protected: Option<Positions<String, 1>>,
    /// Gaps by service, then operation.
    gaps: FastMap<Box<str>, FastMap<Box<str>, OpGaps>>,
}

impl RegionLookups {
    /// The tables of the context's region, built on first use and shared by every check.
    pub(crate) fn of(ctx: &RegionCtx<'_>) -> Rc<RegionLookups> {
        ctx.refs
            .lookups
            .get_or_init(|| {
                ctx.memo
                    .get_or_init_plain(|| RegionLookups::new(ctx.region))
            })
            .clone()
    }

    pub(crate) fn new(region: &RegionSnapshot) -> RegionLookups {
        let rds = &region.rds;
        let mut gaps: FastMap<Box<str>, FastMap<Box<str>, OpGaps>> = FastMap::default();
        for (i, g) in region.gaps.iter().enumerate() {
            let op = gaps
                .entry(Box::from(g.service.as_str()))
                .or_default()
                .entry(Box::from(g.operation.as_str()))
                .or_default();
            match &g.resource {
                None => {
                    op.whole.get_or_insert(i);
                }
                Some(r) => {
                    op.by_resource.entry(Box::from(r.as_str())).or_insert(i);
                }
            }
        }
        let mut engine_versions: FastMap<Box<str>, Vec<usize>> = FastMap::default();
        for (i, v) in rds.engine_versions.iter().enumerate() {
            engine_versions
                .entry(Box::from(v.engine.as_str()))
                .or_default()
                .push(i);
        }
        RegionLookups {
            engine_versions,
            clusters: Positions::new(&rds.db_clusters, |c| [&c.db_cluster_identifier]),
            security_groups: std::cell::OnceCell::new(),
            option_groups: Positions::new(&rds.option_groups, |g| [&g.name]),
            db_parameter_groups: Positions::new(&rds.db_parameter_groups, |g| [&g.name]),
            cluster_parameter_groups: Positions::new(&rds.db_cluster_parameter_groups, |g| {
                [&g.name]
            }),
            keys: Positions::new(&region.kms.keys, |k| [&k.arn, &k.key_id]),
            aliases: Positions::new(&region.kms.aliases, |a| [&a.alias_name]),
            protected: region
                .backup
                .protected_resource_arns
                .as_ref()
                .map(|arns| Positions::new(arns, |a| [a])),
            gaps,
        }
    }

    pub(crate) fn cluster<'r>(
        &self,
        region: &'r RegionSnapshot,
        id: &str,
    ) -> Option<&'r DbCluster> {
        self.clusters.item(&region.rds.db_clusters, id)
    }

    /// The versions RDS offers for `engine`, in snapshot order.
    pub(crate) fn engine_versions<'r, 's>(
        &'s self,
        region: &'r RegionSnapshot,
        engine: &str,
    ) -> Offered<'r, 's> {
        Offered {
            all: &region.rds.engine_versions,
            positions: self.engine_versions.get(engine).map_or(&[], Vec::as_slice),
        }
    }

    /// Position of the first security group with this id in the region's list.
    pub(crate) fn security_group_index(&self, region: &RegionSnapshot, id: &str) -> Option<usize> {
        self.security_groups
            .get_or_init(|| Positions::new(&region.ec2.security_groups, |g| [&g.group_id]))
            .get(&region.ec2.security_groups, id)
    }

    pub(crate) fn option_group<'r>(
        &self,
        region: &'r RegionSnapshot,
        name: &str,
    ) -> Option<&'r OptionGroup> {
        self.option_groups.item(&region.rds.option_groups, name)
    }

    pub(crate) fn db_parameter_group<'r>(
        &self,
        region: &'r RegionSnapshot,
        name: &str,
    ) -> Option<&'r ParameterGroup> {
        self.db_parameter_groups
            .item(&region.rds.db_parameter_groups, name)
    }

    pub(crate) fn cluster_parameter_group<'r>(
        &self,
        region: &'r RegionSnapshot,
        name: &str,
    ) -> Option<&'r ParameterGroup> {
        self.cluster_parameter_groups
            .item(&region.rds.db_cluster_parameter_groups, name)
    }

    /// [`rdsguard_model::KmsData::resolve`] with hash lookups: key ARN, key id, alias name or
    /// alias ARN.
    pub(crate) fn key<'r>(
        &self,
        region: &'r RegionSnapshot,
        reference: &str,
    ) -> Option<&'r KmsKey> {
        let key_at = |k: &str| self.keys.item(&region.kms.keys, k);
        if let Some(k) = key_at(reference) {
            return Some(k);
        }
        let alias_name = match reference.split_once(":alias/") {
            Some((_, name)) => format!("alias/{name}"),
            None => reference.to_string(),
        };
        let alias = self.aliases.item(&region.kms.aliases, &alias_name)?;
        key_at(alias.target_key_id.as_deref()?)
    }

    /// Whether AWS Backup protects `arn`; `None` when the protected resources were not
    /// collected.
    pub(crate) fn backup_protects(&self, region: &RegionSnapshot, arn: &str) -> Option<bool> {
        let listed = region
            .backup
            .protected_resource_arns
            .as_deref()
            .unwrap_or_default();
        self.protected
            .as_ref()
            .map(|p| p.get(listed, arn).is_some())
    }

    /// [`RegionSnapshot::gap`] with hash lookups: the first gap recorded for `op`, for the
    /// whole operation or for `resource`.
    pub(crate) fn gap<'r>(
        &self,
        region: &'r RegionSnapshot,
        op: Op,
        resource: Option<&str>,
    ) -> Option<&'r Gap> {
        let gaps = self.gaps.get(op.service)?.get(op.operation)?;
        let own = resource.and_then(|r| gaps.by_resource.get(r).copied());
        let first = match (gaps.whole, own) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        first.and_then(|i| region.gaps.get(i))
    }
}

/// The versions RDS offers for one engine ([`RegionLookups::engine_versions`]), read in
/// place.
pub(crate) struct Offered<'r, 's> {
    all: &'r [EngineVersion],
    positions: &'s [usize],
}

impl<'r> Offered<'r, '_> {
    pub(crate) fn len(&self) -> usize {
        self.positions.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.positions.is_empty()
    }

    /// The offered version `version`, if listed.
    pub(crate) fn find(&self, version: &str) -> Option<&'r EngineVersion> {
        self.positions
            .iter()
            .filter_map(|&i| self.all.get(i))
            .find(|v| v.engine_version == version)
    }
}

#[cfg(test)]
mod tests {
    use super::{Positions, RegionLookups};
    use proptest::prelude::*;
    use rdsguard_model::*;

    proptest! {
        /// A table of positions finds, for every key, the first item having it under any of
        /// its keys: what the linear scan finds (keys drawn from a small set, so that they
        /// repeat within and across items).
        #[test]
        fn positions_find_the_first_item_with_the_key(
            items in prop::collection::vec(("[abc]{0,2}", "[abc]{0,2}"), 0..40),
        ) {
            let table = Positions::new(&items, |(a, b)| [a.as_str(), b.as_str()]);
            let single = Positions::new(&items, |(a, _)| [a.as_str()]);
            for key in ["", "a", "b", "c", "aa", "ab", "ba", "cc", "abc"] {
                let first = items.iter().position(|(a, b)| a == key || b == key);
                prop_assert_eq!(table.get(&items, key), first, "{}", key);
                let first = items.iter().position(|(a, _)| a == key);
                prop_assert_eq!(single.get(&items, key), first, "{}", key);
                prop_assert_eq!(single.item(&items, key), first.map(|i| &items[i]));
            }
        }
    }

    fn gap(op: Op, resource: Option<&str>, message: &str) -> Gap {
        let mut g = Gap::new(op, Some("us-east-1"), GapKind::AccessDenied, message);
        g.resource = resource.map(str::to_string);
        g
    }

    #[test]
    fn gaps_match_the_linear_lookup() {
        let mut r = RegionSnapshot::new("us-east-1");
        r.gaps = vec![
            gap(ops::KMS_DESCRIBE_KEY, Some("k1"), "k1 first"),
            gap(ops::KMS_DESCRIBE_KEY, None, "whole"),
            gap(ops::KMS_DESCRIBE_KEY, Some("k2"), "k2 after whole"),
            gap(ops::KMS_LIST_KEYS, Some("k1"), "other op"),
        ];
        let l = RegionLookups::new(&r);
        for op in [
            ops::KMS_DESCRIBE_KEY,
            ops::KMS_LIST_KEYS,
            ops::KMS_LIST_ALIASES,
        ] {
            for res in [None, Some("k1"), Some("k2"), Some("k3")] {
                assert_eq!(
                    l.gap(&r, op, res).map(|g| &g.message),
                    r.gap(op, res).map(|g| &g.message),
                    "{op:?} {res:?}"
                );
            }
        }
        assert_eq!(
            l.gap(&r, ops::KMS_DESCRIBE_KEY, Some("k1"))
                .unwrap()
                .message,
            "k1 first"
        );
        assert_eq!(
            l.gap(&r, ops::KMS_DESCRIBE_KEY, Some("k2"))
                .unwrap()
                .message,
            "whole"
        );
        assert!(l.gap(&r, ops::KMS_LIST_ALIASES, None).is_none());
    }

    #[test]
    fn keys_resolve_like_kms_data() {
        let mut r = RegionSnapshot::new("us-east-1");
        let key = |id: &str| KmsKey {
            key_id: id.into(),
            arn: format!("arn:aws:kms:us-east-1:111122223333:key/{id}"),
            ..Default::default()
        };
        r.kms.keys = vec![key("k1"), key("k2")];
        r.kms.aliases = vec![
            KmsAlias {
                alias_name: "alias/app".into(),
                target_key_id: Some("k2".into()),
                ..Default::default()
            },
            KmsAlias {
                alias_name: "alias/dangling".into(),
                target_key_id: Some("k9".into()),
                ..Default::default()
            },
        ];
        let l = RegionLookups::new(&r);
        for reference in [
            "k1",
            "arn:aws:kms:us-east-1:111122223333:key/k2",
            "alias/app",
            "arn:aws:kms:us-east-1:111122223333:alias/app",
            "alias/dangling",
            "alias/none",
            "k3",
        ] {
            assert_eq!(
                l.key(&r, reference).map(|k| &k.key_id),
                r.kms.resolve(reference).map(|k| &k.key_id),
                "{reference}"
            );
        }
        assert_eq!(l.key(&r, "alias/app").unwrap().key_id, "k2");
        assert!(l.key(&r, "alias/dangling").is_none());
    }

    #[test]
    fn backup_coverage_is_unknown_when_not_collected() {
        let mut r = RegionSnapshot::new("us-east-1");
        assert_eq!(RegionLookups::new(&r).backup_protects(&r, "arn:x"), None);
        r.backup.protected_resource_arns = Some(vec!["arn:x".into()]);
        let l = RegionLookups::new(&r);
        assert_eq!(l.backup_protects(&r, "arn:x"), Some(true));
        assert_eq!(l.backup_protects(&r, "arn:y"), Some(false));
    }
}
