//! The check engine: runs check definitions over a snapshot and applies suppressions.

use std::any::{Any, TypeId};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;

use rdsguard_findings::{
    CheckMetadata, Compliance, Finding, ResourceRef, Severity, Status, Suppression,
};
pub use rdsguard_findings::{Evidence, EvidenceValue, Text};
use rdsguard_model::{AccountSnapshot, Op, RegionSnapshot, Snapshot};
use time::OffsetDateTime;

use crate::config::Config;

/// How a check is run.
#[derive(Clone, Copy)]
pub enum Runner {
    /// Once per region of each account (RDS, EC2, KMS, CloudTrail facts).
    Region(fn(&RegionCtx<'_>, &mut Emitter<'_>)),
    /// Once per account (IAM and other global facts).
    Account(fn(&AccountCtx<'_>, &mut Emitter<'_>)),
    /// Once per DB instance of each region, with its verdict emitted for the instance. The
    /// checks of this kind run together, a chunk of instances at a time, where the first of
    /// them is in the catalogue.
    Instances(crate::checks::instance::InstanceJudge),
    /// Once per DB snapshot or DB cluster snapshot of each region (see the judge), with its
    /// verdict emitted for the snapshot; the checks of this kind run together, a chunk of
    /// snapshots at a time, where the first of them is in the catalogue.
    Snapshots(crate::checks::snapshot::SnapshotJudge),
}

impl Runner {
    /// The batch of checks run together a runner belongs to: per instance (0), per snapshot
    /// (1); `None` for a check run alone.
    fn batch(&self) -> Option<usize> {
        match self {
            Runner::Instances(_) => Some(0),
            Runner::Snapshots(_) => Some(1),
            Runner::Region(_) | Runner::Account(_) => None,
        }
    }
}

/// A check: metadata beside code.
pub struct CheckDef {
    pub id: &'static str,
    pub title: &'static str,
    pub severity: Severity,
    /// ASFF resource type of the resources it reports on, e.g. `AwsRdsDbInstance`.
    pub resource_type: &'static str,
    pub description: &'static str,
    pub rationale: &'static str,
    pub remediation: &'static str,
    /// CIS AWS Foundations controls as `v<version>/<id>`.
    pub cis: &'static [&'static str],
    /// FSBP control ids, e.g. `RDS.3`.
    pub fsbp: &'static [&'static str],
    /// Collector operations whose data the check reads. A whole-operation gap on any of them
    /// makes the check NOT_ASSESSED for the region (or account, for global operations).
    pub depends_on: &'static [Op],
    pub run: Runner,
}

impl CheckDef {
    pub fn metadata(&self) -> CheckMetadata {
        CheckMetadata {
            id: self.id.to_string(),
            title: self.title.to_string(),
            severity: self.severity,
            resource_type: self.resource_type.to_string(),
            description: self.description.to_string(),
            rationale: self.rationale.to_string(),
            remediation: self.remediation.to_string(),
            compliance: Compliance {
                cis: self.cis.iter().map(|s| s.to_string()).collect(),
                fsbp: self.fsbp.iter().map(|s| s.to_string()).collect(),
                mitre_attack: Vec::new(),
            },
        }
    }
}

/// What a region-scoped check sees.
pub struct RegionCtx<'a> {
    pub snapshot: &'a Snapshot,
    pub account: &'a AccountSnapshot,
    pub region: &'a RegionSnapshot,
    pub config: &'a Config,
    /// The evaluation time (certificate expiry, suppression expiry). Fixed in tests.
    pub now: OffsetDateTime,
    /// Work shared by the checks of this region.
    pub memo: &'a Memo,
    /// Work shared by every check of the account, in every region (the compiled IAM model).
    pub account_memo: &'a Memo,
    /// The region's resource references, shared by every finding about a resource (asked
    /// once per finding, so kept out of the memo's lookup).
    pub(crate) refs: &'a crate::checks::common::SharedRefs,
}

/// What an account-scoped check sees.
pub struct AccountCtx<'a> {
    pub snapshot: &'a Snapshot,
    pub account: &'a AccountSnapshot,
    pub config: &'a Config,
    pub now: OffsetDateTime,
    /// Work shared by the checks of this account.
    pub memo: &'a Memo,
}

/// Whether the results being judged need their message and evidence.
///
/// Analysis ([`analyze`]) decides every (check, resource) status without writing a single
/// message: checks build messages with [`msg!`](crate::msg), evidence with
/// [`evidence!`](crate::evidence) and pass/fail pairs with `Verdict::pass_if`, which all read
/// this and build nothing while it is off. [`Analysis::explain`] then runs the checks again
/// with it on only for the results an output shows. While a [`Memo`] value is computed it is
/// on in any run that explains results (the value may serve any of them) and off in the
/// analysis, except for plain values ([`Memo::get_or_init_plain`]), always computed with it
/// on. It is on by default, so code outside the engine sees full results. Status decisions
/// never depend on it: every check test compares both passes.
#[inline]
pub fn explaining() -> bool {
    EXPLAINING.with(Cell::get)
}

thread_local! {
    static EXPLAINING: Cell<bool> = const { Cell::new(true) };
}

/// Sets [`explaining`] until dropped, then restores the previous value (also on unwind).
struct ExplainingScope(bool);

impl ExplainingScope {
    fn set(on: bool) -> ExplainingScope {
        ExplainingScope(EXPLAINING.with(|c| c.replace(on)))
    }
}

impl Drop for ExplainingScope {
    fn drop(&mut self) {
        EXPLAINING.with(|c| c.set(self.0));
    }
}

/// A message formatted only when the result is explained (see [`explaining`]); an empty
/// string otherwise, which costs nothing. Same arguments as `format!`.
#[macro_export]
macro_rules! msg {
    ($($arg:tt)*) => {
        if $crate::engine::explaining() {
            ::std::format!($($arg)*)
        } else {
            ::std::string::String::new()
        }
    };
}

/// The status of one (check, resource), without its explanation: what [`analyze`] computes.
/// Millions of them fit in the memory a few hundred thousand findings took.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The resource's number in the analysis' table ([`Analysis::resource_of`]), shared with
    /// every other result about it: a number, not a counted reference, so that recording a
    /// result does not write to the reference (a cache miss per result in a large account,
    /// and another to free it).
    pub resource: u32,
    /// Index of the check in [`Analysis::checks`].
    pub check: u16,
    pub status: Status,
    pub severity: Severity,
}

// Millions per account: one word each (the few suppressed ones are listed apart, see
// `Analysis::suppression`), written once and read by every report.
const _: () = assert!(std::mem::size_of::<Outcome>() <= 8);

/// The resource references of a run, numbered: the references the region keeps for its
/// resources are numbered once, when made, and results carry the number.
#[derive(Default)]
pub struct ResourceTable {
    refs: RefCell<Vec<Arc<ResourceRef>>>,
}

impl ResourceTable {
    /// A table with room for the references the checks usually make of `snapshot` (one per
    /// database, snapshot, key and security group), so that a large account's is not copied
    /// at each doubling.
    fn sized_for(snapshot: &Snapshot) -> ResourceTable {
        let resources = snapshot
            .accounts
            .iter()
            .flat_map(|a| &a.regions)
            .map(|r| {
                let rds = &r.rds;
                rds.db_instances.len()
                    + rds.db_clusters.len()
                    + rds.db_snapshots.len()
                    + rds.db_cluster_snapshots.len()
                    + rds.db_proxies.len()
                    + r.kms.keys.len()
                    + r.ec2.security_groups.len()
            })
            .sum();
        ResourceTable {
            refs: RefCell::new(Vec::with_capacity(resources)),
        }
    }

    /// Number `resource` (a new number each time: the callers number each shared reference
    /// once).
    pub(crate) fn add(&self, resource: Arc<ResourceRef>) -> u32 {
        let mut refs = self.refs.borrow_mut();
        // More than 4 billion references do not fit in memory before this point (their
        // results alone would take 64 GiB).
        let number = u32::try_from(refs.len()).unwrap_or(u32::MAX);
        refs.push(resource);
        number
    }

    /// The reference numbered `number`.
    pub(crate) fn get(&self, number: u32) -> Option<Arc<ResourceRef>> {
        self.refs.borrow().get(number as usize).cloned()
    }
}

/// A resource reference of the region numbered in the run's [`ResourceTable`] (what
/// `instance_resource` and the other shared references are): emitting one copies a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SharedResource(pub(crate) u32);

/// A resource as a check emits it: a numbered shared reference, or one of its own.
pub enum ResourceArg {
    Shared(SharedResource),
    Own(Arc<ResourceRef>),
}

impl From<SharedResource> for ResourceArg {
    fn from(r: SharedResource) -> Self {
        ResourceArg::Shared(r)
    }
}

impl From<Arc<ResourceRef>> for ResourceArg {
    fn from(r: Arc<ResourceRef>) -> Self {
        ResourceArg::Own(r)
    }
}

impl From<ResourceRef> for ResourceArg {
    fn from(r: ResourceRef) -> Self {
        ResourceArg::Own(Arc::new(r))
    }
}

/// Where an [`Emitter`] puts results.
enum Sink<'a> {
    /// Every result, explained.
    Findings(&'a mut Vec<Finding>),
    /// Every result's status only.
    Outcomes(&'a mut Vec<Outcome>),
    /// Only the results at `ordinals` (ascending positions in the run), explained.
    Selected {
        ordinals: &'a [u32],
        next: usize,
        out: &'a mut Vec<(u32, Finding)>,
    },
}

/// Collects the results of one check run (one check in one region, or account), filling in
/// its id, title and severity.
///
/// Resources are taken as `impl Into<ResourceArg>` (a `ResourceRef`, an `Arc` of one, or a
/// region's [`SharedResource`]), messages as `impl Into<Text>` (a `String`, or a `&'static str` that costs nothing) and
/// evidence as `impl Into<Evidence>` (the [`evidence!`](crate::evidence) macro's result).
pub struct Emitter<'a> {
    def: &'a CheckDef,
    check: u16,
    sink: Sink<'a>,
    /// The run's numbered references ([`SharedResource`]s name them).
    table: &'a ResourceTable,
    /// Results emitted so far in this run.
    ordinal: u32,
}

impl<'a> Emitter<'a> {
    /// An emitter of explained findings into `out`, the shared references it is given
    /// numbered in `table`.
    pub fn new(def: &'a CheckDef, out: &'a mut Vec<Finding>, table: &'a ResourceTable) -> Self {
        Self::with_sink(def, 0, Sink::Findings(out), table)
    }

    fn with_sink(def: &'a CheckDef, check: u16, sink: Sink<'a>, table: &'a ResourceTable) -> Self {
        Emitter {
            def,
            check,
            sink,
            table,
            ordinal: 0,
        }
    }

    /// In a run that explains only some results ([`Analysis::explain`]): when the next
    /// result is not one of them, count it as emitted and return true, so that the caller
    /// skips judging it. Only for a loop that emits exactly one result per item, whatever
    /// the item (explaining checks that the result it gets is the one analysed). Always
    /// false when every result is wanted.
    pub fn skip_unwanted(&mut self) -> bool {
        let Sink::Selected { ordinals, next, .. } = &self.sink else {
            return false;
        };
        if ordinals.get(*next) == Some(&self.ordinal) {
            return false;
        }
        self.ordinal += 1;
        let explain_next = ordinals.get(*next) == Some(&self.ordinal);
        EXPLAINING.with(|c| c.set(explain_next));
        true
    }

    /// The positions in the run of the results to explain when only some are
    /// ([`Analysis::explain`]); `None` when every result is wanted. For a check that emits one
    /// result per item of a list, the items to explain (work for the others can be skipped).
    pub fn wanted(&self) -> Option<&[u32]> {
        match &self.sink {
            Sink::Selected { ordinals, .. } => Some(ordinals),
            Sink::Findings(_) | Sink::Outcomes(_) => None,
        }
    }

    /// When this run records statuses only (the analysis, [`Sink::Outcomes`]), record
    /// `status` at `severity` for `resource` and return `None`: the caller need not make the
    /// message and evidence that would be dropped. Otherwise give `resource` back.
    #[inline]
    pub fn record_status(
        &mut self,
        status: Status,
        severity: Severity,
        resource: ResourceArg,
    ) -> Option<ResourceArg> {
        let Sink::Outcomes(out) = &mut self.sink else {
            return Some(resource);
        };
        self.ordinal += 1;
        out.push(Outcome {
            resource: match resource {
                ResourceArg::Shared(SharedResource(n)) => n,
                ResourceArg::Own(r) => self.table.add(r),
            },
            check: self.check,
            status,
            severity,
        });
        None
    }

    /// The check's default severity.
    pub fn severity(&self) -> Severity {
        self.def.severity
    }

    // Inlined in the checks' loops: in the analysis a result is its status, recorded here,
    // and the message and evidence are dropped unconverted (the rest is out of line).
    #[inline(always)]
    pub fn emit(
        &mut self,
        status: Status,
        resource: impl Into<ResourceArg>,
        message: impl Into<Text>,
        evidence: impl Into<Evidence>,
    ) {
        self.emit_at(status, self.def.severity, resource, message, evidence);
    }

    /// [`emit`](Self::emit) at `severity`.
    #[inline(always)]
    fn emit_at(
        &mut self,
        status: Status,
        severity: Severity,
        resource: impl Into<ResourceArg>,
        message: impl Into<Text>,
        evidence: impl Into<Evidence>,
    ) {
        let Some(resource) = self.record_status(status, severity, resource.into()) else {
            return;
        };
        self.push_recorded(status, severity, resource, message.into(), evidence.into());
    }

    fn finding(
        &self,
        status: Status,
        severity: Severity,
        resource: ResourceArg,
        message: Text,
        evidence: Evidence,
    ) -> Finding {
        let resource = match resource {
            // Numbers come from this run's table: never missing.
            ResourceArg::Shared(SharedResource(n)) => self.table.get(n).unwrap_or_else(|| {
                Arc::new(ResourceRef {
                    resource_type: Text::from_static(self.def.resource_type),
                    id: format!("(resource #{n})"),
                    arn: None,
                    account_id: Text::from_static(""),
                    region: None,
                })
            }),
            ResourceArg::Own(r) => r,
        };
        Finding {
            check_id: Text::from_static(self.def.id),
            title: Text::from_static(self.def.title),
            severity,
            status,
            resource,
            message,
            evidence,
            suppressed: None,
        }
    }

    /// A result that [`record_status`](Self::record_status) did not record (its message and
    /// evidence are wanted): kept out of line, the analysis records statuses only.
    #[cold]
    #[inline(never)]
    pub(crate) fn push_recorded(
        &mut self,
        status: Status,
        severity: Severity,
        resource: ResourceArg,
        message: Text,
        evidence: Evidence,
    ) {
        let ordinal = self.ordinal;
        self.ordinal += 1;
        match &mut self.sink {
            Sink::Findings(_) => {
                let f = self.finding(status, severity, resource, message, evidence);
                if let Sink::Findings(out) = &mut self.sink {
                    out.push(f);
                }
            }
            // Recorded above.
            Sink::Outcomes(_) => {}
            Sink::Selected { ordinals, next, .. } => {
                let wanted = ordinals.get(*next) == Some(&ordinal);
                if wanted {
                    *next += 1;
                }
                // Explain the next result only if it is wanted.
                let explain_next = ordinals.get(*next) == Some(&(ordinal + 1));
                EXPLAINING.with(|c| c.set(explain_next));
                if wanted {
                    let f = self.finding(status, severity, resource, message, evidence);
                    if let Sink::Selected { out, .. } = &mut self.sink {
                        out.push((ordinal, f));
                    }
                }
            }
        }
    }

    #[inline(always)]
    pub fn pass(
        &mut self,
        resource: impl Into<ResourceArg>,
        message: impl Into<Text>,
        evidence: impl Into<Evidence>,
    ) {
        self.emit(Status::Pass, resource, message, evidence)
    }

    #[inline(always)]
    pub fn fail(
        &mut self,
        resource: impl Into<ResourceArg>,
        message: impl Into<Text>,
        evidence: impl Into<Evidence>,
    ) {
        self.emit(Status::Fail, resource, message, evidence)
    }

    /// A failure graded at a severity other than the check's default.
    pub fn fail_with_severity(
        &mut self,
        severity: Severity,
        resource: impl Into<ResourceArg>,
        message: impl Into<Text>,
        evidence: impl Into<Evidence>,
    ) {
        self.emit_at(Status::Fail, severity, resource, message, evidence);
    }

    #[inline(always)]
    pub fn not_assessed(&mut self, resource: impl Into<ResourceArg>, reason: impl Into<Text>) {
        self.emit(Status::NotAssessed, resource, reason, Evidence::new())
    }

    #[inline(always)]
    pub fn not_applicable(&mut self, resource: impl Into<ResourceArg>, reason: impl Into<Text>) {
        self.emit(Status::NotApplicable, resource, reason, Evidence::new())
    }
}

/// Build evidence: `evidence!{"storage_encrypted" => db.storage_encrypted, ...}` (keys are
/// usually `&'static str` literals, values anything `serde_json::json!` accepts). Nothing is
/// evaluated, and the evidence is empty, while results are not [`explaining`].
#[macro_export]
macro_rules! evidence {
    (@unit $k:expr) => { () };
    (@count $($k:expr)+) => { <[()]>::len(&[$($crate::evidence!(@unit $k)),+]) };
    () => { $crate::engine::Evidence::new() };
    ($($k:expr => $v:expr),+ $(,)?) => {{
        if $crate::engine::explaining() {
            let mut m =
                $crate::engine::Evidence::with_capacity($crate::evidence!(@count $($k)+));
            $( m.insert($crate::engine::Text::from($k), ::serde_json::json!($v)); )+
            m
        } else {
            $crate::engine::Evidence::new()
        }
    }};
}

/// Every check definition, in catalogue order.
pub fn check_defs() -> Vec<&'static CheckDef> {
    crate::checks::all()
}

/// The catalogue's metadata (`rdsguard checks`).
pub fn catalogue() -> Vec<CheckMetadata> {
    check_defs().into_iter().map(CheckDef::metadata).collect()
}

/// Evaluate every enabled check at the current time.
pub fn evaluate(snapshot: &Snapshot, config: &Config) -> Vec<Finding> {
    evaluate_with(snapshot, config, OffsetDateTime::now_utc(), &check_defs())
}

/// Evaluate the given checks at time `now`, then apply suppressions: every result explained
/// (message and evidence), as every output format but the summary table needs.
///
/// Regions are the outer loop so that work shared by several checks of a region (the network
/// exposure analysis, IAM who-can answers) is computed once, through [`RegionCtx::memo`].
pub fn evaluate_with(
    snapshot: &Snapshot,
    config: &Config,
    now: OffsetDateTime,
    defs: &[&CheckDef],
) -> Vec<Finding> {
    let checks = enabled(defs, config);
    let eval = Evaluation {
        snapshot,
        config,
        now,
        table: Rc::default(),
    };
    let table = eval.table.clone();
    let mut out = Vec::new();
    let mut buffers: Vec<Vec<Finding>> = Vec::new();
    eval.run_all(&checks, true, false, |scope, group, run| {
        if let [(def, check)] = group {
            run(&mut [Emitter::with_sink(
                def,
                *check,
                Sink::Findings(&mut out),
                &table,
            )]);
            return;
        }
        // Checks run together: each one's findings collected apart, then in check order.
        run_into_buffers(
            group,
            (snapshot, scope),
            &table,
            &mut buffers,
            |b| Sink::Findings(b),
            run,
        );
        for found in buffers.iter_mut().take(group.len()) {
            out.append(found);
        }
    });
    apply_suppressions(&mut out, config, now);
    out
}

/// Decide the status of every (check, resource) at time `now`, without explaining any, and
/// apply suppressions: the analysis proper. [`Analysis::explain`] writes the message and
/// evidence of the results an output shows.
pub fn analyze<'d>(
    snapshot: &Snapshot,
    config: &Config,
    now: OffsetDateTime,
    defs: &[&'d CheckDef],
) -> Analysis<'d> {
    let checks = enabled(defs, config);
    let eval = Evaluation {
        snapshot,
        config,
        now,
        table: Rc::new(ResourceTable::sized_for(snapshot)),
    };
    let table = eval.table.clone();
    // Sized once: grown by doubling, a large account's results (tens of megabytes) were
    // copied into fresh memory several times, and the kernel faulting those pages in cost
    // more than the copies (~8% of the analysis at 100,000 instances, measured with perf).
    let mut outcomes = Vec::with_capacity(expected_results(snapshot, &checks));
    let mut runs = Vec::new();
    let mut times = Vec::new();
    // The buffers of checks run together (see `run_into_buffers`).
    let mut buffers: Vec<Vec<Outcome>> = Vec::new();
    let work = {
        let _quiet = ExplainingScope::set(false);
        eval.run_all(&checks, false, true, |scope, group, run| {
            let started = std::time::Instant::now();
            if let [(def, check)] = group {
                runs.push(Run {
                    scope,
                    check: *check,
                    start: outcomes.len(),
                });
                run(&mut [Emitter::with_sink(
                    def,
                    *check,
                    Sink::Outcomes(&mut outcomes),
                    &table,
                )]);
            } else {
                // Checks run together: each one's outcomes collected apart, then appended as
                // its own run, in check order.
                run_into_buffers(
                    group,
                    (snapshot, scope),
                    &table,
                    &mut buffers,
                    |b| Sink::Outcomes(b),
                    run,
                );
                for ((_, check), found) in group.iter().zip(buffers.iter_mut()) {
                    runs.push(Run {
                        scope,
                        check: *check,
                        start: outcomes.len(),
                    });
                    outcomes.append(found);
                }
            }
            times.push(RunTime::of(group, started));
        })
    };
    let mut suppressions = Suppressions::new(config, now);
    let mut suppressed = Vec::new();
    if !suppressions.is_empty() {
        let refs = table.refs.borrow();
        for (i, o) in outcomes.iter().enumerate() {
            let found = refs
                .get(o.resource as usize)
                .and_then(|r| suppressions.find(checks[usize::from(o.check)].id, r));
            if let (Some(s), Ok(i)) = (found, u32::try_from(i)) {
                suppressed.push((i, s));
            }
        }
    }
    Analysis {
        checks,
        outcomes,
        suppressed,
        runs,
        times,
        now,
        work,
        resources: table,
    }
}

/// About how many results `checks` give on `snapshot`: one per resource of each check's
/// resource type, and one per region for the others, with a margin (checks of one type that
/// also judge another, such as an instance check that judges clusters). Only a capacity: a
/// few more results grow the list once.
fn expected_results(snapshot: &Snapshot, checks: &[&CheckDef]) -> usize {
    let mut per_type: Vec<(&str, usize)> = Vec::new();
    let mut add = |resource_type: &'static str, n: usize| match per_type
        .iter_mut()
        .find(|(t, _)| *t == resource_type)
    {
        Some((_, total)) => *total += n,
        None => per_type.push((resource_type, n)),
    };
    let mut regions = 0;
    for account in &snapshot.accounts {
        for region in &account.regions {
            regions += 1;
            let rds = &region.rds;
            add("AwsRdsDbInstance", rds.db_instances.len());
            add("AwsRdsDbCluster", rds.db_clusters.len());
            add("AwsRdsDbSnapshot", rds.db_snapshots.len());
            add("AwsRdsDbClusterSnapshot", rds.db_cluster_snapshots.len());
            add("AwsRdsDbProxy", rds.db_proxies.len());
            add("AwsRdsDbSubnetGroup", rds.db_subnet_groups.len());
            add("AwsRdsEventSubscription", rds.event_subscriptions.len());
            add("AwsEc2SecurityGroup", region.ec2.security_groups.len());
            add("AwsKmsKey", region.kms.keys.len());
        }
    }
    let expected: usize = checks
        .iter()
        .map(|def| {
            per_type
                .iter()
                .find(|(t, _)| *t == def.resource_type)
                .map_or(regions, |&(_, n)| n.max(regions))
        })
        .sum();
    expected.saturating_add(expected / 4)
}

/// Run `run` with an emitter per check of `group`, each emitting into a buffer of its own
/// (`sink` makes a buffer's sink): the first `group.len()` of `buffers`, emptied first.
/// Callers keep `buffers` from one group to the next, so that a large region's per-resource
/// checks (a result per resource each) grow them only once.
fn run_into_buffers<T>(
    group: &[(&CheckDef, u16)],
    // Where the group runs (for how many results each of its checks gives, `batch_items`).
    (snapshot, scope): (&Snapshot, Scope),
    table: &ResourceTable,
    buffers: &mut Vec<Vec<T>>,
    sink: for<'b> fn(&'b mut Vec<T>) -> Sink<'b>,
    run: &mut dyn FnMut(&mut [Emitter<'_>]),
) {
    let items = batch_items(snapshot, scope, group);
    if buffers.len() < group.len() {
        buffers.resize_with(group.len(), Vec::new);
    }
    let mut ems: Vec<Emitter<'_>> = group
        .iter()
        .zip(buffers.iter_mut())
        .map(|((def, check), found)| {
            found.clear();
            // Sized once per region: grown by doubling, the buffers of a large region were
            // copied into fresh memory several times.
            found.reserve(items);
            Emitter::with_sink(def, *check, sink(found), table)
        })
        .collect();
    run(&mut ems);
}

/// How many items (instances, or snapshots of both kinds) the checks of a batch judge in
/// the region of `scope`: one result each.
fn batch_items(snapshot: &Snapshot, scope: Scope, group: &[(&CheckDef, u16)]) -> usize {
    let region = scope
        .region
        .and_then(|r| snapshot.accounts.get(scope.account)?.regions.get(r));
    match (region, group.first().map(|(def, _)| &def.run)) {
        (Some(r), Some(Runner::Instances(_))) => r.rds.db_instances.len(),
        (Some(r), Some(Runner::Snapshots(_))) => {
            r.rds.db_snapshots.len() + r.rds.db_cluster_snapshots.len()
        }
        _ => 0,
    }
}

fn enabled<'d>(defs: &[&'d CheckDef], config: &Config) -> Vec<&'d CheckDef> {
    defs.iter()
        .copied()
        .filter(|def| !config.disabled_checks.iter().any(|d| d == def.id))
        .collect()
}

/// Where a check ran: an account, or one of its regions (indices into the snapshot).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Scope {
    account: usize,
    region: Option<usize>,
}

/// One check's results in one scope: `outcomes[start..]` up to the next run's start.
#[derive(Debug, Clone, Copy)]
struct Run {
    scope: Scope,
    check: u16,
    start: usize,
}

/// How long a check took in one scope (an account, or one of its regions), or the checks
/// run together there (the per-instance checks, the per-snapshot checks), whose time is one:
/// with what it computed first for the checks after it (the region's shared lookups and
/// analyses are made by the first check that asks for them).
#[derive(Debug, Clone)]
pub struct RunTime {
    /// The checks, by index in [`Analysis::checks`].
    pub checks: Vec<u16>,
    /// Wall time.
    pub spent: std::time::Duration,
}

impl RunTime {
    fn of(group: &[(&CheckDef, u16)], started: std::time::Instant) -> RunTime {
        RunTime {
            checks: group.iter().map(|(_, check)| *check).collect(),
            spent: started.elapsed(),
        }
    }
}

/// The statuses of every (check, resource) of a snapshot, and what is needed to explain them.
pub struct Analysis<'d> {
    /// The checks that ran ([`Outcome::check`] indexes this).
    pub checks: Vec<&'d CheckDef>,
    /// In evaluation order: account by account, its account checks, then region by region
    /// each region check's results in the order it emitted them (region checks in catalogue
    /// order, except that the per-instance checks, run together, come where the first of them
    /// is, and the per-snapshot checks likewise).
    pub outcomes: Vec<Outcome>,
    /// The suppressed outcomes (by index in `outcomes`, ascending) with the suppression that
    /// matched each.
    suppressed: Vec<(u32, Arc<Suppression>)>,
    runs: Vec<Run>,
    /// The time of each check (or checks run together) in each scope, in evaluation order.
    times: Vec<RunTime>,
    now: OffsetDateTime,
    /// The analysis' memos and resource references, by account and region, for explaining.
    /// (Kept until the analysis is dropped: a region's memos are no longer freed when the
    /// next region begins.)
    work: Vec<AccountWork>,
    /// The resources of the outcomes, by number ([`Outcome::resource`]).
    resources: Rc<ResourceTable>,
}

/// [`Analysis::explain`] could not reproduce a result: a check that is not deterministic.
#[derive(Debug, thiserror::Error)]
#[error(
    "check {check} gave a different result for {resource} when asked to explain it; this is a \
     bug in rdsguard: please report it (use --format json, which needs no second pass, meanwhile)"
)]
pub struct ExplainError {
    pub check: &'static str,
    pub resource: String,
}

impl<'d> Analysis<'d> {
    /// The check of an outcome.
    pub fn check_of(&self, outcome: &Outcome) -> &'d CheckDef {
        self.checks[usize::from(outcome.check)]
    }

    /// How long each check took, scope by scope, in evaluation order (see [`RunTime`]).
    pub fn run_times(&self) -> &[RunTime] {
        &self.times
    }

    /// The resource of an outcome (`None` only for an outcome of another analysis).
    pub fn resource_of(&self, outcome: &Outcome) -> Option<Arc<ResourceRef>> {
        self.resources.get(outcome.resource)
    }

    /// The positions of the outcomes in the report's order (status, severity, check id,
    /// resource; see [`rdsguard_findings::sort_findings`]).
    pub fn report_order(&self) -> Vec<u32> {
        let refs = self.resources.refs.borrow();
        // By number: the table's references are ranked once, not looked up per outcome.
        rdsguard_findings::canonical_order_numbered(
            self.outcomes.len(),
            |i| {
                let o = &self.outcomes[i];
                (o.status, o.severity, self.check_of(o).id, o.resource)
            },
            &refs,
        )
    }

    /// (status, severity, check id, suppressed) of the outcome at `index`: what a summary
    /// needs before anything is explained.
    pub fn result_key(&self, index: u32) -> (Status, Severity, &'static str, bool) {
        let o = &self.outcomes[index as usize];
        (
            o.status,
            o.severity,
            self.check_of(o).id,
            self.suppression(index as usize).is_some(),
        )
    }

    /// The suppression (from the configuration) that matched the outcome at `index`, if any.
    pub fn suppression(&self, index: usize) -> Option<&Arc<Suppression>> {
        let i = u32::try_from(index).ok()?;
        self.suppressed
            .binary_search_by_key(&i, |(at, _)| *at)
            .ok()
            .and_then(|p| self.suppressed.get(p))
            .map(|(_, s)| s)
    }

    /// [`explain`](Self::explain) of the outcomes at `positions` of `order` (a
    /// [`report_order`](Self::report_order)).
    pub fn explain_ordered(
        &self,
        snapshot: &Snapshot,
        config: &Config,
        order: &[u32],
        positions: &[usize],
    ) -> Result<Vec<Finding>, ExplainError> {
        let indices: Vec<usize> = positions
            .iter()
            .filter_map(|&p| order.get(p).map(|&i| i as usize))
            .collect();
        self.explain(snapshot, config, &indices)
    }

    /// The explained findings (message, evidence, suppression) of the outcomes at `indices`,
    /// in that order. Only the checks with a wanted result run again, in the scopes where it
    /// was found, explaining only the wanted results; shared work (network exposure, IAM
    /// answers) is recomputed once per scope. `snapshot` and `config` must be the ones
    /// analysed.
    pub fn explain(
        &self,
        snapshot: &Snapshot,
        config: &Config,
        indices: &[usize],
    ) -> Result<Vec<Finding>, ExplainError> {
        // (run, ordinal in the run, position in the answer), grouped by run.
        let mut wanted: Vec<(usize, u32, usize)> = indices
            .iter()
            .enumerate()
            .filter(|(_, i)| **i < self.outcomes.len())
            .map(|(pos, &i)| {
                let run = self.runs.partition_point(|r| r.start <= i) - 1;
                (run, (i - self.runs[run].start) as u32, pos)
            })
            .collect();
        wanted.sort_unstable();
        let eval = Evaluation {
            snapshot,
            config,
            now: self.now,
            table: self.resources.clone(),
        };
        let table = &*self.resources;
        let mut answer: Vec<Option<Finding>> = vec![None; indices.len()];
        // The analysis' memos, switched to explaining for the time of this call: values that
        // do not depend on it are reused, the others computed again, explained.
        let _explaining = ExplainedMemos::switch(&self.work);
        // What each run is asked for, told to its scope's memo up front.
        for group in wanted.chunk_by(|a, b| a.0 == b.0) {
            let run = self.runs[group[0].0];
            let def = self.checks[usize::from(run.check)];
            let Some(account_work) = self.work.get(run.scope.account) else {
                continue;
            };
            let memo = match run.scope.region {
                Some(r) => account_work.regions.get(r).map(|w| &w.memo),
                None => Some(&account_work.memo),
            };
            if let Some(memo) = memo {
                let ordinals = group.iter().map(|w| w.1).collect();
                memo.wanted.borrow_mut().push((def.id, ordinals));
            }
        }
        for group in wanted.chunk_by(|a, b| a.0 == b.0) {
            let run = self.runs[group[0].0];
            let def = self.checks[usize::from(run.check)];
            let Some(account_work) = self.work.get(run.scope.account) else {
                continue;
            };
            let region_work = run.scope.region.and_then(|r| account_work.regions.get(r));
            let memo = &account_work.memo;
            let ordinals: Vec<u32> = group.iter().map(|w| w.1).collect();
            let mut found: Vec<(u32, Finding)> = Vec::with_capacity(ordinals.len());
            {
                // On until the first result, so that work a check does before it (tables
                // of evidence) is complete; then only for wanted results.
                let _scope = ExplainingScope::set(true);
                let mut em = Emitter::with_sink(
                    def,
                    run.check,
                    Sink::Selected {
                        ordinals: &ordinals,
                        next: 0,
                        out: &mut found,
                    },
                    table,
                );
                eval.run_one(run.scope, def, memo, region_work, &mut em);
            }
            // A result judged before the wanted one was announced (a check that computes
            // several verdicts before emitting them) has no message: explain the whole run.
            if found.len() != ordinals.len() || found.iter().any(|(_, f)| f.message.is_empty()) {
                let mut all = Vec::new();
                eval.run_one(
                    run.scope,
                    def,
                    memo,
                    region_work,
                    &mut Emitter::with_sink(def, run.check, Sink::Findings(&mut all), table),
                );
                found = ordinals
                    .iter()
                    .filter_map(|&o| all.get(o as usize).map(|f| (o, f.clone())))
                    .collect();
            }
            for (w, (ordinal, mut finding)) in group.iter().zip(found) {
                let outcome = &self.outcomes[run.start + ordinal as usize];
                let resource = self.resource_of(outcome);
                let agrees = resource.as_ref().is_some_and(|r| {
                    ordinal == w.1
                        && finding.status == outcome.status
                        && finding.severity == outcome.severity
                        && *finding.resource == **r
                });
                match resource {
                    Some(r) if agrees => finding.resource = r,
                    other => {
                        return Err(ExplainError {
                            check: def.id,
                            resource: other
                                .map_or_else(|| finding.resource.id.clone(), |r| r.id.clone()),
                        });
                    }
                }
                finding.suppressed = self.suppression(run.start + ordinal as usize).cloned();
                answer[w.2] = Some(finding);
            }
        }
        answer
            .into_iter()
            .zip(indices)
            .map(|(f, &i)| {
                f.ok_or_else(|| ExplainError {
                    check: self.outcomes.get(i).map_or("?", |o| self.check_of(o).id),
                    resource: self
                        .outcomes
                        .get(i)
                        .and_then(|o| self.resource_of(o))
                        .map_or_else(|| format!("result #{i}"), |r| r.id.clone()),
                })
            })
            .collect()
    }
}

/// Switches every kept memo to explaining until dropped.
struct ExplainedMemos<'w>(&'w [AccountWork]);

impl<'w> ExplainedMemos<'w> {
    fn switch(work: &'w [AccountWork]) -> Self {
        ExplainedMemos::set(work, true);
        ExplainedMemos(work)
    }

    fn set(work: &[AccountWork], explained: bool) {
        for account in work {
            account.memo.explained.set(explained);
            account.memo.wanted.borrow_mut().clear();
            for region in &account.regions {
                region.memo.explained.set(explained);
                region.memo.wanted.borrow_mut().clear();
            }
        }
    }
}

impl Drop for ExplainedMemos<'_> {
    fn drop(&mut self) {
        ExplainedMemos::set(self.0, false);
    }
}

/// The work of a run kept for one account: its memo, and each region's.
struct AccountWork {
    memo: Memo,
    regions: Vec<RegionWork>,
}

/// The work of a run kept for one region: its memo and its resources' shared references.
struct RegionWork {
    memo: Memo,
    refs: crate::checks::common::SharedRefs,
}

impl RegionWork {
    fn new(explained: bool, table: &Rc<ResourceTable>) -> RegionWork {
        RegionWork {
            memo: Memo::for_run(explained),
            refs: crate::checks::common::SharedRefs::numbered_in(table.clone()),
        }
    }
}

/// What every check run shares.
struct Evaluation<'s> {
    snapshot: &'s Snapshot,
    config: &'s Config,
    now: OffsetDateTime,
    /// The run's numbered resource references (the regions number theirs here).
    table: Rc<ResourceTable>,
}

impl<'s> Evaluation<'s> {
    /// Every check in every scope: for each account its account checks, then region by region
    /// its region checks. `each(scope, def, index, run)` supplies an emitter to `run`; the
    /// memos are computed explained or not as the results are (`explained`).
    fn run_all<'d>(
        &self,
        checks: &[&'d CheckDef],
        explained: bool,
        keep: bool,
        mut each: impl FnMut(Scope, &[(&'d CheckDef, u16)], &mut dyn FnMut(&mut [Emitter<'_>])),
    ) -> Vec<AccountWork> {
        let mut kept = Vec::new();
        for (a, account) in self.snapshot.accounts.iter().enumerate() {
            let mut work = AccountWork {
                memo: Memo::for_run(explained),
                regions: Vec::new(),
            };
            let scope = Scope {
                account: a,
                region: None,
            };
            for (i, def) in checks.iter().enumerate() {
                if matches!(def.run, Runner::Account(_)) {
                    each(scope, &[(def, i as u16)], &mut |ems| {
                        if let [em] = ems {
                            self.run_one(scope, def, &work.memo, None, em)
                        }
                    });
                }
            }
            for r in 0..account.regions.len() {
                let region = RegionWork::new(explained, &self.table);
                let scope = Scope {
                    account: a,
                    region: Some(r),
                };
                // The per-instance checks run together, a chunk of instances at a time (each
                // chunk read once for all of them), where the first of them is in the
                // catalogue; the per-snapshot checks likewise; the others one by one.
                let region_checks: Vec<(&'d CheckDef, u16)> = checks
                    .iter()
                    .enumerate()
                    .filter(|(_, def)| !matches!(def.run, Runner::Account(_)))
                    .map(|(i, def)| (*def, i as u16))
                    .collect();
                let batches: [Vec<(&'d CheckDef, u16)>; 2] = [0, 1].map(|b| {
                    region_checks
                        .iter()
                        .copied()
                        .filter(|(def, _)| def.run.batch() == Some(b))
                        .collect()
                });
                let mut groups: Vec<&[(&'d CheckDef, u16)]> = Vec::new();
                for check in &region_checks {
                    match check.0.run.batch().and_then(|b| batches.get(b)) {
                        None => groups.push(std::slice::from_ref(check)),
                        // The whole batch, at its first check.
                        Some(batch) if batch.first().map(|(_, i)| *i) == Some(check.1) => {
                            groups.push(batch)
                        }
                        Some(_) => {}
                    }
                }
                for group in groups {
                    each(scope, group, &mut |ems| match (group, ems) {
                        ([(def, _)], [em]) => {
                            self.run_one(scope, def, &work.memo, Some(&region), em)
                        }
                        (group, ems) => {
                            self.run_batch(scope, group, &work.memo, &region, ems);
                        }
                    });
                }
                // Otherwise the region's work is freed before the next region's begins.
                if keep {
                    work.regions.push(region);
                }
            }
            if keep {
                kept.push(work);
            }
        }
        kept
    }

    /// Run `def` in `scope`: NOT_ASSESSED for the whole scope when an operation it depends on
    /// failed there, otherwise the check itself.
    fn run_one(
        &self,
        scope: Scope,
        def: &CheckDef,
        account_memo: &Memo,
        region_work: Option<&RegionWork>,
        em: &mut Emitter<'_>,
    ) {
        let Some(account) = self.snapshot.accounts.get(scope.account) else {
            return;
        };
        match (def.run, scope.region.and_then(|r| account.regions.get(r))) {
            (Runner::Account(run), _) => {
                if let Some(gap) = def
                    .depends_on
                    .iter()
                    .find_map(|op| account.gap(*op, None).filter(|g| g.resource.is_none()))
                {
                    em.not_assessed(
                        scope_resource(def, account, None),
                        msg!("{}", gap.describe()),
                    );
                    return;
                }
                let ctx = AccountCtx {
                    snapshot: self.snapshot,
                    account,
                    config: self.config,
                    now: self.now,
                    memo: account_memo,
                };
                run(&ctx, em);
            }
            (Runner::Region(_) | Runner::Instances(_) | Runner::Snapshots(_), Some(region)) => {
                let Some(work) = region_work else {
                    return;
                };
                if self.region_gap(def, account, region, em) {
                    return;
                }
                let ctx = RegionCtx {
                    snapshot: self.snapshot,
                    account,
                    region,
                    config: self.config,
                    now: self.now,
                    memo: &work.memo,
                    account_memo,
                    refs: &work.refs,
                };
                match def.run {
                    Runner::Region(run) => run(&ctx, em),
                    Runner::Instances(judge) => {
                        crate::checks::instance::each_instance_of(&ctx, &mut [(judge, em)])
                    }
                    Runner::Snapshots(judge) => {
                        crate::checks::snapshot::each_snapshot_of(&ctx, &mut [(judge, em)])
                    }
                    Runner::Account(_) => {}
                }
            }
            (Runner::Region(_) | Runner::Instances(_) | Runner::Snapshots(_), None) => {}
        }
    }

    /// Whether an operation `def` depends on failed for the whole region (or account): then
    /// NOT_ASSESSED for the region is emitted.
    fn region_gap(
        &self,
        def: &CheckDef,
        account: &AccountSnapshot,
        region: &RegionSnapshot,
        em: &mut Emitter<'_>,
    ) -> bool {
        let gap = def.depends_on.iter().find_map(|op| {
            region
                .listing_gap(*op)
                .or_else(|| account.gap(*op, None).filter(|g| g.resource.is_none()))
        });
        if let Some(gap) = gap {
            em.not_assessed(
                scope_resource(def, account, Some(&region.region)),
                msg!("{}", gap.describe()),
            );
        }
        gap.is_some()
    }

    /// Run per-instance or per-snapshot checks (`group`, all of one kind, each with its
    /// emitter in `ems`) in chunks of items: the same results as [`run_one`](Self::run_one) of
    /// each in turn.
    fn run_batch(
        &self,
        scope: Scope,
        group: &[(&CheckDef, u16)],
        account_memo: &Memo,
        work: &RegionWork,
        ems: &mut [Emitter<'_>],
    ) {
        let Some(account) = self.snapshot.accounts.get(scope.account) else {
            return;
        };
        let Some(region) = scope.region.and_then(|r| account.regions.get(r)) else {
            return;
        };
        let mut instances = Vec::new();
        let mut snapshots = Vec::new();
        for ((def, _), em) in group.iter().zip(ems.iter_mut()) {
            if self.region_gap(def, account, region, em) {
                continue;
            }
            match def.run {
                Runner::Instances(judge) => instances.push((judge, em)),
                Runner::Snapshots(judge) => snapshots.push((judge, em)),
                Runner::Region(_) | Runner::Account(_) => {}
            }
        }
        let ctx = RegionCtx {
            snapshot: self.snapshot,
            account,
            region,
            config: self.config,
            now: self.now,
            memo: &work.memo,
            account_memo,
            refs: &work.refs,
        };
        if !instances.is_empty() {
            crate::checks::instance::each_instance_of(&ctx, &mut instances);
        }
        if !snapshots.is_empty() {
            crate::checks::snapshot::each_snapshot_of(&ctx, &mut snapshots);
        }
    }
}

/// Results computed once per region (or account) and shared by the checks that need them,
/// keyed by type. Single-threaded by design: a region is evaluated on one thread.
///
/// A value either depends on whether results are explained ([`Memo::get_or_init`]: one value
/// per mode, computed in the run's mode) or not ([`Memo::get_or_init_plain`]: one value for
/// both, computed explained). [`analyze`] keeps its memos, and [`Analysis::explain`] reuses
/// the plain values (the network analysis, the IAM model) instead of computing them again.
///
/// A short list searched in order rather than a hash map: it holds a dozen types at most.
pub struct Memo {
    /// By type and mode: asked for once per resource by many checks, so hashed, not scanned.
    slots: RefCell<crate::checks::common::FastMap<MemoKey, Rc<dyn Any>>>,
    /// Whether the run using the memo explains results (see [`Memo::get_or_init`]).
    explained: Cell<bool>,
    /// For the time of an explanation ([`Analysis::explain`]): the results it wants from each
    /// check run in this memo's scope (check id, ordinals), so that work several checks
    /// explain from is done once for all of them.
    wanted: RefCell<Vec<(&'static str, Vec<u32>)>>,
}

/// A memoized value's type and the mode it was computed for (`None`: plain).
type MemoKey = (TypeId, Option<bool>);

impl Default for Memo {
    fn default() -> Memo {
        Memo::for_run(true)
    }
}

impl Memo {
    /// An empty memo for a run that explains its results (`explained`) or decides statuses
    /// only ([`analyze`]).
    pub fn for_run(explained: bool) -> Memo {
        Memo {
            slots: RefCell::default(),
            explained: Cell::new(explained),
            wanted: RefCell::new(Vec::new()),
        }
    }

    fn find<T: 'static>(&self, mode: Option<bool>) -> Option<Rc<T>> {
        let found = self.slots.borrow().get(&(TypeId::of::<T>(), mode)).cloned();
        found.and_then(|v| v.downcast::<T>().ok())
    }

    fn compute<T: 'static>(
        &self,
        mode: Option<bool>,
        explaining: bool,
        init: impl FnOnce() -> T,
    ) -> Rc<T> {
        // Computed outside the borrow so `init` may itself use the memo.
        let value = {
            let _mode = ExplainingScope::set(explaining);
            Rc::new(init())
        };
        self.slots
            .borrow_mut()
            .insert((TypeId::of::<T>(), mode), value.clone());
        value
    }

    /// The value of type `T` for the run's mode, computed by `init` the first time it is asked
    /// for in that mode: explained in a run that explains any result (all of them may share
    /// the value), whatever the result being judged when it is first asked for; without
    /// explanations in the analysis.
    pub fn get_or_init<T: 'static>(&self, init: impl FnOnce() -> T) -> Rc<T> {
        let mode = Some(self.explained.get());
        self.find(mode)
            .unwrap_or_else(|| self.compute(mode, self.explained.get(), init))
    }

    /// The results (ordinals in the run, ascending) the explanation under way wants from the
    /// check `check_id` in this memo's scope; `None` outside an explanation, or when it wants
    /// none of that check's.
    pub fn wanted_by(&self, check_id: &str) -> Option<Vec<u32>> {
        self.wanted
            .borrow()
            .iter()
            .find(|(id, _)| *id == check_id)
            .map(|(_, ordinals)| ordinals.clone())
    }

    /// The value of type `T`, the same whether results are explained or not (`init` must not
    /// read [`explaining`], nor build messages or evidence): computed once, explained, and
    /// reused by [`Analysis::explain`].
    pub fn get_or_init_plain<T: 'static>(&self, init: impl FnOnce() -> T) -> Rc<T> {
        self.find(None)
            .unwrap_or_else(|| self.compute(None, true, init))
    }

    /// The value of type `T` [`get_or_init_plain`](Self::get_or_init_plain) computed, if it
    /// has been (for work that other work can shortcut, without computing it for that).
    pub fn get_plain<T: 'static>(&self) -> Option<Rc<T>> {
        self.find(None)
    }
}

/// The resource of a scope-wide result ("every DB instance in us-east-1").
pub fn scope_resource(
    def: &CheckDef,
    account: &AccountSnapshot,
    region: Option<&str>,
) -> ResourceRef {
    ResourceRef {
        resource_type: Text::from_static(def.resource_type),
        id: match region {
            Some(r) => format!("all {} in {r}", def.resource_type),
            None => format!("all {} in account", def.resource_type),
        },
        arn: None,
        account_id: account.account_id.clone().into(),
        region: region.map(|r| r.to_string().into()),
    }
}

/// Mark findings matched by an unexpired suppression of `config` (also used for custom checks).
///
/// The first matching rule (in file order) applies; findings matched by one rule share its
/// [`Suppression`].
pub fn apply_suppressions(findings: &mut [Finding], config: &Config, now: OffsetDateTime) {
    let mut suppressions = Suppressions::new(config, now);
    if suppressions.is_empty() {
        return;
    }
    for f in findings.iter_mut() {
        f.suppressed = suppressions.find(&f.check_id, &f.resource);
    }
}

/// The unexpired suppression rules of a configuration, ready to match results.
///
/// Expiry dates are parsed once per rule and check-id patterns matched once per distinct check
/// id, so the work per result is the resource patterns of the rules that name its check.
struct Suppressions<'c> {
    active: Vec<(&'c crate::config::SuppressionRule, Arc<Suppression>)>,
    rules_of_check: HashMap<String, Rc<[usize]>>,
    /// Results come in runs of one check: the last answer.
    last: Option<(String, Rc<[usize]>)>,
}

impl<'c> Suppressions<'c> {
    fn new(config: &'c Config, now: OffsetDateTime) -> Self {
        let today = now.date();
        let fmt = time::macros::format_description!("[year]-[month]-[day]");
        let active = config
            .suppressions
            .iter()
            .filter(|rule| {
                rule.expires
                    .as_deref()
                    .and_then(|e| time::Date::parse(e, &fmt).ok())
                    .is_none_or(|d| d >= today)
            })
            .map(|rule| {
                let suppression = Suppression {
                    reason: rule.reason.clone(),
                    expires: rule.expires.clone(),
                };
                (rule, Arc::new(suppression))
            })
            .collect();
        Suppressions {
            active,
            rules_of_check: HashMap::new(),
            last: None,
        }
    }

    fn is_empty(&self) -> bool {
        self.active.is_empty()
    }

    /// The suppression of the first active rule matching the result, if any.
    fn find(&mut self, check_id: &str, resource: &ResourceRef) -> Option<Arc<Suppression>> {
        let rules = match &self.last {
            Some((id, rules)) if id == check_id => rules.clone(),
            _ => {
                let active = &self.active;
                let rules = self
                    .rules_of_check
                    .entry(check_id.to_string())
                    .or_insert_with(|| {
                        (0..active.len())
                            .filter(|&i| glob_match(&active[i].0.check, check_id))
                            .collect()
                    })
                    .clone();
                self.last = Some((check_id.to_string(), rules.clone()));
                rules
            }
        };
        rules.iter().find_map(|&i| {
            let (rule, suppression) = &self.active[i];
            let matches = glob_match(&rule.resource, &resource.id)
                || resource
                    .arn
                    .as_deref()
                    .is_some_and(|a| glob_match(&rule.resource, a));
            matches.then(|| suppression.clone())
        })
    }
}

/// `*` matches any run of characters; everything else literally.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let p = pattern.as_bytes();
    let t = text.as_bytes();
    let (mut pi, mut ti) = (0usize, 0usize);
    let (mut star, mut mark) = (None::<usize>, 0usize);
    while ti < t.len() {
        if pi < p.len() && p[pi] != b'*' && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == b'*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == b'*' {
        pi += 1;
    }
    pi == p.len()
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::sync::Arc;

    use rdsguard_findings::{Finding, ResourceRef, Severity, Status, Text};

    use super::{
        CheckDef, Emitter, Evidence, Memo, RegionCtx, Runner, apply_suppressions, glob_match,
    };
    use crate::config::{Config, SuppressionRule};

    fn finding(check: &'static str, id: &str, arn: Option<&str>) -> Finding {
        Finding {
            check_id: check.into(),
            title: "t".into(),
            severity: Severity::High,
            status: Status::Fail,
            resource: ResourceRef {
                resource_type: "AwsRdsDbInstance".into(),
                id: id.into(),
                arn: arn.map(str::to_string),
                account_id: "111122223333".into(),
                region: Some("us-east-1".into()),
            }
            .into(),
            message: "m".into(),
            evidence: Evidence::new(),
            suppressed: None,
        }
    }

    fn rule(check: &str, resource: &str, reason: &str, expires: Option<&str>) -> SuppressionRule {
        SuppressionRule {
            check: check.into(),
            resource: resource.into(),
            reason: reason.into(),
            expires: expires.map(str::to_string),
        }
    }

    /// Findings about one resource share its reference, and IAM findings listing the same
    /// principals share the list: memory per finding stays small on large accounts.
    #[test]
    fn findings_share_resources_and_principal_lists() {
        use std::collections::{HashMap, HashSet};
        let snap = rdsguard_demo::synthetic(&rdsguard_demo::SyntheticParams::with_instances(200));
        let now = time::macros::datetime!(2026-11-01 09:00:00 UTC);
        let findings = super::evaluate_with(&snap, &Config::default(), now, &super::check_defs());
        let mut refs: HashMap<(&str, &str), HashSet<*const ResourceRef>> = HashMap::new();
        for f in findings.iter().filter(|f| {
            f.resource.resource_type == "AwsRdsDbInstance"
                && [
                    "rds_instance_encrypted_with_cmk",
                    "rds_iam_delete_access",
                    "rds_instance_not_in_public_subnet",
                    "rds_instance_storage_encrypted",
                ]
                .contains(&f.check_id.as_str())
        }) {
            let region = f.resource.region.as_deref().unwrap_or_default();
            refs.entry((region, f.resource.id.as_str()))
                .or_default()
                .insert(Arc::as_ptr(&f.resource));
        }
        assert!(
            refs.len() >= 200,
            "every instance is reported: {}",
            refs.len()
        );
        assert!(
            refs.values().all(|ptrs| ptrs.len() == 1),
            "the checks' findings about a DB share one reference"
        );

        let delete: Vec<&Finding> = findings
            .iter()
            .filter(|f| f.check_id == "rds_iam_delete_access" && f.status != Status::NotAssessed)
            .collect();
        let lists: HashSet<*const serde_json::Value> = delete
            .iter()
            .filter_map(|f| f.evidence.get("principals"))
            .map(|v| v as *const serde_json::Value)
            .collect();
        assert!(delete.len() > 100);
        assert!(
            lists.len() * 4 < delete.len(),
            "{} lists of principals for {} findings",
            lists.len(),
            delete.len()
        );
    }

    /// The analysis decides what the explained evaluation finds, on the demo account (every
    /// check fails somewhere, with suppressions) and on a synthetic one, and explaining any
    /// selection of its results gives the explained evaluation's findings.
    #[test]
    fn analysis_and_explanations_agree_with_the_full_evaluation() {
        let now = crate::testkit::now();
        let demo = rdsguard_demo::demo_snapshot();
        let config: Config =
            toml::from_str(rdsguard_demo::demo_config_toml()).expect("demo config");
        assert!(!config.suppressions.is_empty());
        let defs = super::check_defs();
        let findings = super::evaluate_with(&demo, &config, now, &defs);
        assert!(findings.iter().any(|f| f.suppressed.is_some()));
        crate::testkit::assert_explanations_agree_at(&demo, &config, now, &defs, &findings, 1);

        let synthetic =
            rdsguard_demo::synthetic(&rdsguard_demo::SyntheticParams::with_instances(150));
        let config = Config::default();
        let findings = super::evaluate_with(&synthetic, &config, now, &defs);
        assert!(findings.len() > 5_000);
        crate::testkit::assert_explanations_agree_at(
            &synthetic, &config, now, &defs, &findings, 97,
        );
    }

    /// Checks that share work or run together (per-instance checks run in chunks of instances,
    /// who-can answers shared between checks) find exactly what each finds alone, in the
    /// same order within each check.
    #[test]
    fn checks_run_together_find_what_each_finds_alone() {
        let now = crate::testkit::now();
        let config = Config::default();
        let defs = super::check_defs();
        let per_instance = defs
            .iter()
            .filter(|d| matches!(d.run, super::Runner::Instances(_)))
            .count();
        assert!(per_instance >= 10, "{per_instance}");
        let synthetic =
            rdsguard_demo::synthetic(&rdsguard_demo::SyntheticParams::with_instances(120));
        for snap in [rdsguard_demo::demo_snapshot(), synthetic] {
            let together = super::evaluate_with(&snap, &config, now, &defs);
            let json = |f: &Finding| serde_json::to_string(f).unwrap_or_default();
            for def in &defs {
                let alone: Vec<String> = super::evaluate_with(&snap, &config, now, &[def])
                    .iter()
                    .map(json)
                    .collect();
                let found: Vec<String> = together
                    .iter()
                    .filter(|f| f.check_id == def.id)
                    .map(json)
                    .collect();
                assert_eq!(found, alone, "{}", def.id);
            }
        }
    }

    /// The run times name each check once per scope it runs in (an account check per
    /// account, a region check per region), the per-instance and per-snapshot checks as one
    /// entry each, and add up to no more than the analysis took.
    #[test]
    fn run_times_cover_each_check_once_per_scope() {
        let snapshot = rdsguard_demo::demo_snapshot();
        let config = Config::default();
        let defs = super::check_defs();
        let started = std::time::Instant::now();
        let analysis = super::analyze(&snapshot, &config, crate::testkit::now(), &defs);
        let took = started.elapsed();
        let accounts = snapshot.accounts.len();
        let regions: usize = snapshot.accounts.iter().map(|a| a.regions.len()).sum();
        assert!(regions > 1, "the demo has several regions");
        let times = analysis.run_times();
        for (i, def) in analysis.checks.iter().enumerate() {
            let entries = times
                .iter()
                .filter(|t| t.checks.contains(&(i as u16)))
                .count();
            let expected = match def.run {
                super::Runner::Account(_) => accounts,
                _ => regions,
            };
            assert_eq!(entries, expected, "{}", def.id);
        }
        let together: Vec<_> = times.iter().filter(|t| t.checks.len() > 1).collect();
        assert_eq!(together.len(), 2 * regions, "instance and snapshot batches");
        for t in together {
            for &c in &t.checks {
                let run = analysis.checks[usize::from(c)].run;
                assert!(
                    run.batch().is_some(),
                    "{}",
                    analysis.checks[usize::from(c)].id
                );
            }
        }
        let spent: std::time::Duration = times.iter().map(|t| t.spent).sum();
        assert!(spent <= took, "{spent:?} > {took:?}");
    }

    #[test]
    fn suppressions_apply_first_unexpired_match_by_check_and_id_or_arn() {
        let config = Config {
            suppressions: vec![
                rule("rds_a", "legacy-*", "expired", Some("2020-01-01")),
                rule("rds_*", "legacy-*", "legacy", Some("2099-12-31")),
                rule("rds_b", "*:db:arn-only", "by arn", None),
                rule("*", "legacy-1", "never reached for legacy-1", None),
            ],
            ..Config::default()
        };
        let mut findings = vec![
            finding("rds_a", "legacy-1", None),
            finding(
                "rds_b",
                "arn-only",
                Some("arn:aws:rds:us-east-1:1:db:arn-only"),
            ),
            finding("rds_a", "prod", None),
            finding("rds_b", "legacy-2", None),
            finding("other", "legacy-1", None),
        ];
        let now = time::macros::datetime!(2026-11-01 09:00:00 UTC);
        apply_suppressions(&mut findings, &config, now);
        let reasons: Vec<Option<&str>> = findings
            .iter()
            .map(|f| f.suppressed.as_ref().map(|s| s.reason.as_str()))
            .collect();
        assert_eq!(
            reasons,
            [
                Some("legacy"),
                Some("by arn"),
                None,
                Some("legacy"),
                Some("never reached for legacy-1"),
            ]
        );
        let (first, second) = (&findings[0].suppressed, &findings[3].suppressed);
        assert!(
            first
                .as_ref()
                .zip(second.as_ref())
                .is_some_and(|(a, b)| Arc::ptr_eq(a, b)),
            "findings matched by one rule share its suppression"
        );
        assert_eq!(
            first.as_ref().and_then(|s| s.expires.as_deref()),
            Some("2099-12-31")
        );
    }

    #[test]
    fn memo_computes_each_type_once() {
        let memo = Memo::default();
        let mut calls = 0;
        let a = memo.get_or_init(|| {
            calls += 1;
            41u32
        });
        let b = memo.get_or_init(|| {
            calls += 1;
            0u32
        });
        assert_eq!((*a, *b, calls), (41, 41, 1));
        assert_eq!(
            *memo.get_or_init(|| String::from("other type")),
            "other type"
        );
    }

    /// A value is computed per mode (explaining or not) unless it is plain: then it is
    /// computed once, explained, and kept across modes (what lets explaining reuse the
    /// analysis' network and IAM work).
    #[test]
    fn memo_values_follow_the_run_mode_unless_plain() {
        use std::rc::Rc;
        let memo = Memo::for_run(false);
        let status = memo.get_or_init(super::explaining);
        let plain = memo.get_or_init_plain(|| (super::explaining(), 7u8));
        memo.explained.set(true);
        let explained = memo.get_or_init(super::explaining);
        let plain_again = memo.get_or_init_plain(|| (false, 0u8));
        assert!(!*status, "computed without explanations in the analysis");
        assert!(
            *explained,
            "computed again, explained, for an explaining run"
        );
        assert!(Rc::ptr_eq(&plain, &plain_again) && *plain == (true, 7));
    }

    thread_local! {
        /// What `told_first` saw of the explanation's wants for `told_second`.
        static TOLD: RefCell<Vec<Option<Vec<u32>>>> = const { RefCell::new(Vec::new()) };
    }

    fn told_results(ctx: &RegionCtx<'_>, em: &mut Emitter<'_>, other: Option<&str>) {
        if let Some(other) = other {
            TOLD.with(|t| t.borrow_mut().push(ctx.memo.wanted_by(other)));
        }
        for i in 0..4 {
            if em.skip_unwanted() {
                continue;
            }
            let resource = ResourceRef {
                resource_type: Text::from_static("AwsRdsDbInstance"),
                id: format!("db-{i}"),
                arn: None,
                account_id: ctx.account.account_id.clone().into(),
                region: Some(ctx.region.region.clone().into()),
            };
            em.pass(resource, msg!("result {i}"), Evidence::new());
        }
    }

    fn told_first(ctx: &RegionCtx<'_>, em: &mut Emitter<'_>) {
        told_results(ctx, em, Some("told_second"));
    }

    fn told_second(ctx: &RegionCtx<'_>, em: &mut Emitter<'_>) {
        told_results(ctx, em, None);
    }

    fn told_check(id: &'static str, run: fn(&RegionCtx<'_>, &mut Emitter<'_>)) -> CheckDef {
        CheckDef {
            id,
            title: "test",
            severity: Severity::Low,
            resource_type: "AwsRdsDbInstance",
            description: "",
            rationale: "",
            remediation: "",
            cis: &[],
            fsbp: &[],
            depends_on: &[],
            run: Runner::Region(run),
        }
    }

    /// An explanation tells each scope's memo up front what it wants from every check run
    /// there (so a check can prepare what another will explain), and forgets it afterwards.
    #[test]
    fn an_explanation_tells_the_memos_what_every_check_is_asked() {
        let first = told_check("told_first", told_first);
        let second = told_check("told_second", told_second);
        let snapshot = rdsguard_demo::demo_snapshot();
        let config = Config::default();
        let analysis = super::analyze(
            &snapshot,
            &config,
            crate::testkit::now(),
            &[&first, &second],
        );
        let outcomes = analysis.outcomes.len();
        assert!(outcomes >= 8, "{outcomes}");
        // The second result of each check in the first region: positions 1 and 5.
        let (first_run, second_run) = (analysis.runs[0], analysis.runs[1]);
        assert_eq!(
            analysis.checks[usize::from(second_run.check)].id,
            "told_second"
        );
        TOLD.with(|t| t.borrow_mut().clear());
        let explained = analysis
            .explain(
                &snapshot,
                &config,
                &[
                    first_run.start + 1,
                    second_run.start + 2,
                    second_run.start + 3,
                ],
            )
            .expect("explained");
        assert_eq!(explained.len(), 3);
        let told = TOLD.with(|t| t.borrow().clone());
        assert_eq!(told, vec![Some(vec![2, 3])], "told while explaining");
        // Afterwards the memos hold no wants.
        for account in &analysis.work {
            assert!(account.memo.wanted.borrow().is_empty());
            for region in &account.regions {
                assert!(region.memo.wanted.borrow().is_empty());
            }
        }
    }

    #[test]
    fn glob() {
        assert!(glob_match("*", "anything"));
        assert!(glob_match(
            "rds_*_encrypted",
            "rds_instance_storage_encrypted"
        ));
        assert!(!glob_match("rds_*_encrypted", "rds_instance_public"));
        assert!(glob_match("prod-*", "prod-db"));
        assert!(!glob_match("prod", "prod-db"));
    }
}
