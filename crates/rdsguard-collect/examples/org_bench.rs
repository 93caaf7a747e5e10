//! Organization collection benchmark driver (BENCHMARKS.md, "Organizations and sharding").
//!
//!     org_bench seed    --endpoint URL --accounts N [--instances K]
//!     org_bench collect --endpoint URL [--concurrency C] [--account-concurrency A] [--shard I/N]
//!
//! Credentials and region come from the standard chain (export static test credentials and
//! AWS_REGION), so `collect` runs what `rdsguard collect --org` runs. The caller's moto account
//! becomes the management account.
//!
//! `seed` creates an organization with N member accounts (moto CreateAccount), 4 OUs with an
//! SCP each, and K DB instances plus a security group in every member account, concurrently.
//! `collect` prints one JSON line: seconds, api_calls, http_attempts, accounts, not assessed,
//! DB instances, peak_rss_kb (VmHWM of this process, which only collects).

use std::time::Instant;

use aws_config::BehaviorVersion;
use aws_sdk_organizations::types::PolicyType;
use aws_sdk_sts::config::Credentials;
use futures::StreamExt;
use rdsguard_collect::{CollectOptions, NoProgress, OrgOptions, Shard, collect_organization};

mod bench_util;
use bench_util::{arg, peak_rss_kb};

const SEED_CONCURRENCY: usize = 16;

fn usage() -> ! {
    eprintln!(
        "usage: org_bench seed --endpoint URL --accounts N [--instances K]\n       \
         org_bench collect --endpoint URL [--concurrency C] [--account-concurrency A] [--shard I/N]"
    );
    std::process::exit(2)
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(endpoint) = arg(&args, "--endpoint") else {
        usage()
    };
    match args.first().map(String::as_str) {
        Some("seed") => {
            let accounts: usize = arg(&args, "--accounts")
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| usage());
            let instances: usize = arg(&args, "--instances")
                .and_then(|v| v.parse().ok())
                .unwrap_or(2);
            seed(&endpoint, accounts, instances).await;
        }
        Some("collect") => {
            let opts = CollectOptions {
                endpoint_url: Some(endpoint),
                concurrency: arg(&args, "--concurrency")
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(16),
                max_attempts: 3,
                ..CollectOptions::default()
            };
            let org = OrgOptions {
                account_concurrency: arg(&args, "--account-concurrency")
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(8),
                shard: arg(&args, "--shard")
                    .map(|s| s.parse::<Shard>().unwrap_or_else(|_| usage())),
                ..OrgOptions::default()
            };
            let started = Instant::now();
            let (snap, stats) = collect_organization(&opts, &org, &NoProgress)
                .await
                .expect("organization collection failed");
            let not_assessed = snap
                .accounts
                .iter()
                .filter(|a| a.regions.is_empty())
                .count();
            println!(
                "{{\"seconds\":{:.2},\"api_calls\":{},\"http_attempts\":{},\"accounts\":{},\
                 \"not_assessed\":{},\"db_instances\":{},\"gaps\":{},\"peak_rss_kb\":{}}}",
                started.elapsed().as_secs_f64(),
                stats.api_calls,
                stats.http_attempts,
                snap.accounts.len(),
                not_assessed,
                snap.db_instance_count(),
                stats.gaps,
                peak_rss_kb().unwrap_or(0)
            );
        }
        _ => usage(),
    }
}

async fn seed(endpoint: &str, accounts: usize, instances: usize) {
    let base = aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .load()
        .await;
    let orgs = aws_sdk_organizations::Client::new(&base);
    orgs.create_organization()
        .send()
        .await
        .expect("CreateOrganization (use a fresh moto server)");
    let root = orgs.list_roots().send().await.expect("ListRoots").roots()[0]
        .id()
        .unwrap_or_default()
        .to_string();
    orgs.enable_policy_type()
        .root_id(&root)
        .policy_type(PolicyType::ServiceControlPolicy)
        .send()
        .await
        .expect("EnablePolicyType");
    let mut ous = Vec::new();
    for i in 0..4 {
        let ou = orgs
            .create_organizational_unit()
            .parent_id(&root)
            .name(format!("ou-{i}"))
            .send()
            .await
            .expect("CreateOrganizationalUnit");
        let ou_id = ou
            .organizational_unit()
            .and_then(|o| o.id())
            .unwrap_or_default()
            .to_string();
        let policy = orgs
            .create_policy()
            .name(format!("deny-delete-{i}"))
            .description("benchmark")
            .r#type(PolicyType::ServiceControlPolicy)
            .content(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"rds:DeleteDBInstance","Resource":"*"}]}"#)
            .send()
            .await
            .expect("CreatePolicy");
        let policy_id = policy
            .policy()
            .and_then(|p| p.policy_summary())
            .and_then(|s| s.id())
            .unwrap_or_default()
            .to_string();
        orgs.attach_policy()
            .policy_id(policy_id)
            .target_id(&ou_id)
            .send()
            .await
            .expect("AttachPolicy");
        ous.push(ou_id);
    }
    let sts = aws_sdk_sts::Client::new(&base);
    futures::stream::iter(0..accounts)
        .map(|i| {
            let (orgs, sts, ous, root, base) = (&orgs, &sts, &ous, &root, &base);
            async move {
                let created = orgs
                    .create_account()
                    .account_name(format!("bench-{i}"))
                    .email(format!("bench-{i}@example.com"))
                    .send()
                    .await
                    .expect("CreateAccount");
                let id = created
                    .create_account_status()
                    .and_then(|s| s.account_id())
                    .unwrap_or_default()
                    .to_string();
                orgs.move_account()
                    .account_id(&id)
                    .source_parent_id(root)
                    .destination_parent_id(&ous[i % ous.len()])
                    .send()
                    .await
                    .expect("MoveAccount");
                let assumed = sts
                    .assume_role()
                    .role_arn(format!(
                        "arn:aws:iam::{id}:role/OrganizationAccountAccessRole"
                    ))
                    .role_session_name("seed")
                    .send()
                    .await
                    .expect("AssumeRole");
                let c = assumed.credentials().expect("credentials");
                let member = base
                    .to_builder()
                    .credentials_provider(aws_sdk_sts::config::SharedCredentialsProvider::new(
                        Credentials::new(
                            c.access_key_id(),
                            c.secret_access_key(),
                            Some(c.session_token().to_string()),
                            None,
                            "seed",
                        ),
                    ))
                    .build();
                let rds = aws_sdk_rds::Client::new(&member);
                for k in 0..instances {
                    rds.create_db_instance()
                        .db_instance_identifier(format!("db-{i}-{k}"))
                        .engine("postgres")
                        .engine_version("16.3")
                        .db_instance_class("db.t3.micro")
                        .allocated_storage(20)
                        .master_username("postgres")
                        .master_user_password("not-a-secret-1")
                        .publicly_accessible(k % 2 == 0)
                        .storage_encrypted(k % 3 == 0)
                        .send()
                        .await
                        .expect("CreateDBInstance");
                }
            }
        })
        .buffer_unordered(SEED_CONCURRENCY)
        .collect::<Vec<()>>()
        .await;
    eprintln!(
        "seeded an organization of {accounts} member accounts with {instances} DB instances each"
    );
}
