//! Collects an rdsguard [`Snapshot`] from a live AWS account (or any endpoint that speaks the
//! AWS APIs, such as an emulator) through the AWS SDK for Rust.
//!
//! Collection never lies: every call that fails becomes a [`Gap`] in the snapshot (access
//! denied, throttled, region disabled, unsupported, not enabled, other error), so analysis can
//! say "not assessed" instead of mistaking missing data for an empty list. Only problems that
//! make the whole collection meaningless are errors ([`CollectError`]): no region, no usable
//! credentials (STS GetCallerIdentity failing), invalid options.
//!
//! Collection is fast: one semaphore bounds the requests in flight across every region and
//! service, all listings of all regions start at once, per-item calls (snapshot attributes,
//! parameters, key details, trail status) follow as soon as their listing is in, nothing is
//! requested twice, and the SDK retries throttled calls with adaptive backoff.

mod call;
mod clients;
mod ec2;
mod iam;
mod kms;
mod logging;
mod org;
mod rds;
mod s3_trail;
mod securityhub_import;
mod util;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use aws_smithy_types::date_time::{DateTime, Format};
use aws_types::SdkConfig;
use rdsguard_model::{AccountSnapshot, RegionSnapshot, Snapshot, SnapshotSource};

use crate::call::{Ctx, Gaps, Scope};
use crate::clients::{Clients, RegionClients};

pub use org::{
    DEFAULT_ROLE_NAME, OrgOptions, Shard, collect_organization,
    collect_organization_with_sdk_config,
};
pub use rdsguard_model::ops;
pub use s3_trail::{parse_s3_uri, scan_s3, scan_s3_with_sdk_config};
pub use securityhub_import::{
    FailedFinding, INVALID_FINDING, ImportSummary, default_region, import_findings,
    import_findings_with_sdk_config,
};

/// What to collect and how.
#[derive(Debug, Clone)]
pub struct CollectOptions {
    /// Named profile from the shared AWS config files (`--profile`); `None` = the default
    /// credential chain (environment, default profile, SSO, web identity, IMDS...).
    pub profile: Option<String>,
    /// Regions to collect (`--region`, repeatable); empty = the profile's / environment's region.
    pub regions: Vec<String>,
    /// Collect every region enabled for the account (EC2 DescribeRegions, asked in the first
    /// of `regions` or the profile's region). If the regions cannot be listed, a gap is
    /// recorded and `regions` (or the profile's region) are collected instead.
    pub all_regions: bool,
    /// Custom endpoint for every service (`--endpoint-url`), for emulators and compatible
    /// endpoints.
    pub endpoint_url: Option<String>,
    /// Maximum requests in flight, across all regions and services.
    pub concurrency: usize,
    /// SDK attempts per request (adaptive retry mode); 1 disables retries.
    pub max_attempts: u32,
}

impl Default for CollectOptions {
    fn default() -> Self {
        CollectOptions {
            profile: None,
            regions: Vec::new(),
            all_regions: false,
            endpoint_url: None,
            concurrency: 16,
            max_attempts: 5,
        }
    }
}

/// Progress reporting, for a progress bar.
///
/// `start` announces the number of units of work (one unit = one listing operation in one
/// region, such as `rds:DescribeDBSnapshots` in `eu-west-1`, or one global operation);
/// `op_done` is called once per unit when the listing and its per-item calls are done.
pub trait Progress: Send + Sync {
    fn start(&self, total_hint: u64);
    fn op_done(&self, op: &str, region: Option<&str>);
    fn message(&self, msg: &str);
    fn finish(&self);
    /// Organization scans: `total` accounts will be collected.
    fn accounts_start(&self, _total: u64) {}
    /// Organization scans: one account is done; `failed` when it could not be assessed at all
    /// (role not assumable, collection failed or timed out).
    fn account_done(&self, _account_id: &str, _failed: bool) {}
}

/// A [`Progress`] that reports nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn start(&self, _total_hint: u64) {}
    fn op_done(&self, _op: &str, _region: Option<&str>) {}
    fn message(&self, _msg: &str) {}
    fn finish(&self) {}
}

/// Problems that make collection impossible. Everything else is a [`Gap`] in the snapshot.
#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    #[error(
        "no AWS region: pass --region (or --all-regions with a home region), set AWS_REGION, \
         or set `region` in the profile"
    )]
    NoRegion,
    #[error(
        "no usable AWS credentials ({detail}): set AWS_PROFILE or pass --profile, run \
         `aws sso login` for IAM Identity Center profiles, or export AWS_ACCESS_KEY_ID and \
         AWS_SECRET_ACCESS_KEY"
    )]
    NoCredentials { detail: String },
    #[error(
        "cannot identify the AWS account: sts:GetCallerIdentity failed ({detail}); check that \
         the credentials are valid and not expired, and that --endpoint-url (if any) is right"
    )]
    CallerIdentity { detail: String },
    #[error("invalid collection option: {0}")]
    InvalidOption(String),
    #[error(
        "the account of these credentials is not in an AWS Organization \
         (AWSOrganizationsNotInUseException): run --org with credentials of the management \
         account or of a delegated administrator, or drop --org"
    )]
    NotInOrganization,
    #[error(
        "cannot list the organization's accounts ({detail}): run --org with credentials of the \
         management account or of a delegated administrator (organizations:ListAccounts), or \
         name the accounts with --accounts"
    )]
    OrganizationAccounts { detail: String },
}

/// What a collection run cost.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CollectStats {
    /// Requests the collector made (each page of a listing counts once).
    pub api_calls: u64,
    /// HTTP attempts sent, retries included (>= `api_calls` minus requests that never left).
    pub http_attempts: u64,
    /// Failed calls recorded as gaps, per account and region.
    pub gaps: u64,
    /// Regions collected.
    pub regions: u64,
    pub elapsed: Duration,
}

/// Collect a snapshot of the account the credentials belong to.
pub async fn collect(
    opts: &CollectOptions,
    progress: &dyn Progress,
) -> Result<Snapshot, CollectError> {
    collect_with_stats(opts, progress).await.map(|(s, _)| s)
}

/// [`collect`], also returning what it cost.
pub async fn collect_with_stats(
    opts: &CollectOptions,
    progress: &dyn Progress,
) -> Result<(Snapshot, CollectStats), CollectError> {
    validate(opts)?;
    let base = clients::load_sdk_config(opts).await;
    collect_with_sdk_config(&base, opts, progress).await
}

/// [`collect_with_stats`] with credentials and region taken from `base` instead of the
/// standard chain (`opts.profile` is ignored): for callers that already hold credentials, such
/// as a role assumed in each account of an organization. The retry policy and the custom
/// endpoint of `opts` are applied on top of `base`.
pub async fn collect_with_sdk_config(
    base: &SdkConfig,
    opts: &CollectOptions,
    progress: &dyn Progress,
) -> Result<(Snapshot, CollectStats), CollectError> {
    let started = Instant::now();
    validate(opts)?;
    let collected_at = DateTime::from(std::time::SystemTime::now())
        .fmt(Format::DateTime)
        .unwrap_or_default();

    let attempts = Arc::new(AtomicU64::new(0));
    let clients = Clients::new(base, opts, attempts.clone())?;
    let ctx = Ctx::new(opts.concurrency, progress);
    let account = collect_account(&ctx, &clients, opts).await?;
    let gap_count = account_gap_count(&account);
    let regions: Vec<String> = account.regions.iter().map(|r| r.region.clone()).collect();

    let mut snapshot = Snapshot::new(
        SnapshotSource {
            kind: "live".into(),
            endpoint_url: opts.endpoint_url.clone(),
            regions: regions.clone(),
        },
        collected_at,
    );
    snapshot.accounts.push(account);
    progress.finish();

    let stats = CollectStats {
        api_calls: ctx.api_calls.load(Ordering::Relaxed),
        http_attempts: attempts.load(Ordering::Relaxed),
        gaps: gap_count,
        regions: regions.len() as u64,
        elapsed: started.elapsed(),
    };
    Ok((snapshot, stats))
}

/// Gaps of an account, global and regional.
pub(crate) fn account_gap_count(account: &AccountSnapshot) -> u64 {
    account.gaps.len() as u64
        + account
            .regions
            .iter()
            .map(|r| r.gaps.len() as u64)
            .sum::<u64>()
}

/// Collect the account `clients` act in, through the shared `ctx` (its semaphore bounds the
/// requests of every account collected at the same time).
pub(crate) async fn collect_account(
    ctx: &Ctx<'_>,
    clients: &Clients,
    opts: &CollectOptions,
) -> Result<AccountSnapshot, CollectError> {
    let progress = ctx.progress;
    let (account_id, partition) = identify(ctx, clients).await?;

    let account_gaps = Gaps::default();
    let regions = resolve_regions(ctx, opts, clients, &account_gaps).await;
    let region_clients: Vec<RegionClients> =
        regions.iter().map(|r| clients.for_region(r)).collect();

    let global_units = if opts.all_regions { 3 } else { 2 };
    progress.start(global_units + regions.len() as u64 * REGION_UNITS);
    progress.op_done(&ops::STS_GET_CALLER_IDENTITY.to_string(), None);
    if opts.all_regions {
        progress.op_done(&ops::EC2_DESCRIBE_REGIONS.to_string(), None);
    }
    progress.message(&format!(
        "collecting account {account_id} in {} region(s)",
        regions.len()
    ));

    let region_gaps: Vec<Gaps> = regions.iter().map(|_| Gaps::default()).collect();
    let region_futures = region_clients
        .iter()
        .zip(&region_gaps)
        .map(|(rc, gaps)| collect_region(ctx, rc, gaps));
    let (iam, region_data, trails) = futures::join!(
        iam::collect(ctx, &clients.iam, &account_gaps),
        futures::future::join_all(region_futures),
        logging::collect_trails(ctx, &region_clients, &region_gaps),
    );

    let mut region_snapshots = Vec::with_capacity(regions.len());
    for ((mut snap, trail_data), gaps) in region_data.into_iter().zip(trails).zip(region_gaps) {
        snap.cloudtrail = trail_data;
        snap.gaps = gaps.into_sorted();
        region_snapshots.push(snap);
    }
    Ok(AccountSnapshot {
        account_id,
        partition,
        iam,
        regions: region_snapshots,
        gaps: account_gaps.into_sorted(),
        ..Default::default()
    })
}

pub(crate) fn validate(opts: &CollectOptions) -> Result<(), CollectError> {
    if opts.concurrency == 0 {
        return Err(CollectError::InvalidOption(
            "concurrency must be at least 1".into(),
        ));
    }
    if opts.max_attempts == 0 {
        return Err(CollectError::InvalidOption(
            "max attempts must be at least 1 (1 disables retries)".into(),
        ));
    }
    if opts.regions.iter().any(|r| r.trim().is_empty()) {
        return Err(CollectError::InvalidOption("empty region name".into()));
    }
    Ok(())
}

/// Units of progress per region: RDS 12, EC2 11, KMS 2, Security Hub 1, Backup 1, CloudTrail 1.
const REGION_UNITS: u64 = 28;

/// Account id and partition of the credentials. Failing here is fatal: without knowing the
/// account nothing collected could be attributed.
pub(crate) async fn identify(
    ctx: &Ctx<'_>,
    clients: &Clients,
) -> Result<(String, String), CollectError> {
    let op = ops::STS_GET_CALLER_IDENTITY;
    ctx.api_calls.fetch_add(1, Ordering::Relaxed);
    let out = clients
        .sts
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| {
            let detail = call::one_line(
                &aws_smithy_types::error::display::DisplayErrorContext(&e).to_string(),
            );
            let gap = call::gap_from_error(op, Scope::global(), &e);
            let no_credentials = gap.error_code.is_none()
                && !matches!(
                    e,
                    aws_smithy_runtime_api::client::result::SdkError::ServiceError(_)
                )
                && detail.to_ascii_lowercase().contains("credential");
            if no_credentials {
                CollectError::NoCredentials { detail }
            } else {
                CollectError::CallerIdentity {
                    detail: match gap.error_code {
                        Some(code) => format!("{code}: {}", gap.message),
                        None => detail,
                    },
                }
            }
        })?;
    let account = out.account().unwrap_or_default().to_string();
    let arn = out.arn().unwrap_or_default();
    let partition = arn.split(':').nth(1).unwrap_or_default().to_string();
    if account.is_empty() || partition.is_empty() {
        return Err(CollectError::CallerIdentity {
            detail: format!("the answer has no account id or ARN (arn: {arn:?})"),
        });
    }
    Ok((account, partition))
}

/// The regions to collect. With `--all-regions`, the account's enabled regions; if they cannot
/// be listed, a gap is recorded and the explicitly requested (or home) regions are collected.
async fn resolve_regions(
    ctx: &Ctx<'_>,
    opts: &CollectOptions,
    clients: &Clients,
    account_gaps: &Gaps,
) -> Vec<String> {
    let explicit = if opts.regions.is_empty() {
        vec![clients.home_region.clone()]
    } else {
        let mut v: Vec<String> = Vec::new();
        for r in &opts.regions {
            if !v.contains(r) {
                v.push(r.clone());
            }
        }
        v
    };
    if !opts.all_regions {
        return explicit;
    }
    let op = ops::EC2_DESCRIBE_REGIONS;
    let listed = ctx
        .call(
            op,
            Scope::global(),
            clients.home_ec2.describe_regions().send(),
        )
        .await;
    match listed {
        Ok(out) => {
            let mut names: Vec<String> = out
                .regions()
                .iter()
                .filter(|r| {
                    // Without AllRegions=true only enabled regions are listed; the status check
                    // guards against endpoints that list everything.
                    r.opt_in_status().is_none_or(|s| s != "not-opted-in")
                })
                .filter_map(|r| r.region_name().map(str::to_string))
                .collect();
            names.sort();
            names.dedup();
            if names.is_empty() { explicit } else { names }
        }
        Err(mut gap) => {
            gap.message = format!(
                "{}; collected only {} instead of every enabled region",
                gap.message,
                explicit.join(", ")
            );
            account_gaps.push(gap);
            explicit
        }
    }
}

/// Everything regional except CloudTrail (collected across regions, see `logging`).
async fn collect_region(ctx: &Ctx<'_>, rc: &RegionClients, gaps: &Gaps) -> RegionSnapshot {
    let (rds, ec2, kms, securityhub, backup) = futures::join!(
        rds::collect(ctx, rc, gaps),
        ec2::collect(ctx, rc, gaps),
        kms::collect(ctx, rc, gaps),
        logging::collect_securityhub(ctx, rc, gaps),
        logging::collect_backup(ctx, rc, gaps),
    );
    RegionSnapshot {
        region: rc.region.clone(),
        rds,
        ec2,
        kms,
        cloudtrail: Default::default(),
        securityhub,
        backup,
        gaps: Vec::new(),
    }
}
