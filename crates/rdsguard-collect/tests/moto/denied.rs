//! Denied permissions: for every operation the collector makes, a proxy answers it with the
//! service's AccessDenied error; the collection must record the gap (kind AccessDenied) and no
//! check that depends on the operation may PASS on what it could not see.

use futures::StreamExt;
use rdsguard_collect::{CollectError, NoProgress, collect_with_sdk_config};
use rdsguard_findings::{Finding, Status};
use rdsguard_model::{Gap, GapKind, Op, Snapshot, ops};

use crate::proxy::{Fault, Proxy};
use crate::seeded;
use crate::support::*;

fn all_gaps(snap: &Snapshot) -> Vec<&Gap> {
    snap.accounts
        .iter()
        .flat_map(|a| a.gaps.iter().chain(a.regions.iter().flat_map(|r| &r.gaps)))
        .collect()
}

/// Does a PASS finding rest on data the denied call would have provided? Whole-operation
/// gaps: every finding of a dependent check. Per-item gaps: findings about the item, or that
/// mention it, or region-wide conclusions (they need every item).
fn relies_on(f: &Finding, gaps: &[&Gap]) -> bool {
    gaps.iter().any(|g| match &g.resource {
        None => true,
        Some(res) => {
            f.resource.id == *res
                || f.resource
                    .arn
                    .as_deref()
                    .is_some_and(|a| a.contains(res.as_str()))
                || f.resource.region.as_deref() == Some(f.resource.id.as_str())
                || f.message.contains(res.as_str())
                || serde_json::to_string(&f.evidence).is_ok_and(|e| e.contains(res.as_str()))
        }
    })
}

async fn deny_one(op: Op, moto: &str, account: &str) -> Result<(), String> {
    let proxy = Proxy::start(moto, Some(Fault::Deny(op))).await;
    let sdk = sdk_config(account, moto, Some(REGION)).await;
    let mut opts = options(&proxy.url, &[REGION]);
    // DescribeRegions is only called for --all-regions; denied, the requested region is
    // collected instead.
    opts.all_regions = op == ops::EC2_DESCRIBE_REGIONS;
    let (snap, _) = collect_with_sdk_config(&sdk, &opts, &NoProgress)
        .await
        .map_err(|e| format!("{op}: collection failed: {e}"))?;

    let denied_requests = proxy.log().iter().filter(|r| r.faulted).count();
    if denied_requests == 0 {
        return Err(format!(
            "{op} was never called: the scenario does not cover it"
        ));
    }
    let gaps: Vec<&Gap> = all_gaps(&snap)
        .into_iter()
        .filter(|g| g.service == op.service && g.operation == op.operation)
        .collect();
    if gaps.is_empty() {
        return Err(format!("{op} denied but no gap recorded"));
    }
    // One gap per denied request (moto unimplemented calls are not reached: denied first).
    if gaps.len() != denied_requests {
        return Err(format!(
            "{op}: {denied_requests} requests denied but {} gaps: {gaps:#?}",
            gaps.len()
        ));
    }
    for g in &gaps {
        if g.kind != GapKind::AccessDenied {
            return Err(format!("{op}: gap of kind {:?}: {g:#?}", g.kind));
        }
        let code = g.error_code.as_deref().unwrap_or_default();
        if !matches!(
            code,
            "AccessDenied" | "AccessDeniedException" | "UnauthorizedOperation"
        ) {
            return Err(format!("{op}: error code {code:?}"));
        }
        if !g.message.contains(op.operation) {
            return Err(format!("{op}: message {:?}", g.message));
        }
    }
    if op == ops::EC2_DESCRIBE_REGIONS {
        // The requested region was still collected.
        if snap.source.regions != vec![REGION.to_string()] {
            return Err(format!("{op}: regions {:?}", snap.source.regions));
        }
    }

    let findings = rdsguard_checks::evaluate(&snap, &rdsguard_checks::Config::default());
    for def in rdsguard_checks::check_defs() {
        if !def.depends_on.contains(&op) {
            continue;
        }
        for f in findings.iter().filter(|f| f.check_id == def.id) {
            if f.status == Status::Pass && relies_on(f, &gaps) {
                return Err(format!(
                    "{op} denied, yet {} PASSes on {}: {}",
                    def.id, f.resource.id, f.message
                ));
            }
        }
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn every_denied_operation_is_a_gap_and_never_a_pass() {
    let Some(ep) = endpoint() else { return };
    let s = seeded(&ep);
    let denied: Vec<Op> = ops::ALL
        .iter()
        .copied()
        .filter(|op| *op != ops::STS_GET_CALLER_IDENTITY)
        .collect();
    assert_eq!(denied.len(), ops::ALL.len() - 1);
    let failures: Vec<String> = futures::stream::iter(denied)
        .map(|op| {
            let (ep, account) = (ep.clone(), s.account.clone());
            async move { deny_one(op, &ep, &account).await }
        })
        .buffer_unordered(4)
        .filter_map(|r| async move { r.err() })
        .collect()
        .await;
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test(flavor = "multi_thread")]
async fn denied_caller_identity_is_a_clear_error() {
    let Some(ep) = endpoint() else { return };
    let account = fresh_account(20);
    let proxy = Proxy::start(&ep, Some(Fault::Deny(ops::STS_GET_CALLER_IDENTITY))).await;
    let sdk = sdk_config(&account, &ep, Some(REGION)).await;
    let err = collect_with_sdk_config(&sdk, &options(&proxy.url, &[REGION]), &NoProgress)
        .await
        .unwrap_err();
    assert!(
        matches!(err, CollectError::CallerIdentity { .. }),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.contains("GetCallerIdentity") && text.contains("AccessDenied"),
        "{text}"
    );
    // Nothing else was attempted.
    assert_eq!(proxy.log().len(), 1, "{:#?}", proxy.log());
}

#[tokio::test(flavor = "multi_thread")]
async fn throttling_past_the_retry_budget_is_a_throttled_gap() {
    let Some(ep) = endpoint() else { return };
    let account = fresh_account(21);
    let proxy = Proxy::start(&ep, Some(Fault::Throttle(ops::RDS_DESCRIBE_DB_INSTANCES))).await;
    let sdk = sdk_config(&account, &ep, Some(REGION)).await;
    let mut opts = options(&proxy.url, &[REGION]);
    opts.max_attempts = 2;
    let (snap, stats) = collect_with_sdk_config(&sdk, &opts, &NoProgress)
        .await
        .unwrap();
    let region = &snap.accounts[0].regions[0];
    let gap = region
        .listing_gap(ops::RDS_DESCRIBE_DB_INSTANCES)
        .expect("throttled listing is a gap");
    assert_eq!(gap.kind, GapKind::Throttled);
    assert_eq!(gap.error_code.as_deref(), Some("Throttling"));
    let throttled = proxy
        .log()
        .iter()
        .filter(|r| r.operation == "DescribeDBInstances")
        .count();
    assert_eq!(throttled, 2, "both attempts were made");
    assert_eq!(stats.http_attempts, stats.api_calls + 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_throttled_call_is_retried_and_succeeds() {
    let Some(ep) = endpoint() else { return };
    let account = fresh_account(22);
    let proxy = Proxy::start(
        &ep,
        Some(Fault::ThrottleOnce(ops::EC2_DESCRIBE_SECURITY_GROUPS)),
    )
    .await;
    let sdk = sdk_config(&account, &ep, Some(REGION)).await;
    let mut opts = options(&proxy.url, &[REGION]);
    opts.max_attempts = 3;
    let (snap, stats) = collect_with_sdk_config(&sdk, &opts, &NoProgress)
        .await
        .unwrap();
    let region = &snap.accounts[0].regions[0];
    assert!(
        region
            .listing_gap(ops::EC2_DESCRIBE_SECURITY_GROUPS)
            .is_none()
    );
    assert!(
        region.ec2.security_groups.iter().any(|g| g.is_default()),
        "the default VPC's group, after the retry"
    );
    assert_eq!(stats.http_attempts, stats.api_calls + 1, "{stats:?}");
}
