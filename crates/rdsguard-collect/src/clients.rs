//! SDK clients: one `SdkConfig` (credentials chain, adaptive retry, custom endpoint) loaded
//! once, and one client per service per region built from it, so credentials are resolved and
//! cached once for the whole run.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_smithy_runtime::client::retries::RetryPartition;
use aws_types::SdkConfig;
use aws_types::region::Region;

use crate::call::{AttemptCounter, NotImplementedClassifier};
use crate::{CollectError, CollectOptions};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Generous: GetAccountAuthorizationDetails pages of large accounts take seconds.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(60);

/// Builds a client of one service for one region, with the collector's retry classifier and
/// attempt counter.
macro_rules! client {
    ($krate:ident, $sdk:expr, $region:expr, $attempts:expr) => {
        client!($krate, $sdk, $region, $attempts, None::<&str>)
    };
    ($krate:ident, $sdk:expr, $region:expr, $attempts:expr, $partition:expr) => {{
        let mut builder = $krate::config::Builder::from($sdk)
            .region(Region::new($region.to_string()))
            .retry_classifier(NotImplementedClassifier)
            .interceptor(AttemptCounter($attempts.clone()));
        // The adaptive rate limiter is shared by every client of one retry partition (by
        // default service + region): in an organization scan each account gets its own, as
        // AWS throttles per account.
        if let Some(tag) = $partition {
            builder = builder.retry_partition(RetryPartition::new(format!(
                "{}-{}-{}",
                stringify!($krate),
                $region,
                tag
            )));
        }
        $krate::Client::from_conf(builder.build())
    }};
}

/// The global clients and what is needed to build regional ones.
pub(crate) struct Clients {
    sdk: SdkConfig,
    attempts: Arc<AtomicU64>,
    /// The region global calls (STS, IAM, DescribeRegions) go to: the first requested region,
    /// else the profile's / environment's region. It also decides the partition.
    pub home_region: String,
    pub sts: aws_sdk_sts::Client,
    pub iam: aws_sdk_iam::Client,
    pub home_ec2: aws_sdk_ec2::Client,
    /// Own retry partition (organization scans: the account id), see `client!`.
    partition: Option<String>,
}

/// The clients of one region.
pub(crate) struct RegionClients {
    pub region: String,
    pub rds: aws_sdk_rds::Client,
    pub ec2: aws_sdk_ec2::Client,
    pub kms: aws_sdk_kms::Client,
    pub cloudtrail: aws_sdk_cloudtrail::Client,
    pub securityhub: aws_sdk_securityhub::Client,
    pub backup: aws_sdk_backup::Client,
}

/// The SDK configuration of the standard credential chain (environment, profile, SSO,
/// assume-role, web identity, container and instance metadata), with the options applied.
pub(crate) async fn load_sdk_config(opts: &CollectOptions) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(profile) = &opts.profile {
        loader = loader.profile_name(profile);
    }
    loader.load().await
}

impl Clients {
    /// Clients from a base configuration (credentials, region), with the collector's retry
    /// policy and the custom endpoint of `opts` on top.
    pub fn new(
        base: &SdkConfig,
        opts: &CollectOptions,
        attempts: Arc<AtomicU64>,
    ) -> Result<Clients, CollectError> {
        Clients::with_partition(base, opts, attempts, None)
    }

    /// [`Clients::new`] with a retry partition of their own (named by `partition`).
    pub fn with_partition(
        base: &SdkConfig,
        opts: &CollectOptions,
        attempts: Arc<AtomicU64>,
        partition: Option<String>,
    ) -> Result<Clients, CollectError> {
        let mut builder = base
            .to_builder()
            .retry_config(RetryConfig::adaptive().with_max_attempts(opts.max_attempts))
            // A stuck connection must not hang the audit: each attempt is bounded (and a
            // timed-out attempt is retried like any transient error).
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(CONNECT_TIMEOUT)
                    .operation_attempt_timeout(ATTEMPT_TIMEOUT)
                    .build(),
            );
        if let Some(url) = &opts.endpoint_url {
            builder = builder.endpoint_url(url);
        }
        let sdk = builder.build();
        let home_region = opts
            .regions
            .first()
            .cloned()
            .or_else(|| sdk.region().map(|r| r.to_string()))
            .filter(|r| !r.trim().is_empty())
            .ok_or(CollectError::NoRegion)?;
        let tag = partition.as_deref();
        Ok(Clients {
            sts: client!(aws_sdk_sts, &sdk, home_region, attempts, tag),
            iam: client!(aws_sdk_iam, &sdk, home_region, attempts, tag),
            home_ec2: client!(aws_sdk_ec2, &sdk, home_region, attempts, tag),
            home_region,
            sdk,
            attempts,
            partition,
        })
    }

    pub fn for_region(&self, region: &str) -> RegionClients {
        let (sdk, attempts) = (&self.sdk, &self.attempts);
        let tag = self.partition.as_deref();
        RegionClients {
            region: region.to_string(),
            rds: client!(aws_sdk_rds, sdk, region, attempts, tag),
            ec2: client!(aws_sdk_ec2, sdk, region, attempts, tag),
            kms: client!(aws_sdk_kms, sdk, region, attempts, tag),
            cloudtrail: client!(aws_sdk_cloudtrail, sdk, region, attempts, tag),
            securityhub: client!(aws_sdk_securityhub, sdk, region, attempts, tag),
            backup: client!(aws_sdk_backup, sdk, region, attempts, tag),
        }
    }

    /// The Organizations client, in the home region (the SDK resolves the partition's global
    /// endpoint from it).
    pub fn organizations(&self) -> aws_sdk_organizations::Client {
        client!(
            aws_sdk_organizations,
            &self.sdk,
            self.home_region,
            self.attempts
        )
    }

    /// The configuration the clients were built from (credentials, retry policy, endpoint).
    pub fn sdk_config(&self) -> &SdkConfig {
        &self.sdk
    }
}
