//! The check engine: runs check definitions over a snapshot and applies suppressions.

use std::any::{Any, TypeId};
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

use rdsguard_findings::{
    CheckMetadata, Compliance, Finding, ResourceRef, Severity, Status, Suppression,
};
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
        resource: ResourceRef,
        message: impl Into<String>,
        evidence: BTreeMap<String, serde_json::Value>,
    ) {
        self.out.push(Finding {
            check_id: self.def.id.to_string(),
            title: self.def.title.to_string(),
            severity: self.def.severity,
            status,
            resource,
            message: message.into(),
            evidence,
            suppressed: None,
        });
    }

    pub fn pass(
        &mut self,
        resource: ResourceRef,
        message: impl Into<String>,
        evidence: BTreeMap<String, serde_json::Value>,
    ) {
        self.emit(Status::Pass, resource, message, evidence)
    }

    pub fn fail(
        &mut self,
        resource: ResourceRef,
        message: impl Into<String>,
        evidence: BTreeMap<String, serde_json::Value>,
    ) {
        self.emit(Status::Fail, resource, message, evidence)
    }

    /// A failure graded at a severity other than the check's default.
    pub fn fail_with_severity(
        &mut self,
        severity: Severity,
        resource: ResourceRef,
        message: impl Into<String>,
        evidence: BTreeMap<String, serde_json::Value>,
    ) {
        self.emit(Status::Fail, resource, message, evidence);
        if let Some(last) = self.out.last_mut() {
            last.severity = severity;
        }
    }

    pub fn not_assessed(&mut self, resource: ResourceRef, reason: impl Into<String>) {
        self.emit(Status::NotAssessed, resource, reason, BTreeMap::new())
    }

    pub fn not_applicable(&mut self, resource: ResourceRef, reason: impl Into<String>) {
        self.emit(Status::NotApplicable, resource, reason, BTreeMap::new())
    }
}

/// Build an evidence map: `evidence!{"storage_encrypted" => db.storage_encrypted, ...}`.
#[macro_export]
macro_rules! evidence {
    () => { ::std::collections::BTreeMap::<String, ::serde_json::Value>::new() };
    ($($k:expr => $v:expr),+ $(,)?) => {{
        let mut m = ::std::collections::BTreeMap::<String, ::serde_json::Value>::new();
        $( m.insert(($k).to_string(), ::serde_json::json!($v)); )+
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
#[derive(Default)]
pub struct Memo {
    slots: RefCell<HashMap<TypeId, Rc<dyn Any>>>,
}

impl Memo {
    /// The value of type `T`, computed by `init` the first time it is asked for.
    pub fn get_or_init<T: 'static>(&self, init: impl FnOnce() -> T) -> Rc<T> {
        let key = TypeId::of::<T>();
        if let Some(v) = self.slots.borrow().get(&key).cloned()
            && let Ok(v) = v.downcast::<T>()
        {
            return v;
        }
        // Computed outside the borrow so `init` may itself use the memo.
        let value = Rc::new(init());
        self.slots.borrow_mut().insert(key, value.clone());
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
pub fn apply_suppressions(findings: &mut [Finding], config: &Config, now: OffsetDateTime) {
    if config.suppressions.is_empty() {
        return;
    }
    let today = now.date();
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    for f in findings.iter_mut() {
        for rule in &config.suppressions {
            let expired = rule
                .expires
                .as_deref()
                .and_then(|e| time::Date::parse(e, &fmt).ok())
                .is_some_and(|d| d < today);
            if expired {
                continue;
            }
            let resource_match = glob_match(&rule.resource, &f.resource.id)
                || f.resource
                    .arn
                    .as_deref()
                    .is_some_and(|a| glob_match(&rule.resource, a));
            if glob_match(&rule.check, &f.check_id) && resource_match {
                f.suppressed = Some(Suppression {
                    reason: rule.reason.clone(),
                    expires: rule.expires.clone(),
                });
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
    use super::{Memo, glob_match};

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
