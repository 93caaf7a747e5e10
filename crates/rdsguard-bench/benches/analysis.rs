//! Criterion benchmarks of a full evaluation of the check catalogue on synthetic accounts.
//!
//! `cargo bench -p rdsguard-bench` runs 1k and 10k instances; set `RDSGUARD_BENCH_100K=1` to
//! add 100k (slow to generate, so off by default).

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rdsguard_checks::{Config, check_defs, evaluate_with};
use rdsguard_demo::{SyntheticParams, demo_snapshot, synthetic};

fn now() -> time::OffsetDateTime {
    time::macros::datetime!(2026-11-01 09:00:00 UTC)
}

fn evaluate_sizes(c: &mut Criterion, sizes: &[usize], group_name: &str) {
    let defs = check_defs();
    let config = Config::default();
    let mut group = c.benchmark_group(group_name);
    group.sample_size(10);
    for &n in sizes {
        let snapshot = synthetic(&SyntheticParams::with_instances(n));
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::from_parameter(n), &snapshot, |b, snap| {
            b.iter(|| evaluate_with(snap, &config, now(), &defs))
        });
    }
    group.finish();
}

fn evaluate_synthetic(c: &mut Criterion) {
    evaluate_sizes(c, &[1_000, 10_000], "evaluate");
}

fn evaluate_synthetic_100k(c: &mut Criterion) {
    if std::env::var("RDSGUARD_BENCH_100K").is_ok_and(|v| v == "1") {
        evaluate_sizes(c, &[100_000], "evaluate_100k");
    }
}

fn evaluate_demo(c: &mut Criterion) {
    let defs = check_defs();
    let config = Config::default();
    let snapshot = demo_snapshot();
    c.bench_function("evaluate_demo", |b| {
        b.iter(|| evaluate_with(&snapshot, &config, now(), &defs))
    });
}

fn generate(c: &mut Criterion) {
    let mut group = c.benchmark_group("generate");
    group.sample_size(10);
    group.throughput(Throughput::Elements(10_000));
    group.bench_function("10000", |b| {
        b.iter(|| synthetic(&SyntheticParams::with_instances(10_000)))
    });
    group.finish();
}

criterion_group!(
    benches,
    evaluate_demo,
    evaluate_synthetic,
    evaluate_synthetic_100k,
    generate
);
criterion_main!(benches);
