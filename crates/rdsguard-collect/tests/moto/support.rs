//! Shared helpers: the moto endpoint, one fresh moto account per test, SDK configuration for
//! that account, and a recording [`Progress`].

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_sdk_sts::config::Credentials;
use aws_types::SdkConfig;
use aws_types::region::Region;
use rdsguard_collect::{CollectOptions, Progress};

pub const REGION: &str = "us-east-1";

/// The moto endpoint, or `None` (test skipped) when it is not set outside CI. In CI a missing
/// endpoint fails the test: a skipped integration suite must not look green.
pub fn endpoint() -> Option<String> {
    match std::env::var("RDSGUARD_MOTO_ENDPOINT") {
        Ok(e) if !e.trim().is_empty() => Some(e.trim_end_matches('/').to_string()),
        _ => {
            let ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
            assert!(
                !ci,
                "RDSGUARD_MOTO_ENDPOINT is not set in CI: run the tests through scripts/test.sh"
            );
            eprintln!(
                "SKIPPED: RDSGUARD_MOTO_ENDPOINT is not set; run scripts/test.sh to start moto \
                 and run the integration tests"
            );
            None
        }
    }
}

/// A 12-digit account id never used before on this moto server, so every test gets an empty
/// account and tests run in parallel without seeing each other. `tag` (10-99) keeps ids
/// distinct within one run, the clock across runs against a long-lived server.
pub fn fresh_account(tag: u32) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let unique = (nanos / 1000 + u128::from(n)) % 10_000_000;
    format!("{:02}{:03}{:07}", 10 + tag % 90, n % 1000, unique)
}

async fn load(credentials: Credentials, endpoint: &str, region: Option<&str>) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        // Keep the developer's environment (AWS_REGION, AWS_PROFILE...) out of the tests.
        .empty_test_environment()
        .credentials_provider(credentials)
        .endpoint_url(endpoint)
        .retry_config(RetryConfig::disabled());
    if let Some(r) = region {
        loader = loader.region(Region::new(r.to_string()));
    }
    loader.load().await
}

/// SDK configuration acting in moto account `account`: moto gives credentials obtained by
/// STS AssumeRole into a role ARN of that account, and requests signed with them operate in
/// that account. No retries (moto answers unimplemented calls with HTML 500s).
pub async fn sdk_config(account: &str, endpoint: &str, region: Option<&str>) -> SdkConfig {
    let base = load(
        Credentials::new("testing", "testing", None, None, "rdsguard-tests"),
        endpoint,
        Some(REGION),
    )
    .await;
    let assumed = aws_sdk_sts::Client::new(&base)
        .assume_role()
        .role_arn(format!("arn:aws:iam::{account}:role/rdsguard-tests"))
        .role_session_name("rdsguard-tests")
        .send()
        .await
        .expect("moto STS AssumeRole");
    let c = assumed.credentials().expect("AssumeRole credentials");
    let credentials = Credentials::new(
        c.access_key_id(),
        c.secret_access_key(),
        Some(c.session_token().to_string()),
        None,
        "rdsguard-tests-assumed",
    );
    load(credentials, endpoint, region).await
}

/// Options for collecting one region through `endpoint`, without retries so every request
/// is counted exactly once.
pub fn options(endpoint: &str, regions: &[&str]) -> CollectOptions {
    CollectOptions {
        profile: None,
        regions: regions.iter().map(|r| r.to_string()).collect(),
        all_regions: false,
        endpoint_url: Some(endpoint.to_string()),
        concurrency: 16,
        max_attempts: 1,
    }
}

/// Records what the collector reports, to check the progress contract.
#[derive(Default)]
pub struct RecordingProgress {
    pub total: Mutex<Option<u64>>,
    pub done: Mutex<Vec<(String, Option<String>)>>,
    pub finished: AtomicU64,
}

impl Progress for RecordingProgress {
    fn start(&self, total_hint: u64) {
        *self.total.lock().unwrap() = Some(total_hint);
    }
    fn op_done(&self, op: &str, region: Option<&str>) {
        self.done
            .lock()
            .unwrap()
            .push((op.to_string(), region.map(str::to_string)));
    }
    fn message(&self, _msg: &str) {}
    fn finish(&self) {
        self.finished.fetch_add(1, Ordering::Relaxed);
    }
}
