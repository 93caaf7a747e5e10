//! CloudTrail and Security Hub facts: is activity against the databases recorded and watched?

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CloudTrailData {
    /// Trails visible from this region (DescribeTrails with shadow trails), i.e. trails
    /// whose home is this region and multi-region trails from other home regions.
    #[serde(default)]
    pub trails: Vec<Trail>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Trail {
    pub name: String,
    pub trail_arn: String,
    #[serde(default)]
    pub home_region: Option<String>,
    #[serde(default)]
    pub is_multi_region_trail: bool,
    #[serde(default)]
    pub is_organization_trail: bool,
    #[serde(default)]
    pub log_file_validation_enabled: bool,
    #[serde(default)]
    pub kms_key_id: Option<String>,
    #[serde(default)]
    pub s3_bucket_name: Option<String>,
    #[serde(default)]
    pub cloud_watch_logs_log_group_arn: Option<String>,
    #[serde(default)]
    pub include_global_service_events: bool,
    /// GetTrailStatus.IsLogging; `None` when not collected.
    #[serde(default)]
    pub is_logging: Option<bool>,
    /// Management-event recording as derived from event selectors or advanced event
    /// selectors; `None` when the selectors were not collected.
    #[serde(default)]
    pub management_events: Option<ManagementEvents>,
}

/// Which management events a trail records.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ManagementEvents {
    /// Records write management events (the ones that change databases).
    pub write: bool,
    /// Records read management events.
    pub read: bool,
    /// Event sources excluded from management events (e.g. `kms.amazonaws.com`).
    #[serde(default)]
    pub excluded_event_sources: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SecurityHubData {
    /// `Some(true)` subscribed, `Some(false)` not enabled, `None` unknown (see gaps).
    #[serde(default)]
    pub enabled: Option<bool>,
    #[serde(default)]
    pub hub_arn: Option<String>,
    /// ARNs of enabled standards subscriptions; `None` when not collected.
    #[serde(default)]
    pub enabled_standards: Option<Vec<String>>,
}

/// AWS Backup: which resources a backup plan protects (FSBP RDS.26).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct BackupData {
    /// ARNs of protected resources (ListProtectedResources); `None` when not collected.
    #[serde(default)]
    pub protected_resource_arns: Option<Vec<String>>,
}
