//! Input handling: every accepted layout, directory walking, and bad input (truncated or
//! corrupt gzip, invalid JSON, non-CloudTrail JSON, huge records, many events, hostile
//! bytes): an error per input, scanning goes on, nothing panics.

mod common;

use std::io::{Cursor, Read, Write};
use std::path::Path;

use common::*;
use flate2::Compression;
use flate2::write::GzEncoder;
use proptest::prelude::*;
use rdsguard_trail::{Scanner, TrailOptions, TrailResult, scan_reader};
use serde_json::{Value, json};

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::default());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

fn snapshot_delete(id: &str) -> Value {
    let mut e = rds("DeleteDBSnapshot", json!({"dBSnapshotIdentifier": id}));
    e["eventID"] = json!(id);
    e
}

fn read(name: &str, bytes: Vec<u8>) -> TrailResult {
    scan_reader(name, Cursor::new(bytes), &opts()).unwrap()
}

fn deleted(r: &TrailResult) -> Vec<String> {
    event_ids(r, "trail_rds_deleted")
}

fn no_internal_error(r: &TrailResult) {
    for s in &r.skipped_inputs {
        assert!(!s.reason.contains("internal error"), "{s:?}");
    }
}

#[test]
fn layouts() {
    let a = snapshot_delete("a");
    let b = snapshot_delete("b");
    let doc = |evs: &[&Value]| json!({ "Records": evs }).to_string();

    // S3 delivery format, plain and gzip; multi-member gzip of two log files.
    assert_eq!(
        deleted(&read("x.json", doc(&[&a, &b]).into_bytes())),
        ["a", "b"]
    );
    assert_eq!(
        deleted(&read("x.json.gz", gzip(doc(&[&a, &b]).as_bytes()))),
        ["a", "b"]
    );
    let mut multi = gzip(doc(&[&a]).as_bytes());
    multi.extend(gzip(doc(&[&b]).as_bytes()));
    let r = read("multi.json.gz", multi);
    assert_eq!(deleted(&r), ["a", "b"]);
    assert_eq!(
        r.stats.bytes_uncompressed,
        (doc(&[&a]).len() + doc(&[&b]).len()) as u64
    );

    // Pretty-printed, with whitespace inside the header.
    let pretty = format!(
        "\n {{ \n \"Records\" \t: \r\n [ {} ,\n {} ] \n }} \n",
        serde_json::to_string_pretty(&a).unwrap(),
        serde_json::to_string_pretty(&b).unwrap()
    );
    assert_eq!(
        deleted(&read("pretty.json", pretty.into_bytes())),
        ["a", "b"]
    );

    // A bare array (Stratus Red Team's upstream layout).
    assert_eq!(
        deleted(&read("array.json", json!([a, b]).to_string().into_bytes())),
        ["a", "b"]
    );

    // One event per line (CloudTrail Lake), and EventBridge envelopes.
    let lines = format!("{a}\n{b}\n");
    assert_eq!(deleted(&read("lake.jsonl", lines.into_bytes())), ["a", "b"]);
    let envelope = |e: &Value| {
        json!({"version": "0", "id": "x", "detail-type": "AWS API Call via CloudTrail",
               "source": "aws.rds", "account": "111111111111", "time": "2024-05-01T10:00:00Z",
               "region": "us-east-1", "resources": [], "detail": e})
    };
    let bridged = format!("{}\n{}\n", envelope(&a), envelope(&b));
    let r = read("eventbridge.jsonl", bridged.into_bytes());
    assert_eq!(deleted(&r), ["a", "b"]);
    assert_eq!(r.stats.events, 2);

    // Records that is not the first member, and members after it.
    let late = format!(r#"{{"note": {{"x": [1, 2]}}, "Records": [{a}]}}"#);
    assert_eq!(deleted(&read("late.json", late.into_bytes())), ["a"]);
    let extra = format!(r#"{{"Records": [{a}], "next": {{"k": [1, "]"]}}, "n": 1}}"#);
    let r = read("extra.json", extra.into_bytes());
    assert_eq!(deleted(&r), ["a"]);
    assert!(r.skipped_inputs.is_empty());

    // An empty log is valid.
    let r = read("empty-log.json", br#"{"Records":[]}"#.to_vec());
    assert!(r.skipped_inputs.is_empty() && r.findings.is_empty());

    // Keys with escapes are still recognised.
    let escaped = r#"{"Records":[{"event\u004eame":"DeleteDBSnapshot","eventSource":"rds.amazonaws.com","eventTime":"2024-05-01T10:00:00Z","requestParameters":{"dBSnapshotIdentifier":"e"},"eventID":"e","recipientAccountId":"1"}]}"#;
    assert_eq!(
        deleted(&read("esc.json", escaped.as_bytes().to_vec())),
        ["e"]
    );
}

#[test]
fn digest_files_are_not_events_nor_errors() {
    let digest = json!({"awsAccountId": "111111111111", "digestStartTime": "2024-05-01T10:00:00Z",
                        "digestEndTime": "2024-05-01T11:00:00Z", "logFiles": []});
    let r = read("digest.json.gz", gzip(digest.to_string().as_bytes()));
    assert!(r.skipped_inputs.is_empty());
    assert_eq!(r.stats.digest_records, 1);
    assert_eq!(r.stats.events, 0);
}

#[test]
fn directory_walk() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let doc = |id: &str| json!({"Records": [snapshot_delete(id)]}).to_string();
    std::fs::write(root.join("a.json"), doc("a")).unwrap();
    std::fs::write(root.join("b.json.gz"), gzip(doc("b").as_bytes())).unwrap();
    std::fs::create_dir_all(root.join("sub/deeper")).unwrap();
    std::fs::write(
        root.join("sub/deeper/c.jsonl"),
        format!("{}\n", snapshot_delete("c")),
    )
    .unwrap();
    std::fs::write(root.join("notes.txt"), "not a log").unwrap();
    std::fs::create_dir_all(root.join("CloudTrail-Digest")).unwrap();
    std::fs::write(root.join("CloudTrail-Digest/d.json.gz"), gzip(b"{}")).unwrap();
    let explicit = root.join("explicit.log");
    std::fs::write(&explicit, doc("x")).unwrap();
    let missing = root.join("missing.json");

    let r = scan_paths(&[root.to_path_buf(), explicit, missing], &opts());
    // explicit.log is not named like a log, so the walk leaves it out; named on the command
    // line, it is read.
    assert_eq!(deleted(&r), ["a", "b", "c", "x"]);
    assert_eq!(r.stats.files, 4);
    assert_eq!(
        r.stats.files_ignored, 3,
        "notes.txt, explicit.log (in the walk), CloudTrail-Digest"
    );
    assert_eq!(r.skipped_inputs.len(), 1);
    assert!(r.skipped_inputs[0].input.ends_with("missing.json"));
    assert!(r.skipped_inputs[0].reason.contains("cannot read"));
}

#[test]
fn several_accumulators_like_s3_workers() {
    let scanner = Scanner::new(&opts()).unwrap();
    let (mut one, mut two) = (scanner.accumulator(), scanner.accumulator());
    let doc = |id: &str| json!({"Records": [snapshot_delete(id)]}).to_string();
    scanner.scan_reader(&mut one, "s3://bucket/one.json", Cursor::new(doc("a")));
    scanner.scan_reader(
        &mut two,
        "s3://bucket/two.json.gz",
        Cursor::new(gzip(doc("b").as_bytes())),
    );
    scanner.scan_reader(
        &mut two,
        "s3://bucket/bad.json.gz",
        Cursor::new(b"\x1f\x8bnot gzip".to_vec()),
    );
    let r = scanner.finish(vec![one, two]);
    assert_eq!(deleted(&r), ["a", "b"]);
    assert_eq!(r.stats.files, 3);
    assert_eq!(r.skipped_inputs.len(), 1);
    assert_eq!(r.skipped_inputs[0].input, "s3://bucket/bad.json.gz");
}

fn reason(r: &TrailResult) -> String {
    assert_eq!(r.skipped_inputs.len(), 1, "{:?}", r.skipped_inputs);
    r.skipped_inputs[0].reason.clone()
}

#[test]
fn truncated_and_corrupt_gzip() {
    let real = std::fs::read(
        cloudtrail_dir()
            .join("invictus_aws_dataset/218007301253_CloudTrail_us-east-1_20230710T1215Z_YMDRJwtmC82bUwAo.json.gz"),
    )
    .unwrap();
    let truncated = real[..real.len() / 2].to_vec();
    let r = read("cut.json.gz", truncated);
    let why = reason(&r);
    assert!(why.contains("truncated") || why.contains("end"), "{why}");
    assert!(
        r.skipped_inputs[0].records_before_error > 0,
        "events before the cut were scanned"
    );
    assert!(r.stats.events > 0);

    let mut corrupt = real.clone();
    let middle = corrupt.len() / 2;
    for b in &mut corrupt[middle..middle + 64] {
        *b ^= 0x5a;
    }
    let r = read("corrupt.json.gz", corrupt);
    no_internal_error(&r);
    assert_eq!(r.skipped_inputs.len(), 1);

    // Scanning goes on after a bad file.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bad.json.gz"), &real[..100]).unwrap();
    std::fs::write(
        dir.path().join("good.json"),
        json!({"Records": [snapshot_delete("good")]}).to_string(),
    )
    .unwrap();
    let r = scan_paths(&[dir.path().to_path_buf()], &opts());
    assert_eq!(deleted(&r), ["good"]);
    assert_eq!(r.skipped_inputs.len(), 1);
    assert!(r.input_skipped());
}

#[test]
fn invalid_and_non_cloudtrail_json() {
    let r = read("bad.json", br#"{"Records":[{"eventName": }]}"#.to_vec());
    assert!(reason(&r).contains("invalid JSON"), "{}", reason(&r));
    let r = read("cut.json", br#"{"Records":[{"eventName":"X""#.to_vec());
    assert!(reason(&r).contains("truncated"), "{}", reason(&r));
    let r = read("cut2.json", br#"{"Records":[{"eventName":"X"},"#.to_vec());
    assert!(reason(&r).contains("truncated"), "{}", reason(&r));
    let r = read("nocomma.json", br#"{"Records":[{"a":1} {"b":2}]}"#.to_vec());
    assert!(reason(&r).contains("expected `,`"), "{}", reason(&r));
    for (name, body) in [
        ("other.json", r#"{"foo": [1, 2, 3]}"#),
        ("numbers.json", "[1, 2, 3]"),
        ("string.json", r#""hello""#),
        ("scalars.jsonl", "1\n2\ntrue\nnull\n"),
    ] {
        let r = read(name, body.as_bytes().to_vec());
        assert!(
            reason(&r).starts_with("not CloudTrail"),
            "{name}: {}",
            reason(&r)
        );
    }
    let r = read("empty.json", Vec::new());
    assert!(reason(&r).contains("empty"));
    let r = read("blank.json", b"  \n\t ".to_vec());
    assert!(reason(&r).contains("empty"));
    let r = read("binary.bin", (0..=255u8).cycle().take(10_000).collect());
    no_internal_error(&r);
    assert_eq!(r.skipped_inputs.len(), 1);
    // Nesting beyond the parser's recursion limit is an error, not a stack overflow.
    let deep = format!("{}{}", "[".repeat(200_000), "]".repeat(200_000));
    let r = read("deep.json", deep.into_bytes());
    no_internal_error(&r);
    assert_eq!(r.skipped_inputs.len(), 1);
}

#[test]
fn huge_records() {
    let mut big = snapshot_delete("big");
    big["userAgent"] = json!("u".repeat(5 << 20));
    let doc = json!({"Records": [snapshot_delete("small"), big]}).to_string();
    // Within the default 64 MiB limit: read (the buffer grows for it).
    let r = read("big.json", doc.clone().into_bytes());
    assert_eq!(deleted(&r), ["big", "small"]);
    // Above a 1 MiB limit: the input fails at that record; the one before was scanned.
    let o = TrailOptions {
        max_record_bytes: 1 << 20,
        ..opts()
    };
    let r = scan_reader("big.json", Cursor::new(doc), &o).unwrap();
    assert_eq!(deleted(&r), ["small"]);
    assert!(
        reason(&r).contains("larger than the limit"),
        "{}",
        reason(&r)
    );
}

/// An endless-looking stream of small events, generated on the fly.
struct Generated {
    remaining: usize,
    pending: Vec<u8>,
    started: bool,
}

impl Read for Generated {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.pending.is_empty() {
            if !self.started {
                self.started = true;
                self.pending.extend_from_slice(b"{\"Records\":[");
            } else if self.remaining > 0 {
                self.remaining -= 1;
                let sep = if self.remaining == 0 { "]}" } else { "," };
                let kind = if self.remaining.is_multiple_of(1000) {
                    "DeleteDBSnapshot"
                } else {
                    "DescribeDBInstances"
                };
                self.pending.extend_from_slice(
                    format!(
                        r#"{{"eventVersion":"1.08","eventTime":"2024-05-01T10:00:00Z","eventSource":"rds.amazonaws.com","eventName":"{kind}","awsRegion":"us-east-1","userIdentity":{{"type":"IAMUser","arn":"arn:aws:iam::1:user/u{}"}},"requestParameters":{{"dBSnapshotIdentifier":"s"}},"eventID":"{}","recipientAccountId":"1"}}{sep}"#,
                        self.remaining % 7,
                        self.remaining
                    )
                    .as_bytes(),
                );
            } else {
                return Ok(0);
            }
        }
        let n = buf.len().min(self.pending.len());
        buf[..n].copy_from_slice(&self.pending[..n]);
        self.pending.drain(..n);
        Ok(n)
    }
}

#[test]
fn many_events_in_one_records_array() {
    let n = 200_000;
    let stream = Generated {
        remaining: n,
        pending: Vec::new(),
        started: false,
    };
    let r = scan_reader("generated.json", stream, &opts()).unwrap();
    assert_eq!(r.stats.events, n as u64);
    assert!(r.skipped_inputs.is_empty());
    let f = findings_of(&r, "trail_rds_deleted");
    assert_eq!(
        f.len(),
        1,
        "one finding per resource, whatever the number of events"
    );
    assert_eq!(f[0].evidence["event_count"], (n / 1000) as u64);
    assert_eq!(f[0].evidence["events_shown"], 50);
    assert_eq!(r.summary.by_principal.len(), 7);
    assert_eq!(
        r.summary.by_event["rds:DescribeDBInstances"].events,
        (n - n / 1000) as u64
    );
}

fn valid_log() -> Vec<u8> {
    json!({"Records": [snapshot_delete("a"), rds("ModifyDBInstance", json!({"dBInstanceIdentifier": "d", "publiclyAccessible": true}))]})
        .to_string()
        .into_bytes()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, .. ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let r = read("fuzz.json", bytes);
        no_internal_error(&r);
    }

    #[test]
    fn damaged_logs_never_panic(cut in 0usize..2000, flips in proptest::collection::vec((0usize..2000, any::<u8>()), 0..8), gz in any::<bool>()) {
        let mut bytes = valid_log();
        if gz {
            bytes = gzip(&bytes);
        }
        for (at, value) in flips {
            if !bytes.is_empty() {
                let i = at % bytes.len();
                bytes[i] = value;
            }
        }
        let cut = cut.min(bytes.len());
        bytes.truncate(cut);
        let r = read("damaged.json", bytes);
        no_internal_error(&r);
        prop_assert!(r.stats.events <= 2);
    }

    #[test]
    fn json_fragments_never_panic(doc in "[\\[\\]{}\",:0-9a-zA-Z \\\\nRecords]{0,300}") {
        let r = read("fragment.json", doc.into_bytes());
        no_internal_error(&r);
    }
}

#[test]
fn eventbridge_fixture() {
    // A hand-written EventBridge export: envelopes around CloudTrail events, one per line,
    // plus a non-CloudTrail EventBridge event.
    let f = fixtures().join("eventbridge.jsonl");
    assert!(Path::new(&f).is_file());
    let r = scan_paths(&[f], &opts());
    assert!(r.skipped_inputs.is_empty(), "{:?}", r.skipped_inputs);
    assert_eq!(event_ids(&r, "trail_rds_made_public"), ["eb-1"]);
    assert_eq!(r.stats.events, 2);
    assert_eq!(r.stats.non_cloudtrail_records, 1);
    let f = &findings_of(&r, "trail_rds_made_public")[0];
    assert_eq!(f.resource.account_id, "222222222222");
    assert_eq!(f.resource.region.as_deref(), Some("eu-west-1"));
}

#[test]
fn scanner_is_shareable_across_worker_threads() {
    fn send<T: Send>() {}
    fn sync<T: Sync>() {}
    send::<rdsguard_trail::Accumulator>();
    sync::<Scanner>();
    send::<Scanner>();
    // Two threads, one scanner, one accumulator each (as an S3 lister would use them).
    let scanner = Scanner::new(&opts()).unwrap();
    let accs: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = ["a", "b"]
            .iter()
            .map(|id| {
                let scanner = &scanner;
                s.spawn(move || {
                    let mut acc = scanner.accumulator();
                    let doc = json!({"Records": [snapshot_delete(id)]}).to_string();
                    scanner.scan_reader(&mut acc, id, Cursor::new(doc));
                    acc
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(deleted(&scanner.finish(accs)), ["a", "b"]);
}
