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
type FastSet<K> = std::collections::HashSet<K, foldhash::fast::RandomState>;

use std::rc::Rc;

use rdsguard_model::{
    DbCluster, DbInstance, EngineVersion, Gap, KmsKey, Op, OptionGroup, ParameterGroup,
    RegionSnapshot, SecurityGroup,
};

use crate::engine::RegionCtx;

/// Position of the first item of `items` under each key.
fn first_by<'a, T: 'a>(
    items: impl IntoIterator<Item = &'a T>,
    keys: impl Fn(&'a T) -> Vec<&'a str>,
) -> FastMap<Box<str>, usize> {
    let mut map = FastMap::default();
    for (i, item) in items.into_iter().enumerate() {
        for k in keys(item) {
            map.entry(Box::from(k)).or_insert(i);
        }
    }
    map
}

/// The gaps of one operation: the first whole-operation gap and the first gap per resource.
#[derive(Default)]
struct OpGaps {
    whole: Option<usize>,
    by_resource: FastMap<Box<str>, usize>,
}

/// Lookup tables over one region's snapshot data. Get them with [`RegionLookups::of`].
pub(crate) struct RegionLookups {
    instances: FastMap<Box<str>, usize>,
    clusters: FastMap<Box<str>, usize>,
    security_groups: FastMap<Box<str>, usize>,
    option_groups: FastMap<Box<str>, usize>,
    db_parameter_groups: FastMap<Box<str>, usize>,
    cluster_parameter_groups: FastMap<Box<str>, usize>,
    /// Keys by ARN and by key id.
    keys: FastMap<Box<str>, usize>,
    /// Positions of the engine versions of each engine, in snapshot order.
    engine_versions: FastMap<Box<str>, Vec<usize>>,
    /// Aliases by name (`alias/...`).
    aliases: FastMap<Box<str>, usize>,
    /// ARNs AWS Backup protects; `None` when not collected.
    protected: Option<FastSet<Box<str>>>,
    /// Gaps by service, then operation.
    gaps: FastMap<Box<str>, FastMap<Box<str>, OpGaps>>,
}

impl RegionLookups {
    /// The tables of the context's region, built on first use and shared by every check.
    pub(crate) fn of(ctx: &RegionCtx<'_>) -> Rc<RegionLookups> {
        ctx.memo
            .get_or_init_plain(|| RegionLookups::new(ctx.region))
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
            instances: first_by(&rds.db_instances, |d: &DbInstance| {
                vec![d.db_instance_identifier.as_str()]
            }),
            clusters: first_by(&rds.db_clusters, |c: &DbCluster| {
                vec![c.db_cluster_identifier.as_str()]
            }),
            security_groups: first_by(&region.ec2.security_groups, |g: &SecurityGroup| {
                vec![g.group_id.as_str()]
            }),
            option_groups: first_by(&rds.option_groups, |g: &OptionGroup| vec![g.name.as_str()]),
            db_parameter_groups: first_by(&rds.db_parameter_groups, |g: &ParameterGroup| {
                vec![g.name.as_str()]
            }),
            cluster_parameter_groups: first_by(
                &rds.db_cluster_parameter_groups,
                |g: &ParameterGroup| vec![g.name.as_str()],
            ),
            keys: first_by(&region.kms.keys, |k: &KmsKey| {
                vec![k.arn.as_str(), k.key_id.as_str()]
            }),
            aliases: first_by(&region.kms.aliases, |a: &rdsguard_model::KmsAlias| {
                vec![a.alias_name.as_str()]
            }),
            protected: region
                .backup
                .protected_resource_arns
                .as_ref()
                .map(|arns| arns.iter().map(|a| Box::from(a.as_str())).collect()),
            gaps,
        }
    }

    pub(crate) fn instance<'r>(
        &self,
        region: &'r RegionSnapshot,
        id: &str,
    ) -> Option<&'r DbInstance> {
        self.instances
            .get(id)
            .and_then(|i| region.rds.db_instances.get(*i))
    }

    pub(crate) fn cluster<'r>(
        &self,
        region: &'r RegionSnapshot,
        id: &str,
    ) -> Option<&'r DbCluster> {
        self.clusters
            .get(id)
            .and_then(|i| region.rds.db_clusters.get(*i))
    }

    pub(crate) fn security_group<'r>(
        &self,
        region: &'r RegionSnapshot,
        id: &str,
    ) -> Option<&'r SecurityGroup> {
        self.security_groups
            .get(id)
            .and_then(|i| region.ec2.security_groups.get(*i))
    }

    /// The versions RDS offers for `engine`, in snapshot order.
    pub(crate) fn engine_versions<'r>(
        &self,
        region: &'r RegionSnapshot,
        engine: &str,
    ) -> Vec<&'r EngineVersion> {
        self.engine_versions
            .get(engine)
            .map_or_else(Vec::new, |positions| {
                positions
                    .iter()
                    .filter_map(|i| region.rds.engine_versions.get(*i))
                    .collect()
            })
    }

    /// Position of the first security group with this id in the region's list.
    pub(crate) fn security_group_index(&self, id: &str) -> Option<usize> {
        self.security_groups.get(id).copied()
    }

    pub(crate) fn option_group<'r>(
        &self,
        region: &'r RegionSnapshot,
        name: &str,
    ) -> Option<&'r OptionGroup> {
        self.option_groups
            .get(name)
            .and_then(|i| region.rds.option_groups.get(*i))
    }

    pub(crate) fn db_parameter_group<'r>(
        &self,
        region: &'r RegionSnapshot,
        name: &str,
    ) -> Option<&'r ParameterGroup> {
        self.db_parameter_groups
            .get(name)
            .and_then(|i| region.rds.db_parameter_groups.get(*i))
    }

    pub(crate) fn cluster_parameter_group<'r>(
        &self,
        region: &'r RegionSnapshot,
        name: &str,
    ) -> Option<&'r ParameterGroup> {
        self.cluster_parameter_groups
            .get(name)
            .and_then(|i| region.rds.db_cluster_parameter_groups.get(*i))
    }

    /// [`rdsguard_model::KmsData::resolve`] with hash lookups: key ARN, key id, alias name or
    /// alias ARN.
    pub(crate) fn key<'r>(
        &self,
        region: &'r RegionSnapshot,
        reference: &str,
    ) -> Option<&'r KmsKey> {
        let key_at = |k: &str| self.keys.get(k).and_then(|i| region.kms.keys.get(*i));
        if let Some(k) = key_at(reference) {
            return Some(k);
        }
        let alias_name = match reference.split_once(":alias/") {
            Some((_, name)) => format!("alias/{name}"),
            None => reference.to_string(),
        };
        let alias = self
            .aliases
            .get(alias_name.as_str())
            .and_then(|i| region.kms.aliases.get(*i))?;
        key_at(alias.target_key_id.as_deref()?)
    }

    /// Whether AWS Backup protects `arn`; `None` when the protected resources were not
    /// collected.
    pub(crate) fn backup_protects(&self, arn: &str) -> Option<bool> {
        self.protected.as_ref().map(|p| p.contains(arn))
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

#[cfg(test)]
mod tests {
    use super::RegionLookups;
    use rdsguard_model::*;

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
        assert_eq!(RegionLookups::new(&r).backup_protects("arn:x"), None);
        r.backup.protected_resource_arns = Some(vec!["arn:x".into()]);
        let l = RegionLookups::new(&r);
        assert_eq!(l.backup_protects("arn:x"), Some(true));
        assert_eq!(l.backup_protects("arn:y"), Some(false));
    }
}
