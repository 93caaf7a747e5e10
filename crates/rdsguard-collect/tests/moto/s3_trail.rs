//! `rdsguard trail s3://bucket/prefix` against moto's S3: listing, download, scanning, and an
//! unreadable object reported as skipped while the rest is scanned.

use rdsguard_trail::TrailOptions;

use crate::support::*;

fn sample(name: &str) -> Vec<u8> {
    let path = manifest_dir()
        .join("../../../shared/data/cloudtrail/elastic_integrations_pipeline_samples")
        .join(name);
    std::fs::read(&path)
        .unwrap_or_else(|e| panic!("shared CloudTrail sample {}: {e}", path.display()))
}

#[tokio::test(flavor = "multi_thread")]
async fn cloudtrail_logs_are_scanned_from_s3() {
    let Some(ep) = endpoint() else { return };
    let account = fresh_account(41);
    let sdk = sdk_config(&account, &ep, Some(REGION)).await;
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&sdk)
            .force_path_style(true)
            .build(),
    );
    let bucket = format!("trail-{account}");
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    let put = |key: &'static str, body: Vec<u8>| {
        let s3 = s3.clone();
        let bucket = bucket.clone();
        async move {
            s3.put_object()
                .bucket(&bucket)
                .key(key)
                .body(body.into())
                .send()
                .await
                .unwrap();
        }
    };
    let prefix = "AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/01/";
    put(
        "AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/01/modify.json",
        sample("test-modify-db-instance-json.json"),
    )
    .await;
    put(
        "AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/01/snapshot-share.json",
        sample("test-modify-db-snapshot-attributte-json.json"),
    )
    .await;
    // A corrupt object must be skipped, not stop the scan.
    put(
        "AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/01/broken.json.gz",
        b"\x1f\x8b\x08 truncated".to_vec(),
    )
    .await;
    // Outside the prefix: never read.
    put("elsewhere/other.json", b"{\"Records\":[]}".to_vec()).await;

    let opts = options(&ep, &[REGION]);
    let result = rdsguard_collect::scan_s3_with_sdk_config(
        &sdk,
        &opts,
        &[format!("s3://{bucket}/{prefix}")],
        &TrailOptions::default(),
    )
    .await
    .expect("scan");
    assert_eq!(result.stats.files, 3, "{:#?}", result.stats);
    assert_eq!(
        result.skipped_inputs.len(),
        1,
        "{:#?}",
        result.skipped_inputs
    );
    assert!(result.skipped_inputs[0].input.ends_with("broken.json.gz"));
    assert!(result.input_skipped());
    assert!(
        result
            .findings
            .iter()
            .any(|f| f.check_id.contains("public")),
        "the public ModifyDBInstance is detected: {:#?}",
        result
            .findings
            .iter()
            .map(|f| &f.check_id)
            .collect::<Vec<_>>()
    );

    // A bucket that does not exist is a skipped input with the service's error code.
    let missing = rdsguard_collect::scan_s3_with_sdk_config(
        &sdk,
        &opts,
        &[format!("s3://no-such-bucket-{account}/x")],
        &TrailOptions::default(),
    )
    .await
    .expect("scan");
    assert_eq!(missing.skipped_inputs.len(), 1);
    assert!(
        missing.skipped_inputs[0].reason.contains("NoSuchBucket"),
        "{:#?}",
        missing.skipped_inputs
    );
}

/// This crate's directory, as cargo gives it when running the tests: a test binary kept in a
/// target directory shared by several checkouts (CI's clean clone and the working tree) must
/// read the files of the checkout it runs for, not of the one it was built in.
fn manifest_dir() -> std::path::PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}
