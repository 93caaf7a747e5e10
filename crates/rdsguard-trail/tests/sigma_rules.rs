//! The Sigma evaluator: every shipped SigmaHQ CloudTrail rule on a generated matching event
//! and a non-matching one, exact match counts on the real logs for a representative subset,
//! each supported feature, and rules that must be reported rather than evaluated.

mod common;

use std::collections::BTreeMap;
use std::io::Cursor;
use std::path::{Path, PathBuf};

use common::*;
use rdsguard_trail::{RuleProblem, Scanner, TrailOptions, TrailResult};
use serde_json::{Value, json};

fn sigma_opts(dirs: Vec<PathBuf>) -> TrailOptions {
    TrailOptions {
        sigma_dirs: dirs,
        ..opts()
    }
}

fn scan_with(scanner: &Scanner, events: &[Value]) -> TrailResult {
    let mut acc = scanner.accumulator();
    let doc = json!({ "Records": events }).to_string();
    scanner.scan_reader(&mut acc, "synthetic.json", Cursor::new(doc));
    scanner.finish(vec![acc])
}

fn rule_docs() -> Vec<(PathBuf, Value)> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(sigma_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            let doc: Value = serde_saphyr::from_str(&text).unwrap();
            (p, doc)
        })
        .collect()
}

#[test]
fn every_shipped_rule_loads() {
    let scanner = Scanner::new(&sigma_opts(vec![sigma_dir()])).unwrap();
    assert_eq!(scanner.rule_problems(), &[] as &[RuleProblem]);
    let sigma: Vec<_> = scanner
        .detections()
        .iter()
        .filter(|d| d.id.starts_with("sigma:"))
        .collect();
    assert_eq!(sigma.len(), 57);
    let master = sigma
        .iter()
        .find(|d| d.id == "sigma:8a63cdd4-6207-414a-85bc-7e032bd3c1a2")
        .unwrap();
    assert_eq!(master.title, "AWS RDS Master Password Change");
    assert_eq!(master.severity, rdsguard_findings::Severity::Medium);
    assert_eq!(master.compliance.mitre_attack, ["T1020"]);
    assert!(
        master.rationale.contains("faloker"),
        "the author is credited"
    );
}

/// The selections a condition needs to hold (heuristic, for generating test events; the
/// evaluator under test decides).
fn positive_selections(cond: &str, names: &[String]) -> Vec<String> {
    let spaced = cond.replace('(', " ( ").replace(')', " ) ");
    let toks: Vec<&str> = spaced.split_whitespace().collect();
    let matching = |pat: &str| -> Vec<String> {
        let mut v: Vec<String> = names
            .iter()
            .filter(|n| {
                if pat == "them" {
                    true
                } else if let Some(prefix) = pat.strip_suffix('*') {
                    n.starts_with(prefix)
                } else {
                    *n == pat
                }
            })
            .cloned()
            .collect();
        v.sort();
        v
    };
    let mut out = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        match toks[i] {
            "not" => {
                // Skip the negated operand.
                i += 1;
                if toks.get(i) == Some(&"(") {
                    let mut depth = 0;
                    while i < toks.len() {
                        match toks[i] {
                            "(" => depth += 1,
                            ")" => depth -= 1,
                            _ => {}
                        }
                        i += 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    continue;
                }
                if toks.get(i + 1) == Some(&"of") {
                    i += 3;
                } else {
                    i += 1;
                }
            }
            "and" | "or" | "(" | ")" => i += 1,
            q if toks.get(i + 1) == Some(&"of") => {
                let m = matching(toks[i + 2]);
                if q == "all" {
                    out.extend(m);
                } else {
                    out.extend(m.into_iter().take(1));
                }
                i += 3;
            }
            name => {
                out.push(name.to_string());
                i += 1;
            }
        }
    }
    out
}

/// A value satisfying `field|modifiers: value`.
fn satisfying(field: &str, mods: &[&str], value: &Value) -> Option<Value> {
    if mods.contains(&"exists") {
        return (value == &json!(true)).then(|| json!("present"));
    }
    if mods.contains(&"re") {
        assert_eq!(
            field, "userIdentity.arn",
            "hand-written value for the only regex rule"
        );
        return Some(json!(
            "arn:aws:sts::111111111111:assumed-role/aws:ec2-instance/i-0abc"
        ));
    }
    let text = |v: &Value| match v {
        Value::String(s) => s.replace('*', "").replace('?', "a"),
        other => other.to_string(),
    };
    let place = |s: String| {
        if mods.contains(&"contains") {
            format!("pre {s} post")
        } else if mods.contains(&"startswith") {
            format!("{s} post")
        } else if mods.contains(&"endswith") {
            format!("pre {s}")
        } else {
            s
        }
    };
    match value {
        Value::Null => None,
        Value::Array(items) if mods.contains(&"all") => Some(json!(place(
            items.iter().map(text).collect::<Vec<_>>().join(" ")
        ))),
        Value::Array(items) => satisfying(field, mods, &items[0]),
        Value::String(_) if mods.is_empty() => Some(json!(text(value))),
        Value::Bool(_) | Value::Number(_) if mods.is_empty() => Some(value.clone()),
        other => Some(json!(place(text(other)))),
    }
}

/// An event matching the rule, and the name of the field that makes it match first.
fn matching_event(doc: &Value) -> (Value, Vec<String>) {
    let detection = doc["detection"].as_object().unwrap();
    let names: Vec<String> = detection
        .keys()
        .filter(|k| *k != "condition")
        .cloned()
        .collect();
    let cond = detection["condition"].as_str().unwrap();
    let mut ev = event(
        "example.amazonaws.com",
        "ExampleCall",
        json!({}),
        Value::Null,
    );
    let mut fields = Vec::new();
    let mut refs = Vec::new();
    for sel in positive_selections(cond, &names) {
        let map = match &detection[&sel] {
            Value::Object(m) => m.clone(),
            Value::Array(items) => items[0].as_object().unwrap().clone(),
            other => panic!("selection {sel}: {other}"),
        };
        for (key, value) in map {
            let mut parts = key.split('|');
            let field = parts.next().unwrap().to_string();
            let mods: Vec<&str> = parts.collect();
            if mods.contains(&"fieldref") {
                refs.push((field, value.as_str().unwrap().to_string()));
                continue;
            }
            match satisfying(&field, &mods, &value) {
                Some(v) => ev = with(ev, &field, v),
                None => ev = with(ev, &field, Value::Null),
            }
            fields.push(field);
        }
    }
    for (field, other) in refs {
        ev = with(ev, &field, json!("same-value"));
        ev = with(ev, &other, json!("same-value"));
    }
    (ev, fields)
}

#[test]
fn every_shipped_rule_matches_its_event_and_not_another() {
    let scanner = Scanner::new(&sigma_opts(vec![sigma_dir()])).unwrap();
    let mut failures = Vec::new();
    let docs = rule_docs();
    assert_eq!(docs.len(), 57);
    for (path, doc) in &docs {
        let id = format!("sigma:{}", doc["id"].as_str().unwrap());
        let (positive, fields) = matching_event(doc);
        let r = scan_with(&scanner, std::slice::from_ref(&positive));
        if findings_of(&r, &id).len() != 1 {
            failures.push(format!("{}: no match on {positive}", path.display()));
        }
        // Break the first field the rule needs (the event name when it has one).
        let key = if fields.iter().any(|f| f == "eventName") {
            "eventName".to_string()
        } else {
            fields[0].clone()
        };
        let negative = with(positive.clone(), &key, json!("zz-does-not-match"));
        let r = scan_with(&scanner, std::slice::from_ref(&negative));
        if !findings_of(&r, &id).is_empty() {
            failures.push(format!("{}: matched {negative}", path.display()));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn match_counts_on_the_real_logs() {
    let r = scan_paths(&[cloudtrail_dir()], &sigma_opts(vec![sigma_dir()]));
    // Counted independently (Python over the valid files; see SOURCES.md for the first).
    let expected = [
        // Successful ConsoleLogin with MFAUsed "No": only a case-insensitive match finds them.
        ("77caf516-34e5-4df9-b4db-20744fea0a60", 21),
        // userIdentity.type Root and not an AwsServiceEvent.
        ("8ad1600d-e9dc-4251-b0ee-a65268f29add", 15),
        // StopLogging/UpdateTrail/DeleteTrail, failed calls included (the rule does not look
        // at errorCode).
        ("4db60cc0-36fb-42b7-9b58-a5b53019fb74", 16),
        // responseElements.publiclyAccessible: 'true' matches the JSON boolean.
        ("c3f265c7-ff03-4056-8ab2-d486227b4599", 2),
        ("8a63cdd4-6207-414a-85bc-7e032bd3c1a2", 1),
        ("6fb77778-040f-4015-9440-572aa9b6b580", 14),
    ];
    for (id, n) in expected {
        assert_eq!(event_count(&r, &format!("sigma:{id}")), n, "rule {id}");
    }
    // Sigma findings carry the rule's author (DRL 1.1 asks for credit).
    let f = findings_of(&r, "sigma:77caf516-34e5-4df9-b4db-20744fea0a60");
    assert!(
        f.iter()
            .all(|f| f.evidence.contains_key("sigma_rule_author"))
    );
    assert_eq!(f[0].resource.resource_type, "AwsIamPrincipal");
}

/// Writes rules into a fresh directory.
fn rules_dir(rules: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in rules {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    dir
}

fn rule(id: &str, detection: &str) -> String {
    format!(
        "title: test rule {id}\nid: {id}\nstatus: test\nauthor: tester\nlogsource:\n  product: aws\n  service: cloudtrail\ndetection:\n{detection}\nlevel: high\n"
    )
}

fn matched_ids(scanner: &Scanner, ev: &Value) -> Vec<String> {
    let r = scan_with(scanner, std::slice::from_ref(ev));
    let mut ids: Vec<String> = r
        .findings
        .iter()
        .filter_map(|f| f.check_id.strip_prefix("sigma:").map(str::to_string))
        .collect();
    ids.sort();
    ids
}

#[test]
fn evaluator_features() {
    let rules = [
        (
            "a.yml",
            rule(
                "case",
                "  sel:\n    eventName: modifydbinstance\n  condition: sel",
            ),
        ),
        (
            "b.yml",
            rule(
                "cased",
                "  sel:\n    eventName|cased: modifydbinstance\n  condition: sel",
            ),
        ),
        (
            "c.yml",
            rule(
                "wild",
                "  sel:\n    eventName: 'Modify*Inst?nce'\n  condition: sel",
            ),
        ),
        (
            "d.yml",
            rule(
                "all",
                "  sel:\n    userAgent|contains|all: [aws-cli, '2.15']\n  condition: sel",
            ),
        ),
        (
            "e.yml",
            rule(
                "allneg",
                "  sel:\n    userAgent|contains|all: [aws-cli, boto3]\n  condition: sel",
            ),
        ),
        (
            "f.yml",
            rule(
                "cidr",
                "  sel:\n    sourceIPAddress|cidr: 198.51.100.0/24\n  condition: sel",
            ),
        ),
        (
            "g.yml",
            rule(
                "cidrneg",
                "  sel:\n    sourceIPAddress|cidr: 10.0.0.0/8\n  condition: sel",
            ),
        ),
        (
            "h.yml",
            rule(
                "exists",
                "  sel:\n    requestParameters.dBInstanceIdentifier|exists: true\n  condition: sel",
            ),
        ),
        (
            "i.yml",
            rule(
                "notexists",
                "  sel:\n    errorCode|exists: false\n  condition: sel",
            ),
        ),
        (
            "j.yml",
            rule("isnull", "  sel:\n    errorCode: null\n  condition: sel"),
        ),
        (
            "k.yml",
            rule(
                "re",
                "  sel:\n    userIdentity.arn|re: ':user/ALICE$'\n  condition: sel",
            ),
        ),
        (
            "l.yml",
            rule(
                "rei",
                "  sel:\n    userIdentity.arn|re|i: ':user/ALICE$'\n  condition: sel",
            ),
        ),
        (
            "m.yml",
            rule(
                "bool",
                "  sel:\n    requestParameters.publiclyAccessible: 'true'\n  condition: sel",
            ),
        ),
        (
            "n.yml",
            rule(
                "num",
                "  sel:\n    requestParameters.allocatedStorage|gte: 100\n  condition: sel",
            ),
        ),
        (
            "o.yml",
            rule(
                "nested",
                "  a:\n    eventName: ModifyDBInstance\n  b:\n    eventSource: s3.amazonaws.com\n  c:\n    userIdentity.type: IAMUser\n  condition: (a or b) and not (not c)",
            ),
        ),
        (
            "p.yml",
            rule(
                "oneofthem",
                "  x1:\n    eventName: Nope\n  x2:\n    awsRegion: us-east-1\n  condition: 1 of them",
            ),
        ),
        (
            "q.yml",
            rule(
                "allofthem",
                "  x1:\n    eventName: Nope\n  x2:\n    awsRegion: us-east-1\n  condition: all of them",
            ),
        ),
        (
            "q2.yml",
            rule(
                "allofx",
                "  x1:\n    eventName: ModifyDBInstance\n  x2:\n    awsRegion: us-east-1\n  condition: all of x*",
            ),
        ),
        (
            "r.yml",
            rule(
                "keywords",
                "  keywords:\n    - 'prod-db'\n  condition: keywords",
            ),
        ),
        (
            "s.yml",
            rule(
                "keywordneg",
                "  keywords:\n    - 'staging-db'\n  condition: keywords",
            ),
        ),
        (
            "t.yml",
            rule(
                "listofmaps",
                "  sel:\n    - eventName: Nope\n    - requestParameters.dBInstanceIdentifier|startswith: prod\n  condition: sel",
            ),
        ),
        (
            "u.yml",
            rule(
                "fieldref",
                "  sel:\n    userIdentity.userName|fieldref: requestParameters.owner\n  condition: sel",
            ),
        ),
        (
            "v.yml",
            rule(
                "objcontains",
                "  sel:\n    requestParameters|contains: '\"publiclyAccessible\":true'\n  condition: sel",
            ),
        ),
        (
            "w.yml",
            rule(
                "arrays",
                "  sel:\n    requestParameters.vpcSecurityGroupIds: sg-2\n  condition: sel",
            ),
        ),
        (
            "x.yml",
            rule(
                "condlist",
                "  a:\n    eventName: Nope\n  b:\n    eventName: ModifyDBInstance\n  condition:\n    - a\n    - b",
            ),
        ),
    ];
    let texts: Vec<(&str, &str)> = rules.iter().map(|(n, t)| (*n, t.as_str())).collect();
    let dir = rules_dir(&texts);
    let scanner = Scanner::new(&sigma_opts(vec![dir.path().to_path_buf()])).unwrap();
    assert_eq!(scanner.rule_problems(), &[] as &[RuleProblem]);
    let ev = rds(
        "ModifyDBInstance",
        json!({"dBInstanceIdentifier": "prod-db", "publiclyAccessible": true, "allocatedStorage": 100,
               "vpcSecurityGroupIds": ["sg-1", "sg-2"], "owner": "alice"}),
    );
    let got = matched_ids(&scanner, &ev);
    let want = [
        "all",
        "allofx",
        "arrays",
        "bool",
        "case",
        "cidr",
        "condlist",
        "exists",
        "fieldref",
        "isnull",
        "keywords",
        "listofmaps",
        "nested",
        "notexists",
        "num",
        "objcontains",
        "oneofthem",
        "rei",
        "wild",
    ];
    assert_eq!(got, want);
    // A failed call has an errorCode; a smaller volume fails `gte`.
    let other = failed(
        rds(
            "ModifyDBInstance",
            json!({"dBInstanceIdentifier": "x", "allocatedStorage": 99}),
        ),
        "AccessDenied",
    );
    let got = matched_ids(&scanner, &other);
    assert!(
        !got.contains(&"num".to_string()) && !got.contains(&"isnull".to_string()),
        "{got:?}"
    );
    assert!(got.contains(&"exists".to_string()));
}

fn problems_for(texts: &[(&str, &str)]) -> BTreeMap<String, String> {
    let dir = rules_dir(texts);
    let scanner = Scanner::new(&sigma_opts(vec![dir.path().to_path_buf()])).unwrap();
    scanner
        .rule_problems()
        .iter()
        .map(|p| (p.rule.clone(), p.reason.clone()))
        .collect()
}

#[test]
fn unsupported_features_are_reported_per_rule() {
    let rules = [
        ("1.yml", rule("agg", "  sel:\n    eventName: X\n  condition: sel | count() > 5")),
        ("2.yml", rule("tf", "  sel:\n    eventName: X\n  timeframe: 5m\n  condition: sel")),
        ("3.yml", rule("b64", "  sel:\n    userAgent|base64offset|contains: x\n  condition: sel")),
        ("4.yml", rule("windash", "  sel:\n    userAgent|windash: -x\n  condition: sel")),
        ("5.yml", "title: corr\nid: corr\ncorrelation:\n  type: event_count\n  rules: [a]\n".to_string()),
        ("6.yml", rule("unknownsel", "  sel:\n    eventName: X\n  condition: other")),
        ("7.yml", "title: win\nid: win\nlogsource:\n  product: windows\n  category: process_creation\ndetection:\n  sel:\n    Image: x\n  condition: sel\n".to_string()),
        ("8.yml", rule("nestedmap", "  sel:\n    requestParameters:\n      a: b\n  condition: sel")),
        ("9.yml", "title: [unclosed\n".to_string()),
        ("10.yml", rule("badcidr", "  sel:\n    sourceIPAddress|cidr: not-a-cidr\n  condition: sel")),
        ("11.yml", rule("nocond", "  sel:\n    eventName: X")),
    ];
    let texts: Vec<(&str, &str)> = rules.iter().map(|(n, t)| (*n, t.as_str())).collect();
    let p = problems_for(&texts);
    assert_eq!(p.len(), 11, "{p:#?}");
    assert!(p["agg"].contains("aggregation"));
    assert!(p["tf"].contains("timeframe"));
    assert!(p["b64"].contains("base64offset"));
    assert!(p["windash"].contains("windash"));
    assert!(p["corr"].contains("correlation"));
    assert!(p["unknownsel"].contains("unknown selection"));
    assert!(p["win"].contains("not AWS CloudTrail"));
    assert!(p["nestedmap"].contains("nested map"));
    assert!(p["9.yml"].contains("invalid YAML"));
    assert!(p["badcidr"].contains("CIDR"));
    assert!(p["nocond"].contains("condition"));
}

#[test]
fn hostile_rules_are_rejected_without_panicking_or_hanging() {
    let laughs = "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\ng: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\nh: [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]\n".to_string();
    let deep_yaml = format!(
        "title: deep\nid: deep\nx: {}{}\n",
        "[".repeat(5000),
        "]".repeat(5000)
    );
    let huge_regex = rule(
        "hugere",
        &format!(
            "  sel:\n    userAgent|re: '{}'\n  condition: sel",
            "(a{1000}){1000}"
        ),
    );
    let deep_cond = rule(
        "deepcond",
        &format!(
            "  sel:\n    eventName: X\n  condition: {}sel{}",
            "(".repeat(3000),
            ")".repeat(3000)
        ),
    );
    let many_nots = rule(
        "nots",
        &format!(
            "  sel:\n    eventName: X\n  condition: {}sel",
            "not ".repeat(3000)
        ),
    );
    let long_value = rule(
        "long",
        &format!(
            "  sel:\n    userAgent|contains: '{}'\n  condition: sel",
            "x".repeat(200_000)
        ),
    );
    let rules = [
        ("laughs.yml", laughs.as_str()),
        ("deep.yml", deep_yaml.as_str()),
        ("hugere.yml", huge_regex.as_str()),
        ("deepcond.yml", deep_cond.as_str()),
        ("nots.yml", many_nots.as_str()),
        ("long.yml", long_value.as_str()),
    ];
    let started = std::time::Instant::now();
    let p = problems_for(&rules);
    assert!(
        started.elapsed().as_secs() < 30,
        "rule loading must not hang"
    );
    assert!(
        p.contains_key("laughs.yml") || p.contains_key("laughs"),
        "{p:#?}"
    );
    assert!(p.contains_key("deep.yml"), "{p:#?}");
    assert!(p["hugere"].contains("regular expression"), "{p:#?}");
    assert!(p["deepcond"].contains("condition"), "{p:#?}");
    assert!(p["nots"].contains("condition"), "{p:#?}");
    // A long literal is fine: it loads and simply does not match.
    assert!(!p.contains_key("long"), "{p:#?}");
}

#[test]
fn duplicate_ids_and_missing_directories() {
    let a = rule("same", "  sel:\n    eventName: X\n  condition: sel");
    let p = problems_for(&[("a.yml", a.as_str()), ("b.yml", a.as_str())]);
    assert!(p["same"].contains("duplicate"));
    let missing = sigma_opts(vec![Path::new("/nonexistent/rules").to_path_buf()]);
    assert!(matches!(
        Scanner::new(&missing),
        Err(rdsguard_trail::TrailError::SigmaDir { .. })
    ));
}

mod loader_fuzz {
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 300, .. ProptestConfig::default() })]

        #[test]
        fn arbitrary_text_never_panics(text in "[ -~\n\t]{0,400}") {
            let _ = rdsguard_trail::validate_sigma_rule(&text, "fuzz.yml");
        }

        #[test]
        fn arbitrary_detections_never_panic(
            field in "[a-zA-Z.]{0,20}",
            mods in proptest::collection::vec(prop_oneof![
                Just("contains"), Just("startswith"), Just("endswith"), Just("all"), Just("re"),
                Just("i"), Just("cidr"), Just("exists"), Just("cased"), Just("fieldref"),
                Just("gt"), Just("base64"), Just("x")], 0..4),
            value in prop_oneof![Just("null".to_string()), "[ -~]{0,20}".prop_map(|s| format!("'{}'", s.replace('\'', "''"))), Just("[a, b]".to_string()), Just("true".to_string()), Just("42".to_string())],
            cond in "(sel|not|and|or|1 of|all of|them|sel\\*|\\(|\\)| ){0,12}",
        ) {
            let key = if mods.is_empty() { field.clone() } else { format!("{}|{}", field, mods.join("|")) };
            let text = format!(
                "title: t\nid: f\nlogsource:\n  product: aws\n  service: cloudtrail\ndetection:\n  sel:\n    '{key}': {value}\n  condition: '{cond}'\n"
            );
            if let Ok(meta) = rdsguard_trail::validate_sigma_rule(&text, "fuzz.yml") {
                prop_assert_eq!(meta.id, "sigma:f");
            }
        }
    }
}
