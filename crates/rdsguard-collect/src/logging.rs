//! CloudTrail, Security Hub and AWS Backup.
//!
//! CloudTrail is collected across regions at once: a multi-region trail shows up in every
//! region (shadow trails), but its status and event selectors are asked once, preferably in
//! its home region, and copied to every region that sees it. A per-trail failure is recorded
//! as a gap (resource = trail ARN) in every region that sees the trail.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_cloudtrail::types as ct;
use futures::future::join_all;
use rdsguard_model::{
    BackupData, CloudTrailData, Gap, ManagementEvents, SecurityHubData, Trail, ops,
};

use crate::call::{Ctx, Gaps, Scope};
use crate::clients::RegionClients;

/// GetTrailStatus.IsLogging and the management events of one trail, or why not.
type TrailDetails = (Result<bool, Gap>, Result<ManagementEvents, Gap>);

/// Trails of every region, in region order.
pub(crate) async fn collect_trails(
    ctx: &Ctx<'_>,
    rcs: &[RegionClients],
    gaps: &[Gaps],
) -> Vec<CloudTrailData> {
    let op = ops::CLOUDTRAIL_DESCRIBE_TRAILS;
    let listed: Vec<Vec<Trail>> = join_all(rcs.iter().zip(gaps).map(|(rc, g)| async move {
        let result = ctx
            .call(
                op,
                Scope::region(&rc.region),
                rc.cloudtrail
                    .describe_trails()
                    .include_shadow_trails(true)
                    .send(),
            )
            .await;
        g.ok(result)
            .map(|out| out.trail_list().iter().map(trail).collect())
            .unwrap_or_default()
    }))
    .await;

    // Which region's client asks about each trail: its home region when collected.
    let mut caller: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, trails) in listed.iter().enumerate() {
        for t in trails {
            let home = t
                .home_region
                .as_deref()
                .and_then(|h| rcs.iter().position(|rc| rc.region == h));
            caller
                .entry(t.trail_arn.as_str())
                .and_modify(|c| {
                    if let Some(h) = home {
                        *c = h;
                    }
                })
                .or_insert(home.unwrap_or(i));
        }
    }
    let details = join_all(caller.iter().map(|(arn, &i)| async move {
        let rc = &rcs[i];
        let scope = Scope::item(&rc.region, arn);
        let status = ctx.call(
            ops::CLOUDTRAIL_GET_TRAIL_STATUS,
            scope,
            rc.cloudtrail.get_trail_status().name(*arn).send(),
        );
        let selectors = ctx.call(
            ops::CLOUDTRAIL_GET_EVENT_SELECTORS,
            scope,
            rc.cloudtrail.get_event_selectors().trail_name(*arn).send(),
        );
        let (status, selectors) = futures::join!(status, selectors);
        let status = status.map(|s| s.is_logging().unwrap_or(false));
        let selectors =
            selectors.map(|s| management_events(s.event_selectors(), s.advanced_event_selectors()));
        (arn.to_string(), (status, selectors))
    }))
    .await;
    let details: BTreeMap<String, TrailDetails> = details.into_iter().collect();

    let mut out = Vec::with_capacity(listed.len());
    for ((mut trails, rc), g) in listed.into_iter().zip(rcs).zip(gaps) {
        for t in &mut trails {
            let Some((status, selectors)) = details.get(&t.trail_arn) else {
                continue;
            };
            let record = |gap: &Gap| {
                let mut gap = gap.clone();
                gap.region = Some(rc.region.clone());
                g.push(gap);
            };
            match status {
                Ok(logging) => t.is_logging = Some(*logging),
                Err(gap) => record(gap),
            }
            match selectors {
                Ok(m) => t.management_events = Some(m.clone()),
                Err(gap) => record(gap),
            }
        }
        ctx.progress.op_done(&op.to_string(), Some(&rc.region));
        out.push(CloudTrailData { trails });
    }
    out
}

fn trail(t: &ct::Trail) -> Trail {
    Trail {
        name: t.name().unwrap_or_default().to_string(),
        trail_arn: t.trail_arn().unwrap_or_default().to_string(),
        home_region: t.home_region().map(str::to_string),
        is_multi_region_trail: t.is_multi_region_trail().unwrap_or(false),
        is_organization_trail: t.is_organization_trail().unwrap_or(false),
        log_file_validation_enabled: t.log_file_validation_enabled().unwrap_or(false),
        kms_key_id: t.kms_key_id().map(str::to_string),
        s3_bucket_name: t.s3_bucket_name().map(str::to_string),
        cloud_watch_logs_log_group_arn: t.cloud_watch_logs_log_group_arn().map(str::to_string),
        include_global_service_events: t.include_global_service_events().unwrap_or(false),
        is_logging: None,
        management_events: None,
    }
}

/// Which management events a trail records, from basic or advanced event selectors.
///
/// Conservative by design (never falsely reassuring): an advanced selector counts only when it
/// selects the `Management` category and restricts nothing but `readOnly` and (with
/// `NotEquals`) `eventSource`; a selector limited to some sources, names or principals does
/// not count as recording management events. An event source is excluded when every
/// counting selector excludes it.
pub(crate) fn management_events(
    basic: &[ct::EventSelector],
    advanced: &[ct::AdvancedEventSelector],
) -> ManagementEvents {
    let mut out = ManagementEvents::default();
    let mut exclusions: Vec<BTreeSet<String>> = Vec::new();
    for s in basic {
        if !s.include_management_events().unwrap_or(true) {
            continue;
        }
        let rw = s.read_write_type().map(|t| t.as_str()).unwrap_or("All");
        out.write |= matches!(rw, "All" | "WriteOnly");
        out.read |= matches!(rw, "All" | "ReadOnly");
        exclusions.push(
            s.exclude_management_event_sources()
                .iter()
                .cloned()
                .collect(),
        );
    }
    'selectors: for s in advanced {
        let fields = s.field_selectors();
        let is_management = fields
            .iter()
            .any(|f| f.field() == "eventCategory" && f.equals().iter().any(|v| v == "Management"));
        if !is_management {
            continue;
        }
        let (mut read, mut write) = (true, true);
        let mut excluded = BTreeSet::new();
        for f in fields {
            let only_equals = f.starts_with().is_empty()
                && f.ends_with().is_empty()
                && f.not_starts_with().is_empty()
                && f.not_ends_with().is_empty();
            match f.field() {
                "eventCategory" => {}
                "readOnly" if only_equals && f.not_equals().is_empty() => {
                    let eq = f.equals();
                    if !eq.is_empty() {
                        read = eq.iter().any(|v| v == "true");
                        write = eq.iter().any(|v| v == "false");
                    }
                }
                "eventSource" if only_equals && f.equals().is_empty() => {
                    excluded.extend(f.not_equals().iter().cloned());
                }
                _ => continue 'selectors,
            }
        }
        out.read |= read;
        out.write |= write;
        exclusions.push(excluded);
    }
    if let Some((first, rest)) = exclusions.split_first() {
        let common = rest.iter().fold(first.clone(), |acc, e| {
            acc.intersection(e).cloned().collect()
        });
        out.excluded_event_sources = common.into_iter().collect();
    }
    out
}

/// Security Hub: "not subscribed" is a fact (disabled), not a gap.
pub(crate) async fn collect_securityhub(
    ctx: &Ctx<'_>,
    rc: &RegionClients,
    gaps: &Gaps,
) -> SecurityHubData {
    let region = rc.region.as_str();
    let op = ops::SECURITYHUB_DESCRIBE_HUB;
    let hub = ctx
        .call(
            op,
            Scope::region(region),
            rc.securityhub.describe_hub().send(),
        )
        .await;
    let mut out = SecurityHubData::default();
    match hub {
        Ok(h) => {
            out.enabled = Some(true);
            out.hub_arn = h.hub_arn().map(str::to_string);
            let std_op = ops::SECURITYHUB_GET_ENABLED_STANDARDS;
            let pages = ctx
                .pages(
                    std_op,
                    Scope::region(region),
                    rc.securityhub
                        .get_enabled_standards()
                        .max_results(100)
                        .into_paginator()
                        .send(),
                )
                .await;
            out.enabled_standards = gaps.ok(pages).map(|pages| {
                pages
                    .iter()
                    .flat_map(|p| p.standards_subscriptions())
                    .filter(|s| {
                        !matches!(
                            s.standards_status().map(|st| st.as_str()),
                            Some("DELETING" | "FAILED")
                        )
                    })
                    .filter_map(|s| s.standards_subscription_arn().map(str::to_string))
                    .collect()
            });
        }
        Err(gap) if is_not_subscribed(&gap) => {
            out.enabled = Some(false);
            out.enabled_standards = Some(Vec::new());
        }
        Err(gap) => gaps.push(gap),
    }
    ctx.progress.op_done(&op.to_string(), Some(region));
    out
}

/// Security Hub answers `InvalidAccessException` ("Account ... is not subscribed to AWS
/// Security Hub") when it is not enabled; some endpoints say `ResourceNotFoundException`.
fn is_not_subscribed(gap: &Gap) -> bool {
    match gap.error_code.as_deref() {
        Some("InvalidAccessException") => true,
        Some("ResourceNotFoundException") => gap.message.to_ascii_lowercase().contains("subscri"),
        _ => false,
    }
}

pub(crate) async fn collect_backup(ctx: &Ctx<'_>, rc: &RegionClients, gaps: &Gaps) -> BackupData {
    let region = rc.region.as_str();
    let op = ops::BACKUP_LIST_PROTECTED_RESOURCES;
    let pages = ctx
        .pages(
            op,
            Scope::region(region),
            rc.backup
                .list_protected_resources()
                .max_results(1000)
                .into_paginator()
                .send(),
        )
        .await;
    ctx.progress.op_done(&op.to_string(), Some(region));
    BackupData {
        protected_resource_arns: gaps.ok(pages).map(|pages| {
            pages
                .iter()
                .flat_map(|p| p.results())
                .filter_map(|r| r.resource_arn().map(str::to_string))
                .collect()
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(name: &str) -> ct::builders::AdvancedFieldSelectorBuilder {
        ct::AdvancedFieldSelector::builder().field(name)
    }

    fn advanced(fields: Vec<ct::AdvancedFieldSelector>) -> ct::AdvancedEventSelector {
        ct::AdvancedEventSelector::builder()
            .set_field_selectors(Some(fields))
            .build()
            .unwrap()
    }

    #[test]
    fn basic_selectors() {
        let all = ct::EventSelector::builder()
            .read_write_type(ct::ReadWriteType::All)
            .include_management_events(true)
            .exclude_management_event_sources("kms.amazonaws.com")
            .build();
        let m = management_events(&[all], &[]);
        assert!(m.read && m.write);
        assert_eq!(m.excluded_event_sources, vec!["kms.amazonaws.com"]);

        let read_only = ct::EventSelector::builder()
            .read_write_type(ct::ReadWriteType::ReadOnly)
            .build();
        let m = management_events(&[read_only], &[]);
        assert!(m.read && !m.write);

        let no_mgmt = ct::EventSelector::builder()
            .include_management_events(false)
            .build();
        assert_eq!(
            management_events(&[no_mgmt], &[]),
            ManagementEvents::default()
        );
        assert_eq!(management_events(&[], &[]), ManagementEvents::default());
    }

    #[test]
    fn advanced_selectors_count_only_unrestricted_management() {
        let cat = field("eventCategory").equals("Management").build().unwrap();
        let writes = field("readOnly").equals("false").build().unwrap();
        let not_kms = field("eventSource")
            .not_equals("kms.amazonaws.com")
            .build()
            .unwrap();
        let m = management_events(&[], &[advanced(vec![cat.clone(), writes.clone(), not_kms])]);
        assert!(m.write && !m.read);
        assert_eq!(m.excluded_event_sources, vec!["kms.amazonaws.com"]);

        // Only some sources: does not count.
        let only_s3 = field("eventSource")
            .equals("s3.amazonaws.com")
            .build()
            .unwrap();
        let m = management_events(&[], &[advanced(vec![cat.clone(), only_s3])]);
        assert_eq!(m, ManagementEvents::default());

        // Data events only: does not count.
        let data = field("eventCategory").equals("Data").build().unwrap();
        assert_eq!(
            management_events(&[], &[advanced(vec![data])]),
            ManagementEvents::default()
        );

        // All management events.
        let m = management_events(&[], &[advanced(vec![cat])]);
        assert!(m.read && m.write && m.excluded_event_sources.is_empty());
    }

    #[test]
    fn not_subscribed_is_recognised() {
        let g = Gap::new(
            ops::SECURITYHUB_DESCRIBE_HUB,
            Some("us-east-1"),
            rdsguard_model::GapKind::NotEnabled,
            "Account 123 is not subscribed to AWS Security Hub",
        )
        .with_error_code("InvalidAccessException");
        assert!(is_not_subscribed(&g));
        let denied = Gap::new(
            ops::SECURITYHUB_DESCRIBE_HUB,
            Some("us-east-1"),
            rdsguard_model::GapKind::AccessDenied,
            "denied",
        )
        .with_error_code("AccessDeniedException");
        assert!(!is_not_subscribed(&denied));
    }
}
