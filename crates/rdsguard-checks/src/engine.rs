//! The check engine: runs check definitions over a snapshot and applies suppressions.

use std::any::{Any, TypeId};
use std::cell::RefCell;
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

/// Collects the findings of one check, filling in its id, title and severity.
///
/// Resources are taken as `impl Into<Arc<ResourceRef>>` (a `ResourceRef` or a shared one),
/// messages as `impl Into<Text>` (a `String`, or a `&'static str` that costs nothing) and
/// evidence as `impl Into<Evidence>` (the [`evidence!`](crate::evidence) macro's result).
pub struct Emitter<'a> {
    def: &'a CheckDef,
    out: &'a mut Vec<Finding>,
}

impl<'a> Emitter<'a> {
    pub fn new(def: &'a CheckDef, out: &'a mut Vec<Finding>) -> Self {
        Emitter { def, out }
    }

    pub fn emit(
        &mut self,
        status: Status,
        resource: impl Into<Arc<ResourceRef>>,
        message: impl Into<Text>,
        evidence: impl Into<Evidence>,
    ) {
        self.push(
            status,
            self.def.severity,
            resource.into(),
            message.into(),
            evidence.into(),
        );
    }

    fn push(
        &mut self,
        status: Status,
        severity: Severity,
        resource: Arc<ResourceRef>,
        message: Text,
        evidence: Evidence,
    ) {
        self.out.push(Finding {
            check_id: Text::from_static(self.def.id),
            title: Text::from_static(self.def.title),
            severity,
            status,
            resource,
            message,
            evidence,
            suppressed: None,
        });
    }

    pub fn pass(
        &mut self,
        resource: impl Into<Arc<ResourceRef>>,
        message: impl Into<Text>,
        evidence: impl Into<Evidence>,
    ) {
        self.emit(Status::Pass, resource, message, evidence)
    }

    pub fn fail(
        &mut self,
        resource: impl Into<Arc<ResourceRef>>,
        message: impl Into<Text>,
        evidence: impl Into<Evidence>,
    ) {
        self.emit(Status::Fail, resource, message, evidence)
    }

    /// A failure graded at a severity other than the check's default.
    pub fn fail_with_severity(
        &mut self,
        severity: Severity,
        resource: impl Into<Arc<ResourceRef>>,
        message: impl Into<Text>,
        evidence: impl Into<Evidence>,
    ) {
        self.push(
            Status::Fail,
            severity,
            resource.into(),
            message.into(),
            evidence.into(),
        );
    }

    pub fn not_assessed(&mut self, resource: impl Into<Arc<ResourceRef>>, reason: impl Into<Text>) {
        self.emit(Status::NotAssessed, resource, reason, Evidence::new())
    }

    pub fn not_applicable(
        &mut self,
        resource: impl Into<Arc<ResourceRef>>,
        reason: impl Into<Text>,
    ) {
        self.emit(Status::NotApplicable, resource, reason, Evidence::new())
    }
}

/// Build evidence: `evidence!{"storage_encrypted" => db.storage_encrypted, ...}` (keys are
/// usually `&'static str` literals, values anything `serde_json::json!` accepts).
#[macro_export]
macro_rules! evidence {
    (@unit $k:expr) => { () };
    (@count $($k:expr)+) => { <[()]>::len(&[$($crate::evidence!(@unit $k)),+]) };
    () => { $crate::engine::Evidence::new() };
    ($($k:expr => $v:expr),+ $(,)?) => {{
        let mut m = $crate::engine::Evidence::with_capacity($crate::evidence!(@count $($k)+));
        $( m.insert($crate::engine::Text::from($k), ::serde_json::json!($v)); )+
        m
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

/// Evaluate the given checks at time `now`, then apply suppressions.
///
/// Regions are the outer loop so that work shared by several checks of a region (the network
/// exposure analysis, IAM who-can answers) is computed once, through [`RegionCtx::memo`].
pub fn evaluate_with(
    snapshot: &Snapshot,
    config: &Config,
    now: OffsetDateTime,
    defs: &[&CheckDef],
) -> Vec<Finding> {
    let enabled: Vec<&CheckDef> = defs
        .iter()
        .copied()
        .filter(|def| !config.disabled_checks.iter().any(|d| d == def.id))
        .collect();
    let mut out = Vec::new();
    for account in &snapshot.accounts {
        let account_memo = Memo::default();
        for def in &enabled {
            let Runner::Account(run) = def.run else {
                continue;
            };
            let mut em = Emitter::new(def, &mut out);
            if let Some(gap) = def
                .depends_on
                .iter()
                .find_map(|op| account.gap(*op, None).filter(|g| g.resource.is_none()))
            {
                em.not_assessed(scope_resource(def, account, None), gap.describe());
                continue;
            }
            let ctx = AccountCtx {
                snapshot,
                account,
                config,
                now,
                memo: &account_memo,
            };
            run(&ctx, &mut em);
        }
        for region in &account.regions {
            let region_memo = Memo::default();
            let region_refs = crate::checks::common::SharedRefs::default();
            for def in &enabled {
                let Runner::Region(run) = def.run else {
                    continue;
                };
                let mut em = Emitter::new(def, &mut out);
                let gap = def.depends_on.iter().find_map(|op| {
                    region
                        .listing_gap(*op)
                        .or_else(|| account.gap(*op, None).filter(|g| g.resource.is_none()))
                });
                if let Some(gap) = gap {
                    em.not_assessed(
                        scope_resource(def, account, Some(&region.region)),
                        gap.describe(),
                    );
                    continue;
                }
                let ctx = RegionCtx {
                    snapshot,
                    account,
                    region,
                    config,
                    now,
                    memo: &region_memo,
                    account_memo: &account_memo,
                    refs: &region_refs,
                };
                run(&ctx, &mut em);
            }
        }
    }
    apply_suppressions(&mut out, config, now);
    out
}

/// Results computed once per region (or account) and shared by the checks that need them,
/// keyed by type. Single-threaded by design: a region is evaluated on one thread.
///
/// A short list searched in order rather than a hash map: it holds a dozen types at most and
/// is asked once per finding by some helpers (shared resource references), where hashing the
/// `TypeId` cost more than comparing it.
#[derive(Default)]
pub struct Memo {
    slots: RefCell<Vec<(TypeId, Rc<dyn Any>)>>,
}

impl Memo {
    /// The value of type `T`, computed by `init` the first time it is asked for.
    pub fn get_or_init<T: 'static>(&self, init: impl FnOnce() -> T) -> Rc<T> {
        let key = TypeId::of::<T>();
        let found = self
            .slots
            .borrow()
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.clone());
        if let Some(v) = found
            && let Ok(v) = v.downcast::<T>()
        {
            return v;
        }
        // Computed outside the borrow so `init` may itself use the memo.
        let value = Rc::new(init());
        self.slots.borrow_mut().push((key, value.clone()));
        value
    }
}

/// The resource of a scope-wide result ("every DB instance in us-east-1").
pub fn scope_resource(
    def: &CheckDef,
    account: &AccountSnapshot,
    region: Option<&str>,
) -> ResourceRef {
    ResourceRef {
        resource_type: def.resource_type.to_string(),
        id: match region {
            Some(r) => format!("all {} in {r}", def.resource_type),
            None => format!("all {} in account", def.resource_type),
        },
        arn: None,
        account_id: account.account_id.clone(),
        region: region.map(str::to_string),
    }
}

/// Mark findings matched by an unexpired suppression of `config` (also used for custom checks).
///
/// The first matching rule (in file order) applies. Expiry dates are parsed once per rule and
/// check-id patterns matched once per distinct check id, so the work per finding is the
/// resource patterns of the rules that name its check; findings matched by one rule share
/// its [`Suppression`].
pub fn apply_suppressions(findings: &mut [Finding], config: &Config, now: OffsetDateTime) {
    let today = now.date();
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    let active: Vec<(&crate::config::SuppressionRule, Arc<Suppression>)> = config
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
    if active.is_empty() {
        return;
    }
    let mut rules_of_check: HashMap<Text, Rc<[usize]>> = HashMap::new();
    let mut last: Option<(Text, Rc<[usize]>)> = None;
    for f in findings.iter_mut() {
        // Findings come in runs of one check: remember the last answer.
        let rules = match &last {
            Some((id, rules)) if *id == f.check_id => rules.clone(),
            _ => {
                let rules = rules_of_check
                    .entry(f.check_id.clone())
                    .or_insert_with(|| {
                        (0..active.len())
                            .filter(|&i| glob_match(&active[i].0.check, &f.check_id))
                            .collect()
                    })
                    .clone();
                last = Some((f.check_id.clone(), rules.clone()));
                rules
            }
        };
        for &i in rules.iter() {
            let (rule, suppression) = &active[i];
            let resource_match = glob_match(&rule.resource, &f.resource.id)
                || f.resource
                    .arn
                    .as_deref()
                    .is_some_and(|a| glob_match(&rule.resource, a));
            if resource_match {
                f.suppressed = Some(suppression.clone());
                break;
            }
        }
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
    use std::sync::Arc;

    use rdsguard_findings::{Finding, ResourceRef, Severity, Status};

    use super::{Evidence, Memo, apply_suppressions, glob_match};
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
                && ["rds_instance_encrypted_with_cmk", "rds_iam_delete_access"]
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
            "the two checks' findings about a DB share one reference"
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
