//! Built-in detections on synthetic events: each one with events that must and must not
//! produce a finding.

mod common;

use std::time::Duration;

use common::*;
use rdsguard_findings::{Severity, Status};
use serde_json::{Value, json};

fn count(events: &[Value], check: &str) -> usize {
    findings_of(&scan_events(events, &opts()), check).len()
}

#[test]
fn catalogue_is_complete_and_documented() {
    let cat = rdsguard_trail::builtin_detections();
    assert_eq!(cat.len(), 22);
    let mut ids: Vec<&str> = cat.iter().map(|c| c.id.as_str()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 22, "ids are unique");
    for c in &cat {
        assert!(c.id.starts_with("trail_"), "{}", c.id);
        assert!(!c.title.is_empty() && !c.description.is_empty());
        assert!(!c.rationale.is_empty() && !c.remediation.is_empty());
        assert!(
            !c.compliance.mitre_attack.is_empty(),
            "{} has a MITRE technique",
            c.id
        );
        for t in &c.compliance.mitre_attack {
            assert!(
                t.starts_with('T') && t[1..].chars().all(|ch| ch.is_ascii_digit() || ch == '.')
            );
        }
    }
}

#[test]
fn finding_carries_the_events_facts() {
    let ev = rds(
        "ModifyDBInstance",
        json!({"dBInstanceIdentifier": "prod", "publiclyAccessible": true}),
    );
    let r = scan_events(&[ev], &opts());
    let f = findings_of(&r, "trail_rds_made_public");
    assert_eq!(f.len(), 1);
    let f = f[0];
    assert_eq!(f.status, Status::Fail);
    assert_eq!(f.severity, Severity::High);
    assert_eq!(f.resource.resource_type, "AwsRdsDbInstance");
    assert_eq!(f.resource.id, "prod");
    assert_eq!(f.resource.account_id, "111111111111");
    assert_eq!(f.resource.region.as_deref(), Some("us-east-1"));
    let e = &f.evidence["events"][0];
    assert_eq!(e["eventID"], "ev-ModifyDBInstance");
    assert_eq!(e["eventTime"], "2024-05-01T10:00:00Z");
    assert_eq!(e["recipientAccountId"], "111111111111");
    assert_eq!(e["awsRegion"], "us-east-1");
    assert_eq!(e["principal"], "arn:aws:iam::111111111111:user/alice");
    assert_eq!(e["principalType"], "IAMUser");
    assert_eq!(e["sourceIPAddress"], "198.51.100.7");
    assert_eq!(e["details"]["publiclyAccessible"], true);
    assert_eq!(f.evidence["event_count"], 1);
}

#[test]
fn failed_calls_did_not_happen() {
    let ev = rds(
        "ModifyDBInstance",
        json!({"dBInstanceIdentifier": "prod", "publiclyAccessible": true, "deletionProtection": false}),
    );
    let r = scan_events(&[failed(ev, "AccessDenied")], &opts());
    assert!(r.findings.is_empty(), "{:?}", r.findings);
}

#[test]
fn made_public() {
    let check = "trail_rds_made_public";
    let modify = |v: Value| {
        rds(
            "ModifyDBInstance",
            json!({"dBInstanceIdentifier": "db", "publiclyAccessible": v}),
        )
    };
    assert_eq!(count(&[modify(json!(true))], check), 1);
    assert_eq!(count(&[modify(json!("true"))], check), 1);
    assert_eq!(count(&[modify(json!(false))], check), 0);
    assert_eq!(
        count(
            &[rds(
                "ModifyDBInstance",
                json!({"dBInstanceIdentifier": "db", "allocatedStorage": 50})
            )],
            check
        ),
        0
    );
    let cluster = rds(
        "ModifyDBCluster",
        json!({"dBClusterIdentifier": "c", "publiclyAccessible": true}),
    );
    let r = scan_events(&[cluster], &opts());
    assert_eq!(
        findings_of(&r, check)[0].resource.resource_type,
        "AwsRdsDbCluster"
    );
    // Created or restored public, said by the request or only by the response.
    let created = event(
        "rds.amazonaws.com",
        "CreateDBInstance",
        json!({"dBInstanceIdentifier": "new", "engine": "mysql"}),
        json!({"dBInstanceIdentifier": "new", "publiclyAccessible": true}),
    );
    assert_eq!(count(&[created], check), 1);
    let restored = rds(
        "RestoreDBInstanceFromDBSnapshot",
        json!({"dBInstanceIdentifier": "r", "dBSnapshotIdentifier": "s", "publiclyAccessible": true}),
    );
    assert_eq!(count(std::slice::from_ref(&restored), check), 1);
    let private = rds(
        "CreateDBInstance",
        json!({"dBInstanceIdentifier": "p", "publiclyAccessible": false}),
    );
    assert_eq!(count(&[private], check), 0);
}

#[test]
fn snapshot_shared_publicly_or_with_untrusted_accounts() {
    let check = "trail_rds_snapshot_shared";
    let share = |attr: &str, values: Value| {
        rds(
            "ModifyDBSnapshotAttribute",
            json!({"dBSnapshotIdentifier": "snap", "attributeName": attr, "valuesToAdd": values}),
        )
    };
    let r = scan_events(&[share("restore", json!(["all"]))], &opts());
    let f = findings_of(&r, check);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].severity, Severity::Critical);
    assert!(f[0].message.contains("public"));

    let r = scan_events(&[share("restore", json!(["222222222222"]))], &opts());
    let f = findings_of(&r, check);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].severity, Severity::High);
    assert!(f[0].message.contains("222222222222"));

    // Trusted: listed, or one of the scanned accounts (a recipientAccountId in the logs).
    let mut o = opts();
    o.trusted_accounts = vec!["222222222222".into()];
    assert!(
        findings_of(
            &scan_events(&[share("restore", json!(["222222222222"]))], &o),
            check
        )
        .is_empty()
    );
    assert_eq!(
        count(&[share("restore", json!(["111111111111"]))], check),
        0
    );
    let mut other_account_log = rds("DescribeDBInstances", json!({}));
    other_account_log["recipientAccountId"] = json!("333333333333");
    assert_eq!(
        count(
            &[share("restore", json!(["333333333333"])), other_account_log],
            check
        ),
        0
    );

    // Unsharing, other attributes, empty lists: nothing.
    let unshare = rds(
        "ModifyDBSnapshotAttribute",
        json!({"dBSnapshotIdentifier": "snap", "attributeName": "restore", "valuesToRemove": ["222222222222"]}),
    );
    assert_eq!(count(&[unshare], check), 0);
    assert_eq!(count(&[share("restore", json!([]))], check), 0);
    assert_eq!(count(&[share("other", json!(["all"]))], check), 0);

    // Cluster snapshots, two accounts at once: one finding per account.
    let cluster = rds(
        "ModifyDBClusterSnapshotAttribute",
        json!({"dBClusterSnapshotIdentifier": "cs", "attributeName": "restore", "valuesToAdd": ["444444444444", "555555555555"]}),
    );
    let r = scan_events(&[cluster], &opts());
    let f = findings_of(&r, check);
    assert_eq!(f.len(), 2);
    assert!(
        f.iter()
            .all(|f| f.resource.resource_type == "AwsRdsDbClusterSnapshot")
    );
}

#[test]
fn snapshot_copied_across_accounts_or_regions() {
    let check = "trail_rds_snapshot_copied";
    let copy = |source: &str, extra: Value| {
        let mut req =
            json!({"sourceDBSnapshotIdentifier": source, "targetDBSnapshotIdentifier": "copy"});
        if let (Some(r), Some(e)) = (req.as_object_mut(), extra.as_object()) {
            r.extend(e.clone());
        }
        rds("CopyDBSnapshot", req)
    };
    let r = scan_events(
        &[copy(
            "arn:aws:rds:us-east-1:999999999999:snapshot:theirs",
            json!({}),
        )],
        &opts(),
    );
    let f = findings_of(&r, check);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].severity, Severity::High);
    assert!(f[0].message.contains("999999999999"));
    let r = scan_events(
        &[copy(
            "arn:aws:rds:eu-west-1:111111111111:snapshot:mine",
            json!({}),
        )],
        &opts(),
    );
    assert_eq!(findings_of(&r, check)[0].severity, Severity::Medium);
    assert_eq!(
        count(&[copy("mine", json!({"sourceRegion": "eu-west-1"}))], check),
        1
    );
    assert_eq!(count(&[copy("mine", json!({}))], check), 0);
    assert_eq!(
        count(
            &[copy(
                "arn:aws:rds:us-east-1:111111111111:snapshot:mine",
                json!({})
            )],
            check
        ),
        0
    );
}

#[test]
fn restore_and_export() {
    assert_eq!(
        count(
            &[rds(
                "RestoreDBClusterFromSnapshot",
                json!({"dBClusterIdentifier": "c", "snapshotIdentifier": "s"})
            )],
            "trail_rds_restored_from_snapshot"
        ),
        1
    );
    assert_eq!(
        count(
            &[rds(
                "RestoreDBInstanceToPointInTime",
                json!({"targetDBInstanceIdentifier": "t", "sourceDBInstanceIdentifier": "s"})
            )],
            "trail_rds_restored_from_snapshot"
        ),
        1
    );
    assert_eq!(
        count(
            &[rds(
                "CreateDBSnapshot",
                json!({"dBSnapshotIdentifier": "s"})
            )],
            "trail_rds_restored_from_snapshot"
        ),
        0
    );
    let export = rds(
        "StartExportTask",
        json!({"exportTaskIdentifier": "x", "sourceArn": "arn:aws:rds:us-east-1:111111111111:snapshot:s", "s3BucketName": "b", "iamRoleArn": "arn:aws:iam::111111111111:role/r"}),
    );
    let r = scan_events(&[export], &opts());
    let f = findings_of(&r, "trail_rds_snapshot_exported");
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].resource.id, "s");
    assert_eq!(f[0].evidence["events"][0]["details"]["s3BucketName"], "b");
    assert_eq!(
        count(
            &[rds("DescribeExportTasks", json!({}))],
            "trail_rds_snapshot_exported"
        ),
        0
    );
}

#[test]
fn master_password_deletion_protection_backups_iam_auth_logs() {
    let modify = |req: Value| rds("ModifyDBInstance", req);
    let pw = "trail_rds_master_password_changed";
    assert_eq!(
        count(
            &[modify(
                json!({"dBInstanceIdentifier": "d", "masterUserPassword": "HIDDEN_DUE_TO_SECURITY_REASONS"})
            )],
            pw
        ),
        1
    );
    let pending = event(
        "rds.amazonaws.com",
        "ModifyDBInstance",
        json!({"dBInstanceIdentifier": "d"}),
        json!({"pendingModifiedValues": {"masterUserPassword": "****"}}),
    );
    assert_eq!(count(&[pending], pw), 1);
    assert_eq!(
        count(
            &[modify(
                json!({"dBInstanceIdentifier": "d", "allocatedStorage": 10})
            )],
            pw
        ),
        0
    );
    // Creating an instance sets a password; that is not a change.
    assert_eq!(
        count(
            &[rds(
                "CreateDBInstance",
                json!({"dBInstanceIdentifier": "d", "masterUserPassword": "x"})
            )],
            pw
        ),
        0
    );

    let dp = "trail_rds_deletion_protection_disabled";
    assert_eq!(
        count(
            &[modify(
                json!({"dBInstanceIdentifier": "d", "deletionProtection": false})
            )],
            dp
        ),
        1
    );
    assert_eq!(
        count(
            &[modify(
                json!({"dBInstanceIdentifier": "d", "deletionProtection": true})
            )],
            dp
        ),
        0
    );

    let br = "trail_rds_backup_retention_disabled";
    assert_eq!(
        count(
            &[modify(
                json!({"dBInstanceIdentifier": "d", "backupRetentionPeriod": 0})
            )],
            br
        ),
        1
    );
    assert_eq!(
        count(
            &[modify(
                json!({"dBInstanceIdentifier": "d", "backupRetentionPeriod": "0"})
            )],
            br
        ),
        1
    );
    assert_eq!(
        count(
            &[modify(
                json!({"dBInstanceIdentifier": "d", "backupRetentionPeriod": 7})
            )],
            br
        ),
        0
    );
    assert_eq!(
        count(
            &[rds(
                "CreateDBInstance",
                json!({"dBInstanceIdentifier": "d", "backupRetentionPeriod": 0})
            )],
            br
        ),
        1
    );

    let iam = "trail_rds_iam_auth_disabled";
    assert_eq!(
        count(
            &[modify(
                json!({"dBInstanceIdentifier": "d", "enableIAMDatabaseAuthentication": false})
            )],
            iam
        ),
        1
    );
    assert_eq!(
        count(
            &[modify(
                json!({"dBInstanceIdentifier": "d", "enableIAMDatabaseAuthentication": true})
            )],
            iam
        ),
        0
    );

    let logs = "trail_rds_log_exports_disabled";
    let disable = json!({"dBClusterIdentifier": "c", "cloudwatchLogsExportConfiguration": {"disableLogTypes": ["audit"], "enableLogTypes": []}});
    let r = scan_events(&[rds("ModifyDBCluster", disable)], &opts());
    assert_eq!(findings_of(&r, logs).len(), 1);
    assert!(findings_of(&r, logs)[0].message.contains("audit"));
    let enable = json!({"dBClusterIdentifier": "c", "cloudwatchLogsExportConfiguration": {"enableLogTypes": ["audit"], "disableLogTypes": []}});
    assert_eq!(count(&[rds("ModifyDBCluster", enable)], logs), 0);
}

#[test]
fn deletions() {
    let del = "trail_rds_deleted";
    let nofinal = "trail_rds_deleted_without_final_snapshot";
    let skip = rds(
        "DeleteDBInstance",
        json!({"dBInstanceIdentifier": "d", "skipFinalSnapshot": true}),
    );
    let keep = rds(
        "DeleteDBCluster",
        json!({"dBClusterIdentifier": "c", "skipFinalSnapshot": false, "finalDBClusterSnapshotIdentifier": "f"}),
    );
    let r = scan_events(&[skip, keep], &opts());
    assert_eq!(findings_of(&r, del).len(), 2);
    let nf = findings_of(&r, nofinal);
    assert_eq!(nf.len(), 1);
    assert_eq!(nf[0].resource.id, "d");
    assert_eq!(nf[0].severity, Severity::High);
    for (name, req) in [
        ("DeleteDBSnapshot", json!({"dBSnapshotIdentifier": "s"})),
        (
            "DeleteDBClusterSnapshot",
            json!({"dBClusterSnapshotIdentifier": "s"}),
        ),
        (
            "DeleteDBInstanceAutomatedBackup",
            json!({"dbiResourceId": "db-ABC"}),
        ),
    ] {
        assert_eq!(count(&[rds(name, req)], del), 1, "{name}");
    }
    assert_eq!(
        count(
            &[rds(
                "DeleteDBSubnetGroup",
                json!({"dBSubnetGroupName": "g"})
            )],
            del
        ),
        0
    );
}

#[test]
fn tls_parameters_weakened() {
    let check = "trail_rds_tls_weakened";
    let modify = |name: &str, group_key: &str, p: &str, v: &str| {
        rds(
            name,
            json!({group_key: "pg", "parameters": [{"parameterName": p, "parameterValue": v, "applyMethod": "immediate"}]}),
        )
    };
    assert_eq!(
        count(
            &[modify(
                "ModifyDBParameterGroup",
                "dBParameterGroupName",
                "rds.force_ssl",
                "0"
            )],
            check
        ),
        1
    );
    assert_eq!(
        count(
            &[modify(
                "ModifyDBParameterGroup",
                "dBParameterGroupName",
                "rds.force_ssl",
                "1"
            )],
            check
        ),
        0
    );
    assert_eq!(
        count(
            &[modify(
                "ModifyDBClusterParameterGroup",
                "dBClusterParameterGroupName",
                "require_secure_transport",
                "OFF"
            )],
            check
        ),
        1
    );
    assert_eq!(
        count(
            &[modify(
                "ModifyDBClusterParameterGroup",
                "dBClusterParameterGroupName",
                "require_secure_transport",
                "ON"
            )],
            check
        ),
        0
    );
    assert_eq!(
        count(
            &[modify(
                "ModifyDBParameterGroup",
                "dBParameterGroupName",
                "tls_version",
                "TLSv1.1,TLSv1.2"
            )],
            check
        ),
        1
    );
    assert_eq!(
        count(
            &[modify(
                "ModifyDBParameterGroup",
                "dBParameterGroupName",
                "ssl_min_protocol_version",
                "TLSv1.2"
            )],
            check
        ),
        0
    );
    assert_eq!(
        count(
            &[modify(
                "ModifyDBParameterGroup",
                "dBParameterGroupName",
                "max_connections",
                "0"
            )],
            check
        ),
        0
    );
    // The `parameters.items` shape, and resets.
    let items = rds(
        "ModifyDBParameterGroup",
        json!({"dBParameterGroupName": "pg", "parameters": {"items": [{"parameterName": "rds.force_ssl", "parameterValue": "0"}]}}),
    );
    assert_eq!(count(&[items], check), 1);
    let reset_all = rds(
        "ResetDBParameterGroup",
        json!({"dBParameterGroupName": "pg", "resetAllParameters": true}),
    );
    assert_eq!(count(&[reset_all], check), 1);
    let reset_other = rds(
        "ResetDBParameterGroup",
        json!({"dBParameterGroupName": "pg", "resetAllParameters": false, "parameters": [{"parameterName": "max_connections"}]}),
    );
    assert_eq!(count(&[reset_other], check), 0);
}

fn ec2(name: &str, request: Value) -> Value {
    event("ec2.amazonaws.com", name, request, json!({"_return": true}))
}

#[test]
fn security_group_opened_to_the_internet() {
    let check = "trail_sg_db_port_open_to_internet";
    let perms = |proto: &str, from: i64, to: i64, cidr_key: &str, cidr: &str| {
        let ranges_key = if cidr_key == "cidrIp" {
            "ipRanges"
        } else {
            "ipv6Ranges"
        };
        ec2(
            "AuthorizeSecurityGroupIngress",
            json!({"groupId": "sg-1", "ipPermissions": {"items": [{
                "ipProtocol": proto, "fromPort": from, "toPort": to,
                ranges_key: {"items": [{cidr_key: cidr}]}
            }]}}),
        )
    };
    assert_eq!(
        count(&[perms("tcp", 5432, 5432, "cidrIp", "0.0.0.0/0")], check),
        1
    );
    assert_eq!(
        count(&[perms("tcp", 3306, 3306, "cidrIpv6", "::/0")], check),
        1
    );
    assert_eq!(
        count(&[perms("tcp", 1000, 2000, "cidrIp", "0.0.0.0/0")], check),
        1,
        "range holding 1433"
    );
    assert_eq!(
        count(&[perms("-1", -1, -1, "cidrIp", "0.0.0.0/0")], check),
        1,
        "all traffic"
    );
    assert_eq!(
        count(&[perms("tcp", 0, 65535, "cidrIp", "0.0.0.0/0")], check),
        1,
        "all ports"
    );
    assert_eq!(
        count(&[perms("tcp", 22, 22, "cidrIp", "0.0.0.0/0")], check),
        0,
        "not a DB port"
    );
    assert_eq!(
        count(&[perms("tcp", 5432, 5432, "cidrIp", "10.0.0.0/8")], check),
        0,
        "private range"
    );
    assert_eq!(
        count(&[perms("tcp", 5432, 5432, "cidrIp", "0.0.0.0/1")], check),
        0,
        "half the internet is not /0"
    );
    assert_eq!(
        count(&[perms("udp", 5432, 5432, "cidrIp", "0.0.0.0/0")], check),
        0
    );
    // Legacy flat request shape, with an anonymised address and a /0 prefix.
    let flat = ec2(
        "AuthorizeSecurityGroupIngress",
        json!({"groupId": "sg-2", "ipPermissions": {}, "ipProtocol": "tcp", "fromPort": 1521, "toPort": 1521, "cidrIp": "208.236.235.254/0"}),
    );
    let r = scan_events(&[flat], &opts());
    let f = findings_of(&r, check);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].resource.id, "sg-2");
    assert_eq!(f[0].severity, Severity::Critical);
    // Configurable ports.
    let mut o = opts();
    o.db_ports = vec![22];
    assert_eq!(
        findings_of(
            &scan_events(&[perms("tcp", 22, 22, "cidrIp", "0.0.0.0/0")], &o),
            check
        )
        .len(),
        1
    );
    // ModifySecurityGroupRules, single rule and list.
    let modify = |rule: Value| {
        ec2(
            "ModifySecurityGroupRules",
            json!({"ModifySecurityGroupRulesRequest": {"GroupId": "sg-3", "SecurityGroupRule": rule}}),
        )
    };
    let open = json!({"SecurityGroupRuleId": "sgr-1", "SecurityGroupRule": {"IpProtocol": "tcp", "FromPort": 3306, "ToPort": 3306, "CidrIpv4": "0.0.0.0/0"}});
    assert_eq!(count(&[modify(open.clone())], check), 1);
    assert_eq!(count(&[modify(json!([open]))], check), 1);
    let closed = json!({"SecurityGroupRuleId": "sgr-1", "SecurityGroupRule": {"IpProtocol": "tcp", "FromPort": 3306, "ToPort": 3306, "CidrIpv4": "192.0.2.0/24"}});
    assert_eq!(count(&[modify(closed)], check), 0);
    // Egress rules are not ingress.
    let egress = ec2(
        "AuthorizeSecurityGroupEgress",
        json!({"groupId": "sg-1", "ipPermissions": {"items": [{"ipProtocol": "-1", "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]}}]}}),
    );
    assert_eq!(count(&[egress], check), 0);
}

#[test]
fn kms_keys() {
    let kms = |name: &str, req: Value| event("kms.amazonaws.com", name, req, Value::Null);
    let key = "arn:aws:kms:us-east-1:111111111111:key/k1";
    assert_eq!(
        count(
            &[kms("DisableKey", json!({"keyId": key}))],
            "trail_kms_key_disabled"
        ),
        1
    );
    assert_eq!(
        count(
            &[kms("EnableKey", json!({"keyId": key}))],
            "trail_kms_key_disabled"
        ),
        0
    );
    let r = scan_events(
        &[kms(
            "ScheduleKeyDeletion",
            json!({"keyId": key, "pendingWindowInDays": 7}),
        )],
        &opts(),
    );
    let f = findings_of(&r, "trail_kms_key_deletion_scheduled");
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].resource.arn.as_deref(), Some(key));
    assert!(f[0].message.contains("7 days"));
    let scoped = json!({"keyId": "k", "policy": "{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::111111111111:root\"},\"Action\":\"kms:*\",\"Resource\":\"*\"}]}"});
    let r = scan_events(&[kms("PutKeyPolicy", scoped)], &opts());
    assert_eq!(
        findings_of(&r, "trail_kms_key_policy_changed")[0].severity,
        Severity::Medium
    );
    let open = json!({"keyId": "k", "policy": {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*"}]}});
    let r = scan_events(&[kms("PutKeyPolicy", open)], &opts());
    assert_eq!(
        findings_of(&r, "trail_kms_key_policy_changed")[0].severity,
        Severity::Critical
    );
    assert_eq!(
        count(
            &[kms("GetKeyPolicy", json!({"keyId": "k"}))],
            "trail_kms_key_policy_changed"
        ),
        0
    );
}

#[test]
fn cloudtrail_tampering() {
    let ct = |name: &str, req: Value| event("cloudtrail.amazonaws.com", name, req, Value::Null);
    let stopped = "trail_cloudtrail_stopped";
    assert_eq!(
        count(&[ct("StopLogging", json!({"name": "main"}))], stopped),
        1
    );
    let r = scan_events(
        &[ct(
            "DeleteTrail",
            json!({"name": "arn:aws:cloudtrail:us-east-1:111111111111:trail/main"}),
        )],
        &opts(),
    );
    let f = findings_of(&r, stopped);
    assert_eq!(f[0].resource.id, "main");
    assert_eq!(
        f[0].resource.arn.as_deref(),
        Some("arn:aws:cloudtrail:us-east-1:111111111111:trail/main")
    );
    assert_eq!(
        count(&[ct("StartLogging", json!({"name": "main"}))], stopped),
        0
    );
    let modified = "trail_cloudtrail_modified";
    assert_eq!(
        count(
            &[ct(
                "UpdateTrail",
                json!({"name": "main", "s3BucketName": "b"})
            )],
            modified
        ),
        1
    );
    let weakened = ct(
        "PutEventSelectors",
        json!({"trailName": "main", "eventSelectors": [{"readWriteType": "All", "includeManagementEvents": false}]}),
    );
    let r = scan_events(&[weakened], &opts());
    assert_eq!(findings_of(&r, modified)[0].severity, Severity::High);
    let full = ct(
        "PutEventSelectors",
        json!({"trailName": "main", "eventSelectors": [{"readWriteType": "All", "includeManagementEvents": true}]}),
    );
    let r = scan_events(&[full], &opts());
    assert_eq!(findings_of(&r, modified)[0].severity, Severity::Medium);
    assert_eq!(count(&[ct("DescribeTrails", json!({}))], modified), 0);
}

fn console_login(kind: &str, arn: &str, mfa: &str, outcome: &str) -> Value {
    let mut ev = event(
        "signin.amazonaws.com",
        "ConsoleLogin",
        Value::Null,
        json!({"ConsoleLogin": outcome}),
    );
    ev["userIdentity"] = json!({"type": kind, "arn": arn, "accountId": "111111111111"});
    ev["additionalEventData"] =
        json!({"MFAUsed": mfa, "LoginTo": "https://console.aws.amazon.com"});
    ev
}

#[test]
fn console_login_without_mfa() {
    let check = "trail_console_login_without_mfa";
    let user = "arn:aws:iam::111111111111:user/bob";
    assert_eq!(
        count(&[console_login("IAMUser", user, "No", "Success")], check),
        1
    );
    assert_eq!(
        count(&[console_login("IAMUser", user, "Yes", "Success")], check),
        0
    );
    assert_eq!(
        count(&[console_login("IAMUser", user, "No", "Failure")], check),
        0
    );
    let fed = console_login(
        "AssumedRole",
        "arn:aws:sts::111111111111:assumed-role/sso/bob",
        "No",
        "Success",
    );
    assert_eq!(
        count(&[fed], check),
        0,
        "federated sign-in: MFA is the IdP's"
    );
    let r = scan_events(
        &[console_login(
            "Root",
            "arn:aws:iam::111111111111:root",
            "No",
            "Success",
        )],
        &opts(),
    );
    assert_eq!(findings_of(&r, check)[0].severity, Severity::High);
}

#[test]
fn root_activity() {
    let check = "trail_root_activity";
    let mut root = rds("DescribeDBInstances", json!({}));
    root["userIdentity"] = json!({"type": "Root", "arn": "arn:aws:iam::111111111111:root", "accountId": "111111111111"});
    let mut second = root.clone();
    second["eventID"] = json!("ev-2");
    second["eventTime"] = json!("2024-05-01T11:00:00Z");
    let r = scan_events(&[root.clone(), second], &opts());
    let f = findings_of(&r, check);
    assert_eq!(f.len(), 1, "one finding per account");
    assert_eq!(f[0].evidence["event_count"], 2);
    assert_eq!(f[0].resource.resource_type, "AwsAccount");
    assert_eq!(f[0].evidence["first_seen"], "2024-05-01T10:00:00Z");
    assert_eq!(f[0].evidence["last_seen"], "2024-05-01T11:00:00Z");
    let mut service = root.clone();
    service["userIdentity"]["invokedBy"] = json!("support.amazonaws.com");
    assert_eq!(count(&[service], check), 0);
    let mut service_event = root.clone();
    service_event["eventType"] = json!("AwsServiceEvent");
    assert_eq!(count(&[service_event], check), 0);
    assert_eq!(count(&[rds("DescribeDBInstances", json!({}))], check), 0);
    assert_eq!(count(&[failed(root, "AccessDenied")], check), 0);
}

/// `n` denied calls by one principal, `step` seconds apart.
fn denied(n: usize, step: i64, source: &str, name: &str, code: &str) -> Vec<Value> {
    (0..n)
        .map(|i| {
            let t = 1_714_557_600 + i as i64 * step; // 2024-05-01T10:00:00Z
            let when = time::OffsetDateTime::from_unix_timestamp(t).unwrap();
            let ev = event(source, name, json!({}), Value::Null);
            let mut ev = failed(ev, code);
            ev["eventTime"] = json!(
                when.format(&time::format_description::well_known::Rfc3339)
                    .unwrap()
            );
            ev["eventID"] = json!(format!("deny-{i:04}"));
            ev
        })
        .collect()
}

#[test]
fn access_denied_burst() {
    let check = "trail_access_denied_burst";
    // 20 within 10 minutes (one every 30 s: the last is 9.5 min after the first).
    let burst = denied(
        20,
        30,
        "rds.amazonaws.com",
        "DescribeDBInstances",
        "AccessDenied",
    );
    let r = scan_events(&burst, &opts());
    let f = findings_of(&r, check);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].evidence["event_count"], 20);
    assert_eq!(f[0].resource.id, "arn:aws:iam::111111111111:user/alice");
    assert_eq!(f[0].evidence["events"].as_array().unwrap().len(), 20);
    assert!(f[0].message.contains("20 denied"), "{}", f[0].message);
    // 19 are not a burst; 20 spread over more than 10 minutes are not either.
    assert_eq!(
        count(
            &denied(
                19,
                30,
                "rds.amazonaws.com",
                "DescribeDBInstances",
                "AccessDenied"
            ),
            check
        ),
        0
    );
    assert_eq!(
        count(
            &denied(
                20,
                32,
                "rds.amazonaws.com",
                "DescribeDBInstances",
                "AccessDenied"
            ),
            check
        ),
        0
    );
    // EC2: only security-group actions; KMS AccessDeniedException; Client.UnauthorizedOperation.
    assert_eq!(
        count(
            &denied(
                25,
                1,
                "ec2.amazonaws.com",
                "AuthorizeSecurityGroupIngress",
                "Client.UnauthorizedOperation"
            ),
            check
        ),
        1
    );
    assert_eq!(
        count(
            &denied(
                25,
                1,
                "ec2.amazonaws.com",
                "GetPasswordData",
                "Client.UnauthorizedOperation"
            ),
            check
        ),
        0
    );
    assert_eq!(
        count(
            &denied(
                25,
                1,
                "kms.amazonaws.com",
                "Decrypt",
                "AccessDeniedException"
            ),
            check
        ),
        1
    );
    assert_eq!(
        count(
            &denied(25, 1, "s3.amazonaws.com", "GetObject", "AccessDenied"),
            check
        ),
        0
    );
    assert_eq!(
        count(
            &denied(
                25,
                1,
                "rds.amazonaws.com",
                "DescribeDBInstances",
                "ThrottlingException"
            ),
            check
        ),
        0
    );
    // Two bursts an hour apart are two findings; the same second holds several calls.
    let mut two = denied(
        20,
        1,
        "rds.amazonaws.com",
        "DescribeDBInstances",
        "AccessDenied",
    );
    let mut later = denied(
        20,
        0,
        "rds.amazonaws.com",
        "DescribeDBInstances",
        "AccessDenied",
    );
    for (i, e) in later.iter_mut().enumerate() {
        e["eventTime"] = json!("2024-05-01T11:00:00Z");
        e["eventID"] = json!(format!("later-{i:02}"));
    }
    two.extend(later);
    let r = scan_events(&two, &opts());
    let f = findings_of(&r, check);
    assert_eq!(f.len(), 2);
    assert!(f.iter().all(|f| f.evidence["event_count"] == 20));
    // Configurable threshold and window.
    let mut o = opts();
    o.burst_threshold = 5;
    o.burst_window = Duration::from_secs(60);
    let r = scan_events(
        &denied(
            5,
            10,
            "rds.amazonaws.com",
            "DescribeDBInstances",
            "AccessDenied",
        ),
        &o,
    );
    assert_eq!(findings_of(&r, check).len(), 1);
    let r = scan_events(
        &denied(
            5,
            20,
            "rds.amazonaws.com",
            "DescribeDBInstances",
            "AccessDenied",
        ),
        &o,
    );
    assert_eq!(findings_of(&r, check).len(), 0);
}

#[test]
fn many_events_on_one_resource_make_one_finding_with_bounded_evidence() {
    let mut o = opts();
    o.max_events_per_finding = 3;
    let events: Vec<Value> = (0..10)
        .map(|i| {
            let mut e = rds("DeleteDBSnapshot", json!({"dBSnapshotIdentifier": "s"}));
            e["eventID"] = json!(format!("id-{i}"));
            e["eventTime"] = json!(format!("2024-05-01T10:00:{:02}Z", 50 - i));
            e
        })
        .collect();
    let r = scan_events(&events, &o);
    let f = findings_of(&r, "trail_rds_deleted");
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].evidence["event_count"], 10);
    assert_eq!(f[0].evidence["events_shown"], 3);
    let ids: Vec<&str> = f[0].evidence["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["eventID"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        ["id-9", "id-8", "id-7"],
        "the earliest events are kept"
    );
    assert!(f[0].message.contains("and 9 more"));
}

#[test]
fn time_range() {
    let mut early = rds("DeleteDBSnapshot", json!({"dBSnapshotIdentifier": "early"}));
    early["eventTime"] = json!("2024-01-01T00:00:00Z");
    let mut late = rds("DeleteDBSnapshot", json!({"dBSnapshotIdentifier": "late"}));
    late["eventTime"] = json!("2024-06-01T00:00:00Z");
    let mut untimed = rds(
        "DeleteDBSnapshot",
        json!({"dBSnapshotIdentifier": "untimed"}),
    );
    untimed["eventTime"] = json!("redacted");
    let all = [early, late, untimed];
    let mut o = opts();
    o.since = Some(rdsguard_trail::parse_time_bound("2024-03-01T00:00:00Z").unwrap());
    let r = scan_events(&all, &o);
    let f = findings_of(&r, "trail_rds_deleted");
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].resource.id, "late");
    assert_eq!(r.stats.events_out_of_range, 1);
    assert_eq!(r.stats.events_without_time, 1);
    assert_eq!(r.stats.events, 1);
    let mut o = opts();
    o.until = Some(rdsguard_trail::parse_time_bound("2024-06-01T00:00:00Z").unwrap());
    let r = scan_events(&all, &o);
    let ids: Vec<&str> = findings_of(&r, "trail_rds_deleted")
        .iter()
        .map(|f| f.resource.id.as_str())
        .collect();
    assert_eq!(ids, ["early"], "until is exclusive");
    // Without a range, untimed events are scanned (and counted as such).
    let r = scan_events(&all, &opts());
    assert_eq!(findings_of(&r, "trail_rds_deleted").len(), 3);
    assert_eq!(r.stats.events_without_time, 1);
    assert!(rdsguard_trail::parse_time_bound("yesterday").is_err());
    let t = rdsguard_trail::parse_time_bound("2024-06-01T00:00:00Z").unwrap();
    let o = rdsguard_trail::TrailOptions {
        since: Some(t),
        until: Some(t),
        ..opts()
    };
    assert!(
        rdsguard_trail::scan(&[], &o).is_err(),
        "empty range is an error"
    );
}

#[test]
fn summary_by_principal_event_and_hour() {
    let mut a = rds("DeleteDBSnapshot", json!({"dBSnapshotIdentifier": "s"}));
    a["eventTime"] = json!("2024-05-01T10:59:59Z");
    let mut b = failed(rds("DescribeDBInstances", json!({})), "AccessDenied");
    b["eventTime"] = json!("2024-05-01T11:00:00Z");
    b["userIdentity"]["arn"] = json!("arn:aws:iam::111111111111:user/bob");
    let r = scan_events(&[a, b], &opts());
    let s = &r.summary;
    let alice = &s.by_principal["arn:aws:iam::111111111111:user/alice"];
    assert_eq!((alice.events, alice.errors, alice.flagged), (1, 0, 1));
    let bob = &s.by_principal["arn:aws:iam::111111111111:user/bob"];
    assert_eq!((bob.events, bob.errors, bob.flagged), (1, 1, 0));
    assert_eq!(s.by_event["rds:DeleteDBSnapshot"].flagged, 1);
    assert_eq!(s.by_event["rds:DescribeDBInstances"].errors, 1);
    assert_eq!(s.by_hour["2024-05-01T10:00Z"].events, 1);
    assert_eq!(s.by_hour["2024-05-01T11:00Z"].events, 1);
    assert_eq!(r.accounts, ["111111111111"]);
    assert_eq!(r.regions, ["us-east-1"]);
    let table = rdsguard_trail::render_summary_table(&r);
    assert!(table.contains("rds:DeleteDBSnapshot"), "{table}");
    assert!(
        table.contains("arn:aws:iam::111111111111:user/bob"),
        "{table}"
    );
    assert!(table.contains("2024-05-01T11:00Z"), "{table}");
    assert!(table.contains("Findings: 1"), "{table}");
    let report = r.report("2024-05-02T00:00:00Z".into());
    assert_eq!(report.kind, "trail");
    assert_eq!(report.checks.len(), 22);
    assert_eq!(report.summary.fail, 1);
}
