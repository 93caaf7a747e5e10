//! CloudTrail logs read straight from S3 (`rdsguard trail s3://bucket/prefix`): every object
//! under the prefixes is listed (paginated), downloaded with bounded concurrency and fed to the
//! streaming scanner of `rdsguard-trail`. An object that cannot be listed or read becomes a
//! skipped input with the reason, like an unreadable local file; the scan goes on.

use std::io::{Cursor, Read};
use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_types::SdkConfig;
use futures::StreamExt;
use rdsguard_trail::{Scanner, TrailOptions, TrailResult};

use crate::{CollectError, CollectOptions};

/// `s3://bucket/prefix` → (bucket, prefix).
pub fn parse_s3_uri(uri: &str) -> Result<(String, String), CollectError> {
    let rest = uri.strip_prefix("s3://").ok_or_else(|| {
        CollectError::InvalidOption(format!("`{uri}` is not an s3://bucket/prefix URI"))
    })?;
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    if bucket.is_empty() {
        return Err(CollectError::InvalidOption(format!(
            "`{uri}` names no bucket (expected s3://bucket/prefix)"
        )));
    }
    Ok((bucket.to_string(), prefix.to_string()))
}

/// Scan the CloudTrail objects under `uris` with the standard credential chain of `opts`.
pub async fn scan_s3(
    opts: &CollectOptions,
    uris: &[String],
    trail: &TrailOptions,
) -> Result<TrailResult, CollectError> {
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(profile) = &opts.profile {
        loader = loader.profile_name(profile);
    }
    scan_s3_with_sdk_config(&loader.load().await, opts, uris, trail).await
}

/// [`scan_s3`] with the credentials and region of `base`.
pub async fn scan_s3_with_sdk_config(
    base: &SdkConfig,
    opts: &CollectOptions,
    uris: &[String],
    trail: &TrailOptions,
) -> Result<TrailResult, CollectError> {
    let targets = uris
        .iter()
        .map(|u| parse_s3_uri(u))
        .collect::<Result<Vec<_>, _>>()?;
    let scanner = Scanner::new(trail).map_err(|e| CollectError::InvalidOption(e.to_string()))?;
    let client = s3_client(base, opts)?;
    let mut acc = scanner.accumulator();
    for (bucket, prefix) in targets {
        let keys = match list_keys(&client, &bucket, &prefix).await {
            Ok(keys) => keys,
            Err(reason) => {
                let name = format!("s3://{bucket}/{prefix}");
                scanner.scan_reader(&mut acc, &name, Failing(reason));
                continue;
            }
        };
        let mut downloads = futures::stream::iter(keys)
            .map(|key| {
                let client = client.clone();
                let bucket = bucket.clone();
                async move {
                    let body = fetch(&client, &bucket, &key).await;
                    (format!("s3://{bucket}/{key}"), body)
                }
            })
            .buffer_unordered(opts.concurrency.max(1));
        // Downloads overlap; scanning is CPU work done as each object arrives.
        while let Some((name, body)) = downloads.next().await {
            match body {
                Ok(bytes) => scanner.scan_reader(&mut acc, &name, Cursor::new(bytes)),
                Err(reason) => scanner.scan_reader(&mut acc, &name, Failing(reason)),
            }
        }
    }
    Ok(scanner.finish(vec![acc]))
}

fn s3_client(base: &SdkConfig, opts: &CollectOptions) -> Result<aws_sdk_s3::Client, CollectError> {
    let mut builder = base
        .to_builder()
        .retry_config(RetryConfig::adaptive().with_max_attempts(opts.max_attempts.max(1)))
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(5))
                .operation_attempt_timeout(Duration::from_secs(120))
                .build(),
        );
    if let Some(url) = &opts.endpoint_url {
        builder = builder.endpoint_url(url);
    }
    let sdk = builder.build();
    let mut conf = aws_sdk_s3::config::Builder::from(&sdk);
    if let Some(region) = opts.regions.first() {
        conf = conf.region(aws_types::region::Region::new(region.clone()));
    } else if sdk.region().is_none() {
        return Err(CollectError::NoRegion);
    }
    // Emulators and S3-compatible endpoints generally need path-style addressing.
    if opts.endpoint_url.is_some() {
        conf = conf.force_path_style(true);
    }
    Ok(aws_sdk_s3::Client::from_conf(conf.build()))
}

async fn list_keys(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    prefix: &str,
) -> Result<Vec<String>, String> {
    let mut keys = Vec::new();
    let mut pages = client
        .list_objects_v2()
        .bucket(bucket)
        .prefix(prefix)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page =
            page.map_err(|e| format!("cannot list s3://{bucket}/{prefix}: {}", describe(&e)))?;
        keys.extend(
            page.contents()
                .iter()
                .filter_map(|o| o.key().map(str::to_string))
                // Folder markers and CloudTrail's digest files are not logs.
                .filter(|k| !k.ends_with('/') && !k.contains("/CloudTrail-Digest/")),
        );
    }
    Ok(keys)
}

async fn fetch(client: &aws_sdk_s3::Client, bucket: &str, key: &str) -> Result<Vec<u8>, String> {
    let out = client
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .map_err(|e| format!("cannot read s3://{bucket}/{key}: {}", describe(&e)))?;
    let bytes = out
        .body
        .collect()
        .await
        .map_err(|e| format!("reading s3://{bucket}/{key} failed: {e}"))?;
    Ok(bytes.into_bytes().to_vec())
}

/// The service's error code and message, never the request (which carries signatures).
fn describe<E, R>(e: &aws_sdk_s3::error::SdkError<E, R>) -> String
where
    E: aws_sdk_s3::error::ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match e.as_service_error() {
        Some(se) => format!(
            "{}: {}",
            se.code().unwrap_or("error"),
            se.message().unwrap_or("no message")
        ),
        None => aws_smithy_types::error::display::DisplayErrorContext(e).to_string(),
    }
}

/// A reader that fails at once, so an unreadable object is reported by the scanner as a
/// skipped input exactly like an unreadable file.
struct Failing(String);

impl Read for Failing {
    fn read(&mut self, _buf: &mut [u8]) -> std::io::Result<usize> {
        Err(std::io::Error::other(self.0.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::parse_s3_uri;

    #[test]
    fn s3_uris() {
        assert_eq!(
            parse_s3_uri("s3://logs/AWSLogs/1/").unwrap(),
            ("logs".to_string(), "AWSLogs/1/".to_string())
        );
        assert_eq!(
            parse_s3_uri("s3://logs").unwrap(),
            ("logs".to_string(), String::new())
        );
        assert!(parse_s3_uri("s3:///x").is_err());
        assert!(parse_s3_uri("/tmp/x").is_err());
    }
}
