//! SDK clients: one `SdkConfig` (credentials chain, adaptive retry, custom endpoint) loaded
//! once, and one client per service per region built from it, so credentials are resolved and
//! cached once for the whole run.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
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
        $krate::Client::from_conf(
            $krate::config::Builder::from($sdk)
                .region(Region::new($region.to_string()))
                .retry_classifier(NotImplementedClassifier)
                .interceptor(AttemptCounter($attempts.clone()))
                .build(),
        )
    };
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
        Ok(Clients {
            sts: client!(aws_sdk_sts, &sdk, home_region, attempts),
            iam: client!(aws_sdk_iam, &sdk, home_region, attempts),
            home_ec2: client!(aws_sdk_ec2, &sdk, home_region, attempts),
            home_region,
            sdk,
            attempts,
        })
    }

    pub fn for_region(&self, region: &str) -> RegionClients {
        let (sdk, attempts) = (&self.sdk, &self.attempts);
        RegionClients {
            region: region.to_string(),
            rds: client!(aws_sdk_rds, sdk, region, attempts),
            ec2: client!(aws_sdk_ec2, sdk, region, attempts),
            kms: client!(aws_sdk_kms, sdk, region, attempts),
            cloudtrail: client!(aws_sdk_cloudtrail, sdk, region, attempts),
            securityhub: client!(aws_sdk_securityhub, sdk, region, attempts),
            backup: client!(aws_sdk_backup, sdk, region, attempts),
        }
    }
}
