//! The exposure of each database of a region: its security groups, the subnets it can be
//! placed in, their routes and network ACLs, combined into who can reach the port.
//!
//! Every link is a pair of sets (known to allow, possibly allows): equal when the facts are
//! known, `(∅, everything)` when they are not. The internet reaches the database when the
//! intersection of the "known" sets is not empty; it does not when the intersection of the
//! "possible" sets is empty (the first link where it becomes empty is the blocking link);
//! otherwise the answer is unknown, with the reasons. Missing data therefore never turns into
//! "not reachable".

use crate::Map;
use std::borrow::Cow;
use std::rc::Rc;
use std::sync::Arc;

use rdsguard_model::{
    AccountSnapshot, DbCluster, DbInstance, DbProxy, NetworkAcl, RegionSnapshot, SecurityGroup,
    SecurityGroupPermission, SecurityGroupReference, Snapshot, position_of,
};

use crate::family::Fam;
use crate::index::{GroupLookup, RegionIndex};
use crate::ipset::{Cidr, IpSet, V4Set, V6Set, internet_v4, internet_v6};
use crate::nacl::{self, NaclEval, rules_touching};
use crate::reach::{DbReach, SourceSets};
use crate::report::{
    AddressSets, BlockLink, Blocked, DbExposure, DbKind, Egress, EgressRoute, Family, GroupSource,
    IngressRule, InternetPath, PeeredVpc, RouteRef, SgRuleRef, Sources, SubnetBlock, SubnetInfo,
    cidrs4, cidrs6, count_u64,
};
use crate::routes::{self, RouteEval, Target};
use crate::sg::{self, ClassRules, GroupEval, NO_CLASS, ParsedPrefixList, SgEval};

/// What is known about a referenced security group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReferenceState {
    /// The group is in the snapshot.
    Exists,
    /// The group no longer exists (marked deleted, or absent although every group of its
    /// account and region was collected).
    Stale(String),
    /// The group is in an account, region or peered VPC the snapshot does not cover.
    Unknown(String),
}

/// The PubliclyAccessible flag as (known true, possibly true).
struct Flag<'a> {
    lower: bool,
    upper: bool,
    value: Option<bool>,
    reason: Option<String>,
    detail: FlagDetail<'a>,
    public_members: Vec<String>,
}

impl<'a> Flag<'a> {
    fn known(value: bool, detail: FlagDetail<'a>) -> Flag<'a> {
        Flag {
            lower: value,
            upper: value,
            value: Some(value),
            reason: None,
            detail,
            public_members: Vec::new(),
        }
    }
}

/// What decided the flag, written out only for the report (the checks deciding statuses
/// alone never read it: no text per database).
enum FlagDetail<'a> {
    /// The flag of a DB instance (or of a Multi-AZ DB cluster).
    Of {
        what: &'static str,
        identifier: &'a str,
        value: bool,
    },
    Fixed(&'static str),
    Text(String),
}

impl FlagDetail<'_> {
    fn render(&self) -> String {
        match self {
            FlagDetail::Of {
                what,
                identifier,
                value,
            } => format!("PubliclyAccessible is {value} on {what} {identifier}"),
            FlagDetail::Fixed(text) => text.to_string(),
            FlagDetail::Text(text) => text.clone(),
        }
    }
}

/// A database's security groups, read in place (instances and clusters list memberships,
/// proxies ids).
#[derive(Clone, Copy)]
enum TargetGroups<'a> {
    Memberships(&'a [rdsguard_model::VpcSecurityGroupMembership]),
    Ids(&'a [String]),
}

impl<'a> TargetGroups<'a> {
    fn push_to(self, out: &mut Vec<&'a str>) {
        match self {
            TargetGroups::Memberships(m) => {
                out.extend(m.iter().map(|m| m.vpc_security_group_id.as_str()))
            }
            TargetGroups::Ids(ids) => out.extend(ids.iter().map(String::as_str)),
        }
    }
}

/// A database reduced to what its exposure depends on.
struct DbTarget<'a> {
    kind: DbKind,
    identifier: &'a str,
    arn: &'a str,
    engine: Cow<'a, str>,
    port: Option<u16>,
    vpc_id: Option<&'a str>,
    flag: Flag<'a>,
    group_ids: TargetGroups<'a>,
    /// The subnets it can be placed in (its DB subnet group's, or the proxy's).
    subnet_ids: Result<&'a [String], String>,
    /// The DB cluster of a member instance (a note of the report).
    member_of: Option<&'a str>,
    notes: Vec<String>,
}

/// A subnet with its effective route table and network ACL.
struct SubnetCtx<'a> {
    info: SubnetInfo,
    route: Result<Rc<RouteEval>, String>,
    nacl: Result<&'a NetworkAcl, String>,
    /// `None` when the subnet itself is unknown.
    ipv6: Option<bool>,
}

/// Result of the internet path through one subnet for one family.
struct Leg<A: Fam> {
    subnet_id: String,
    reach: IpSet<A>,
    block: Option<SubnetBlock>,
    unknown: Vec<String>,
    path: Option<InternetPath>,
}

/// What [`RegionAnalysis::judge`] decides about a database, before any report text.
struct Judged<'a> {
    sgs: Rc<SgEval<'a>>,
    subnets: Rc<[Rc<SubnetCtx<'a>>]>,
    nacls: Rc<[Option<Rc<NaclEval>>]>,
    legs4: Vec<Leg<u32>>,
    legs6: Vec<Leg<u128>>,
    reach4: V4Set,
    reach6: V6Set,
    verdict: Verdict,
    peered_vpcs: Vec<PeeredVpc>,
    peering_unknown: Option<String>,
}

/// Whether the internet reaches a database.
enum Verdict {
    /// PubliclyAccessible is known to be false.
    NotPublicFlag,
    Reachable,
    /// Every path is blocked (the link furthest along the path first).
    Blocked(Blocked),
    /// Unknown, with the reasons when there are any.
    Unknown(Option<String>),
}

impl Verdict {
    fn internet_reachable(&self) -> Option<bool> {
        match self {
            Verdict::NotPublicFlag | Verdict::Blocked(_) => Some(false),
            Verdict::Reachable => Some(true),
            Verdict::Unknown(_) => None,
        }
    }

    fn blocked_link(&self) -> Option<BlockLink> {
        match self {
            Verdict::NotPublicFlag => Some(BlockLink::NotPublicFlag),
            Verdict::Blocked(b) => Some(b.link),
            Verdict::Reachable | Verdict::Unknown(_) => None,
        }
    }
}

/// Where the security groups of each database of a region are in the region's list, as
/// [`RegionAnalysis::reaches_and_subnet_groups`] found them while judging the databases: for
/// each database (in the order of the reaches), the position of each of its group ids in the
/// order it lists them (`None`: not in the list; a group id listed twice in the region names
/// its first group), so that checks about the groups need not look them up again.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct GroupPositions {
    /// Where each database's positions start in `positions` (one more entry than databases).
    starts: Vec<u32>,
    positions: Vec<Option<u32>>,
}

impl GroupPositions {
    /// The positions of the groups of database `db` (its place in the reaches).
    pub fn of(&self, db: usize) -> Option<&[Option<u32>]> {
        let start = *self.starts.get(db)? as usize;
        let end = *self.starts.get(db + 1)? as usize;
        self.positions.get(start..end)
    }

    fn next_database(&mut self) {
        let end = u32::try_from(self.positions.len()).unwrap_or(u32::MAX);
        if self.starts.is_empty() {
            self.starts.push(0);
        }
        self.starts.push(end);
    }
}

#[derive(Default)]
struct Cache<'a> {
    routes: Map<&'a str, Rc<RouteEval>>,
    nacls: Map<(&'a str, Option<u16>), Rc<NaclEval>>,
    /// What each ACL's evaluations share across ports.
    nacl_bases: Map<&'a str, Rc<nacl::NaclBase>>,
    groups: Map<(Vec<&'a str>, Option<u16>), Rc<SgEval<'a>>>,
    /// Room for a database's group ids, kept between databases.
    group_ids: Vec<&'a str>,
    /// Room for a database's group ids with their groups, kept between databases.
    resolved: Vec<(&'a str, Option<&'a SecurityGroup>)>,
    /// Without descriptions, the position of each database's groups (see
    /// [`GroupPositions`]), database after database.
    positions: GroupPositions,
    group_evals: Map<(&'a str, Option<u16>), Rc<GroupEval<'a>>>,
    /// Report forms shared by every database that uses them.
    group_sources: Map<(&'a str, Option<&'a str>), Arc<GroupSource>>,
    rules: Map<*const SecurityGroupPermission, Arc<IngressRule>>,
    subnets: Map<&'a str, Rc<SubnetCtx<'a>>>,
    /// The report form of each list of subnets, shared by the databases placed in it (a DB
    /// subnet group serves many).
    subnet_lists: Map<Vec<&'a str>, Arc<Vec<SubnetInfo>>>,
    /// The subnets of each list of subnets, by the list's address (see
    /// [`RegionAnalysis::placement`]).
    placed_subnets: Map<(usize, usize), Rc<[Rc<SubnetCtx<'a>>]>>,
    /// The NACL evaluations of each list of subnets and port, by the list's address.
    #[allow(clippy::type_complexity)]
    placed_nacls: Map<(usize, usize, Option<u16>), Rc<[Option<Rc<NaclEval>>]>>,
    /// How many databases name each security group (an upper bound): the evaluations of a
    /// group named once are not kept, since no other database can use them (a region with a
    /// group per database would otherwise keep one per database until the end).
    group_uses: Map<&'a str, u32>,
    /// Without the report's descriptions ([`RegionAnalysis::reaches`]): of the groups, of
    /// their rules and prefix lists, of the paths the internet takes.
    undescribed: bool,
    /// Without descriptions, the class of each group of the region's list (by position;
    /// [`NO_CLASS`] until found): groups with the same rules share one, and one evaluation
    /// per port. A region that gives each database a group of its own, made from a few
    /// templates, has few classes.
    group_class: Vec<u32>,
    /// The classes' rules, as [`sg::encode_rules`] writes them.
    class_rules: ClassRules,
    /// The evaluations of each class (by number), for each port it was evaluated for (one or
    /// two: its databases' engines); `None` when the evaluation names its group (each group
    /// of the class is then evaluated on its own).
    #[allow(clippy::type_complexity)]
    class_evals: Vec<Vec<(Option<u16>, Option<Rc<GroupEval<'a>>>)>>,
    /// Without descriptions, a database's evaluated groups ([`RegionAnalysis::alike_members`]),
    /// kept between databases.
    members: Vec<Rc<GroupEval<'a>>>,
    /// Without descriptions, what [`RegionAnalysis::reach`] decides for databases with the
    /// same kept group evaluations (by address, in order), placement, port, VPC and flag.
    /// The evaluations' addresses stay taken: `class_evals` keeps every kept evaluation until
    /// the end. Their groups are merged only for the first such database, not kept merged
    /// (a large region's merged groups, one per combination, were costly to free).
    /// Each entry keeps its hash: growing the table does not hash the keys again (their VPC
    /// ids, read from each database's own copy, are cold by then).
    reaches: hashbrown::HashTable<(u64, Box<[usize]>, ReachKey<'a>, AlikeReach)>,
    reaches_hasher: foldhash::fast::RandomState,
}

/// What a database's reach depends on besides its kind, flag value and groups, when its
/// groups' evaluations are kept (their addresses name them) and its placement is known: the
/// subnet list (by address and length), the port, the VPC and the flag's bounds.
type ReachKey<'a> = (usize, usize, Option<u16>, Option<&'a str>, bool, bool);

/// The hash of a [`Cache::reaches`] entry: the group evaluations' addresses, then the rest.
fn reach_hash(
    hasher: &foldhash::fast::RandomState,
    members: impl Iterator<Item = usize>,
    key: &ReachKey<'_>,
) -> u64 {
    use std::hash::{BuildHasher, Hash, Hasher};
    let mut h = hasher.build_hasher();
    let mut count = 0usize;
    for m in members {
        m.hash(&mut h);
        count += 1;
    }
    count.hash(&mut h);
    key.hash(&mut h);
    h.finish()
}

/// The shared part of [`DbReach`] for databases with the same kept group evaluations and
/// [`ReachKey`] ([`Cache::reaches`]).
struct AlikeReach {
    internet_reachable: Option<bool>,
    blocked_link: Option<BlockLink>,
    has_security_groups: bool,
    sources: Rc<SourceSets>,
    peered: bool,
    peering_unknown: bool,
}

impl AlikeReach {
    /// The reach of database `t`, one of those this is shared by.
    fn reach_of(&self, t: &DbTarget<'_>) -> DbReach {
        DbReach {
            kind: t.kind,
            port: t.port,
            in_vpc: t.vpc_id.is_some(),
            publicly_accessible: t.flag.value,
            internet_reachable: self.internet_reachable,
            blocked_link: self.blocked_link,
            has_security_groups: self.has_security_groups,
            sources: self.sources.clone(),
            peered: self.peered,
            peering_unknown: self.peering_unknown,
        }
    }
}

/// How many databases (instances, clusters, proxies) of `rds` name each security group.
fn group_uses(rds: &rdsguard_model::RdsData) -> Map<&str, u32> {
    let mut uses: Map<&str, u32> =
        Map::with_capacity_and_hasher(rds.db_instances.len(), Default::default());
    let groups = rds
        .db_instances
        .iter()
        .flat_map(|d| d.security_group_ids())
        .chain(rds.db_clusters.iter().flat_map(|c| c.security_group_ids()))
        .chain(
            rds.db_proxies
                .iter()
                .flat_map(|p| p.vpc_security_group_ids.iter().map(String::as_str)),
        );
    for g in groups {
        *uses.entry(g).or_default() += 1;
    }
    uses
}

/// The network analysis of one region of one account. Building it indexes the region once;
/// [`RegionAnalysis::databases`] then evaluates every database.
pub struct RegionAnalysis<'a> {
    idx: RegionIndex<'a>,
    prefix_lists: Map<&'a str, Rc<ParsedPrefixList>>,
    internet_v4: V4Set,
    internet_v6: V6Set,
    /// Whether exposures include egress (see [`RegionAnalysis::without_egress`]).
    egress: bool,
}

trait Internet: Fam {
    fn internet<'r>(a: &'r RegionAnalysis<'_>) -> &'r IpSet<Self>;
}

impl Internet for u32 {
    fn internet<'r>(a: &'r RegionAnalysis<'_>) -> &'r V4Set {
        &a.internet_v4
    }
}

impl Internet for u128 {
    fn internet<'r>(a: &'r RegionAnalysis<'_>) -> &'r V6Set {
        &a.internet_v6
    }
}

/// Default port of an RDS Proxy's engine family.
fn proxy_port(engine_family: &str) -> Option<u16> {
    match engine_family.to_ascii_uppercase().as_str() {
        "MYSQL" => Some(3306),
        "POSTGRESQL" => Some(5432),
        "SQLSERVER" => Some(1433),
        _ => None,
    }
}

fn dedup(v: &mut Vec<String>) {
    let mut seen = std::collections::HashSet::new();
    v.retain(|s| seen.insert(s.clone()));
}

impl<'a> RegionAnalysis<'a> {
    pub fn new(
        snapshot: &'a Snapshot,
        account: &'a AccountSnapshot,
        region: &'a RegionSnapshot,
    ) -> Self {
        let idx = RegionIndex::new(snapshot, account, region);
        let prefix_lists = region
            .ec2
            .managed_prefix_lists
            .iter()
            .map(|p| {
                let id = p.prefix_list_id.as_str();
                (id, Rc::new(sg::parse_prefix_list(&idx, id)))
            })
            .collect();
        RegionAnalysis {
            idx,
            prefix_lists,
            internet_v4: internet_v4(),
            internet_v6: internet_v6(),
            egress: true,
        }
    }

    /// Leave egress out of the exposures: `Egress::internet` unknown, with an
    /// `unknown_reason` saying it was not analysed. For callers that judge only what can
    /// reach the databases (the checks): egress is about a tenth of the analysis.
    pub fn without_egress(mut self) -> Self {
        self.egress = false;
        self
    }

    /// The exposure of every DB instance, DB cluster and RDS proxy of the region, in that
    /// order (each in snapshot order).
    pub fn databases(&self) -> Vec<DbExposure> {
        self.databases_where(|_, _| true)
    }

    /// The exposure of the databases `keep(kind, identifier)` selects (checks that concern
    /// one kind skip the work for the others).
    pub fn databases_where(&self, keep: impl Fn(DbKind, &str) -> bool) -> Vec<DbExposure> {
        let rds = &self.idx.region.rds;
        let mut cache = Cache {
            group_uses: group_uses(rds),
            ..Cache::default()
        };
        // Sized once: a region can hold 100,000 of these.
        let mut out = Vec::with_capacity(
            rds.db_instances.len() + rds.db_clusters.len() + rds.db_proxies.len(),
        );
        for db in &rds.db_instances {
            if keep(DbKind::DbInstance, &db.db_instance_identifier) {
                let t = self.instance_target(db);
                out.push(self.exposure(t, &mut cache));
            }
        }
        for c in &rds.db_clusters {
            if keep(DbKind::DbCluster, &c.db_cluster_identifier) {
                let t = self.cluster_target(c);
                out.push(self.exposure(t, &mut cache));
            }
        }
        for p in &rds.db_proxies {
            if keep(DbKind::DbProxy, &p.name) {
                let t = self.proxy_target(p);
                out.push(self.exposure(t, &mut cache));
            }
        }
        out
    }

    /// The exposures of the databases at `positions` (in the order of
    /// [`databases`](Self::databases); positions past the end are left out), each with its
    /// position: the same reports as `databases` gives, for a few databases of a large region.
    pub fn databases_at(&self, positions: &[usize]) -> Vec<(usize, DbExposure)> {
        let rds = &self.idx.region.rds;
        let (instances, clusters) = (rds.db_instances.len(), rds.db_clusters.len());
        // Unknown use counts keep every group evaluation (see `Cache::group_uses`).
        let mut cache = Cache::default();
        let mut out = Vec::with_capacity(positions.len());
        for &i in positions {
            let target = if i < instances {
                self.instance_target(&rds.db_instances[i])
            } else if i < instances + clusters {
                self.cluster_target(&rds.db_clusters[i - instances])
            } else if let Some(p) = rds.db_proxies.get(i - instances - clusters) {
                self.proxy_target(p)
            } else {
                continue;
            };
            out.push((i, self.exposure(target, &mut cache)));
        }
        out
    }

    /// What the checks decide statuses from, for every DB instance, DB cluster and RDS proxy
    /// of the region in the order of [`databases`](Self::databases): the same facts as the
    /// exposures (`DbReach::of` each of them), without their text (no identifiers, paths,
    /// rules or notes are copied): about twice as fast on a large region.
    pub fn reaches(&self) -> Vec<DbReach> {
        self.reaches_in(Cache::default()).0
    }

    /// [`reaches`](Self::reaches), and
    /// [`db_subnet_group_subnets`](Self::db_subnet_group_subnets) of each of `names`: one
    /// pass, whose subnets are evaluated once for both (groups of a VPC share its route
    /// tables); with where each database's groups are in the region's list.
    #[allow(clippy::type_complexity)]
    pub fn reaches_and_subnet_groups<'n>(
        &self,
        names: impl IntoIterator<Item = &'n str>,
    ) -> (
        Vec<DbReach>,
        Vec<(&'n str, Result<Vec<SubnetInfo>, String>)>,
        GroupPositions,
    ) {
        let mut cache = Cache::default();
        let groups = names
            .into_iter()
            .map(|name| (name, self.subnet_group_infos(name, &mut cache)))
            .collect();
        let (reaches, positions) = self.reaches_in(cache);
        (reaches, groups, positions)
    }

    /// [`reaches`](Self::reaches) continuing `cache` (whose subnets may be evaluated already:
    /// a subnet's evaluation is the same with or without descriptions), and the positions of
    /// the databases' groups.
    fn reaches_in(&self, cache: Cache<'a>) -> (Vec<DbReach>, GroupPositions) {
        let rds = &self.idx.region.rds;
        // Without descriptions the groups are kept by class, not by how many databases use
        // them (`group_uses` is for the reports).
        let mut cache = Cache {
            undescribed: true,
            ..cache
        };
        let databases = rds.db_instances.len() + rds.db_clusters.len() + rds.db_proxies.len();
        let mut out = Vec::with_capacity(databases);
        // Sized once (a large region's list is megabytes, copied at each doubling).
        cache.positions.starts.reserve(databases + 1);
        cache.positions.positions.reserve(
            rds.db_instances
                .iter()
                .map(|d| d.vpc_security_groups.len())
                .chain(rds.db_clusters.iter().map(|c| c.vpc_security_groups.len()))
                .chain(
                    rds.db_proxies
                        .iter()
                        .map(|p| p.vpc_security_group_ids.len()),
                )
                .sum(),
        );
        for db in &rds.db_instances {
            out.push(self.reach(&self.instance_target(db), &mut cache));
        }
        for c in &rds.db_clusters {
            out.push(self.reach(&self.cluster_target(c), &mut cache));
        }
        for p in &rds.db_proxies {
            out.push(self.reach(&self.proxy_target(p), &mut cache));
        }
        (out, std::mem::take(&mut cache.positions))
    }

    /// The subnets of a DB subnet group, or why they are unknown.
    pub fn db_subnet_group_subnets(&self, name: &str) -> Result<Vec<SubnetInfo>, String> {
        self.subnet_group_infos(name, &mut Cache::default())
    }

    fn subnet_group_infos(
        &self,
        name: &str,
        cache: &mut Cache<'a>,
    ) -> Result<Vec<SubnetInfo>, String> {
        let ids = self.subnet_group_subnets(Some(name))?;
        Ok(ids
            .iter()
            .map(|id| self.subnet_ctx(id, cache).info.clone())
            .collect())
    }

    /// Where a subnet sends internet traffic (for subnet-group checks).
    pub fn subnet(&self, subnet_id: &str) -> SubnetInfo {
        let mut cache = Cache::default();
        self.subnet_ctx(subnet_id, &mut cache).info.clone()
    }

    /// Who the groups `group_ids` let in on TCP `port` (e.g. an option's port, such as
    /// Oracle's SSL listener), resolved like [`DbExposure::sources`].
    pub fn sources_for(&self, group_ids: &[&str], port: Option<u16>) -> Sources {
        self.sources_of(&self.group_union(group_ids, port), &mut Cache::default())
    }

    /// The groups `group_ids` (each once) evaluated for TCP `port` and merged.
    fn group_union(&self, group_ids: &[&str], port: Option<u16>) -> SgEval<'a> {
        let mut key: Vec<&str> = group_ids.to_vec();
        key.sort_unstable();
        key.dedup();
        let members = key
            .iter()
            .map(|g| self.evaluate_group(g, port, true))
            .collect();
        SgEval::merge(members)
    }

    /// The address sets of [`sources_for`](Self::sources_for), without the report.
    pub fn source_sets_for(&self, group_ids: &[&str], port: Option<u16>) -> SourceSets {
        SourceSets::of_eval(&self.group_union(group_ids, port))
    }

    fn sources_of(&self, sgs: &SgEval<'a>, cache: &mut Cache<'a>) -> Sources {
        let all4 = sgs.v4().cidr.union_ref(&sgs.v4().refs);
        let all6 = sgs.v6().cidr.union_ref(&sgs.v6().refs);
        let unknown = sgs.unknown();
        Sources {
            ipv4: cidrs4(&all4),
            ipv6: cidrs6(&all6),
            ipv4_addresses: count_u64(&all4),
            ipv6_addresses: all6.count_decimal(),
            security_groups: sgs
                .groups()
                .into_iter()
                .map(|r| {
                    cache
                        .group_sources
                        .entry((r.group_id.as_str(), r.vpc_peering_connection_id.as_deref()))
                        .or_insert_with(|| Arc::new(sg::group_source(&self.idx, r)))
                        .clone()
                })
                .collect(),
            prefix_lists: sgs
                .prefix_list_ids()
                .into_iter()
                .map(|p| self.prefix_list(p).source.clone())
                .collect(),
            rules: sgs
                .rules()
                .map(|(g, p)| {
                    // A group named once: its rules serve this database only.
                    if cache.group_uses.get(g) == Some(&1) {
                        return Arc::new(sg::ingress_rule(g, p));
                    }
                    // Keyed by address: the snapshot is borrowed, so permissions do not move.
                    cache
                        .rules
                        .entry(p as *const SecurityGroupPermission)
                        .or_insert_with(|| Arc::new(sg::ingress_rule(g, p)))
                        .clone()
                })
                .collect(),
            complete: unknown.is_empty(),
            cidr_complete: sgs.cidr_unknown.is_empty(),
            unknown,
        }
    }

    /// A prefix list, parsed (lists missing from the snapshot come back unknown).
    fn prefix_list(&self, id: &str) -> Rc<ParsedPrefixList> {
        match self.prefix_lists.get(id) {
            Some(p) => p.clone(),
            None => Rc::new(sg::parse_prefix_list(&self.idx, id)),
        }
    }

    /// The positions (in the region's list of security groups, in order) of the groups that
    /// have a rule whose referenced group may not exist: every reference of the other groups
    /// names a group of this region ([`ReferenceState::Exists`]).
    pub fn groups_with_unusual_references(&self) -> &[usize] {
        &self.idx.unusual_references
    }

    /// Whether a group referenced by a rule still exists.
    pub fn reference_state(&self, r: &SecurityGroupReference) -> ReferenceState {
        match self.idx.lookup_reference(r) {
            GroupLookup::Found { .. } => ReferenceState::Exists,
            GroupLookup::Deleted(why) => ReferenceState::Stale(why),
            GroupLookup::Unknown(why) => ReferenceState::Unknown(why),
        }
    }

    fn subnet_group_subnets(&self, name: Option<&str>) -> Result<&'a [String], String> {
        let Some(name) = name else {
            return Err("the database has no DB subnet group (not in a VPC)".to_string());
        };
        match self.idx.subnet_groups.get(name) {
            Some(g) => Ok(&g.subnet_ids),
            None => Err(match &self.idx.gaps.subnet_groups {
                Some(g) => g.clone(),
                None => format!("DB subnet group {name} is not in the snapshot"),
            }),
        }
    }

    fn subnet_group_vpc(&self, name: Option<&str>) -> Option<&'a str> {
        name.and_then(|n| self.idx.subnet_groups.get(n))
            .and_then(|g| g.vpc_id.as_deref())
    }

    fn instance_target(&self, db: &'a DbInstance) -> DbTarget<'a> {
        let cluster = db
            .db_cluster_identifier
            .as_deref()
            .and_then(|c| self.idx.clusters.get(c));
        let port = db.port.or_else(|| cluster.and_then(|c| c.port));
        let subnet_group = db.db_subnet_group_name.as_deref();
        DbTarget {
            kind: DbKind::DbInstance,
            identifier: &db.db_instance_identifier,
            arn: &db.db_instance_arn,
            engine: Cow::Borrowed(&db.engine),
            port,
            vpc_id: db
                .vpc_id
                .as_deref()
                .or_else(|| self.subnet_group_vpc(subnet_group)),
            flag: Flag::known(
                db.publicly_accessible,
                FlagDetail::Of {
                    what: "DB instance",
                    identifier: &db.db_instance_identifier,
                    value: db.publicly_accessible,
                },
            ),
            group_ids: TargetGroups::Memberships(&db.vpc_security_groups),
            subnet_ids: self.subnet_group_subnets(subnet_group),
            member_of: db.db_cluster_identifier.as_deref(),
            notes: Vec::new(),
        }
    }

    fn cluster_flag<'c>(&self, c: &'c DbCluster) -> Flag<'c> {
        if !c.is_aurora()
            && let Some(v) = c.publicly_accessible
        {
            return Flag::known(
                v,
                FlagDetail::Of {
                    what: "Multi-AZ DB cluster",
                    identifier: &c.db_cluster_identifier,
                    value: v,
                },
            );
        }
        if c.members.is_empty() {
            if c.engine_mode.as_deref() == Some("serverless") {
                return Flag::known(
                    false,
                    FlagDetail::Fixed(
                        "Aurora Serverless v1 clusters cannot be publicly accessible",
                    ),
                );
            }
            if c.is_aurora() {
                return Flag::known(
                    false,
                    FlagDetail::Fixed(
                        "the cluster has no DB instances, so nothing listens on its endpoints",
                    ),
                );
            }
        }
        let mut public = Vec::new();
        let mut missing = Vec::new();
        for m in &c.members {
            match self.idx.instance(&m.db_instance_identifier) {
                Some(i) if i.publicly_accessible => public.push(m.db_instance_identifier.clone()),
                Some(_) => {}
                None => missing.push(m.db_instance_identifier.clone()),
            }
        }
        let lower = !public.is_empty();
        let upper = lower || !missing.is_empty() || c.members.is_empty();
        let reason = if lower || !upper {
            None
        } else if c.members.is_empty() {
            Some(format!(
                "cluster {} reports neither members nor PubliclyAccessible",
                c.db_cluster_identifier
            ))
        } else {
            Some(format!(
                "member instances {} are not in the snapshot{}",
                missing.join(", "),
                self.idx
                    .gaps
                    .instances
                    .as_deref()
                    .map(|g| format!(" ({g})"))
                    .unwrap_or_default()
            ))
        };
        let detail = if lower {
            format!("PubliclyAccessible is set on members {}", public.join(", "))
        } else {
            format!(
                "no member of cluster {} has PubliclyAccessible set",
                c.db_cluster_identifier
            )
        };
        Flag {
            lower,
            upper,
            value: if lower {
                Some(true)
            } else if !upper {
                Some(false)
            } else {
                None
            },
            reason,
            detail: FlagDetail::Text(detail),
            public_members: public,
        }
    }

    fn cluster_target(&self, c: &'a DbCluster) -> DbTarget<'a> {
        let subnet_group = c.db_subnet_group.as_deref();
        let members: Vec<&str> = c
            .members
            .iter()
            .map(|m| m.db_instance_identifier.as_str())
            .collect();
        let mut notes = Vec::new();
        if !members.is_empty() {
            notes.push(format!(
                "cluster endpoints resolve to members {}",
                members.join(", ")
            ));
        }
        DbTarget {
            kind: DbKind::DbCluster,
            identifier: &c.db_cluster_identifier,
            arn: &c.db_cluster_arn,
            engine: Cow::Borrowed(&c.engine),
            port: c.port,
            vpc_id: self.subnet_group_vpc(subnet_group),
            flag: self.cluster_flag(c),
            group_ids: TargetGroups::Memberships(&c.vpc_security_groups),
            subnet_ids: self.subnet_group_subnets(subnet_group),
            member_of: None,
            notes,
        }
    }

    fn proxy_target(&self, p: &'a DbProxy) -> DbTarget<'a> {
        DbTarget {
            kind: DbKind::DbProxy,
            identifier: &p.name,
            arn: &p.arn,
            engine: Cow::Owned(p.engine_family.to_ascii_lowercase()),
            port: proxy_port(&p.engine_family),
            vpc_id: p.vpc_id.as_deref(),
            flag: Flag::known(
                false,
                FlagDetail::Fixed("RDS Proxy endpoints are never publicly accessible"),
            ),
            group_ids: TargetGroups::Ids(&p.vpc_security_group_ids),
            subnet_ids: Ok(&p.vpc_subnet_ids),
            member_of: None,
            notes: Vec::new(),
        }
    }

    fn route_eval(
        &self,
        rt: &'a rdsguard_model::RouteTable,
        cache: &mut Cache<'a>,
    ) -> Rc<RouteEval> {
        cache
            .routes
            .entry(rt.route_table_id.as_str())
            .or_insert_with(|| Rc::new(routes::evaluate(&self.idx, rt)))
            .clone()
    }

    fn subnet_ctx(&self, subnet_id: &'a str, cache: &mut Cache<'a>) -> Rc<SubnetCtx<'a>> {
        if let Some(c) = cache.subnets.get(subnet_id) {
            return c.clone();
        }
        let ctx = Rc::new(self.build_subnet_ctx(subnet_id, cache));
        cache.subnets.insert(subnet_id, ctx.clone());
        ctx
    }

    fn build_subnet_ctx(&self, subnet_id: &'a str, cache: &mut Cache<'a>) -> SubnetCtx<'a> {
        let mut info = SubnetInfo {
            subnet_id: subnet_id.to_string(),
            vpc_id: None,
            availability_zone: None,
            ipv6: false,
            route_table_id: None,
            main_route_table: false,
            network_acl_id: None,
            internet_gateway_routes: Vec::new(),
            public: None,
            unknown_reason: None,
        };
        let Some(subnet) = self.idx.subnets.get(subnet_id) else {
            let why = match &self.idx.gaps.subnets {
                Some(g) => g.clone(),
                None => format!("subnet {subnet_id} is not in the snapshot"),
            };
            info.unknown_reason = Some(why.clone());
            return SubnetCtx {
                info,
                route: Err(why.clone()),
                nacl: Err(why),
                ipv6: None,
            };
        };
        info.vpc_id = Some(subnet.vpc_id.clone());
        info.availability_zone = subnet.availability_zone.clone();
        info.ipv6 = !subnet.ipv6_cidr_blocks.is_empty();
        let route = match self.idx.route_table_of(subnet_id, &subnet.vpc_id) {
            Some((rt, main)) => {
                info.route_table_id = Some(rt.route_table_id.clone());
                info.main_route_table = main;
                Ok(self.route_eval(rt, cache))
            }
            None => Err(match &self.idx.gaps.route_tables {
                Some(g) => g.clone(),
                None => format!(
                    "no route table for subnet {subnet_id} (no association and no main table \
                     for {})",
                    subnet.vpc_id
                ),
            }),
        };
        let nacl = match self.idx.nacl_of(subnet_id, &subnet.vpc_id) {
            Some(acl) => {
                info.network_acl_id = Some(acl.network_acl_id.clone());
                Ok(acl)
            }
            None => Err(match &self.idx.gaps.network_acls {
                Some(g) => g.clone(),
                None => format!("no network ACL for subnet {subnet_id} in the snapshot"),
            }),
        };
        match &route {
            Ok(re) => {
                let mut lower = false;
                let mut upper = false;
                let mut unknown = None;
                for (parts, fam_unknown, to_igw) in [
                    (route_parts_v4(re), &re.v4.unknown, re.v4.unknown_to_igw),
                    (route_parts_v6(re), &re.v6.unknown, re.v6.unknown_to_igw),
                ] {
                    // A route with unknown destinations only matters when it goes to a gateway.
                    if fam_unknown.is_some() && to_igw {
                        upper = true;
                        unknown = unknown.or_else(|| fam_unknown.clone());
                    }
                    for (dest, target) in parts {
                        if let Target::Igw { id, attached } = target {
                            if *attached == Some(true) {
                                lower = true;
                                info.internet_gateway_routes.push(RouteRef {
                                    destination: dest.clone(),
                                    target: id.clone(),
                                });
                            }
                            if attached.is_none() {
                                upper = true;
                                unknown =
                                    unknown.or_else(|| self.idx.gaps.internet_gateways.clone());
                            }
                        }
                    }
                }
                info.public = if lower {
                    Some(true)
                } else if !upper {
                    Some(false)
                } else {
                    info.unknown_reason = unknown;
                    None
                };
            }
            Err(why) => info.unknown_reason = Some(why.clone()),
        }
        SubnetCtx {
            info,
            route,
            nacl,
            ipv6: Some(!subnet.ipv6_cidr_blocks.is_empty()),
        }
    }

    fn nacl_eval(
        &self,
        acl: &'a NetworkAcl,
        port: Option<u16>,
        cache: &mut Cache<'a>,
    ) -> Rc<NaclEval> {
        let id = acl.network_acl_id.as_str();
        if let Some(e) = cache.nacls.get(&(id, port)) {
            return e.clone();
        }
        let base = cache
            .nacl_bases
            .entry(id)
            .or_insert_with(|| Rc::new(nacl::prepare(acl)))
            .clone();
        let e = Rc::new(nacl::evaluate_with(&base, port));
        cache.nacls.insert((id, port), e.clone());
        e
    }

    /// One group evaluated for TCP on `port` (see [`sg::evaluate_group`]).
    fn evaluate_group(&self, g: &str, port: Option<u16>, described: bool) -> Rc<GroupEval<'a>> {
        Rc::new(sg::evaluate_group(
            &self.idx,
            g,
            port,
            self.egress,
            described,
            &mut |p| self.prefix_list(p),
        ))
    }

    /// A database's group ids, sorted, each once, in the list `cache` keeps between databases
    /// (to be given back).
    fn sorted_group_ids(t: &DbTarget<'a>, cache: &mut Cache<'a>) -> Vec<&'a str> {
        let mut ids = std::mem::take(&mut cache.group_ids);
        ids.clear();
        t.group_ids.push_to(&mut ids);
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// The merged groups of a database.
    fn sg_eval(&self, t: &DbTarget<'a>, cache: &mut Cache<'a>) -> Rc<SgEval<'a>> {
        if cache.undescribed {
            self.alike_members(t, cache);
            return Rc::new(SgEval::merge(cache.members.clone()));
        }
        // Unknown counts (an empty map: `sources_for`) keep everything, as before.
        let reused = |cache: &Cache<'a>, g: &str| {
            cache.group_uses.is_empty() || cache.group_uses.get(g).is_none_or(|&n| n > 1)
        };
        // Only groups shared by several databases are worth looking up (and keeping) merged.
        let ids = Self::sorted_group_ids(t, cache);
        let all_reused = ids.iter().all(|g| reused(cache, g));
        let k = (ids, t.port);
        if all_reused && let Some(e) = cache.groups.get(&k) {
            let e = e.clone();
            cache.group_ids = k.0;
            return e;
        }
        let members =
            k.0.iter()
                .map(|g| {
                    let evaluate = || self.evaluate_group(g, t.port, true);
                    if !reused(cache, g) {
                        return evaluate();
                    }
                    cache
                        .group_evals
                        .entry((*g, t.port))
                        .or_insert_with(evaluate)
                        .clone()
                })
                .collect();
        let e = Rc::new(SgEval::merge(members));
        if all_reused {
            cache.groups.insert((k.0.clone(), k.1), e.clone());
        }
        cache.group_ids = k.0;
        e
    }

    /// The groups of database `t` without descriptions, evaluated for its port, each once and
    /// in order of id, into `cache.members`: each group of the region is evaluated once per
    /// set of rules ([`Cache::group_class`]) and port, unless the evaluation names the group
    /// (a source that does not parse). True when every evaluation is kept by class, so that
    /// its address names it until the analysis ends ([`Self::reach`]).
    fn alike_members(&self, t: &DbTarget<'a>, cache: &mut Cache<'a>) -> bool {
        // Each group looked up once, in the database's order (its position recorded for the
        // checks about groups), then sorted by id, each once.
        let groups = &self.idx.region.ec2.security_groups;
        let mut ids = std::mem::take(&mut cache.group_ids);
        ids.clear();
        t.group_ids.push_to(&mut ids);
        let mut resolved = std::mem::take(&mut cache.resolved);
        resolved.clear();
        for &g in &ids {
            let group = self.idx.security_group(g);
            let position = group
                .and_then(|found| position_of(groups, found))
                .and_then(|p| u32::try_from(p).ok());
            cache.positions.positions.push(position);
            resolved.push((g, group));
        }
        cache.positions.next_database();
        cache.group_ids = ids;
        resolved.sort_unstable_by(|a, b| a.0.cmp(b.0));
        resolved.dedup_by(|a, b| a.0 == b.0);
        let mut all_kept = true;
        let mut members = std::mem::take(&mut cache.members);
        members.clear();
        for &(g, group) in &resolved {
            let evaluate = || self.evaluate_group(g, t.port, false);
            let class = group.and_then(|group| self.group_class(group, cache));
            let Some(class) = class else {
                // Missing, or another account's: evaluated each time.
                all_kept = false;
                members.push(evaluate());
                continue;
            };
            let slot = class as usize;
            if cache.class_evals.len() <= slot {
                // Classes are numbered in turn ([`Self::group_class`]).
                cache.class_evals.resize_with(slot + 1, Vec::new);
            }
            let Some(evals) = cache.class_evals.get_mut(slot) else {
                all_kept = false;
                members.push(evaluate());
                continue;
            };
            let member = match evals
                .iter()
                .find(|(port, _)| *port == t.port)
                .map(|(_, e)| e)
            {
                Some(Some(e)) => e.clone(),
                Some(None) => {
                    all_kept = false;
                    evaluate()
                }
                None => {
                    let e = evaluate();
                    let kept = (!e.names_group).then(|| e.clone());
                    all_kept &= kept.is_some();
                    evals.push((t.port, kept));
                    e
                }
            };
            members.push(member);
        }
        cache.resolved = resolved;
        cache.members = members;
        all_kept
    }

    /// The class of a group of this region's snapshot among the groups with the same rules
    /// ([`sg::encode_rules`]), found once per group; `None` for a group that is not in the
    /// region's list (another account's).
    fn group_class(&self, group: &'a SecurityGroup, cache: &mut Cache<'a>) -> Option<u32> {
        let groups = &self.idx.region.ec2.security_groups;
        let at = position_of(groups, group)?;
        if cache.group_class.len() != groups.len() {
            cache.group_class.resize(groups.len(), NO_CLASS);
        }
        let slot = cache.group_class.get_mut(at)?;
        if *slot != NO_CLASS {
            return Some(*slot);
        }
        let classes = &mut cache.class_rules;
        classes.scratch.clear();
        sg::encode_rules(group, self.egress, &mut classes.scratch);
        let class = classes.class_of_scratch()?;
        if let Some(slot) = cache.group_class.get_mut(at) {
            *slot = class;
        }
        Some(class)
    }

    /// The internet path through one subnet for one family.
    /// `described`: with the path the report shows when the internet gets through.
    fn leg<A: Internet>(
        &self,
        subnet: &SubnetCtx<'a>,
        nacl: Option<&NaclEval>,
        sgs: &SgEval<'a>,
        described: bool,
    ) -> Leg<A> {
        let internet = A::internet(self);
        let subnet_id = subnet.info.subnet_id.clone();
        let mut unknown = Vec::new();
        let block = |link: BlockLink, detail: String, rule_numbers: Vec<i32>| SubnetBlock {
            subnet_id: subnet_id.clone(),
            family: A::FAMILY,
            link,
            detail,
            rule_numbers,
        };
        // Route back to the internet.
        let (r_lower, r_upper) = match &subnet.route {
            Ok(re) => {
                let rf = A::route(re);
                if let Some(u) = &rf.unknown {
                    unknown.push(u.clone());
                }
                let (l, u) = rf.igw_sets();
                if u != l && rf.unknown.is_none() {
                    unknown.push(
                        self.idx
                            .gaps
                            .internet_gateways
                            .clone()
                            .unwrap_or_else(|| "internet gateway attachment unknown".into()),
                    );
                }
                (l.intersection(internet), u.intersection(internet))
            }
            Err(why) => {
                unknown.push(why.clone());
                (IpSet::empty(), internet.clone())
            }
        };
        let empty_leg = |b: SubnetBlock| Leg {
            subnet_id: subnet.info.subnet_id.clone(),
            reach: IpSet::empty(),
            block: Some(b),
            unknown: Vec::new(),
            path: None,
        };
        if r_upper.is_empty() {
            let detail = match &subnet.route {
                Ok(re) => format!(
                    "route table {} sends no internet {} address to an attached internet \
                     gateway{}",
                    re.route_table_id,
                    A::FAMILY.as_str(),
                    igw_problem(A::route(re))
                ),
                Err(_) => String::new(),
            };
            return empty_leg(block(BlockLink::NoIgwRoute, detail, Vec::new()));
        }
        // Network ACL inbound.
        let nf = nacl.map(A::nacl);
        let (n_lower, n_upper) = match (nf, &subnet.nacl) {
            (Some(nf), _) => {
                if let Some(u) = &nf.inbound_unknown {
                    unknown.push(u.clone());
                }
                nf.inbound_bounds()
            }
            (None, Err(why)) => {
                unknown.push(why.clone());
                (IpSet::empty(), IpSet::full())
            }
            (None, Ok(_)) => (IpSet::empty(), IpSet::full()),
        };
        let u2 = r_upper.intersection(&n_upper);
        if u2.is_empty() {
            let (acl_id, rules) = match nf {
                Some(nf) => (
                    nacl.map(|n| n.nacl_id.clone()).unwrap_or_default(),
                    rules_touching(&nf.inbound_matches, false, &r_upper),
                ),
                None => (String::new(), Vec::new()),
            };
            return empty_leg(block(
                BlockLink::NaclInboundDenies,
                format!(
                    "network ACL {acl_id} denies inbound TCP from the internet ({}) by rules {}",
                    A::FAMILY.as_str(),
                    rule_list(&rules)
                ),
                rules,
            ));
        }
        // Security groups.
        let sf = A::sg(sgs);
        let sg_lower = &sf.cidr;
        let sg_upper = if sgs.cidr_unknown.is_empty() {
            std::borrow::Cow::Borrowed(&sf.cidr)
        } else {
            unknown.extend(sgs.cidr_unknown.iter().cloned());
            std::borrow::Cow::Owned(IpSet::full())
        };
        let u3 = u2.intersection(&sg_upper);
        if u3.is_empty() {
            return empty_leg(block(
                BlockLink::SecurityGroupsClosed,
                format!(
                    "no security group rule allows internet {} sources that the route and \
                     network ACL let through",
                    A::FAMILY.as_str()
                ),
                Vec::new(),
            ));
        }
        // Network ACL outbound, for the replies.
        let (o_lower, o_upper) = match nf {
            Some(nf) => {
                if let Some(u) = &nf.outbound_unknown {
                    unknown.push(u.clone());
                }
                nf.outbound_bounds()
            }
            None => (IpSet::empty(), IpSet::full()),
        };
        let u4 = u3.intersection(&o_upper);
        if u4.is_empty() {
            let (acl_id, rules) = match nf {
                Some(nf) => (
                    nacl.map(|n| n.nacl_id.clone()).unwrap_or_default(),
                    rules_touching(&nf.outbound_matches, false, &u3),
                ),
                None => (String::new(), Vec::new()),
            };
            return empty_leg(block(
                BlockLink::NaclOutboundDenies,
                format!(
                    "network ACL {acl_id} denies the return traffic to ephemeral ports \
                     1024-65535 by rules {}",
                    rule_list(&rules)
                ),
                rules,
            ));
        }
        let reach = r_lower
            .intersection(&n_lower)
            .intersection(sg_lower)
            .intersection(&o_lower);
        if reach.is_empty() {
            dedup(&mut unknown);
            return Leg {
                subnet_id,
                reach,
                block: None,
                unknown,
                path: None,
            };
        }
        let path = described.then(|| self.path::<A>(subnet, nacl, sgs, &reach));
        Leg {
            subnet_id,
            reach,
            block: None,
            unknown: Vec::new(),
            path,
        }
    }

    fn path<A: Internet>(
        &self,
        subnet: &SubnetCtx<'a>,
        nacl: Option<&NaclEval>,
        sgs: &SgEval<'a>,
        reach: &IpSet<A>,
    ) -> InternetPath {
        let mut routes = Vec::new();
        let mut igws: Vec<String> = Vec::new();
        if let Ok(re) = &subnet.route {
            for p in &A::route(re).parts {
                if let Target::Igw {
                    id,
                    attached: Some(true),
                } = &p.target
                    && p.set.intersects(reach)
                {
                    routes.push(RouteRef {
                        destination: p.destination.clone(),
                        target: id.clone(),
                    });
                    if !igws.contains(id) {
                        igws.push(id.clone());
                    }
                }
            }
        }
        let nf = nacl.map(A::nacl);
        let mut sg_rules = Vec::new();
        for (group_id, r) in sgs.rules() {
            for (label, set) in sg::rule_sources::<A>(r, &mut |p| self.prefix_list(p)) {
                if !set.intersects(reach) {
                    continue;
                }
                let rr = SgRuleRef {
                    group_id: group_id.to_string(),
                    protocol: r.ip_protocol.clone(),
                    from_port: r.from_port,
                    to_port: r.to_port,
                    source: label,
                };
                if !sg_rules.contains(&rr) {
                    sg_rules.push(rr);
                }
            }
        }
        InternetPath {
            family: A::FAMILY,
            subnet_id: subnet.info.subnet_id.clone(),
            route_table_id: subnet.info.route_table_id.clone(),
            routes,
            internet_gateway_ids: igws,
            network_acl_id: subnet.info.network_acl_id.clone(),
            nacl_inbound_rules: nf
                .map(|n| rules_touching(&n.inbound_matches, true, reach))
                .unwrap_or_default(),
            nacl_outbound_rules: nf
                .map(|n| rules_touching(&n.outbound_matches, true, reach))
                .unwrap_or_default(),
            security_group_rules: sg_rules,
            sources: A::address_sets(reach),
        }
    }

    /// The subnets of a list (a DB subnet group's, a proxy's) with the NACL evaluation of each
    /// for `port`: the same for every database placed in that list, so made once per list
    /// (and port; a large region has a few subnet groups and many databases in each).
    /// Without `nacls`, the NACL evaluations are left out (empty): for a database whose
    /// judgement reads none (see [`RegionAnalysis::judge_with`]).
    #[allow(clippy::type_complexity)]
    fn placement(
        &self,
        ids: &'a [String],
        port: Option<u16>,
        nacls: bool,
        cache: &mut Cache<'a>,
    ) -> (Rc<[Rc<SubnetCtx<'a>>]>, Rc<[Option<Rc<NaclEval>>]>) {
        // Keyed by address: the snapshot is borrowed, so the list does not move.
        let list = (ids.as_ptr() as usize, ids.len());
        let subnets = match cache.placed_subnets.get(&list) {
            Some(subnets) => subnets.clone(),
            None => {
                let subnets: Rc<[Rc<SubnetCtx<'a>>]> =
                    ids.iter().map(|id| self.subnet_ctx(id, cache)).collect();
                cache.placed_subnets.insert(list, subnets.clone());
                subnets
            }
        };
        if !nacls {
            return (subnets, Rc::from([]));
        }
        let key = (list.0, list.1, port);
        if let Some(nacls) = cache.placed_nacls.get(&key) {
            return (subnets, nacls.clone());
        }
        // The NACL evaluation of each subnet for this port.
        let nacls: Rc<[Option<Rc<NaclEval>>]> = subnets
            .iter()
            .map(|s| s.nacl.as_ref().ok().map(|a| self.nacl_eval(a, port, cache)))
            .collect();
        cache.placed_nacls.insert(key, nacls.clone());
        (subnets, nacls)
    }

    /// Whether and how the internet reaches a database, and its peered VPCs: what the report
    /// and the checks' verdicts share.
    fn judge(&self, t: &DbTarget<'a>, cache: &mut Cache<'a>) -> Judged<'a> {
        let sgs = self.sg_eval(t, cache);
        self.judge_with(t, sgs, cache)
    }

    /// [`judge`](Self::judge) with the database's merged groups.
    fn judge_with(
        &self,
        t: &DbTarget<'a>,
        sgs: Rc<SgEval<'a>>,
        cache: &mut Cache<'a>,
    ) -> Judged<'a> {
        let described = !cache.undescribed;
        // The NACLs are read by the internet legs (a database that may be public), the
        // peering (a VPC with peering connections) and the report.
        let nacls_read = described
            || t.flag.upper
            || t.vpc_id.is_some_and(|v| {
                self.idx
                    .peerings_by_vpc
                    .get(v)
                    .is_some_and(|p| !p.is_empty())
            });
        let (subnets, nacls) = match t.subnet_ids {
            Ok(ids) => self.placement(ids, t.port, nacls_read, cache),
            Err(_) => (Rc::from([]), Rc::from([])),
        };

        let mut legs4: Vec<Leg<u32>> = Vec::new();
        let mut legs6: Vec<Leg<u128>> = Vec::new();
        if t.flag.upper {
            match &t.subnet_ids {
                Ok(_) => {
                    for (s, n) in subnets.iter().zip(nacls.iter()) {
                        legs4.push(self.leg::<u32>(s, n.as_deref(), &sgs, described));
                        if s.ipv6 != Some(false) {
                            legs6.push(self.leg::<u128>(s, n.as_deref(), &sgs, described));
                        }
                    }
                }
                Err(why) => {
                    // Unknown placement: every subnet link is unknown, the groups still count.
                    let unknown = SubnetCtx {
                        info: SubnetInfo {
                            subnet_id: "(unknown)".to_string(),
                            vpc_id: None,
                            availability_zone: None,
                            ipv6: false,
                            route_table_id: None,
                            main_route_table: false,
                            network_acl_id: None,
                            internet_gateway_routes: Vec::new(),
                            public: None,
                            unknown_reason: Some(why.clone()),
                        },
                        route: Err(why.clone()),
                        nacl: Err(why.clone()),
                        ipv6: None,
                    };
                    legs4.push(self.leg::<u32>(&unknown, None, &sgs, described));
                    legs6.push(self.leg::<u128>(&unknown, None, &sgs, described));
                }
            }
        }

        let reach4 = legs4.iter().fold(V4Set::empty(), |mut acc, l| {
            acc.union_in_place(&l.reach);
            acc
        });
        let reach6 = legs6.iter().fold(V6Set::empty(), |mut acc, l| {
            acc.union_in_place(&l.reach);
            acc
        });
        let verdict = if !t.flag.upper {
            Verdict::NotPublicFlag
        } else if !reach4.is_empty() || !reach6.is_empty() {
            if t.flag.lower {
                Verdict::Reachable
            } else {
                Verdict::Unknown(t.flag.reason.clone())
            }
        } else if legs4.iter().all(|l| l.block.is_some()) && legs6.iter().all(|l| l.block.is_some())
        {
            let blocks: Vec<SubnetBlock> = legs4
                .iter()
                .filter_map(|l| l.block.clone())
                .chain(legs6.iter().filter_map(|l| l.block.clone()))
                .collect();
            let furthest = blocks.iter().map(|b| b.link).max();
            Verdict::Blocked(match furthest {
                Some(link) => {
                    let detail = blocks
                        .iter()
                        .find(|b| b.link == link)
                        .map(|b| format!("{}: {}", b.subnet_id, b.detail))
                        .unwrap_or_default();
                    Blocked {
                        link,
                        detail,
                        subnets: blocks,
                    }
                }
                None => Blocked {
                    link: BlockLink::NoIgwRoute,
                    detail: "the database has no subnets".to_string(),
                    subnets: Vec::new(),
                },
            })
        } else {
            let mut reasons: Vec<String> = legs4
                .iter()
                .flat_map(|l| l.unknown.iter().cloned())
                .chain(legs6.iter().flat_map(|l| l.unknown.iter().cloned()))
                .collect();
            dedup(&mut reasons);
            if let Some(r) = &t.flag.reason {
                reasons.insert(0, r.clone());
            }
            Verdict::Unknown(Some(reasons.join("; ")))
        };
        let (peered_vpcs, peering_unknown) = self.peering(t, &subnets, &nacls, &sgs);
        Judged {
            sgs,
            subnets,
            nacls,
            legs4,
            legs6,
            reach4,
            reach6,
            verdict,
            peered_vpcs,
            peering_unknown,
        }
    }

    /// What the checks decide a database's statuses from (see [`DbReach`]). Databases
    /// alike in everything their reach depends on ([`ReachKey`]) share one judgement.
    fn reach(&self, t: &DbTarget<'a>, cache: &mut Cache<'a>) -> DbReach {
        // Only without descriptions (`reaches`).
        let kept = self.alike_members(t, cache);
        let key: Option<ReachKey<'a>> = match (&t.subnet_ids, &t.flag.reason) {
            (Ok(ids), None) if kept => Some((
                ids.as_ptr() as usize,
                ids.len(),
                t.port,
                t.vpc_id,
                t.flag.upper,
                t.flag.lower,
            )),
            _ => None,
        };
        let address = |m: &Rc<GroupEval<'a>>| Rc::as_ptr(m) as usize;
        let hash =
            key.map(|k| reach_hash(&cache.reaches_hasher, cache.members.iter().map(address), &k));
        if let (Some(k), Some(hash)) = (key, hash) {
            let members = &cache.members;
            let same =
                |(_, addresses, other, _): &(u64, Box<[usize]>, ReachKey<'a>, AlikeReach)| {
                    *other == k
                        && addresses.len() == members.len()
                        && addresses.iter().zip(members).all(|(a, m)| *a == address(m))
                };
            if let Some((_, _, _, alike)) = cache.reaches.find(hash, same) {
                return alike.reach_of(t);
            }
        }
        let sgs = Rc::new(SgEval::merge(cache.members.clone()));
        let addresses: Option<Box<[usize]>> =
            key.map(|_| cache.members.iter().map(address).collect());
        let j = self.judge_with(t, sgs, cache);
        let alike = AlikeReach {
            internet_reachable: j.verdict.internet_reachable(),
            blocked_link: j.verdict.blocked_link(),
            // Every attached group is a member, found or not.
            has_security_groups: !j.sgs.members.is_empty(),
            sources: Rc::new(SourceSets::of_eval(&j.sgs)),
            peered: !j.peered_vpcs.is_empty(),
            peering_unknown: j.peering_unknown.is_some(),
        };
        let reach = alike.reach_of(t);
        if let (Some(k), Some(hash), Some(addresses)) = (key, hash, addresses) {
            cache
                .reaches
                .insert_unique(hash, (hash, addresses, k, alike), |e| e.0);
        }
        reach
    }

    fn exposure(&self, t: DbTarget<'a>, cache: &mut Cache<'a>) -> DbExposure {
        let Judged {
            sgs,
            subnets,
            nacls,
            legs4,
            legs6,
            reach4,
            reach6,
            verdict,
            peered_vpcs,
            peering_unknown,
        } = self.judge(&t, cache);
        let mut notes: Vec<String> = t
            .member_of
            .map(|c| format!("member of DB cluster {c}"))
            .into_iter()
            .chain(t.notes.iter().cloned())
            .collect();
        if legs6.iter().any(|l| l.block.is_none()) || subnets.iter().any(|s| s.info.ipv6) {
            notes.push(
                "IPv6 paths assume the database may be dual-stack: the snapshot does not \
                 record its network type"
                    .to_string(),
            );
        }
        let (internet_reachable, blocked_by, unknown_reason) = match verdict {
            Verdict::NotPublicFlag => (
                Some(false),
                Some(Blocked {
                    link: BlockLink::NotPublicFlag,
                    detail: t.flag.detail.render(),
                    subnets: Vec::new(),
                }),
                None,
            ),
            Verdict::Reachable => (Some(true), None, None),
            Verdict::Blocked(b) => (Some(false), Some(b), None),
            Verdict::Unknown(reason) => (None, None, reason),
        };
        let path: Vec<InternetPath> = if internet_reachable == Some(true) {
            legs4
                .iter()
                .filter_map(|l| l.path.clone())
                .chain(legs6.iter().filter_map(|l| l.path.clone()))
                .collect()
        } else {
            Vec::new()
        };
        let internet_sources = if internet_reachable == Some(true) {
            AddressSets::from_sets(&reach4, &reach6)
        } else {
            AddressSets::default()
        };
        if internet_reachable == Some(true) {
            for (s, n) in subnets.iter().zip(nacls.iter()) {
                if let Some(n) = n
                    && legs4
                        .iter()
                        .any(|l| l.subnet_id == s.info.subnet_id && !l.reach.is_empty())
                    && !reach4.is_subset(&n.v4.outbound_all)
                {
                    notes.push(format!(
                        "network ACL {} lets replies out only to some ephemeral ports: clients \
                         using other source ports cannot connect",
                        n.nacl_id
                    ));
                }
            }
        }

        let egress = if self.egress {
            self.egress(&t, &subnets, &sgs)
        } else {
            Egress {
                unknown_reason: Some("egress was not analysed".to_string()),
                ..Egress::default()
            }
        };
        if !egress.ipv4.is_empty() || !egress.ipv6.is_empty() {
            notes.push("egress ignores network ACLs".to_string());
        }
        dedup(&mut notes);

        DbExposure {
            identifier: t.identifier.to_string(),
            arn: t.arn.to_string(),
            kind: t.kind,
            account_id: self.idx.account.account_id.clone(),
            region: self.idx.region.region.clone(),
            engine: t.engine.into_owned(),
            port: t.port,
            vpc_id: t.vpc_id.map(str::to_string),
            publicly_accessible: t.flag.value,
            public_members: t.flag.public_members.clone(),
            internet_reachable,
            unknown_reason,
            internet_sources,
            path,
            blocked_by,
            sources: self.sources_of(&sgs, cache),
            security_groups: sgs.attached(),
            subnets: match t.subnet_ids {
                Ok(ids) => {
                    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
                    match cache.subnet_lists.get(&ids) {
                        Some(list) => list.clone(),
                        None => {
                            let list: Arc<Vec<SubnetInfo>> =
                                Arc::new(subnets.iter().map(|s| s.info.clone()).collect());
                            cache.subnet_lists.insert(ids, list.clone());
                            list
                        }
                    }
                }
                Err(_) => Arc::default(),
            },
            subnets_unknown: t.subnet_ids.as_ref().err().cloned(),
            egress,
            peered_vpcs,
            peering_unknown,
            notes,
        }
    }

    fn egress(&self, t: &DbTarget<'a>, subnets: &[Rc<SubnetCtx<'a>>], sgs: &SgEval<'a>) -> Egress {
        let mut e = Egress {
            ipv4: cidrs4(&sgs.v4().egress),
            ipv6: cidrs6(&sgs.v6().egress),
            all_traffic: sgs.egress_all_traffic,
            security_groups: sgs.egress_groups(),
            prefix_list_ids: sgs.egress_prefix_lists(),
            internet: None,
            internet_via: Vec::new(),
            unknown_reason: None,
        };
        let mut lower = false;
        let mut upper = false;
        let mut reasons: Vec<String> = sgs.egress_unknown.clone();
        let sg_v4 = sgs.v4().egress.intersection(&self.internet_v4);
        let sg_v6 = sgs.v6().egress.intersection(&self.internet_v6);
        let sg_unknown = !sgs.egress_unknown.is_empty();
        if t.subnet_ids.is_err() {
            upper |= sg_unknown || !sg_v4.is_empty() || !sg_v6.is_empty();
            if let Err(why) = &t.subnet_ids {
                reasons.push(why.clone());
            }
        }
        for s in subnets {
            let re = match &s.route {
                Ok(re) => re,
                Err(why) => {
                    upper |= sg_unknown || !sg_v4.is_empty() || !sg_v6.is_empty();
                    reasons.push(why.clone());
                    continue;
                }
            };
            for (fam, parts, unknown) in [
                (Family::Ipv4, egress_parts_v4(re, &sg_v4), &re.v4.unknown),
                (Family::Ipv6, egress_parts_v6(re, &sg_v6), &re.v6.unknown),
            ] {
                if let Some(u) = unknown {
                    upper = true;
                    reasons.push(u.clone());
                }
                for (dest, target, touches_sg) in parts {
                    let (usable_lower, usable_upper) = match target {
                        Target::Igw { attached, .. } => (
                            t.flag.lower && *attached == Some(true),
                            t.flag.upper && *attached != Some(false),
                        ),
                        Target::Nat { available, .. } => (
                            fam == Family::Ipv4 && *available == Some(true),
                            fam == Family::Ipv4 && *available != Some(false),
                        ),
                        Target::EgressOnlyIgw { attached, .. } => (
                            fam == Family::Ipv6 && *attached == Some(true),
                            fam == Family::Ipv6 && *attached != Some(false),
                        ),
                        _ => (false, false),
                    };
                    if !usable_upper {
                        continue;
                    }
                    if touches_sg || sg_unknown {
                        upper = true;
                    }
                    if touches_sg && usable_lower {
                        lower = true;
                        e.internet_via.push(EgressRoute {
                            subnet_id: s.info.subnet_id.clone(),
                            route_table_id: s.info.route_table_id.clone(),
                            family: fam,
                            destination: dest.clone(),
                            target: target.label(),
                        });
                    } else if touches_sg || sg_unknown {
                        reasons.push(format!(
                            "whether {} can carry traffic out is unknown",
                            target.label()
                        ));
                    }
                }
            }
        }
        e.internet = if lower {
            Some(true)
        } else if !upper {
            Some(false)
        } else {
            dedup(&mut reasons);
            e.unknown_reason = Some(reasons.join("; "));
            None
        };
        e
    }

    fn peering(
        &self,
        t: &DbTarget<'a>,
        subnets: &[Rc<SubnetCtx<'a>>],
        nacls: &[Option<Rc<NaclEval>>],
        sgs: &SgEval<'a>,
    ) -> (Vec<PeeredVpc>, Option<String>) {
        let mut unknown: Vec<String> = Vec::new();
        if let Some(g) = &self.idx.gaps.peering {
            unknown.push(g.clone());
        }
        let Some(vpc) = t.vpc_id else {
            return (Vec::new(), None);
        };
        let peerings = self
            .idx
            .peerings_by_vpc
            .get(vpc)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let mut out = Vec::new();
        let sources4 = sgs.v4().cidr.union_ref(&sgs.v4().refs);
        let sources6 = sgs.v6().cidr.union_ref(&sgs.v6().refs);
        for pcx in peerings {
            if pcx.status.as_deref().is_some_and(|s| s != "active") {
                continue;
            }
            let peer = if pcx.requester.vpc_id.as_deref() == Some(vpc) {
                &pcx.accepter
            } else {
                &pcx.requester
            };
            let mut peer4 = V4Set::empty();
            let mut peer6 = V6Set::empty();
            let local_peer = peer.vpc_id.as_deref().and_then(|v| self.idx.vpcs.get(v));
            let peer_cidrs = peer
                .cidr_blocks
                .iter()
                .chain(&peer.ipv6_cidr_blocks)
                .chain(local_peer.iter().flat_map(|v| v.cidr_blocks.iter()))
                .chain(local_peer.iter().flat_map(|v| v.ipv6_cidr_blocks.iter()));
            let mut cidrs_known = false;
            for c in peer_cidrs {
                if let Ok(p) = Cidr::parse(c) {
                    cidrs_known = true;
                    if let Some(s) = u32::from_cidr(p) {
                        peer4.union_in_place(&s);
                    }
                    if let Some(s) = u128::from_cidr(p) {
                        peer6.union_in_place(&s);
                    }
                }
            }
            if !cidrs_known {
                // The routes to the connection say what is sent to the peer.
                peer4 = V4Set::full();
                peer6 = V6Set::full();
            }
            let id = pcx.vpc_peering_connection_id.as_str();
            let mut got4 = V4Set::empty();
            let mut got6 = V6Set::empty();
            for (s, n) in subnets.iter().zip(nacls) {
                let re = match &s.route {
                    Ok(re) => re,
                    Err(why) => {
                        unknown.push(why.clone());
                        continue;
                    }
                };
                let Some(n) = n else {
                    if let Err(why) = &s.nacl {
                        unknown.push(why.clone());
                    }
                    continue;
                };
                for u in [&re.v4.unknown, &re.v6.unknown, &n.v4.inbound_unknown]
                    .into_iter()
                    .flatten()
                {
                    unknown.push(u.clone());
                }
                got4.union_in_place(
                    &re.v4
                        .peering_set(id)
                        .intersection(&peer4)
                        .intersection(&sources4)
                        .intersection(&n.v4.inbound)
                        .intersection(&n.v4.outbound_any),
                );
                if s.ipv6 != Some(false) {
                    got6.union_in_place(
                        &re.v6
                            .peering_set(id)
                            .intersection(&peer6)
                            .intersection(&sources6)
                            .intersection(&n.v6.inbound)
                            .intersection(&n.v6.outbound_any),
                    );
                }
            }
            if let Err(why) = &t.subnet_ids {
                unknown.push(why.clone());
            }
            let groups: Vec<String> = sgs
                .groups()
                .into_iter()
                .filter(|g| {
                    let vpc = g.vpc_id.as_deref().or_else(|| {
                        self.idx
                            .security_group(&g.group_id)
                            .and_then(|s| s.vpc_id.as_deref())
                    });
                    g.vpc_peering_connection_id.as_deref() == Some(id)
                        || (vpc.is_some() && vpc == peer.vpc_id.as_deref())
                })
                .map(|g| g.group_id.clone())
                .collect();
            if !sgs.cidr_unknown.is_empty() {
                unknown.extend(sgs.cidr_unknown.iter().cloned());
            }
            if got4.is_empty() && got6.is_empty() && groups.is_empty() {
                continue;
            }
            out.push(PeeredVpc {
                vpc_id: peer.vpc_id.clone(),
                owner_id: peer.owner_id.clone(),
                region: peer.region.clone(),
                peering_connection_id: id.to_string(),
                ipv4: cidrs4(&got4),
                ipv6: cidrs6(&got6),
                security_groups: groups,
            });
        }
        if peerings.is_empty() && self.idx.gaps.peering.is_none() {
            return (out, None);
        }
        dedup(&mut unknown);
        let reason = if unknown.is_empty() {
            None
        } else {
            Some(unknown.join("; "))
        };
        (out, reason)
    }
}

fn route_parts_v4(re: &RouteEval) -> Vec<(&String, &Target)> {
    re.v4
        .parts
        .iter()
        .map(|p| (&p.destination, &p.target))
        .collect()
}

fn route_parts_v6(re: &RouteEval) -> Vec<(&String, &Target)> {
    re.v6
        .parts
        .iter()
        .map(|p| (&p.destination, &p.target))
        .collect()
}

/// (destination, target, whether the part meets the groups' internet egress set).
fn egress_parts_v4<'r>(re: &'r RouteEval, sg: &V4Set) -> Vec<(&'r String, &'r Target, bool)> {
    re.v4
        .parts
        .iter()
        .map(|p| (&p.destination, &p.target, p.set.intersects(sg)))
        .collect()
}

fn egress_parts_v6<'r>(re: &'r RouteEval, sg: &V6Set) -> Vec<(&'r String, &'r Target, bool)> {
    re.v6
        .parts
        .iter()
        .map(|p| (&p.destination, &p.target, p.set.intersects(sg)))
        .collect()
}

/// Why the routes give no way to the internet, for the blocking detail.
fn igw_problem<A: Fam>(rf: &crate::routes::RouteFamily<A>) -> String {
    let mut problems = Vec::new();
    for p in &rf.parts {
        match &p.target {
            Target::Igw {
                id,
                attached: Some(false),
            } => problems.push(format!(
                "{} → {id}: the gateway is not attached to the VPC",
                p.destination
            )),
            Target::Blackhole => problems.push(format!("{} is a blackhole route", p.destination)),
            _ => {}
        }
    }
    if problems.is_empty() {
        String::new()
    } else {
        format!(" ({})", problems.join("; "))
    }
}

fn rule_list(rules: &[i32]) -> String {
    if rules.is_empty() {
        return "(none)".to_string();
    }
    rules
        .iter()
        .map(|r| {
            if *r == crate::report::NACL_DEFAULT_RULE {
                "*".to_string()
            } else {
                r.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}
