//! Regions: an empty account, several regions with a multi-region trail asked about once, and
//! every enabled region.

use aws_sdk_cloudtrail::types as ct;
use rdsguard_collect::{NoProgress, collect_with_sdk_config};
use rdsguard_model::{GapKind, ops};

use crate::proxy::Proxy;
use crate::support::*;

#[tokio::test(flavor = "multi_thread")]
async fn empty_account_is_collected_without_false_gaps() {
    let Some(ep) = endpoint() else { return };
    let account = fresh_account(40);
    let (snap, _) = crate::collect_account(&account, &ep, &ep).await;
    let a = &snap.accounts[0];
    assert_eq!(a.account_id, account);
    let iam = a.iam.as_ref().expect("IAM listed");
    assert!(iam.users.is_empty() && iam.roles.is_empty() && iam.policies.is_empty());
    let r = &a.regions[0];
    assert!(r.rds.db_instances.is_empty() && r.rds.db_snapshots.is_empty());
    assert!(r.ec2.vpcs.iter().all(|v| v.is_default) && r.ec2.vpcs.len() == 1);
    assert!(r.ec2.security_groups.iter().all(|g| g.is_default()));
    assert!(r.kms.keys.is_empty() && r.cloudtrail.trails.is_empty());
    // Security Hub not subscribed is a fact (disabled), not a gap.
    assert_eq!(r.securityhub.enabled, Some(false));
    assert_eq!(r.securityhub.enabled_standards, Some(Vec::new()));
    assert!(r.gap(ops::SECURITYHUB_DESCRIBE_HUB, None).is_none());
    // No engines in use: no engine version calls, so no gaps for them.
    assert!(r.gap(ops::RDS_DESCRIBE_DB_ENGINE_VERSIONS, None).is_none());
    let kinds: Vec<_> = r.gaps.iter().map(|g| (g.op_name(), g.kind)).collect();
    assert_eq!(
        kinds,
        vec![
            (
                "backup:ListProtectedResources".to_string(),
                GapKind::Unsupported
            ),
            ("rds:DescribeCertificates".to_string(), GapKind::Unsupported),
            ("rds:DescribeOptionGroups".to_string(), GapKind::Unsupported),
        ]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn multi_region_trail_is_asked_about_once() {
    let Some(ep) = endpoint() else { return };
    let account = fresh_account(41);
    let sdk = sdk_config(&account, &ep, Some(REGION)).await;
    // CreateTrail needs the bucket.
    crate::seed::create_bucket(&ep, &account, &format!("trail-{account}")).await;
    let trail = aws_sdk_cloudtrail::Client::new(&sdk);
    let arn = trail
        .create_trail()
        .name("org-wide")
        .s3_bucket_name(format!("trail-{account}"))
        .is_multi_region_trail(true)
        .send()
        .await
        .unwrap()
        .trail_arn()
        .unwrap()
        .to_string();
    trail.start_logging().name(&arn).send().await.unwrap();
    trail
        .put_event_selectors()
        .trail_name(&arn)
        .event_selectors(
            ct::EventSelector::builder()
                .read_write_type(ct::ReadWriteType::All)
                .include_management_events(true)
                .build(),
        )
        .send()
        .await
        .unwrap();

    let proxy = Proxy::start(&ep, None).await;
    let regions = [REGION, "eu-west-1"];
    let (snap, stats) = collect_with_sdk_config(&sdk, &options(&proxy.url, &regions), &NoProgress)
        .await
        .unwrap();
    assert_eq!(stats.regions, 2);
    let a = &snap.accounts[0];
    assert_eq!(
        a.regions
            .iter()
            .map(|r| r.region.as_str())
            .collect::<Vec<_>>(),
        regions
    );
    for r in &a.regions {
        let t = r
            .cloudtrail
            .trails
            .iter()
            .find(|t| t.trail_arn == arn)
            .unwrap_or_else(|| panic!("{} does not see the multi-region trail", r.region));
        assert_eq!(t.home_region.as_deref(), Some(REGION));
        assert_eq!(t.is_logging, Some(true), "{}", r.region);
        let m = t.management_events.as_ref().unwrap();
        assert!(m.read && m.write);
    }
    let log = proxy.log();
    let status_calls: Vec<_> = log
        .iter()
        .filter(|r| r.operation == "GetTrailStatus" || r.operation == "GetEventSelectors")
        .collect();
    assert_eq!(status_calls.len(), 2, "{status_calls:#?}");
    assert!(
        status_calls.iter().all(|r| r.region == REGION),
        "asked in the home region"
    );
    // Regional listings went to each region; global ones once.
    let count = |op: &str, region: &str| {
        log.iter()
            .filter(|r| r.operation == op && r.region == region)
            .count()
    };
    assert_eq!(count("DescribeDBInstances", "eu-west-1"), 1);
    assert_eq!(count("DescribeDBInstances", REGION), 1);
    assert_eq!(
        log.iter()
            .filter(|r| r.operation == "GetAccountAuthorizationDetails")
            .count(),
        1
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn all_regions_collects_every_enabled_region() {
    let Some(ep) = endpoint() else { return };
    let account = fresh_account(42);
    let sdk = sdk_config(&account, &ep, Some(REGION)).await;
    let listed: Vec<String> = aws_sdk_ec2::Client::new(&sdk)
        .describe_regions()
        .send()
        .await
        .unwrap()
        .regions()
        .iter()
        // Regions the account has not opted in to are not enabled.
        .filter(|r| r.opt_in_status() != Some("not-opted-in"))
        .filter_map(|r| r.region_name().map(str::to_string))
        .collect();
    assert!(listed.len() > 10, "{listed:?}");

    let mut opts = options(&ep, &[]);
    opts.all_regions = true;
    opts.concurrency = 32;
    let (snap, stats) = collect_with_sdk_config(&sdk, &opts, &NoProgress)
        .await
        .unwrap();
    let mut expected = listed.clone();
    expected.sort();
    let collected: Vec<&str> = snap.accounts[0]
        .regions
        .iter()
        .map(|r| r.region.as_str())
        .collect();
    assert_eq!(
        collected,
        expected.iter().map(String::as_str).collect::<Vec<_>>()
    );
    assert_eq!(snap.source.regions, expected);
    assert_eq!(stats.regions as usize, expected.len());
    for r in &snap.accounts[0].regions {
        assert!(
            r.ec2.vpcs.iter().any(|v| v.is_default),
            "default VPC of {}",
            r.region
        );
        assert!(
            r.gaps.iter().all(|g| g.kind == GapKind::Unsupported),
            "{}: {:#?}",
            r.region,
            r.gaps
        );
    }
}
