//! Fatal problems are clear errors that say what to do; they need no emulator.

use aws_sdk_sts::config::Credentials;
use aws_types::SdkConfig;
use aws_types::region::Region;
use rdsguard_collect::{CollectError, NoProgress, collect_with_sdk_config};

use crate::support::*;

/// A closed local port: nothing listens there.
const NOWHERE: &str = "http://127.0.0.1:9";

fn base(region: Option<&str>, credentials: bool) -> SdkConfig {
    let mut b = SdkConfig::builder().behavior_version(aws_config::BehaviorVersion::latest());
    if let Some(r) = region {
        b = b.region(Region::new(r.to_string()));
    }
    if credentials {
        b = b.credentials_provider(aws_sdk_sts::config::SharedCredentialsProvider::new(
            Credentials::new("AKIDEXAMPLE", "secret", None, None, "test"),
        ));
    }
    b.build()
}

#[tokio::test]
async fn no_region_is_an_error_that_says_what_to_do() {
    let err = collect_with_sdk_config(&base(None, true), &options(NOWHERE, &[]), &NoProgress)
        .await
        .unwrap_err();
    assert!(matches!(err, CollectError::NoRegion), "{err:?}");
    assert!(err.to_string().contains("--region"), "{err}");
}

#[tokio::test]
async fn missing_credentials_are_an_error_that_says_what_to_do() {
    let err = collect_with_sdk_config(
        &base(Some(REGION), false),
        &options(NOWHERE, &[REGION]),
        &NoProgress,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, CollectError::NoCredentials { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains("AWS_PROFILE") && text.contains("sso login"),
        "{text}"
    );
}

#[tokio::test]
async fn unreachable_endpoint_is_an_identity_error() {
    let err = collect_with_sdk_config(
        &base(Some(REGION), true),
        &options(NOWHERE, &[REGION]),
        &NoProgress,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, CollectError::CallerIdentity { .. }),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(text.contains("sts:GetCallerIdentity"), "{text}");
    assert!(
        !text.contains("secret"),
        "no credentials in messages: {text}"
    );
}

#[tokio::test]
async fn invalid_options_are_refused() {
    let sdk = base(Some(REGION), true);
    let mut opts = options(NOWHERE, &[REGION]);
    opts.concurrency = 0;
    let err = collect_with_sdk_config(&sdk, &opts, &NoProgress)
        .await
        .unwrap_err();
    assert!(matches!(err, CollectError::InvalidOption(_)), "{err}");
    let mut opts = options(NOWHERE, &[REGION]);
    opts.max_attempts = 0;
    let err = collect_with_sdk_config(&sdk, &opts, &NoProgress)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("max attempts"), "{err}");
    let mut opts = options(NOWHERE, &[REGION]);
    opts.regions = vec![" ".into()];
    assert!(matches!(
        collect_with_sdk_config(&sdk, &opts, &NoProgress).await,
        Err(CollectError::InvalidOption(_))
    ));
}
