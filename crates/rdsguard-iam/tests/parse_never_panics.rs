//! Property tests: random and mutated policy JSON never panics the parser, the compiler, the
//! evaluator or the batch simulator; errors carry a location.

use proptest::prelude::*;
use rdsguard_iam::compile::{CompiledPolicy, PolicyKind};
use rdsguard_iam::policy::PolicyDocument;
use rdsguard_iam::simulate::simulate_line;
use serde_json::{Value, json};

/// Words of the policy grammar, so random documents often get deep into the parser.
const WORDS: &[&str] = &[
    "Version",
    "2012-10-17",
    "2008-10-17",
    "Statement",
    "Sid",
    "Effect",
    "Allow",
    "Deny",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Principal",
    "NotPrincipal",
    "AWS",
    "Service",
    "Federated",
    "CanonicalUser",
    "Condition",
    "StringEquals",
    "ForAllValues:StringLike",
    "ForAnyValue:ArnLike",
    "NumericLessThanIfExists",
    "DateGreaterThan",
    "Bool",
    "Null",
    "IpAddress",
    "NotIpAddress",
    "BinaryEquals",
    "aws:SourceIp",
    "aws:username",
    "*",
    "rds:*",
    "kms:Decrypt",
    "arn:aws:rds:*:*:db:${aws:username}",
    "${*}",
    "${",
    "}",
    "10.0.0.0/8",
    "::/0",
    "2026-01-01",
    "1e9",
    "-",
    "",
];

fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(WORDS).prop_map(str::to_string),
        "\\PC{0,12}",
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| json!(f)),
        word().prop_map(Value::String),
    ];
    leaf.prop_recursive(5, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(word(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A valid policy with one random element replaced.
fn mutated_policy() -> impl Strategy<Value = Value> {
    (
        prop::sample::select(
            &[
                "Version",
                "Statement",
                "Effect",
                "Action",
                "Resource",
                "Principal",
                "Condition",
                "NotAction",
                "Sid",
            ][..],
        ),
        json_value(),
        any::<bool>(),
    )
        .prop_map(|(field, value, top)| {
            let mut p = json!({
                "Version": "2012-10-17",
                "Statement": [{
                    "Effect": "Allow",
                    "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
                    "Action": ["rds:*", "kms:Decrypt"],
                    "Resource": "*",
                    "Condition": {"StringEquals": {"aws:username": "alice"}}
                }]
            });
            if top {
                p[field] = value;
            } else {
                p["Statement"][0][field] = value;
            }
            p
        })
}

fn exercise(v: &Value) {
    match PolicyDocument::from_value(v) {
        Ok(doc) => {
            for kind in [
                PolicyKind::Identity,
                PolicyKind::Resource,
                PolicyKind::Scp,
                PolicyKind::Rcp,
            ] {
                let _ = CompiledPolicy::compile("p", kind, doc.clone());
            }
        }
        Err(e) => assert!(!e.path.is_empty()),
    }
    for slot in ["identityPolicies", "resourcePolicy", "scps"] {
        let policy = if slot == "resourcePolicy" {
            v.clone()
        } else {
            json!([v])
        };
        let mut line = json!({
            "id": 1,
            "request": {
                "principal": "arn:aws:sts::111122223333:assumed-role/Ops/s",
                "action": "kms:Decrypt",
                "resource": "arn:aws:kms:us-east-1:111122223333:key/k",
                "context": {"aws:username": "alice", "aws:SourceIp": "10.1.2.3", "aws:TagKeys": ["a"]}
            }
        });
        line[slot] = policy;
        let answer: Value =
            serde_json::from_str(&simulate_line(&line.to_string())).expect("answers are JSON");
        assert!(answer["decision"].is_string() != answer["error"].is_string());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1500))]

    #[test]
    fn random_json_never_panics(v in json_value()) {
        exercise(&v);
    }

    #[test]
    fn mutated_policies_never_panic(v in mutated_policy()) {
        exercise(&v);
    }

    #[test]
    fn random_text_never_panics(s in "\\PC{0,200}") {
        let _ = PolicyDocument::parse(&s);
        let answer: Value = serde_json::from_str(&simulate_line(&s)).expect("answers are JSON");
        prop_assert!(answer["error"].is_string() || answer["decision"].is_string());
    }
}

/// ARN-like text from the characters that decide a validation prefix.
fn arn_like() -> impl Strategy<Value = String> {
    let part = "[a-z0-9:/*?é-]{0,6}";
    (part, part, part).prop_map(|(a, b, c)| format!("arn:aws:rds:us-east-1:123:{a}{b}{c}"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    /// The bulk who-can reuses a validation when the next ARN extends the last prefix: it
    /// must be exactly when the next ARN has that prefix.
    #[test]
    fn an_extended_prefix_is_the_arns_own(first in arn_like(), tail in "[a-z0-9:/*?é-]{0,4}") {
        use rdsguard_iam::sar::{prefix_extended_by, validation_prefix};
        if let Some(prefix) = validation_prefix(&first) {
            let next = format!("{prefix}{tail}");
            prop_assert_eq!(
                prefix_extended_by(prefix, &next),
                validation_prefix(&next) == Some(prefix)
            );
            prop_assert_eq!(
                prefix_extended_by(prefix, &first),
                validation_prefix(&first) == Some(prefix)
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    /// The bulk who-can reads an ARN in place and parses it only when needed: reading in
    /// place must accept what the parser accepts and give the same account, region and key.
    #[test]
    fn an_arn_read_in_place_is_the_arn_parsed(
        text in prop_oneof![
            "(arn:)?[a-zA-Z0-9:/*-]{0,24}",
            "arn:[a-zA-Z]{0,3}:[a-zA-Z]{0,3}:[a-zA-Z0-9-]{0,4}:[0-9]{0,3}:[a-zA-Z0-9:/-]{0,6}",
        ],
    ) {
        use rdsguard_iam::context::{Arn, ArnInPlace, RequestResource};
        let parsed = Arn::parse(&text);
        let in_place = ArnInPlace::of(&text);
        prop_assert_eq!(parsed.is_some(), in_place.is_some());
        if let (Some(_), Some(parts)) = (parsed, in_place) {
            let resource = RequestResource::parse(&text, None).expect("parses");
            prop_assert_eq!(&resource, &RequestResource::of_parts(parts, None));
            let lower = resource.arn_lower.as_ref().expect("an ARN");
            prop_assert_eq!(lower.region(), parts.region().to_ascii_lowercase());
            prop_assert_eq!(
                resource.account.as_deref(),
                Some(parts.account()).filter(|a| !a.is_empty())
            );
            if let Some(key) = parts.key_as_written() {
                prop_assert_eq!(key, lower.key());
            }
        }
    }
}
