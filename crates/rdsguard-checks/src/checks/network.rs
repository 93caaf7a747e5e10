//! Network exposure checks. Every answer comes from the rdsguard-network engine, which
//! combines security groups on the real port, route tables, internet gateways, network ACLs,
//! IPv6 and peering into exact address sets; the checks only grade its results.
//!
//! Public access is graded in two steps: the PubliclyAccessible flag alone fails (as FSBP
//! RDS.2 does) at high severity, with the link that currently blocks the internet named in the
//! message ("latent"); a database the internet can actually reach fails at critical, with the
//! path. Missing network data never turns into PASS: the engine reports it unknown and the
//! checks say NOT_ASSESSED (or, for a set flag, FAIL at high with the reason).

use std::borrow::Cow;
use std::cell::{OnceCell, RefCell};
use std::collections::BTreeSet;
use std::rc::Rc;
use std::sync::Arc;

use rdsguard_findings::Severity;
use rdsguard_model::{
    DbCluster, DbInstance, DbProxy, OptionGroup, RegionSnapshot, VpcSecurityGroupMembership, ops,
};
use rdsguard_network::{
    DbExposure, DbKind, DbReach, GroupPositions, InternetPath, ReferenceState, RegionAnalysis,
    SourceSets, Sources, SubnetInfo, ipset, is_all_ports, is_all_protocols,
};
use serde_json::Value;

use super::common::{
    Described, FastMap, FastSet, Positional, cluster_resource, instance_resource, non_rds_service,
    position_of, positional_with, proxy_resource, shared_resource,
};
use super::lookups::RegionLookups;
use crate::engine::explaining;
use crate::engine::{CheckDef, Emitter, Evidence, RegionCtx, Runner, SharedResource};
use crate::{evidence, msg};

pub static CHECKS: &[&CheckDef] = &[
    &RDS_INSTANCE_NO_PUBLIC_ACCESS,
    &RDS_CLUSTER_NO_PUBLIC_ACCESS,
    &RDS_INSTANCE_NOT_IN_PUBLIC_SUBNET,
    &RDS_DB_PORT_OPEN_TO_INTERNET,
    &RDS_SECURITY_GROUP_BROAD_CIDR,
    &RDS_SECURITY_GROUP_ALL_PORTS,
    &RDS_DEFAULT_SECURITY_GROUP_ATTACHED,
    &RDS_SECURITY_GROUP_STALE_REFERENCE,
    &RDS_SUBNET_GROUP_PUBLIC_SUBNET,
    &RDS_REACHABLE_VIA_PEERING,
];

// ---------------------------------------------------------------------------------------------
// Helpers

fn analysis<'a>(ctx: &RegionCtx<'a>) -> RegionAnalysis<'a> {
    RegionAnalysis::new(ctx.snapshot, ctx.account, ctx.region)
}

/// What the network checks need from the region's analysis, computed once for all of them
/// (building the analysis indexes the whole region, so it is not rebuilt per check).
struct RegionExposures {
    /// What the statuses of every database of the region are decided from, in the order of
    /// `RegionAnalysis::databases` (the instances, then the clusters, then the proxies, each
    /// in snapshot order).
    reaches: Vec<DbReach>,
    /// The subnets of each DB subnet group, or why they are unknown; with the subnets as
    /// evidence, shared by the findings about every database of the group.
    subnet_groups: FastMap<String, Result<SubnetGroupSubnets, String>>,
    /// For the security groups of the region (by position) whose rules reference a group
    /// that is stale or unknown, those references' states, ingress then egress (every
    /// reference of the other groups exists: nothing kept for them).
    bad_references: FastMap<usize, Vec<ReferenceState>>,
    /// The shared reference of each database, in the order of `reaches` (read by position:
    /// no lookup per finding).
    resources: Vec<SharedResource>,
    /// Stands for the exposure report of a database in the analysis, which writes no message
    /// or evidence (the only places a report is read).
    no_report: DbExposure,
    /// See [`db_flags`].
    flags: Rc<DbFlagsOf>,
    /// The ports other than its own that an instance's options listen on (Oracle SSL, OEM...),
    /// by the instance's position, each with the sources its groups admit on it: evaluated
    /// here, with the region's analysis at hand, rather than by indexing the region again.
    option_ports: FastMap<usize, Vec<OptionPort>>,
    /// Where each database's groups are in the region's list (in the order of `reaches`),
    /// as judging the databases found them (see [`subject_group_positions`]).
    group_positions: GroupPositions,
}

/// A port an option of an instance listens on ([`RegionExposures::option_ports`]).
struct OptionPort {
    port: u16,
    /// What listens: "option OEM of oracle-oem".
    label: String,
    sets: SourceSets,
}

/// What the network checks read of every database of the region (instances, clusters,
/// proxies, in that order), read once for all of them: each read is a cache miss per
/// database in a large region.
#[derive(Clone, Copy)]
struct DbFlags {
    /// It runs an RDS engine (its proxy's engine family as the exposure reports it, in
    /// lower case).
    runs_rds: bool,
    /// A cluster with member instances in the snapshot (they decide its exposure).
    has_members: bool,
}

struct DbFlagsOf(Vec<DbFlags>);

fn db_flags(ctx: &RegionCtx<'_>) -> Rc<DbFlagsOf> {
    ctx.memo.get_or_init_plain(|| {
        let rds = &ctx.region.rds;
        let engines = super::common::instance_engines(ctx);
        let with_members = clusters_with_members(ctx);
        DbFlagsOf(
            engines
                .rds
                .iter()
                .map(|&runs_rds| DbFlags {
                    runs_rds,
                    has_members: false,
                })
                .chain(rds.db_clusters.iter().map(|c| DbFlags {
                    runs_rds: non_rds_service(&c.engine).is_none(),
                    has_members: with_members.contains(c.db_cluster_identifier.as_str()),
                }))
                .chain(rds.db_proxies.iter().map(|p| DbFlags {
                    runs_rds: non_rds_service(&p.engine_family.to_ascii_lowercase()).is_none(),
                    has_members: false,
                }))
                .collect(),
        )
    })
}

/// The exposure reports of the region's databases shown so far, by position (the order of
/// the reaches), for messages and evidence: each made the first time a result about its
/// database is explained, then kept for the other checks.
#[derive(Default)]
struct ExposureReports(RefCell<FastMap<usize, DbExposure>>);

impl ExposureReports {
    /// The reports a check run shows, when it explains results (`None` in the analysis, which
    /// writes no message): every database's of `dbs` when every result is wanted, only the
    /// wanted ones' when a few are ([`Emitter::wanted`]; the run emits one result per
    /// database of `dbs`, in order).
    fn for_run(
        ctx: &RegionCtx<'_>,
        em: &Emitter<'_>,
        all: &RegionExposures,
        dbs: &[DbEntry<'_, '_>],
    ) -> Option<Rc<ExposureReports>> {
        if !explaining() {
            return None;
        }
        let reports: Rc<ExposureReports> = ctx.memo.get_or_init_plain(ExposureReports::default);
        let positions = |ordinals: &[u32], dbs: &[DbEntry<'_, '_>]| -> Vec<usize> {
            ordinals
                .iter()
                .filter_map(|&o| dbs.get(o as usize))
                .map(|d| d.index)
                .collect()
        };
        let missing_of = |wanted: Vec<usize>| -> Vec<usize> {
            let known = reports.0.borrow();
            wanted
                .into_iter()
                .filter(|i| !known.contains_key(i))
                .collect()
        };
        let mut missing = match em.wanted() {
            Some(ordinals) => missing_of(positions(ordinals, dbs)),
            None => missing_of(dbs.iter().map(|d| d.index).collect()),
        };
        if !missing.is_empty() && em.wanted().is_some() {
            // The databases the other network checks explain in this explanation too: their
            // reports are made now, together (the region's index is built once, and the
            // later checks find theirs made instead of listing every check's databases).
            for (id, list) in explained_from_reports() {
                if let Some(ordinals) = ctx.memo.wanted_by(id) {
                    missing.extend(missing_of(positions(&ordinals, &all.databases(ctx, list))));
                }
            }
        }
        missing.sort_unstable();
        missing.dedup();
        if !missing.is_empty() {
            let made = analysis(ctx).without_egress().databases_at(&missing);
            reports.0.borrow_mut().extend(made);
        }
        Some(reports)
    }
}

/// The subnets of a DB subnet group, and the same as evidence (made when first explained,
/// then shared by the findings about every database of the group).
struct SubnetGroupSubnets {
    subnets: Vec<SubnetInfo>,
    evidence: std::cell::OnceCell<Arc<Value>>,
}

impl SubnetGroupSubnets {
    fn evidence(&self) -> &Arc<Value> {
        self.evidence
            .get_or_init(|| Arc::new(serde_json::json!(self.subnets)))
    }
}

fn all_exposures(ctx: &RegionCtx<'_>) -> Rc<RegionExposures> {
    // The same whether results are explained or not: the report text comes separately.
    ctx.memo.get_or_init_plain(|| {
        // No check reads egress.
        let analysis = analysis(ctx).without_egress();
        let rds = &ctx.region.rds;
        let group_names = rds.db_subnet_groups.iter().map(|g| g.name.as_str()).chain(
            rds.db_instances
                .iter()
                .filter_map(|d| d.db_subnet_group_name.as_deref()),
        );
        let mut names = FastSet::default();
        let group_names = group_names.filter(|name| names.insert(*name));
        // One pass, so that the subnets' evaluations serve both.
        let (reaches, subnet_groups, group_positions) =
            analysis.reaches_and_subnet_groups(group_names);
        let subnet_groups: FastMap<String, Result<SubnetGroupSubnets, String>> = subnet_groups
            .into_iter()
            .map(|(name, subnets)| {
                let subnets = subnets.map(|subnets| SubnetGroupSubnets {
                    subnets,
                    evidence: std::cell::OnceCell::new(),
                });
                (name.to_string(), subnets)
            })
            .collect();
        let mut bad_references = FastMap::default();
        let groups = &ctx.region.ec2.security_groups;
        for &i in analysis.groups_with_unusual_references() {
            let Some(g) = groups.get(i) else { continue };
            let mut bad = Vec::new();
            for r in g
                .ingress
                .iter()
                .chain(&g.egress)
                .flat_map(|perm| &perm.security_groups)
            {
                match analysis.reference_state(r) {
                    ReferenceState::Exists => {}
                    state => bad.push(state),
                }
            }
            if !bad.is_empty() {
                bad_references.insert(i, bad);
            }
        }
        let resources = rds
            .db_instances
            .iter()
            .map(|db| instance_resource(ctx, db))
            .chain(rds.db_clusters.iter().map(|c| cluster_resource(ctx, c)))
            .chain(rds.db_proxies.iter().map(|p| proxy_resource(ctx, p)))
            .collect();
        let flags = db_flags(ctx);
        let mut option_ports = FastMap::default();
        // Most regions have no option listening on a port of its own: then no instance's
        // option groups are looked up.
        let options_listen = rds
            .option_groups
            .iter()
            .any(|g| g.options.iter().any(|o| o.port.is_some()));
        let instances = if options_listen {
            &rds.db_instances[..]
        } else {
            &[]
        };
        for (i, (db, reach)) in instances.iter().zip(&reaches).enumerate() {
            let mut ports: Vec<OptionPort> = Vec::new();
            for (port, label) in instance_option_ports(ctx, db) {
                if Some(port) == reach.port || ports.iter().any(|o| o.port == port) {
                    continue;
                }
                let groups = group_ids_of(SubjectItem::Instance(db));
                let sets = analysis.source_sets_for(&groups, Some(port));
                ports.push(OptionPort { port, label, sets });
            }
            if !ports.is_empty() {
                option_ports.insert(i, ports);
            }
        }
        RegionExposures {
            reaches,
            subnet_groups,
            bad_references,
            resources,
            no_report: no_report(),
            flags,
            option_ports,
            group_positions,
        }
    })
}

/// An exposure report with nothing in it (see [`RegionExposures::no_report`]).
fn no_report() -> DbExposure {
    DbExposure {
        identifier: String::new(),
        arn: String::new(),
        kind: DbKind::DbInstance,
        account_id: String::new(),
        region: String::new(),
        engine: String::new(),
        port: None,
        vpc_id: None,
        publicly_accessible: None,
        public_members: Vec::new(),
        internet_reachable: None,
        unknown_reason: None,
        internet_sources: Default::default(),
        path: Vec::new(),
        blocked_by: None,
        sources: Default::default(),
        security_groups: Vec::new(),
        subnets: Arc::default(),
        subnets_unknown: None,
        egress: Default::default(),
        peered_vpcs: Vec::new(),
        peering_unknown: None,
        notes: Vec::new(),
    }
}

/// A database of the region for the network checks, by position.
struct DbEntry<'e, 'a> {
    item: SubjectItem<'a>,
    /// Its position in the region's databases (the order of the reaches).
    index: usize,
    resource: SharedResource,
    reach: &'e DbReach,
    runs_rds: bool,
}

impl<'e, 'a> DbEntry<'e, 'a> {
    /// The database with its report from `reports` (when explaining), or none.
    fn view<'v>(
        &'v self,
        reports: Option<&'v FastMap<usize, DbExposure>>,
        no_report: &'v DbExposure,
    ) -> NetDb<'v, 'a> {
        match reports.and_then(|r| r.get(&self.index)) {
            Some(report) => NetDb {
                item: self.item,
                resource: self.resource,
                reach: Cow::Owned(DbReach::of(report)),
                report,
                runs_rds: self.runs_rds,
            },
            None => NetDb {
                item: self.item,
                resource: self.resource,
                reach: Cow::Borrowed(self.reach),
                report: no_report,
                runs_rds: self.runs_rds,
            },
        }
    }
}

/// One database as a network check judges it.
struct NetDb<'e, 'a> {
    item: SubjectItem<'a>,
    resource: SharedResource,
    /// What its statuses are decided from: read back from the report when explaining (the
    /// explained results are decided from the report they show), computed directly in the
    /// analysis. Both agree (tested in rdsguard-network and by the engine's comparison of
    /// both passes).
    reach: Cow<'e, DbReach>,
    /// The exposure report, for messages and evidence only (empty in the analysis).
    report: &'e DbExposure,
    /// Whether it runs an RDS engine (its engine read once per region).
    runs_rds: bool,
}

impl NetDb<'_, '_> {
    /// Neptune and DocumentDB resources also come back from the RDS APIs; RDS controls do
    /// not apply to them.
    fn other_service(&self) -> Option<String> {
        if self.runs_rds {
            return None;
        }
        let what = self.item.what();
        match self.item {
            SubjectItem::Instance(i) => engine_service(what, &i.engine),
            SubjectItem::Cluster(c) => engine_service(what, &c.engine),
            SubjectItem::Proxy(p) => engine_service(what, &p.engine_family.to_ascii_lowercase()),
        }
    }
}

/// Which databases a network check judges.
#[derive(Clone, Copy)]
enum NetList {
    /// The DB instances.
    Instances,
    /// The DB clusters (those with member instances too).
    Clusters,
    /// The instances, the clusters without member instances in the snapshot (their members
    /// decide their exposure: findings are not doubled), the proxies.
    Subjects,
}

impl NetList {
    /// The kinds kept, and whether clusters with members are.
    fn selects(self) -> (fn(DbKind) -> bool, bool) {
        match self {
            NetList::Instances => (|k| k == DbKind::DbInstance, true),
            NetList::Clusters => (|k| k == DbKind::DbCluster, true),
            NetList::Subjects => (|_| true, false),
        }
    }
}

/// The network checks explained from exposure reports, with the databases each judges.
fn explained_from_reports() -> [(&'static str, NetList); 5] {
    [
        (RDS_INSTANCE_NO_PUBLIC_ACCESS.id, NetList::Instances),
        (RDS_CLUSTER_NO_PUBLIC_ACCESS.id, NetList::Clusters),
        (RDS_DB_PORT_OPEN_TO_INTERNET.id, NetList::Subjects),
        (RDS_SECURITY_GROUP_BROAD_CIDR.id, NetList::Subjects),
        (RDS_REACHABLE_VIA_PEERING.id, NetList::Subjects),
    ]
}

impl RegionExposures {
    /// The databases a network check judges, in order (one result each).
    fn databases<'e, 'a>(&'e self, ctx: &RegionCtx<'a>, list: NetList) -> Vec<DbEntry<'e, 'a>> {
        let (keep, with_member_clusters) = list.selects();
        let rds = &ctx.region.rds;
        let items = rds
            .db_instances
            .iter()
            .map(SubjectItem::Instance)
            .chain(rds.db_clusters.iter().map(SubjectItem::Cluster))
            .chain(rds.db_proxies.iter().map(SubjectItem::Proxy));
        let mut out = Vec::with_capacity(self.reaches.len());
        let known = self.reaches.iter().zip(&self.resources).zip(&self.flags.0);
        for (index, (item, ((reach, &resource), &flags))) in items.zip(known).enumerate() {
            if !keep(reach.kind) || (flags.has_members && !with_member_clusters) {
                continue;
            }
            out.push(DbEntry {
                item,
                index,
                resource,
                reach,
                runs_rds: flags.runs_rds,
            });
        }
        out
    }

    /// The subnets of a DB subnet group, and the same as evidence.
    fn subnet_group(&self, name: &str) -> Result<&SubnetGroupSubnets, String> {
        match self.subnet_groups.get(name) {
            Some(Ok(group)) => Ok(group),
            Some(Err(why)) => Err(why.clone()),
            None => Err(format!("DB subnet group {name} is not in the snapshot")),
        }
    }
}

fn clusters_with_members<'a>(ctx: &RegionCtx<'a>) -> FastSet<&'a str> {
    ctx.region
        .rds
        .db_instances
        .iter()
        .filter_map(|i| i.db_cluster_identifier.as_deref())
        .collect()
}

fn resource(
    ctx: &RegionCtx<'_>,
    resource_type: &'static str,
    id: &str,
    arn: Option<&str>,
) -> SharedResource {
    shared_resource(ctx, resource_type, id, || arn.map(str::to_string))
}

fn group_resource(ctx: &RegionCtx<'_>, group: &AttachedGroup) -> SharedResource {
    let group_id = group.id(ctx.region);
    let arn = || {
        // Concatenated rather than formatted: one per group of a large account.
        let parts = [
            "arn:",
            &ctx.account.partition,
            ":ec2:",
            &ctx.region.region,
            ":",
            &ctx.account.account_id,
            ":security-group/",
            group_id,
        ];
        // Appended into one allocation of the right size (`concat` took twice as long).
        let mut arn = String::with_capacity(parts.iter().map(|p| p.len()).sum());
        for p in parts {
            arn.push_str(p);
        }
        Some(arn)
    };
    const TYPE: &str = "AwsEc2SecurityGroup";
    let groups = &ctx.region.ec2.security_groups;
    // Kept by position when in the snapshot: checks walk the attached groups in turn.
    match group.at().and_then(|p| groups.get(p as usize)) {
        Some(g) => positional_with(
            ctx,
            Positional::SecurityGroups,
            groups,
            g,
            (TYPE, group_id),
            arn,
        ),
        None => shared_resource(ctx, TYPE, group_id, arn),
    }
}

fn what(d: &DbExposure) -> Described<'_> {
    let kind = match d.kind {
        DbKind::DbInstance => "DB instance",
        DbKind::DbCluster => "DB cluster",
        DbKind::DbProxy => "RDS proxy",
    };
    Described(kind, &d.identifier)
}

/// The databases whose own groups and subnets decide their exposure ("subjects"): instances
/// (cluster members included), proxies, and clusters with no member instance in the snapshot
/// (Aurora Serverless v1, or members not collected). Clusters with members are covered by
/// their members, so findings are not doubled.
struct Subject<'a> {
    item: SubjectItem<'a>,
    what: Described<'a>,
    /// It runs an RDS engine.
    runs_rds: bool,
    group_ids: GroupIds<'a>,
}

/// A database's security group ids, read in place from its description (a list per database
/// would be an allocation per database of a large region).
#[derive(Clone, Copy)]
enum GroupIds<'a> {
    Memberships(&'a [VpcSecurityGroupMembership]),
    Ids(&'a [String]),
}

impl<'a> GroupIds<'a> {
    fn of(item: SubjectItem<'a>) -> Self {
        match item {
            SubjectItem::Instance(i) => GroupIds::Memberships(&i.vpc_security_groups),
            SubjectItem::Cluster(c) => GroupIds::Memberships(&c.vpc_security_groups),
            SubjectItem::Proxy(p) => GroupIds::Ids(&p.vpc_security_group_ids),
        }
    }

    fn iter(self) -> impl Iterator<Item = &'a str> {
        let (memberships, ids): (&[VpcSecurityGroupMembership], &[String]) = match self {
            GroupIds::Memberships(m) => (m, &[]),
            GroupIds::Ids(i) => (&[], i),
        };
        memberships
            .iter()
            .map(|m| m.vpc_security_group_id.as_str())
            .chain(ids.iter().map(String::as_str))
    }

    fn len(self) -> usize {
        match self {
            GroupIds::Memberships(m) => m.len(),
            GroupIds::Ids(i) => i.len(),
        }
    }

    fn is_empty(self) -> bool {
        self.len() == 0
    }

    fn to_vec(self) -> Vec<&'a str> {
        self.iter().collect()
    }
}

/// The database a [`Subject`] is: its reference is made only for a result about it.
#[derive(Clone, Copy)]
enum SubjectItem<'a> {
    Instance(&'a DbInstance),
    Cluster(&'a DbCluster),
    Proxy(&'a DbProxy),
}

impl<'a> SubjectItem<'a> {
    fn what(self) -> Described<'a> {
        match self {
            SubjectItem::Instance(i) => Described("DB instance", &i.db_instance_identifier),
            SubjectItem::Cluster(c) => Described("DB cluster", &c.db_cluster_identifier),
            SubjectItem::Proxy(p) => Described("RDS proxy", &p.name),
        }
    }
}

impl Subject<'_> {
    /// Neptune and DocumentDB resources also come back from the RDS APIs; RDS controls do
    /// not apply to them.
    fn other_service(&self) -> Option<String> {
        if self.runs_rds {
            return None;
        }
        let engine = match self.item {
            SubjectItem::Instance(i) => &i.engine,
            SubjectItem::Cluster(c) => &c.engine,
            SubjectItem::Proxy(p) => &p.engine_family,
        };
        engine_service(self.what, engine)
    }

    fn resource(&self, ctx: &RegionCtx<'_>) -> SharedResource {
        match self.item {
            SubjectItem::Instance(i) => instance_resource(ctx, i),
            SubjectItem::Cluster(c) => cluster_resource(ctx, c),
            SubjectItem::Proxy(p) => proxy_resource(ctx, p),
        }
    }
}

fn subjects<'a>(ctx: &RegionCtx<'a>) -> Vec<Subject<'a>> {
    let rds = &ctx.region.rds;
    let flags = db_flags(ctx);
    let mut out =
        Vec::with_capacity(rds.db_instances.len() + rds.db_clusters.len() + rds.db_proxies.len());
    for (i, f) in rds.db_instances.iter().zip(&flags.0) {
        out.push(Subject {
            item: SubjectItem::Instance(i),
            what: Described("DB instance", &i.db_instance_identifier),
            runs_rds: f.runs_rds,
            group_ids: GroupIds::Memberships(&i.vpc_security_groups),
        });
    }
    let cluster_flags = flags.0.iter().skip(rds.db_instances.len());
    for (c, f) in rds.db_clusters.iter().zip(cluster_flags) {
        if f.has_members {
            continue;
        }
        out.push(Subject {
            item: SubjectItem::Cluster(c),
            what: Described("DB cluster", &c.db_cluster_identifier),
            runs_rds: f.runs_rds,
            group_ids: GroupIds::Memberships(&c.vpc_security_groups),
        });
    }
    for p in &rds.db_proxies {
        out.push(Subject {
            item: SubjectItem::Proxy(p),
            what: Described("RDS proxy", &p.name),
            // Its engine family as it is (not in lower case, unlike the exposure's).
            runs_rds: non_rds_service(&p.engine_family).is_none(),
            group_ids: GroupIds::Ids(&p.vpc_security_group_ids),
        });
    }
    out
}

/// Evidence shared by many findings (a group's databases, a subnet group's subnets), added
/// only when explaining: nothing to build while deciding statuses.
fn share_evidence(ev: &mut Evidence, key: &'static str, value: &Arc<Value>) {
    share_evidence_with(ev, key, || value);
}

/// [`share_evidence`] of a value made on first use.
fn share_evidence_with<'v>(
    ev: &mut Evidence,
    key: &'static str,
    value: impl FnOnce() -> &'v Arc<Value>,
) {
    if explaining() {
        ev.insert_shared(key.into(), value().clone());
    }
}

fn engine_service(what: impl std::fmt::Display, engine: &str) -> Option<String> {
    let service = non_rds_service(engine)?;
    Some(format!("{what} runs {service}, not an RDS database engine"))
}

fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `subnet-a: rtb-1 (0.0.0.0/0 → igw-1), acl-1 in #100 out #100, sg-1 tcp 5432 from 0.0.0.0/0`
fn path_summary(p: &InternetPath) -> String {
    let routes = p
        .routes
        .iter()
        .map(|r| format!("{} → {}", r.destination, r.target))
        .collect::<Vec<_>>()
        .join(", ");
    let rules = |v: &[i32]| {
        v.iter()
            .map(|r| format!("#{r}"))
            .collect::<Vec<_>>()
            .join(",")
    };
    let sg = p
        .security_group_rules
        .iter()
        .map(|r| format!("{} {} from {}", r.group_id, r.protocol, r.source))
        .collect::<Vec<_>>()
        .join("; ");
    format!(
        "{} {}: {} ({routes}), {} in {} out {}, {sg}",
        p.family.as_str(),
        p.subnet_id,
        p.route_table_id.as_deref().unwrap_or("?"),
        p.network_acl_id.as_deref().unwrap_or("?"),
        rules(&p.nacl_inbound_rules),
        rules(&p.nacl_outbound_rules),
    )
}

fn reach_message(d: &DbExposure) -> String {
    let v4: u64 = d.internet_sources.ipv4.iter().map(|c| c.addresses).sum();
    let mut m = format!(
        "{} is reachable from the internet on port {}",
        what(d),
        d.port.map_or("?".to_string(), |p| p.to_string())
    );
    if v4 > 0 {
        m.push_str(&format!(" from {} IPv4 addresses", thousands(v4)));
    }
    if !d.internet_sources.ipv6.is_empty() {
        m.push_str(if v4 > 0 { " and IPv6" } else { " from IPv6" });
    }
    if let Some(p) = d.path.first() {
        m.push_str(&format!(": {}", path_summary(p)));
    }
    m
}

fn public_access_evidence(d: &DbExposure) -> crate::engine::Evidence {
    evidence! {
        "publicly_accessible" => d.publicly_accessible,
        "public_members" => d.public_members,
        "internet_reachable" => d.internet_reachable,
        "path" => d.path,
        "blocked_by" => d.blocked_by,
        "unknown_reason" => d.unknown_reason,
        "internet_sources" => d.internet_sources,
        "port" => d.port,
    }
}

/// Grade public access: reachable → critical; flag set but blocked or unknown → high (FSBP
/// RDS.2 fails on the flag alone); flag clear → pass.
fn grade_public_access(
    em: &mut Emitter<'_>,
    db: &NetDb<'_, '_>,
    flag_unknown: impl FnOnce() -> String,
) {
    let (res, d) = (db.resource, db.report);
    let ev = public_access_evidence(d);
    match (db.reach.internet_reachable, db.reach.publicly_accessible) {
        (Some(true), _) => {
            em.fail_with_severity(Severity::Critical, res, msg!("{}", reach_message(d)), ev)
        }
        (_, Some(true)) => {
            let why = || match (&d.blocked_by, &d.unknown_reason) {
                (Some(b), _) => format!("currently blocked by {}: {}", b.link.as_str(), b.detail),
                (None, Some(u)) => format!("whether the internet can reach it is unknown: {u}"),
                (None, None) => "whether the internet can reach it is unknown".to_string(),
            };
            em.fail_with_severity(
                Severity::High,
                res,
                msg!("{} has PubliclyAccessible set; {}", what(d), why()),
                ev,
            );
        }
        (_, Some(false)) => em.pass(res, msg!("{} is not publicly accessible", what(d)), ev),
        (_, None) => em.not_assessed(res, msg!("{}", flag_unknown())),
    }
}

// ---------------------------------------------------------------------------------------------

pub static RDS_INSTANCE_NO_PUBLIC_ACCESS: CheckDef = CheckDef {
    id: "rds_instance_no_public_access",
    title: "RDS DB instance is not publicly accessible",
    severity: Severity::Critical,
    resource_type: "AwsRdsDbInstance",
    description: "Fails at critical when the internet can open a TCP connection to the \
                  instance's port: PubliclyAccessible is set, a subnet of its DB subnet group \
                  routes internet addresses to an attached internet gateway, the network ACL \
                  lets the port in and the replies out, and a security group allows internet \
                  sources (IPv4 or IPv6); the path is in the evidence. Fails at high when only \
                  the flag is set (FSBP RDS.2 fails on the flag alone), naming the link that \
                  blocks the internet today, or why reachability is unknown.",
    rationale: "A database reachable from the internet is exposed to credential stuffing, \
                engine exploits and data theft by anyone. A set flag with a closed path is one \
                route or security group change away from that.",
    remediation: "Set PubliclyAccessible to false (`aws rds modify-db-instance \
                  --db-instance-identifier <id> --no-publicly-accessible --apply-immediately`), \
                  place the instance in private subnets, and restrict its security groups to \
                  the application's groups.",
    cis: &["v3.0.0/2.3.3", "v5.0.0/2.2.3"],
    fsbp: &["RDS.2"],
    depends_on: &[ops::RDS_DESCRIBE_DB_INSTANCES],
    run: Runner::Region(instance_no_public_access),
};

fn instance_no_public_access(ctx: &RegionCtx<'_>, em: &mut Emitter<'_>) {
    let all = all_exposures(ctx);
    let dbs = all.databases(ctx, NetList::Instances);
    let reports = ExposureReports::for_run(ctx, em, &all, &dbs);
    let reports = reports.as_ref().map(|r| r.0.borrow());
    for entry in &dbs {
        if em.skip_unwanted() {
            continue;
        }
        let db = entry.view(reports.as_deref(), &all.no_report);
        if let Some(why) = db.other_service() {
            em.not_applicable(db.resource, why);
            continue;
        }
        grade_public_access(em, &db, || "PubliclyAccessible is unknown".to_string());
    }
}

pub static RDS_CLUSTER_NO_PUBLIC_ACCESS: CheckDef = CheckDef {
    id: "rds_cluster_no_public_access",
    title: "RDS DB cluster is not publicly accessible",
    severity: Severity::Critical,
    resource_type: "AwsRdsDbCluster",
    description: "Multi-AZ DB clusters are judged by their PubliclyAccessible flag, Aurora \
                  clusters by their member instances' flags, with the cluster's security \
                  groups and DB subnet group. Critical when the internet can reach the cluster \
                  port; high when the flag is set but the path is blocked or unknown.",
    rationale: "The cluster endpoints resolve to the member instances: one public member \
                exposes the cluster's data to the internet.",
    remediation: "Set PubliclyAccessible to false on the Multi-AZ cluster \
                  (`modify-db-cluster --no-publicly-accessible`) or on every Aurora member \
                  (`modify-db-instance --no-publicly-accessible`), and use private subnets.",
    cis: &[],
    fsbp: &[],
    depends_on: &[ops::RDS_DESCRIBE_DB_CLUSTERS],
    run: Runner::Region(cluster_no_public_access),
};

fn cluster_no_public_access(ctx: &RegionCtx<'_>, em: &mut Emitter<'_>) {
    let all = all_exposures(ctx);
    let dbs = all.databases(ctx, NetList::Clusters);
    let reports = ExposureReports::for_run(ctx, em, &all, &dbs);
    let reports = reports.as_ref().map(|r| r.0.borrow());
    for entry in &dbs {
        if em.skip_unwanted() {
            continue;
        }
        let db = entry.view(reports.as_deref(), &all.no_report);
        if let Some(why) = db.other_service() {
            em.not_applicable(db.resource, why);
            continue;
        }
        let d = db.report;
        grade_public_access(em, &db, || {
            let mut m = format!(
                "cannot tell whether members of {} are publicly accessible: {}",
                what(d),
                d.unknown_reason.as_deref().unwrap_or("unknown")
            );
            if let Some(b) = &d.blocked_by {
                m.push_str(&format!(
                    " (the network blocks the internet today: {})",
                    b.link.as_str()
                ));
            }
            m
        });
    }
}

pub static RDS_INSTANCE_NOT_IN_PUBLIC_SUBNET: CheckDef = CheckDef {
    id: "rds_instance_not_in_public_subnet",
    title: "RDS DB instance is not in a public subnet",
    severity: Severity::High,
    resource_type: "AwsRdsDbInstance",
    description: "Fails when a subnet of the instance's DB subnet group has an active route \
                  (after longest-prefix match, explicit association or the VPC's main table) \
                  to an internet gateway attached to the VPC. Blackhole routes and detached \
                  gateways do not count.",
    rationale: "An instance in a public subnet is one flag or security group change away from \
                the internet, and RDS can move it to any subnet of its group on failover.",
    remediation: "Move the instance to a DB subnet group whose subnets route only inside the \
                  VPC (or through a NAT gateway), or remove the internet gateway routes from \
                  those subnets' route tables.",
    cis: &[],
    fsbp: &["RDS.46"],
    depends_on: &[ops::RDS_DESCRIBE_DB_INSTANCES],
    run: Runner::Region(instance_not_in_public_subnet),
};

fn instance_not_in_public_subnet(ctx: &RegionCtx<'_>, em: &mut Emitter<'_>) {
    let all = all_exposures(ctx);
    for db in &ctx.region.rds.db_instances {
        if em.skip_unwanted() {
            continue;
        }
        let what = Described("DB instance", &db.db_instance_identifier);
        let res = instance_resource(ctx, db);
        if let Some(why) = engine_service(what, &db.engine) {
            em.not_applicable(res, why);
            continue;
        }
        let Some(group) = db.db_subnet_group_name.as_deref() else {
            em.not_applicable(res, msg!("{what} is not in a VPC"));
            continue;
        };
        let group_subnets = match all.subnet_group(group) {
            Ok(s) => s,
            Err(why) => {
                em.not_assessed(res, why);
                continue;
            }
        };
        let mut ev = evidence! { "db_subnet_group" => group };
        share_evidence_with(&mut ev, "subnets", || group_subnets.evidence());
        let subnets = &group_subnets.subnets;
        if subnets.iter().any(|s| s.public == Some(true)) {
            em.fail(
                res,
                msg!(
                    "{what} can be placed in public subnets: {}",
                    public_subnets(subnets)
                ),
                ev,
            );
        } else if let Some(s) = subnets.iter().find(|s| s.public.is_none()) {
            em.not_assessed(
                res,
                msg!(
                    "whether subnet {} is public is unknown: {}",
                    s.subnet_id,
                    s.unknown_reason.as_deref().unwrap_or("unknown")
                ),
            );
        } else if subnets.is_empty() {
            em.not_applicable(res, msg!("{what} has no subnets"));
        } else {
            em.pass(
                res,
                msg!("no subnet of {what} routes to an internet gateway"),
                ev,
            );
        }
    }
}

/// The public subnets among `subnets`, with their internet gateway routes, for a message.
fn public_subnets(subnets: &[SubnetInfo]) -> String {
    subnets
        .iter()
        .filter(|s| s.public == Some(true))
        .map(|s| {
            let routes = s
                .internet_gateway_routes
                .iter()
                .map(|r| format!("{} → {}", r.destination, r.target))
                .collect::<Vec<_>>()
                .join(", ");
            format!(
                "{} ({}: {routes})",
                s.subnet_id,
                s.route_table_id.as_deref().unwrap_or("?")
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Ports the database listens on: its endpoint port and the ports of its option-group options
/// (e.g. Oracle's SSL listener, 2484 by default; OEM).
fn listening_ports<'e>(
    all: &'e RegionExposures,
    entry: &DbEntry<'_, '_>,
    db: &NetDb<'_, '_>,
) -> Vec<(u16, Cow<'e, str>, Option<&'e SourceSets>)> {
    let mut ports: Vec<(u16, Cow<'e, str>, Option<&'e SourceSets>)> = db
        .reach
        .port
        .map(|p| (p, Cow::Borrowed("database port"), None))
        .into_iter()
        .collect();
    if let SubjectItem::Instance(_) = db.item
        && let Some(options) = all.option_ports.get(&entry.index)
    {
        ports.extend(
            options
                .iter()
                .map(|o| (o.port, Cow::Borrowed(o.label.as_str()), Some(&o.sets))),
        );
    }
    ports
}

/// The ports the options of an instance's option groups listen on, with what listens (in
/// option group order; a port may come more than once).
fn instance_option_ports<'a>(
    ctx: &RegionCtx<'a>,
    instance: &'a DbInstance,
) -> impl Iterator<Item = (u16, String)> + 'a {
    let lookups = RegionLookups::of(ctx);
    let groups: Vec<&'a OptionGroup> = instance
        .option_group_memberships
        .iter()
        .filter_map(|m| lookups.option_group(ctx.region, &m.name))
        .collect();
    groups.into_iter().flat_map(|g| {
        g.options.iter().filter_map(move |o| {
            o.port
                .map(|p| (p, format!("option {} of {}", o.option_name, g.name)))
        })
    })
}

/// The security groups of a database, as its exposure lists them.
fn group_ids_of(item: SubjectItem<'_>) -> Vec<&str> {
    GroupIds::of(item).to_vec()
}

pub static RDS_DB_PORT_OPEN_TO_INTERNET: CheckDef = CheckDef {
    id: "rds_db_port_open_to_internet",
    title: "Database port is not open to the whole internet in its security groups",
    severity: Severity::High,
    resource_type: "AwsRdsDbInstance",
    description: "Fails when the security groups attached to a database (instance, proxy, or \
                  cluster without member instances) allow every internet address (0.0.0.0/0 or \
                  ::/0, directly, merged from several rules, or through a prefix list) on the \
                  database's real port or on the port of one of its options (Oracle SSL \
                  listener, OEM...), even when the database is not reachable today (latent). \
                  Covers the per-port checks of Prowler and FSBP EC2.19 for database ports, \
                  Oracle included, on the port actually configured.",
    rationale: "An open group is the only thing left between the database and the internet \
                once the flag or a route changes; open database ports are scanned within \
                minutes.",
    remediation: "Replace the 0.0.0.0/0 and ::/0 rules with the application's security groups \
                  or the specific CIDRs that need access \
                  (`aws ec2 revoke-security-group-ingress`, `authorize-security-group-ingress`).",
    cis: &[],
    fsbp: &[],
    depends_on: &[ops::RDS_DESCRIBE_DB_INSTANCES],
    run: Runner::Region(port_open_to_internet),
};

fn port_open_to_internet(ctx: &RegionCtx<'_>, em: &mut Emitter<'_>) {
    // Built only to explain a result about a database listening on an option port (the
    // report names the rules admitting each source), and then once for the region.
    let analysis = OnceCell::new();
    let all = all_exposures(ctx);
    let internet4 = ipset::internet_v4();
    let internet6 = ipset::internet_v6();
    let no_sources = Sources::default();
    let dbs = all.databases(ctx, NetList::Subjects);
    let reports = ExposureReports::for_run(ctx, em, &all, &dbs);
    let reports = reports.as_ref().map(|r| r.0.borrow());
    for entry in &dbs {
        if em.skip_unwanted() {
            continue;
        }
        let db = entry.view(reports.as_deref(), &all.no_report);
        let (res, d) = (db.resource, db.report);
        if let Some(why) = db.other_service() {
            em.not_applicable(res, why);
            continue;
        }
        if !db.reach.has_security_groups {
            em.not_applicable(res, msg!("{} has no VPC security groups", what(d)));
            continue;
        }
        let mut open = Vec::new();
        let mut unknown = Vec::new();
        let mut open_rules = Vec::new();
        for (port, label, option_sets) in listening_ports(&all, entry, &db) {
            // The sets decide; the report's sources (when explaining) name the rules.
            let (sets, sources) = match option_sets {
                None => (Cow::Borrowed(&*db.reach.sources), Cow::Borrowed(&d.sources)),
                Some(_) if explaining() => {
                    let groups = group_ids_of(db.item);
                    let analysis = analysis.get_or_init(|| self::analysis(ctx));
                    let sources = analysis.sources_for(&groups, Some(port));
                    (Cow::Owned(SourceSets::of(&sources)), Cow::Owned(sources))
                }
                Some(sets) => (Cow::Borrowed(sets), Cow::Borrowed(&no_sources)),
            };
            let mut families = Vec::new();
            if internet4.is_subset(&sets.ipv4) {
                families.push("0.0.0.0/0");
            }
            if internet6.is_subset(&sets.ipv6) {
                families.push("::/0");
            }
            if !families.is_empty() {
                // Only whether there is one decides; the text is for the explanation.
                open.push(msg!("{port} ({label}) to {}", families.join(" and ")));
                open_rules.extend(
                    sources
                        .rules
                        .iter()
                        .filter(|r| {
                            r.ipv4_ranges
                                .iter()
                                .chain(&r.ipv6_ranges)
                                .any(|c| c.ends_with("/0"))
                                || !r.prefix_list_ids.is_empty()
                        })
                        .cloned(),
                );
            } else if !sets.cidr_complete {
                unknown.push(msg!("port {port}: {}", sources.unknown.join("; ")));
            }
        }
        let port_known = db.reach.port.is_some();
        if !open.is_empty() {
            let now = || match d.internet_reachable {
                Some(true) => "and the database is reachable from the internet now".to_string(),
                Some(false) => format!(
                    "latent: the internet is blocked today by {}",
                    d.blocked_by.as_ref().map_or("?", |b| b.link.as_str())
                ),
                None => "whether the internet reaches it today is unknown".to_string(),
            };
            em.fail(
                res,
                msg!(
                    "security groups of {} open port {}, {}",
                    what(d),
                    open.join(", "),
                    now()
                ),
                evidence! {
                    "open" => open,
                    "rules" => open_rules,
                    "internet_reachable" => d.internet_reachable,
                    "blocked_by" => d.blocked_by.as_ref().map(|b| b.link),
                },
            );
        } else if !unknown.is_empty() || !port_known {
            let mut why = unknown;
            if !port_known {
                why.push("the database port is unknown".to_string());
            }
            em.not_assessed(res, msg!("{}", why.join("; ")));
        } else {
            em.pass(
                res,
                msg!(
                    "no security group of {} opens its ports to the whole internet",
                    what(d)
                ),
                evidence! { "sources_ipv4" => d.sources.ipv4, "sources_ipv6" => d.sources.ipv6 },
            );
        }
    }
}

pub static RDS_SECURITY_GROUP_BROAD_CIDR: CheckDef = CheckDef {
    id: "rds_security_group_broad_cidr",
    title: "Database security groups do not allow overly broad source ranges",
    severity: Severity::Medium,
    resource_type: "AwsRdsDbInstance",
    description: "Fails when the sources the security groups allow on the database port, \
                  merged into their minimal CIDR form (CIDR rules, prefix-list entries and \
                  referenced groups' interfaces together), contain a block broader than \
                  `max_source_prefix_v4` (default /16) or `max_source_prefix_v6` (default /48). \
                  Adjacent rules that merge into a broader block count as that block.",
    rationale: "Broad ranges grant access to far more hosts than need it, including networks \
                the account does not control.",
    remediation: "Narrow the rules to the application's security groups or to the specific \
                  subnets that connect to the database.",
    cis: &[],
    fsbp: &[],
    depends_on: &[ops::RDS_DESCRIBE_DB_INSTANCES],
    run: Runner::Region(broad_cidr),
};

fn prefix_len(cidr: &str) -> Option<u8> {
    cidr.rsplit_once('/').and_then(|(_, l)| l.parse().ok())
}

fn broad_cidr(ctx: &RegionCtx<'_>, em: &mut Emitter<'_>) {
    let max4 = ctx.config.max_source_prefix_v4;
    let max6 = ctx.config.max_source_prefix_v6;
    let all = all_exposures(ctx);
    let dbs = all.databases(ctx, NetList::Subjects);
    let reports = ExposureReports::for_run(ctx, em, &all, &dbs);
    let reports = reports.as_ref().map(|r| r.0.borrow());
    for entry in &dbs {
        if em.skip_unwanted() {
            continue;
        }
        let db = entry.view(reports.as_deref(), &all.no_report);
        let (res, d) = (db.resource, db.report);
        if let Some(why) = db.other_service() {
            em.not_applicable(res, why);
            continue;
        }
        if !db.reach.has_security_groups {
            em.not_applicable(res, msg!("{} has no VPC security groups", what(d)));
            continue;
        }
        // The sources' minimal CIDR blocks decide, by their lengths; the report names them.
        let is_broad = db
            .reach
            .sources
            .has_block_broader_than(u32::from(max4), u32::from(max6));
        let broad = || -> Vec<&str> {
            d.sources
                .ipv4
                .iter()
                .filter(|c| prefix_len(&c.cidr).is_some_and(|l| l < max4))
                .map(|c| c.cidr.as_str())
                .chain(
                    d.sources
                        .ipv6
                        .iter()
                        .filter(|c| prefix_len(&c.cidr).is_some_and(|l| l < max6))
                        .map(|c| c.cidr.as_str()),
                )
                .collect()
        };
        let ev = || {
            evidence! {
                "broad_cidrs" => broad(),
                "max_source_prefix_v4" => max4,
                "max_source_prefix_v6" => max6,
                "rules" => d.sources.rules,
            }
        };
        if is_broad {
            em.fail(
                res,
                msg!(
                    "{} accepts port {} connections from {} (broader than /{max4} IPv4 or \
                     /{max6} IPv6)",
                    what(d),
                    d.port.map_or("?".to_string(), |p| p.to_string()),
                    broad().join(", ")
                ),
                ev(),
            );
        } else if !db.reach.sources.complete {
            em.not_assessed(
                res,
                msg!(
                    "sources of {} are incomplete: {}",
                    what(d),
                    d.sources.unknown.join("; ")
                ),
            );
        } else {
            em.pass(
                res,
                msg!(
                    "every source block of {} is /{max4} (IPv4) or /{max6} (IPv6) or narrower",
                    what(d)
                ),
                ev(),
            );
        }
    }
}

/// A security group attached to databases of the region (RDS engines).
struct AttachedGroup {
    found: FoundGroup,
    /// The databases using it, sorted.
    databases: Vec<String>,
    /// The same, as evidence shared by the findings about the group.
    databases_evidence: Arc<Value>,
}

/// Where an attached group is: its position in the region's security groups (its id is its
/// entry's: not copied, a large region has a group per database), or the id the databases
/// give for a group missing from the snapshot.
enum FoundGroup {
    At(u32),
    Missing(String),
}

impl AttachedGroup {
    fn at(&self) -> Option<u32> {
        match self.found {
            FoundGroup::At(p) => Some(p),
            FoundGroup::Missing(_) => None,
        }
    }

    fn id<'r>(&'r self, region: &'r RegionSnapshot) -> &'r str {
        match &self.found {
            FoundGroup::At(p) => region
                .ec2
                .security_groups
                .get(*p as usize)
                .map_or("", |g| g.group_id.as_str()),
            FoundGroup::Missing(id) => id,
        }
    }
}

/// The security groups attached to the region's databases, in first-seen order; computed once
/// per region for the checks about groups.
struct AttachedGroups(Vec<AttachedGroup>);

fn attached_groups(ctx: &RegionCtx<'_>) -> Rc<AttachedGroups> {
    ctx.memo.get_or_init(|| {
        // The databases of each group are named in messages and evidence only: the analysis
        // (not explaining) needs the groups alone.
        let explain = explaining();
        let subjects = subjects(ctx);
        let positions = subject_group_positions(ctx, &subjects);
        // One pass: each group is added when first seen, known by its position (groups not
        // in the snapshot by id).
        let none = u32::MAX;
        let mut by_position: Vec<u32> = vec![none; ctx.region.ec2.security_groups.len()];
        let mut by_id: FastMap<&str, usize> = FastMap::default();
        let mut groups: Vec<AttachedGroup> = Vec::with_capacity(subjects.len());
        let mut users: Vec<BTreeSet<&str>> = Vec::new();
        let unexplained = Arc::new(Value::Null);
        let mut next = 0;
        for s in &subjects {
            let here = positions.of(&mut next, s);
            if !s.runs_rds {
                continue;
            }
            for (g, &p) in s.group_ids.iter().zip(here) {
                let mut add = || {
                    groups.push(AttachedGroup {
                        found: match p {
                            Some(p) => FoundGroup::At(p),
                            None => FoundGroup::Missing(g.to_string()),
                        },
                        databases: Vec::new(),
                        databases_evidence: unexplained.clone(),
                    });
                    groups.len() - 1
                };
                let at = match p.and_then(|p| by_position.get_mut(p as usize)) {
                    Some(slot) if *slot != none => *slot as usize,
                    Some(slot) => {
                        let at = add();
                        *slot = u32::try_from(at).unwrap_or(none);
                        at
                    }
                    None => *by_id.entry(g).or_insert_with(add),
                };
                if explain {
                    if users.len() < groups.len() {
                        users.resize_with(groups.len(), BTreeSet::new);
                    }
                    users[at].insert(s.what.1);
                }
            }
        }
        for (group, dbs) in groups.iter_mut().zip(users) {
            group.databases = dbs.into_iter().map(String::from).collect();
            group.databases_evidence = Arc::new(serde_json::json!(group.databases));
        }
        AttachedGroups(groups)
    })
}

/// The group each subject's group id names, by position in the region's security groups
/// (`None`: not in the snapshot), in the order of [`subjects`] and their group ids: looked up
/// once for the three checks about groups (a lookup by id is a cache miss per group in a
/// large region).
struct SubjectGroupPositions(Vec<Option<u32>>);

impl SubjectGroupPositions {
    /// The positions of `s`'s groups, `s` being the subject whose groups start at `next`
    /// (moved past them).
    fn of(&self, next: &mut usize, s: &Subject<'_>) -> &[Option<u32>] {
        let start = *next;
        *next += s.group_ids.len();
        self.0.get(start..*next).unwrap_or_default()
    }
}

/// [`SubjectGroupPositions`] of `subjects`, which are [`subjects`] of the context.
fn subject_group_positions(
    ctx: &RegionCtx<'_>,
    subjects: &[Subject<'_>],
) -> Rc<SubjectGroupPositions> {
    ctx.memo.get_or_init_plain(|| {
        let lookups = RegionLookups::of(ctx);
        // Judging the databases' exposure found their groups already, when it ran (the
        // same positions: the first group of an id, `None` outside the region's list).
        let exposures = ctx.memo.get_plain::<RegionExposures>();
        let mut positions = Vec::new();
        for s in subjects {
            let found = exposures.as_ref().and_then(|all| {
                let found = all
                    .group_positions
                    .of(reach_position(ctx.region, s.item)?)?;
                (found.len() == s.group_ids.len()).then_some(found)
            });
            match found {
                Some(found) => positions.extend_from_slice(found),
                None => positions.extend(s.group_ids.iter().map(|g| {
                    lookups
                        .security_group_index(ctx.region, g)
                        .and_then(|i| u32::try_from(i).ok())
                })),
            }
        }
        SubjectGroupPositions(positions)
    })
}

/// The place of a database among the reaches of its region (instances, clusters, proxies).
fn reach_position(region: &RegionSnapshot, item: SubjectItem<'_>) -> Option<usize> {
    let rds = &region.rds;
    match item {
        SubjectItem::Instance(i) => position_of(&rds.db_instances, i),
        SubjectItem::Cluster(c) => {
            position_of(&rds.db_clusters, c).map(|p| rds.db_instances.len() + p)
        }
        SubjectItem::Proxy(p) => position_of(&rds.db_proxies, p)
            .map(|p| rds.db_instances.len() + rds.db_clusters.len() + p),
    }
}

fn missing_group(ctx: &RegionCtx<'_>, gid: &str) -> String {
    match ctx.region.listing_gap(ops::EC2_DESCRIBE_SECURITY_GROUPS) {
        Some(g) => g.describe(),
        None => format!("security group {gid} is not in the snapshot"),
    }
}

pub static RDS_SECURITY_GROUP_ALL_PORTS: CheckDef = CheckDef {
    id: "rds_security_group_all_ports",
    title: "Database security groups have no all-ports or all-protocols ingress rules",
    severity: Severity::Medium,
    resource_type: "AwsEc2SecurityGroup",
    description: "For every security group attached to a database, fails when an ingress rule \
                  allows all protocols (-1) or every TCP or UDP port (0-65535), whatever the \
                  source.",
    rationale: "A database needs one port. All-ports rules open every other service on the \
                host and hide which access is really intended.",
    remediation: "Replace the rule with one for the database's TCP port only.",
    cis: &[],
    fsbp: &[],
    depends_on: &[ops::RDS_DESCRIBE_DB_INSTANCES],
    run: Runner::Region(all_ports),
};

fn all_ports(ctx: &RegionCtx<'_>, em: &mut Emitter<'_>) {
    for group in &attached_groups(ctx).0 {
        if em.skip_unwanted() {
            continue;
        }
        let (gid, dbs) = (group.id(ctx.region), &group.databases);
        let res = group_resource(ctx, group);
        let Some(g) = group
            .at()
            .and_then(|p| ctx.region.ec2.security_groups.get(p as usize))
        else {
            em.not_assessed(res, missing_group(ctx, gid));
            continue;
        };
        let wide: Vec<_> = g
            .ingress
            .iter()
            .filter(|p| is_all_ports(p) || is_all_protocols(p))
            .collect();
        let mut ev = evidence! { "rules" => wide };
        share_evidence(&mut ev, "databases", &group.databases_evidence);
        if wide.is_empty() {
            em.pass(
                res,
                msg!("security group {gid} has no all-ports or all-protocols rule"),
                ev,
            );
        } else {
            em.fail(
                res,
                msg!(
                    "security group {gid} (used by {}) has {} all-ports or all-protocols \
                     ingress rule(s)",
                    dbs.join(", "),
                    wide.len()
                ),
                ev,
            );
        }
    }
}

pub static RDS_DEFAULT_SECURITY_GROUP_ATTACHED: CheckDef = CheckDef {
    id: "rds_default_security_group_attached",
    title: "Database does not use the VPC's default security group",
    severity: Severity::Medium,
    resource_type: "AwsRdsDbInstance",
    description: "Fails when the VPC's `default` security group is attached to a database \
                  (instance, proxy, or cluster without member instances).",
    rationale: "The default group is shared by everything launched without a group and, by \
                default, lets all its members reach each other on every port.",
    remediation: "Create a dedicated security group for the database that allows only its \
                  port from the application's groups, attach it, and detach `default`.",
    cis: &[],
    fsbp: &[],
    depends_on: &[ops::RDS_DESCRIBE_DB_INSTANCES],
    run: Runner::Region(default_group),
};

fn default_group(ctx: &RegionCtx<'_>, em: &mut Emitter<'_>) {
    let subjects = subjects(ctx);
    let positions = subject_group_positions(ctx, &subjects);
    let security_groups = &ctx.region.ec2.security_groups;
    let mut next = 0;
    for s in &subjects {
        let here = positions.of(&mut next, s);
        if em.skip_unwanted() {
            continue;
        }
        let res = s.resource(ctx);
        if let Some(why) = s.other_service() {
            em.not_applicable(res, why);
            continue;
        }
        if s.group_ids.is_empty() {
            em.not_applicable(res, msg!("{} has no VPC security groups", s.what));
            continue;
        }
        // The first default group, else the first group missing from the snapshot.
        let mut default = None;
        let mut missing = None;
        for (gid, p) in s.group_ids.iter().zip(here) {
            match p.and_then(|p| security_groups.get(p as usize)) {
                Some(g) if g.is_default() => {
                    default = Some(g);
                    break;
                }
                Some(_) => {}
                None => missing = missing.or(Some(gid)),
            }
        }
        let ev = evidence! { "security_groups" => s.group_ids.to_vec() };
        if let Some(g) = default {
            em.fail(
                res,
                msg!(
                    "{} uses the default security group {} of {}",
                    s.what,
                    g.group_id,
                    g.vpc_id.as_deref().unwrap_or("its VPC")
                ),
                ev,
            );
        } else if let Some(gid) = missing {
            em.not_assessed(res, missing_group(ctx, gid));
        } else {
            em.pass(
                res,
                msg!("{} does not use a default security group", s.what),
                ev,
            );
        }
    }
}

pub static RDS_SECURITY_GROUP_STALE_REFERENCE: CheckDef = CheckDef {
    id: "rds_security_group_stale_reference",
    title: "Database security groups reference no deleted groups",
    severity: Severity::Low,
    resource_type: "AwsEc2SecurityGroup",
    description: "For every security group attached to a database, fails when an ingress or \
                  egress rule references a group that no longer exists: marked deleted by EC2 \
                  (stale peered-VPC references), or absent from the same account and region \
                  although every group there was collected. References to other accounts or \
                  regions the snapshot does not cover are NOT_ASSESSED.",
    rationale: "Stale rules are dead configuration that hides the intended access and can be \
                revived by a new group reusing the intent.",
    remediation: "Remove the rules that reference deleted groups \
                  (`aws ec2 revoke-security-group-ingress`), or \
                  `aws ec2 describe-stale-security-groups` to list them.",
    cis: &[],
    fsbp: &[],
    depends_on: &[ops::RDS_DESCRIBE_DB_INSTANCES],
    run: Runner::Region(stale_reference),
};

fn stale_reference(ctx: &RegionCtx<'_>, em: &mut Emitter<'_>) {
    let all = all_exposures(ctx);
    for group in &attached_groups(ctx).0 {
        if em.skip_unwanted() {
            continue;
        }
        let (gid, dbs) = (group.id(ctx.region), &group.databases);
        let res = group_resource(ctx, group);
        let Some(at) = group.at() else {
            em.not_assessed(res, missing_group(ctx, gid));
            continue;
        };
        let states = all
            .bad_references
            .get(&(at as usize))
            .map_or(&[][..], Vec::as_slice);
        let mut stale = Vec::new();
        let mut unknown = Vec::new();
        for state in states {
            match state {
                ReferenceState::Exists => {}
                ReferenceState::Stale(why) => stale.push(why.clone()),
                ReferenceState::Unknown(why) => unknown.push(why.clone()),
            }
        }
        stale.dedup();
        unknown.dedup();
        if !stale.is_empty() {
            em.fail(
                res,
                msg!(
                    "security group {gid} (used by {}) has stale references: {}",
                    dbs.join(", "),
                    stale.join("; ")
                ),
                {
                    let mut ev = evidence! { "stale" => stale, "unknown" => unknown };
                    share_evidence(&mut ev, "databases", &group.databases_evidence);
                    ev
                },
            );
        } else if !unknown.is_empty() {
            em.not_assessed(res, unknown.join("; "));
        } else {
            let mut ev = evidence! {};
            share_evidence(&mut ev, "databases", &group.databases_evidence);
            em.pass(res, msg!("every group referenced by {gid} exists"), ev);
        }
    }
}

pub static RDS_SUBNET_GROUP_PUBLIC_SUBNET: CheckDef = CheckDef {
    id: "rds_subnet_group_public_subnet",
    title: "DB subnet group contains no public subnets",
    severity: Severity::Medium,
    resource_type: "AwsRdsDbSubnetGroup",
    description: "Fails when a subnet of the DB subnet group has an active route to an \
                  internet gateway attached to its VPC (explicit route table association or \
                  the VPC's main table, longest-prefix match).",
    rationale: "Every database created with the group can land in the public subnet, one flag \
                away from the internet.",
    remediation: "Remove the public subnets from the group \
                  (`aws rds modify-db-subnet-group --subnet-ids <private subnets>`).",
    cis: &[],
    fsbp: &[],
    depends_on: &[ops::RDS_DESCRIBE_DB_SUBNET_GROUPS],
    run: Runner::Region(subnet_group_public_subnet),
};

fn subnet_group_public_subnet(ctx: &RegionCtx<'_>, em: &mut Emitter<'_>) {
    let all = all_exposures(ctx);
    for g in &ctx.region.rds.db_subnet_groups {
        if em.skip_unwanted() {
            continue;
        }
        let res = resource(ctx, "AwsRdsDbSubnetGroup", &g.name, g.arn.as_deref());
        if g.subnet_ids.is_empty() {
            em.not_applicable(res, msg!("DB subnet group {} has no subnets", g.name));
            continue;
        }
        let group_subnets = match all.subnet_group(&g.name) {
            Ok(s) => s,
            Err(why) => {
                em.not_assessed(res, why);
                continue;
            }
        };
        let subnets = &group_subnets.subnets;
        let public: Vec<&str> = subnets
            .iter()
            .filter(|s| s.public == Some(true))
            .map(|s| s.subnet_id.as_str())
            .collect();
        let mut ev = evidence! {};
        share_evidence_with(&mut ev, "subnets", || group_subnets.evidence());
        if !public.is_empty() {
            em.fail(
                res,
                msg!(
                    "DB subnet group {} contains public subnets {}",
                    g.name,
                    public.join(", ")
                ),
                ev,
            );
        } else if let Some(s) = subnets.iter().find(|s| s.public.is_none()) {
            em.not_assessed(
                res,
                msg!(
                    "whether subnet {} is public is unknown: {}",
                    s.subnet_id,
                    s.unknown_reason.as_deref().unwrap_or("unknown")
                ),
            );
        } else {
            em.pass(
                res,
                msg!("DB subnet group {} has only private subnets", g.name),
                ev,
            );
        }
    }
}

pub static RDS_REACHABLE_VIA_PEERING: CheckDef = CheckDef {
    id: "rds_reachable_via_peering",
    title: "Database is not reachable from peered VPCs",
    severity: Severity::Medium,
    resource_type: "AwsRdsDbInstance",
    description: "Fails when addresses of a VPC connected by an active peering connection can \
                  reach the database port: the security groups allow them (CIDRs, or groups of \
                  the peer VPC), the database's subnets route them to the peering connection, \
                  and the network ACLs let the traffic in and the replies out.",
    rationale: "Peering extends the database's network to another VPC, often another team or \
                account; access across it should be deliberate and reviewed.",
    remediation: "Restrict the security group rules to the peer's application subnets or \
                  groups, or remove the peering routes from the database's subnets.",
    cis: &[],
    fsbp: &[],
    depends_on: &[ops::RDS_DESCRIBE_DB_INSTANCES],
    run: Runner::Region(reachable_via_peering),
};

fn reachable_via_peering(ctx: &RegionCtx<'_>, em: &mut Emitter<'_>) {
    let all = all_exposures(ctx);
    let dbs = all.databases(ctx, NetList::Subjects);
    let reports = ExposureReports::for_run(ctx, em, &all, &dbs);
    let reports = reports.as_ref().map(|r| r.0.borrow());
    for entry in &dbs {
        if em.skip_unwanted() {
            continue;
        }
        let db = entry.view(reports.as_deref(), &all.no_report);
        let (res, d) = (db.resource, db.report);
        if let Some(why) = db.other_service() {
            em.not_applicable(res, why);
            continue;
        }
        if !db.reach.in_vpc {
            em.not_applicable(res, msg!("{} is not in a VPC", what(d)));
            continue;
        }
        let ev = evidence! { "peered_vpcs" => d.peered_vpcs };
        if db.reach.peered {
            let from = || {
                d.peered_vpcs
                    .iter()
                    .map(|p| {
                        let mut blocks: Vec<String> =
                            p.ipv4.iter().map(|c| c.cidr.clone()).collect();
                        blocks.extend(p.ipv6.iter().map(|c| c.cidr.clone()));
                        blocks.extend(p.security_groups.iter().map(|g| format!("group {g}")));
                        format!(
                            "VPC {} via {} ({})",
                            p.vpc_id.as_deref().unwrap_or("?"),
                            p.peering_connection_id,
                            blocks.join(", ")
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("; ")
            };
            em.fail(res, msg!("{} is reachable from {}", what(d), from()), ev);
        } else if db.reach.peering_unknown {
            em.not_assessed(
                res,
                msg!(
                    "peering reachability unknown: {}",
                    d.peering_unknown.as_deref().unwrap_or("unknown")
                ),
            );
        } else {
            em.pass(res, msg!("no peered VPC can reach {}", what(d)), ev);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Config;
    use crate::testkit::{ACCOUNT, REGION, run, run_with, snapshot, status_of};
    use rdsguard_findings::{Finding, Status};
    use rdsguard_model::*;

    /// The checks about the groups attached to databases find each database's groups by
    /// looking them up, or take them from the exposure facts when those were built first:
    /// the results must not depend on which (missing groups and groups shared by many
    /// databases included).
    #[test]
    fn group_checks_agree_with_and_without_the_exposure_facts() {
        let group_checks: [&CheckDef; 4] = [
            &RDS_SECURITY_GROUP_ALL_PORTS,
            &RDS_SECURITY_GROUP_BROAD_CIDR,
            &RDS_SECURITY_GROUP_STALE_REFERENCE,
            &RDS_DEFAULT_SECURITY_GROUP_ATTACHED,
        ];
        let mut with_facts = vec![&RDS_INSTANCE_NO_PUBLIC_ACCESS];
        with_facts.extend(group_checks);
        let mut synthetic =
            rdsguard_demo::synthetic(&rdsguard_demo::SyntheticParams::with_instances(400));
        // A group listed twice, and a database naming a group the region does not list.
        let region = &mut synthetic.accounts[0].regions[0];
        let twice = region.ec2.security_groups[0].clone();
        region.ec2.security_groups.push(twice);
        region.rds.db_instances[1].vpc_security_groups[0].vpc_security_group_id =
            "sg-not-listed".into();
        for snap in [rdsguard_demo::demo_snapshot(), synthetic] {
            let config = Config::default();
            let now = crate::testkit::now();
            let results = |defs: &[&CheckDef]| -> Vec<(&'static str, Status, String)> {
                let analysis = crate::analyze(&snap, &config, now, defs);
                analysis
                    .outcomes
                    .iter()
                    .filter(|o| analysis.check_of(o).id != RDS_INSTANCE_NO_PUBLIC_ACCESS.id)
                    .map(|o| {
                        let resource = analysis.resource_of(o).map(|r| r.id.clone());
                        (
                            analysis.check_of(o).id,
                            o.status,
                            resource.unwrap_or_default(),
                        )
                    })
                    .collect()
            };
            let alone = results(&group_checks);
            assert!(alone.iter().any(|r| r.1 == Status::Fail), "{alone:?}");
            assert_eq!(results(&with_facts), alone);
        }
    }

    fn perm(proto: &str, from: i32, to: i32, v4: &[&str]) -> SecurityGroupPermission {
        SecurityGroupPermission {
            ip_protocol: proto.into(),
            from_port: Some(from),
            to_port: Some(to),
            ipv4_ranges: v4.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        }
    }

    fn group(id: &str, name: &str, ingress: Vec<SecurityGroupPermission>) -> SecurityGroup {
        SecurityGroup {
            group_id: id.into(),
            group_name: name.into(),
            vpc_id: Some("vpc-1".into()),
            owner_id: Some(ACCOUNT.into()),
            ingress,
            ..Default::default()
        }
    }

    fn route(dest: &str, gw: &str) -> Route {
        Route {
            destination_cidr_block: Some(dest.into()),
            gateway_id: Some(gw.into()),
            state: Some("active".into()),
            ..Default::default()
        }
    }

    fn acl_entry(n: i32, egress: bool) -> NetworkAclEntry {
        NetworkAclEntry {
            rule_number: n,
            protocol: "-1".into(),
            rule_action: "allow".into(),
            egress,
            cidr_block: Some("0.0.0.0/0".into()),
            ..Default::default()
        }
    }

    fn db(id: &str, public: bool) -> DbInstance {
        DbInstance {
            db_instance_identifier: id.into(),
            db_instance_arn: format!("arn:aws:rds:{REGION}:{ACCOUNT}:db:{id}"),
            engine: "postgres".into(),
            port: Some(5432),
            publicly_accessible: public,
            vpc_id: Some("vpc-1".into()),
            db_subnet_group_name: Some("grp".into()),
            vpc_security_groups: vec![VpcSecurityGroupMembership {
                vpc_security_group_id: "sg-db".into(),
                status: "active".into(),
            }],
            ..Default::default()
        }
    }

    /// vpc-1 with public subnet-pub (rtb-pub: 0.0.0.0/0 → igw-1) and private subnet-priv
    /// (main table), an open default ACL, sg-db (TCP 5432 from 0.0.0.0/0), subnet groups
    /// `grp` (public) and `private-grp`, and instances `open` (public) and `private`.
    fn region() -> RegionSnapshot {
        let mut r = RegionSnapshot::new(REGION);
        let ec2 = &mut r.ec2;
        ec2.vpcs.push(Vpc {
            vpc_id: "vpc-1".into(),
            cidr_blocks: vec!["10.0.0.0/16".into()],
            ..Default::default()
        });
        for s in ["subnet-pub", "subnet-priv"] {
            ec2.subnets.push(Subnet {
                subnet_id: s.into(),
                vpc_id: "vpc-1".into(),
                ..Default::default()
            });
        }
        ec2.internet_gateways.push(InternetGateway {
            id: "igw-1".into(),
            attached_vpc_ids: vec!["vpc-1".into()],
        });
        ec2.route_tables.push(RouteTable {
            route_table_id: "rtb-main".into(),
            vpc_id: "vpc-1".into(),
            routes: vec![route("10.0.0.0/16", "local")],
            associations: vec![RouteTableAssociation {
                main: true,
                ..Default::default()
            }],
        });
        ec2.route_tables.push(RouteTable {
            route_table_id: "rtb-pub".into(),
            vpc_id: "vpc-1".into(),
            routes: vec![route("10.0.0.0/16", "local"), route("0.0.0.0/0", "igw-1")],
            associations: vec![RouteTableAssociation {
                subnet_id: Some("subnet-pub".into()),
                ..Default::default()
            }],
        });
        ec2.network_acls.push(NetworkAcl {
            network_acl_id: "acl-1".into(),
            vpc_id: "vpc-1".into(),
            is_default: true,
            entries: vec![acl_entry(100, false), acl_entry(100, true)],
            subnet_ids: vec![],
        });
        ec2.security_groups.push(group(
            "sg-db",
            "db",
            vec![perm("tcp", 5432, 5432, &["0.0.0.0/0"])],
        ));
        ec2.security_groups.push(group(
            "sg-default",
            "default",
            vec![perm("-1", -1, -1, &[])],
        ));
        r.rds.db_subnet_groups.push(DbSubnetGroup {
            name: "grp".into(),
            vpc_id: Some("vpc-1".into()),
            subnet_ids: vec!["subnet-pub".into(), "subnet-priv".into()],
            ..Default::default()
        });
        r.rds.db_subnet_groups.push(DbSubnetGroup {
            name: "private-grp".into(),
            vpc_id: Some("vpc-1".into()),
            subnet_ids: vec!["subnet-priv".into()],
            ..Default::default()
        });
        r.rds.db_instances.push(db("open", true));
        r.rds.db_instances.push(db("private", false));
        r
    }

    fn sg_mut<'a>(r: &'a mut RegionSnapshot, id: &str) -> &'a mut SecurityGroup {
        r.ec2
            .security_groups
            .iter_mut()
            .find(|g| g.group_id == id)
            .unwrap()
    }

    fn gap(op: Op) -> Gap {
        Gap::new(op, Some(REGION), GapKind::AccessDenied, "denied")
    }

    fn find<'a>(f: &'a [Finding], id: &str) -> &'a Finding {
        f.iter().find(|x| x.resource.id == id).unwrap()
    }

    fn check(def: &CheckDef, r: RegionSnapshot) -> Vec<Finding> {
        run(def, &snapshot(r, None))
    }

    #[test]
    fn instance_public_access_grades() {
        let mut r = region();
        let mut latent = db("latent", true);
        latent.vpc_security_groups[0].vpc_security_group_id = "sg-closed".into();
        r.ec2.security_groups.push(group(
            "sg-closed",
            "closed",
            vec![perm("tcp", 5432, 5432, &["10.0.0.0/16"])],
        ));
        r.rds.db_instances.push(latent);
        let mut neptune = db("graph", true);
        neptune.engine = "neptune".into();
        r.rds.db_instances.push(neptune);
        let f = check(&RDS_INSTANCE_NO_PUBLIC_ACCESS, r);
        let open = find(&f, "open");
        assert_eq!(open.status, Status::Fail);
        assert_eq!(open.severity, Severity::Critical);
        assert!(
            open.message.contains("subnet-pub") && open.message.contains("igw-1"),
            "{}",
            open.message
        );
        assert_eq!(open.evidence["internet_reachable"], true);
        let latent = find(&f, "latent");
        assert_eq!(latent.status, Status::Fail);
        assert_eq!(latent.severity, Severity::High);
        assert!(
            latent.message.contains("security_groups_closed"),
            "{}",
            latent.message
        );
        assert_eq!(status_of(&f, "private"), Status::Pass);
        assert_eq!(status_of(&f, "graph"), Status::NotApplicable);
    }

    #[test]
    fn instance_public_flag_with_unknown_network_fails_high() {
        let mut r = region();
        r.ec2.network_acls.clear();
        r.gaps.push(gap(ops::EC2_DESCRIBE_NETWORK_ACLS));
        let f = check(&RDS_INSTANCE_NO_PUBLIC_ACCESS, r);
        let open = find(&f, "open");
        assert_eq!((open.status, open.severity), (Status::Fail, Severity::High));
        assert!(
            open.message.contains("DescribeNetworkAcls"),
            "{}",
            open.message
        );
        assert_eq!(status_of(&f, "private"), Status::Pass);
    }

    #[test]
    fn instance_public_access_not_assessed_without_instances() {
        let mut r = region();
        r.rds.db_instances.clear();
        r.gaps.push(gap(ops::RDS_DESCRIBE_DB_INSTANCES));
        let f = check(&RDS_INSTANCE_NO_PUBLIC_ACCESS, r);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].status, Status::NotAssessed);
    }

    fn aurora(r: &mut RegionSnapshot, id: &str, engine: &str, members: &[&str]) {
        r.rds.db_clusters.push(DbCluster {
            db_cluster_identifier: id.into(),
            db_cluster_arn: format!("arn:aws:rds:{REGION}:{ACCOUNT}:cluster:{id}"),
            engine: engine.into(),
            port: Some(5432),
            members: members
                .iter()
                .map(|m| ClusterMember {
                    db_instance_identifier: m.to_string(),
                    is_cluster_writer: false,
                    db_cluster_parameter_group_status: None,
                })
                .collect(),
            vpc_security_groups: vec![VpcSecurityGroupMembership {
                vpc_security_group_id: "sg-db".into(),
                status: "active".into(),
            }],
            db_subnet_group: Some("grp".into()),
            ..Default::default()
        });
    }

    #[test]
    fn cluster_public_access_grades() {
        let mut r = region();
        aurora(&mut r, "pub", "aurora-postgresql", &["open"]);
        aurora(&mut r, "priv", "aurora-postgresql", &["private"]);
        aurora(&mut r, "ghost", "aurora-postgresql", &["missing"]);
        aurora(&mut r, "docs", "docdb", &[]);
        aurora(&mut r, "maz", "postgres", &[]);
        r.rds.db_clusters[4].publicly_accessible = Some(true);
        r.rds.db_clusters[4].db_subnet_group = Some("private-grp".into());
        let f = check(&RDS_CLUSTER_NO_PUBLIC_ACCESS, r);
        let p = find(&f, "pub");
        assert_eq!((p.status, p.severity), (Status::Fail, Severity::Critical));
        assert_eq!(status_of(&f, "priv"), Status::Pass);
        assert_eq!(status_of(&f, "ghost"), Status::NotAssessed);
        assert!(find(&f, "ghost").message.contains("missing"));
        assert_eq!(status_of(&f, "docs"), Status::NotApplicable);
        let maz = find(&f, "maz");
        assert_eq!((maz.status, maz.severity), (Status::Fail, Severity::High));
        assert!(maz.message.contains("no_igw_route"), "{}", maz.message);
    }

    #[test]
    fn public_subnet_placement() {
        let mut r = region();
        r.rds.db_instances[1].db_subnet_group_name = Some("private-grp".into());
        let mut lost = db("lost", false);
        lost.db_subnet_group_name = Some("nope".into());
        r.rds.db_instances.push(lost);
        let mut classic = db("classic", false);
        classic.db_subnet_group_name = None;
        classic.vpc_id = None;
        r.rds.db_instances.push(classic);
        let f = check(&RDS_INSTANCE_NOT_IN_PUBLIC_SUBNET, r);
        assert_eq!(status_of(&f, "open"), Status::Fail);
        assert!(
            find(&f, "open")
                .message
                .contains("subnet-pub (rtb-pub: 0.0.0.0/0 → igw-1)")
        );
        assert_eq!(status_of(&f, "private"), Status::Pass);
        assert_eq!(status_of(&f, "lost"), Status::NotAssessed);
        assert_eq!(status_of(&f, "classic"), Status::NotApplicable);
    }

    #[test]
    fn public_subnet_unknown_when_route_tables_missing() {
        let mut r = region();
        r.ec2.route_tables.clear();
        r.gaps.push(gap(ops::EC2_DESCRIBE_ROUTE_TABLES));
        let f = check(&RDS_INSTANCE_NOT_IN_PUBLIC_SUBNET, r);
        assert_eq!(status_of(&f, "open"), Status::NotAssessed);
        assert!(find(&f, "open").message.contains("DescribeRouteTables"));
    }

    #[test]
    fn port_open_to_internet_latent_and_closed() {
        let mut r = region();
        r.ec2.security_groups.push(group(
            "sg-half",
            "half",
            vec![
                perm("tcp", 5432, 5432, &["0.0.0.0/1"]),
                perm("tcp", 5400, 5500, &["128.0.0.0/1"]),
            ],
        ));
        let mut merged = db("merged", false);
        merged.vpc_security_groups[0].vpc_security_group_id = "sg-half".into();
        r.rds.db_instances.push(merged);
        let mut closed = db("closed", false);
        closed.vpc_security_groups[0].vpc_security_group_id = "sg-default".into();
        r.rds.db_instances.push(closed);
        let mut none = db("nogroups", false);
        none.vpc_security_groups.clear();
        r.rds.db_instances.push(none);
        let f = check(&RDS_DB_PORT_OPEN_TO_INTERNET, r);
        assert_eq!(status_of(&f, "open"), Status::Fail);
        assert!(
            find(&f, "open")
                .message
                .contains("reachable from the internet now")
        );
        assert_eq!(status_of(&f, "private"), Status::Fail);
        assert!(
            find(&f, "private").message.contains("latent"),
            "{}",
            find(&f, "private").message
        );
        assert_eq!(status_of(&f, "merged"), Status::Fail);
        assert_eq!(status_of(&f, "closed"), Status::Pass);
        assert_eq!(status_of(&f, "nogroups"), Status::NotApplicable);
    }

    #[test]
    fn port_open_on_an_oracle_option_port() {
        let mut r = region();
        r.ec2.security_groups.push(group(
            "sg-ora",
            "ora",
            vec![
                perm("tcp", 1521, 1521, &["10.0.0.0/16"]),
                perm("tcp", 2484, 2484, &["0.0.0.0/0"]),
            ],
        ));
        let mut ora = db("ora", false);
        ora.engine = "oracle-ee".into();
        ora.port = Some(1521);
        ora.vpc_security_groups[0].vpc_security_group_id = "sg-ora".into();
        ora.option_group_memberships = vec![GroupMembership {
            name: "ora-opts".into(),
            status: "in-sync".into(),
        }];
        r.rds.db_instances = vec![ora.clone()];
        r.rds.option_groups.push(OptionGroup {
            name: "ora-opts".into(),
            engine_name: "oracle-ee".into(),
            options: vec![OptionGroupOption {
                option_name: "SSL".into(),
                port: Some(2484),
                vpc_security_group_ids: vec![],
                settings: vec![],
            }],
            ..Default::default()
        });
        let f = check(&RDS_DB_PORT_OPEN_TO_INTERNET, r.clone());
        assert_eq!(status_of(&f, "ora"), Status::Fail);
        assert!(
            find(&f, "ora")
                .message
                .contains("2484 (option SSL of ora-opts)")
        );
        r.rds.option_groups.clear();
        let f = check(&RDS_DB_PORT_OPEN_TO_INTERNET, r);
        assert_eq!(status_of(&f, "ora"), Status::Pass);
    }

    #[test]
    fn port_open_not_assessed_with_unknown_prefix_list() {
        let mut r = region();
        let mut p = perm("tcp", 5432, 5432, &[]);
        p.prefix_list_ids = vec!["pl-unknown".into()];
        sg_mut(&mut r, "sg-db").ingress = vec![p];
        let f = check(&RDS_DB_PORT_OPEN_TO_INTERNET, r);
        assert_eq!(status_of(&f, "private"), Status::NotAssessed);
        assert!(find(&f, "private").message.contains("pl-unknown"));
    }

    #[test]
    fn port_open_decided_despite_unknown_members_of_a_referenced_group() {
        // Members of a group in another account are private addresses: they cannot make the
        // port open to the internet, so the verdict does not wait for them.
        let mut r = region();
        let mut p = perm("tcp", 5432, 5432, &[]);
        p.security_groups = vec![SecurityGroupReference {
            group_id: "sg-elsewhere".into(),
            user_id: Some("444455556666".into()),
            ..Default::default()
        }];
        sg_mut(&mut r, "sg-db").ingress = vec![p.clone()];
        let f = check(&RDS_DB_PORT_OPEN_TO_INTERNET, r.clone());
        assert_eq!(status_of(&f, "private"), Status::Pass);
        p.ipv4_ranges = vec!["0.0.0.0/0".into()];
        sg_mut(&mut r, "sg-db").ingress = vec![p];
        let f = check(&RDS_DB_PORT_OPEN_TO_INTERNET, r);
        assert_eq!(status_of(&f, "private"), Status::Fail);
    }

    #[test]
    fn broad_cidr_threshold_and_merging() {
        let mut r = region();
        sg_mut(&mut r, "sg-db").ingress = vec![perm("tcp", 5432, 5432, &["10.1.0.0/16"])];
        r.ec2.security_groups.push(group(
            "sg-two",
            "two",
            vec![perm("tcp", 5432, 5432, &["10.2.0.0/16", "10.3.0.0/16"])],
        ));
        let mut two = db("two", false);
        two.vpc_security_groups[0].vpc_security_group_id = "sg-two".into();
        r.rds.db_instances.push(two);
        let mut lost = db("lost", false);
        lost.vpc_security_groups[0].vpc_security_group_id = "sg-gone".into();
        r.rds.db_instances.push(lost);
        let snap = snapshot(r, None);
        let f = run(&RDS_SECURITY_GROUP_BROAD_CIDR, &snap);
        assert_eq!(status_of(&f, "private"), Status::Pass);
        assert_eq!(
            status_of(&f, "two"),
            Status::Fail,
            "two adjacent /16 are a /15"
        );
        assert!(find(&f, "two").message.contains("10.2.0.0/15"));
        assert_eq!(status_of(&f, "lost"), Status::NotAssessed);
        let strict = Config {
            max_source_prefix_v4: 24,
            ..Config::default()
        };
        let f = run_with(&RDS_SECURITY_GROUP_BROAD_CIDR, &snap, &strict);
        assert_eq!(status_of(&f, "private"), Status::Fail);
    }

    #[test]
    fn broad_cidr_not_applicable_without_groups() {
        let mut r = region();
        r.rds.db_instances[0].vpc_security_groups.clear();
        let f = check(&RDS_SECURITY_GROUP_BROAD_CIDR, r);
        assert_eq!(status_of(&f, "open"), Status::NotApplicable);
        assert_eq!(status_of(&f, "private"), Status::Fail, "0.0.0.0/0 is broad");
    }

    #[test]
    fn all_ports_rules_per_group() {
        let mut r = region();
        r.rds.db_instances[1]
            .vpc_security_groups
            .push(VpcSecurityGroupMembership {
                vpc_security_group_id: "sg-default".into(),
                status: "active".into(),
            });
        r.ec2.security_groups.push(group(
            "sg-tcpall",
            "tcpall",
            vec![perm("tcp", 0, 65535, &["10.0.0.0/16"])],
        ));
        let mut wide = db("wide", false);
        wide.vpc_security_groups[0].vpc_security_group_id = "sg-tcpall".into();
        wide.vpc_security_groups.push(VpcSecurityGroupMembership {
            vpc_security_group_id: "sg-missing".into(),
            status: "active".into(),
        });
        r.rds.db_instances.push(wide);
        let f = check(&RDS_SECURITY_GROUP_ALL_PORTS, r);
        assert_eq!(status_of(&f, "sg-db"), Status::Pass);
        assert_eq!(status_of(&f, "sg-default"), Status::Fail);
        assert_eq!(status_of(&f, "sg-tcpall"), Status::Fail);
        assert_eq!(status_of(&f, "sg-missing"), Status::NotAssessed);
        assert_eq!(
            find(&f, "sg-db").resource.resource_type,
            "AwsEc2SecurityGroup"
        );
        assert_eq!(find(&f, "sg-default").evidence["databases"][0], "private");
    }

    #[test]
    fn default_group_attached() {
        let mut r = region();
        r.rds.db_instances[1].vpc_security_groups[0].vpc_security_group_id = "sg-default".into();
        let mut lost = db("lost", false);
        lost.vpc_security_groups[0].vpc_security_group_id = "sg-gone".into();
        r.rds.db_instances.push(lost);
        let mut none = db("nogroups", false);
        none.vpc_security_groups.clear();
        r.rds.db_instances.push(none);
        let f = check(&RDS_DEFAULT_SECURITY_GROUP_ATTACHED, r);
        assert_eq!(status_of(&f, "private"), Status::Fail);
        assert_eq!(status_of(&f, "open"), Status::Pass);
        assert_eq!(status_of(&f, "lost"), Status::NotAssessed);
        assert_eq!(status_of(&f, "nogroups"), Status::NotApplicable);
    }

    #[test]
    fn stale_references() {
        let mut r = region();
        let reference = |id: &str, account: &str| SecurityGroupReference {
            group_id: id.into(),
            user_id: Some(account.into()),
            vpc_id: None,
            vpc_peering_connection_id: None,
            peering_status: None,
            description: None,
        };
        let mut p = perm("tcp", 5432, 5432, &[]);
        p.security_groups = vec![reference("sg-deleted", ACCOUNT)];
        sg_mut(&mut r, "sg-db").ingress.push(p);
        let mut q = perm("tcp", 5432, 5432, &[]);
        q.security_groups = vec![reference("sg-elsewhere", "999988887777")];
        r.ec2.security_groups.push(group("sg-x", "x", vec![q]));
        let mut ok = perm("tcp", 5432, 5432, &[]);
        ok.security_groups = vec![reference("sg-db", ACCOUNT)];
        r.ec2.security_groups.push(group("sg-ok", "ok", vec![ok]));
        // The same group as the rule before, through a peering marked deleted.
        let mut gone = perm("tcp", 5432, 5432, &[]);
        gone.security_groups = vec![SecurityGroupReference {
            peering_status: Some("deleted".into()),
            ..reference("sg-db", ACCOUNT)
        }];
        r.ec2
            .security_groups
            .push(group("sg-gone", "gone", vec![gone]));
        let mut a = db("a", false);
        a.vpc_security_groups[0].vpc_security_group_id = "sg-x".into();
        let mut b = db("b", false);
        b.vpc_security_groups[0].vpc_security_group_id = "sg-ok".into();
        let mut c = db("c", false);
        c.vpc_security_groups[0].vpc_security_group_id = "sg-missing".into();
        let mut d = db("d", false);
        d.vpc_security_groups[0].vpc_security_group_id = "sg-gone".into();
        r.rds.db_instances.extend([a, b, c, d]);
        let f = check(&RDS_SECURITY_GROUP_STALE_REFERENCE, r);
        assert_eq!(status_of(&f, "sg-db"), Status::Fail);
        assert!(find(&f, "sg-db").message.contains("sg-deleted"));
        assert_eq!(status_of(&f, "sg-x"), Status::NotAssessed);
        assert_eq!(status_of(&f, "sg-ok"), Status::Pass);
        assert_eq!(status_of(&f, "sg-missing"), Status::NotAssessed);
        assert_eq!(status_of(&f, "sg-gone"), Status::Fail);
        assert!(find(&f, "sg-gone").message.contains("marked deleted"));
    }

    #[test]
    fn subnet_groups_with_public_subnets() {
        let mut r = region();
        r.rds.db_subnet_groups.push(DbSubnetGroup {
            name: "empty".into(),
            ..Default::default()
        });
        r.rds.db_subnet_groups.push(DbSubnetGroup {
            name: "unknown".into(),
            subnet_ids: vec!["subnet-zzz".into()],
            ..Default::default()
        });
        let f = check(&RDS_SUBNET_GROUP_PUBLIC_SUBNET, r);
        assert_eq!(status_of(&f, "grp"), Status::Fail);
        assert!(find(&f, "grp").message.contains("subnet-pub"));
        assert_eq!(status_of(&f, "private-grp"), Status::Pass);
        assert_eq!(status_of(&f, "empty"), Status::NotApplicable);
        assert_eq!(status_of(&f, "unknown"), Status::NotAssessed);
    }

    #[test]
    fn subnet_groups_not_assessed_without_listing() {
        let mut r = region();
        r.gaps.push(gap(ops::RDS_DESCRIBE_DB_SUBNET_GROUPS));
        let f = check(&RDS_SUBNET_GROUP_PUBLIC_SUBNET, r);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].status, Status::NotAssessed);
    }

    fn with_peering(r: &mut RegionSnapshot) {
        r.ec2.vpc_peering_connections.push(VpcPeeringConnection {
            vpc_peering_connection_id: "pcx-1".into(),
            status: Some("active".into()),
            requester: VpcPeeringEnd {
                vpc_id: Some("vpc-1".into()),
                cidr_blocks: vec!["10.0.0.0/16".into()],
                ..Default::default()
            },
            accepter: VpcPeeringEnd {
                vpc_id: Some("vpc-2".into()),
                cidr_blocks: vec!["172.31.0.0/16".into()],
                ..Default::default()
            },
        });
        let mut to_peer = route("172.31.0.0/16", "x");
        to_peer.gateway_id = None;
        to_peer.vpc_peering_connection_id = Some("pcx-1".into());
        r.ec2.route_tables[0].routes.push(to_peer);
    }

    #[test]
    fn peering_reachability() {
        let mut r = region();
        with_peering(&mut r);
        r.ec2.security_groups.push(group(
            "sg-local",
            "local",
            vec![perm("tcp", 5432, 5432, &["10.0.0.0/16"])],
        ));
        r.rds.db_instances[0].vpc_security_groups[0].vpc_security_group_id = "sg-local".into();
        let mut outside = db("outside", false);
        outside.vpc_id = None;
        outside.db_subnet_group_name = None;
        r.rds.db_instances.push(outside);
        let f = check(&RDS_REACHABLE_VIA_PEERING, r);
        assert_eq!(status_of(&f, "private"), Status::Fail);
        assert!(
            find(&f, "private")
                .message
                .contains("VPC vpc-2 via pcx-1 (172.31.0.0/16)")
        );
        assert_eq!(status_of(&f, "open"), Status::Pass);
        assert_eq!(status_of(&f, "outside"), Status::NotApplicable);
    }

    #[test]
    fn peering_not_assessed_without_listing() {
        let mut r = region();
        r.gaps.push(gap(ops::EC2_DESCRIBE_VPC_PEERING_CONNECTIONS));
        let f = check(&RDS_REACHABLE_VIA_PEERING, r);
        assert_eq!(status_of(&f, "private"), Status::NotAssessed);
    }

    #[test]
    fn cluster_members_are_judged_once() {
        let mut r = region();
        r.rds.db_instances[0].db_cluster_identifier = Some("cl".into());
        aurora(&mut r, "cl", "aurora-postgresql", &["open"]);
        aurora(&mut r, "serverless", "aurora-postgresql", &[]);
        let f = check(&RDS_DEFAULT_SECURITY_GROUP_ATTACHED, r);
        assert!(
            f.iter().all(|x| x.resource.id != "cl"),
            "covered by member `open`"
        );
        assert_eq!(status_of(&f, "serverless"), Status::Pass);
        assert_eq!(
            find(&f, "serverless").resource.resource_type,
            "AwsRdsDbCluster"
        );
    }

    #[test]
    fn prefix_thresholds_are_configurable_and_validated() {
        let path = std::path::Path::new("rdsguard.toml");
        let c = Config::from_toml_str("max_source_prefix_v4 = 20\nmax_source_prefix_v6 = 56", path)
            .unwrap();
        assert_eq!((c.max_source_prefix_v4, c.max_source_prefix_v6), (20, 56));
        assert_eq!(Config::default().max_source_prefix_v4, 16);
        assert_eq!(Config::default().max_source_prefix_v6, 48);
        assert!(Config::from_toml_str("max_source_prefix_v4 = 33", path).is_err());
        assert!(Config::from_toml_str("max_source_prefix_v6 = 129", path).is_err());
    }

    #[test]
    fn metadata_maps_the_controls() {
        assert_eq!(RDS_INSTANCE_NO_PUBLIC_ACCESS.fsbp, &["RDS.2"]);
        assert!(RDS_INSTANCE_NO_PUBLIC_ACCESS.cis.contains(&"v5.0.0/2.2.3"));
        assert_eq!(RDS_INSTANCE_NOT_IN_PUBLIC_SUBNET.fsbp, &["RDS.46"]);
        assert_eq!(CHECKS.len(), 10);
    }
}
