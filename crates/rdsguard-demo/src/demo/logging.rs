//! The demo's CloudTrail, Security Hub and AWS Backup facts, and its one collection gap.
//!
//! CloudTrail: a single-region trail in us-east-1 (logging, write management events, no log
//! file validation, no KMS), so the databases in eu-west-1 and ap-southeast-2 are not covered.
//! Security Hub is enabled in us-east-1 only; AWS Backup protects the orders database only.
//! DescribeCertificates was denied in ap-southeast-2.

use rdsguard_model::{
    BackupData, CloudTrailData, Gap, GapKind, ManagementEvents, RegionSnapshot, SecurityHubData,
    Trail, ops,
};

use super::{ACCOUNT, AP, US};
use crate::build::{arn, rds_arn};

pub(crate) fn fill(region: &str, r: &mut RegionSnapshot) {
    r.cloudtrail = CloudTrailData {
        trails: if region == US {
            vec![Trail {
                name: "acme-management".to_string(),
                trail_arn: arn("cloudtrail", US, ACCOUNT, "trail/acme-management"),
                home_region: Some(US.to_string()),
                is_multi_region_trail: false,
                is_organization_trail: false,
                log_file_validation_enabled: false,
                kms_key_id: None,
                s3_bucket_name: Some(format!("acme-cloudtrail-{ACCOUNT}")),
                cloud_watch_logs_log_group_arn: None,
                include_global_service_events: true,
                is_logging: Some(true),
                management_events: Some(ManagementEvents {
                    write: true,
                    read: false,
                    excluded_event_sources: Vec::new(),
                }),
            }]
        } else {
            Vec::new()
        },
    };
    r.securityhub = if region == US {
        SecurityHubData {
            enabled: Some(true),
            hub_arn: Some(arn("securityhub", US, ACCOUNT, "hub/default")),
            enabled_standards: Some(vec![arn(
                "securityhub",
                US,
                ACCOUNT,
                "subscription/aws-foundational-security-best-practices/v/1.0.0",
            )]),
        }
    } else {
        SecurityHubData {
            enabled: Some(false),
            hub_arn: None,
            enabled_standards: None,
        }
    };
    r.backup = BackupData {
        protected_resource_arns: Some(if region == US {
            vec![rds_arn(US, ACCOUNT, "db", "orders-prod")]
        } else {
            Vec::new()
        }),
    };
    if region == AP {
        r.gaps.push(
            Gap::new(
                ops::RDS_DESCRIBE_CERTIFICATES,
                Some(AP),
                GapKind::AccessDenied,
                format!(
                    "User: arn:aws:sts::{ACCOUNT}:assumed-role/rdsguard-audit/rdsguard is not \
                     authorized to perform: rds:DescribeCertificates with an explicit deny in a \
                     service control policy"
                ),
            )
            .with_error_code("AccessDenied"),
        );
    }
}
