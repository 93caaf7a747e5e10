//! Evaluations per second on a realistic policy set, and who-can over an account with 10,000
//! principals and 20,000 policies. Figures in BENCHMARKS.md.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use rdsguard_iam::account::AccountModel;
use rdsguard_iam::compile::{CompiledPolicy, PolicyKind};
use rdsguard_iam::context::{RequestAction, RequestContext, RequestPrincipal, RequestResource};
use rdsguard_iam::eval::{PolicySet, Request, evaluate};
use rdsguard_model::{
    AccountSnapshot, DbInstance, IamData, IamGroup, IamRole, IamUser, InlinePolicy, ManagedPolicy,
    RegionSnapshot,
};

const ACCT: &str = "111122223333";

/// CPU time of this thread (ns), from /proc/thread-self/schedstat: the machine is shared, so
/// wall-clock time would measure the other tenants' load, not the engine.
fn thread_cpu_ns() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace().next()?.parse().ok()
}

/// Time `iters` runs of `f` in thread CPU time (wall time where schedstat is unavailable).
fn cpu_timed<R>(iters: u64, mut f: impl FnMut() -> R) -> Duration {
    let wall = std::time::Instant::now();
    let start = thread_cpu_ns();
    for _ in 0..iters {
        black_box(f());
    }
    match (start, thread_cpu_ns()) {
        (Some(a), Some(b)) => Duration::from_nanos(b.saturating_sub(a)),
        _ => wall.elapsed(),
    }
}
const DB: &str = "arn:aws:rds:us-east-1:111122223333:db:orders";

/// Policy templates seen in real accounts: read-only, scoped admin, tag-based access, MFA
/// guards, network guards, KMS usage, broad NotAction, service-specific.
fn template(i: usize) -> String {
    let n = i % 8;
    let id = i;
    match n {
        0 => format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"Read{id}","Effect":"Allow","Action":["rds:Describe*","rds:ListTagsForResource","ec2:Describe*","cloudwatch:GetMetricData"],"Resource":"*"}}]}}"#
        ),
        1 => format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"rds:*","Resource":["arn:aws:rds:*:{ACCT}:db:app{id}-*","arn:aws:rds:*:{ACCT}:snapshot:app{id}-*"]}},{{"Effect":"Deny","Action":"rds:Delete*","Resource":"*","Condition":{{"BoolIfExists":{{"aws:MultiFactorAuthPresent":"false"}}}}}}]}}"#
        ),
        2 => format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":["rds:Modify*","rds:Reboot*","rds:Start*","rds:Stop*"],"Resource":"*","Condition":{{"StringEquals":{{"rds:db-tag/team":"${{aws:PrincipalTag/team}}"}}}}}},{{"Effect":"Allow","Action":"rds:AddTagsToResource","Resource":"*","Condition":{{"ForAllValues:StringEquals":{{"aws:TagKeys":["team","env","cost{id}"]}}}}}}]}}"#
        ),
        3 => format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Deny","Action":"*","Resource":"*","Condition":{{"NotIpAddress":{{"aws:SourceIp":["10.{}.0.0/16","192.0.2.0/24","2001:db8::/32"]}},"Bool":{{"aws:ViaAWSService":"false"}}}}}}]}}"#,
            id % 250
        ),
        4 => format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":["kms:Decrypt","kms:GenerateDataKey*","kms:DescribeKey"],"Resource":"arn:aws:kms:us-east-1:{ACCT}:key/k{id}","Condition":{{"StringEquals":{{"kms:ViaService":"rds.us-east-1.amazonaws.com"}}}}}}]}}"#
        ),
        5 => format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","NotAction":["iam:*","organizations:*","account:*"],"Resource":"*","Condition":{{"DateLessThan":{{"aws:CurrentTime":"2027-0{}-01T00:00:00Z"}}}}}}]}}"#,
            1 + id % 9
        ),
        6 => format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::bucket-{id}/*"}},{{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::bucket-{id}"}}]}}"#
        ),
        _ => format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":["rds:CreateDBInstance","rds:CreateDBSnapshot"],"Resource":"arn:aws:rds:us-east-1:{ACCT}:db:svc{id}","Condition":{{"Bool":{{"rds:StorageEncrypted":"true"}},"StringLike":{{"aws:userid":"AIDA*"}}}}}}]}}"#
        ),
    }
}

fn realistic_set() -> Vec<CompiledPolicy> {
    (0..24)
        .map(|i| {
            CompiledPolicy::from_json(&format!("p{i}"), PolicyKind::Identity, &template(i))
                .expect("template compiles")
        })
        .collect()
}

fn bench_evaluate(c: &mut Criterion) {
    let policies = realistic_set();
    let set = PolicySet {
        identity: policies.iter().collect(),
        ..PolicySet::default()
    };
    let principal =
        RequestPrincipal::parse("arn:aws:iam::111122223333:user/alice").expect("principal");
    let action = RequestAction::parse("rds:DeleteDBInstance").expect("action");
    let resource = RequestResource::parse(DB, None).expect("resource");
    let mut ctx = RequestContext::new();
    ctx.insert_single("aws:SourceIp", "10.3.4.5");
    ctx.insert_single("aws:MultiFactorAuthPresent", "true");
    ctx.insert_single("aws:PrincipalTag/team", "payments");
    ctx.insert_single("rds:db-tag/team", "payments");
    ctx.insert_single("aws:CurrentTime", "2026-06-01T00:00:00Z");
    let req = Request {
        principal: &principal,
        action: &action,
        resource: &resource,
        context: &ctx,
    };
    let mut g = c.benchmark_group("evaluate");
    g.measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1));
    // Each iteration is a batch, so every sample spans many scheduler ticks (CPU time is
    // accounted at tick granularity).
    const BATCH: u64 = 20_000;
    g.throughput(criterion::Throughput::Elements(BATCH));
    g.sample_size(20);
    let batch = |set: &PolicySet<'_>| {
        let mut allowed = 0u32;
        for _ in 0..BATCH {
            allowed += u32::from(
                evaluate(black_box(set), black_box(&req)) == rdsguard_iam::Decision::Allowed,
            );
        }
        allowed
    };
    g.bench_function("24_policies_40_statements", |b| {
        b.iter_custom(|n| cpu_timed(n, || batch(&set)))
    });
    // A typical principal: a handful of policies.
    let few = PolicySet {
        identity: policies.iter().take(6).collect(),
        ..PolicySet::default()
    };
    g.bench_function("6_policies_9_statements", |b| {
        b.iter_custom(|n| cpu_timed(n, || batch(&few)))
    });
    g.finish();
}

/// An account with `principals` users and roles and `policies` managed policies.
fn big_account(principals: usize, policies: usize) -> AccountSnapshot {
    let managed: Vec<ManagedPolicy> = (0..policies)
        .map(|i| ManagedPolicy {
            arn: format!("arn:aws:iam::{ACCT}:policy/p{i}"),
            name: Some(format!("p{i}")),
            document: Some(template(i)),
            ..Default::default()
        })
        .collect();
    let groups: Vec<IamGroup> = (0..50)
        .map(|g| IamGroup {
            name: format!("g{g}"),
            arn: format!("arn:aws:iam::{ACCT}:group/g{g}"),
            attached_policy_arns: (0..3)
                .map(|k| format!("arn:aws:iam::{ACCT}:policy/p{}", (g * 7 + k) % policies))
                .collect(),
            ..Default::default()
        })
        .collect();
    let mut users = Vec::new();
    let mut roles = Vec::new();
    for i in 0..principals {
        let attached: Vec<String> = (0..3)
            .map(|k| {
                format!(
                    "arn:aws:iam::{ACCT}:policy/p{}",
                    (i * 13 + k * 101) % policies
                )
            })
            .collect();
        if i % 2 == 0 {
            users.push(IamUser {
                name: format!("u{i}"),
                arn: format!("arn:aws:iam::{ACCT}:user/u{i}"),
                groups: vec![format!("g{}", i % 50)],
                attached_policy_arns: attached,
                inline_policies: vec![InlinePolicy {
                    name: "own".into(),
                    document: template(i + 3),
                }],
                tags: [("team".to_string(), format!("t{}", i % 20))]
                    .into_iter()
                    .collect(),
                ..Default::default()
            });
        } else {
            roles.push(IamRole {
                name: format!("r{i}"),
                arn: format!("arn:aws:iam::{ACCT}:role/r{i}"),
                attached_policy_arns: attached,
                ..Default::default()
            });
        }
    }
    let mut region = RegionSnapshot::new("us-east-1");
    region.rds.db_instances.push(DbInstance {
        db_instance_identifier: "orders".into(),
        db_instance_arn: DB.into(),
        engine: "postgres".into(),
        tags: [("team".to_string(), "t3".to_string())]
            .into_iter()
            .collect(),
        ..Default::default()
    });
    AccountSnapshot {
        account_id: ACCT.into(),
        partition: "aws".into(),
        iam: Some(IamData {
            users,
            groups,
            roles,
            policies: managed,
        }),
        regions: vec![region],
        gaps: vec![],
        ..Default::default()
    }
}

fn bench_who_can(c: &mut Criterion) {
    let account = big_account(10_000, 20_000);
    let mut g = c.benchmark_group("who_can");
    g.sample_size(10)
        .measurement_time(Duration::from_secs(8))
        .warm_up_time(Duration::from_secs(1));
    g.bench_function("build_model_10k_principals_20k_policies", |b| {
        b.iter_custom(|n| cpu_timed(n, || AccountModel::build(black_box(&account))))
    });
    let model = AccountModel::build(&account).expect("iam present");
    g.bench_function("delete_db_10k_principals_20k_policies", |b| {
        b.iter_custom(|n| {
            cpu_timed(n, || {
                model
                    .who_can(&account, "rds:DeleteDBInstance", DB)
                    .map(|a| a.actions.len())
            })
        })
    });
    if let Ok(a) = model.who_can(&account, "rds:DeleteDBInstance", DB) {
        eprintln!(
            "who_can answer: {} principals evaluated, {} allowed or conditionally allowed",
            a.principals_evaluated,
            a.actions.first().map(|x| x.principals.len()).unwrap_or(0)
        );
    }
    g.finish();
}

criterion_group!(benches, bench_evaluate, bench_who_can);
criterion_main!(benches);
