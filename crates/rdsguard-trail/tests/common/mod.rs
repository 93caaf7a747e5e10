//! Shared helpers for the integration tests: the public data set, synthetic events, and
//! finding lookups.
#![allow(dead_code)]

use std::io::Cursor;
use std::path::PathBuf;

use rdsguard_findings::Finding;
use rdsguard_trail::{TrailOptions, TrailResult, scan, scan_reader};
use serde_json::{Value, json};

/// `<workspace>/../shared/data`: the public CloudTrail logs and Sigma rules. CI has them;
/// without them the tests fail (they never skip silently).
pub fn data_dir() -> PathBuf {
    let dir = manifest_dir().join("../../../shared/data");
    assert!(
        dir.join("cloudtrail").is_dir() && dir.join("sigma/aws_cloudtrail").is_dir(),
        "test data not found at {}: these tests need the shared CloudTrail and Sigma data \
         (../shared/data next to the repository)",
        dir.display()
    );
    dir
}

pub fn cloudtrail_dir() -> PathBuf {
    data_dir().join("cloudtrail")
}

pub fn sigma_dir() -> PathBuf {
    data_dir().join("sigma/aws_cloudtrail")
}

pub fn fixtures() -> PathBuf {
    manifest_dir().join("tests/fixtures")
}

/// Single-threaded options (deterministic and light on the shared machine).
pub fn opts() -> TrailOptions {
    TrailOptions {
        threads: 1,
        ..TrailOptions::default()
    }
}

pub fn scan_paths(paths: &[PathBuf], opts: &TrailOptions) -> TrailResult {
    scan(paths, opts).expect("scan")
}

/// Scans events given as JSON values, in the S3 delivery format.
pub fn scan_events(events: &[Value], opts: &TrailOptions) -> TrailResult {
    let doc = json!({ "Records": events });
    scan_reader("synthetic.json", Cursor::new(doc.to_string()), opts).expect("scan")
}

/// A successful CloudTrail event by an IAM user, with the given call and parameters.
pub fn event(source: &str, name: &str, request: Value, response: Value) -> Value {
    json!({
        "eventVersion": "1.08",
        "userIdentity": {
            "type": "IAMUser",
            "principalId": "AIDAEXAMPLE",
            "arn": "arn:aws:iam::111111111111:user/alice",
            "accountId": "111111111111",
            "userName": "alice"
        },
        "eventTime": "2024-05-01T10:00:00Z",
        "eventSource": source,
        "eventName": name,
        "awsRegion": "us-east-1",
        "sourceIPAddress": "198.51.100.7",
        "userAgent": "aws-cli/2.15.0",
        "requestParameters": request,
        "responseElements": response,
        "eventID": format!("ev-{name}"),
        "eventType": "AwsApiCall",
        "recipientAccountId": "111111111111"
    })
}

pub fn rds(name: &str, request: Value) -> Value {
    event("rds.amazonaws.com", name, request, Value::Null)
}

/// The same event with another field set (dotted path).
pub fn with(mut ev: Value, path: &str, value: Value) -> Value {
    let mut cur = &mut ev;
    let parts: Vec<&str> = path.split('.').collect();
    for (i, part) in parts.iter().enumerate() {
        if i + 1 == parts.len() {
            cur[*part] = value;
            break;
        }
        if !cur[*part].is_object() {
            cur[*part] = json!({});
        }
        cur = &mut cur[*part];
    }
    ev
}

/// The event, failed with `code`.
pub fn failed(ev: Value, code: &str) -> Value {
    let mut ev = with(ev, "errorCode", json!(code));
    ev["responseElements"] = Value::Null;
    ev
}

pub fn findings_of<'r>(result: &'r TrailResult, check: &str) -> Vec<&'r Finding> {
    result
        .findings
        .iter()
        .filter(|f| f.check_id == check)
        .collect()
}

/// eventIDs behind the findings of `check`, sorted.
pub fn event_ids(result: &TrailResult, check: &str) -> Vec<String> {
    let mut ids: Vec<String> = findings_of(result, check)
        .iter()
        .flat_map(|f| {
            f.evidence["events"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .filter_map(|e| e["eventID"].as_str().map(str::to_string))
        })
        .collect();
    ids.sort();
    ids
}

/// Total events behind the findings of `check`.
pub fn event_count(result: &TrailResult, check: &str) -> u64 {
    findings_of(result, check)
        .iter()
        .map(|f| f.evidence["event_count"].as_u64().unwrap_or(0))
        .sum()
}

/// This crate's directory, as cargo gives it when running the tests: a test binary kept in a
/// target directory shared by several checkouts (CI's clean clone and the working tree) must
/// read the files of the checkout it runs for, not of the one it was built in.
fn manifest_dir() -> std::path::PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}
