//! The built-in detections on real public CloudTrail logs (see
//! ../shared/data/cloudtrail/SOURCES.md): the events known to be there are found, by eventID,
//! and the labelled Panther samples agree with the detections that share their intent.

mod common;

use std::collections::BTreeMap;
use std::io::Cursor;

use common::*;
use rdsguard_findings::Severity;
use rdsguard_trail::{TrailOptions, scan_reader};
use serde_json::{Value, json};

fn ids(v: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = v.iter().map(|s| s.to_string()).collect();
    v.sort();
    v
}

#[test]
fn invictus_attack_simulation() {
    let r = scan_paths(&[cloudtrail_dir().join("invictus_aws_dataset")], &opts());
    assert_eq!(r.stats.files, 55);
    assert_eq!(r.stats.events, 2900);
    assert!(r.skipped_inputs.is_empty(), "{:?}", r.skipped_inputs);

    // The snapshot share (valuesToAdd) is found; the unshare (valuesToRemove, d1bc9379) is not.
    assert_eq!(
        event_ids(&r, "trail_rds_snapshot_shared"),
        ids(&["2d19ab1e-82e9-4302-ad10-a405b50c8d49"])
    );
    let share = &findings_of(&r, "trail_rds_snapshot_shared")[0];
    assert_eq!(share.resource.id, "exfiltration");
    assert_eq!(share.severity, Severity::High);
    assert!(share.message.contains("193672423079"));

    // Deletion of the snapshot, and of the instance with a final snapshot (the failed
    // attempt with skipFinalSnapshot, c704b1d0, did not happen).
    assert_eq!(
        event_ids(&r, "trail_rds_deleted"),
        ids(&[
            "1b51dbcc-50a4-4e5c-a558-69096203818a",
            "b5232796-c668-4d71-a006-d9cabb3d607d"
        ])
    );
    assert!(findings_of(&r, "trail_rds_deleted_without_final_snapshot").is_empty());
    // The instance was created with backupRetentionPeriod 0 (and not public).
    assert_eq!(
        event_ids(&r, "trail_rds_backup_retention_disabled"),
        ids(&["fdc74c82-c299-4211-a08e-b5f125ee3b58"])
    );
    assert!(findings_of(&r, "trail_rds_made_public").is_empty());

    // CloudTrail tampering: two successful DeleteTrail (b7e19efd failed), every StopLogging
    // failed, two PutEventSelectors (the first excludes management events).
    assert_eq!(
        event_ids(&r, "trail_cloudtrail_stopped"),
        ids(&[
            "c0057a42-1625-4b1d-9db5-352f931f790a",
            "fcec2e46-3cc3-4ac2-8144-3674f06990e4"
        ])
    );
    assert_eq!(
        event_ids(&r, "trail_cloudtrail_modified"),
        ids(&[
            "076e96d5-2983-473f-920a-2fc2d7e02777",
            "3d6df238-f83c-4a34-bea8-45cf80a2050b"
        ])
    );
    assert_eq!(
        findings_of(&r, "trail_cloudtrail_modified")[0].severity,
        Severity::High
    );

    // One of the two console logins used no MFA.
    assert_eq!(
        event_ids(&r, "trail_console_login_without_mfa"),
        ids(&["70e5932e-9022-4b38-837e-ca10dad94eb7"])
    );
    // Ingress opened to 0.0.0.0/0 on 443 and (flat shape) 22: not database ports.
    assert!(findings_of(&r, "trail_sg_db_port_open_to_internet").is_empty());
    // 44 UnauthorizedOperation errors, but on GetPasswordData/DescribeInstanceAttribute,
    // which are not security-group actions.
    assert!(findings_of(&r, "trail_access_denied_burst").is_empty());
    assert_eq!(
        r.findings.len(),
        8,
        "{:#?}",
        r.findings.iter().map(|f| &f.message).collect::<Vec<_>>()
    );
}

#[test]
fn invictus_security_group_rules_when_22_is_a_database_port() {
    // Both request shapes of AuthorizeSecurityGroupIngress, read from the real events.
    let o = TrailOptions {
        db_ports: vec![22, 443],
        ..opts()
    };
    let r = scan_paths(&[cloudtrail_dir().join("invictus_aws_dataset")], &o);
    assert_eq!(
        event_ids(&r, "trail_sg_db_port_open_to_internet"),
        ids(&[
            "74bd84b4-6729-4895-b2a4-e2beb7c6b377",
            "7e96f0e7-4d78-423d-b3f5-391370685b30"
        ])
    );
}

#[test]
fn elastic_pipeline_samples() {
    let dir = cloudtrail_dir().join("elastic_integrations_pipeline_samples");
    let r = scan_paths(std::slice::from_ref(&dir), &opts());
    assert_eq!(r.stats.files, 15);
    assert!(r.skipped_inputs.is_empty(), "{:?}", r.skipped_inputs);
    // The public ModifyDBInstance, and the instances created/restored public (said by the
    // response only).
    assert_eq!(
        event_ids(&r, "trail_rds_made_public"),
        ids(&[
            "47bea7f3-8517-48d3-be30-16de2421ff49",
            "74cda083-4dd1-441b-9c88-77446f9d8216",
            "d82a0cd1-6987-459a-b7bc-557a06bf16f2",
            "e74a78f8-5411-40ad-b663-05985f8065df"
        ])
    );
    let public: Vec<_> = findings_of(&r, "trail_rds_made_public")
        .into_iter()
        .filter(|f| f.resource.id == "test-cloudtrail-event-instance-31611")
        .collect();
    assert_eq!(public.len(), 1);
    assert_eq!(
        public[0].resource.arn.as_deref(),
        Some("arn:aws:rds:us-east-1:000000000:db:test-cloudtrail-event-instance-31611")
    );
    assert_eq!(
        event_ids(&r, "trail_rds_master_password_changed"),
        ids(&["f029eaf0-a7ff-41d3-86cc-d46742094e1b"])
    );
    assert_eq!(
        event_ids(&r, "trail_rds_deleted_without_final_snapshot"),
        ids(&[
            "02b373b8-8b7b-49a9-8b56-2a6364d01de5",
            "b03bcf00-a3ce-46dc-8902-e426f2b33b69"
        ])
    );
    assert_eq!(
        event_ids(&r, "trail_rds_restored_from_snapshot"),
        ids(&["e74a78f8-5411-40ad-b663-05985f8065df"])
    );
    assert_eq!(
        event_ids(&r, "trail_kms_key_disabled"),
        ids(&["4a3864f4-8562-48e6-a0e5-795d63095b63"])
    );
    assert_eq!(
        event_ids(&r, "trail_kms_key_deletion_scheduled"),
        ids(&["bf8d383c-5843-48ec-97a2-3c2af7418543"])
    );
    // UpdateTrail: the TrailNotFoundException one did not happen.
    assert_eq!(
        event_ids(&r, "trail_cloudtrail_modified"),
        ids(&["EXAMPLE-b5e9-4846-8407-EXAMPLE"])
    );
    // One successful console login without MFA; two failures.
    assert_eq!(
        event_ids(&r, "trail_console_login_without_mfa"),
        ids(&["3fcfb182-98f8-4744-bd45-10aEXAMPLE"])
    );
    // Ingress from 203.0.113.0/24 on 22: not the internet.
    assert!(findings_of(&r, "trail_sg_db_port_open_to_internet").is_empty());
    // The cluster snapshot is shared with 123456789012, which is also the recipient account
    // of another sample in this folder: a scanned account is trusted...
    assert!(findings_of(&r, "trail_rds_snapshot_shared").is_empty());
    // ...but on its own the share is to a foreign account.
    let file = dir.join("test-modify-db-cluster-snapshot-attribute-json.json");
    let r = scan_paths(&[file], &opts());
    assert_eq!(
        event_ids(&r, "trail_rds_snapshot_shared"),
        ids(&["1ad2c01b-6dc8-4b4f-80a4-823df5fe1145"])
    );
    assert_eq!(
        findings_of(&r, "trail_rds_snapshot_shared")[0]
            .resource
            .resource_type,
        "AwsRdsDbClusterSnapshot"
    );
}

#[test]
fn stratus_red_team_detonations() {
    let dir = cloudtrail_dir().join("stratus_red_team_detonation_logs");
    let r = scan_paths(std::slice::from_ref(&dir), &opts());
    assert_eq!(r.stats.files, 35);
    assert_eq!(
        event_ids(&r, "trail_rds_snapshot_shared"),
        ids(&["fef2bf02-bbea-4d0f-a91c-e6ccfe3fba46"])
    );
    assert_eq!(
        event_ids(&r, "trail_cloudtrail_stopped"),
        ids(&[
            "10163ed2-2253-469d-a5ee-cbc6651f8934",
            "ee73c230-44bc-4492-8542-cfb189eae287"
        ])
    );
    assert_eq!(
        event_ids(&r, "trail_cloudtrail_modified"),
        ids(&["c2a89408-340a-42f0-8ace-75d9f5769393"])
    );
    assert_eq!(
        event_ids(&r, "trail_console_login_without_mfa"),
        ids(&["865d9377-9c6b-4fd7-8aad-725e95f6a140"])
    );
    // The anonymised `208.236.235.254/0` is open to the world: found once 22 counts.
    let o = TrailOptions {
        db_ports: vec![22],
        ..opts()
    };
    let r = scan_paths(
        &[dir.join("aws.exfiltration.ec2-security-group-open-port-22-ingress.json")],
        &o,
    );
    assert_eq!(
        event_ids(&r, "trail_sg_db_port_open_to_internet"),
        ids(&["9fd68588-ecbf-4528-a345-199fa6bb0821"])
    );
}

#[test]
fn whole_corpus_with_its_bad_files() {
    let r = scan_paths(&[cloudtrail_dir()], &opts());
    // 251 log files plus Panther's labels.jsonl; SOURCES.md is not a log name.
    assert_eq!(r.stats.files, 252);
    assert_eq!(r.stats.files_ignored, 1);
    let skipped: BTreeMap<String, String> = r
        .skipped_inputs
        .iter()
        .map(|s| {
            let name = s.input.rsplit('/').next().unwrap_or_default().to_string();
            (name, s.reason.clone())
        })
        .collect();
    assert_eq!(skipped.len(), 2, "{skipped:?}");
    assert!(skipped["labels.jsonl"].starts_with("not CloudTrail"));
    let malformed = &skipped["aws.execution.ec2-user-data.malformed.json"];
    assert!(malformed.contains("invalid JSON"), "{malformed}");
    let partial = r
        .skipped_inputs
        .iter()
        .find(|s| s.input.ends_with("malformed.json"))
        .unwrap();
    assert_eq!(
        partial.records_before_error, 1,
        "the record before the error was scanned"
    );
    // 3711 records in the valid files (SOURCES.md), plus the one read before the error.
    assert_eq!(r.stats.events + r.stats.non_cloudtrail_records - 464, 3712);
    assert!(r.input_skipped());
    // Same result, byte for byte, whatever the number of threads.
    let many = scan_paths(
        &[cloudtrail_dir()],
        &TrailOptions {
            threads: 4,
            ..opts()
        },
    );
    assert_eq!(
        serde_json::to_string(&r.findings).unwrap(),
        serde_json::to_string(&many.findings).unwrap()
    );
    assert_eq!(r.summary, many.summary);
    assert_eq!(r.stats, many.stats);
}

/// Panther rule → the built-in detection with the same intent. Panther's verdicts on its
/// labelled samples must match ours (each sample scanned alone).
const AGREEING: &[(&str, &[&str])] = &[
    ("AWS.RDS.InstanceMadePublic", &["trail_rds_made_public"]),
    ("AWS.RDS.PublicRestore", &["trail_rds_made_public"]),
    (
        "AWS.RDS.DeletionProtectionDisabled",
        &["trail_rds_deletion_protection_disabled"],
    ),
    (
        "AWS.RDS.MasterPasswordUpdated",
        &["trail_rds_master_password_changed"],
    ),
    ("AWS.RDS.SnapshotExport", &["trail_rds_snapshot_exported"]),
    ("AWS.RDS.SnapshotShared", &["trail_rds_snapshot_shared"]),
    ("AWS.RDS.SnapshotDeleted", &["trail_rds_deleted"]),
    (
        "AWS.RDS.SnapshotCopiedCrossRegion",
        &["trail_rds_snapshot_copied"],
    ),
    ("AWS.CloudTrail.Stopped", &["trail_cloudtrail_stopped"]),
    (
        "AWS.KMS.CustomerManagedKeyLoss",
        &["trail_kms_key_disabled", "trail_kms_key_deletion_scheduled"],
    ),
];

/// Samples where our verdict differs on purpose: (rule, test name, why).
const DIFFERENT_ON_PURPOSE: &[(&str, &str, &str)] = &[(
    "AWS.RDS.PublicRestore",
    "Not-Restore-RDS-Request",
    "a CreateDBInstance whose response says publiclyAccessible=true: Panther's rule only \
     looks at restores, ours also reports databases created public",
)];

#[test]
fn panther_labelled_samples_agree() {
    let dir = cloudtrail_dir().join("panther_cloudtrail_rule_tests");
    let labels = std::fs::read_to_string(dir.join("labels.jsonl")).unwrap();
    let mut checked = 0;
    let mut disagreements = Vec::new();
    for line in labels.lines() {
        let label: Value = serde_json::from_str(line).unwrap();
        let rule = label["rule_id"].as_str().unwrap();
        let Some((_, ours)) = AGREEING.iter().find(|(r, _)| *r == rule) else {
            continue;
        };
        let file = dir.join(label["data_file"].as_str().unwrap());
        let doc: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        let index = label["index_in_file"].as_u64().unwrap() as usize;
        let record = &doc["Records"][index];
        let single = json!({ "Records": [record] }).to_string();
        let r = scan_reader("sample.json", Cursor::new(single), &opts()).unwrap();
        let flagged = ours.iter().any(|c| !findings_of(&r, c).is_empty());
        let expected = label["expected_result"].as_bool().unwrap();
        let test_name = label["test_name"].as_str().unwrap_or_default();
        let on_purpose = DIFFERENT_ON_PURPOSE
            .iter()
            .any(|(r, t, _)| *r == rule && *t == test_name);
        if (flagged != expected) != on_purpose {
            disagreements.push(format!(
                "{rule} / {test_name}: Panther says {expected}, we say {flagged}"
            ));
        }
        checked += 1;
    }
    assert_eq!(checked, 38);
    assert!(disagreements.is_empty(), "{disagreements:#?}");
}
