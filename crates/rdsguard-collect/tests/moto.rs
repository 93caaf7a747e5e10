//! Integration tests of the collector against moto, in one test binary so the AWS SDK is
//! linked once. scripts/test.sh starts moto and sets RDSGUARD_MOTO_ENDPOINT; without it the
//! tests that need moto are skipped with a message (and fail when CI=true).
//!
//! Every test works in its own moto account (see `support::sdk_config`), so tests run in
//! parallel. The standard scenario (`seed::scenario`) is seeded once and shared by the tests
//! that only read it.

#[path = "moto/proxy.rs"]
mod proxy;
#[path = "moto/seed.rs"]
mod seed;
#[path = "moto/support.rs"]
mod support;

#[path = "moto/calls.rs"]
mod calls;
#[path = "moto/denied.rs"]
mod denied;
#[path = "moto/errors.rs"]
mod errors;
#[path = "moto/exposure.rs"]
mod exposure;
#[path = "moto/facts.rs"]
mod facts;
#[path = "moto/org.rs"]
mod org;
#[path = "moto/regions.rs"]
mod regions;
#[path = "moto/s3_trail.rs"]
mod s3_trail;
#[path = "moto/securityhub.rs"]
mod securityhub;

use std::sync::OnceLock;

use rdsguard_collect::{CollectStats, NoProgress, collect_with_sdk_config};
use rdsguard_model::Snapshot;
use seed::Seeded;
use support::*;

/// The standard scenario, seeded once in its own account and shared by the read-only tests.
/// Seeding runs on its own runtime and thread: each test has its own runtime.
fn seeded(endpoint: &str) -> Seeded {
    static SEEDED: OnceLock<Seeded> = OnceLock::new();
    SEEDED
        .get_or_init(|| {
            let endpoint = endpoint.to_string();
            std::thread::spawn(move || {
                let rt = tokio::runtime::Runtime::new().unwrap();
                rt.block_on(async {
                    let account = fresh_account(1);
                    let sdk = sdk_config(&account, &endpoint, Some(REGION)).await;
                    seed::scenario(&sdk, &endpoint, &account).await
                })
            })
            .join()
            .expect("seeding the scenario failed")
        })
        .clone()
}

/// Collect `account` in us-east-1 through `via` (moto or a proxy in front of it).
async fn collect_account(account: &str, moto: &str, via: &str) -> (Snapshot, CollectStats) {
    let sdk = sdk_config(account, moto, Some(REGION)).await;
    collect_with_sdk_config(&sdk, &options(via, &[REGION]), &NoProgress)
        .await
        .expect("collection failed")
}
