//! RDS event notification subscriptions (FSBP RDS.19-RDS.22): is someone told when a
//! database fails, changes configuration or enters maintenance?
//!
//! One result per region (resource type `AwsRdsEventSubscription`). Better than a search for
//! one matching subscription: categories may be split over several subscriptions, a
//! subscription limited to some source ids covers only those sources (the ones left out are
//! listed), and a disabled subscription or one whose SNS topic is gone (status other than
//! `active`) counts for nothing.

use std::collections::{BTreeMap, BTreeSet};

use rdsguard_findings::Severity;
use rdsguard_model::{EventSubscription, Op, ops};

use super::common::FastSet;
use super::common::region_resource;
use super::instance::Verdict;

use crate::engine::{CheckDef, Emitter, RegionCtx, Runner};
use crate::{evidence, msg};

pub static CHECKS: &[&CheckDef] = &[
    &RDS_EVENT_SUBSCRIPTION_CLUSTER,
    &RDS_EVENT_SUBSCRIPTION_INSTANCE,
    &RDS_EVENT_SUBSCRIPTION_PARAMETER_GROUP,
    &RDS_EVENT_SUBSCRIPTION_SECURITY_GROUP,
];

const EVENT_OPS: &[Op] = &[
    ops::RDS_DESCRIBE_EVENT_SUBSCRIPTIONS,
    ops::RDS_DESCRIBE_DB_INSTANCES,
    ops::RDS_DESCRIBE_DB_CLUSTERS,
];

/// What one FSBP control requires.
struct Requirement {
    /// RDS source type, e.g. `db-instance`.
    source_type: &'static str,
    /// Event categories that must be delivered (an empty subscription list means all).
    categories: &'static [&'static str],
}

/// Which sources must be covered. `Err`: the region has nothing the requirement applies to
/// (NOT_APPLICABLE, with the reason). An empty list means "every source of the type", which
/// only a subscription without source ids covers.
type Scope<'a> = Result<Vec<&'a str>, String>;

/// Whether a subscription can deliver anything.
fn is_live(s: &EventSubscription) -> bool {
    s.enabled && s.status.as_deref().is_none_or(|st| st == "active")
}

fn region_has_databases(ctx: &RegionCtx<'_>) -> bool {
    !ctx.region.rds.db_instances.is_empty() || !ctx.region.rds.db_clusters.is_empty()
}

/// Judge the region's subscriptions against `req` for the sources in `scope`.
fn judge(ctx: &RegionCtx<'_>, req: &Requirement, scope: Scope<'_>) -> Verdict {
    let sources = match scope {
        Ok(s) => s,
        Err(why) => return Verdict::NotApplicable(why),
    };
    let relevant: Vec<&EventSubscription> = ctx
        .region
        .rds
        .event_subscriptions
        .iter()
        .filter(|s| {
            s.source_type
                .as_deref()
                .is_none_or(|t| t == req.source_type || t == "all")
        })
        .collect();
    let live: Vec<&EventSubscription> = relevant.iter().copied().filter(|s| is_live(s)).collect();
    let ignored: Vec<String> = relevant
        .iter()
        .filter(|s| !is_live(s))
        .map(|s| {
            format!(
                "{} (enabled={}, status={})",
                s.name,
                s.enabled,
                s.status.as_deref().unwrap_or("unknown")
            )
        })
        .collect();

    // For each source (or "*" for "every source of the type"), the categories delivered.
    let targets: Vec<&str> = if sources.is_empty() {
        vec!["*"]
    } else {
        sources.clone()
    };
    let mut missing: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let mut used: BTreeSet<&str> = BTreeSet::new();
    // Source ids per live subscription as sets: a subscription may list every database of
    // the region, and every target is looked up in it.
    let source_ids: Vec<FastSet<&str>> = live
        .iter()
        .map(|s| s.source_ids.iter().map(String::as_str).collect())
        .collect();
    for target in &targets {
        let mut all = false;
        let mut delivered: BTreeSet<String> = BTreeSet::new();
        for (s, ids) in live.iter().zip(&source_ids) {
            let covers = ids.is_empty() || ids.contains(target);
            if !covers {
                continue;
            }
            used.insert(s.name.as_str());
            if s.event_categories.is_empty() {
                all = true;
            }
            delivered.extend(s.event_categories.iter().map(|c| c.to_ascii_lowercase()));
        }
        let lacking: Vec<&str> = req
            .categories
            .iter()
            .copied()
            .filter(|c| !all && !delivered.contains(*c))
            .collect();
        if !lacking.is_empty() {
            missing.insert(target, lacking);
        }
    }

    let ev = evidence! {
        "source_type" => req.source_type,
        "required_categories" => req.categories,
        "sources_in_scope" => sources,
        "subscriptions_used" => used,
        "subscriptions_ignored" => ignored,
        "missing_categories" => missing,
    };
    let region = &ctx.region.region;
    if missing.is_empty() {
        return Verdict::Pass(
            msg!(
                "{} events ({}) in {region} are delivered by {}",
                req.source_type,
                req.categories.join(", "),
                used.iter().copied().collect::<Vec<_>>().join(", ")
            ),
            ev,
        );
    }
    let msg = if live.is_empty() {
        format!(
            "no enabled event subscription in {region} delivers {} events ({})",
            req.source_type,
            req.categories.join(", ")
        )
    } else {
        let gaps: Vec<String> = missing
            .iter()
            .map(|(src, cats)| {
                let who = if *src == "*" {
                    "all sources".to_string()
                } else {
                    (*src).to_string()
                };
                format!("{who}: {}", cats.join(", "))
            })
            .collect();
        format!(
            "{} event subscriptions in {region} miss some sources or categories ({})",
            req.source_type,
            gaps.join("; ")
        )
    };
    Verdict::Fail(msg, ev)
}

/// `names` each once, sorted: a few names repeated by every database of the region are hashed
/// once each rather than compared in a sorted set's search.
fn distinct_sorted<'a>(names: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut seen: FastSet<&str> = FastSet::default();
    let mut out: Vec<&str> = names.filter(|n| seen.insert(n)).collect();
    out.sort_unstable();
    out
}

fn emit(ctx: &RegionCtx<'_>, em: &mut Emitter<'_>, req: &Requirement, scope: Scope<'_>) {
    judge(ctx, req, scope).emit(em, region_resource(ctx, "AwsRdsEventSubscription"));
}

// ---------------------------------------------------------------------------------------------

pub static RDS_EVENT_SUBSCRIPTION_CLUSTER: CheckDef = CheckDef {
    id: "rds_event_subscription_cluster",
    title: "RDS event subscription notifies critical DB cluster events",
    severity: Severity::Low,
    resource_type: "AwsRdsEventSubscription",
    description: "In each region with DB clusters, checks that enabled, active event \
                  subscriptions for source type db-cluster (or all types) deliver the failure \
                  and maintenance categories (an empty category list means all) for every \
                  cluster; subscriptions limited to some clusters cover only those. Regions \
                  without clusters are not applicable.",
    rationale: "Without notifications, failovers, failures and forced maintenance go unnoticed \
                until users report an outage.",
    remediation: "`aws rds create-event-subscription --subscription-name <name> \
                  --sns-topic-arn <topic-arn> --source-type db-cluster --event-categories \
                  failure maintenance --enabled` (console: RDS, Event subscriptions, Create).",
    cis: &[],
    fsbp: &["RDS.19"],
    depends_on: EVENT_OPS,
    run: Runner::Region(cluster_subscription),
};

fn cluster_subscription(ctx: &RegionCtx<'_>, em: &mut Emitter<'_>) {
    let clusters: Vec<&str> = ctx
        .region
        .rds
        .db_clusters
        .iter()
        .map(|c| c.db_cluster_identifier.as_str())
        .collect();
    let scope = if clusters.is_empty() {
        Err(format!("no DB clusters in {}", ctx.region.region))
    } else {
        Ok(clusters)
    };
    let req = Requirement {
        source_type: "db-cluster",
        categories: &["failure", "maintenance"],
    };
    emit(ctx, em, &req, scope);
}

// ---------------------------------------------------------------------------------------------

pub static RDS_EVENT_SUBSCRIPTION_INSTANCE: CheckDef = CheckDef {
    id: "rds_event_subscription_instance",
    title: "RDS event subscription notifies critical DB instance events",
    severity: Severity::Low,
    resource_type: "AwsRdsEventSubscription",
    description: "In each region with DB instances, checks that enabled, active event \
                  subscriptions for source type db-instance (or all types) deliver the \
                  maintenance, configuration change and failure categories (an empty category \
                  list means all) for every instance; subscriptions limited to some instances \
                  cover only those. Regions without instances are not applicable.",
    rationale: "Configuration changes (public access, backups, parameter groups) and failures \
                must reach a person or an automation; otherwise an unauthorised change or an \
                outage goes unnoticed.",
    remediation: "`aws rds create-event-subscription --subscription-name <name> \
                  --sns-topic-arn <topic-arn> --source-type db-instance --event-categories \
                  maintenance \"configuration change\" failure --enabled`.",
    cis: &[],
    fsbp: &["RDS.20"],
    depends_on: EVENT_OPS,
    run: Runner::Region(instance_subscription),
};

fn instance_subscription(ctx: &RegionCtx<'_>, em: &mut Emitter<'_>) {
    let instances: Vec<&str> = ctx
        .region
        .rds
        .db_instances
        .iter()
        .map(|d| d.db_instance_identifier.as_str())
        .collect();
    let scope = if instances.is_empty() {
        Err(format!("no DB instances in {}", ctx.region.region))
    } else {
        Ok(instances)
    };
    let req = Requirement {
        source_type: "db-instance",
        categories: &["maintenance", "configuration change", "failure"],
    };
    emit(ctx, em, &req, scope);
}

// ---------------------------------------------------------------------------------------------

pub static RDS_EVENT_SUBSCRIPTION_PARAMETER_GROUP: CheckDef = CheckDef {
    id: "rds_event_subscription_parameter_group",
    title: "RDS event subscription notifies DB parameter group changes",
    severity: Severity::Low,
    resource_type: "AwsRdsEventSubscription",
    description: "In each region with databases, checks that enabled, active event \
                  subscriptions for source type db-parameter-group (or all types) deliver the \
                  configuration change category for every parameter group the instances use \
                  (or for all groups). Regions without databases are not applicable.",
    rationale: "Parameter groups hold TLS enforcement and audit logging settings; a change \
                that turns them off should be noticed at once.",
    remediation: "`aws rds create-event-subscription --subscription-name <name> \
                  --sns-topic-arn <topic-arn> --source-type db-parameter-group \
                  --event-categories \"configuration change\" --enabled`.",
    cis: &[],
    fsbp: &["RDS.21"],
    depends_on: EVENT_OPS,
    run: Runner::Region(parameter_group_subscription),
};

fn parameter_group_subscription(ctx: &RegionCtx<'_>, em: &mut Emitter<'_>) {
    let in_use = distinct_sorted(
        ctx.region
            .rds
            .db_instances
            .iter()
            .flat_map(|d| d.db_parameter_groups.iter().map(|g| g.name.as_str())),
    );
    let scope = if region_has_databases(ctx) {
        Ok(in_use)
    } else {
        Err(format!(
            "no DB instances or clusters in {}",
            ctx.region.region
        ))
    };
    let req = Requirement {
        source_type: "db-parameter-group",
        categories: &["configuration change"],
    };
    emit(ctx, em, &req, scope);
}

// ---------------------------------------------------------------------------------------------

pub static RDS_EVENT_SUBSCRIPTION_SECURITY_GROUP: CheckDef = CheckDef {
    id: "rds_event_subscription_security_group",
    title: "RDS event subscription notifies DB security group events",
    severity: Severity::Low,
    resource_type: "AwsRdsEventSubscription",
    description: "In each region with databases, checks that enabled, active event \
                  subscriptions for source type db-security-group (or all types) deliver the \
                  configuration change and failure categories for every DB security group in \
                  use (or for all groups). DB security groups belong to EC2-Classic; FSBP \
                  RDS.22 still requires the subscription. Regions without databases are not \
                  applicable.",
    rationale: "Changes to the groups that decide who reaches a database should be noticed at \
                once.",
    remediation: "`aws rds create-event-subscription --subscription-name <name> \
                  --sns-topic-arn <topic-arn> --source-type db-security-group \
                  --event-categories \"configuration change\" failure --enabled`.",
    cis: &[],
    fsbp: &["RDS.22"],
    depends_on: EVENT_OPS,
    run: Runner::Region(security_group_subscription),
};

fn security_group_subscription(ctx: &RegionCtx<'_>, em: &mut Emitter<'_>) {
    let in_use = distinct_sorted(
        ctx.region
            .rds
            .db_instances
            .iter()
            .flat_map(|d| d.db_security_groups.iter().map(String::as_str)),
    );
    let scope = if region_has_databases(ctx) {
        Ok(in_use)
    } else {
        Err(format!(
            "no DB instances or clusters in {}",
            ctx.region.region
        ))
    };
    let req = Requirement {
        source_type: "db-security-group",
        categories: &["configuration change", "failure"],
    };
    emit(ctx, em, &req, scope);
}

#[cfg(test)]
mod tests {
    use rdsguard_findings::{Finding, Status};
    use rdsguard_model::{GroupMembership, RegionSnapshot};

    use super::super::instance::fixtures::*;
    use super::*;
    use crate::testkit::{REGION, region, run, snapshot};

    fn sub(name: &str, source_type: Option<&str>, categories: &[&str]) -> EventSubscription {
        EventSubscription {
            name: name.into(),
            sns_topic_arn: Some("arn:aws:sns:us-east-1:111122223333:ops".into()),
            source_type: source_type.map(str::to_string),
            event_categories: categories.iter().map(|c| c.to_string()).collect(),
            enabled: true,
            status: Some("active".into()),
            ..Default::default()
        }
    }

    fn one(def: &CheckDef, r: RegionSnapshot) -> Finding {
        let f = run(def, &snapshot(r, None));
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].resource.resource_type, "AwsRdsEventSubscription");
        assert_eq!(f[0].resource.region.as_deref(), Some(REGION));
        f[0].clone()
    }

    fn with_databases() -> RegionSnapshot {
        let mut r = region();
        let mut db = instance("db1", "postgres");
        db.db_parameter_groups = vec![GroupMembership {
            name: "pg-custom".into(),
            status: "in-sync".into(),
        }];
        r.rds.db_instances.push(db);
        r.rds.db_instances.push(instance("db2", "postgres"));
        r.rds.db_clusters.push(cluster("c1", "aurora-mysql", &[]));
        r
    }

    #[test]
    fn no_databases_is_not_applicable() {
        for def in CHECKS {
            assert_eq!(
                one(def, region()).status,
                Status::NotApplicable,
                "{}",
                def.id
            );
        }
    }

    #[test]
    fn no_subscription_fails() {
        for def in CHECKS {
            let f = one(def, with_databases());
            assert_eq!(f.status, Status::Fail, "{}", def.id);
            assert_eq!(f.resource.id, REGION);
            assert!(
                f.message.contains("no enabled event subscription"),
                "{}",
                f.message
            );
        }
    }

    #[test]
    fn all_categories_all_types_passes_everything() {
        for def in CHECKS {
            let mut r = with_databases();
            r.rds.event_subscriptions = vec![sub("everything", None, &[])];
            assert_eq!(one(def, r).status, Status::Pass, "{}", def.id);
        }
    }

    #[test]
    fn listing_gaps_are_not_assessed() {
        for def in CHECKS {
            for op in def.depends_on {
                let mut r = with_databases();
                r.gaps.push(listing_gap(*op));
                assert_eq!(one(def, r).status, Status::NotAssessed, "{} {op}", def.id);
            }
        }
    }

    #[test]
    fn categories_may_be_split_across_subscriptions() {
        let mut r = with_databases();
        r.rds.event_subscriptions = vec![
            sub("maint", Some("db-instance"), &["maintenance"]),
            sub(
                "rest",
                Some("db-instance"),
                &["Failure", "configuration change"],
            ),
        ];
        let f = one(&RDS_EVENT_SUBSCRIPTION_INSTANCE, r);
        assert_eq!(f.status, Status::Pass);
        assert_eq!(
            f.evidence["subscriptions_used"],
            serde_json::json!(["maint", "rest"])
        );
    }

    #[test]
    fn missing_category_fails_and_names_it() {
        let mut r = with_databases();
        r.rds.event_subscriptions = vec![sub("c", Some("db-cluster"), &["failure"])];
        let f = one(&RDS_EVENT_SUBSCRIPTION_CLUSTER, r);
        assert_eq!(f.status, Status::Fail);
        assert!(f.message.contains("c1: maintenance"), "{}", f.message);
    }

    #[test]
    fn disabled_or_broken_subscriptions_do_not_count() {
        let mut r = with_databases();
        let mut off = sub("off", Some("db-cluster"), &[]);
        off.enabled = false;
        let mut broken = sub("broken", Some("db-cluster"), &[]);
        broken.status = Some("topic-not-exist".into());
        r.rds.event_subscriptions = vec![off, broken];
        let f = one(&RDS_EVENT_SUBSCRIPTION_CLUSTER, r);
        assert_eq!(f.status, Status::Fail);
        assert_eq!(
            f.evidence["subscriptions_ignored"]
                .as_array()
                .unwrap()
                .len(),
            2
        );
    }

    #[test]
    fn source_ids_cover_only_the_listed_sources() {
        let mut r = with_databases();
        let mut partial = sub("partial", Some("db-instance"), &[]);
        partial.source_ids = vec!["db1".into()];
        r.rds.event_subscriptions = vec![partial];
        let f = one(&RDS_EVENT_SUBSCRIPTION_INSTANCE, r.clone());
        assert_eq!(f.status, Status::Fail);
        assert!(f.message.contains("db2"), "{}", f.message);
        assert!(
            !f.evidence["missing_categories"]
                .as_object()
                .unwrap()
                .contains_key("db1")
        );
        r.rds.event_subscriptions[0].source_ids.push("db2".into());
        assert_eq!(
            one(&RDS_EVENT_SUBSCRIPTION_INSTANCE, r).status,
            Status::Pass
        );
    }

    #[test]
    fn parameter_group_scope_is_the_groups_in_use() {
        let mut r = with_databases();
        let mut s = sub("pg", Some("db-parameter-group"), &["configuration change"]);
        s.source_ids = vec!["pg-custom".into()];
        r.rds.event_subscriptions = vec![s];
        assert_eq!(
            one(&RDS_EVENT_SUBSCRIPTION_PARAMETER_GROUP, r).status,
            Status::Pass
        );
    }

    #[test]
    fn security_group_needs_an_all_sources_subscription_when_none_in_use() {
        let mut r = with_databases();
        let mut limited = sub("sg", Some("db-security-group"), &[]);
        limited.source_ids = vec!["legacy".into()];
        r.rds.event_subscriptions = vec![limited];
        let f = one(&RDS_EVENT_SUBSCRIPTION_SECURITY_GROUP, r.clone());
        assert_eq!(f.status, Status::Fail);
        assert!(f.message.contains("all sources"), "{}", f.message);
        r.rds.event_subscriptions = vec![sub(
            "sg",
            Some("db-security-group"),
            &["configuration change", "failure"],
        )];
        assert_eq!(
            one(&RDS_EVENT_SUBSCRIPTION_SECURITY_GROUP, r).status,
            Status::Pass
        );
    }

    #[test]
    fn instance_subscription_does_not_cover_clusters() {
        let mut r = with_databases();
        r.rds.event_subscriptions = vec![sub("inst", Some("db-instance"), &[])];
        assert_eq!(one(&RDS_EVENT_SUBSCRIPTION_CLUSTER, r).status, Status::Fail);
    }

    #[test]
    fn cluster_check_not_applicable_without_clusters() {
        let mut r = region();
        r.rds.db_instances.push(instance("db", "mysql"));
        assert_eq!(
            one(&RDS_EVENT_SUBSCRIPTION_CLUSTER, r.clone()).status,
            Status::NotApplicable
        );
        assert_eq!(
            one(&RDS_EVENT_SUBSCRIPTION_INSTANCE, r).status,
            Status::Fail
        );
    }
}
