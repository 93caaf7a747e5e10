//! Built-in CloudTrail detections: their metadata (id, severity, MITRE ATT&CK technique,
//! description, remediation) next to their code, and the per-event dispatch.
//!
//! Only successful calls count: a record with an `errorCode` did not change anything, so it
//! is ignored here. Failed calls feed only the access-denied burst detection, which is
//! computed over time windows in [`crate::scan()`].

pub(crate) mod identity;
pub(crate) mod network;
pub(crate) mod rds;

use std::collections::BTreeMap;

use rdsguard_findings::{CheckMetadata, Compliance, Severity};
use serde_json::Value;

use crate::event::EventView;

/// Every built-in detection. The discriminant is the index in [`catalogue`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Det {
    AccessDeniedBurst,
    RdsMadePublic,
    RdsSnapshotShared,
    RdsSnapshotCopied,
    RdsRestoredFromSnapshot,
    RdsSnapshotExported,
    RdsMasterPasswordChanged,
    RdsDeletionProtectionDisabled,
    RdsDeleted,
    RdsDeletedWithoutFinalSnapshot,
    RdsBackupRetentionDisabled,
    RdsIamAuthDisabled,
    RdsLogExportsDisabled,
    RdsTlsWeakened,
    SgDbPortOpenToInternet,
    KmsKeyDisabled,
    KmsKeyDeletionScheduled,
    KmsKeyPolicyChanged,
    CloudTrailStopped,
    CloudTrailModified,
    ConsoleLoginWithoutMfa,
    RootActivity,
}

impl Det {
    pub(crate) const ALL: [Det; 22] = [
        Det::AccessDeniedBurst,
        Det::RdsMadePublic,
        Det::RdsSnapshotShared,
        Det::RdsSnapshotCopied,
        Det::RdsRestoredFromSnapshot,
        Det::RdsSnapshotExported,
        Det::RdsMasterPasswordChanged,
        Det::RdsDeletionProtectionDisabled,
        Det::RdsDeleted,
        Det::RdsDeletedWithoutFinalSnapshot,
        Det::RdsBackupRetentionDisabled,
        Det::RdsIamAuthDisabled,
        Det::RdsLogExportsDisabled,
        Det::RdsTlsWeakened,
        Det::SgDbPortOpenToInternet,
        Det::KmsKeyDisabled,
        Det::KmsKeyDeletionScheduled,
        Det::KmsKeyPolicyChanged,
        Det::CloudTrailStopped,
        Det::CloudTrailModified,
        Det::ConsoleLoginWithoutMfa,
        Det::RootActivity,
    ];

    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

struct Spec {
    id: &'static str,
    title: &'static str,
    severity: Severity,
    resource_type: &'static str,
    mitre: &'static [&'static str],
    description: &'static str,
    rationale: &'static str,
    remediation: &'static str,
}

fn spec(det: Det) -> Spec {
    use Severity::*;
    match det {
        Det::AccessDeniedBurst => Spec {
            id: "trail_access_denied_burst",
            title: "Burst of denied RDS, KMS or security-group calls by one principal",
            severity: Medium,
            resource_type: "AwsIamPrincipal",
            mitre: &["T1580", "T1526"],
            description: "At least the threshold number (20 by default) of calls by one principal failed with AccessDenied, AccessDeniedException or (Client.)UnauthorizedOperation within the window (10 minutes by default), on rds.amazonaws.com, kms.amazonaws.com, or EC2 security-group actions.",
            rationale: "Stolen credentials are typically used to enumerate what they can reach; a burst of denials on database, key and firewall APIs is the trace of that probing.",
            remediation: "Find out who holds the principal's credentials; rotate or revoke them if the activity is not expected, and review what the principal did succeed in.",
        },
        Det::RdsMadePublic => Spec {
            id: "trail_rds_made_public",
            title: "DB instance or cluster made publicly accessible",
            severity: High,
            resource_type: "AwsRdsDbInstance",
            mitre: &["T1578.005", "T1020"],
            description: "A successful ModifyDBInstance/ModifyDBCluster set publiclyAccessible=true, or a DB instance or cluster was created, restored or replicated with publiclyAccessible=true (in the request or the response).",
            rationale: "A publicly accessible database gets a public IP address; only its security groups then stand between it and the internet. Attackers restore or flip databases to public to exfiltrate data.",
            remediation: "Set PubliclyAccessible=false (ModifyDBInstance/ModifyDBCluster) unless the exposure is intended, and check the attached security groups.",
        },
        Det::RdsSnapshotShared => Spec {
            id: "trail_rds_snapshot_shared",
            title: "DB snapshot shared publicly or with an untrusted account",
            severity: Critical,
            resource_type: "AwsRdsDbSnapshot",
            mitre: &["T1537"],
            description: "A successful ModifyDBSnapshotAttribute/ModifyDBClusterSnapshotAttribute added `all` (public: critical) or an account outside the trusted list (high) to the `restore` attribute. The scanned accounts (the logs' recipientAccountId) and --trusted-accounts are trusted.",
            rationale: "Whoever can restore a snapshot gets a full copy of the database: sharing is the simplest way to exfiltrate an RDS database.",
            remediation: "Remove the account (or `all`) from the snapshot's restore attribute (ModifyDBSnapshotAttribute ValuesToRemove), and investigate who shared it.",
        },
        Det::RdsSnapshotCopied => Spec {
            id: "trail_rds_snapshot_copied",
            title: "DB snapshot copied across accounts or regions",
            severity: High,
            resource_type: "AwsRdsDbSnapshot",
            mitre: &["T1537"],
            description: "A successful CopyDBSnapshot/CopyDBClusterSnapshot whose source snapshot belongs to another account (high) or another region (medium) than the call.",
            rationale: "Copying a shared snapshot into another account, or to another region, moves a full copy of the data out of its usual controls.",
            remediation: "Confirm the copy was authorised; delete unexpected copies and stop the sharing that allowed it.",
        },
        Det::RdsRestoredFromSnapshot => Spec {
            id: "trail_rds_restored_from_snapshot",
            title: "DB instance or cluster restored from a snapshot or a point in time",
            severity: Medium,
            resource_type: "AwsRdsDbInstance",
            mitre: &["T1578.002"],
            description: "A successful RestoreDBInstanceFromDBSnapshot, RestoreDBClusterFromSnapshot, RestoreDBInstanceToPointInTime or RestoreDBClusterToPointInTime.",
            rationale: "Restoring creates a new database holding all the data, often with new credentials and network settings: a known exfiltration path.",
            remediation: "Confirm the restore was authorised; check the new database's exposure and credentials, and delete it if it is not needed.",
        },
        Det::RdsSnapshotExported => Spec {
            id: "trail_rds_snapshot_exported",
            title: "DB snapshot or cluster exported to S3",
            severity: High,
            resource_type: "AwsRdsDbSnapshot",
            mitre: &["T1537"],
            description: "A successful StartExportTask (snapshot or cluster export to an S3 bucket, as Parquet).",
            rationale: "An export writes the database's data to an S3 bucket, outside the database's access controls.",
            remediation: "Confirm the export and its destination bucket were authorised; restrict rds:StartExportTask and the export role.",
        },
        Det::RdsMasterPasswordChanged => Spec {
            id: "trail_rds_master_password_changed",
            title: "DB master user password changed",
            severity: Medium,
            resource_type: "AwsRdsDbInstance",
            mitre: &["T1098"],
            description: "A successful ModifyDBInstance/ModifyDBCluster that sets masterUserPassword (CloudTrail redacts the value; the key's presence in the request, or in responseElements.pendingModifiedValues, is the signal).",
            rationale: "Resetting the master password gives whoever set it full access to the data, bypassing database-level credentials.",
            remediation: "Confirm the change was authorised; if not, reset the password (or switch to Secrets Manager managed passwords) and review database sessions.",
        },
        Det::RdsDeletionProtectionDisabled => Spec {
            id: "trail_rds_deletion_protection_disabled",
            title: "DB deletion protection disabled",
            severity: Medium,
            resource_type: "AwsRdsDbInstance",
            mitre: &["T1490"],
            description: "A successful ModifyDBInstance/ModifyDBCluster with deletionProtection=false.",
            rationale: "Disabling deletion protection is the usual first step before destroying a database.",
            remediation: "Re-enable deletion protection unless the database is being decommissioned on purpose.",
        },
        Det::RdsDeleted => Spec {
            id: "trail_rds_deleted",
            title: "DB instance, cluster, snapshot or automated backup deleted",
            severity: Medium,
            resource_type: "AwsRdsDbInstance",
            mitre: &["T1485"],
            description: "A successful DeleteDBInstance, DeleteDBCluster, DeleteDBSnapshot, DeleteDBClusterSnapshot, DeleteDBInstanceAutomatedBackup or DeleteDBClusterAutomatedBackup.",
            rationale: "Deleting databases and their backups destroys data; attackers also delete snapshots after exfiltrating them.",
            remediation: "Confirm the deletion was authorised; restore from the final snapshot or a backup if not.",
        },
        Det::RdsDeletedWithoutFinalSnapshot => Spec {
            id: "trail_rds_deleted_without_final_snapshot",
            title: "DB instance or cluster deleted without a final snapshot",
            severity: High,
            resource_type: "AwsRdsDbInstance",
            mitre: &["T1485", "T1490"],
            description: "A successful DeleteDBInstance/DeleteDBCluster with skipFinalSnapshot=true.",
            rationale: "Without a final snapshot the data is gone unless another backup exists.",
            remediation: "Look for remaining backups (retained automated backups, manual snapshots, AWS Backup); require final snapshots through IAM conditions or SCPs.",
        },
        Det::RdsBackupRetentionDisabled => Spec {
            id: "trail_rds_backup_retention_disabled",
            title: "DB automated backups disabled (retention set to 0)",
            severity: High,
            resource_type: "AwsRdsDbInstance",
            mitre: &["T1490"],
            description: "A successful ModifyDBInstance/ModifyDBCluster, or a CreateDBInstance, with backupRetentionPeriod=0.",
            rationale: "With retention 0 there are no automated backups and no point-in-time recovery.",
            remediation: "Set a backup retention period of at least 7 days.",
        },
        Det::RdsIamAuthDisabled => Spec {
            id: "trail_rds_iam_auth_disabled",
            title: "DB IAM database authentication disabled",
            severity: Medium,
            resource_type: "AwsRdsDbInstance",
            mitre: &["T1556"],
            description: "A successful ModifyDBInstance/ModifyDBCluster with enableIAMDatabaseAuthentication=false.",
            rationale: "Turning IAM authentication off leaves only database passwords, outside IAM's control and logging.",
            remediation: "Re-enable IAM database authentication if it was in use.",
        },
        Det::RdsLogExportsDisabled => Spec {
            id: "trail_rds_log_exports_disabled",
            title: "DB log exports to CloudWatch Logs disabled",
            severity: Medium,
            resource_type: "AwsRdsDbInstance",
            mitre: &["T1562.008"],
            description: "A successful ModifyDBInstance/ModifyDBCluster whose cloudwatchLogsExportConfiguration.disableLogTypes is not empty.",
            rationale: "Database audit, error and connection logs are how database-level abuse is investigated; disabling their export hides it.",
            remediation: "Re-enable the log exports (EnableLogTypes) for the database.",
        },
        Det::RdsTlsWeakened => Spec {
            id: "trail_rds_tls_weakened",
            title: "DB parameter group no longer requires TLS",
            severity: High,
            resource_type: "AwsRdsDbParameterGroup",
            mitre: &["T1562"],
            description: "A successful ModifyDBParameterGroup/ModifyDBClusterParameterGroup setting rds.force_ssl=0, require_secure_transport=OFF/0, or allowing TLS 1.0/1.1 (ssl_min_protocol_version, tls_version); or a Reset of those parameters (or of all parameters) to engine defaults, which do not require TLS on most engine versions.",
            rationale: "Without enforced TLS, clients may connect in clear text and credentials and data can be read on the wire.",
            remediation: "Set rds.force_ssl=1 (PostgreSQL, SQL Server) or require_secure_transport=ON (MySQL, MariaDB) and a TLS 1.2 minimum.",
        },
        Det::SgDbPortOpenToInternet => Spec {
            id: "trail_sg_db_port_open_to_internet",
            title: "Security group opened to the internet on a database port",
            severity: Critical,
            resource_type: "AwsEc2SecurityGroup",
            mitre: &["T1562.007"],
            description: "A successful AuthorizeSecurityGroupIngress (both the ipPermissions and the legacy flat request shapes) or ModifySecurityGroupRules allowing any /0 IPv4 or IPv6 range on a database port (3306, 5432, 1433, 1434, 1521, 2483, 2484, 50000 by default) or on all ports.",
            rationale: "A rule open to the whole internet on a database port exposes every database behind the group to scanning and password guessing.",
            remediation: "Revoke the rule and allow only the application's security groups or known address ranges.",
        },
        Det::KmsKeyDisabled => Spec {
            id: "trail_kms_key_disabled",
            title: "KMS key disabled",
            severity: High,
            resource_type: "AwsKmsKey",
            mitre: &["T1485", "T1489"],
            description: "A successful DisableKey.",
            rationale: "Databases encrypted with a disabled key become inaccessible; disabling keys is a destructive, ransom-style action.",
            remediation: "Re-enable the key (EnableKey) if the change was not intended.",
        },
        Det::KmsKeyDeletionScheduled => Spec {
            id: "trail_kms_key_deletion_scheduled",
            title: "KMS key scheduled for deletion",
            severity: High,
            resource_type: "AwsKmsKey",
            mitre: &["T1485"],
            description: "A successful ScheduleKeyDeletion.",
            rationale: "Once deleted, data encrypted under the key (database storage, snapshots) cannot be decrypted.",
            remediation: "Cancel the deletion (CancelKeyDeletion) during the waiting period unless intended.",
        },
        Det::KmsKeyPolicyChanged => Spec {
            id: "trail_kms_key_policy_changed",
            title: "KMS key policy changed",
            severity: Medium,
            resource_type: "AwsKmsKey",
            mitre: &["T1098", "T1222"],
            description: "A successful PutKeyPolicy. Graded critical when the new policy allows a wildcard principal without a condition.",
            rationale: "The key policy decides who can decrypt the data; widening it shares the data or locks its owners out.",
            remediation: "Review the new policy and restore the previous one if the change was not intended.",
        },
        Det::CloudTrailStopped => Spec {
            id: "trail_cloudtrail_stopped",
            title: "CloudTrail logging stopped or trail deleted",
            severity: High,
            resource_type: "AwsCloudTrailTrail",
            mitre: &["T1562.008"],
            description: "A successful StopLogging or DeleteTrail.",
            rationale: "Attackers stop CloudTrail to hide what they do next.",
            remediation: "Restart logging (StartLogging) or recreate the trail, and investigate activity around the change.",
        },
        Det::CloudTrailModified => Spec {
            id: "trail_cloudtrail_modified",
            title: "CloudTrail trail settings or event selectors changed",
            severity: Medium,
            resource_type: "AwsCloudTrailTrail",
            mitre: &["T1562.008"],
            description: "A successful UpdateTrail or PutEventSelectors. Graded high when the new selectors exclude management events or write events.",
            rationale: "Narrowing what a trail records (or where it delivers) blinds the detections that rely on it.",
            remediation: "Review the trail's configuration and restore full management-event logging.",
        },
        Det::ConsoleLoginWithoutMfa => Spec {
            id: "trail_console_login_without_mfa",
            title: "Console sign-in without MFA",
            severity: Medium,
            resource_type: "AwsIamPrincipal",
            mitre: &["T1078.004"],
            description: "A successful ConsoleLogin with additionalEventData.MFAUsed=No by an IAM user or the root user (federated sign-ins, whose MFA is enforced by the identity provider, are excluded). Graded high for root.",
            rationale: "Password-only console access is the easiest way in with stolen or guessed credentials.",
            remediation: "Require MFA for console users (and for root), or move them to federation.",
        },
        Det::RootActivity => Spec {
            id: "trail_root_activity",
            title: "Root user activity",
            severity: High,
            resource_type: "AwsAccount",
            mitre: &["T1078.004"],
            description: "A successful call made with the account's root user credentials (userIdentity.type Root, not invoked by an AWS service, not an AwsServiceEvent).",
            rationale: "Root credentials cannot be restricted by IAM policies; their use should be rare and deliberate.",
            remediation: "Confirm who used the root user and why; protect it with MFA and no access keys.",
        },
    }
}

/// Metadata of every built-in detection, in [`Det`] order.
pub(crate) fn catalogue() -> Vec<CheckMetadata> {
    Det::ALL
        .iter()
        .map(|d| {
            let s = spec(*d);
            CheckMetadata {
                id: s.id.into(),
                title: s.title.into(),
                severity: s.severity,
                resource_type: s.resource_type.into(),
                description: s.description.into(),
                rationale: s.rationale.into(),
                remediation: s.remediation.into(),
                compliance: Compliance {
                    mitre_attack: s.mitre.iter().map(|m| m.to_string()).collect(),
                    ..Compliance::default()
                },
            }
        })
        .collect()
}

/// The detection's default severity.
pub(crate) fn default_severity(det: Det) -> Severity {
    spec(det).severity
}

/// What a detection found in one event.
#[derive(Debug, Clone)]
pub(crate) struct Hit {
    pub(crate) det: Det,
    pub(crate) severity: Severity,
    pub(crate) resource_type: &'static str,
    pub(crate) resource_id: String,
    pub(crate) resource_arn: Option<String>,
    /// Separates findings on the same resource (e.g. the account a snapshot was shared with).
    pub(crate) discriminator: String,
    pub(crate) message: String,
    /// Facts from this event (request values that decided the hit).
    pub(crate) details: BTreeMap<String, Value>,
    /// The hit stands only if this account is not trusted (decided when the scan ends).
    pub(crate) unless_trusted: Option<String>,
}

impl Hit {
    pub(crate) fn new(
        det: Det,
        resource_type: &'static str,
        resource_id: String,
        message: String,
    ) -> Hit {
        Hit {
            det,
            severity: default_severity(det),
            resource_type,
            resource_id,
            resource_arn: None,
            discriminator: String::new(),
            message,
            details: BTreeMap::new(),
            unless_trusted: None,
        }
    }

    pub(crate) fn severity(mut self, s: rdsguard_findings::Severity) -> Hit {
        self.severity = s;
        self
    }

    pub(crate) fn arn(mut self, arn: Option<String>) -> Hit {
        self.resource_arn = arn;
        self
    }

    pub(crate) fn detail(mut self, key: &str, value: impl Into<Value>) -> Hit {
        self.details.insert(key.to_string(), value.into());
        self
    }

    pub(crate) fn discriminator(mut self, d: impl Into<String>) -> Hit {
        self.discriminator = d.into();
        self
    }
}

/// Settings the detections read.
#[derive(Debug, Clone)]
pub(crate) struct DetectConfig {
    pub(crate) db_ports: Vec<u16>,
}

/// Runs every per-event built-in detection on `ev`.
pub(crate) fn detect(ev: &EventView<'_>, cfg: &DetectConfig, out: &mut Vec<Hit>) {
    if ev.failed() {
        return;
    }
    identity::root_activity(ev, out);
    let Some(name) = ev.event_name() else {
        return;
    };
    let source = ev.event_source();
    // Records without eventSource (some hand-edited samples) are dispatched on the name.
    let from = |service: &str| source.as_deref().is_none_or(|s| s == service);
    if from("rds.amazonaws.com") {
        rds::detect(&name, ev, out);
    }
    if from("ec2.amazonaws.com") {
        network::detect(&name, ev, cfg, out);
    }
    if from("kms.amazonaws.com") {
        identity::kms(&name, ev, out);
    }
    if from("cloudtrail.amazonaws.com") {
        identity::cloudtrail(&name, ev, out);
    }
    if from("signin.amazonaws.com") && name == "ConsoleLogin" {
        identity::console_login(ev, out);
    }
}

/// Error codes that mean "not allowed".
pub(crate) fn is_denied(code: &str) -> bool {
    let code = code.strip_prefix("Client.").unwrap_or(code);
    matches!(
        code,
        "AccessDenied" | "AccessDeniedException" | "UnauthorizedOperation" | "UnauthorizedAccess"
    )
}

/// Calls that count for the access-denied burst: RDS, KMS and EC2 security-group actions.
pub(crate) fn in_burst_scope(source: Option<&str>, name: &str) -> bool {
    match source {
        Some("rds.amazonaws.com") | Some("kms.amazonaws.com") => true,
        Some("ec2.amazonaws.com") => name.contains("SecurityGroup"),
        _ => false,
    }
}
